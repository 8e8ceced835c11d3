"""Fixtures of the h5ad plugin's tests: an open root group in a temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from annstore_h5ad._store import H5Group, open_h5_store


@pytest.fixture
def h5_path(tmp_path: Path) -> Path:
    return tmp_path / "t.h5ad"


@pytest.fixture
def root(h5_path: Path) -> Iterator[H5Group]:
    g = open_h5_store(h5_path, "w")
    try:
        yield g
    finally:
        g.close()

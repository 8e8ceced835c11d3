"""Cross-format fixtures: one ``fmt`` fixture over the installed formats, skip helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Hierarchical formats the cross-format tests run against, when installed.
FORMATS = ("memory", "h5ad", "zarr", "tiledb")
PACKAGES = {"memory": "annstore", "h5ad": "annstore-h5ad", "zarr": "annstore-zarr", "tiledb": "annstore-tiledb",
            "loom": "annstore-loom", "text": "annstore-text"}
SUFFIX = {"memory": "", "h5ad": ".h5ad", "zarr": ".zarr", "tiledb": ".tiledb"}


def installed_formats() -> set[str]:
    import annstore

    return set(annstore.list_formats())


def skip_unless_format(name: str) -> None:
    """Skip the running test unless the plugin for ``name`` is installed and loaded."""
    if name not in installed_formats():
        pytest.skip(f"requires {PACKAGES.get(name, name)}")


@pytest.fixture(params=[pytest.param(f, id=f) for f in FORMATS])
def fmt(request: pytest.FixtureRequest) -> str:
    skip_unless_format(request.param)
    return str(request.param)


@pytest.fixture
def store_path(fmt: str, tmp_path: Path) -> Any:
    return f"memory://{tmp_path.name}" if fmt == "memory" else tmp_path / f"t{SUFFIX[fmt]}"


@pytest.fixture
def root(fmt: str, store_path: Any) -> Iterator[Any]:
    import annstore.io

    with annstore.io.open_store(store_path, format=fmt, mode="w") as g:
        yield g


@pytest.fixture(scope="session")
def anndata_python() -> str:
    """Interpreter with anndata installed (``ANNSTORE_ANNDATA_PYTHON``), else skip."""
    py = os.environ.get("ANNSTORE_ANNDATA_PYTHON", "")
    if not py:
        pytest.skip("ANNSTORE_ANNDATA_PYTHON is not set (an interpreter with anndata installed)")
    return py

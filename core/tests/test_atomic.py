"""Atomic replacement of files and directories (io/_atomic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from annstore.io._atomic import TMP_MARK, atomic_target


def _leftovers(d: Path) -> list[str]:
    return [p.name for p in d.iterdir() if TMP_MARK in p.name]


def test_file_replaced_only_on_success(tmp_path: Path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []
    with atomic_target(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_directory_replaced_only_on_success(tmp_path: Path):
    target = tmp_path / "a.zarr"
    target.mkdir()
    (target / "old").write_text("1")
    with pytest.raises(KeyError), atomic_target(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
        raise KeyError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["old"]
    assert _leftovers(tmp_path) == []
    with atomic_target(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert _leftovers(tmp_path) == []


def test_new_target_created(tmp_path: Path):
    target = tmp_path / "fresh.h5ad"
    with atomic_target(target) as tmp:
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"

"""Atomic replacement of files and directories (io/_atomic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from annstore.io._atomic import TMP_MARK, atomic_target
from annstore.io._identity import read_token


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
    (target / "zarr.json").write_text("1")  # a store: only a store (or nothing) is replaced
    with pytest.raises(KeyError), atomic_target(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
        raise KeyError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["zarr.json"]
    assert _leftovers(tmp_path) == []
    with atomic_target(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert read_token(target) is not None  # every store written gets a fresh generation token
    assert _leftovers(tmp_path) == []


def test_new_target_created(tmp_path: Path):
    target = tmp_path / "fresh.h5ad"
    with atomic_target(target) as tmp:
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_dead_writers_are_cleaned(tmp_path: Path):
    from annstore.io._atomic import clean_stale

    target = tmp_path / "a.h5ad"
    target.write_bytes(b"current")
    dead, alive = _dead_pid(), __import__("os").getpid()
    stale = tmp_path / f"{TMP_MARK}{dead}-abc-a.h5ad"
    stale.write_bytes(b"half")
    live = tmp_path / f"{TMP_MARK}{alive}-def-a.h5ad"
    live.write_bytes(b"in progress")
    other = tmp_path / f"{TMP_MARK}{dead}-abc-b.h5ad"
    other.write_bytes(b"another target")
    clean_stale(target)
    assert not stale.exists()
    assert live.exists() and other.exists()
    assert target.read_bytes() == b"current"


def test_writer_killed_between_directory_renames_is_restored(tmp_path: Path):
    """A writer that died after moving the old store aside, before moving the new one in:
    the old store is renamed back; the half-finished new one is dropped."""
    target = tmp_path / "a.zarr"
    dead = _dead_pid()
    aside = tmp_path / f"{TMP_MARK}old-{dead}-abc-a.zarr"
    aside.mkdir()
    (aside / "zarr.json").write_text("1")
    new = tmp_path / f"{TMP_MARK}{dead}-def-a.zarr"
    new.mkdir()
    with atomic_target(target) as tmp:
        assert sorted(p.name for p in target.iterdir()) == ["zarr.json"]  # restored before writing
        tmp.mkdir()
        (tmp / "newest").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["newest"]
    assert _leftovers(tmp_path) == []

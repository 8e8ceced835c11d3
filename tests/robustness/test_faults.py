"""Faults while writing lose nothing: full disks, interrupts, killed writers, failing backed edits.

* A write whose storage raises ``OSError(ENOSPC)`` after N bytes (the adapters' array creation
  is patched) leaves the previous file intact and no temporary behind (zarr zip staging
  folders included: they are temporaries like any other).
* The temporaries of a SIGKILLed writer are removed by the next write of the same path.
  (Random kills at scale, >= 100 per format: ``test_writer_kills.py``.)
* A backed ``r+`` edit that fails leaves the elements it did not touch intact.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import annstore
from annstore.io._atomic import TMP_MARK
from annstore.testing import assert_adata_equal, gen_adata

FORMATS = {"h5ad": ".h5ad", "zarr": ".zarr", "zarr-zip": ".zarr.zip", "loom": ".loom"}
#: formats whose writes go through the store adapters (the disk-full tests patch them)
HIERARCHICAL = ("h5ad", "zarr", "zarr-zip")
#: formats with backed r+ edits
BACKED_RPLUS = ("h5ad", "zarr")
#: Filled by the tests; printed by the summary.
FIGURES: dict[str, Any] = {}


def _need(fmt: str) -> None:
    plugin = "zarr" if fmt.startswith("zarr") else fmt
    if plugin not in annstore.list_formats():
        pytest.skip(f"requires annstore-{plugin}")


def _old() -> Any:
    return gen_adata((30, 12), seed=1)


@functools.lru_cache(maxsize=1)
def _medium() -> Any:
    """What the disk-full tests try to write (big enough for every budget to bite)."""
    return gen_adata((400, 60), seed=5)


def _write(adata: Any, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        annstore.write(adata, path)


def _read(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return annstore.read(path)


def _same(a: Any, b: Any) -> bool:
    try:
        assert_adata_equal(a, b)
    except AssertionError:
        return False
    return True


def _leftovers(directory: Path) -> list[str]:
    """Every annstore temporary in ``directory`` (any ``.annstore-`` name: a zip staging folder
    once had its own prefix and was never cleaned)."""
    assert TMP_MARK.startswith(".annstore-")
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".annstore-"))


_WRITER = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("ignore")
    import annstore
    from annstore.testing import gen_adata
    new = gen_adata((3000, 400), seed=2, X_type="dense")
    print("ready", flush=True)
    while True:
        annstore.write(new, sys.argv[1])
        print("wrote", flush=True)
    """
)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_stale_temporaries_of_a_killed_writer_are_cleaned_by_the_next_write(
    fmt: str, tmp_path: Path
) -> None:
    _need(fmt)
    path = tmp_path / f"data{FORMATS[fmt]}"
    _write(_old(), path)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _leftovers(tmp_path), "the writer never started a temporary file"
    _write(_old(), path)
    assert _leftovers(tmp_path) == []
    FIGURES[f"stale-cleaned-{fmt}"] = {"new": 1}


# ------------------------------------------------------------------------------ disk full


class _DiskFull:
    """Patch a store adapter's ``create_array`` to raise ENOSPC once ``budget`` bytes are used."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.raised = False

    def wrap(self, orig: Any) -> Any:
        def create_array(group: Any, name: str, data: Any = None, **kw: Any) -> Any:
            n = int(np.asarray(data).nbytes) if data is not None else 0
            if self.used + n > self.budget:
                self.raised = True
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(getattr(group, "filename", "")))
            self.used += n
            return orig(group, name, data, **kw)

        return create_array


def _adapter_class(fmt: str) -> Any:
    if fmt == "h5ad":
        from annstore_h5ad._store import H5Group

        return H5Group
    from annstore_zarr._store import ZarrGroup

    return ZarrGroup


@pytest.mark.parametrize("fmt", HIERARCHICAL)
@pytest.mark.parametrize("budget", [0, 100, 5_000, 200_000, 2_000_000])
def test_disk_full_keeps_previous_file(
    fmt: str, budget: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need(fmt)
    path = tmp_path / f"data{FORMATS[fmt]}"
    old = _old()
    _write(old, path)
    before = sorted(p.name for p in tmp_path.iterdir())
    cls = _adapter_class(fmt)
    full = _DiskFull(budget)
    monkeypatch.setattr(cls, "create_array", full.wrap(cls.create_array))
    with pytest.raises(OSError) as info:
        _write(_medium(), path)
    monkeypatch.undo()
    assert full.raised
    assert info.value.errno == errno.ENOSPC
    assert _same(_read(path), old), "the previous file changed after a failed write"
    assert _leftovers(tmp_path) == [], "a failed write left temporary files behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    FIGURES.setdefault(f"disk-full-{fmt}", {"new": 0})["new"] += 1


@pytest.mark.parametrize("after", [0, 3, 20])
def test_disk_full_while_packing_a_zip_keeps_previous_file(
    after: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the staging folder is packed into the archive: no half archive, no staging."""
    _need("zarr-zip")
    import zipfile

    path = tmp_path / "data.zarr.zip"
    old = _old()
    _write(old, path)
    before = sorted(p.name for p in tmp_path.iterdir())
    orig = zipfile.ZipFile.write
    calls = {"n": 0}

    def write(self: Any, *args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return orig(self, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "write", write)
    with pytest.raises(OSError) as info:
        _write(_medium(), path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert _same(_read(path), old)
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    FIGURES.setdefault("disk-full-zip-packing", {"new": 0})["new"] += 1


@pytest.mark.parametrize("fmt", HIERARCHICAL)
def test_write_interrupted_by_keyboardinterrupt_keeps_previous_file(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C mid-write (a BaseException, not an Exception) is cleaned up the same way."""
    _need(fmt)
    path = tmp_path / f"data{FORMATS[fmt]}"
    old = _old()
    _write(old, path)
    cls = _adapter_class(fmt)
    orig = cls.create_array
    calls = {"n": 0}

    def create_array(group: Any, name: str, data: Any = None, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return orig(group, name, data, **kw)

    monkeypatch.setattr(cls, "create_array", create_array)
    with pytest.raises(KeyboardInterrupt):
        _write(_medium(), path)
    monkeypatch.undo()
    assert _same(_read(path), old)
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------------- backed r+ edits


@pytest.mark.parametrize("fmt", BACKED_RPLUS)
def test_failed_backed_edit_leaves_untouched_elements_intact(fmt: str, tmp_path: Path) -> None:
    _need(fmt)
    path = tmp_path / f"data{FORMATS[fmt]}"
    old = gen_adata((30, 12), seed=3, X_type="dense")
    _write(old, path)
    a = annstore.read(path, backed="r+")
    try:
        with pytest.raises((ValueError, TypeError)):  # h5py raises TypeError, as in anndata
            a.X[0:2] = np.ones((3, 12))  # wrong shape: refused
        with pytest.raises((ValueError, TypeError, OSError)):  # h5py: OSError
            a.X[0:2] = np.array([["x"] * 12] * 2, dtype=object)  # wrong type: refused
    finally:
        a.file.close()
    got = _read(path)
    assert_adata_equal(got, old)


@pytest.mark.parametrize("fmt", BACKED_RPLUS)
def test_backed_edit_failing_midway_touches_only_x(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backed ``r+`` write to X that fails with ENOSPC changes nothing but X."""
    _need(fmt)
    path = tmp_path / f"data{FORMATS[fmt]}"
    old = gen_adata((30, 12), seed=4, X_type="dense")
    _write(old, path)
    a = annstore.read(path, backed="r+")
    arr_cls = type(a.X)  # backed dense X is the storage library's array, as in anndata
    orig = arr_cls.__setitem__

    def half_then_full(self: Any, key: Any, value: Any) -> None:
        # The first row lands on disk, then the disk is full.
        orig(self, (slice(0, 1),), np.asarray(value)[:1])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    try:
        monkeypatch.setattr(arr_cls, "__setitem__", half_then_full)
        with pytest.raises(OSError):
            a.X[0:5] = np.zeros((5, 12))
        monkeypatch.undo()
    finally:
        a.file.close()
    got = _read(path)
    for k in ("obs", "var"):
        assert getattr(got, k).equals(getattr(old, k))
    assert set(got.layers.keys()) == set(old.layers.keys())
    for k in old.layers.keys():
        if k is not None:
            np.testing.assert_array_equal(np.asarray(_dense(got.layers[k])), np.asarray(_dense(old.layers[k])))
    # X is the element being edited (backed r+ is the documented non-atomic exception):
    # only its first row changed, everything else is the old data.
    x_got, x_old = np.asarray(_dense(got.X)), np.asarray(_dense(old.X))
    np.testing.assert_array_equal(x_got[1:], x_old[1:])
    for k in ("obsm", "varm", "obsp", "varp"):
        assert set(getattr(got, k).keys()) == set(getattr(old, k).keys())


def _dense(x: Any) -> Any:
    return x.toarray() if hasattr(x, "toarray") else x


def test_summary() -> None:
    print(f"\n[faults] figures: {FIGURES}")
    assert all(v.get("new", 0) + v.get("old", 0) > 0 for v in FIGURES.values())

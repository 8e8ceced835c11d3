"""Reading a file runs no code from it: pickled payloads are refused, never unpickled.

Each file carries a pickle whose unpickling would create a sentinel file (``__reduce__``
returning ``open(sentinel, "w")``). Reading must raise a clear annstore error, and the sentinel
must never appear.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import annstore
from annstore.errors import AnnstoreError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corrupt


class _Trap:
    """Unpickling this object creates ``path`` (a harmless, observable side effect)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def _payload(sentinel: Path) -> bytes:
    return pickle.dumps(np.array([_Trap(sentinel)], dtype=object), protocol=4)


def _need(fmt: str) -> None:
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")


def _read_isolated(path: Path, fmt: str) -> _corrupt.Outcome:
    pool = _corrupt.ReaderPool(timeout=90)
    try:
        return pool.read(path, fmt)
    finally:
        pool.close()


def test_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    """Control: the trap works, so its absence below proves nothing was unpickled."""
    sentinel = tmp_path / "pwned"
    pickle.loads(_payload(sentinel))
    assert sentinel.exists()


def _small() -> Any:
    from annstore.testing import gen_adata

    return gen_adata((4, 3), layers=False, uns=False, obsm_types=(), nullable=False)


@pytest.mark.parametrize("encoding", ["array", "string-array", None])
def test_h5ad_opaque_pickle_bytes_refused(tmp_path: Path, encoding: str | None) -> None:
    """An HDF5 opaque dataset holding pickle bytes reads as an error, not as an object."""
    _need("h5ad")
    import h5py

    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.h5ad"
    annstore.write(_small(), path)
    with h5py.File(path, "r+") as f:
        blob = _payload(sentinel)
        ds = f["uns"].create_dataset("evil", data=np.frombuffer(blob, dtype=f"V{len(blob)}")[:1])
        if encoding is not None:
            ds.attrs["encoding-type"] = encoding
            ds.attrs["encoding-version"] = "0.2.0"
    out = _read_isolated(path, "h5ad")
    assert not sentinel.exists()
    assert out.status == "error", out.describe()
    assert out.is_annstore, out.describe()
    assert "/uns/evil" in out.text and path.name in out.text, out.text


def test_h5ad_vlen_bytes_never_unpickled(tmp_path: Path) -> None:
    """Pickle bytes in a variable-length bytes dataset stay bytes (or are refused)."""
    _need("h5ad")
    import h5py

    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.h5ad"
    annstore.write(_small(), path)
    with h5py.File(path, "r+") as f:
        blob = np.frombuffer(_payload(sentinel), dtype=np.uint8)
        ds = f["uns"].create_dataset("evil", shape=(1,), dtype=h5py.vlen_dtype(np.uint8))
        ds[0] = blob
        ds.attrs["encoding-type"] = "string-array"
        ds.attrs["encoding-version"] = "0.2.0"
    out = _read_isolated(path, "h5ad")
    assert not sentinel.exists()
    assert out.status == "error" and out.is_annstore, out.describe()
    assert "/uns/evil" in out.text and "expected a string array" in out.text, out.text


def test_npydir_pickled_npy_refused(tmp_path: Path) -> None:
    """A ``.npy`` holding a pickled object array is refused (``allow_pickle=False``)."""
    _need("npydir")
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.npydir"
    annstore.write(_small(), path, format="npydir")
    target = path / "uns" / "evil.npy"
    np.save(target, np.array([_Trap(sentinel)], dtype=object), allow_pickle=True)
    (path / "uns" / "evil.attrs.json").write_text(
        json.dumps({"encoding-type": "string-array", "encoding-version": "0.2.0"})
    )
    assert not sentinel.exists()
    out = _read_isolated(path, "npydir")
    assert not sentinel.exists()
    assert out.status == "error" and out.is_annstore, out.describe()
    assert "pickle" in out.text and "evil" in out.text, out.text


def _zarr2_pickle_store(tmp_path: Path, sentinel: Path, *, consolidated: bool) -> Path:
    path = tmp_path / "evil.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        annstore.write(_small(), path, storage_options={"zarr_format": 2})
    arr = path / "uns" / "evil"
    arr.mkdir()
    zarray = {
        "zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "|O", "compressor": None,
        "fill_value": None, "filters": [{"id": "pickle", "protocol": 4}], "order": "C",
        "dimension_separator": ".",
    }
    zattrs = {"encoding-type": "string-array", "encoding-version": "0.2.0"}
    (arr / ".zarray").write_text(json.dumps(zarray))
    (arr / ".zattrs").write_text(json.dumps(zattrs))
    (arr / "0").write_bytes(_payload(sentinel))
    zmeta = path / ".zmetadata"
    if consolidated and zmeta.exists():
        meta = json.loads(zmeta.read_text())
        meta["metadata"]["uns/evil/.zarray"] = zarray
        meta["metadata"]["uns/evil/.zattrs"] = zattrs
        zmeta.write_text(json.dumps(meta))
    elif zmeta.exists():
        zmeta.unlink()
    return path




@pytest.mark.parametrize(
    "consolidated",
    [True, False],
    ids=["consolidated", "plain"],
)
def test_zarr2_pickle_codec_refused(tmp_path: Path, consolidated: bool) -> None:
    """A zarr v2 object array with the ``pickle`` filter is refused before any chunk is decoded."""
    _need("zarr")
    sentinel = tmp_path / "pwned"
    path = _zarr2_pickle_store(tmp_path, sentinel, consolidated=consolidated)
    out = _read_isolated(path, "zarr")
    assert not sentinel.exists(), "reading a zarr store unpickled a chunk (code execution)"
    assert out.status == "error" and out.is_annstore, out.describe()
    # zarr-python names the codec; annstore names the file and (unless the whole consolidated
    # metadata block fails to parse when the store is opened) the group holding the array.
    assert "pickle" in out.text.lower() and path.name in out.text, out.text
    if not consolidated:
        assert "'/uns" in out.text, out.text


def test_zarr2_pickle_sentinel_absent_even_when_metadata_fails(tmp_path: Path) -> None:
    """Whatever the error, reading the consolidated pickle store creates no sentinel."""
    _need("zarr")
    sentinel = tmp_path / "pwned"
    path = _zarr2_pickle_store(tmp_path, sentinel, consolidated=True)
    out = _read_isolated(path, "zarr")
    assert out.status == "error", out.describe()
    assert not sentinel.exists()


def test_reading_imports_no_pickle_loader(tmp_path: Path) -> None:
    """Reading a normal file never calls ``pickle.loads``/``pickle.load`` (patched to fail)."""
    _need("h5ad")
    path = tmp_path / "ok.h5ad"
    annstore.write(_small(), path)
    called = []
    orig_loads, orig_load = pickle.loads, pickle.load

    def trap(*a: Any, **k: Any) -> Any:
        called.append(a)
        msg = "pickle used while reading"
        raise AssertionError(msg)

    pickle.loads, pickle.load = trap, trap  # type: ignore[assignment]
    try:
        annstore.read(path)
    finally:
        pickle.loads, pickle.load = orig_loads, orig_load
    assert not called
    _ = AnnstoreError, shutil

"""One allocation budget (``settings.max_allocation``) for every size a file declares.

Small files that declare (or decompress to) far more than the budget fail with an
:class:`~annstore.errors.InvalidFileError` naming the file, the element and the sizes, before
the memory is taken: sparse ``data``/``indices`` declaring a TiB, a dense X of ``10**12`` rows,
a gzip bomb behind ``read_csv``/``read_text``, a Matrix Market file of
``10**7`` entries, an ``.xlsx`` whose zip member expands past the budget, a loom declaring ``2**30``
cells, metadata nested 100,000 levels deep. The budget is a setting (bytes, or a string such
as ``"8GiB"``; ``None``: the memory available), so the bombs here are made small by lowering it.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corrupt

import annstore
from annstore.errors import InvalidFileError, SettingsError


@pytest.fixture
def budget() -> Any:
    """Set ``settings.max_allocation`` for one test (restored afterwards)."""
    old = annstore.settings.max_allocation

    def set_(value: Any) -> None:
        annstore.settings.max_allocation = value

    yield set_
    annstore.settings.max_allocation = old


def _need(fmt: str) -> None:
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")


def _assert_budget_error(e: pytest.ExceptionInfo[InvalidFileError], path: Path, element: str) -> None:
    text = str(e.value) + "\n".join(getattr(e.value, "__notes__", []))
    assert path.name in text, text
    assert element in text, text
    assert "allocation budget" in text and "max_allocation" in text, text


# ---------------------------------------------------------------------------- the setting


def test_setting_parses_sizes_and_refuses_nonsense(budget: Any) -> None:
    budget("2GiB")
    assert annstore.settings.max_allocation == 2 << 30
    budget(10**9)
    assert annstore.settings.max_allocation == 10**9
    budget(None)
    assert annstore.settings.max_allocation is None
    for bad in (-1, 0, "lots", True, 1.5):
        with pytest.raises(SettingsError):
            annstore.settings.max_allocation = bad
    assert "max_allocation" in annstore.settings.model_fields


def test_budget_applies_to_ordinary_reads(tmp_path: Path, budget: Any) -> None:
    """The same file reads under a sufficient budget and fails under a smaller one."""
    _need("h5ad")
    path = tmp_path / "a.h5ad"
    annstore.AnnData(np.ones((100, 50), dtype=np.float64)).write_h5ad(path)
    budget(100 * 50 * 8)
    assert annstore.read_h5ad(path).shape == (100, 50)
    budget(100 * 50 * 8 - 1)
    with pytest.raises(InvalidFileError) as e:
        annstore.read_h5ad(path)
    _assert_budget_error(e, path, "'/X'")
    assert "40000 bytes" in str(e.value)


# -------------------------------------------------------------------- declared array sizes


def _tib_sparse(path: Path, fmt: str) -> None:
    """A file under 200 KB whose sparse X declares 2**37 stored values (1 TiB of data+indices)."""
    annstore.write(annstore.AnnData(sparse.random(12, 10, density=0.3, format="csr", dtype=np.float32)), path, format=fmt)
    nnz = 2**37

    def fn(root: Any) -> None:
        g = root["X"]
        for name, dt in (("data", np.float32), ("indices", np.int32)):
            del g[name]
            g.create_array(name, shape=(nnz,), dtype=dt, chunks=(1 << 16,))
        ip = np.linspace(0, nnz, 13).astype(np.int64)
        del g["indptr"]
        g.create_array("indptr", data=ip)

    _corrupt._edit(fmt, fn)(path)


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
def test_sparse_declaring_a_tib_is_refused_before_allocating(tmp_path: Path, fmt: str) -> None:
    _need(fmt)
    path = tmp_path / f"tib.{fmt}"
    _tib_sparse(path, fmt)
    assert sum(f.stat().st_size for f in [path, *path.rglob("*")] if f.is_file()) < 200_000
    with pytest.raises(InvalidFileError) as e:
        annstore.read(path, format=fmt)
    _assert_budget_error(e, path, "'/X'")
    assert "TiB" in str(e.value)
    a = annstore.read(path, format=fmt, backed="r")  # backed: nothing is read at open
    with pytest.raises(InvalidFileError) as e:
        a.X.to_memory()
    _assert_budget_error(e, path, "'/X'")
    with pytest.raises(InvalidFileError) as e:
        a.X[0:6]  # half the rows: still ~0.5 TiB of stored values
    _assert_budget_error(e, path, "'/X'")


def test_dense_declaring_1e12_rows_is_refused(tmp_path: Path) -> None:
    _need("h5ad")
    import h5py

    path = tmp_path / "huge.h5ad"
    annstore.AnnData(np.ones((3, 4), dtype=np.float32)).write_h5ad(path)
    with h5py.File(path, "r+") as f:
        f.create_dataset("uns/big", shape=(10**12, 4), dtype="f8", chunks=(1000, 4))
        f["uns/big"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    with pytest.raises(InvalidFileError) as e:
        annstore.read_h5ad(path)
    _assert_budget_error(e, path, "'/uns/big'")


def test_zarr_chunk_shape_larger_than_the_budget_is_refused(tmp_path: Path, budget: Any) -> None:
    """A chunk is decompressed whole: its declared shape counts, even over a small array."""
    _need("zarr")
    import zarr

    path = tmp_path / "c.zarr"
    annstore.write(annstore.AnnData(np.ones((3, 4), dtype=np.float32)), path, format="zarr")
    g = zarr.open_group(path, mode="r+")
    arr = g.create_array("uns/chunky", shape=(10,), chunks=(2**22,), dtype="f8")
    arr[:] = 1
    arr.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    zarr.consolidate_metadata(path)
    budget("16MiB")
    with pytest.raises(InvalidFileError) as e:
        annstore.read_zarr(path)
    _assert_budget_error(e, path, "'/uns/chunky'")
    assert "chunk" in str(e.value)


# -------------------------------------------------------------------- decompression bombs


def _gzip_bomb(path: Path, lines: int, line: bytes) -> None:
    with gzip.open(path, "wb", compresslevel=1) as f:
        for _ in range(lines):
            f.write(line)


@pytest.mark.parametrize("reader", ["read_csv", "read_text"])
def test_gzip_bomb_behind_a_text_reader(tmp_path: Path, budget: Any, reader: str) -> None:
    """~32 MB of rows compressed to ~150 KB, read under an 8 MiB budget."""
    _need("text")
    sep = "," if reader == "read_csv" else "\t"
    path = tmp_path / ("bomb.csv.gz" if reader == "read_csv" else "bomb.txt.gz")
    _gzip_bomb(path, 32_000, (sep.join(["1"] * 500) + "\n").encode())
    assert path.stat().st_size < 200_000
    budget("8MiB")
    with pytest.raises(InvalidFileError) as e:
        getattr(annstore.io, reader)(path, **({} if reader == "read_csv" else {"delimiter": sep}))
    _assert_budget_error(e, path, "line ")


def test_gzip_bomb_of_one_endless_line(tmp_path: Path, budget: Any) -> None:
    """No newline at all: the decompressed stream itself is bounded, not only the parsed rows."""
    _need("text")
    path = tmp_path / "line.csv.gz"
    _gzip_bomb(path, 32, b"1" * 1_000_000)
    budget("8MiB")
    with pytest.raises(InvalidFileError) as e:
        annstore.io.read_csv(path)
    _assert_budget_error(e, path, "'/'")
    assert "decompresses to more than" in str(e.value)


def test_mtx_gz_with_1e7_entries(tmp_path: Path, budget: Any) -> None:
    """A 300 KB ``.mtx.gz`` holding 10**7 entries (80 MB of text), read under a 64 MiB budget:
    refused from its size line, before the entries are scanned or parsed."""
    _need("text")
    path = tmp_path / "m.mtx.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"%%MatrixMarket matrix coordinate real general\n1000 1000 10000000\n")
        block = b"1 1 1.0\n" * 100_000
        for _ in range(100):
            f.write(block)
    assert path.stat().st_size < 1_000_000
    budget("64MiB")
    with pytest.raises(InvalidFileError) as e:
        annstore.io.read_mtx(path)
    _assert_budget_error(e, path, "line 2")


def test_xlsx_zip_member_bomb(tmp_path: Path, budget: Any) -> None:
    """A workbook whose shared-strings member expands to 32 MB (from ~32 KB)."""
    _need("text")
    pytest.importorskip("openpyxl", reason="read_excel needs openpyxl (an optional dependency)")
    import pandas as pd

    good = tmp_path / "good.xlsx"
    pd.DataFrame({"cell": ["a", "b"], "g1": [1.0, 2.0]}).to_excel(good, index=False)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/sharedStrings.xml", b" " * 32_000_000)
    assert path.stat().st_size < 200_000
    budget("8MiB")
    assert annstore.io.read_excel(good, 0).shape == (2, 1)
    with pytest.raises(InvalidFileError) as e:
        annstore.io.read_excel(path, 0)
    _assert_budget_error(e, path, "'/'")
    assert "sharedStrings.xml" in str(e.value)


def _h5_chunk_bomb(path: Path, stream: bytes, *, sparse_x: bool) -> str:
    """An h5ad whose element has one 8 KB chunk stored as ``stream`` (raw deflate bytes)."""
    import h5py

    if sparse_x:
        x = sparse.csr_matrix(np.eye(1000, 4, dtype=np.float64))
        annstore.write(annstore.AnnData(x), path, format="h5ad", compression="gzip")
        target = "X/data"
    else:
        annstore.AnnData(np.ones((3, 4), dtype=np.float32)).write_h5ad(path)
        target = "uns/b"
    with h5py.File(path, "r+") as f:
        if target in f:
            del f[target]
        ds = f.create_dataset(target, shape=(1000,) if not sparse_x else (4,), chunks=(1000,) if not sparse_x else (4,),
                              dtype="f8", compression="gzip", maxshape=(None,))
        if not sparse_x:
            ds.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        ds.id.write_direct_chunk((0,), stream)
    return "/" + target


@pytest.mark.parametrize("where", ["eager", "backed"])
def test_hdf5_deflate_chunk_bomb(tmp_path: Path, where: str) -> None:
    """HDF5's deflate filter grows its buffer until the stream ends: an 8 KB chunk stored as a
    50 MB-expanding stream is refused from its stored size, before HDF5 inflates it."""
    _need("h5ad")
    import zlib

    path = tmp_path / "bomb.h5ad"
    element = _h5_chunk_bomb(path, zlib.compress(b"\0" * 50_000_000, 9), sparse_x=where == "backed")
    with pytest.raises(InvalidFileError) as e:
        if where == "eager":
            annstore.read_h5ad(path)
        else:
            annstore.read_h5ad(path, backed="r").X.to_memory()
    text = str(e.value)
    assert path.name in text and f"'{element}'" in text and "decompression bomb" in text, text


def test_zarr_gzip_chunk_bomb(tmp_path: Path) -> None:
    """zarr decodes a stored chunk whole: an 8 KB chunk stored as a gzip stream of 50 MB."""
    _need("zarr")
    import zarr

    path = tmp_path / "bomb.zarr"
    annstore.write(annstore.AnnData(np.ones((3, 4), dtype=np.float32)), path, format="zarr")
    g = zarr.open_group(path, mode="r+")
    arr = g.create_array("uns/b", shape=(1000,), chunks=(1000,), dtype="f8", compressors=[zarr.codecs.GzipCodec()])
    arr[:] = 1
    arr.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    zarr.consolidate_metadata(path)
    (chunk,) = [f for f in (path / "uns" / "b").rglob("*") if f.is_file() and f.name != "zarr.json"]
    chunk.write_bytes(gzip.compress(b"\0" * 50_000_000, 9))
    with pytest.raises(InvalidFileError) as e:
        annstore.read_zarr(path)
    text = str(e.value)
    assert path.name in text and "'/uns/b'" in text and "decompression bomb" in text, text


def test_zstd_frame_declaring_a_tib(tmp_path: Path) -> None:
    """A 20-byte zstd frame whose header declares 1 TiB of content: the decoder's allocation
    fails, and that is reported as the damaged element, not as a bare MemoryError."""
    _need("zarr")
    import struct

    import numcodecs
    import zarr

    frame = numcodecs.Zstd().encode(np.zeros(1000))
    bomb = frame[:4] + bytes([0xE0]) + struct.pack("<Q", 2**40) + frame[7:]  # 8-byte content size
    path = tmp_path / "zstd.zarr"
    annstore.write(annstore.AnnData(np.ones((3, 4), dtype=np.float32)), path, format="zarr")
    g = zarr.open_group(path, mode="r+")
    arr = g.create_array("uns/b", shape=(1000,), chunks=(1000,), dtype="f8", compressors=[zarr.codecs.ZstdCodec()])
    arr[:] = 0.5
    arr.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    zarr.consolidate_metadata(path)
    (chunk,) = [f for f in (path / "uns" / "b").rglob("*") if f.is_file() and f.name != "zarr.json"]
    chunk.write_bytes(bomb)
    with pytest.raises(InvalidFileError) as e:
        annstore.read_zarr(path)
    assert path.name in str(e.value) and "'/uns/b'" in str(e.value)


# ------------------------------------------------------------------------------------ loom


def test_loom_declaring_2_30_cells_fails_before_reading(tmp_path: Path) -> None:
    """A ~10 KB loom declaring 2**30 cells: refused from its declared sizes, nothing looped over."""
    _need("loom")
    import h5py

    path = tmp_path / "big.loom"
    with h5py.File(path, "w") as f:
        f.create_dataset("matrix", shape=(10, 2**30), dtype="f4", chunks=(10, 1024), compression="gzip")
        f["matrix"][:, :5] = 1
        for g in ("row_attrs", "col_attrs", "layers"):
            f.create_group(g)
    assert path.stat().st_size < 50_000
    with pytest.raises(InvalidFileError) as e:
        annstore.io.read_loom(path)
    _assert_budget_error(e, path, "'/matrix'")
    assert "1073741824 cells" in str(e.value)


def test_loom_sparse_read_visits_only_written_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of cells without any written chunk are zeros and are not read from the file."""
    _need("loom")
    import h5py
    from annstore_loom import _read

    path = tmp_path / "sparse.loom"
    n_cells = 2**21
    with h5py.File(path, "w") as f:
        m = f.create_dataset("matrix", shape=(10, n_cells), dtype="f4", chunks=(10, 1024), compression="gzip")
        m[:, 5] = 1
        m[3, n_cells - 2] = 7
        for g in ("row_attrs", "col_attrs", "layers"):
            f.create_group(g)
    blocks: list[tuple[int, int]] = []
    orig = _read._blocks_with_data
    monkeypatch.setattr(_read, "_blocks_with_data", lambda ds, n: blocks.extend(orig(ds, n)) or iter(blocks))
    a = annstore.io.read_loom(path)
    assert a.shape == (n_cells, 10)
    assert len(blocks) == 2  # of 512 blocks of 4096 cells
    assert a.X.nnz == 11
    assert a.X[5].toarray().ravel().tolist() == [1.0] * 10
    assert a.X[n_cells - 2, 3] == 7


# ----------------------------------------------------------------------- deep metadata


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("backed", [None, "r"])
def test_metadata_100k_levels_deep(tmp_path: Path, zarr_format: int, backed: str | None) -> None:
    _need("zarr")
    path = tmp_path / "deep.zarr"
    annstore.write(annstore.AnnData(np.ones((3, 2), dtype=np.float32)), path, format="zarr",
                   storage_options={"zarr_format": zarr_format})
    deep = "[" * 100_000 + "]" * 100_000
    if zarr_format == 2:
        meta = path / ".zattrs"
        text = meta.read_text().rstrip()
        meta.write_text(text[:-1] + ', "deep": ' + deep + "}")
        (path / ".zmetadata").unlink()
    else:
        meta = path / "zarr.json"
        d = json.loads(meta.read_text())
        d.pop("consolidated_metadata", None)
        d["attributes"]["deep"] = 0
        meta.write_text(json.dumps(d).replace('"deep": 0', '"deep": ' + deep))
    with pytest.raises(InvalidFileError) as e:
        annstore.read(path, format="zarr", backed=backed)
    assert path.name in str(e.value) and "nested too deeply" in str(e.value)
    shutil.rmtree(path)

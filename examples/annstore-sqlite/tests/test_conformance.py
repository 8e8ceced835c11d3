"""The SQLite key-value example passes annstore's conformance suite through the zarr plugin."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

import annstore
from annstore.testing import FormatTests
from annstore_sqlite import SQLiteStore


class TestSQLiteZarrFormat(FormatTests):
    format_name = "sqlite-zarr"


def _keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [k for (k,) in db.execute("SELECT key FROM zarr ORDER BY key")]


def test_one_file_holds_the_zarr_hierarchy(tmp_path: Path):
    adata = annstore.AnnData(sparse.random(30, 8, density=0.3, format="csr", dtype=np.float32))
    path = tmp_path / "a.sqlite-zarr"
    annstore.write(adata, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.sqlite-zarr"]  # no journal left
    keys = _keys(path)
    assert "zarr.json" in keys and any(k.startswith("X/indptr/") for k in keys)
    with annstore.io.open_store(path, mode="r") as root:
        assert root.format == "sqlite-zarr"
        assert root["X"].attrs["encoding-type"] == "csr_matrix"
    np.testing.assert_array_equal(annstore.read(path).X.toarray(), adata.X.toarray())


def test_format_is_guessed_from_declared_suffix_and_magic(tmp_path: Path):
    path = tmp_path / "a.sqlite-zarr"
    annstore.write(annstore.AnnData(np.ones((2, 2), dtype=np.float32)), path)
    assert annstore.io.guess_format(path) == "sqlite-zarr"  # suffix (no guess hook)
    renamed = tmp_path / "renamed.db-file"
    path.rename(renamed)
    assert annstore.io.guess_format(renamed) == "sqlite-zarr"  # magic bytes
    np.testing.assert_array_equal(annstore.read(renamed).X, np.ones((2, 2)))


def test_partial_reads_fetch_byte_ranges(tmp_path: Path):
    import asyncio

    from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
    from zarr.core.buffer import default_buffer_prototype

    store = SQLiteStore(tmp_path / "s.db")
    proto = default_buffer_prototype()

    async def run() -> list[bytes]:
        await store.set("k", proto.buffer.from_bytes(b"0123456789"))
        got = [await store.get("k", proto, r) for r in
               (RangeByteRequest(2, 5), OffsetByteRequest(7), SuffixByteRequest(3), None)]
        return [g.to_bytes() for g in got]

    assert asyncio.run(run()) == [b"234", b"789", b"789", b"0123456789"]
    store.close()


def test_read_only_open_of_a_missing_file_is_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.sqlite-zarr"):
        annstore.read(tmp_path / "nope.sqlite-zarr", format="sqlite-zarr")
    assert not (tmp_path / "nope.sqlite-zarr").exists()

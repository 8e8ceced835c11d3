"""Backed AnnData over h5ad and zarr: X on disk, views, r+ writes, close/reopen, copy, to_memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from annstore.backed import BackedArray, CSCDataset, CSRDataset
from scipy import sparse

DISK = ("h5ad", "zarr", "tiledb")


@pytest.fixture(params=DISK)
def disk_fmt(request: pytest.FixtureRequest) -> str:
    if request.param not in ad.list_formats():
        pytest.skip(f"requires annstore-{request.param}")
    return str(request.param)


def _dense_cls(fmt: str) -> type:
    """Backed dense X is the storage library's own array, as in anndata (BackedArray otherwise)."""
    if fmt == "h5ad":
        import h5py

        return h5py.Dataset
    if fmt == "zarr":
        import zarr

        return zarr.Array
    return BackedArray


def _make(x: Any) -> ad.AnnData:
    n, m = x.shape
    obs = pd.DataFrame({"g": pd.Categorical(list("ab") * (n // 2))}, index=[f"c{i}" for i in range(n)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(m)])
    a = ad.AnnData(x, obs=obs, var=var, obsm={"p": np.arange(n * 2, dtype=float).reshape(n, 2)})
    a.raw = a
    return a


@pytest.mark.parametrize("kind", ["dense", "csr", "csc"])
def test_backed_read_views_and_to_memory(tmp_path: Path, disk_fmt: str, kind: str) -> None:
    rng = np.random.default_rng(0)
    dense = (rng.random((20, 9)) * (rng.random((20, 9)) < 0.4)).astype(np.float32)
    x = dense if kind == "dense" else sparse.csr_matrix(dense).asformat(kind)
    path = tmp_path / f"a.{disk_fmt}"
    ad.write(_make(x), path)
    b = ad.read(path, backed="r")
    assert b.isbacked and b.filename == path and b.file.is_open
    expected_cls = {"dense": _dense_cls(disk_fmt), "csr": CSRDataset, "csc": CSCDataset}[kind]
    assert isinstance(b.X, expected_cls)
    assert isinstance(b.raw.X, expected_cls)
    assert b.obsm["p"].shape == (20, 2)  # obsm in memory
    rows, cols = [7, 1, 1, 19], np.arange(9) % 2 == 0
    v = b[rows, cols]
    assert v.is_view and v.isbacked
    got = v.X.toarray() if sparse.issparse(v.X) else np.asarray(v.X)
    np.testing.assert_array_equal(got, dense[np.ix_(rows, np.flatnonzero(cols))])
    vv = v[::-1]  # a view of a view stays backed and composes the selection
    got = vv.X.toarray() if sparse.issparse(vv.X) else np.asarray(vv.X)
    np.testing.assert_array_equal(got, dense[np.ix_(rows[::-1], np.flatnonzero(cols))])
    raw = v.raw.X
    np.testing.assert_array_equal(raw.toarray() if sparse.issparse(raw) else raw, dense[rows])
    mem = b.to_memory()
    assert not mem.isbacked
    got = mem.X.toarray() if sparse.issparse(mem.X) else mem.X
    np.testing.assert_array_equal(got, dense)
    b.file.close()
    assert not b.file.is_open
    np.testing.assert_array_equal(
        (b.X[2:4].toarray() if kind != "dense" else b.X[2:4]), dense[2:4]
    )  # X access reopens the file
    assert b.file.is_open
    b.file.close()


def test_backed_dense_r_plus_writes_through(tmp_path: Path, disk_fmt: str) -> None:
    x = np.arange(40, dtype=np.float64).reshape(10, 4)
    path = tmp_path / f"a.{disk_fmt}"
    ad.write(_make(x), path)
    b = ad.read(path, backed="r+")
    b.X[[1, 3], 2] = [-2.0, -1.0]  # h5py: fancy indices in increasing order
    b.X[0] = 100.0
    b.file.close()
    c = ad.read(path)
    want = x.copy()
    want[3, 2], want[1, 2], want[0] = -1.0, -2.0, 100.0
    np.testing.assert_array_equal(c.X, want)


def test_backed_write_to_own_file_and_copy(tmp_path: Path) -> None:
    if "h5ad" not in ad.list_formats():
        pytest.skip("requires annstore-h5ad")
    x = sparse.random(12, 5, density=0.5, format="csr", random_state=1, dtype=np.float32)
    path = tmp_path / "a.h5ad"
    ad.write(_make(x), path)
    b = ad.read_h5ad(path, backed="r+")
    b.obs["new"] = np.arange(12)
    b.write()
    np.testing.assert_array_equal(b.X[3:5].toarray(), x[3:5].toarray())  # handle follows the new file
    c = ad.read_h5ad(path)
    assert list(c.obs["new"]) == list(range(12))
    np.testing.assert_array_equal(c.X.toarray(), x.toarray())
    cp = b.copy(tmp_path / "copy.h5ad")
    assert cp.isbacked and cp.filename == tmp_path / "copy.h5ad"
    np.testing.assert_array_equal(cp.X.to_memory().toarray(), x.toarray())
    with pytest.raises(ValueError, match="pass a filename"):
        b.copy()
    b.file.close()
    cp.file.close()


def test_filename_setter_switches_modes(tmp_path: Path) -> None:
    if "h5ad" not in ad.list_formats():
        pytest.skip("requires annstore-h5ad")
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    a = _make(x)
    a.filename = tmp_path / "b.h5ad"
    assert a.isbacked and isinstance(a.X, _dense_cls("h5ad"))
    np.testing.assert_array_equal(a.X[...], x)
    a.filename = None
    assert not a.isbacked
    np.testing.assert_array_equal(a.X, x)


def test_backed_sparse_append_in_r_plus(tmp_path: Path, disk_fmt: str) -> None:
    x = sparse.random(6, 5, density=0.5, format="csr", random_state=2)
    path = tmp_path / f"a.{disk_fmt}"
    ad.write(_make(x), path)
    b = ad.read(path, backed="r+")
    extra = sparse.random(3, 5, density=0.5, format="csr", random_state=3)
    b.X.append(extra)
    np.testing.assert_array_equal(b.X.to_memory().toarray(), sparse.vstack([x, extra]).toarray())
    b.file.close()


def test_bad_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'r' or 'r\\+'"):
        ad.backed.read_backed(tmp_path / "x.h5ad", format="h5ad", mode="w")


@pytest.mark.parametrize("kind", ["csr", "csc"])
@pytest.mark.parametrize("copy_nnz", [10**9, 7])
def test_writing_backed_sparse_keeps_layout(
    tmp_path: Path, disk_fmt: str, kind: str, copy_nnz: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a backed object copies X block by block (small blocks forced with copy_nnz=7)
    into arrays of the exact final size, keeping the source's indptr dtype."""
    from annstore.backed import _encodings

    monkeypatch.setattr(_encodings, "COPY_NNZ", copy_nnz)
    x = sparse.random(30, 11, density=0.3, format=kind, dtype=np.float32, random_state=3)
    src, dst = tmp_path / f"s.{disk_fmt}", tmp_path / f"d.{disk_fmt}"
    ad.write(_make(x), src)
    b = ad.read(src, backed="r")
    ad.write(b, dst)
    b.file.close()
    out = ad.read(dst)
    np.testing.assert_array_equal(out.X.toarray(), x.toarray())
    assert out.X.format == kind
    with ad.io.open_store(dst, mode="r") as root:
        assert root["X/data"].shape == (x.nnz,)
        assert root["X/indices"].shape == (x.nnz,)
        assert root["X/indptr"].dtype == x.indptr.dtype

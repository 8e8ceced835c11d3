"""concat with dask arrays (lazy results); expectations from anndata 0.13.4."""

from __future__ import annotations

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

da = pytest.importorskip("dask.array")

N = np.nan


def mk(X, o, v, **kw):
    return ad.AnnData(X, obs=pd.DataFrame(index=o), var=pd.DataFrame(index=v), **kw)


def dpair(sp=False, dtype=np.float32):
    xa = np.arange(6, dtype=dtype).reshape(2, 3)
    a_x = da.from_array(sparse.csr_matrix(xa), chunks=(1, 3)) if sp else da.from_array(xa, chunks=(1, 2))
    a = mk(a_x, ["a", "b"], ["x", "y", "z"])
    b = mk(xa + 10, ["c", "d"], ["y", "z", "w"])
    return a, b


def computed(x):
    assert isinstance(x, da.Array)
    out = x.compute()
    return out.toarray() if sparse.issparse(out) else out


OUTER = [[N, 0, 1, 2], [N, 3, 4, 5], [12, N, 10, 11], [15, N, 13, 14]]
OUTER0 = [[0, 0, 1, 2], [0, 3, 4, 5], [12, 0, 10, 11], [15, 0, 13, 14]]


def test_dask_dense_with_numpy():
    a, b = dpair()
    r = ad.concat([a, b], join="outer")
    assert r.X.dtype == np.float64
    np.testing.assert_array_equal(computed(r.X), OUTER)
    r = ad.concat([a, b], join="inner")
    np.testing.assert_array_equal(computed(r.X), [[1, 2], [4, 5], [10, 11], [13, 14]])


def test_dask_both_keeps_float32_on_nan_fill():
    a, b = dpair()
    b.X = da.from_array(b.X)
    r = ad.concat([a, b], join="outer")
    assert r.X.dtype == np.float32
    np.testing.assert_array_equal(computed(r.X), OUTER)


def test_dask_int_promoted_on_nan_fill():
    # anndata 0.13.4 raises "cannot convert float NaN to integer" here; annstore promotes
    a, _ = dpair(dtype=np.int32)
    r = ad.concat([a, a[:, :2]], join="outer")
    assert r.X.dtype == np.float64
    np.testing.assert_array_equal(computed(r.X), [[0, 1, 2], [3, 4, 5], [0, 1, N], [3, 4, N]])


def test_dask_sparse_chunks():
    a, b = dpair(sp=True)
    r = ad.concat([a, b], join="outer")
    np.testing.assert_array_equal(computed(r.X), OUTER0)
    b.X = da.from_array(sparse.csr_matrix(b.X))
    r = ad.concat([a, b], join="outer")
    assert r.X.dtype == np.float32
    assert isinstance(r.X._meta, sparse.csr_matrix)
    np.testing.assert_array_equal(computed(r.X), OUTER0)
    r = ad.concat([a, b], join="inner")
    np.testing.assert_array_equal(computed(r.X), [[1, 2], [4, 5], [10, 11], [13, 14]])


def test_dask_with_scipy_sparse_is_computed():
    a, b = dpair()
    b.X = sparse.csr_matrix(b.X)
    r = ad.concat([a, b], join="outer")
    assert isinstance(r.X, sparse.csr_matrix) and r.X.dtype == np.float32
    np.testing.assert_array_equal(r.X.toarray(), OUTER0)


def test_dask_missing_x_and_obsm():
    a, _ = dpair()
    c = mk(None, ["e"], ["y", "z", "w"])
    r = ad.concat([a, c], join="outer")
    np.testing.assert_array_equal(computed(r.X), [[N, 0, 1, 2], [N, 3, 4, 5], [N, N, N, N]])
    a, b = dpair()
    a.X = a.X.compute()
    a.obsm["p"] = da.from_array(np.ones((2, 3)))
    b.obsm["q"] = np.ones((2, 2))
    r = ad.concat([a, b], join="outer")
    np.testing.assert_array_equal(computed(r.obsm["p"]), [[1, 1, 1], [1, 1, 1], [N, N, N], [N, N, N]])
    np.testing.assert_array_equal(r.obsm["q"], [[N, N], [N, N], [1, 1], [1, 1]])


def test_dask_pairwise_and_varm():
    p1 = mk(np.zeros((2, 1)), ["a", "b"], ["x"], obsp={"d": da.from_array(sparse.csr_matrix(np.ones((2, 2))))})
    p2 = mk(np.zeros((1, 1)), ["c"], ["x"], obsp={"d": da.from_array(sparse.csr_matrix(np.ones((1, 1))))})
    r = ad.concat([p1, p2], pairwise=True)
    np.testing.assert_array_equal(computed(r.obsp["d"]), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    a, b = dpair()
    a.X, b.X = a.X.compute(), b.X
    a.varm["m"] = da.from_array(np.arange(6.0).reshape(3, 2))
    b.varm["m"] = da.from_array(np.arange(6.0).reshape(3, 2))
    r = ad.concat([a, b], join="outer", merge="first")
    np.testing.assert_array_equal(computed(r.varm["m"]), [[N, N], [0, 1], [2, 3], [4, 5]])

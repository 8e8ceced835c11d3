"""Join/reindex machinery of concat (reused by concat_on_disk); expectations from anndata 0.13.4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from annstore._concat import (
    ConcatError,
    DuplicateNamesError,
    Reindexer,
    check_combinable_cols,
    check_join,
    concat_index,
    default_fill_value,
    label_column,
    merge_indices,
    natsorted,
    resolve_axis,
    unify_dtypes,
)
from scipy import sparse

OLD = pd.Index(["x", "y", "z"])
NEW = pd.Index(["w", "x", "y", "z"])


def test_resolve_axis_and_join():
    assert resolve_axis("obs") == (0, "obs")
    assert resolve_axis(0) == (0, "obs")
    assert resolve_axis(1) == (1, "var")
    assert resolve_axis("var") == (1, "var")
    with pytest.raises(ConcatError, match=r"`axis` must be either 0, 1, .obs., or .var., was 2"):
        resolve_axis(2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'left'"):
        check_join("left")


def test_merge_indices():
    a, b = pd.Index(["c", "a", "b"]), pd.Index(["b", "a", "c"])
    assert merge_indices([a, b], "inner").tolist() == ["c", "a", "b"]
    assert merge_indices([pd.Index(["c", "a"]), pd.Index(["b", "a"]), pd.Index(["d"])], "outer").tolist() == [
        "a", "b", "c", "d"]
    assert merge_indices([pd.Index(["x", "y", "z"]), pd.Index(["y", "z", "w"])], "inner").tolist() == ["y", "z"]


def test_natsorted():
    vals = ["b10", "b9", "10", "9", "B", "a b", "a1", "x", "2", "b1"]
    assert natsorted(vals) == ["2", "9", "10", "B", "a1", "a b", "b1", "b9", "b10", "x"]
    assert natsorted([3, 10, 2]) == [2, 3, 10]


def test_label_and_index():
    lab = label_column([2, 1], ["B", "A"])
    assert list(lab) == ["B", "B", "A"]
    assert list(lab.categories) == ["B", "A"]
    idx = concat_index([pd.Index(["a", "b"]), pd.Index(["a"])], lab, "-")
    assert idx.tolist() == ["a-B", "b-B", "a-A"]
    assert concat_index([pd.Index(["a", "b"]), pd.Index(["a"])], lab, None).tolist() == ["a", "b", "a"]
    with pytest.raises(ConcatError, match="one key per object"):
        label_column([1, 1], ["k"])
    with pytest.raises(ConcatError, match="duplicates"):
        label_column([1, 1], ["k", "k"])


def test_reindexer_positions():
    r = Reindexer(OLD, NEW)
    assert not r.no_change
    assert r.idx.tolist() == [-1, 0, 1, 2]
    assert r.old_pos.tolist() == [0, 1, 2]
    assert r.new_pos.tolist() == [1, 2, 3]
    assert r.has_missing
    same = np.ones((2, 3))
    assert Reindexer(OLD, OLD)(same, axis=1) is same


@pytest.mark.parametrize(
    ("dtype", "fill", "out_dtype", "first_col"),
    [
        (np.int64, None, np.float64, np.nan),
        (np.int32, None, np.float64, np.nan),
        (np.float32, None, np.float64, np.nan),  # 0-d fill arrays are not "weak" in numpy 2
        (np.int32, 0, np.int64, 0),
        (np.int64, -1, np.int64, -1),
        (np.float32, 2.5, np.float64, 2.5),
    ],
)
def test_reindex_dense(dtype, fill, out_dtype, first_col):
    el = np.arange(6, dtype=dtype).reshape(2, 3)
    out = Reindexer(OLD, NEW)(el, axis=1, fill_value=fill)
    assert out.dtype == out_dtype
    np.testing.assert_array_equal(out[:, 1:], el)
    np.testing.assert_array_equal(out[:, 0], [first_col, first_col])
    # axis 0
    out0 = Reindexer(OLD, pd.Index(["z", "q"]))(el.T, axis=0, fill_value=fill)
    np.testing.assert_array_equal(out0[0], el.T[2])
    np.testing.assert_array_equal(out0[1], [first_col, first_col])


def test_reindex_dense_inner_keeps_dtype():
    el = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = Reindexer(OLD, pd.Index(["z", "x"]))(el, axis=1)
    assert out.dtype == np.int32
    assert out.tolist() == [[2, 0], [5, 3]]


def test_reindex_empty_axis():
    out = Reindexer(pd.Index([]), NEW)(np.zeros((2, 0), dtype=bool), axis=1)
    assert out.shape == (2, 4)
    assert out.dtype == np.float64 and np.isnan(out).all()
    out[0, 0] = 1  # writable


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    ("fill", "dtype", "out_dtype", "filled"),
    [(None, np.int32, np.int32, 0), (5, np.int32, np.int64, 5), (np.nan, np.int32, np.float64, np.nan),
     (0, np.float32, np.float32, 0)],
)
def test_reindex_sparse(fmt, fill, dtype, out_dtype, filled):
    el = sparse.random(2, 3, density=1.0, format=fmt, dtype=dtype, rng=0)
    out = Reindexer(OLD, NEW)(el, axis=1, fill_value=fill)
    assert out.format == fmt
    assert isinstance(out, sparse.spmatrix)
    assert out.dtype == out_dtype
    dense = out.toarray()
    np.testing.assert_array_equal(dense[:, 1:], el.toarray())
    np.testing.assert_array_equal(dense[:, 0], [filled, filled])
    out0 = Reindexer(OLD, pd.Index(["q", "y"]))(el.T.asformat(fmt), axis=0, fill_value=fill)
    np.testing.assert_array_equal(out0.toarray()[1], el.toarray()[:, 1])
    np.testing.assert_array_equal(out0.toarray()[0], [filled, filled])


def test_reindex_sparse_array_and_empty():
    el = sparse.csr_array(np.eye(3))
    out = Reindexer(OLD, NEW)(el, axis=1)
    assert isinstance(out, sparse.csr_array)
    empty = Reindexer(pd.Index([]), NEW)(sparse.csr_matrix((2, 0), dtype=bool), axis=1)
    assert isinstance(empty, sparse.csr_matrix) and empty.shape == (2, 4)
    assert empty.dtype == np.float64 and empty.nnz == 0
    full = Reindexer(pd.Index([]), NEW)(sparse.csr_matrix((2, 0), dtype=bool), axis=1, fill_value=3)
    assert full.toarray().tolist() == [[3] * 4] * 2


def test_reindex_dataframe():
    df = pd.DataFrame({"b": [True, False, True], "i": [1, 2, 3]}, index=OLD)
    out = Reindexer(OLD, NEW)(df, axis=0)
    assert out.index.tolist() == NEW.tolist()
    assert out["b"].dtype == "boolean"
    assert out["b"].isna().tolist() == [True, False, False, False]
    assert out["i"].dtype == np.float64
    # without missing rows the numpy bool column stays
    out2 = Reindexer(OLD, pd.Index(["z", "x"]))(df, axis=0)
    assert out2["b"].dtype == bool and out2["i"].tolist() == [3, 1]


def test_default_fill_value():
    assert np.isnan(default_fill_value([np.ones(2)]))
    assert default_fill_value([np.ones(2), sparse.csr_matrix((1, 1))]) == 0


def test_unify_dtypes():
    a = pd.DataFrame({"c": pd.Categorical(["b", "a"], categories=["b", "a"]), "bo": [True, False]})
    b = pd.DataFrame({"c": pd.Categorical(["c", "a10"], categories=["c", "a10", "a2"])})
    ua, ub = unify_dtypes([a, b])
    assert list(ua["c"].cat.categories) == ["a", "a2", "a10", "b", "c"]
    assert ua["c"].dtype == ub["c"].dtype
    assert ua["bo"].dtype == "boolean"
    # ordered, different categories -> object
    oa = pd.DataFrame({"c": pd.Categorical(["b"], categories=["b", "a"], ordered=True)})
    ob = pd.DataFrame({"c": pd.Categorical(["a"], categories=["a", "b"], ordered=True)})
    assert unify_dtypes([oa, ob])[0]["c"].dtype == object
    # ordered, identical categories -> kept as they are
    sa = unify_dtypes([oa, oa.copy()])[0]["c"]
    assert sa.cat.ordered and list(sa.cat.categories) == ["b", "a"]
    # categorical vs other: left to pandas
    assert unify_dtypes([a, pd.DataFrame({"c": ["x"]})])[0]["c"].dtype == a["c"].dtype


def test_check_combinable_cols():
    dup, ok = pd.Index(["k", "k"]), pd.Index(["j"])
    check_combinable_cols([dup, ok], "inner")
    with pytest.raises(DuplicateNamesError, match="'k'") as e:
        check_combinable_cols([dup, ok], "outer")
    assert isinstance(e.value, pd.errors.InvalidIndexError)
    with pytest.raises(DuplicateNamesError):
        check_combinable_cols([dup, pd.Index(["k"])], "inner")

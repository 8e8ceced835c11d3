"""annstore.concat end to end; every expected value below was produced by anndata 0.13.4."""

from __future__ import annotations

import warnings

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from annstore._concat import ConcatArgumentError, ConcatError, DuplicateNamesError
from annstore.errors import AnnstoreError, CapabilityError
from scipy import sparse

N = np.nan


def mk(X, o, v, obs=None, var=None, **kw):
    return ad.AnnData(X, obs=pd.DataFrame(obs or {}, index=o), var=pd.DataFrame(var or {}, index=v), **kw)


CONV = {"dense": lambda x: x, "csr": sparse.csr_matrix, "csc": sparse.csc_matrix, "csr_array": sparse.csr_array}


def pair(kind="dense", dtype=np.int64):
    xa = np.arange(6, dtype=dtype).reshape(2, 3)
    a = mk(CONV[kind](xa), ["a", "b"], ["x", "y", "z"], obs={"g": ["u", "v"], "n": [1, 2]},
           var={"vv": [1, 2, 3], "same": ["p", "q", "r"]})
    b = mk(CONV[kind](xa + 10), ["c", "d"], ["y", "z", "w"], obs={"g": ["v", "w"], "f": [0.5, 1.5]},
           var={"vv": [2, 3, 4], "same": ["q", "r", "s"]})
    return a, b


def dense(x):
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def named_layers(adata):
    # anndata 0.13 lists X as the layer None; compare the named layers (and their order)
    keys = list(adata.layers.keys())
    assert (None in keys) == (adata.X is not None)
    return [k for k in keys if k is not None]


def assert_values(x, expected, dtype=None):
    np.testing.assert_array_equal(dense(x), np.array(expected, dtype=float if dtype is None else dtype))
    if dtype is not None:
        assert x.dtype == np.dtype(dtype)


OUTER_X = [[N, 0, 1, 2], [N, 3, 4, 5], [12, N, 10, 11], [15, N, 13, 14]]
OUTER_X0 = [[0, 0, 1, 2], [0, 3, 4, 5], [12, 0, 10, 11], [15, 0, 13, 14]]
INNER_X = [[1, 2], [4, 5], [10, 11], [13, 14]]


# ------------------------------------------------------------------ joins, axes, array types


@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "csr_array"])
@pytest.mark.parametrize("axis", [0, 1, "obs", "var"])
@pytest.mark.parametrize("join", ["inner", "outer"])
def test_basic(kind, axis, join):
    a, b = pair(kind)
    ax = {0: 0, 1: 1, "obs": 0, "var": 1}[axis]
    if ax == 1:
        a, b = a.T, b.T
    r = ad.concat([a, b], join=join, axis=axis, merge="same")
    names = ("obs_names", "var_names") if ax == 0 else ("var_names", "obs_names")
    assert getattr(r, names[0]).tolist() == ["a", "b", "c", "d"]
    sparse_kind = kind != "dense"
    if join == "inner":
        assert getattr(r, names[1]).tolist() == ["y", "z"]
        expected, dt = INNER_X, np.int64
    else:
        assert getattr(r, names[1]).tolist() == ["w", "x", "y", "z"]
        expected, dt = (OUTER_X0, np.int64) if sparse_kind else (OUTER_X, np.float64)
    X = r.X if ax == 0 else r.X.T
    assert_values(X, expected, dt)
    if sparse_kind:
        assert X.format in ("csr", "csc")
        assert isinstance(r.X, sparse.sparray) == (kind == "csr_array")
        assert r.X.format == "csr"
    else:
        assert isinstance(r.X, np.ndarray)
    # concatenated-axis annotation: pandas concat with the join
    ann = r.obs if ax == 0 else r.var
    if join == "inner":
        assert ann.columns.tolist() == ["g"]
    else:
        assert ann.columns.tolist() == ["g", "n", "f"]
        np.testing.assert_array_equal(ann["n"].to_numpy(), [1.0, 2.0, N, N])
    # other axis merged with "same"
    other = r.var if ax == 0 else r.obs
    if join == "inner":
        assert other.columns.tolist() == ["vv", "same"]
        assert other["vv"].tolist() == [2, 3] and other["vv"].dtype == np.int64
        assert other["same"].tolist() == ["q", "r"]
    else:
        assert other.columns.tolist() == []


@pytest.mark.parametrize(
    ("kind", "dtype", "fill", "out_dtype", "fv"),
    [
        ("dense", np.int32, 0, np.int64, 0),
        ("dense", np.int32, -1, np.int64, -1),
        ("dense", np.int64, 2.5, np.float64, 2.5),
        ("dense", np.float32, None, np.float64, N),
        ("dense", np.int8, None, np.float64, N),
        ("dense", np.float32, -1, np.float64, -1),
        ("csr", np.int32, None, np.int32, 0),
        ("csr", np.int8, None, np.int8, 0),
        ("csr", np.int32, 5, np.int64, 5),
        ("csr", np.int32, N, np.float64, N),
        ("csr", np.float32, 2.5, np.float64, 2.5),
        ("csr", np.int64, -1, np.int64, -1),
    ],
)
def test_outer_fill_value_and_dtype(kind, dtype, fill, out_dtype, fv):
    a, b = pair(kind, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = ad.concat([a, b], join="outer", fill_value=fill)
    expected = [[fv, 0, 1, 2], [fv, 3, 4, 5], [12, fv, 10, 11], [15, fv, 13, 14]]
    assert_values(r.X, expected, out_dtype)


def test_mixed_dense_and_sparse():
    a, _ = pair("dense")
    _, b = pair("csr")
    r = ad.concat([a, b], join="outer")
    assert isinstance(r.X, sparse.csr_matrix)
    assert_values(r.X, OUTER_X0, np.int64)
    a, _ = pair("csr")
    _, b = pair("csr_array")
    r = ad.concat([a, b], join="outer")
    assert isinstance(r.X, sparse.csr_array)
    a, _ = pair("dense")
    r = ad.concat([a, b], join="inner")
    assert isinstance(r.X, sparse.csr_array)
    assert_values(r.X, INNER_X, np.int64)


def test_three_way_orders():
    objs = [mk(np.full((1, len(v)), i, dtype=float), [f"o{i}"], v)
            for i, v in enumerate([["c", "a"], ["b", "a"], ["d"]])]
    r = ad.concat(objs, join="outer")
    assert r.var_names.tolist() == ["a", "b", "c", "d"]
    assert_values(r.X, [[0, N, 0, N], [1, 1, N, N], [N, N, N, 2]], np.float64)
    objs = [mk(np.arange(3.0).reshape(1, 3) + i, [f"o{i}"], v)
            for i, v in enumerate([["c", "a", "b"], ["b", "a", "c"], ["a", "c", "b"]])]
    r = ad.concat(objs, join="inner")
    assert r.var_names.tolist() == ["c", "a", "b"]
    assert_values(r.X, [[0, 1, 2], [3, 2, 1], [3, 2, 4]], np.float64)


def test_views_as_input():
    a, b = pair()
    r = ad.concat([a[[1, 0]], b[:, ["w", "y"]]], join="outer")
    assert r.obs_names.tolist() == ["b", "a", "c", "d"]
    assert r.var_names.tolist() == ["w", "x", "y", "z"]
    assert_values(r.X, [[N, 3, 4, 5], [N, 0, 1, 2], [12, N, 10, N], [15, N, 13, N]])


# ------------------------------------------------------------------ labels, keys, names


def test_label_keys_index_unique():
    a, b = pair()
    r = ad.concat([a, b], label="batch", keys=["B", "A"], index_unique="_")
    assert r.obs_names.tolist() == ["a_B", "b_B", "c_A", "d_A"]
    assert r.obs.columns.tolist() == ["g", "batch"]
    assert r.obs["batch"].dtype == "category"
    assert r.obs["batch"].cat.categories.tolist() == ["B", "A"]
    assert r.obs["batch"].tolist() == ["B", "B", "A", "A"]


def test_label_default_and_int_keys():
    a, b = pair()
    r = ad.concat([a, b], label="batch")
    assert r.obs["batch"].cat.categories.tolist() == ["0", "1"]
    assert r.obs_names.tolist() == ["a", "b", "c", "d"]
    r = ad.concat([a, b], label="batch", keys=[3, 1], index_unique="-")
    assert r.obs["batch"].cat.categories.tolist() == [3, 1]
    assert r.obs_names.tolist() == ["a-3", "b-3", "c-1", "d-1"]


def test_dict_input():
    a, b = pair()
    r = ad.concat({"second": b, "first": a}, label="src", index_unique="+", join="outer")
    assert r.obs_names.tolist() == ["c+second", "d+second", "a+first", "b+first"]
    assert r.obs.columns.tolist() == ["g", "f", "n", "src"]
    assert r.obs["src"].cat.categories.tolist() == ["second", "first"]
    with pytest.raises(ConcatArgumentError, match="keys") as e:
        ad.concat({"x": a, "y": b}, keys=["p", "q"])
    assert isinstance(e.value, TypeError)


def test_iterables_accepted():
    a, b = pair()
    r = ad.concat(iter([a, b]), keys=(k for k in ["k1", "k2"]), label="lab")
    assert r.obs["lab"].tolist() == ["k1", "k1", "k2", "k2"]


def test_index_unique_same_names():
    a, _ = pair()
    r = ad.concat([a, a], index_unique="-")
    assert r.obs_names.tolist() == ["a-0", "b-0", "a-1", "b-1"]


def test_non_unique_obs_names_warn():
    a, _ = pair()
    with pytest.warns(UserWarning, match="not unique"):
        r = ad.concat([a, a])
    assert r.obs_names.tolist() == ["a", "b", "a", "b"]


def test_duplicated_names_on_joined_axis():
    a = mk(np.ones((1, 2)), ["a"], ["x", "x"])
    b = mk(np.ones((1, 2)), ["b"], ["x", "y"])
    for join in ("inner", "outer"):
        with pytest.raises(DuplicateNamesError, match="'x'") as e:
            ad.concat([a, b], join=join)
        assert isinstance(e.value, pd.errors.InvalidIndexError)


def test_argument_errors():
    a, b = pair()
    with pytest.raises(ConcatError, match="No objects"):
        ad.concat([])
    with pytest.raises(ValueError, match="'left'"):
        ad.concat([a, b], join="left")
    with pytest.raises(ValueError, match="axis"):
        ad.concat([a, b], axis=2)
    with pytest.raises(ValueError, match="bogus"):
        ad.concat([a, b], uns_merge="bogus")
    with pytest.raises(ConcatError, match="duplicates"):
        ad.concat([a, b], keys=["k", "k"], label="l")
    with pytest.raises(AnnstoreError, match="one key per object"):
        ad.concat([a, b], keys=["k"])


def test_single_and_empty_inputs():
    a, b = pair()
    r = ad.concat([a], label="l")
    assert r.shape == (2, 3)
    assert r.obs["l"].tolist() == ["0", "0"]
    r = ad.concat([a[:0], b], join="outer")
    assert r.shape == (2, 4)
    assert_values(r.X, [[12, N, 10, 11], [15, N, 13, 14]])
    assert r.obs.columns.tolist() == ["g", "n", "f"]
    r = ad.concat([a[:, :0], b], join="outer")
    assert r.var_names.tolist() == ["y", "z", "w"]
    assert_values(r.X, [[N, N, N], [N, N, N], [10, 11, 12], [13, 14, 15]])
    r = ad.concat([a, b[:, :0]], join="inner")
    assert r.shape == (4, 0)
    sa, sb = pair("csr")
    r = ad.concat([sa[:0], sb[:0]], join="outer")
    assert r.shape == (0, 4)
    r = ad.concat([ad.AnnData(), ad.AnnData()])
    assert r.shape == (0, 0)


# ------------------------------------------------------------------ annotations and dtypes


def catpair(ordered=False, cats_a=("b", "a"), cats_b=("c", "a10", "a2")):
    a = mk(np.ones((2, 1)), ["a", "b"], ["x"], obs={
        "c": pd.Categorical(list(cats_a[:2]), categories=list(cats_a), ordered=ordered), "bo": [True, False]})
    b = mk(np.ones((2, 1)), ["c", "d"], ["x"], obs={
        "c": pd.Categorical(list(cats_b[:2]), categories=list(cats_b), ordered=ordered)})
    return a, b


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_categorical_union_natural_order(join):
    r = ad.concat(list(catpair()), join=join)
    assert r.obs["c"].cat.categories.tolist() == ["a", "a2", "a10", "b", "c"]
    assert not r.obs["c"].cat.ordered
    assert r.obs["c"].tolist() == ["b", "a", "c", "a10"]
    if join == "outer":
        assert r.obs["bo"].dtype == "boolean"
        assert r.obs["bo"].isna().tolist() == [False, False, True, True]
    else:
        assert r.obs.columns.tolist() == ["c"]


def test_categorical_natsort_and_ints():
    r = ad.concat(list(catpair(False, ("b10", "b9", "10", "9", "B", "a b", "a1"), ("x", "2", "b1"))))
    assert r.obs["c"].cat.categories.tolist() == ["2", "9", "10", "B", "a1", "a b", "b1", "b9", "b10", "x"]
    a = mk(np.ones((2, 1)), ["a", "b"], ["x"], obs={"c": pd.Categorical([3, 10])})
    b = mk(np.ones((2, 1)), ["c", "d"], ["x"], obs={"c": pd.Categorical([2, 3])})
    r = ad.concat([a, b])
    assert r.obs["c"].cat.categories.tolist() == [2, 3, 10]
    assert r.obs["c"].tolist() == [3, 10, 2, 3]


def test_categorical_ordered():
    r = ad.concat(list(catpair(True)), join="outer")
    assert r.obs["c"].dtype == object
    assert r.obs["c"].tolist() == ["b", "a", "c", "a10"]
    r = ad.concat(list(catpair(True, ("z", "a", "m"), ("z", "a", "m"))), join="outer")
    assert r.obs["c"].cat.ordered
    assert r.obs["c"].cat.categories.tolist() == ["z", "a", "m"]
    a = mk(np.ones((1, 1)), ["a"], ["x"], obs={"c": pd.Categorical([None], categories=[], ordered=True)})
    b = mk(np.ones((1, 1)), ["b"], ["x"], obs={"c": pd.Categorical(["q"], categories=["q"], ordered=True)})
    r = ad.concat([a, b])
    assert r.obs["c"].cat.ordered and r.obs["c"].cat.categories.tolist() == ["q"]
    assert r.obs["c"].isna().tolist() == [True, False]


def test_categorical_vs_string():
    a, b = catpair()
    b.obs["c"] = b.obs["c"].astype(str)
    r = ad.concat([a, b], join="outer")
    assert not isinstance(r.obs["c"].dtype, pd.CategoricalDtype)
    assert r.obs["c"].tolist() == ["b", "a", "c", "a10"]


def test_obs_dtypes():
    a = mk(np.ones((2, 1)), ["a", "b"], ["x"], obs={
        "i": np.array([1, 2], dtype=np.int32), "s": ["p", "q"], "f": [1.0, 2.0], "b": [True, False]})
    b = mk(np.ones((1, 1)), ["c"], ["x"], obs={"i": np.array([5], dtype=np.int64), "s": ["r"], "b": [True]})
    r = ad.concat([a, b], join="outer")
    assert r.obs.columns.tolist() == ["i", "s", "f", "b"]
    assert r.obs["i"].dtype == np.int64 and r.obs["i"].tolist() == [1, 2, 5]
    assert r.obs["b"].dtype == bool
    np.testing.assert_array_equal(r.obs["f"].to_numpy(), [1.0, 2.0, N])
    a = mk(np.ones((2, 1)), ["a", "b"], ["x"], obs={
        "i": pd.array([1, None], dtype="Int64"), "s": pd.array(["p", None], dtype="string")})
    b = mk(np.ones((1, 1)), ["c"], ["x"], obs={"s": ["q"]})
    r = ad.concat([a, b], join="outer")
    assert r.obs["i"].dtype == "Int64" and r.obs["i"].isna().tolist() == [False, True, True]
    assert r.obs["s"].dtype == "string"


def test_duplicate_columns():
    a = mk(np.ones((1, 1)), ["a"], ["x"])
    a.obs = pd.DataFrame([[1, 2]], columns=["k", "k"], index=["a"])
    b = mk(np.ones((1, 1)), ["b"], ["x"], obs={"j": [1]})
    with pytest.raises(DuplicateNamesError, match="'k'"):
        ad.concat([a, b], join="outer")
    with pytest.raises(DuplicateNamesError, match="'k'"):  # pandas cannot align them either
        ad.concat([a, b], join="inner")


# ------------------------------------------------------------------ merge of the other axis


def merge_objs():
    a, b = pair()
    c = mk(np.ones((1, 3)), ["e"], ["x", "y", "z"], var={"vv": [1, 2, 3], "only_c": [True, False, True]})
    for o in (a, b, c):
        o.varm["pc"] = np.arange(6).reshape(3, 2)
    a.varm["df"] = pd.DataFrame({"q": [1, 2, 3]}, index=a.var_names)
    a.varp["vp"] = np.arange(9).reshape(3, 3)
    c.varp["vp"] = np.arange(9).reshape(3, 3)
    return a, b, c


VP = [[N, N, N, N], [N, 0, 1, 2], [N, 3, 4, 5], [N, 6, 7, 8]]


def test_merge_outer_same():
    r = ad.concat(list(merge_objs()), join="outer", merge="same")
    assert r.var_names.tolist() == ["w", "x", "y", "z"]
    assert r.var.columns.tolist() == []
    assert list(r.varm.keys()) == [] and list(r.varp.keys()) == []


def test_merge_outer_unique():
    r = ad.concat(list(merge_objs()), join="outer", merge="unique")
    assert r.var.columns.tolist() == ["only_c"]
    assert r.var["only_c"].dtype == "boolean"
    assert r.var["only_c"].tolist()[1:] == [True, False, True] and r.var["only_c"].isna().iloc[0]
    assert sorted(r.varm.keys()) == ["df"]
    np.testing.assert_array_equal(r.varm["df"]["q"].to_numpy(), [N, 1, 2, 3])
    assert_values(r.varp["vp"], VP, np.float64)


def test_merge_outer_first():
    r = ad.concat(list(merge_objs()), join="outer", merge="first")
    assert r.var.columns.tolist() == ["vv", "same", "only_c"]
    np.testing.assert_array_equal(r.var["vv"].to_numpy(), [N, 1, 2, 3])
    assert r.var["same"].tolist()[1:] == ["p", "q", "r"] and pd.isna(r.var["same"].iloc[0])
    assert_values(r.varm["pc"], [[N, N], [0, 1], [2, 3], [4, 5]], np.float64)
    assert_values(r.varp["vp"], VP, np.float64)


def test_merge_outer_only_and_none():
    r = ad.concat(list(merge_objs()), join="outer", merge="only")
    assert r.var.columns.tolist() == ["only_c"]
    assert sorted(r.varm.keys()) == ["df"] and list(r.varp.keys()) == []
    r = ad.concat(list(merge_objs()), join="outer")
    assert r.var.columns.tolist() == [] and list(r.varm.keys()) == []


def inner_merge_objs():
    a, _ = pair()
    b2 = mk(np.ones((1, 3)), ["e"], ["x", "y", "z"],
            var={"vv": [1, 2, 3], "same": ["p", "q", "r"], "other": [1.0, 2.0, N]})
    a.varm["pc"] = np.arange(6).reshape(3, 2)
    b2.varm["pc"] = np.arange(6).reshape(3, 2)
    a.varm["pd"] = np.arange(6.0).reshape(3, 2)
    b2.varm["pd"] = np.arange(6).reshape(3, 2)  # same values, other dtype: not "same"
    a.varm["sp"] = sparse.csr_matrix(np.eye(3))
    b2.varm["sp"] = sparse.csr_matrix(np.eye(3))
    return a, b2


@pytest.mark.parametrize(
    ("strategy", "columns", "varm"),
    [
        ("same", ["vv", "same"], ["pc", "sp"]),
        ("unique", ["vv", "same", "other"], ["pc", "sp"]),
        ("first", ["vv", "same", "other"], ["pc", "pd", "sp"]),
        ("only", ["other"], []),
    ],
)
def test_merge_inner(strategy, columns, varm):
    r = ad.concat(list(inner_merge_objs()), join="inner", merge=strategy)
    assert r.var.columns.tolist() == columns
    assert sorted(r.varm.keys()) == varm
    if "vv" in columns:
        assert r.var["vv"].dtype == np.int64
    if "pc" in varm:
        assert r.varm["pc"].dtype == np.int64
    if "sp" in varm:
        assert isinstance(r.varm["sp"], sparse.csr_matrix)


def test_merge_callable():
    a, b = pair()
    a.varm["m"] = np.ones((3, 1))
    b.varm["m"] = np.zeros((3, 1))
    seen = []

    def strat(ds):
        seen.append(len(ds))
        out = {}
        for d in ds:
            for k in d:
                out.setdefault(k, d[k])
        return out

    r = ad.concat([a, b], join="outer", merge=strat)
    assert r.var.columns.tolist() == ["vv", "same"]
    np.testing.assert_array_equal(r.var["vv"].to_numpy(), [N, 1, 2, 3])
    assert_values(r.varm["m"], [[N], [1], [1], [1]])
    assert 2 in seen


def test_varm_fill_value_and_sparse():
    a = mk(np.ones((1, 2)), ["a"], ["x", "y"],
           varm={"m": np.ones((2, 2), dtype=np.int32), "s": sparse.csr_matrix(np.ones((2, 2)))})
    b = mk(np.ones((1, 2)), ["b"], ["y", "z"], varm={"m": np.ones((2, 2), dtype=np.int32)})
    r = ad.concat([a, b], join="outer", merge="unique", fill_value=3)
    assert_values(r.X, [[1, 1, 3], [3, 1, 1]])
    assert list(r.varm.keys()) == ["s"]
    assert_values(r.varm["s"], [[1, 1], [1, 1], [0, 0]])  # varm reindexing keeps sparse zero


def test_var_merge_bool_and_categorical():
    a = mk(np.ones((1, 2)), ["a"], ["x", "y"], var={"hv": [True, False]})
    b = mk(np.ones((1, 2)), ["b"], ["y", "z"], var={"hv": [False, True]})
    r = ad.concat([a, b], join="outer", merge="first")
    assert r.var["hv"].dtype == "boolean"
    assert r.var["hv"].tolist()[:2] == [True, False] and r.var["hv"].isna().tolist() == [False, False, True]
    a = mk(np.ones((1, 2)), ["a"], ["x", "y"], var={"c": pd.Categorical(["p", "q"])})
    b = mk(np.ones((1, 2)), ["b"], ["x", "y"], var={"c": pd.Categorical(["p", "q"])})
    r = ad.concat([a, b], join="outer", merge="same")
    assert r.var["c"].dtype == "category" and r.var["c"].tolist() == ["p", "q"]


# ------------------------------------------------------------------ uns


UNS = [
    {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": np.array([1.0, N]), "s": "x", "only0": 5, "arr": np.arange(3)},
    {"a": 1, "b": {"c": 3, "d": [1, 2], "z": 1}, "e": np.array([1.0, N]), "s": "y", "arr": np.arange(3.0)},
    {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": np.array([1.0, N]), "s": "x", "arr": np.arange(3), "b2": {}},
]


def uns_objs():
    return [mk(np.ones((1, 1)), [f"o{i}"], ["x"], uns=u) for i, u in enumerate(UNS)]


def _plain(u):
    return {k: (_plain(v) if isinstance(v, dict) or hasattr(v, "items") else
                (v.tolist() if isinstance(v, np.ndarray) else v)) for k, v in u.items()}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("same", {"a": 1, "b": {"d": [1, 2]}, "e": [1.0, N]}),
        ("unique", {"a": 1, "b": {"d": [1, 2], "z": 1}, "e": [1.0, N], "only0": 5}),
        ("first", {"a": 1, "arr": [0, 1, 2], "b": {"c": 2, "d": [1, 2], "z": 1}, "e": [1.0, N],
                   "only0": 5, "s": "x"}),
        ("only", {"b": {"z": 1}, "only0": 5}),
        (None, {}),
    ],
)
def test_uns_merge(strategy, expected):
    r = ad.concat(uns_objs(), uns_merge=strategy)
    got = _plain(r.uns)
    assert sorted(got) == sorted(expected)
    for k, v in expected.items():
        if isinstance(v, list) and any(isinstance(x, float) for x in v):
            np.testing.assert_array_equal(got[k], v)
        else:
            assert got[k] == v


def test_uns_callable_and_values():
    r = ad.concat(uns_objs(), uns_merge=lambda ds: {"n": len(ds), "keys": sorted(k for d in ds for k in d)})
    assert r.uns["n"] == 3
    assert list(r.uns["keys"]) == ["a", "a", "a", "arr", "arr", "arr", "b", "b", "b", "b2", "e", "e", "e",
                                   "only0", "s", "s", "s"]
    d = pd.DataFrame({"a": [1, 2]})
    objs = [mk(np.ones((1, 1)), [f"o{i}"], ["x"],
               uns={"df": d.copy(), "sp": sparse.csr_matrix(np.eye(2)), "n": {"x": {"y": 1}}}) for i in range(2)]
    r = ad.concat(objs, uns_merge="same")
    assert sorted(r.uns.keys()) == ["df", "n", "sp"]
    assert r.uns["df"]["a"].tolist() == [1, 2]
    assert _plain(r.uns["n"]) == {"x": {"y": 1}}


# ------------------------------------------------------------------ obsm, layers, X


def obsm_objs():
    a, b = pair()
    a.obsm["pca"] = np.arange(6.0).reshape(2, 3)
    b.obsm["pca"] = np.arange(4).reshape(2, 2)
    a.obsm["df"] = pd.DataFrame({"u": [1, 2], "v": ["s", "t"]}, index=a.obs_names)
    b.obsm["df"] = pd.DataFrame({"v": ["q", "r"], "w": [True, False]}, index=b.obs_names)
    a.obsm["only_a"] = sparse.csr_matrix(np.eye(2))
    b.obsm["only_b_df"] = pd.DataFrame({"z": [1.0, 2.0]}, index=b.obs_names)
    a.obsm["i32"] = np.ones((2, 2), dtype=np.int32)
    return a, b


def test_obsm_inner():
    r = ad.concat(list(obsm_objs()), join="inner")
    assert sorted(r.obsm.keys()) == ["df", "pca"]
    assert_values(r.obsm["pca"], [[0, 1], [3, 4], [0, 1], [2, 3]], np.float64)  # truncated to narrowest
    df = r.obsm["df"]
    assert df.columns.tolist() == ["v"] and df["v"].tolist() == ["s", "t", "q", "r"]
    assert df.index.tolist() == ["a", "b", "c", "d"]


@pytest.mark.parametrize("fill", [None, -1])
def test_obsm_outer(fill):
    r = ad.concat(list(obsm_objs()), join="outer", fill_value=fill)
    f = N if fill is None else fill
    assert sorted(r.obsm.keys()) == ["df", "i32", "only_a", "only_b_df", "pca"]
    assert_values(r.obsm["pca"], [[0, 1, 2], [3, 4, 5], [0, 1, f], [2, 3, f]], np.float64)
    assert_values(r.obsm["i32"], [[1, 1], [1, 1], [f, f], [f, f]], np.float64 if fill is None else np.int64)
    assert isinstance(r.obsm["only_a"], sparse.csr_matrix)
    sf = 0 if fill is None else fill
    assert_values(r.obsm["only_a"], [[1, 0], [0, 1], [sf, sf], [sf, sf]], np.float64)
    df = r.obsm["df"]
    assert df.columns.tolist() == ["u", "v", "w"]
    np.testing.assert_array_equal(df["u"].to_numpy(), [1.0, 2.0, N, N])
    assert df["w"].dtype == "boolean" and df["w"].isna().tolist() == [True, True, False, False]
    np.testing.assert_array_equal(r.obsm["only_b_df"]["z"].to_numpy(), [N, N, 1.0, 2.0])


def test_obsm_dataframe_with_array_fails():
    a, b = pair()
    a.obsm["m"] = np.ones((2, 2))
    b.obsm["m"] = pd.DataFrame({"q": [1, 2]}, index=b.obs_names)
    with pytest.raises(CapabilityError, match="DataFrame"):
        ad.concat([a, b], join="outer")
    a.obsm["m"] = np.ones((2, 2))
    b.obsm["m"] = sparse.csr_matrix(np.ones((2, 3)))
    r = ad.concat([a, b], join="outer")
    assert isinstance(r.obsm["m"], sparse.csr_matrix)
    assert_values(r.obsm["m"], [[1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]])


def layer_objs():
    a, b = pair()
    a.layers["counts"] = sparse.csr_matrix(np.arange(6).reshape(2, 3))
    b.layers["counts"] = sparse.csr_matrix(np.arange(6).reshape(2, 3) * 2)
    a.layers["only_a"] = np.ones((2, 3), dtype=np.float32)
    b.layers["only_b"] = sparse.csc_matrix(np.ones((2, 3), dtype=np.int16))
    return a, b


def test_layers_inner():
    r = ad.concat(list(layer_objs()), join="inner")
    assert named_layers(r) == ["counts"]
    assert_values(r.layers["counts"], [[1, 2], [4, 5], [0, 2], [6, 8]], np.int64)


def test_layers_outer():
    r = ad.concat(list(layer_objs()), join="outer")
    assert named_layers(r) == ["counts", "only_a", "only_b"]
    assert_values(r.layers["counts"], [[0, 0, 1, 2], [0, 3, 4, 5], [4, 0, 0, 2], [10, 0, 6, 8]], np.int64)
    assert_values(r.layers["only_a"], [[N, 1, 1, 1], [N, 1, 1, 1], [N] * 4, [N] * 4], np.float64)
    assert isinstance(r.layers["only_b"], sparse.csr_matrix)
    assert_values(r.layers["only_b"], [[0] * 4, [0] * 4, [1, 0, 1, 1], [1, 0, 1, 1]], np.float64)


def test_layers_outer_fill():
    r = ad.concat(list(layer_objs()), join="outer", fill_value=7)
    assert_values(r.X, [[7, 0, 1, 2], [7, 3, 4, 5], [12, 7, 10, 11], [15, 7, 13, 14]], np.int64)
    assert_values(r.layers["counts"], [[7, 0, 1, 2], [7, 3, 4, 5], [4, 7, 0, 2], [10, 7, 6, 8]], np.int64)
    assert_values(r.layers["only_a"], [[7, 1, 1, 1], [7, 1, 1, 1], [7] * 4, [7] * 4], np.float64)
    assert_values(r.layers["only_b"], [[7] * 4, [7] * 4, [1, 7, 1, 1], [1, 7, 1, 1]], np.int64)


def test_layers_axis_var():
    a, b = layer_objs()
    r = ad.concat([a.T, b.T], join="outer", axis=1)
    assert_values(r.X, [[N, N, 12, 15], [0, 3, N, N], [1, 4, 10, 13], [2, 5, 11, 14]])
    assert_values(r.layers["counts"], [[0, 0, 4, 10], [0, 3, 0, 0], [1, 4, 0, 6], [2, 5, 2, 8]], np.int64)
    assert_values(r.layers["only_a"], [[N] * 4, [1, 1, N, N], [1, 1, N, N], [1, 1, N, N]])


def test_layer_key_order():
    a, b = pair()
    for k in ["l1", "l2", "l3"]:
        a.layers[k] = np.ones((2, 3))
    for k in ["l3", "l1", "l2"]:
        b.layers[k] = np.ones((2, 3))
    a.obsm["m2"] = np.ones((2, 1))
    a.obsm["m1"] = np.ones((2, 1))
    b.obsm["m1"] = np.ones((2, 1))
    b.obsm["m2"] = np.ones((2, 1))
    r = ad.concat([a, b])
    assert named_layers(r) == ["l3", "l1", "l2"]  # inner: order of the last object
    assert list(r.obsm.keys()) == ["m1", "m2"]


def x_none_objs():
    a, _ = pair()
    return a, mk(None, ["e"], ["x", "y", "z"])


def test_x_none():
    with pytest.warns(UserWarning, match="Some Xs are None"):
        r = ad.concat(list(x_none_objs()))
    assert r.X is None and r.shape == (3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = ad.concat(list(x_none_objs()), join="inner")
    assert r.X is None
    r = ad.concat(list(x_none_objs()), join="outer")
    assert_values(r.X, [[0, 1, 2], [3, 4, 5], [N, N, N]], np.float64)
    a, c = x_none_objs()
    a.X = sparse.csr_matrix(a.X)
    r = ad.concat([a, c], join="outer")
    assert isinstance(r.X, sparse.csr_matrix)
    assert_values(r.X, [[0, 1, 2], [3, 4, 5], [0, 0, 0]], np.float64)
    r = ad.concat([mk(None, ["e"], ["x", "y", "z"]), mk(None, ["f"], ["y"])], join="outer")
    assert r.X is None and r.shape == (2, 3)


# ------------------------------------------------------------------ pairwise


def pw_objs():
    p1 = mk(np.zeros((2, 1)), ["a", "b"], ["x"],
            obsp={"d": np.ones((2, 2), dtype=np.int32), "s": sparse.csr_matrix(np.ones((2, 2)))})
    p2 = mk(np.zeros((1, 1)), ["c"], ["x"], obsp={"d": sparse.csr_array(np.full((1, 1), 2.0, dtype=np.float32))})
    return p1, p2


BD = [[1, 1, 0], [1, 1, 0], [0, 0, 2]]


def test_pairwise():
    r = ad.concat(list(pw_objs()), pairwise=True)
    assert list(r.obsp.keys()) == ["d"]
    assert isinstance(r.obsp["d"], sparse.csr_matrix)
    assert_values(r.obsp["d"], BD, np.float64)
    r = ad.concat(list(pw_objs()), pairwise=True, join="outer")
    assert sorted(r.obsp.keys()) == ["d", "s"]
    assert_values(r.obsp["s"], [[1, 1, 0], [1, 1, 0], [0, 0, 0]], np.float64)
    r = ad.concat(list(pw_objs()), join="outer")
    assert list(r.obsp.keys()) == []
    p1, p2 = pw_objs()
    r = ad.concat([p1.T, p2.T], pairwise=True, axis=1, join="outer")
    assert_values(r.varp["d"], BD, np.float64)


def test_pairwise_int_dtype():
    p1 = mk(np.zeros((2, 1)), ["a", "b"], ["x"], obsp={"d": sparse.csr_matrix(np.ones((2, 2), dtype=np.int32))})
    p2 = mk(np.zeros((1, 1)), ["c"], ["x"], obsp={"d": sparse.csr_matrix(np.ones((1, 1), dtype=np.int32))})
    r = ad.concat([p1, p2], pairwise=True)
    assert_values(r.obsp["d"], [[1, 1, 0], [1, 1, 0], [0, 0, 1]], np.int32)


# ------------------------------------------------------------------ raw


def raw_objs():
    a, b = pair()
    a.raw = a
    b.raw = b
    return a, b


def test_raw_concatenated_when_all_have_it():
    a, b = raw_objs()
    r = ad.concat([a[:, :2], b[:, 1:]], join="outer", label="L", index_unique="-")
    assert_values(r.X, [[N, 0, 1, N], [N, 3, 4, N], [12, N, N, 11], [15, N, N, 14]])
    assert r.raw is not None
    assert r.raw.var_names.tolist() == ["w", "x", "y", "z"]
    assert r.raw.var.columns.tolist() == []
    assert_values(r.raw.X, OUTER_X, np.float64)
    assert r.obs_names.tolist() == ["a-0", "b-0", "c-1", "d-1"]
    with pytest.warns(UserWarning, match="not unique"):
        r = ad.concat(list(raw_objs()), axis=1, join="outer")
    assert r.raw.var_names.tolist() == ["x", "y", "z", "y", "z", "w"]
    assert r.raw.var.columns.tolist() == ["vv", "same"]
    assert_values(r.raw.X, [[0, 1, 2, N, N, N], [3, 4, 5, N, N, N], [N, N, N, 10, 11, 12],
                            [N, N, N, 13, 14, 15]], np.float64)


def test_raw_dropped_with_warning_when_some_lack_it():
    a, b = pair()
    a.raw = a
    with pytest.warns(UserWarning, match="Only some AnnData objects have `.raw`"):
        r = ad.concat([a, b])
    assert r.raw is None
    assert_values(r.X, INNER_X, np.int64)


def test_axis_var_full():
    a, b = pair()
    a.layers["l"] = np.ones((2, 3))
    b.layers["l"] = np.zeros((2, 3))
    a.obsm["o"] = np.ones((2, 1))
    b.obsm["o"] = np.ones((2, 1))
    r = ad.concat([a, b], axis="var", join="outer", merge="unique", label="lab", index_unique="#")
    assert r.var_names.tolist() == ["x#0", "y#0", "z#0", "y#1", "z#1", "w#1"]
    assert r.var.columns.tolist() == ["vv", "same", "lab"]
    assert r.var["vv"].tolist() == [1, 2, 3, 2, 3, 4]
    assert r.obs.columns.tolist() == ["n", "f"]
    assert list(r.obsm.keys()) == []  # reindexed with NaN they differ: not unique
    assert_values(r.X, [[0, 1, 2, N, N, N], [3, 4, 5, N, N, N], [N, N, N, 10, 11, 12], [N, N, N, 13, 14, 15]])
    assert_values(r.layers["l"], [[1, 1, 1, N, N, N], [1, 1, 1, N, N, N], [N, N, N, 0, 0, 0],
                                  [N, N, N, 0, 0, 0]])


def test_inputs_not_modified():
    a, b = pair()
    xa = a.X.copy()
    obs_a = a.obs.copy()
    ad.concat([a, b], join="outer", label="l", merge="first")
    np.testing.assert_array_equal(a.X, xa)
    pd.testing.assert_frame_equal(a.obs, obs_a)


def test_import_does_not_load_dask():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, pandas as pd, annstore as ad\n"
        "a = ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=['a','b']), var=pd.DataFrame(index=['x','y']))\n"
        "ad.concat([a, a], join='outer', index_unique='-')\n"
        "assert 'dask' not in sys.modules, 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

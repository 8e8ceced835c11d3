"""Indexing AnnData and copy-on-write views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore._views import ArrayView, DataFrameView, DictView

W = ad.ImplicitModificationWarning


@pytest.mark.parametrize(
    ("index", "obs", "var"),
    [
        pytest.param(0, ["c0"], ["w", "x", "y", "z"], id="int"),
        pytest.param(-1, ["c2"], ["w", "x", "y", "z"], id="neg_int"),
        pytest.param(np.int64(1), ["c1"], ["w", "x", "y", "z"], id="np_int"),
        pytest.param(slice(1, None), ["c1", "c2"], ["w", "x", "y", "z"], id="slice"),
        pytest.param((slice(None), slice("x", "z")), ["c0", "c1", "c2"], ["x", "y", "z"], id="label_slice_inclusive"),
        pytest.param((slice(None), slice("z", "x", -1)), ["c0", "c1", "c2"], ["z", "y", "x"], id="label_slice_reverse"),
        pytest.param([True, False, True], ["c0", "c2"], ["w", "x", "y", "z"], id="bool_list"),
        pytest.param(np.array([False, True, True]), ["c1", "c2"], ["w", "x", "y", "z"], id="bool_array"),
        pytest.param("c1", ["c1"], ["w", "x", "y", "z"], id="name"),
        pytest.param(["c2", "c0"], ["c2", "c0"], ["w", "x", "y", "z"], id="name_list"),
        pytest.param(np.array(["c2", "c0"]), ["c2", "c0"], ["w", "x", "y", "z"], id="name_array"),
        pytest.param(pd.Index(["c1"]), ["c1"], ["w", "x", "y", "z"], id="pd_index"),
        pytest.param([2, 0], ["c2", "c0"], ["w", "x", "y", "z"], id="int_list"),
        pytest.param(np.array([1.0, 0.0]), ["c1", "c0"], ["w", "x", "y", "z"], id="integral_floats"),
        pytest.param((slice(None), -1), ["c0", "c1", "c2"], ["z"], id="neg_var"),
        pytest.param(([0, 2], ["y", "w"]), ["c0", "c2"], ["y", "w"], id="2d_lists"),
        pytest.param((Ellipsis, [1]), ["c0", "c1", "c2"], ["x"], id="ellipsis"),
        pytest.param([], [], ["w", "x", "y", "z"], id="empty"),
    ],
)
def test_indexing(adata, index, obs, var):
    v = adata[index]
    assert v.is_view
    assert v.obs_names.tolist() == obs
    assert v.var_names.tolist() == var
    expected = pd.DataFrame(adata.X, index=adata.obs_names, columns=adata.var_names).loc[obs, var].to_numpy()
    np.testing.assert_array_equal(v.X, expected)
    np.testing.assert_array_equal(v.layers["counts"], expected * 10)
    assert v.obsm["pca"].shape == (len(obs), 2)
    assert v.varm["load"].shape == (len(var), 2)
    assert v.obsp["dist"].shape == (len(obs), len(obs))


def test_series_masks(adata):
    v = adata[adata.obs["g"] == "a", adata.var["kind"] == "q"]
    assert v.obs_names.tolist() == ["c0", "c2"]
    assert v.var_names.tolist() == ["x", "z"]


def test_sparse_2d_fancy_indexing():
    X = sparse.csr_matrix(np.arange(12).reshape(3, 4))
    for mk in (sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.csc_array):
        a = ad.AnnData(mk(X))
        v = a[[2, 0], [True, False, True, False]]
        np.testing.assert_array_equal(v.X.toarray(), [[8, 10], [0, 2]])


@pytest.mark.parametrize(
    ("index", "exc", "match"),
    [
        ([True, False], IndexError, "Boolean index does not match"),
        (["nope"], KeyError, "are not valid obs/ var names"),
        ("nope", KeyError, "not a valid obs/var name"),
        (5, IndexError, "out of range"),
        (-4, IndexError, "out of range"),
        (np.array([0.5, 1.0]), IndexError, "floating point"),
        ((0, 0, 0), IndexError, "at most 2 dimensions"),
        ((..., ..., 0), IndexError, "single ellipsis"),
        ({"a": 1}, IndexError, "Unknown indexer"),
    ],
)
def test_indexing_errors(adata, index, exc, match):
    with pytest.raises(exc, match=match):
        adata[index]


def test_views_of_views_compose(adata):
    v = adata[1:][[1, 0]][:, [True, False, True, True]][:, 1:]
    assert v.obs_names.tolist() == ["c2", "c1"]
    assert v.var_names.tolist() == ["y", "z"]
    assert v._adata_ref is adata
    np.testing.assert_array_equal(v.X, adata.X[[2, 1]][:, [2, 3]])
    vb = adata[[True, False, True]][[False, True]]
    assert vb.obs_names.tolist() == ["c2"]
    vs = adata[::-1][1:]
    assert vs.obs_names.tolist() == ["c1", "c0"]


def test_view_types(adata):
    v = adata[:2]
    assert isinstance(v.X, ArrayView)
    assert isinstance(v.obs, DataFrameView)
    assert isinstance(v.uns, DictView)
    assert type(v.obsm).__name__ == "AxisArraysView"
    assert type(v.layers).__name__ == "LayersView"
    assert type(v.obsp).__name__ == "PairwiseArraysView"
    assert repr(v.obsm) == "AxisArraysView with keys: 'pca'"


def _check_actualized(v, parent_before, parent):
    assert not v.is_view
    np.testing.assert_array_equal(parent.X, parent_before.X)
    assert parent.obs.equals(parent_before.obs)
    assert list(parent.obsm) == list(parent_before.obsm)
    assert list(parent.layers) == list(parent_before.layers)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda v: v.obs.__setitem__("new", 1), id="obs_column"),
        pytest.param(lambda v: v.var.__setitem__("new", 1), id="var_column"),
        pytest.param(lambda v: v.obs.__delitem__("n"), id="obs_del_column"),
        pytest.param(lambda v: setattr(v.obs, "index", ["p", "q"]), id="obs_index"),
        pytest.param(lambda v: v.obs.drop(columns="n", inplace=True), id="obs_drop_inplace"),
        pytest.param(lambda v: v.X.__setitem__((0, 0), 99.0), id="X_item"),
        pytest.param(lambda v: setattr(v, "X", np.zeros((2, 4))), id="X_set"),
        pytest.param(lambda v: v.obsm.__setitem__("new", np.zeros((2, 1))), id="obsm_add"),
        pytest.param(lambda v: v.obsm.__delitem__("pca"), id="obsm_del"),
        pytest.param(lambda v: v.obsm["pca"].__setitem__((0, 0), 5.0), id="obsm_item"),
        pytest.param(lambda v: v.layers.__setitem__("new", np.zeros((2, 4))), id="layers_add"),
        pytest.param(lambda v: v.varm.__setitem__("new", np.zeros((4, 1))), id="varm_add"),
        pytest.param(lambda v: v.obsp.__setitem__("new", np.zeros((2, 2))), id="obsp_add"),
        pytest.param(lambda v: v.uns.__setitem__("new", 1), id="uns_set"),
        pytest.param(lambda v: v.uns.__delitem__("nested"), id="uns_del"),
        pytest.param(lambda v: v.uns.pop("nested"), id="uns_pop"),
        pytest.param(lambda v: v.uns.update(new=1), id="uns_update"),
        pytest.param(lambda v: v.uns["nested"].__setitem__("k", 2), id="uns_nested"),
    ],
)
def test_modifying_view_warns_and_copies(adata, mutate):
    before = adata.copy()
    before_uns_nested = dict(adata.uns["nested"])
    v = adata[:2]
    with pytest.warns(W, match="view"):
        mutate(v)
    _check_actualized(v, before, adata)
    assert adata.uns["nested"] == before_uns_nested
    assert list(adata.uns) == ["g_colors", "nested"]


def test_modification_applied_to_new_copy(adata):
    v = adata[:2]
    with pytest.warns(W, match=r"Trying to modify attribute `\.obs` of view, initializing view as actual\."):
        v.obs["new"] = 7
    assert v.obs["new"].tolist() == [7, 7]
    assert "new" not in adata.obs
    v = adata[:2]
    with pytest.warns(W):
        v.X[0, 0] = 99.0
    assert v.X[0, 0] == 99.0 and adata.X[0, 0] == 0.0
    v = adata[:2]
    with pytest.warns(W, match=r"Setting element `\.obsm\['new'\]` of view"):
        v.obsm["new"] = np.zeros((2, 1))
    assert "new" in v.obsm and "new" not in adata.obsm


def test_view_setters(adata):
    for setter in (
        lambda v: setattr(v, "obs_names", ["p", "q"]),
        lambda v: setattr(v, "obs", pd.DataFrame(index=["p", "q"])),
        lambda v: setattr(v, "uns", {"u": 1}),
        lambda v: setattr(v, "obsm", {}),
        lambda v: setattr(v, "raw", v),
    ):
        v = adata[:2]
        setter(v)
        assert not v.is_view
    assert adata.obs_names.tolist() == ["c0", "c1", "c2"]
    assert list(adata.uns) == ["g_colors", "nested"] and list(adata.obsm) == ["pca"]


def test_view_validates_before_copying(adata):
    v = adata[:2]
    with pytest.raises(ValueError, match="incorrect shape"):
        v.obsm["bad"] = np.zeros((3, 1))
    assert v.is_view


def test_view_delitem_missing_key(adata):
    with pytest.raises(KeyError, match="not found in view of obsm"):
        del adata[:2].obsm["nope"]


def test_copy_of_view_is_actual(adata):
    c = adata[[0, 2], 1:].copy()
    assert not c.is_view
    assert type(c.X) is np.ndarray and type(c.obs) is pd.DataFrame
    assert type(c.obsm["pca"]) is np.ndarray
    c.obs["z"] = 1  # no warning
    assert "z" not in adata.obs


def test_unused_categories_and_colors(adata):
    v = adata[[0, 2]]
    assert v.obs["g"].cat.categories.tolist() == ["a"]
    assert list(v.uns["g_colors"]) == ["red"]
    assert adata.uns["g_colors"] == ["red", "blue"]
    assert adata.obs["g"].cat.categories.tolist() == ["a", "b"]
    with ad.settings.override(remove_unused_categories=False):
        v = adata[[0, 2]]
        assert v.obs["g"].cat.categories.tolist() == ["a", "b"]
        assert list(v.uns["g_colors"]) == ["red", "blue"]


def test_mismatched_colors_dropped(adata):
    adata.uns["g_colors"] = ["red", "blue", "green"]
    assert "g_colors" not in adata[[0]].uns
    adata.uns["g_colors"] = "red"
    assert list(adata[[0]].uns["g_colors"]) == ["red"]


def test_view_X_none():
    assert ad.AnnData(shape=(3, 2))[:2].X is None


def test_sparse_view_types():
    a = ad.AnnData(sparse.csr_matrix(np.eye(3)))
    v = a[:2]
    assert type(v.X).__name__ == "SparseCSRMatrixView"
    assert type(v.X.copy()) is sparse.csr_matrix
    a2 = ad.AnnData(sparse.csc_array(np.eye(3)))
    assert type(a2[:2].X.copy()) is sparse.csc_array
    with pytest.warns(W):
        v.X[0, 0] = 5
    assert not v.is_view and a.X[0, 0] == 1


def test_array_view_ufunc_returns_plain(adata):
    v = adata[:2]
    out = v.X + 1
    assert type(out) is np.ndarray
    assert type(v.X.copy()) is np.ndarray


def test_dataframe_in_obsm_becomes_view(adata):
    adata.obsm["df"] = pd.DataFrame({"u": [1, 2, 3]}, index=adata.obs_names)
    v = adata[[0, 1]]
    assert isinstance(v.obsm["df"], DataFrameView)
    assert v.obsm["df"].index.tolist() == ["c0", "c1"]


def test_inplace_ufunc_on_view_X_stores_plain_array():
    a = ad.AnnData(np.arange(8.0).reshape(4, 2))
    v = a[:2]
    with pytest.warns(ad.ImplicitModificationWarning, match=r"Setting element `\.X` of view"):
        v.X += 1
    assert not v.is_view and type(v.X) is np.ndarray
    np.testing.assert_array_equal(v.X, [[1.0, 2.0], [3.0, 4.0]])


def test_dask_element_of_view_actualises_on_write():
    da = pytest.importorskip("dask.array")
    a = ad.AnnData(np.zeros((6, 4)), obsm={"m": da.zeros((6, 3), chunks=2)})
    v = a[:3]
    m = v.obsm["m"]
    assert isinstance(m, da.Array)
    with pytest.warns(ad.ImplicitModificationWarning, match=r"\.obsm"):
        m[0, 0] = 100
    assert not v.is_view
    assert v.obsm["m"][0, 0].compute() == 100
    assert a.obsm["m"][0, 0].compute() == 0  # the parent is untouched


def test_index_by_non_string_names():
    ad.settings.restrict_index_types = False
    try:
        mi = pd.MultiIndex.from_tuples([("a", 1), ("b", 2), ("c", 3)])
        a = ad.AnnData(pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=mi))
        assert a[pd.MultiIndex.from_tuples([("b", 2)])].obs_names.tolist() == [("b", 2)]
        ts = pd.Index(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]))
        b = ad.AnnData(np.ones((3, 2)), obs=pd.DataFrame(index=ts))
        assert b[ts[1:]].n_obs == 2
    finally:
        ad.settings.reset("restrict_index_types")

"""Construction of AnnData: inputs, validation, index coercion, repr."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore.errors import ShapeMismatchError


def test_from_numpy_default_names():
    a = ad.AnnData(np.ones((3, 4)))
    assert a.shape == (3, 4) and a.n_obs == 3 and a.n_vars == 4 and len(a) == 3
    assert a.obs_names.tolist() == ["0", "1", "2"]
    assert a.var_names.tolist() == ["0", "1", "2", "3"]
    assert not a.is_view and not a.isbacked and a.filename is None


@pytest.mark.parametrize(
    "mk", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.csc_array], ids=lambda f: f.__name__
)
def test_from_sparse_keeps_type(mk):
    X = mk(np.eye(3))
    a = ad.AnnData(X)
    assert type(a.X) is type(X)
    assert a.shape == (3, 3)


def test_non_csr_csc_sparse_rejected():
    with pytest.raises(ValueError, match="Only CSR and CSC matrices"):
        ad.AnnData(sparse.coo_matrix(np.eye(2)))
    with pytest.raises(ValueError, match="Only CSR and CSC arrays"):
        ad.AnnData(sparse.coo_array(np.eye(2)))


def test_list_X_rejected():
    with pytest.raises(ValueError, match="<class 'list'>"):
        ad.AnnData([[1, 2], [3, 4]])


def test_1d_X_rejected():
    with pytest.raises(ValueError, match="2-dimensional"):
        ad.AnnData(np.ones(3))


def test_matrix_X_converted_with_warning():
    with pytest.warns(ad.ImplicitModificationWarning, match="np.matrix"):
        a = ad.AnnData(np.matrix(np.ones((2, 2))))
    assert type(a.X) is np.ndarray


def test_from_dataframe_takes_names():
    df = pd.DataFrame({"c1": [1.0, 2.0], "c2": [3.0, 4.0]}, index=["r1", "r2"])
    a = ad.AnnData(df)
    assert a.obs_names.tolist() == ["r1", "r2"]
    assert a.var_names.tolist() == ["c1", "c2"]
    assert type(a.X) is np.ndarray
    np.testing.assert_array_equal(a.X, [[1, 3], [2, 4]])


def test_from_mixed_dataframe_warns():
    with pytest.warns(UserWarning, match="converted to numpy array with dtype float64"):
        a = ad.AnnData(pd.DataFrame({"c1": [1, 2], "c2": [3.0, 4.0]}))
    assert a.X.dtype == np.float64


def test_dataframe_index_must_match_obs():
    df = pd.DataFrame({"c1": [1.0, 2.0]}, index=["r1", "r2"])
    with pytest.raises(ValueError, match="Index of obs must match index of X"):
        ad.AnnData(df, obs=pd.DataFrame(index=["r1", "r3"]))


def test_obs_var_from_dicts():
    a = ad.AnnData(np.ones((2, 3)), obs={"a": [1, 2]}, var={"var_names": ["x", "y", "z"], "b": [1, 2, 3]})
    assert a.obs["a"].tolist() == [1, 2]
    assert a.obs_names.tolist() == ["0", "1"]
    assert a.var_names.tolist() == ["x", "y", "z"]
    assert list(a.var.columns) == ["b"]


def test_shape_only():
    a = ad.AnnData(shape=(2, 3))
    assert a.shape == (2, 3)
    assert a.X is None
    assert a.var_names.tolist() == ["0", "1", "2"]


def test_shape_with_X_rejected():
    with pytest.raises(ValueError, match="`shape` needs to be `None`"):
        ad.AnnData(np.ones((2, 2)), shape=(2, 2))


def test_shape_inferred_from_obs():
    assert ad.AnnData(obs={"a": [1, 2, 3]}).shape == (3, 0)
    assert ad.AnnData(obsm={"p": np.ones((4, 2))}, layers={"l": np.ones((4, 5))}).shape == (4, 5)


def test_obs_length_mismatch_names_element_and_sizes():
    with pytest.raises(ShapeMismatchError, match=r"`obs` must have as many rows as `X` has rows \(3\), but has 2 rows") as e:
        ad.AnnData(np.ones((3, 4)), obs=pd.DataFrame(index=["a", "b"]))
    assert isinstance(e.value, ValueError)
    with pytest.raises(ShapeMismatchError, match=r"`var` must have as many rows as `X` has columns \(4\), but has 1 rows"):
        ad.AnnData(np.ones((3, 4)), var=pd.DataFrame(index=["a"]))
    with pytest.raises(ShapeMismatchError, match=r"`shape` is inconsistent with `obs`"):
        ad.AnnData(shape=(3, 1), obs=pd.DataFrame(index=["a"]))


def test_series_obs_rejected():
    with pytest.raises(ValueError, match="Cannot convert"):
        ad.AnnData(np.ones((2, 2)), obs=pd.Series([1, 2]))


def test_int_index_coerced_with_warning():
    with pytest.warns(ad.ImplicitModificationWarning, match="Transforming to str index"):
        a = ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=[1, 2]))
    assert a.obs_names.tolist() == ["1", "2"]
    assert all(isinstance(n, str) for n in a.obs_names)


def test_multiindex_rejected():
    mi = pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])
    with pytest.raises(ValueError, match="MultiIndex"):
        ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=mi))
    with pytest.raises(ValueError, match="MultiIndex columns"):
        ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(np.ones((2, 2)), columns=mi))


def test_non_unique_names_warn_and_setting_toggles():
    with pytest.warns(UserWarning, match="Observation names are not unique"):
        ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=["a", "a"]))
    with pytest.warns(UserWarning, match="Variable names are not unique"):
        ad.AnnData(np.ones((2, 2)), var=pd.DataFrame(index=["a", "a"]))
    with ad.settings.override(check_uniqueness=False), warnings.catch_warnings():
        warnings.simplefilter("error")
        ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=["a", "a"]))


def test_structured_array_obsm():
    rec = np.array([(1, 2.0), (3, 4.0)], dtype=[("a", int), ("b", float)])
    a = ad.AnnData(np.ones((2, 1)), obsm=rec)
    assert list(a.obsm) == ["a", "b"]
    assert a.obsm["a"].shape == (2, 1)


def test_plain_array_obsm_rejected():
    with pytest.raises(TypeError, match="compound dtypes"):
        ad.AnnData(np.ones((2, 1)), obsm=np.ones((2, 2)))


def test_layers_none_is_X():
    X = np.ones((2, 2))
    a = ad.AnnData(layers={None: X, "l": np.zeros((2, 2))})
    assert a.X is X
    with pytest.raises(ValueError, match="must be identical"):
        ad.AnnData(np.zeros((2, 2)), layers={None: X})


def test_from_anndata():
    src = ad.AnnData(np.ones((2, 2)), obs={"a": [1, 2]})
    a = ad.AnnData(src)
    assert a.obs["a"].tolist() == [1, 2] and a.shape == (2, 2)
    with pytest.raises(ValueError, match="no further arguments"):
        ad.AnnData(src, obs={"a": [1, 2]})


def test_view_constructor_requires_anndata():
    with pytest.raises(ValueError, match="has to be an AnnData"):
        ad.AnnData(np.ones((2, 2)), asview=True, oidx=slice(None), vidx=slice(None))


def test_uns_kept_by_reference_and_validated():
    uns = {"a": 1}
    a = ad.AnnData(np.ones((1, 1)), uns=uns)
    assert a.uns is uns
    with pytest.raises(ValueError, match="mutable mapping"):
        a.uns = [1]
    assert type(ad.AnnData(np.ones((1, 1))).uns).__name__ == "OrderedDict"


def test_repr(adata):
    assert repr(adata) == (
        "AnnData object with n_obs × n_vars = 3 × 4\n"
        "    obs: 'g', 'n'\n"
        "    var: 'kind'\n"
        "    uns: 'g_colors', 'nested'\n"
        "    obsm: 'pca'\n"
        "    varm: 'load'\n"
        "    obsp: 'dist'\n"
        "    layers: 'counts', None (.X)"
    )
    assert repr(ad.AnnData(shape=(2, 1))) == "AnnData object with n_obs × n_vars = 2 × 1"
    assert repr(adata[:2, :1]).startswith("View of AnnData object with n_obs × n_vars = 2 × 1\n")


def test_eq_and_contains_raise(adata):
    with pytest.raises(NotImplementedError, match="Equality comparisons are not supported"):
        adata == adata  # noqa: B015
    with pytest.raises(TypeError, match="not a valid reference"):
        "g" in adata  # noqa: B015


def test_filename_without_backed_module_is_capability_error(tmp_path, monkeypatch):
    import sys

    from annstore import _backing

    monkeypatch.setattr(_backing, "_provider", None)  # as if annstore.backed never registered
    monkeypatch.setitem(sys.modules, "annstore.backed", None)
    with pytest.raises(ad.errors.CapabilityError, match=r"annstore\.backed.*loading it failed"):
        ad.AnnData(np.ones((2, 2)), filename=tmp_path / "x.h5ad")


def test_old_uns_neighbors_moved_to_obsp():
    d = sparse.csr_matrix(np.eye(3))
    uns = {"neighbors": {"distances": d, "connectivities": np.eye(3) * 2, "params": {"k": 1}}}
    with pytest.warns(FutureWarning, match=r"Moving element from \.uns\['neighbors'\]\['distances'\]"):
        a = ad.AnnData(np.ones((3, 2)), uns=uns)
    assert set(a.obsp) == {"distances", "connectivities"}
    assert a.obsp["distances"] is d
    assert list(a.uns["neighbors"]) == ["params"]
    assert list(uns["neighbors"]) == ["params"]  # uns is kept by reference, as in anndata


def test_old_uns_neighbors_sparse_array_and_1d_stay():
    uns = {"neighbors": {"distances": sparse.csr_array(np.eye(3)), "connectivities": np.arange(3)}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ad.AnnData(np.ones((3, 2)), uns=uns)
    assert not a.obsp and set(a.uns["neighbors"]) == {"distances", "connectivities"}


def test_old_uns_neighbors_wrong_shape_rejected():
    with pytest.warns(FutureWarning), pytest.raises(ShapeMismatchError):
        ad.AnnData(np.ones((3, 2)), uns={"neighbors": {"distances": np.eye(2)}})


def test_old_multicol_keys_moved_to_obsm_varm():
    obs = pd.DataFrame({"X_pca1": [1.0, 2.0], "X_pca2": [3.0, 4.0], "keep": [0, 1]}, index=["a", "b"])
    var = pd.DataFrame({"q_x": [5.0, 6.0]}, index=["u", "v"])
    a = ad.AnnData(np.ones((2, 2)), obs=obs, var=var, uns={"smp_keys_multicol": ["X_pca"], "_var_keys_multicol": ["q"]})
    assert list(a.obs.columns) == ["keep"] and list(obs.columns) == ["X_pca1", "X_pca2", "keep"]
    np.testing.assert_array_equal(a.obsm["X_pca"], [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(a.varm["q"], [[5.0], [6.0]])
    assert len(a.uns) == 0


def test_empty_uns_replaced_by_fresh_ordereddict():
    from collections import OrderedDict

    uns: dict = {}
    a = ad.AnnData(np.ones((2, 2)), uns=uns)
    assert a.uns is not uns and type(a.uns) is OrderedDict
    full = {"k": 1}
    assert ad.AnnData(np.ones((2, 2)), uns=full).uns is full


def test_multiindex_obs_message_names_the_opt_out():
    obs = pd.DataFrame({"k": [1, 2]}, index=pd.MultiIndex.from_arrays([["a", "b"], ["x", "y"]]))
    with pytest.raises(ValueError, match="restrict_index_types"):
        ad.AnnData(np.ones((2, 2)), obs=obs)

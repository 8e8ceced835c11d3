"""AnnData methods: aligned mappings, names, X, raw, copies, conversions, IO delegation."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore.errors import ShapeMismatchError

# --- aligned mappings -----------------------------------------------------------------------


def test_obsm_shape_error_names_key_and_shapes(adata):
    with pytest.raises(ShapeMismatchError, match=r"key 'bad'.*obsm.*\(4,\).*\(3,\)"):
        adata.obsm["bad"] = np.ones((4, 2))
    with pytest.raises(ShapeMismatchError, match=r"obsp.*\(3, 2\).*\(3, 3\)"):
        adata.obsp["bad"] = np.ones((3, 2))
    with pytest.raises(ShapeMismatchError, match=r"layers.*\(3, 3\).*\(3, 4\)"):
        adata.layers["bad"] = np.ones((3, 3))
    with pytest.raises(ShapeMismatchError, match=r"varm"):
        adata.varm["bad"] = np.ones((3, 1))


def test_obsm_rejects_lists(adata):
    with pytest.raises(ValueError, match="<class 'list'>"):
        adata.obsm["l"] = [[1], [2], [3]]


def test_1d_obsm_reshaped(adata):
    adata.obsm["o"] = np.arange(3)
    assert adata.obsm["o"].shape == (3, 1)


def test_obsm_dataframe_index_checked(adata):
    with pytest.raises(ValueError, match="does not match parent’s obs names"):
        adata.obsm["df"] = pd.DataFrame({"u": [1, 2, 3]}, index=list("abc"))
    df = pd.DataFrame({"u": [1, 2, 3]}, index=adata.obs_names)
    adata.obsm["df"] = df
    assert adata.obsm["df"] is df
    with pytest.raises(ValueError, match="MultiIndex columns"):
        adata.obsm["mi"] = pd.DataFrame(np.ones((3, 2)), index=adata.obs_names, columns=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]))


def test_layers_dataframe_converted(adata):
    adata.layers["df"] = pd.DataFrame(np.ones((3, 4)))
    assert type(adata.layers["df"]) is np.ndarray


def test_mapping_api(adata):
    assert list(adata.obsm.keys()) == ["pca"]
    assert "pca" in adata.obsm and "nope" not in adata.obsm
    assert len(adata.obsm) == 1
    assert dict(adata.obsm.items()).keys() == {"pca"}
    assert adata.obsm.to_dict()["pca"] is adata.obsm["pca"]
    c = adata.obsm.copy()
    assert type(c) is dict and c["pca"] is not adata.obsm["pca"]
    np.testing.assert_array_equal(c["pca"], adata.obsm["pca"])
    del adata.obsm["pca"]
    assert "pca" not in adata.obsm
    with pytest.raises(KeyError, match="nope"):
        del adata.obsm["nope"]
    assert repr(adata.varm) == "AxisArrays with keys: 'load'"
    assert repr(adata.obsp) == "PairwiseArrays with keys: 'dist'"
    assert repr(adata.layers) == "Layers with keys: 'counts', None"


def test_obsm_to_df(adata):
    df = adata.obsm.to_df()
    assert list(df.columns) == ["pca1", "pca2"]
    assert df.index.tolist() == ["c0", "c1", "c2"]


def test_layers_and_X(adata):
    assert list(adata.layers) == ["counts", None]
    assert adata.layers[None] is adata.X
    assert bool(adata.layers)
    assert not bool(ad.AnnData(np.ones((1, 1))).layers)
    with pytest.warns(FutureWarning, match="preserves `.X`"):
        adata.layers = {"q": np.ones((3, 4))}
    assert list(adata.layers) == ["q", None]
    adata.layers = {"q": np.ones((3, 4)), None: None}
    assert adata.X is None and list(adata.layers) == ["q"]


def test_layers_clear_and_del(adata):
    with pytest.warns(FutureWarning, match="keep_x"):
        adata.layers.clear()
    assert list(adata.layers) == [None]
    adata.layers["a"] = np.ones((3, 4))
    with pytest.warns(FutureWarning, match="del adata.layers"):
        del adata.layers
    assert list(adata.layers) == [None]
    adata.layers.clear(keep_x=False)
    assert adata.X is None


def test_aligned_assignment_replaces(adata):
    adata.obsm = {"a": np.ones((3, 1))}
    assert list(adata.obsm) == ["a"]
    with pytest.raises(ShapeMismatchError):
        adata.obsm = {"a": np.ones((2, 1))}
    assert list(adata.obsm) == ["a"]
    del adata.obsm
    assert len(adata.obsm) == 0


# --- names ---------------------------------------------------------------------------------


def test_names_setters(adata):
    adata.obsm["df"] = pd.DataFrame({"u": [1, 2, 3]}, index=adata.obs_names)
    adata.obs_names = ["a", "b", "c"]
    assert adata.obs.index.tolist() == ["a", "b", "c"]
    assert adata.obsm["df"].index.tolist() == ["a", "b", "c"]
    with pytest.raises(ShapeMismatchError, match=r"Length of passed value for obs_names is 1.*\(3, 4\)"):
        adata.obs_names = ["a"]
    with pytest.raises(ValueError, match="Length of passed value for var_names is 2"):
        adata.var_names = ["a", "b"]
    with pytest.warns(UserWarning, match="to contain strings"):
        adata.var_names = pd.Index([1, 2, 3, 4])


def test_make_unique():
    a = ad.AnnData(np.ones((5, 1)), obs=pd.DataFrame(index=["a", "a", "b", "a-1", "a"]), var=pd.DataFrame(index=["x"]))
    with pytest.warns(UserWarning, match="Suffix used"):
        a.obs_names_make_unique()
    assert a.obs_names.tolist() == ["a", "a-2", "b", "a-1", "a-3"]
    b = ad.AnnData(np.ones((1, 3)), var=pd.DataFrame(index=["g", "g", "g"]))
    b.var_names_make_unique(join="_")
    assert b.var_names.tolist() == ["g", "g_1", "g_2"]


def test_obs_var_setters(adata):
    adata.obs = pd.DataFrame({"z": [1, 2, 3]}, index=list("pqr"))
    assert adata.obs_names.tolist() == ["p", "q", "r"]
    with pytest.raises(ShapeMismatchError, match="`obs`"):
        adata.obs = pd.DataFrame(index=["a"])
    del adata.var
    assert adata.var.shape == (4, 0) and adata.var_names.tolist() == ["w", "x", "y", "z"]


def test_keys_methods_warn_deprecated(adata):
    with pytest.warns(FutureWarning, match="obs_keys is deprecated"):
        assert adata.obs_keys() == ["g", "n"]
    with pytest.warns(FutureWarning):
        assert adata.var_keys() == ["kind"]
    with pytest.warns(FutureWarning):
        assert adata.obsm_keys() == ["pca"]
    with pytest.warns(FutureWarning):
        assert adata.varm_keys() == ["load"]
    with pytest.warns(FutureWarning):
        assert adata.uns_keys() == ["g_colors", "nested"]


# --- X ----------------------------------------------------------------------------------------


def test_X_setter(adata):
    with pytest.raises(ShapeMismatchError, match=r"wrong shape \(2, 2\), need to be \(3, 4\)"):
        adata.X = np.ones((2, 2))
    adata.X = sparse.csr_matrix(np.ones((3, 4)))
    assert sparse.issparse(adata.X)
    adata.X = [[1] * 4] * 3
    assert type(adata.X) is np.ndarray
    with pytest.warns(FutureWarning, match="scalar"):
        adata.X = 2.0
    assert (adata.X == 2.0).all()
    del adata.X
    assert adata.X is None


def test_X_reshape_single_row():
    a = ad.AnnData(np.ones((1, 4)))
    with pytest.warns(FutureWarning, match="Automatic reshaping"):
        a.X = np.zeros(4)
    assert a.X.shape == (1, 4)


def test_X_dask_kept():
    da = pytest.importorskip("dask.array")
    x = da.ones((4, 3), chunks=2)
    a = ad.AnnData(x)
    assert type(a.X) is type(x)
    v = a[[0, 2], 1:]
    assert v.X.compute().shape == (2, 2)
    assert a.to_memory().X.__class__ is np.ndarray


# --- raw ---------------------------------------------------------------------------------


def test_raw(adata):
    adata.raw = adata
    assert adata.raw.shape == (3, 4)
    assert adata.raw.X is adata.X  # as in anndata, `adata.raw = adata` shares X
    np.testing.assert_array_equal(adata.raw.X, adata.X)
    assert list(adata.raw.varm) == ["load"]
    assert repr(adata.raw) == "Raw AnnData with n_obs × n_vars = 3 × 4\n    var: 'kind'\n    varm: 'load'"
    sub = adata[:, ["x", "y"]].copy()
    assert sub.raw.shape == (3, 4)
    assert sub.raw.var_names.tolist() == ["w", "x", "y", "z"]
    v = adata[[0, 2], :2]
    assert v.raw.shape == (2, 4)
    np.testing.assert_array_equal(v.raw.X, adata.X[[0, 2]])
    r = adata.raw[:, ["z", "x"]]
    assert r.var_names.tolist() == ["z", "x"] and r.varm["load"].shape == (2, 2)
    np.testing.assert_array_equal(r.X, adata.X[:, [3, 1]])
    assert adata.raw[:, 1].shape == (3, 1)
    np.testing.assert_array_equal(adata.raw.obs_vector("x"), adata.X[:, 1])
    np.testing.assert_array_equal(adata.raw.var_vector("c1"), adata.X[1])
    full = adata.raw.to_adata()
    assert full.shape == (3, 4) and list(full.obs) == ["g", "n"] and full.raw is None
    c = adata.copy()
    assert c.raw.X is not adata.raw.X
    del c.raw
    assert c.raw is None and adata.raw is not None
    adata.raw = None
    assert adata.raw is None


def test_raw_errors(adata):
    with pytest.raises(ValueError, match="Can only init raw attribute with an AnnData"):
        adata.raw = 5
    with pytest.raises(ShapeMismatchError, match="X has 2 rows, but n_obs is 3"):
        ad.Raw(adata, X=np.ones((2, 2)))
    adata.raw = adata
    with pytest.raises(IndexError, match="3-dimensional"):
        adata.raw[0, 0, 0]


def test_raw_from_raw(adata):
    adata.raw = adata
    b = ad.AnnData(np.zeros((3, 1)), obs=adata.obs, raw=adata.raw)
    assert b.raw.shape == (3, 4)
    b2 = ad.AnnData(np.zeros((3, 1)), raw={"X": np.ones((3, 2)), "var": pd.DataFrame(index=["a", "b"])})
    assert b2.raw.var_names.tolist() == ["a", "b"]


# --- copies and conversions -----------------------------------------------------------------


def test_copy_deep(adata):
    c = adata.copy()
    c.uns["nested"]["k"] = 99
    c.X[0, 0] = 99
    c.obsm["pca"][0, 0] = 99
    c.obs.loc["c0", "n"] = 99
    assert adata.uns["nested"]["k"] == 1 and adata.X[0, 0] == 0 and adata.obsm["pca"][0, 0] == 0
    assert adata.obs.loc["c0", "n"] == 1


def test_to_memory(adata):
    m = adata[:2].to_memory()
    assert not m.is_view and type(m.X) is np.ndarray and m.shape == (2, 4)


def test_transpose(adata):
    t = adata.T
    assert t.shape == (4, 3)
    assert t.obs_names.tolist() == ["w", "x", "y", "z"]
    assert list(t.obsm) == ["load"] and list(t.varm) == ["pca"] and list(t.varp) == ["dist"]
    np.testing.assert_array_equal(t.X, adata.X.T)
    np.testing.assert_array_equal(t.layers["counts"], adata.layers["counts"].T)
    with pytest.raises(ValueError, match="transpose a view"):
        adata[:1].T  # noqa: B018


def test_to_df(adata):
    df = adata.to_df()
    assert df.index.tolist() == ["c0", "c1", "c2"] and df.columns.tolist() == ["w", "x", "y", "z"]
    assert adata.to_df(layer="counts").iloc[1, 1] == 50
    s = ad.AnnData(sparse.csr_matrix(np.eye(2)))
    assert s.to_df().to_numpy().tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match="X is None"):
        ad.AnnData(shape=(1, 1)).to_df()


def test_vectors(adata):
    assert adata.obs_vector("x").tolist() == [1.0, 5.0, 9.0]
    assert adata.obs_vector("n").tolist() == [1, 2, 3]
    assert adata.var_vector("c1").tolist() == [4.0, 5.0, 6.0, 7.0]
    assert adata.obs_vector("x", layer="counts").tolist() == [10, 50, 90]
    with pytest.raises(KeyError, match="Could not find key nope"):
        adata.obs_vector("nope")
    both = ad.AnnData(np.ones((1, 1)), obs={"x": [1]}, var=pd.DataFrame(index=["x"]))
    with pytest.raises(ValueError, match="could be found in both"):
        both.obs_vector("x")


def test_chunks(adata):
    assert [(c.shape, s, e) for c, s, e in adata.chunked_X(2)] == [((2, 4), 0, 2), ((1, 4), 2, 3)]
    assert adata.chunk_X([2, 0]).tolist() == [adata.X[2].tolist(), adata.X[0].tolist()]
    assert adata.chunk_X(2).shape == (2, 4)
    assert adata.chunk_X(10, replace=False).shape == (3, 4)
    with pytest.raises(ValueError, match="select should be int or array"):
        adata.chunk_X(1.5)


def test_strings_to_categoricals_and_rename(adata):
    adata.obs["s"] = ["u", "v", "u"]
    adata.obs["t"] = ["a10", "a2", "a10"]
    adata.obs["uniq"] = ["p", "q", "r"]
    adata.strings_to_categoricals()
    assert isinstance(adata.obs["s"].dtype, pd.CategoricalDtype)
    assert adata.obs["t"].cat.categories.tolist() == ["a2", "a10"]
    assert not isinstance(adata.obs["uniq"].dtype, pd.CategoricalDtype)
    assert isinstance(adata.var["kind"].dtype, pd.CategoricalDtype)
    adata.rename_categories("s", ["U", "V"])
    assert adata.obs["s"].tolist() == ["U", "V", "U"]
    with pytest.raises(ValueError, match="neither in `.obs` nor in `.var`"):
        adata.rename_categories("zz", ["a"])
    with pytest.raises(ValueError, match="list-like"):
        adata.rename_categories("s", {"U": "x"})


def test_delitem(adata):
    del adata[:, "x"]
    assert adata.var_names.tolist() == ["w", "y", "z"] and not adata.is_view
    del adata[[0]]
    assert adata.obs_names.tolist() == ["c1", "c2"]
    with pytest.raises(IndexError, match="whole observations"):
        del adata[0, 0]


# --- IO delegation ------------------------------------------------------------------------


def test_write_delegates(adata, monkeypatch, tmp_path):
    import annstore.io as aio

    calls = []
    monkeypatch.setattr(aio, "write_h5ad", lambda *a, **k: calls.append(("h5ad", a, k)), raising=False)
    monkeypatch.setattr(aio, "write_zarr", lambda *a, **k: calls.append(("zarr", a, k)), raising=False)
    monkeypatch.setattr(aio, "write_loom", lambda *a, **k: calls.append(("loom", a, k)), raising=False)
    monkeypatch.setattr(aio, "write_csvs", lambda *a, **k: calls.append(("csvs", a, k)), raising=False)
    adata.write_h5ad(tmp_path / "a.h5ad", compression="gzip")
    adata.write(tmp_path / "b.h5ad")
    adata.write_zarr(tmp_path / "a.zarr", chunks=(1, 1))
    adata.write_loom(tmp_path / "a.loom", write_obsm_varm=True)
    adata.write_csvs(tmp_path / "d", skip_data=False, sep="\t")
    assert [c[0] for c in calls] == ["h5ad", "h5ad", "zarr", "loom", "csvs"]
    assert calls[0][1][1] is adata and calls[0][2]["compression"] == "gzip"
    assert calls[2][2]["chunks"] == (1, 1)
    assert calls[3][2] == {"write_obsm_varm": True}
    assert calls[4][2] == {"skip_data": False, "sep": "\t"}
    with pytest.raises(ValueError, match="Provide a filename"):
        adata.write_h5ad()
    with pytest.raises(ValueError, match="no longer supported"):
        adata.write_zarr(tmp_path / "x.zarr", chunks=True)


# --- import cost ------------------------------------------------------------------------------


def test_import_loads_no_storage_library():
    code = (
        "import sys, annstore, numpy as np\n"
        "a = annstore.AnnData(np.ones((3, 2)))\n"
        "v = a[:2]; v.obs['x'] = 1\n"
        "bad = sorted(m for m in ('h5py', 'zarr', 'loompy', 'dask', 'torch') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    with warnings.catch_warnings():
        out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    culprits = out.stdout.strip()
    assert culprits == "", f"`import annstore` imported: {culprits}"


def test_vectors_of_columns_are_the_backing_arrays():
    obs = pd.DataFrame({"c": pd.Categorical(list("aba")), "i": [1, 2, 3], "n": pd.array([1, None, 3], dtype="Int64")},
                       index=list("pqr"))
    a = ad.AnnData(np.arange(6.0).reshape(3, 2), obs=obs)
    assert isinstance(a.obs_vector("c"), pd.Categorical)
    assert isinstance(a.obs_vector("i"), pd.arrays.NumpyExtensionArray)
    assert isinstance(a.obs_vector("n"), pd.arrays.IntegerArray)
    assert type(a.obs_vector("1")) is np.ndarray
    np.testing.assert_array_equal(a.var_vector("q"), [2.0, 3.0])


def test_view_uns_copy_is_shallow_like_dict_copy():
    a = ad.AnnData(np.ones((3, 2)), uns={"nested": {"a": 1}})
    u = a[:2].uns.copy()
    assert type(u) is dict
    u["top"] = 1
    assert "top" not in a.uns
    assert u["nested"] is a.uns["nested"]


def test_concat_keeps_layer_order_with_X():
    X = np.ones((2, 2))
    a = ad.AnnData(X, layers={"x": X, "y": X})
    b = ad.AnnData(layers={"x": X, None: X, "y": X})
    assert list(ad.concat([a, a]).layers) == ["x", "y", None]
    assert list(ad.concat([b, b]).layers) == ["x", None, "y"]
    c = b.copy()
    del c.layers["x"]
    assert list(ad.concat([b, c]).layers) == [None, "y"]
    assert list(ad.concat([b, c], join="outer").layers) == ["x", None, "y"]


def test_make_unique_reinfers_dtype_like_anndata():
    with pytest.warns(UserWarning, match="not unique"):
        a = ad.AnnData(np.ones((4, 2)), obs=pd.DataFrame(index=pd.Index(["a", None, "a", None], dtype=object)))
    a.obs_names_make_unique()
    assert a.obs_names[0] == "a" and a.obs_names[2] == "a-1"
    assert a.obs_names.dtype == pd.Index(["x"]).dtype and a.obs_names.isna().tolist() == [False, True, False, True]


def test_sizeof_stratified(capsys):
    a = ad.AnnData(np.ones((10, 4)), uns={"u": np.arange(5)})
    a.raw = a.copy()
    total = a.__sizeof__(show_stratified=True)
    out = capsys.readouterr().out
    assert total > 0
    assert "Size of layers" in out and "Size of uns" in out and "Size of raw" in out
    assert "Size of obsm" not in out  # empty elements are not listed


def test_copy_and_transpose_refuse_raw_disk_arrays(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["X"] = np.ones((3, 2))
        a = ad.AnnData(layers={"d": f["X"]})
        with pytest.raises(NotImplementedError, match="Copy is not implemented"):
            a.copy()
        with pytest.raises(ValueError, match="Cannot transpose anndata object"):
            a.transpose()


def test_make_index_unique_keeps_string_dtype():
    from annstore.utils import make_index_unique

    idx = pd.Index(["a", "a", pd.NA, "a-1"], dtype="string")
    with pytest.warns(UserWarning, match="Suffix used"):
        out = make_index_unique(idx)
    assert out.dtype == "string"
    assert out[:2].tolist() == ["a", "a-2"]


def test_deprecated_names_redirect_with_future_warning():
    with pytest.warns(FutureWarning, match="Importing read_csv from `anndata` is deprecated"):
        assert ad.read_csv is ad.io.read_csv
    import annstore.experimental as exp

    with pytest.warns(FutureWarning, match="Importing read_elem from `anndata.experimental`"):
        assert exp.read_elem is ad.io.read_elem

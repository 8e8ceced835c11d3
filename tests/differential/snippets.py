"""The differential corpus: small anndata-API snippets, each recording a JSON summary of its result.

Every snippet is ``def name(ad, rec)``; ``ad`` is the library under test (``annstore`` or
``anndata``). Snippets must be deterministic and must not import either library.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from _harness import snippet
from scipy import sparse

# ----------------------------------------------------------------------------- fixtures


def _X(n: int = 6, m: int = 4, kind: str = "dense", dtype: Any = np.float32) -> Any:
    X = np.arange(n * m, dtype=dtype).reshape(n, m)
    X[::2, 1] = 0
    return {
        "dense": lambda: X,
        "csr": lambda: sparse.csr_matrix(X),
        "csc": lambda: sparse.csc_matrix(X),
        "csr_array": lambda: sparse.csr_array(X),
        "csc_array": lambda: sparse.csc_array(X),
    }[kind]()


def _obs(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cat": pd.Categorical(["a", "a", "b", "b", "c", "c"][:n]),
            "num": np.arange(n, dtype=float) / 2,
            "int": np.arange(n, dtype=np.int64),
            "s": [f"s{i % 3}" for i in range(n)],
            "flag": np.arange(n) % 2 == 0,
        },
        index=[f"c{i}" for i in range(n)],
    )


def _var(m: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {"g": pd.Categorical(["x", "y", "x", "z"][:m]), "hv": np.arange(m) % 2 == 1, "mean": np.linspace(0, 1, m)},
        index=[f"g{j}" for j in range(m)],
    )


def mk(ad: Any, kind: str = "dense", *, full: bool = True, n: int = 6, m: int = 4) -> Any:
    """A small AnnData with every slot filled."""
    X = _X(n, m, kind)
    if not full:
        return ad.AnnData(X, obs=_obs(n), var=_var(m))
    obs = _obs(n)
    return ad.AnnData(
        X,
        obs=obs,
        var=_var(m),
        uns={"title": "t", "cat_colors": np.array(["red", "green", "blue"]), "nested": {"a": 1, "b": {"c": np.arange(3)}}},
        obsm={"pca": np.arange(n * 2, dtype=float).reshape(n, 2),
              "df": pd.DataFrame({"u": np.arange(n), "v": list("pqrstu")[:n]}, index=obs.index)},
        varm={"load": np.arange(m * 3, dtype=float).reshape(m, 3)},
        obsp={"dist": sparse.csr_matrix(np.eye(n) * 2), "dense": np.ones((n, n))},
        varp={"corr": np.eye(m)},
        layers={"counts": _X(n, m, kind) * 2, "dense": np.ones((n, m), dtype=np.int32)},
    )


# ============================================================================= construct


@snippet
def construct_dense(ad, rec):
    rec["a"] = ad.AnnData(_X())


@snippet
def construct_csr_matrix(ad, rec):
    rec["a"] = ad.AnnData(_X(kind="csr"))


@snippet
def construct_csc_matrix(ad, rec):
    rec["a"] = ad.AnnData(_X(kind="csc"))


@snippet
def construct_csr_array(ad, rec):
    rec["a"] = ad.AnnData(_X(kind="csr_array"))


@snippet
def construct_csc_array(ad, rec):
    rec["a"] = ad.AnnData(_X(kind="csc_array"))


@snippet(expected_difference="reworded error message", error_type_only=True)
def construct_coo_rejected(ad, rec):
    rec["a"] = ad.AnnData(sparse.coo_matrix(_X()))


@snippet
def construct_int_X(ad, rec):
    rec["a"] = ad.AnnData(_X(dtype=np.int16))


@snippet
def construct_bool_X(ad, rec):
    rec["a"] = ad.AnnData(_X() > 5)


@snippet
def construct_full(ad, rec):
    rec["a"] = mk(ad)


@snippet
def construct_full_sparse(ad, rec):
    rec["a"] = mk(ad, "csr")


@snippet
def construct_dataframe_X(ad, rec):
    df = pd.DataFrame(_X(), index=[f"r{i}" for i in range(6)], columns=list("abcd"))
    rec["a"] = ad.AnnData(df)


@snippet
def construct_dataframe_X_mixed_dtypes(ad, rec):
    df = pd.DataFrame({"a": [1, 2], "b": [1.5, 2.5]}, index=["x", "y"])
    rec["a"] = ad.AnnData(df)


@snippet
def construct_dataframe_X_with_obs(ad, rec):
    df = pd.DataFrame(_X(), index=[f"c{i}" for i in range(6)], columns=list("abcd"))
    rec["a"] = ad.AnnData(df, obs=_obs())


@snippet(expected_difference="reworded error message", error_type_only=True)
def construct_dataframe_X_obs_mismatch(ad, rec):
    df = pd.DataFrame(_X(), index=[f"r{i}" for i in range(6)], columns=list("abcd"))
    rec["a"] = ad.AnnData(df, obs=_obs())


@snippet
def construct_dict_obs_var(ad, rec):
    rec["a"] = ad.AnnData(
        _X(3, 2), obs={"obs_names": ["a", "b", "c"], "k": [1, 2, 3]}, var={"var_names": ["u", "v"], "w": ["p", "q"]}
    )


@snippet
def construct_dict_obs_row_names(ad, rec):
    rec["a"] = ad.AnnData(_X(3, 2), obs={"row_names": ["a", "b", "c"]}, var={"col_names": ["u", "v"]})


@snippet
def construct_shape_only(ad, rec):
    rec["a"] = ad.AnnData(shape=(3, 2))


@snippet
def construct_empty(ad, rec):
    rec["a"] = ad.AnnData()


@snippet
def construct_obs_only(ad, rec):
    rec["a"] = ad.AnnData(obs=_obs())


@snippet
def construct_obs_var_only(ad, rec):
    rec["a"] = ad.AnnData(obs=_obs(), var=_var())


@snippet
def construct_int_index_obs(ad, rec):
    rec["a"] = ad.AnnData(_X(3, 2), obs=pd.DataFrame({"k": [1, 2, 3]}, index=[10, 20, 30]))


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def construct_obs_length_mismatch(ad, rec):
    rec["a"] = ad.AnnData(_X(), obs=_obs(5))


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def construct_var_length_mismatch(ad, rec):
    rec["a"] = ad.AnnData(_X(), var=_var(3))


@snippet(expected_difference="reworded error message", error_type_only=True)
def construct_X_1d(ad, rec):
    rec["a"] = ad.AnnData(np.arange(4.0))


@snippet
def construct_np_matrix(ad, rec):
    rec["a"] = ad.AnnData(np.asmatrix(_X()))


@snippet
def construct_layers_only(ad, rec):
    rec["a"] = ad.AnnData(layers={"L": _X()})


@snippet
def construct_layers_none_key(ad, rec):
    X = _X()
    rec["a"] = ad.AnnData(layers={"L": X * 2, None: X})


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def construct_obsm_wrong_shape(ad, rec):
    rec["a"] = ad.AnnData(_X(), obsm={"p": np.zeros((5, 2))})


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def construct_layer_wrong_shape(ad, rec):
    rec["a"] = ad.AnnData(_X(), layers={"p": np.zeros((6, 3))})


@snippet(expected_difference="reworded error message", error_type_only=True)
def construct_X_and_shape(ad, rec):
    rec["a"] = ad.AnnData(_X(), shape=(6, 4))


@snippet
def construct_from_adata(ad, rec):
    a = mk(ad)
    b = ad.AnnData(a)
    rec["b"] = b
    rec["same_X"] = b.X is a.X
    rec["same_obs"] = b.obs is a.obs


@snippet(expected_difference="AnnData(view) builds an actual AnnData (anndata 0.13.4 raises ValueError)",
         ignore=("__error__", "b"))
def construct_from_view(ad, rec):
    a = mk(ad)
    b = ad.AnnData(a[:3, 1:])
    rec["b"] = b


@snippet(expected_difference="reworded error message", error_type_only=True)
def construct_obsm_dataframe_index_mismatch(ad, rec):
    rec["a"] = rec.call("ctor", lambda: ad.AnnData(_X(), obs=_obs(), obsm={"d": pd.DataFrame({"u": range(6)})}))


@snippet
def construct_uns_neighbors_sparse(ad, rec):
    d = sparse.csr_matrix(np.eye(6))
    uns = {"neighbors": {"distances": d, "connectivities": d * 2, "params": {"k": 3}}}
    a = ad.AnnData(_X(), uns=uns)
    rec["a"] = a
    rec["caller_dict"] = sorted(uns["neighbors"])


@snippet
def construct_uns_neighbors_dense(ad, rec):
    uns = {"neighbors": {"distances": np.eye(6), "params": {}}}
    rec["a"] = ad.AnnData(_X(), uns=uns)


@snippet
def construct_uns_neighbors_sparray_kept(ad, rec):
    uns = {"neighbors": {"distances": sparse.csr_array(np.eye(6)), "connectivities": np.arange(6)}}
    rec["a"] = ad.AnnData(_X(), uns=uns)


@snippet
def construct_uns_neighbors_shape_only(ad, rec):
    uns = {"neighbors": {"connectivities": sparse.csr_matrix(np.eye(3))}}
    rec["a"] = ad.AnnData(shape=(3, 2), uns=uns)


@snippet
def construct_uns_multicol(ad, rec):
    obs = pd.DataFrame({"X_pca1": [1.0, 2.0, 3.0], "X_pca2": [4.0, 5.0, 6.0], "keep": [1, 2, 3]}, index=list("abc"))
    rec["a"] = ad.AnnData(_X(3, 2), obs=obs, uns={"obs_keys_multicol": ["X_pca"], "other": 1})


@snippet(expected_difference="adjacency matrices moved out of uns['neighbors'] are shape-checked (anndata stores them unchecked)",
         ignore=("__error__", "a"))
def construct_uns_neighbors_wrong_shape(ad, rec):
    rec["a"] = ad.AnnData(_X(), uns={"neighbors": {"distances": np.ones((5, 5))}})


@snippet
def construct_uns_multicol_smp_and_var(ad, rec):
    var = pd.DataFrame({"q_a": [1.0, 2.0, 3.0, 4.0], "w": list("abcd")}, index=list("klmn"))
    uns = {"smp_keys_multicol": ["m"], "_var_keys_multicol": ["q"]}
    rec["a"] = ad.AnnData(_X(), var=var, uns=uns)
    rec["uns_left"] = sorted(uns)


@snippet
def construct_empty_uns_replaced(ad, rec):
    uns: dict = {}
    a = ad.AnnData(_X(), uns=uns)
    rec["same"] = a.uns is uns
    rec["class"] = type(a.uns).__name__


@snippet
def construct_dup_obs_names(ad, rec):
    rec["a"] = ad.AnnData(_X(3, 2), obs=pd.DataFrame(index=["a", "a", "b"]))


@snippet
def construct_dup_var_names(ad, rec):
    rec["a"] = ad.AnnData(_X(3, 2), var=pd.DataFrame(index=["g", "g"]))


@snippet
def construct_obs_index_name(ad, rec):
    obs = _obs()
    obs.index.name = "cell_id"
    rec["a"] = ad.AnnData(_X(), obs=obs)


@snippet
def construct_obsp_varp(ad, rec):
    rec["a"] = ad.AnnData(_X(), obsp={"s": sparse.csr_array(np.eye(6))}, varp={"d": np.ones((4, 4))})


@snippet
def construct_obsm_1d_array(ad, rec):
    rec["a"] = rec.call("ctor", lambda: ad.AnnData(_X(), obsm={"v": np.arange(6)}))


@snippet
def construct_raw_dict(ad, rec):
    rec["a"] = ad.AnnData(_X(), raw={"X": _X(6, 5), "var": pd.DataFrame(index=list("vwxyz"))})


@snippet
def construct_string_X_object(ad, rec):
    rec["a"] = rec.call("ctor", lambda: ad.AnnData(np.array([["a", "b"], ["c", "d"]], dtype=object)))


@snippet
def construct_uns_is_kept_by_reference(ad, rec):
    uns = {"k": [1, 2]}
    a = ad.AnnData(_X(), uns=uns)
    rec["same"] = a.uns is uns
    rec["type"] = type(a.uns).__name__


# ============================================================================= indexing


@snippet
def index_int(ad, rec):
    rec["v"] = mk(ad)[2]


@snippet
def index_negative_int(ad, rec):
    rec["v"] = mk(ad)[-1]


@snippet
def index_int_var(ad, rec):
    rec["v"] = mk(ad)[:, 1]


@snippet
def index_negative_var(ad, rec):
    rec["v"] = mk(ad)[:, -2]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_int_out_of_range(ad, rec):
    rec["v"] = mk(ad)[10]


@snippet
def index_slice(ad, rec):
    rec["v"] = mk(ad)[1:4]


@snippet
def index_slice_step(ad, rec):
    rec["v"] = mk(ad)[::2, ::3]


@snippet
def index_negative_slice(ad, rec):
    rec["v"] = mk(ad)[-3:, :-1]


@snippet
def index_reversed_slice(ad, rec):
    rec["v"] = mk(ad)[::-1]


@snippet
def index_empty_slice(ad, rec):
    rec["v"] = mk(ad)[3:3]


@snippet
def index_label_slice(ad, rec):
    rec["v"] = mk(ad)["c1":"c3"]


@snippet
def index_label_slice_var(ad, rec):
    rec["v"] = mk(ad)[:, "g1":"g2"]


@snippet
def index_label_slice_open(ad, rec):
    rec["v"] = mk(ad)["c4":, :"g1"]


@snippet(expected_difference="reversed label slices include the stop label in annstore", ignore=("v",))
def index_label_slice_reversed(ad, rec):
    rec["v"] = mk(ad)["c4":"c1":-1]


@snippet
def index_bool_mask(ad, rec):
    a = mk(ad)
    rec["v"] = a[np.array([True, False, True, True, False, False])]


@snippet
def index_bool_mask_var(ad, rec):
    a = mk(ad, "csc")
    rec["v"] = a[:, a.var["hv"].to_numpy()]


@snippet
def index_bool_series(ad, rec):
    a = mk(ad)
    rec["v"] = a[a.obs["num"] > 1]


@snippet
def index_bool_list(ad, rec):
    rec["v"] = mk(ad)[[True, False] * 3]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_bool_mask_wrong_length(ad, rec):
    rec["v"] = mk(ad)[np.array([True, False])]


@snippet
def index_name(ad, rec):
    rec["v"] = mk(ad)["c2"]


@snippet
def index_name_var(ad, rec):
    rec["v"] = mk(ad)[:, "g3"]


@snippet
def index_name_list(ad, rec):
    rec["v"] = mk(ad)[["c3", "c1"], ["g2", "g0"]]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_name_missing(ad, rec):
    rec["v"] = mk(ad)["nope"]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_name_list_missing(ad, rec):
    rec["v"] = mk(ad)[["c1", "nope"]]


@snippet
def index_int_list_repeats(ad, rec):
    rec["v"] = mk(ad)[[3, 1, 1]]


@snippet
def index_int_array(ad, rec):
    rec["v"] = mk(ad, "csr")[np.array([5, 0, 2])]


@snippet
def index_int_array_negative(ad, rec):
    rec["v"] = mk(ad)[np.array([-1, -2])]


@snippet
def index_2d_lists(ad, rec):
    rec["v"] = mk(ad)[[0, 2], [1, 3]]


@snippet
def index_2d_lists_csc(ad, rec):
    rec["v"] = mk(ad, "csc")[[0, 2, 4], [3, 1]]


@snippet
def index_2d_lists_csr_array(ad, rec):
    rec["v"] = mk(ad, "csr_array")[[5, 0], [0, 2]]


@snippet
def index_2d_mixed(ad, rec):
    rec["v"] = mk(ad)[1:3, ["g0", "g2"]]


@snippet
def index_ellipsis(ad, rec):
    a = mk(ad)
    rec["v"] = a[..., 1:3]
    rec["w"] = a[2, ...]


@snippet
def index_view_of_view(ad, rec):
    a = mk(ad)
    rec["v"] = a[1:5][1:3, ::2]


@snippet
def index_view_of_view_mask(ad, rec):
    a = mk(ad, "csr")
    v = a[a.obs["flag"].to_numpy()]
    rec["v"] = v[np.array([False, True, True])]


@snippet
def index_view_of_view_names(ad, rec):
    a = mk(ad)
    rec["v"] = a[["c5", "c3", "c0"]][["c0", "c5"], "g1"]


@snippet
def index_view_of_view_of_view(ad, rec):
    a = mk(ad, "csc_array")
    rec["v"] = a[::-1][1:][::2]


@snippet
def index_float_integral(ad, rec):
    rec["v"] = rec.call("idx", lambda: mk(ad)[np.array([1.0, 2.0])])


@snippet(expected_difference="float indexers are rejected if any value is non-integral (anndata truncates)",
         ignore=("idx", "v"))
def index_float_nonintegral(ad, rec):
    rec["v"] = rec.call("idx", lambda: mk(ad)[np.array([1.5, 2.0])])


@snippet
def index_empty_list(ad, rec):
    rec["v"] = mk(ad)[[]]


@snippet
def index_pandas_index(ad, rec):
    a = mk(ad)
    rec["v"] = a[a.obs_names[:2]]


@snippet
def index_np_integer(ad, rec):
    rec["v"] = mk(ad)[np.int64(2), np.int32(1)]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_three_dims(ad, rec):
    rec["v"] = mk(ad)[0, 0, 0]


@snippet
def index_2d_bool(ad, rec):
    a = mk(ad)
    rec["v"] = a[a.obs["flag"].to_numpy(), a.var["hv"].to_numpy()]


@snippet
def index_categorical_compare(ad, rec):
    a = mk(ad)
    rec["v"] = a[a.obs["cat"] == "b"]


@snippet
def index_obsm_obsp_subset(ad, rec):
    v = mk(ad)[[4, 1]]
    rec["obsm"] = dict(v.obsm)
    rec["obsp"] = dict(v.obsp)
    rec["types"] = [type(v.obsm).__name__, type(v.obsp).__name__, type(v.layers).__name__, type(v.varm).__name__]


@snippet
def index_len_and_shape(ad, rec):
    v = mk(ad)[1:4, :2]
    rec["len"] = len(v)
    rec["shape"] = v.shape
    rec["n"] = [v.n_obs, v.n_vars]


# ============================================================================= views / copy-on-write


@snippet
def view_element_types(ad, rec):
    v = mk(ad)[:3]
    rec["types"] = [type(x).__name__ for x in (v.X, v.obs, v.var, v.uns, v.obsm["pca"], v.obsm["df"], v.layers["counts"], v.obsp["dist"])]
    rec["is_view"] = v.is_view


@snippet
def view_element_types_sparse(ad, rec):
    rec["csr"] = type(mk(ad, "csr")[:3].X).__name__
    rec["csc"] = type(mk(ad, "csc")[:3].X).__name__
    rec["csr_array"] = type(mk(ad, "csr_array")[:3].X).__name__
    rec["csc_array"] = type(mk(ad, "csc_array")[:3].X).__name__


@snippet
def view_setitem_X(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.X.__setitem__((0, 0), 100))
    rec["v"] = v
    rec["parent_X"] = a.X


@snippet
def view_setitem_X_sparse(ad, rec):
    a = mk(ad, "csr")
    v = a[1:3]
    rec.call("set", lambda: v.X.__setitem__((0, 1), 7))
    rec["v_X"] = v.X
    rec["is_view"] = v.is_view
    rec["parent_X"] = a.X


@snippet
def view_set_X(ad, rec):
    a = mk(ad)
    v = a[:2, :2]
    rec.call("set", lambda: setattr(v, "X", np.zeros((2, 2), dtype=np.float32)))
    rec["v"] = v
    rec["parent_X"] = a.X


@snippet
def view_add_obs_column(ad, rec):
    a = mk(ad)
    v = a[1:4]
    rec.call("set", lambda: v.obs.__setitem__("new", [1, 2, 3]))
    rec["v_obs"] = v.obs
    rec["is_view"] = v.is_view
    rec["parent_obs_cols"] = list(a.obs.columns)


@snippet
def view_add_var_column(ad, rec):
    a = mk(ad)
    v = a[:, :2]
    rec.call("set", lambda: v.var.__setitem__("new", "x"))
    rec["v_var"] = v.var
    rec["parent_var_cols"] = list(a.var.columns)


@snippet
def view_obs_loc_assign(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("set", lambda: v.obs.__setitem__("num", 0.0))
    rec["v_obs"] = v.obs
    rec["parent_num"] = a.obs["num"]


@snippet
def view_add_obsm(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("set", lambda: v.obsm.__setitem__("new", np.zeros((3, 1))))
    rec["v"] = v
    rec["parent_keys"] = list(a.obsm)


@snippet
def view_del_obsm(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("del", lambda: v.obsm.__delitem__("pca"))
    rec["v_keys"] = list(v.obsm)
    rec["is_view"] = v.is_view
    rec["parent_keys"] = list(a.obsm)


@snippet
def view_add_layer(ad, rec):
    a = mk(ad, "csr")
    v = a[:, 1:]
    rec.call("set", lambda: v.layers.__setitem__("L", np.ones((6, 3))))
    rec["v"] = v
    rec["parent_layers"] = list(a.layers)


@snippet
def view_del_layer(ad, rec):
    a = mk(ad)
    v = a[::2]
    rec.call("del", lambda: v.layers.__delitem__("counts"))
    rec["v_layers"] = list(v.layers)
    rec["parent_layers"] = list(a.layers)


@snippet
def view_add_varp(ad, rec):
    a = mk(ad)
    v = a[:, [0, 1]]
    rec.call("set", lambda: v.varp.__setitem__("p", np.ones((2, 2))))
    rec["v_varp"] = dict(v.varp)


@snippet
def view_obsm_array_setitem(ad, rec):
    a = mk(ad)
    v = a[2:]
    rec.call("set", lambda: v.obsm["pca"].__setitem__((0, 0), -1.0))
    rec["v_pca"] = v.obsm["pca"]
    rec["is_view"] = v.is_view
    rec["parent_pca"] = a.obsm["pca"]


@snippet
def view_layer_array_setitem(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.layers["dense"].__setitem__((1, 1), 9))
    rec["v_layer"] = v.layers["dense"]
    rec["parent_layer"] = a.layers["dense"]


@snippet
def view_uns_set(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.uns.__setitem__("k", 1))
    rec["v_uns"] = v.uns
    rec["is_view"] = v.is_view
    rec["parent_uns"] = sorted(a.uns)


@snippet(expected_difference="deleting a key of a view's uns actualises the view (anndata silently loses the edit)",
         ignore=("del", "v_uns"))
def view_uns_del(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("del", lambda: v.uns.__delitem__("title"))
    rec["v_uns"] = sorted(v.uns)
    rec["parent_uns"] = sorted(a.uns)


@snippet(expected_difference="nested uns edits on a view copy the view (anndata writes through to the parent)",
         ignore=("set", "is_view", "parent_nested"))
def view_uns_nested_edit(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.uns["nested"].__setitem__("a", 2))
    rec["v_nested"] = v.uns["nested"]
    rec["is_view"] = v.is_view
    rec["parent_nested"] = a.uns["nested"]


@snippet(expected_difference="`del view.obs[col]` actualises the view with a warning (anndata edits the view's cached obs)",
         ignore=("del", "is_view"))
def view_del_obs_column(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("del", lambda: v.obs.__delitem__("num"))
    rec["v_obs_cols"] = list(v.obs.columns)
    rec["is_view"] = v.is_view
    rec["parent_obs_cols"] = list(a.obs.columns)


@snippet
def view_set_obs_names(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: setattr(v, "obs_names", ["x", "y"]))
    rec["v"] = v
    rec["parent_names"] = a.obs_names


@snippet(expected_difference="reworded error message", error_type_only=True)
def view_set_obs_index(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: setattr(v.obs, "index", ["x", "y"]))
    rec["v_obs_names"] = v.obs_names
    rec["parent_names"] = a.obs_names


@snippet(expected_difference="in-place DataFrame methods on a view's obs/var actualise it with an ImplicitModificationWarning",
         ignore=("rename/warnings",))
def view_obs_rename_inplace(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("rename", lambda: v.obs.rename(columns={"num": "NUM"}, inplace=True))
    rec["v_cols"] = list(v.obs.columns)
    rec["parent_cols"] = list(a.obs.columns)


@snippet
def view_obs_rename_copy(ad, rec):
    a = mk(ad)
    v = a[:2]
    r = v.obs.rename(columns={"num": "NUM"})
    rec["r"] = r
    rec["is_view"] = v.is_view


@snippet
def view_set_obs_df(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: setattr(v, "obs", pd.DataFrame({"z": [1, 2]}, index=["c0", "c1"])))
    rec["v_obs"] = v.obs
    rec["is_view"] = v.is_view


@snippet
def view_copy(ad, rec):
    a = mk(ad)
    c = a[1:4, [0, 2]].copy()
    rec["c"] = c
    rec["types"] = [type(c.X).__name__, type(c.obs).__name__, type(c.uns).__name__, type(c.obsm["pca"]).__name__]


@snippet
def view_copy_sparse(ad, rec):
    c = mk(ad, "csc_array")[[1, 3], 1:].copy()
    rec["c"] = c


@snippet
def view_parent_unchanged_after_many_edits(ad, rec):
    a = mk(ad)
    before = a.copy()
    v = a[:3, :2]
    v.obs["z"] = 1
    v.X[0, 0] = 99
    v.layers["dense"][0, 0] = 5
    rec["a"] = a
    rec["before"] = before


@snippet
def view_remove_unused_categories(ad, rec):
    a = mk(ad)
    v = a[[0, 1, 4]]
    rec["cats"] = v.obs["cat"]
    rec["colors"] = v.uns["cat_colors"]
    rec["parent_colors"] = a.uns["cat_colors"]


@snippet
def view_colors_wrong_length_dropped(ad, rec):
    a = mk(ad)
    a.uns["cat_colors"] = np.array(["red", "green"])
    v = a[:2]
    rec["uns_keys"] = sorted(v.uns)


@snippet
def view_colors_scalar(ad, rec):
    a = mk(ad)
    a.uns["cat_colors"] = "red"
    rec["colors"] = a[:2].uns["cat_colors"]


@snippet
def view_keep_categories_setting(ad, rec):
    a = mk(ad)
    ad.settings.remove_unused_categories = False
    try:
        rec["cats"] = a[[0, 1]].obs["cat"]
    finally:
        ad.settings.remove_unused_categories = True


@snippet(expected_difference="to_memory() on a view returns plain arrays (anndata keeps view classes)",
         ignore=("m/X/type", "m/layers", "m/obsm", "m/varm", "m/obsp", "m/varp", "m/obs/type", "m/var/type", "m/uns"))
def view_to_memory(ad, rec):
    m = mk(ad)[1:3].to_memory()
    rec["m"] = m


@snippet(expected_difference="reworded error message", error_type_only=True)
def view_transpose_error(ad, rec):
    rec["t"] = mk(ad)[:2].T


@snippet
def view_raw(ad, rec):
    a = mk(ad)
    a.raw = a
    v = a[[1, 4], :2]
    rec["raw"] = v.raw
    rec["raw_X_type"] = type(v.raw.X).__name__


@snippet
def view_set_raw(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("set", lambda: setattr(v, "raw", v))
    rec["v"] = v
    rec["parent_raw"] = a.raw is None


@snippet
def view_obsm_df_element(ad, rec):
    v = mk(ad)[[2, 0]]
    rec["df"] = v.obsm["df"]


@snippet
def view_uns_copy_independent(ad, rec):
    a = mk(ad)
    v = a[:2]
    u = v.uns.copy()
    u["nested"]["a"] = 100
    rec["parent_nested"] = a.uns["nested"]
    rec["type"] = type(u).__name__


@snippet
def view_X_arithmetic(ad, rec):
    v = mk(ad)[:2]
    rec["sum"] = float(v.X.sum())
    rec["add"] = v.X + 1
    rec["mean0"] = v.X.mean(axis=0)
    rec["is_view"] = v.is_view


@snippet
def view_sparse_arithmetic(ad, rec):
    v = mk(ad, "csr")[:3]
    rec["mul"] = v.X.multiply(2)
    rec["sum"] = v.X.sum(axis=0)
    rec["copy"] = v.X.copy()


# ============================================================================= copy / to_memory


@snippet
def copy_full(ad, rec):
    a = mk(ad)
    c = a.copy()
    c.X[0, 0] = -5
    c.uns["nested"]["a"] = 3
    c.obs["num"] = 0.0
    rec["a"] = a
    rec["c"] = c


@snippet(expected_difference="raw.varm of a copy holds plain arrays (anndata: ArrayView)", ignore=("c/raw/varm/load/type",))
def copy_with_raw(ad, rec):
    a = mk(ad, "csr")
    a.raw = a[:, :3]
    rec["c"] = a.copy()


@snippet
def to_memory_actual(ad, rec):
    a = mk(ad)
    m = a.to_memory()
    rec["m"] = m
    rec["same_X"] = m.X is a.X


@snippet
def to_memory_copy(ad, rec):
    a = mk(ad)
    m = a.to_memory(copy=True)
    rec["m"] = m
    rec["same_X"] = m.X is a.X


# ============================================================================= mutate


@snippet
def mutate_obs_columns(ad, rec):
    a = mk(ad)
    a.obs["lst"] = list(range(6))
    a.obs["cat2"] = pd.Categorical(list("xyxyxy"))
    a.obs["scalar"] = "k"
    del a.obs["num"]
    rec["obs"] = a.obs


@snippet
def mutate_obs_column_wrong_length(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obs.__setitem__("bad", [1, 2]))


@snippet
def mutate_var_columns(ad, rec):
    a = mk(ad)
    a.var["new"] = np.arange(4) * 1.5
    rec["var"] = a.var


@snippet
def mutate_obsm_add(ad, rec):
    a = mk(ad)
    a.obsm["n"] = np.ones((6, 3))
    a.obsm["s"] = sparse.csr_matrix(np.ones((6, 2)))
    a.obsm["d"] = pd.DataFrame({"q": range(6)}, index=a.obs_names)
    rec["obsm"] = dict(a.obsm)


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def mutate_obsm_wrong_shape(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obsm.__setitem__("n", np.ones((5, 3))))


@snippet
def mutate_obsm_1d(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obsm.__setitem__("v", np.arange(6)))
    rec["obsm"] = dict(a.obsm)


@snippet(expected_difference="non-array values in obsm/varm/... raise ValueError (anndata: AttributeError)", ignore=("set",))
def mutate_obsm_list_value(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obsm.__setitem__("v", [[1, 2]] * 6))
    rec["keys"] = list(a.obsm)


@snippet(expected_difference="reworded error message", error_type_only=True)
def mutate_obsm_df_wrong_index(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obsm.__setitem__("d", pd.DataFrame({"q": range(6)})))


@snippet(expected_difference="reworded error message", error_type_only=True)
def mutate_obsm_delete(ad, rec):
    a = mk(ad)
    del a.obsm["pca"]
    rec["keys"] = list(a.obsm)
    rec.call("missing", lambda: a.obsm.__delitem__("nope"))


@snippet
def mutate_varm(ad, rec):
    a = mk(ad)
    a.varm["w"] = np.zeros((4, 1))
    del a.varm["load"]
    rec["varm"] = dict(a.varm)


@snippet
def mutate_obsp_varp(ad, rec):
    a = mk(ad)
    a.obsp["n"] = sparse.csc_matrix(np.eye(6))
    del a.obsp["dense"]
    a.varp["v"] = np.ones((4, 4))
    rec["obsp"] = dict(a.obsp)
    rec["varp"] = dict(a.varp)


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def mutate_obsp_not_square(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.obsp.__setitem__("n", np.ones((6, 5))))


@snippet
def mutate_layers(ad, rec):
    a = mk(ad)
    a.layers["new"] = sparse.csr_matrix(np.ones((6, 4)))
    del a.layers["counts"]
    rec["layers"] = dict(a.layers)
    rec["keys"] = [str(k) for k in a.layers.keys()]


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def mutate_layer_wrong_shape(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: a.layers.__setitem__("new", np.ones((6, 3))))


@snippet
def mutate_X_assign_same_shape(ad, rec):
    a = mk(ad)
    a.X = np.full((6, 4), 2, dtype=np.int64)
    rec["X"] = a.X


@snippet
def mutate_X_assign_sparse(ad, rec):
    a = mk(ad)
    a.X = sparse.csr_array(np.eye(6, 4))
    rec["X"] = a.X


@snippet
def mutate_X_assign_none(ad, rec):
    a = mk(ad)
    a.X = None
    rec["a"] = a


@snippet
def mutate_X_delete(ad, rec):
    a = mk(ad)
    del a.X
    rec["X"] = a.X
    rec["layers"] = [str(k) for k in a.layers]


@snippet
def mutate_X_scalar(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "X", 3))
    rec["X"] = a.X


@snippet
def mutate_X_reshape_1d(ad, rec):
    a = ad.AnnData(np.zeros((1, 3)))
    rec.call("set", lambda: setattr(a, "X", np.arange(3.0)))
    rec["X"] = a.X


@snippet(expected_difference="ShapeMismatchError with reworded message; no misleading 'Automatic reshaping' FutureWarning before it",
         error_type_only=True, ignore=("set/warnings",))
def mutate_X_wrong_shape(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "X", np.zeros((3, 3))))


@snippet
def mutate_X_list(ad, rec):
    a = ad.AnnData(shape=(2, 2))
    rec.call("set", lambda: setattr(a, "X", [[1, 2], [3, 4]]))
    rec["X"] = a.X


@snippet
def mutate_X_on_shape_only(ad, rec):
    a = ad.AnnData(shape=(2, 3))
    a.X = np.ones((2, 3))
    rec["a"] = a


@snippet(expected_difference="reworded error message", error_type_only=True)
def mutate_uns(ad, rec):
    a = mk(ad)
    a.uns["x"] = {"y": [1, 2]}
    del a.uns["title"]
    rec["uns"] = a.uns
    rec.call("bad", lambda: setattr(a, "uns", [1, 2]))


@snippet
def mutate_uns_replace_and_delete(ad, rec):
    a = mk(ad)
    a.uns = {"only": 1}
    rec["uns1"] = a.uns
    del a.uns
    rec["uns2"] = a.uns


@snippet
def mutate_obsm_assign_dict(ad, rec):
    a = mk(ad)
    a.obsm = {"z": np.zeros((6, 2))}
    rec["obsm"] = dict(a.obsm)
    a.obsm = None
    rec["after_none"] = list(a.obsm)


@snippet
def mutate_obsm_assign_wrong(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obsm", {"z": np.zeros((5, 2))}))
    rec["keys"] = list(a.obsm)


@snippet
def mutate_layers_assign_without_none(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "layers", {"L": np.zeros((6, 4))}))
    rec["keys"] = [str(k) for k in a.layers]
    rec["X_none"] = a.X is None


@snippet
def mutate_layers_assign_with_none(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "layers", {"L": np.zeros((6, 4)), None: None}))
    rec["X_none"] = a.X is None


@snippet
def mutate_del_layers(ad, rec):
    a = mk(ad)
    rec.call("del", lambda: delattr(a, "layers"))
    rec["keys"] = [str(k) for k in a.layers]


@snippet
def mutate_layers_clear(ad, rec):
    a = mk(ad)
    rec.call("clear", lambda: a.layers.clear())
    rec["keys"] = [str(k) for k in a.layers]
    rec.call("clear2", lambda: a.layers.clear(keep_x=False))
    rec["X_none"] = a.X is None


@snippet
def mutate_obs_assign_df(ad, rec):
    a = mk(ad)
    a.obs = pd.DataFrame({"z": range(6)}, index=[f"n{i}" for i in range(6)])
    rec["obs"] = a.obs
    rec["obsm_df_index"] = a.obsm["df"].index


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def mutate_obs_assign_wrong_length(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obs", pd.DataFrame(index=["a"])))


@snippet
def mutate_del_obs(ad, rec):
    a = mk(ad)
    del a.obs
    rec["obs"] = a.obs


@snippet
def mutate_obs_names(ad, rec):
    a = mk(ad)
    a.obs_names = [f"n{i}" for i in range(6)]
    rec["obs_names"] = a.obs_names
    rec["obsm_df_index"] = a.obsm["df"].index


@snippet
def mutate_var_names_index(ad, rec):
    a = mk(ad)
    a.var_names = pd.Index(["p", "q", "r", "s"], name="gene")
    rec["var"] = a.var


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def mutate_obs_names_wrong_length(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obs_names", ["a"]))


@snippet
def mutate_obs_names_ints(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obs_names", list(range(6))))
    rec["obs_names"] = a.obs_names


@snippet
def mutate_obs_names_non_str_name(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obs_names", pd.Index(list("abcdef"), name=3)))


@snippet
def mutate_obs_names_duplicate(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "obs_names", list("aabbcc")))
    rec["obs_names"] = a.obs_names


@snippet(expected_difference="`del adata[idx]` is supported in annstore", ignore=("__error__", "a"))
def mutate_del_adata_index(ad, rec):
    a = mk(ad)
    del a[[0, 1]]
    rec["a"] = a


# ============================================================================= raw


@snippet(expected_difference="Raw has a descriptive repr (anndata: default object repr)", ignore=("repr",))
def raw_set(ad, rec):
    a = mk(ad)
    a.raw = a
    b = a[:, :2].copy()
    rec["raw"] = b.raw
    rec["b_shape"] = b.shape
    rec["repr"] = repr(b.raw)


@snippet
def raw_is_snapshot(ad, rec):
    a = mk(ad)
    a.raw = a
    a.X[0, 0] = 1000
    a.var["new"] = 1
    rec["raw_X"] = a.raw.X
    rec["raw_var_cols"] = list(a.raw.var.columns)


@snippet
def raw_subset(ad, rec):
    a = mk(ad, "csr")
    a.raw = a
    rec["r1"] = a.raw[:, ["g1", "g3"]]
    rec["r2"] = a.raw[[0, 2]]
    rec["r3"] = a.raw[1:3, 2]


@snippet
def raw_to_adata(ad, rec):
    a = mk(ad)
    a.raw = a
    a = a[:, [0, 1]].copy()
    rec["t"] = a.raw.to_adata()


@snippet
def raw_var_vector(ad, rec):
    a = mk(ad)
    a.raw = a
    rec["vv"] = a.raw.var_vector("c1")
    rec["col"] = a.raw.var_vector("mean")
    rec["ov"] = a.raw.obs_vector("g2")


@snippet
def raw_delete(ad, rec):
    a = mk(ad)
    a.raw = a
    del a.raw
    rec["raw"] = a.raw is None


@snippet
def raw_set_none(ad, rec):
    a = mk(ad)
    a.raw = a
    a.raw = None
    rec["raw"] = a.raw is None


@snippet
def raw_from_subset_vars(ad, rec):
    a = mk(ad)
    a.raw = a[:, 1:]
    rec["raw"] = a.raw


@snippet(expected_difference="reworded error message", error_type_only=True)
def raw_wrong_type(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "raw", np.ones((6, 4))))


@snippet
def raw_varm(ad, rec):
    a = mk(ad)
    a.raw = a
    rec["varm"] = dict(a.raw[:, [1, 2]].varm)


@snippet
def raw_view_of_raw_shape(ad, rec):
    a = mk(ad)
    a.raw = a
    v = a[2:5]
    rec["shape"] = v.raw.shape
    rec["X"] = v.raw.X
    rec["obs_names"] = v.raw.obs_names


# ============================================================================= names


@snippet
def names_make_unique_obs(ad, rec):
    a = ad.AnnData(_X(5, 2), obs=pd.DataFrame(index=["a", "a", "b", "a", "b"]))
    a.obs_names_make_unique()
    rec["names"] = a.obs_names


@snippet
def names_make_unique_var_join(ad, rec):
    a = ad.AnnData(_X(2, 4), var=pd.DataFrame(index=["g", "g", "h", "g"]))
    a.var_names_make_unique(join="_")
    rec["names"] = a.var_names


@snippet
def names_make_unique_collisions(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame(index=["a", "a", "a-1", "a"]))
    rec.call("mu", a.obs_names_make_unique)
    rec["names"] = a.obs_names


@snippet
def names_make_unique_already_unique(ad, rec):
    a = mk(ad)
    a.obs_names_make_unique()
    rec["names"] = a.obs_names


@snippet
def names_default(ad, rec):
    a = ad.AnnData(_X(3, 2))
    rec["obs"] = a.obs_names
    rec["var"] = a.var_names


@snippet
def names_set_var_names_series(ad, rec):
    a = mk(ad)
    a.var_names = a.var["g"].astype(str) + "_" + a.var_names
    rec["names"] = a.var_names


@snippet
def names_obs_index_assign(ad, rec):
    a = mk(ad)
    a.obs.index = [f"z{i}" for i in range(6)]
    rec["names"] = a.obs_names


# ============================================================================= transpose


@snippet
def transpose_full(ad, rec):
    rec["t"] = mk(ad).T


@snippet
def transpose_sparse(ad, rec):
    rec["t"] = mk(ad, "csc").transpose()


@snippet
def transpose_raw_dropped(ad, rec):
    a = mk(ad)
    a.raw = a
    rec["raw_none"] = a.T.raw is None


@snippet
def transpose_no_X(ad, rec):
    rec["t"] = ad.AnnData(obs=_obs(), var=_var(), layers={"L": np.ones((6, 4))}).T


# ============================================================================= strings_to_categoricals / rename


@snippet
def strings_to_categoricals_basic(ad, rec):
    a = ad.AnnData(_X(), obs=pd.DataFrame({"s": ["b10", "b2", "b10", "a", "b2", "a"], "u": [f"u{i}" for i in range(6)],
                                           "n": range(6)}, index=[f"c{i}" for i in range(6)]))
    a.strings_to_categoricals()
    rec["obs"] = a.obs


@snippet
def strings_to_categoricals_df(ad, rec):
    a = mk(ad)
    df = pd.DataFrame({"x": ["p", "q", "p"]})
    a.strings_to_categoricals(df)
    rec["df"] = df


@snippet
def strings_to_categoricals_var(ad, rec):
    a = ad.AnnData(_X(), var=pd.DataFrame({"k": ["x", "y", "x", "x"]}, index=list("abcd")))
    a.strings_to_categoricals()
    rec["var"] = a.var


@snippet
def strings_to_categoricals_with_nan(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame({"s": ["a", None, "a", "b"]}, index=list("wxyz")))
    a.strings_to_categoricals()
    rec["obs"] = a.obs


@snippet
def rename_categories_obs(ad, rec):
    a = mk(ad)
    a.rename_categories("cat", ["A", "B", "C"])
    rec["cat"] = a.obs["cat"]


@snippet
def rename_categories_var(ad, rec):
    a = mk(ad)
    a.rename_categories("g", ["X", "Y", "Z"])
    rec["g"] = a.var["g"]


@snippet(expected_difference="reworded error message", error_type_only=True)
def rename_categories_missing_key(ad, rec):
    a = mk(ad)
    rec.call("r", lambda: a.rename_categories("nope", ["x"]))


@snippet
def rename_categories_uns_records(ad, rec):
    a = mk(ad)
    names = np.array([(1.0, 2.0, 3.0)], dtype=[("a", "f8"), ("b", "f8"), ("c", "f8")])
    a.uns["rank"] = {"params": {"groupby": "cat"}, "names": names}
    a.rename_categories("cat", ["A", "B", "C"])
    rec["names"] = a.uns["rank"]["names"]


@snippet
def rename_categories_wrong_count(ad, rec):
    a = mk(ad)
    rec.call("r", lambda: a.rename_categories("cat", ["A"]))


# ============================================================================= to_df / vectors / chunks


@snippet
def to_df_dense(ad, rec):
    rec["df"] = mk(ad).to_df()


@snippet
def to_df_sparse(ad, rec):
    rec["df"] = mk(ad, "csr").to_df()


@snippet
def to_df_layer(ad, rec):
    rec["df"] = mk(ad).to_df(layer="dense")


@snippet(expected_difference="reworded error message", error_type_only=True)
def to_df_no_X(ad, rec):
    rec.call("df", lambda: ad.AnnData(shape=(2, 2)).to_df())


@snippet
def to_df_view(ad, rec):
    rec["df"] = mk(ad)[1:3, ::2].to_df()


@snippet
def obsm_to_df(ad, rec):
    a = mk(ad)
    del a.obsm["df"]
    rec["df"] = a.obsm.to_df()


@snippet
def obs_vector_gene(ad, rec):
    a = mk(ad)
    rec["v"] = a.obs_vector("g1")
    rec["col"] = a.obs_vector("num")
    rec["layer"] = a.obs_vector("g2", layer="counts")


@snippet
def obs_vector_sparse(ad, rec):
    rec["v"] = mk(ad, "csr_array").obs_vector("g3")


@snippet
def var_vector_cell(ad, rec):
    a = mk(ad, "csc")
    rec["v"] = a.var_vector("c2")
    rec["col"] = a.var_vector("mean")


@snippet
def obs_vector_missing(ad, rec):
    rec.call("v", lambda: mk(ad).obs_vector("nope"))


@snippet
def obs_vector_view(ad, rec):
    rec["v"] = mk(ad)[::2].obs_vector("g0")


@snippet
def obs_vector_column_types(ad, rec):
    a = ad.AnnData(_X(3, 2), obs=pd.DataFrame({
        "c": pd.Categorical(list("aba")), "i": [1, 2, 3], "s": list("xyz"),
        "n": pd.array([1, None, 3], dtype="Int64"), "b": [True, False, True]}, index=list("pqr")))
    for k in ("c", "i", "s", "n", "b"):
        v = a.obs_vector(k)
        rec[k] = {"type": type(v).__name__, "dtype": str(v.dtype), "values": list(np.asarray(v, dtype=object))}


@snippet
def chunked_X_dense(ad, rec):
    rec["chunks"] = [(c, s, e) for c, s, e in mk(ad).chunked_X(4)]


@snippet
def chunked_X_sparse(ad, rec):
    rec["chunks"] = [(c, s, e) for c, s, e in mk(ad, "csr").chunked_X(2)]


@snippet
def chunk_X_select_list(ad, rec):
    rec["c"] = mk(ad, "csr").chunk_X([4, 0])


# ============================================================================= repr / misc


@snippet
def repr_full(ad, rec):
    rec["r"] = repr(mk(ad))


@snippet
def repr_view(ad, rec):
    rec["r"] = repr(mk(ad)[:2, :1])


@snippet
def repr_empty(ad, rec):
    rec["r"] = repr(ad.AnnData())


@snippet
def repr_x_only(ad, rec):
    rec["r"] = repr(ad.AnnData(_X()))


@snippet
def repr_layers_with_none(ad, rec):
    a = mk(ad)
    rec["r"] = repr(a.layers)
    rec["obsm"] = repr(a.obsm)


@snippet(expected_difference="Raw has a descriptive repr (anndata: default object repr)", ignore=("r",))
def repr_raw(ad, rec):
    a = mk(ad)
    a.raw = a
    rec["r"] = repr(a.raw)


@snippet
def misc_eq_error(ad, rec):
    a = mk(ad)
    rec.call("eq", lambda: a == a)


@snippet(expected_difference="reworded error message", error_type_only=True)
def misc_contains_error(ad, rec):
    a = mk(ad)
    rec.call("in", lambda: "c1" in a)


@snippet
def misc_keys_deprecated(ad, rec):
    a = mk(ad)
    rec["obs_keys"] = rec.call("ok", a.obs_keys)
    rec["var_keys"] = rec.call("vk", a.var_keys)
    rec["obsm_keys"] = rec.call("mk", a.obsm_keys)
    rec["uns_keys"] = rec.call("uk", a.uns_keys)


@snippet
def misc_iter_not_supported(ad, rec):
    a = mk(ad)
    rec.call("iter", lambda: list(iter(a)))


@snippet
def misc_aligned_mapping_api(ad, rec):
    a = mk(ad)
    rec["len"] = len(a.obsm)
    rec["keys"] = list(a.obsm.keys())
    rec["in"] = "pca" in a.obsm
    rec["get"] = a.obsm.get("nope") is None
    rec["layers_bool"] = bool(ad.AnnData(_X()).layers)
    rec["parent"] = a.obsm.parent is a


@snippet
def misc_obsm_copy(ad, rec):
    a = mk(ad)
    c = a.obsm.copy()
    rec["type"] = type(c).__name__
    rec["keys"] = list(c)


# ============================================================================= concat


def _pair(ad: Any, kind: str = "dense") -> tuple[Any, Any]:
    a = mk(ad, kind)
    b = mk(ad, kind, n=4, m=4)
    b.obs_names = [f"d{i}" for i in range(4)]
    b.var_names = ["g1", "g2", "g3", "g9"]
    return a, b


@snippet
def concat_inner(ad, rec):
    rec["c"] = ad.concat(_pair(ad))


@snippet
def concat_outer(ad, rec):
    rec["c"] = ad.concat(_pair(ad), join="outer")


@snippet
def concat_outer_sparse(ad, rec):
    rec["c"] = ad.concat(_pair(ad, "csr"), join="outer")


@snippet
def concat_outer_fill_value(ad, rec):
    rec["c"] = ad.concat(_pair(ad), join="outer", fill_value=-1)


@snippet
def concat_label_keys(ad, rec):
    rec["c"] = ad.concat(_pair(ad), label="batch", keys=["A", "B"])


@snippet
def concat_dict(ad, rec):
    a, b = _pair(ad)
    rec["c"] = ad.concat({"x": a, "y": b}, label="src", index_unique="-")


@snippet
def concat_index_unique(ad, rec):
    a = mk(ad)
    rec["c"] = ad.concat([a, a], index_unique="_", keys=["p", "q"])


@snippet
def concat_duplicate_obs_names(ad, rec):
    a = mk(ad)
    rec["c"] = ad.concat([a, a])


@snippet
def concat_axis_var(ad, rec):
    a, b = mk(ad), mk(ad, m=2)
    b.var_names = ["h0", "h1"]
    rec["c"] = ad.concat([a, b], axis=1)


@snippet
def concat_axis_var_string(ad, rec):
    a, b = mk(ad), mk(ad, m=2)
    b.var_names = ["h0", "h1"]
    rec["c"] = ad.concat([a, b], axis="var", join="outer")


@snippet
def concat_merge_same(ad, rec):
    rec["c"] = ad.concat(_pair(ad), merge="same")


@snippet
def concat_merge_unique(ad, rec):
    rec["c"] = ad.concat(_pair(ad), merge="unique")


@snippet
def concat_merge_first(ad, rec):
    rec["c"] = ad.concat(_pair(ad), merge="first")


@snippet
def concat_merge_only(ad, rec):
    rec["c"] = ad.concat(_pair(ad), merge="only")


@snippet
def concat_uns_merge(ad, rec):
    a, b = _pair(ad)
    b.uns["title"] = "other"
    b.uns["extra"] = 1
    rec["same"] = ad.concat([a, b], uns_merge="same").uns
    rec["unique"] = ad.concat([a, b], uns_merge="unique").uns
    rec["first"] = ad.concat([a, b], uns_merge="first").uns
    rec["only"] = ad.concat([a, b], uns_merge="only").uns


@snippet
def concat_pairwise(ad, rec):
    rec["c"] = ad.concat(_pair(ad), pairwise=True)


@snippet
def concat_mixed_sparse_dense(ad, rec):
    a = mk(ad)
    b = mk(ad, "csr")
    b.obs_names = [f"d{i}" for i in range(6)]
    rec["c"] = ad.concat([a, b])


@snippet
def concat_sparse_arrays(ad, rec):
    a = mk(ad, "csr_array")
    b = mk(ad, "csr_array")
    b.obs_names = [f"d{i}" for i in range(6)]
    rec["c"] = ad.concat([a, b])


@snippet
def concat_views(ad, rec):
    a = mk(ad)
    rec["c"] = ad.concat([a[:2], a[4:, 1:]], join="outer")


@snippet
def concat_categoricals(ad, rec):
    a, b = _pair(ad)
    b.obs["cat"] = pd.Categorical(["c", "d", "c", "d"])
    rec["obs"] = ad.concat([a, b]).obs


@snippet
def concat_missing_obs_columns(ad, rec):
    a, b = _pair(ad)
    del b.obs["int"]
    b.obs["only_b"] = "z"
    rec["obs"] = ad.concat([a, b], join="outer").obs


@snippet
def concat_with_raw(ad, rec):
    a, b = _pair(ad)
    a.raw = a
    b.raw = b
    rec["c"] = ad.concat([a, b])


@snippet
def concat_single(ad, rec):
    rec["c"] = ad.concat([mk(ad)])


@snippet(expected_difference="reworded error message", error_type_only=True)
def concat_empty_error(ad, rec):
    rec.call("c", lambda: ad.concat([]))


@snippet
def concat_different_layers(ad, rec):
    a, b = _pair(ad)
    del b.layers["counts"]
    rec["inner"] = list(ad.concat([a, b]).layers)
    rec["outer"] = dict(ad.concat([a, b], join="outer").layers)


@snippet
def concat_obsm_outer(ad, rec):
    a, b = _pair(ad)
    del b.obsm["pca"]
    rec["inner"] = list(ad.concat([a, b]).obsm)
    rec["outer"] = dict(ad.concat([a, b], join="outer").obsm)


# ============================================================================= more edge cases


@snippet
def construct_uns_ordereddict(ad, rec):
    from collections import OrderedDict

    a = ad.AnnData(_X(), uns=OrderedDict(k=1))
    rec["class"] = type(a.uns).__name__


@snippet
def construct_obs_multiindex_error(ad, rec):
    obs = pd.DataFrame({"k": range(6)}, index=pd.MultiIndex.from_arrays([list("aabbcc"), list("xyxyxy")]))
    rec.call("ctor", lambda: ad.AnnData(_X(), obs=obs))


@snippet
def construct_obsm_structured_array(ad, rec):
    arr = np.zeros(6, dtype=[("a", "f8"), ("b", "i4")])
    rec["a"] = rec.call("ctor", lambda: ad.AnnData(_X(), obsm=arr))


@snippet
def construct_dataframe_X_int_columns(ad, rec):
    rec["a"] = ad.AnnData(pd.DataFrame(_X(3, 2)))


@snippet
def construct_dataframe_X_sparse_columns(ad, rec):
    df = pd.DataFrame({"a": pd.arrays.SparseArray([0.0, 1.0, 0.0]), "b": pd.arrays.SparseArray([2.0, 0.0, 0.0])})
    rec["a"] = rec.call("ctor", lambda: ad.AnnData(df))


@snippet
def construct_obs_int_column_names(ad, rec):
    rec["a"] = ad.AnnData(_X(3, 2), obs=pd.DataFrame({0: [1, 2, 3], "b": [4, 5, 6]}, index=list("xyz")))


@snippet
def construct_float16_X(ad, rec):
    rec["a"] = ad.AnnData(_X(dtype=np.float16))


@snippet
def construct_obs_dict_length_mismatch(ad, rec):
    rec.call("ctor", lambda: ad.AnnData(_X(3, 2), obs={"k": [1, 2]}))


@snippet
def construct_layers_from_other(ad, rec):
    a = mk(ad)
    b = ad.AnnData(a.X, layers=a.layers)
    rec["keys"] = [str(k) for k in b.layers]


@snippet
def index_isin(ad, rec):
    a = mk(ad)
    rec["v"] = a[a.obs_names.isin(["c4", "c1"])]


@snippet
def index_two_names(ad, rec):
    rec["v"] = mk(ad)["c1", "g1"]


@snippet
def index_string_series(ad, rec):
    rec["v"] = mk(ad)[pd.Series(["c2", "c0"])]


@snippet
def index_string_array(ad, rec):
    rec["v"] = mk(ad)[np.array(["c5", "c1"]), pd.Index(["g3"])]


@snippet
def index_range(ad, rec):
    rec["v"] = rec.call("idx", lambda: mk(ad)[range(2)])


@snippet
def index_mask_and_int(ad, rec):
    rec["v"] = mk(ad)[[True] * 6, 0]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_negative_out_of_range(ad, rec):
    rec["v"] = mk(ad)[-7]


@snippet(expected_difference="reworded error message", error_type_only=True)
def index_label_slice_missing_stop(ad, rec):
    rec["v"] = mk(ad)["c1":"nope"]


@snippet
def index_view_of_view_int(ad, rec):
    rec["v"] = mk(ad)[1:5][2]


@snippet
def index_duplicated_positions(ad, rec):
    rec["v"] = mk(ad)[[1, 1, 2]]


@snippet(expected_difference="nullable-boolean masks are accepted, NA counting as False (anndata 0.13.4 raises BufferError)",
         ignore=("idx", "v"))
def index_nullable_bool(ad, rec):
    rec["v"] = rec.call("idx", lambda: mk(ad)[pd.array([True, False, None, True, False, False], dtype="boolean")])


@snippet
def index_one_tuple(ad, rec):
    rec["v"] = mk(ad)[(slice(1, 3),)]


@snippet
def index_view_obsp_view_of_view(ad, rec):
    v = mk(ad)[[5, 3, 1]][[2, 0]]
    rec["obsp"] = dict(v.obsp)
    rec["varp"] = dict(v.varp)


@snippet
def view_categories_view_of_view(ad, rec):
    v = mk(ad)[1:5][::3]
    rec["cat"] = v.obs["cat"]
    rec["colors"] = v.uns["cat_colors"]


@snippet
def view_set_X_sparse_on_dense(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: setattr(v, "X", sparse.csr_matrix(np.ones((2, 4)))))
    rec["v_X"] = v.X
    rec["parent_X_type"] = type(a.X).__name__


@snippet(expected_difference="ShapeMismatchError with reworded message", error_type_only=True)
def view_add_layer_wrong_shape(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.layers.__setitem__("bad", np.ones((3, 4))))
    rec["is_view"] = v.is_view


@snippet
def view_set_var_names(ad, rec):
    a = mk(ad)
    v = a[:, :2]
    rec.call("set", lambda: setattr(v, "var_names", ["p", "q"]))
    rec["v_var"] = v.var_names
    rec["parent"] = a.var_names


@snippet
def view_make_unique(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame(index=["a", "a", "b", "a"]))
    v = a[:3]
    rec.call("mu", v.obs_names_make_unique)
    rec["v"] = v.obs_names
    rec["is_view"] = v.is_view
    rec["parent"] = a.obs_names


@snippet
def view_strings_to_categoricals(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame({"s": list("xxyx")}, index=list("abcd")))
    v = a[:3]
    rec.call("s2c", v.strings_to_categoricals)
    rec["v_obs"] = v.obs
    rec["is_view"] = v.is_view
    rec["parent"] = a.obs


@snippet
def view_rename_categories(ad, rec):
    a = mk(ad)
    v = a[:4]
    rec.call("r", lambda: v.rename_categories("cat", ["A", "B"]))
    rec["v_cat"] = v.obs["cat"]
    rec["parent_cat"] = a.obs["cat"]


@snippet
def view_obs_loc_setitem(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec.call("loc", lambda: v.obs.loc.__setitem__(("c1", "num"), 42.0))
    rec["parent_num"] = a.obs["num"]


@snippet(expected_difference="nested uns mappings of a view are copy-on-write DictViews (anndata: plain dicts writing through)",
         ignore=("type", "inner"))
def view_uns_nested_type(ad, rec):
    v = mk(ad)[:2]
    rec["type"] = type(v.uns["nested"]).__name__
    rec["inner"] = type(v.uns["nested"]["b"]).__name__


@snippet
def view_reflects_parent_X_changes(ad, rec):
    a = mk(ad)
    v = a[:2]
    a.X[0, 0] = 50
    a.obs["late"] = 1
    rec["v_X"] = v.X
    rec["v_obs_cols"] = list(v.obs.columns)


@snippet
def view_X_setitem_slice(ad, rec):
    a = mk(ad, "csc")
    v = a[:, 2:]
    rec.call("set", lambda: v.X.__setitem__((slice(None), 0), 0))
    rec["v_X"] = v.X
    rec["parent_X"] = a.X


@snippet
def view_obsm_set_wrong_shape(ad, rec):
    a = mk(ad)
    v = a[:2]
    rec.call("set", lambda: v.obsm.__setitem__("bad", np.ones((3, 1))))
    rec["is_view"] = v.is_view


@snippet
def mutate_obs_series_alignment(ad, rec):
    a = mk(ad)
    a.obs["al"] = pd.Series([10, 20], index=["c3", "c0"])
    rec["al"] = a.obs["al"]


@snippet
def mutate_X_dtype_change(ad, rec):
    a = mk(ad)
    a.X = a.X.astype(np.int8)
    rec["X"] = a.X


@snippet
def mutate_X_np_matrix(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "X", np.asmatrix(np.ones((6, 4)))))
    rec["X"] = a.X


@snippet
def mutate_X_dataframe(ad, rec):
    a = mk(ad)
    rec.call("set", lambda: setattr(a, "X", pd.DataFrame(np.ones((6, 4)))))
    rec["X"] = a.X


@snippet
def mutate_layers_none_key(ad, rec):
    a = mk(ad)
    a.layers[None] = np.zeros((6, 4))
    rec["X"] = a.X


@snippet
def mutate_varm_dataframe(ad, rec):
    a = mk(ad)
    a.varm["d"] = pd.DataFrame({"z": range(4)}, index=a.var_names)
    rec["d"] = a.varm["d"]


@snippet
def mutate_obsm_df_named_index(ad, rec):
    a = mk(ad)
    idx = pd.Index(a.obs_names, name="other")
    a.obsm["d"] = pd.DataFrame({"z": range(6)}, index=idx)
    rec["d"] = a.obsm["d"]


@snippet
def mutate_obsp_sparse_array(ad, rec):
    a = mk(ad)
    a.obsp["s"] = sparse.csr_array(np.eye(6))
    rec["s"] = a.obsp["s"]


@snippet
def mutate_obs_names_named_index(ad, rec):
    a = mk(ad)
    a.obs_names = pd.Index([f"n{i}" for i in range(6)], name="cells")
    rec["obs"] = a.obs
    rec["df_index"] = a.obsm["df"].index


@snippet
def names_make_unique_join_underscore(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame(index=["a", "a_1", "a", "a"]))
    rec.call("mu", lambda: a.obs_names_make_unique(join="_"))
    rec["names"] = a.obs_names


@snippet
def names_n_obs_after_change(ad, rec):
    a = mk(ad)
    a.obs_names = list("abcdef")
    rec["n"] = [a.n_obs, a.n_vars, a.obs_names.name]


@snippet
def concat_three(ad, rec):
    a = mk(ad)
    b = mk(ad, n=2)
    b.obs_names = ["x0", "x1"]
    c = mk(ad, n=3)
    c.obs_names = ["y0", "y1", "y2"]
    rec["c"] = ad.concat([a, b, c], label="part")


@snippet
def concat_keys_without_label(ad, rec):
    a, b = _pair(ad)
    rec["c"] = ad.concat([a, b], keys=["k1", "k2"], index_unique="|")


@snippet
def concat_index_unique_default_keys(ad, rec):
    a = mk(ad)
    rec["c"] = ad.concat([a, a], index_unique="-")


@snippet(expected_difference="no SparseEfficiencyWarning from scipy (annstore fills without changing sparsity in place)",
         ignore=("__warnings__",))
def concat_fill_value_sparse(ad, rec):
    rec["c"] = ad.concat(_pair(ad, "csc"), join="outer", fill_value=7)


@snippet
def concat_axis_var_label(ad, rec):
    a, b = mk(ad), mk(ad, m=2)
    b.var_names = ["h0", "h1"]
    rec["c"] = ad.concat([a, b], axis=1, label="L", merge="same")


@snippet
def concat_obs_dtype_mismatch(ad, rec):
    a, b = _pair(ad)
    b.obs["int"] = b.obs["int"].astype(float)
    b.obs["num"] = b.obs["num"].astype(str)
    rec["obs"] = ad.concat([a, b]).obs


@snippet
def concat_outer_categorical_bool_missing(ad, rec):
    a, b = _pair(ad)
    del b.obs["flag"]
    del b.obs["cat"]
    rec["obs"] = ad.concat([a, b], join="outer").obs


@snippet
def concat_some_X_none(ad, rec):
    a, b = _pair(ad)
    b.X = None
    rec["c"] = rec.call("c", lambda: ad.concat([a, b]))


@snippet
def concat_reordered_vars(ad, rec):
    a = mk(ad)
    b = mk(ad)[:, ::-1].copy()
    b.obs_names = [f"d{i}" for i in range(6)]
    rec["c"] = ad.concat([a, b])


@snippet
def concat_uns_nested_same(ad, rec):
    a, b = _pair(ad)
    rec["uns"] = ad.concat([a, b], uns_merge="same").uns


@snippet
def concat_merge_varm_varp(ad, rec):
    a = mk(ad)
    b = mk(ad)
    b.obs_names = [f"d{i}" for i in range(6)]
    b.varm["load"] = b.varm["load"] + 1
    c = ad.concat([a, b], merge="same")
    rec["varm"] = dict(c.varm)
    rec["varp"] = dict(c.varp)


@snippet
def concat_obsm_dataframes(ad, rec):
    a, b = _pair(ad)
    rec["df"] = ad.concat([a, b]).obsm["df"]


@snippet
def concat_raw_partial(ad, rec):
    a, b = _pair(ad)
    a.raw = a
    rec["c"] = rec.call("c", lambda: ad.concat([a, b]).raw is None)


@snippet
def misc_to_df_int(ad, rec):
    rec["df"] = mk(ad, full=False).to_df(layer=None)


@snippet(expected_difference="obsm.to_df() densifies sparse values (anndata 0.13.4 raises TypeError)",
         ignore=("__error__", "df"))
def misc_obsm_to_df_sparse(ad, rec):
    a = ad.AnnData(_X(), obsm={"s": sparse.csr_matrix(np.eye(6, 2))})
    rec["df"] = a.obsm.to_df()


@snippet
def misc_chunk_X_default_small(ad, rec):
    a = mk(ad)
    np.random.seed(0)
    rec["shape"] = a.chunk_X(3).shape


@snippet
def misc_raw_var_names(ad, rec):
    a = mk(ad)
    a.raw = a[:, 1:]
    rec["names"] = a.raw.var_names
    rec["n"] = [a.raw.n_obs, a.raw.n_vars]


@snippet
def misc_raw_from_view_parent(ad, rec):
    a = mk(ad)
    v = a[:3]
    a2 = v.copy()
    a2.raw = v
    rec["raw"] = a2.raw


@snippet
def view_inplace_add_X(ad, rec):
    a = mk(ad)
    v = a[:2]

    def f():
        v.X += 1

    rec.call("iadd", f)
    rec["v_X"] = v.X
    rec["is_view"] = v.is_view
    rec["parent_X"] = a.X


@snippet
def view_inplace_mul_sparse_layer(ad, rec):
    a = mk(ad, "csr")
    v = a[1:3]

    def f():
        v.layers["counts"] = v.layers["counts"] * 3

    rec.call("mul", f)
    rec["v_layer"] = v.layers["counts"]
    rec["parent_layer"] = a.layers["counts"]


@snippet
def view_copy_of_view_of_view(ad, rec):
    c = mk(ad, "csr_array")[::-1][[0, 2, 4], :3].copy()
    rec["c"] = c


@snippet
def view_obsm_column_slice(ad, rec):
    v = mk(ad)[1:4]
    rec["col"] = v.obsm["pca"][:, 0]
    rec["type"] = type(v.obsm["pca"][:, 0]).__name__


@snippet
def view_var_categories_removed(ad, rec):
    a = mk(ad)
    a.uns["g_colors"] = np.array(["#111", "#222", "#333"])
    v = a[:, [0, 2]]
    rec["g"] = v.var["g"]
    rec["colors"] = v.uns["g_colors"]


@snippet
def view_single_column_X(ad, rec):
    v = mk(ad, "csc")[:, "g1"]
    rec["X"] = v.X
    rec["shape"] = v.shape


@snippet
def empty_adata_indexing(ad, rec):
    a = ad.AnnData(shape=(0, 0))
    rec["v"] = a[:]
    rec["r"] = repr(a)


@snippet
def zero_obs_X(ad, rec):
    a = ad.AnnData(np.zeros((0, 3)))
    rec["a"] = a
    rec["v"] = a[:, :2]


@snippet
def names_make_unique_with_nan(ad, rec):
    a = ad.AnnData(_X(4, 2), obs=pd.DataFrame(index=pd.Index(["a", None, "a", None], dtype=object)))
    rec.call("mu", a.obs_names_make_unique)
    rec["names"] = list(a.obs_names.astype(object))


@snippet
def strings_to_categoricals_all_unique(ad, rec):
    a = ad.AnnData(_X(3, 2), obs=pd.DataFrame({"u": ["x", "y", "z"], "d": ["p", "p", "q"]}, index=list("abc")))
    a.strings_to_categoricals()
    rec["dtypes"] = [str(t) for t in a.obs.dtypes]
    rec["d"] = a.obs["d"]


@snippet
def uns_numpy_scalars(ad, rec):
    a = ad.AnnData(_X(), uns={"f": np.float32(1.5), "i": np.int64(3), "s": np.str_("x"), "b": np.bool_(True)})
    rec["uns"] = {k: type(v).__name__ for k, v in a[:2].uns.items()}
    rec["copy"] = {k: type(v).__name__ for k, v in a.copy().uns.items()}


@snippet
def view_del_obs_categorical_colors(ad, rec):
    a = mk(ad)
    v = a[:3]
    rec["uns_keys"] = sorted(v.uns)
    rec["colors_type"] = type(v.uns["cat_colors"]).__name__


@snippet
def raw_obs_vector_sparse(ad, rec):
    a = mk(ad, "csr")
    a.raw = a
    rec["ov"] = a.raw.obs_vector("g1")
    rec["view_ov"] = a[::2].raw.obs_vector("g3")


@snippet
def to_memory_with_raw(ad, rec):
    a = mk(ad)
    a.raw = a
    rec["m"] = a.to_memory()


@snippet
def concat_pairwise_outer(ad, rec):
    rec["c"] = ad.concat(_pair(ad), pairwise=True, join="outer")


@snippet
def concat_axis_var_pairwise(ad, rec):
    a, b = mk(ad), mk(ad, m=2)
    b.var_names = ["h0", "h1"]
    rec["c"] = ad.concat([a, b], axis=1, pairwise=True, merge="first")


@snippet
def concat_dict_keys_order(ad, rec):
    a, b = _pair(ad)
    rec["obs_names"] = ad.concat({"second": b, "first": a}, label="k", index_unique="@").obs


@snippet(expected_difference="reworded error message", error_type_only=True)
def concat_bad_join(ad, rec):
    rec.call("c", lambda: ad.concat(_pair(ad), join="sideways"))


@snippet(expected_difference="reworded error message", error_type_only=True)
def concat_bad_axis(ad, rec):
    rec.call("c", lambda: ad.concat(_pair(ad), axis=2))


@snippet(expected_difference="reworded error message", error_type_only=True)
def concat_label_keys_length_mismatch(ad, rec):
    rec.call("c", lambda: ad.concat(_pair(ad), label="b", keys=["only_one"]))


@snippet(expected_difference="`adata.obsm = d` copies d (anndata keeps the caller's dict)", ignore=("later_key_seen",))
def mutate_obsm_assign_keeps_dict(ad, rec):
    a = mk(ad)
    d = {"z": np.zeros((6, 2))}
    a.obsm = d
    d["late"] = np.ones((6, 1))
    rec["later_key_seen"] = "late" in a.obsm


class _ShapeDtype:
    """An array-like with only ``shape`` and ``dtype`` (and slicing)."""

    def __init__(self, arr: np.ndarray) -> None:
        self._arr = arr
        self.shape = arr.shape
        self.dtype = arr.dtype

    def __getitem__(self, idx: Any) -> Any:
        return self._arr[idx]


@snippet(expected_difference="X/obsm accept any object with .shape and .dtype (anndata rejects unknown types)",
         ignore=("x", "x_shape", "obsm", "obsm_keys"))
def construct_shape_dtype_object(ad, rec):
    rec["x_shape"] = rec.call("x", lambda: ad.AnnData(_ShapeDtype(_X())).shape)
    rec["obsm_keys"] = rec.call("obsm", lambda: list(ad.AnnData(_X(), obsm={"o": _ShapeDtype(np.ones((6, 2)))}).obsm))

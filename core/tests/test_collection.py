"""AnnCollection: indexing, joins, converters and to_adata, checked against annstore.concat."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore.experimental import AnnCollection


def _dense(x: Any) -> np.ndarray:
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def make_adatas(*, x_kind: str = "csr", seed: int = 0) -> list[ad.AnnData]:
    """Three objects with overlapping variables, mixed dtypes, categoricals, obsm and layers."""
    rng = np.random.default_rng(seed)
    specs = [(40, list("ABCDEFGH"), np.float32), (25, list("BCDEFGHI"), np.float64), (30, list("HGFEDCBA"), np.int32)]
    out = []
    for i, (n, var, dt) in enumerate(specs):
        dense = (rng.random((n, len(var))) < 0.3) * rng.integers(1, 9, (n, len(var)))
        X = sparse.csr_matrix(dense.astype(dt)) if x_kind == "csr" else dense.astype(dt)
        obs = pd.DataFrame(
            {
                "n": np.arange(n) + 100 * i,
                "f": rng.random(n).astype(np.float32 if i == 0 else np.float64),
                "cat": pd.Categorical(rng.choice(["a", "b"], n), categories=["a", "b"]),
                f"only{i}": np.arange(n),
            },
            index=[f"cell{i}_{j}" for j in range(n)],
        )
        out.append(
            ad.AnnData(
                X,
                obs=obs,
                var=pd.DataFrame(index=var),
                obsm={"pca": rng.random((n, 3)), "w": rng.random((n, 2 + i))},
                layers={"counts": (dense * 2).astype(np.int64)},
            )
        )
    return out


@pytest.fixture
def adatas() -> list[ad.AnnData]:
    return make_adatas()


def _concat(adatas: list[Any], **kw: Any) -> ad.AnnData:
    return ad.concat(adatas, join="inner", **kw)


def _check_view(view: Any, ref: ad.AnnData) -> None:
    """Compare X, layers and obs columns of a collection view with an AnnData selection."""
    assert view.shape == ref.shape
    assert list(view.obs_names) == list(ref.obs_names)
    assert list(view.var_names) == list(ref.var_names)
    np.testing.assert_array_equal(_dense(view.X), _dense(ref.X))
    assert view.X.dtype == ref.X.dtype
    np.testing.assert_array_equal(_dense(view.layers["counts"]), _dense(ref.layers["counts"]))


# ----------------------------------------------------------------- basic shape and joins


@pytest.mark.parametrize("x_kind", ["csr", "dense"])
def test_full_selection_matches_concat(x_kind: str) -> None:
    adatas = make_adatas(x_kind=x_kind)
    coll = AnnCollection(adatas, join_vars="inner", label="batch", keys=["x", "y", "z"], index_unique="-")
    cat = _concat(adatas, label="batch", keys=["x", "y", "z"], index_unique="-")
    assert coll.shape == cat.shape == (95, 7)
    assert coll.n_obs == len(coll) == 95 and coll.n_vars == 7
    assert list(coll.var_names) == list(cat.var_names)
    assert list(coll.obs_names) == list(cat.obs_names)
    _check_view(coll[:], cat)
    assert sparse.issparse(coll[:].X) == (x_kind == "csr")


@pytest.mark.parametrize("join_obs", ["inner", "outer"])
def test_obs_join_matches_concat(adatas: list[ad.AnnData], join_obs: str) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obs=join_obs, label="batch", keys=["x", "y", "z"])
    cat = ad.concat(adatas, join=join_obs, label="batch", keys=["x", "y", "z"])
    assert list(coll.obs.columns) == list(cat.obs.columns)
    for col in coll.obs.columns:
        np.testing.assert_array_equal(coll.obs[col].to_numpy(), cat.obs[col].to_numpy(), err_msg=col)
    assert coll.obs["batch"].dtype == "category"
    idx = [94, 3, 50, 41, 3]
    v = coll[idx]
    assert v.obs is not None
    for col in coll.obs.columns:
        got = v.obs[col]
        assert isinstance(got, pd.Series)
        assert list(got.index) == list(cat.obs_names[idx])
        np.testing.assert_array_equal(got.to_numpy(), cat.obs[col].to_numpy()[idx])
    df = v.obs.df
    assert list(df.index) == list(cat.obs_names[idx])
    assert list(df.columns) == list(coll.obs.columns)


def test_obs_view_without_join(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None, label="batch")
    cat = _concat(adatas)
    assert list(coll.obs.columns) == ["batch"]
    assert coll.attrs_keys["obs"] == ["n", "f", "cat"]  # columns common to all three
    idx = np.array([90, 0, 45, 44, 41])
    v = coll[idx]
    np.testing.assert_array_equal(v.obs["n"], cat.obs["n"].to_numpy()[idx])
    f = v.obs["f"]
    assert f.dtype == np.float64  # harmonised: float32 + float64
    np.testing.assert_allclose(f, cat.obs["f"].to_numpy()[idx])
    assert list(v.obs["cat"]) == list(cat.obs["cat"].to_numpy()[idx])
    assert "only0" not in v.obs
    with pytest.raises(KeyError, match="only0"):
        v.obs["only0"]


def test_obsm_inner_join_matches_concat(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obsm="inner")
    cat = _concat(adatas)
    assert coll.obsm is not None
    assert set(coll.obsm) == set(cat.obsm) == {"pca", "w"}
    for k in cat.obsm:
        np.testing.assert_array_equal(coll.obsm[k], cat.obsm[k])
    assert coll.obsm["w"].shape == (95, 2)  # narrowest width, as concat's inner join
    v = coll[[5, 60, 2]]
    np.testing.assert_array_equal(v.obsm["w"], cat.obsm["w"][[5, 60, 2]])


def test_obsm_view_keeps_keys_of_equal_width(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    assert coll.obsm is None
    assert coll.attrs_keys["obsm"] == ["pca"]  # "w" has a different width in each object
    cat = _concat(adatas)
    idx = [70, 1, 45]
    np.testing.assert_array_equal(coll[idx].obsm["pca"], cat.obsm["pca"][idx])


def test_different_vars_need_join_vars(adatas: list[ad.AnnData]) -> None:
    with pytest.raises(ValueError, match="join_vars='inner'"):
        AnnCollection(adatas)


def test_same_vars_need_no_join(adatas: list[ad.AnnData]) -> None:
    a, b = adatas[0], adatas[0][:10].copy()
    b.obs_names = [f"x{i}" for i in range(10)]
    coll = AnnCollection([a, b])
    assert coll.shape == (50, 8)
    np.testing.assert_array_equal(_dense(coll[45:].X), _dense(a.X[5:10]))


def test_mapping_input_uses_keys(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(dict(zip("pqr", adatas, strict=True)), join_vars="inner", label="src", index_unique="_")
    assert list(coll.obs["src"].cat.categories) == ["p", "q", "r"]
    assert coll.obs_names[0] == "cell0_0_p"
    with pytest.raises(TypeError, match="keys"):
        AnnCollection(dict(zip("pqr", adatas, strict=True)), join_vars="inner", keys=["a", "b", "c"])


def test_duplicate_obs_names_warn(adatas: list[ad.AnnData]) -> None:
    with pytest.warns(UserWarning, match="not unique"):
        AnnCollection([adatas[0], adatas[0]])


# ----------------------------------------------------------------- indexing


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(slice(None), id="all"),
        pytest.param(slice(10, 80, 3), id="step-slice"),
        pytest.param(slice(None, None, -1), id="reverse"),
        pytest.param([94, 0, 41, 40, 39, 65, 0], id="unsorted-dups"),
        pytest.param(7, id="int"),
        pytest.param(-1, id="negative-int"),
        pytest.param("mask", id="mask"),
        pytest.param("names", id="names"),
        pytest.param(([3, 90, 50], ["D", "B"]), id="obs-and-var-names"),
        pytest.param((slice(30, 70), slice(1, 5)), id="two-slices"),
        pytest.param((np.array([60, 2]), np.array([True, False, True, True, False, False, True])), id="var-mask"),
        pytest.param(([], slice(None)), id="empty"),
    ],
)
def test_indexing_matches_concat(adatas: list[ad.AnnData], index: Any) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    cat = _concat(adatas)
    if isinstance(index, str) and index == "mask":
        index = np.random.default_rng(3).random(95) < 0.4
    elif isinstance(index, str) and index == "names":
        index = list(cat.obs_names[[80, 12, 44]])
    _check_view(coll[index], cat[index])


def test_view_of_view(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    cat = _concat(adatas)
    v = coll[10:90][::-2, [6, 0, 3]][[1, 5, 2]]
    ref = cat[10:90][::-2, [6, 0, 3]][[1, 5, 2]]
    _check_view(v, ref)
    assert v.obs is not None
    np.testing.assert_array_equal(v.obs["n"].to_numpy(), ref.obs["n"].to_numpy())


def test_index_errors(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    with pytest.raises(IndexError):
        coll[[0, 95]]
    with pytest.raises(IndexError):
        coll[np.ones(3, dtype=bool)]
    with pytest.raises(KeyError):
        coll["nope"]


def test_indices_not_strict_sorts_rows(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", indices_strict=False)
    cat = _concat(adatas)
    v = coll[[70, 5, 41, 5]]
    assert list(v.obs_names) == list(cat.obs_names[[5, 5, 41, 70]])
    np.testing.assert_array_equal(_dense(v.X), _dense(cat.X[[5, 5, 41, 70]]))


# ----------------------------------------------------------------- dtypes and converters


def test_harmonized_dtypes(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    expected = np.result_type(np.float32, np.float64, np.int32)
    assert coll[:3].X.dtype == expected  # rows of the float32 object only
    assert coll[-3:].X.dtype == expected  # rows of the int32 object only
    raw = AnnCollection(adatas, join_vars="inner", harmonize_dtypes=False)
    assert raw[:3].X.dtype == np.float32
    assert raw[-3:].X.dtype == np.int32


def test_convert_callable_and_mapping(adatas: list[ad.AnnData]) -> None:
    cat = _concat(adatas)
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None, convert=lambda a: ("c", a))
    v = coll[[1, 2]]
    tag, x = v.X
    assert tag == "c"
    np.testing.assert_array_equal(_dense(x), _dense(cat.X[[1, 2]]))
    assert v.obs["n"][0] == "c"
    conv = {
        "X": lambda a: _dense(a) * 10,
        "obsm": lambda a: a.astype(np.float32),
        "obs": {"n": lambda c: c + 1},
    }
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None, convert=conv)
    v = coll[[1, 50]]
    np.testing.assert_array_equal(v.X, _dense(cat.X[[1, 50]]) * 10)
    assert v.obsm["pca"].dtype == np.float32
    np.testing.assert_array_equal(v.obs["n"], cat.obs["n"].to_numpy()[[1, 50]] + 1)
    np.testing.assert_array_equal(v.obs["f"], cat.obs["f"].to_numpy()[[1, 50]])  # no converter
    assert v.obs.to_dict(use_convert=False)["n"].tolist() == cat.obs["n"].to_numpy()[[1, 50]].tolist()
    np.testing.assert_array_equal(_dense(v.layers["counts"]), _dense(cat.layers["counts"][[1, 50]]))


# ----------------------------------------------------------------- to_adata, lazy_attr, iteration


def test_to_adata(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None, join_obsm="inner", label="batch")
    cat = _concat(adatas, label="batch")
    full = coll.to_adata()
    assert full.shape == cat.shape and full.X is None
    assert list(full.obs.columns) == ["batch", "n", "f", "cat"]
    np.testing.assert_array_equal(full.obs["n"].to_numpy(), cat.obs["n"].to_numpy())
    np.testing.assert_array_equal(full.obsm["w"], cat.obsm["w"])
    idx = [3, 60, 44]
    sub = coll[idx].to_adata()
    ref = cat[idx]
    np.testing.assert_array_equal(_dense(sub.X), _dense(ref.X))
    np.testing.assert_array_equal(_dense(sub.layers["counts"]), _dense(ref.layers["counts"]))
    assert list(sub.obs_names) == list(ref.obs_names)
    np.testing.assert_array_equal(sub.obs["f"].to_numpy(), ref.obs["f"].to_numpy())
    assert coll[idx].to_adata(ignore_X=True, ignore_layers=True).X is None


def test_lazy_attr(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None)
    cat = _concat(adatas)
    pca = coll.lazy_attr("obsm", "pca")
    assert pca.shape == (95, 3) and pca.ndim == 2 and pca.dtype == np.float64
    np.testing.assert_array_equal(pca[[4, 80]], cat.obsm["pca"][[4, 80]])
    np.testing.assert_array_equal(pca[[4, 80], 1], cat.obsm["pca"][[4, 80], 1])
    x = coll.lazy_attr("X")
    assert x.shape == (95, 7)
    np.testing.assert_array_equal(_dense(x[10:12]), _dense(cat.X[10:12]))
    n = coll.lazy_attr("obs", "n")
    assert n.shape == (95,)
    np.testing.assert_array_equal(n[[0, 94]], cat.obs["n"].to_numpy()[[0, 94]])
    with pytest.raises(ValueError, match="attr"):
        coll.lazy_attr("var")


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterate_axis(adatas: list[ad.AnnData], drop_last: bool) -> None:
    coll = AnnCollection(adatas, join_vars="inner")
    cat = _concat(adatas)
    seen = []
    for batch, idx in coll.iterate_axis(20, drop_last=drop_last):
        np.testing.assert_array_equal(_dense(batch.X), _dense(cat.X[idx]))
        seen.extend(idx)
    assert seen == list(range(80 if drop_last else 95))
    np.random.seed(1)
    shuffled = [i for _, idx in coll.iterate_axis(30, shuffle=True) for i in idx]
    assert sorted(shuffled) == list(range(95)) and shuffled != list(range(95))
    cols = [(b.shape, idx) for b, idx in coll.iterate_axis(3, axis=1, drop_last=drop_last)]
    assert [c[1] for c in cols] == ([[0, 1, 2], [3, 4, 5]] + ([] if drop_last else [[6]]))
    assert cols[0][0] == (95, 3)
    with pytest.raises(ValueError, match="axis"):
        next(coll.iterate_axis(3, axis=2))  # type: ignore[arg-type]


def test_repr_follows_anndata(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", join_obs=None, label="batch")
    lines = repr(coll).splitlines()
    assert lines[0] == "AnnCollection object with n_obs × n_vars = 95 × 7"
    assert lines[1] == "  constructed from 3 AnnData objects"
    assert "    view of obs: 'n', 'f', 'cat'" in lines
    layer_keys = str(list(adatas[0].layers.keys()))[1:-1].replace("None", "None (.X)")
    assert f"    view of layers: {layer_keys}" in lines
    assert set(coll.attrs_keys["layers"]) == {"counts", None}
    assert lines[-1] == "    own obs: 'batch'"
    vlines = repr(coll[:5, :2]).splitlines()
    assert vlines[0] == "AnnCollectionView object with n_obs × n_vars = 5 × 2"
    assert "    obsm: 'pca'" in vlines


def test_view_pickles_as_snapshot(adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(adatas, join_vars="inner", convert={"X": _dense})
    v = coll[[5, 77]]
    w = pickle.loads(pickle.dumps(v))
    assert w.reference is None
    np.testing.assert_array_equal(w.X, _dense(_concat(adatas).X[[5, 77]]))
    np.testing.assert_array_equal(w.obsm["pca"], v.obsm["pca"])
    np.testing.assert_array_equal(w.layers[None], w.X)
    assert list(w.obs_names) == list(v.obs_names)


# ----------------------------------------------------------------- backed members


def _h5ad_available() -> bool:
    return "h5ad" in ad.list_formats()


@pytest.fixture
def backed_files(tmp_path: Path, adatas: list[ad.AnnData]) -> list[Path]:
    if not _h5ad_available():
        pytest.skip("requires annstore-h5ad")
    paths = []
    for i, a in enumerate(adatas):
        p = tmp_path / f"a{i}.h5ad"
        a.write_h5ad(p)
        paths.append(p)
    return paths


def _open_backed(paths: list[Path]) -> list[ad.AnnData]:
    try:
        return [ad.read_h5ad(p, backed="r") for p in paths]
    except (ImportError, NotImplementedError) as e:  # backed mode not installed
        pytest.skip(f"backed mode is not available: {e}")


@pytest.mark.parametrize("source", ["backed", "paths", "mixed"])
def test_backed_members_match_in_memory(adatas: list[ad.AnnData], backed_files: list[Path], source: str) -> None:
    if source == "backed":
        items: list[Any] = _open_backed(backed_files)
    elif source == "paths":
        items = list(backed_files)
    else:
        items = [adatas[0], _open_backed(backed_files[1:2])[0], backed_files[2]]
    coll = AnnCollection(items, join_vars="inner", join_obs="outer", label="b")
    assert coll.has_backed
    cat = _concat(adatas, label="b")
    for index in ([94, 1, 60, 41, 41, 0], slice(20, 70, 7), ([3, 50, 90], ["H", "C"])):
        _check_view(coll[index], cat[index])
    np.testing.assert_array_equal(coll[[2, 88]].obsm["pca"], cat.obsm["pca"][[2, 88]])
    coll.close()


def test_backed_view_member(adatas: list[ad.AnnData], backed_files: list[Path]) -> None:
    b = _open_backed(backed_files[:1])[0]
    sub = b[5:30:2, [1, 3, 5, 7]]
    coll = AnnCollection([sub, adatas[0][5:30:2, [1, 3, 5, 7]].copy()], index_unique="-")
    ref = adatas[0][5:30:2, [1, 3, 5, 7]]
    n = ref.n_obs
    np.testing.assert_array_equal(_dense(coll[:n].X), _dense(ref.X))
    np.testing.assert_array_equal(_dense(coll[[n - 1, 0, 3]].X), _dense(ref.X[[n - 1, 0, 3]]))


def test_backed_dense_x(tmp_path: Path) -> None:
    if not _h5ad_available():
        pytest.skip("requires annstore-h5ad")
    a = make_adatas(x_kind="dense")[0]
    a.write_h5ad(tmp_path / "d.h5ad")
    coll = AnnCollection([tmp_path / "d.h5ad"])
    idx = [39, 2, 3, 4, 17, 2]
    np.testing.assert_array_equal(coll[idx].X, a.X[idx])
    np.testing.assert_array_equal(coll[idx, ["H", "A"]].X, a[idx, ["H", "A"]].X)


def test_backed_reads_only_selected_rows_in_runs(backed_files: list[Path], adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection([backed_files[0]])
    el = coll._members[0]._elements[None][0]
    src = el._source
    assert src is not None
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    orig = src.read_nnz_ranges

    def spy(starts: np.ndarray, stops: np.ndarray) -> Any:
        calls.append((np.asarray(starts).copy(), np.asarray(stops).copy()))
        return orig(starts, stops)

    src.read_nnz_ranges = spy  # type: ignore[method-assign]
    rows = [30, 3, 4, 5, 31, 12]
    X = coll[rows].X
    np.testing.assert_array_equal(_dense(X), _dense(adatas[0].X[rows]))
    assert len(calls) == 1
    starts, stops = calls[0]
    indptr = adatas[0].X.indptr
    # runs {3,4,5}, {12}, {30,31}: three ranges covering exactly those rows' entries
    np.testing.assert_array_equal(starts, indptr[[3, 12, 30]])
    np.testing.assert_array_equal(stops, indptr[[6, 13, 32]])


def test_collection_with_backed_members_pickles(backed_files: list[Path], adatas: list[ad.AnnData]) -> None:
    coll = AnnCollection(_open_backed(backed_files), join_vars="inner")
    clone = pickle.loads(pickle.dumps(coll))
    assert clone.adatas == [None, None, None]  # backed objects are not shipped; files reopen by path
    cat = _concat(adatas)
    _check_view(clone[[90, 1, 45]], cat[[90, 1, 45]])
    clone.close()


def test_import_does_not_pull_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, annstore, annstore.experimental as e; e.AnnCollection; "
        "bad = [m for m in ('torch', 'h5py', 'zarr') if m in sys.modules]; "
        "assert not bad, bad"
    )
    with warnings.catch_warnings():
        subprocess.run([sys.executable, "-c", code], check=True)

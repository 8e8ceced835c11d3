"""annstore.acc: references built from ``A``, resolved with ``adata[ref]`` (anndata 0.13.4's accessor API)."""

from __future__ import annotations

import importlib.resources
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore import acc
from annstore.acc import NO_IDX, A


@pytest.fixture
def adata() -> ad.AnnData:
    """4 × 3 with a dense X, a sparse layer, obs/var columns, obsm, varm, obsp and varp."""
    return ad.AnnData(
        np.arange(12, dtype=float).reshape(4, 3),
        obs=pd.DataFrame({"t": pd.Categorical(list("abab")), "n": [1, 2, 3, 4]}, index=[f"c{i}" for i in range(4)]),
        var=pd.DataFrame({"sym": ["x", "y", "z"]}, index=["g0", "g1", "g2"]),
        layers={"counts": sparse.csr_matrix(np.arange(12).reshape(4, 3) * 10)},
        obsm={"pca": np.arange(8, dtype=float).reshape(4, 2)},
        varm={"load": np.ones((3, 2))},
        obsp={"dist": sparse.csr_array(np.arange(16, dtype=float).reshape(4, 4))},
        varp={"cons": np.arange(9, dtype=float).reshape(3, 3)},
    )


REFS = [
    A.X[:, :],
    A.X[:, "g1"],
    A.X["c2", :],
    A.layers["counts"][:, "g0"],
    A.layers["counts"]["c1", :],
    A.obs["t"],
    A.obs.index,
    A.var["sym"],
    A.obsm["pca"][0],
    A.obsm["pca"][-1],
    A.varm["load"][:, 1],
    A.obsp["dist"]["c1", :],
    A.obsp["dist"][:, "c3"],
    A.varp["cons"][:, :],
]


# ---------------------------------------------------------------------------- building references


@pytest.mark.parametrize("ref", REFS, ids=str)
def test_repr_is_code(ref: acc.AdRef) -> None:
    assert repr(ref) == str(ref)
    assert eval(repr(ref), {"A": A}) == ref


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        (A.X[:, "g1"], "A.X[:, 'g1']"),
        (A.layers["counts"]["c1", :], "A.layers['counts']['c1', :]"),
        (A.obs.index, "A.obs.index"),
        (A.obsm["pca"][0], "A.obsm['pca'][:, 0]"),
        (A.obsp["dist"][:, :], "A.obsp['dist'][:, :]"),
        (A.varm, "A.varm"),
        (A.layers, "A.layers"),
        (A.X, "A.X"),
        (A, "A"),
    ],
)
def test_repr_text(ref: object, text: str) -> None:
    assert repr(ref) == text


def test_refs_hash_and_compare() -> None:
    """Slices in indices hash (they do not on Python 3.11), equal refs collapse in a set."""
    assert len({A.X[:, :], A.X[:, :], A.obs.index, A.varp["cons"]["g1", :]}) == 3
    assert A.X == A.layers[None]
    assert A.obsm["pca"][0] == A.obsm["pca"][:, 0]
    assert A.obs["t"] != A.var["t"]
    assert A.obs["t"] == "obs.t"
    assert A.obsm["pca"][1] == "obsm.pca.1"
    assert A.obs["t"] != "not a spec"
    assert acc.AdAcc() == A


@pytest.mark.parametrize(
    ("ref", "dims"),
    [
        (A.X[:, :], {"obs", "var"}),
        (A.layers["l"]["c", :], {"var"}),
        (A.X[:, "g"], {"obs"}),
        (A.var["a"], {"var"}),
        (A.obsm["c"][:, 0], {"obs"}),
        (A.varp["d"][:, :], ("var", "var")),
        (A.varp["d"][:, "g"], {"var"}),
    ],
)
def test_dims(ref: acc.AdRef, dims: object) -> None:
    assert ref.dims == dims


def test_match_args() -> None:
    match A.obsm["pca"][1]:
        case acc.AdRef(acc.MultiAcc(dim, k), i):
            assert (dim, k, i) == ("obs", "pca", 1)
        case _:
            pytest.fail("no match")
    assert acc.LayerAcc.__match_args__ == ("k",)
    assert acc.MultiMapAcc.__match_args__ == ("dim",)


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: A.X["c1"], TypeError, r"is not a tuple\. Did you mean `A\.X\['c1', :\]`"),
        (lambda: A.X[:3, :], ValueError, "not `:` or a string"),
        (lambda: A.X[:, b""], ValueError, "not `:` or a string"),
        (lambda: A.X["a", "b"], TypeError, "Invalid index"),
        (lambda: A.X[["a"], ["b"]], TypeError, "at most one list"),
        (lambda: A.layers[1], TypeError, "Unsupported layer 1"),
        (lambda: A.obs[1], TypeError, "Unsupported obs column 1"),
        (lambda: A.obsm[0], TypeError, "Unsupported obsm key 0"),
        (lambda: A.obsm["a"][:3, 0], ValueError, "Unsupported slice"),
        (lambda: A.obsm["a"]["b"], TypeError, "Unsupported index 'b'"),
        (lambda: A.obsm["a"][True], TypeError, "Unsupported index True"),
        (lambda: A.obsm["a"][[True, False]], TypeError, "Unsupported index True"),
        (lambda: A.obsm["a"][np.int64(0)], TypeError, "Unsupported index"),
        (lambda: A.varp[0], TypeError, "Unsupported varp key 0"),
        (lambda: A.varp["x"][0, :], TypeError, "Unsupported index"),
        (lambda: A.varp["x"]["a", "b"], TypeError, r"should be \['c1', :\]"),
        (lambda: A.varp["x"][["a"], ["b"]], TypeError, "at most one list"),
    ],
)
def test_invalid_refs(make: object, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("as_list", [list, pd.Index], ids=["list", "Index"])
def test_list_shortcuts(as_list: type) -> None:
    assert A.obs[as_list(["a", "b"])] == [A.obs["a"], A.obs["b"]]
    assert A.X[as_list(["a", "b"]), :] == [A.X["a", :], A.X["b", :]]
    assert A.layers["l"][:, as_list(["x", "y"])] == [A.layers["l"][:, "x"], A.layers["l"][:, "y"]]
    assert A.varm["p"][as_list([0, 1])] == [A.varm["p"][0], A.varm["p"][1]]
    assert A.varm["p"][:, as_list([3])] == [A.varm["p"][3]]
    assert A.obsp["p"][as_list(["a", "b"]), :] == [A.obsp["p"]["a", :], A.obsp["p"]["b", :]]


# ---------------------------------------------------------------------------- resolving


def test_get_vectors(adata: ad.AnnData) -> None:
    X = adata.X
    counts = adata.layers["counts"].toarray()
    expected = {
        A.X[:, "g1"]: X[:, 1],
        A.X["c2", :]: X[2],
        A.layers["counts"][:, "g0"]: counts[:, 0],
        A.layers["counts"]["c1", :]: counts[1],
        A.obsm["pca"][0]: adata.obsm["pca"][:, 0],
        A.obsm["pca"][-1]: adata.obsm["pca"][:, 1],
        A.varm["load"][:, 1]: np.ones(3),
        A.obsp["dist"]["c1", :]: adata.obsp["dist"].toarray()[1],
        A.obsp["dist"][:, "c3"]: adata.obsp["dist"].toarray()[:, 3],
        A.varp["cons"]["g2", :]: adata.varp["cons"][2],
    }
    for ref, exp in expected.items():
        got = adata[ref]
        assert type(got) is np.ndarray, ref
        np.testing.assert_array_equal(got, exp, strict=True)


def test_get_2d_and_columns(adata: ad.AnnData) -> None:
    assert sparse.issparse(adata[A.layers["counts"][:, :]])
    np.testing.assert_array_equal(adata[A.X[:, :]], adata.X)
    t = adata[A.obs["t"]]
    assert isinstance(t, pd.Categorical)
    assert list(t) == list("abab")
    assert isinstance(adata[A.obs["n"]], pd.api.extensions.ExtensionArray)
    assert list(adata[A.obs.index]) == ["c0", "c1", "c2", "c3"]
    assert list(adata[A.var["sym"]]) == ["x", "y", "z"]


def test_get_vector_is_not_a_window_into_a_view(adata: ad.AnnData) -> None:
    """A row of a view's dense X comes back as a copy: writing to it leaves the parent alone."""
    row = adata[:2][A.X["c1", :]]
    row[:] = -1
    assert adata.X[1, 0] == 3.0
    np.testing.assert_array_equal(adata[1:][A.X[:, "g0"]], [3.0, 6.0, 9.0])


def test_get_whole_containers(adata: ad.AnnData) -> None:
    assert adata[A.X] is adata.X
    assert adata[A.layers["counts"]] is adata.layers["counts"]
    assert adata[A.obs] is adata.obs
    assert adata[A.obsm["pca"]] is adata.obsm["pca"]
    assert adata[A.varp["cons"]] is adata.varp["cons"]
    assert A.obsm["pca"].get(adata, NO_IDX) is adata.obsm["pca"]
    with pytest.raises(IndexError, match=r"Cannot index with A\.obsm because"):
        adata[A.obsm]


@pytest.mark.parametrize("i", [2, -3])
def test_get_multi_out_of_range(adata: ad.AnnData, i: int) -> None:
    with pytest.raises(IndexError, match=rf"Column index `{i}` is out of range for A\.obsm\['pca'\] with 2 columns\."):
        adata[A.obsm["pca"][i]]


def test_get_dataframe_in_obsm(adata: ad.AnnData) -> None:
    """An obsm DataFrame's column by position (anndata 0.13.4 raises pandas' InvalidIndexError)."""
    adata.obsm["df"] = pd.DataFrame({"u": [5, 6, 7, 8]}, index=adata.obs_names)
    assert list(adata[A.obsm["df"][0]]) == [5, 6, 7, 8]


def test_get_missing_raises_key_error(adata: ad.AnnData) -> None:
    for ref in (A.obs["nope"], A.layers["nope"][:, "g0"], A.X[:, "nope"], A.obsm["nope"][0]):
        with pytest.raises(KeyError):
            adata[ref]


def test_get_from_missing_x() -> None:
    a = ad.AnnData(obs=pd.DataFrame(index=["c0"]), var=pd.DataFrame(index=["g0"]))
    assert A.X[:, "g0"] not in a
    with pytest.raises(KeyError, match=r"Cannot get A\.X\[:, 'g0'\]: X is None"):
        a[A.X[:, "g0"]]


def test_get_dask(adata: ad.AnnData) -> None:
    da = pytest.importorskip("dask.array")
    adata.X = da.from_array(adata.X, chunks=(2, 2))
    adata.layers["counts"] = da.from_array(adata.layers["counts"], chunks=(2, 2))
    col = adata[A.X[:, "g1"]]
    assert isinstance(col, da.Array)
    np.testing.assert_array_equal(col.compute(), [1.0, 4.0, 7.0, 10.0], strict=True)
    row = adata[A.layers["counts"]["c1", :]]
    assert isinstance(row, da.Array)
    np.testing.assert_array_equal(row.compute(), [30, 40, 50], strict=True)


def test_raw(adata: ad.AnnData) -> None:
    adata.raw = adata
    np.testing.assert_array_equal(adata.raw[A.X[:, "g2"]], [2.0, 5.0, 8.0, 11.0])
    assert list(adata.raw[A.var["sym"]]) == ["x", "y", "z"]


def test_backed(adata: ad.AnnData, tmp_path: object) -> None:
    pytest.importorskip("annstore_h5ad")
    path = tmp_path / "a.h5ad"  # type: ignore[operator]
    adata.write_h5ad(path)
    b = ad.read_h5ad(path, backed="r")
    try:
        np.testing.assert_array_equal(b[A.X[:, "g1"]], [1.0, 4.0, 7.0, 10.0])
        np.testing.assert_array_equal(b[A.X["c3", :]], [9.0, 10.0, 11.0])
        assert A.X["c3", :] in b
    finally:
        b.file.close()


# ---------------------------------------------------------------------------- membership


@pytest.mark.parametrize(
    "ref",
    [*REFS, A.X, A.obs, A.layers, A.layers["counts"], A.obsm, A.obsm["pca"][-2], A.varp, A.varp["cons"]],
    ids=str,
)
def test_in(adata: ad.AnnData, ref: object) -> None:
    assert ref in adata


@pytest.mark.parametrize(
    "ref",
    [
        A.layers["counts"]["g0", :],
        A.layers["counts"][:, "c0"],
        A.layers["nope"],
        A.obs["nope"],
        A.obsm["pca"][2],
        A.obsm["pca"][-3],
        A.obsm["nope"],
        A.varp["cons"]["c1", :],
        A.obsp["nope"],
    ],
    ids=str,
)
def test_not_in(adata: ad.AnnData, ref: object) -> None:
    assert ref not in adata


def test_in_empty_and_bad_keys() -> None:
    empty = ad.AnnData()
    assert A.X[:, :] not in empty
    assert A.obs.index in empty
    assert A.varm not in empty
    with pytest.raises(TypeError, match=r"Unexpected key 't' is not a valid reference \(`anndata\.acc\.\*`\)"):
        "t" in empty  # noqa: B015


# ---------------------------------------------------------------------------- strings and JSON


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("X[:,:]", A.X[:, :]),
        ("X[:, g]", A.X[:, "g"]),
        ("layers.y[c,:]", A.layers["y"]["c", :]),
        ("obs.a", A.obs["a"]),
        ("var.b", A.var["b"]),
        ("obsm.c.0", A.obsm["c"][0]),
        ("varm.d.1", A.varm["d"][1]),
        ("obsp.g[:,c2]", A.obsp["g"][:, "c2"]),
        ("X", A.X),
        ("layers.y", A.layers["y"]),
        ("obsm.c", A.obsm["c"]),
        ("varp.h", A.varp["h"]),
    ],
)
def test_resolve(spec: str, expected: object) -> None:
    assert A.resolve(spec) == expected


@pytest.mark.parametrize(
    ("spec", "kwargs", "match"),
    [
        ("Xenon", {}, "Unknown accessor name 'Xenon'"),
        ("obs", {}, "isn’t period-separated"),
        ("uns.x", {}, r"Unknown accessor 'uns\.x'"),
        ("obsm.c.x", {}, "Cannot parse multi accessor"),
        ("X[a,b]", {}, "Unknown indices"),
        ("X", {"vec": True}, r"refers to a whole container, but vec=True was requested"),
        ("obs.a", {"vec": False}, r"refers to a vector/`AdRef`, but vec=False was requested"),
    ],
)
def test_resolve_errors(spec: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        A.resolve(spec, **kwargs)
    assert A.resolve(spec, strict=False, **kwargs) is None


@pytest.mark.parametrize(
    ("ref", "data"),
    [
        (A.X[:, :], ["layers", None, None, None]),
        (A.X["c", :], ["layers", None, "c", None]),
        (A.layers["a"][:, "g"], ["layers", "a", None, "g"]),
        (A.obs["t"], ["obs", "t"]),
        (A.var.index, ["var", None]),
        (A.obsm["u"][1], ["obsm", "u", 1]),
        (A.varp["c"]["g", :], ["varp", "c", "g", None]),
        (A.X, ["layers", None]),
        (A.obsm["u"], ["obsm", "u"]),
        (A.obsp["c"], ["obsp", "c"]),
    ],
)
def test_json_round_trip(ref: object, data: list) -> None:
    assert A.to_json(ref) == data
    assert A.from_json(data) == ref
    assert A.from_json(tuple(data)) == ref


def test_json_errors() -> None:
    with pytest.raises(TypeError, match=r"Unsupported accessor A\.obs"):
        A.to_json(A.obs)
    for bad in (["foo"], [], ["obsm", "x", True], ["layers", "a", "b"], "obs"):
        with pytest.raises(ValueError, match="Failed to parse"):
            A.from_json(bad)
    with pytest.raises(ValueError, match="vec"):
        A.from_json(["obsm", "u"], vec=True)
    with pytest.raises(ValueError, match="vec"):
        A.from_json(["obs", "t"], vec=False)


def test_json_schema() -> None:
    """The schema ships in the package; with jsonschema installed, refs and containers validate."""
    with importlib.resources.files("annstore.acc").joinpath("acc-schema-v1.json").open() as f:
        schema = json.load(f)
    assert set(schema["$defs"]) >= {"ref", "acc"}
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    registry = referencing.Resource.from_contents(schema) @ referencing.Registry()

    def valid(data: list, pointer: str) -> bool:
        try:
            jsonschema.validate(data, {"$ref": f"{schema['$id']}#{pointer}"}, registry=registry)
        except jsonschema.ValidationError:
            return False
        return True

    for ref in REFS:
        assert valid(A.to_json(ref), "/$defs/ref")
        assert not valid(A.to_json(ref), "/$defs/acc")
    assert valid(A.to_json(A.obsm["pca"]), "/$defs/acc")
    assert not valid(["layers", None, "c", "g"], "")


# ---------------------------------------------------------------------------- deprecated vectors


def test_obs_vector_warns_and_matches_accessor(adata: ad.AnnData) -> None:
    with pytest.warns(FutureWarning, match=r"Use anndata\.acc\.A instead of obs_vector\. E\.g\."):
        v = adata.obs_vector("g1")
    np.testing.assert_array_equal(v, adata[A.X[:, "g1"]])
    with pytest.warns(FutureWarning, match=r"The method var_vector is deprecated"):
        w = adata.var_vector("c1", layer="counts")
    np.testing.assert_array_equal(w, [30, 40, 50])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert isinstance(adata.obs_vector("t"), pd.Categorical)
        with pytest.raises(KeyError, match=r"Could not find key nope in \.var_names or \.obs\.columns\."):
            adata.obs_vector("nope")


def test_raw_vectors_do_not_warn(adata: ad.AnnData) -> None:
    adata.raw = adata
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(adata.raw.var_vector("c1"), [3.0, 4.0, 5.0])
        np.testing.assert_array_equal(adata.raw.obs_vector("g1"), [1.0, 4.0, 7.0, 10.0])


# ---------------------------------------------------------------------------- unwriteable


def test_unwriteable(adata: ad.AnnData) -> None:
    assert not adata.unwriteable()
    assert not adata.unwriteable(store_type="h5")
    adata.uns["nested"] = {"ok": np.arange(3), "t": (1, 2)}
    assert adata.unwriteable()
    del adata.uns["nested"]
    adata.var["iv"] = pd.Categorical.from_codes([0, 1, 0], categories=pd.IntervalIndex.from_tuples([(0, 1), (2, 3)]))
    assert adata.unwriteable(store_type="zarr")
    del adata.var["iv"]
    adata.uns["inner"] = ad.AnnData(uns={"bad": (1,)})
    assert adata.unwriteable()


@pytest.mark.parametrize("which", ["X", "layers"])
def test_non_2d_warns_and_is_unwriteable(which: str) -> None:
    """A 3-d X or layer is kept in memory with anndata's UserWarning, and reported unwriteable."""
    a = ad.AnnData(np.zeros((3, 4)))
    with pytest.warns(UserWarning, match="must be 2-dimensional"):
        if which == "X":
            a.X = np.zeros((3, 4, 5))
        else:
            a.layers["L"] = np.zeros((3, 4, 5))
    assert a.unwriteable()

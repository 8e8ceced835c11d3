"""Unit tests of the element encodings that the conformance suite does not reach."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore
from annstore.errors import OldFormatWarning
from annstore.io import IOSpec, get_registry, read_elem, write_elem
from annstore.io._memory import MemoryGroup
from annstore.io.encodings._anndata import read_anndata_root
from annstore.io._dispatch import ReadContext
from annstore.testing import assert_equal

SPEC_ENCODINGS = {
    ("anndata", "0.1.0"), ("raw", "0.1.0"), ("dict", "0.1.0"), ("null", "0.1.0"),
    ("dataframe", "0.2.0"), ("dataframe", "0.1.0"), ("array", "0.2.0"),
    ("string-array", "0.2.0"), ("rec-array", "0.2.0"), ("csr_matrix", "0.1.0"),
    ("csc_matrix", "0.1.0"), ("categorical", "0.2.0"), ("nullable-integer", "0.1.0"),
    ("nullable-boolean", "0.1.0"), ("nullable-string-array", "0.1.0"),
    ("numeric-scalar", "0.2.0"), ("string", "0.2.0"),
}


@pytest.fixture
def root() -> MemoryGroup:
    return MemoryGroup("/", "mem")


def test_every_spec_encoding_has_a_reader() -> None:
    reg = get_registry()
    missing = {s for s in SPEC_ENCODINGS if not reg.has_reader(IOSpec(*s))}
    assert not missing


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (np.float32(1), "numeric-scalar"), (np.int8(1), "numeric-scalar"), (True, "numeric-scalar"),
        ("s", "string"), (None, "null"), ({}, "dict"), ([1, 2], "array"),
        (np.array(["a"]), "string-array"), (pd.Categorical(["a"]), "categorical"),
        (sparse.csr_array(np.eye(2)), "csr_matrix"), (sparse.csc_matrix(np.eye(2)), "csc_matrix"),
        (pd.DataFrame({"a": [1]}), "dataframe"), (pd.array([1], dtype="Int8"), "nullable-integer"),
    ],
)
def test_write_decisions(root: MemoryGroup, value: object, encoding: str) -> None:
    write_elem(root, "x", value)
    assert root["x"].attrs["encoding-type"] == encoding


def test_scalar_dtype_preserved_on_disk(root: MemoryGroup) -> None:
    write_elem(root, "f", np.float32(1.5))
    write_elem(root, "u", np.uint8(200))
    assert root["f"].dtype == np.float32
    assert root["u"].dtype == np.uint8
    assert type(read_elem(root["u"])) is int


def test_mixed_object_array_error_names_value(root: MemoryGroup) -> None:
    with pytest.raises(TypeError, match=r"int 3 at position 1"):
        write_elem(root, "x", np.array(["a", 3], dtype=object))
    assert "x" not in root


def test_mixed_object_index_refused(root: MemoryGroup) -> None:
    df = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["a", 2], dtype=object))
    with pytest.raises(TypeError, match="index"):
        write_elem(root, "df", df)


def test_index_name_clash_with_different_column_refused(root: MemoryGroup) -> None:
    df = pd.DataFrame({"cell": ["x", "y"]}, index=pd.Index(["a", "b"], name="cell"))
    with pytest.raises(ValueError, match=r"DataFrame\.index\.name \('cell'\) is also used by a column"):
        write_elem(root, "df", df)


def test_index_name_equal_to_identical_column_allowed(root: MemoryGroup) -> None:
    df = pd.DataFrame({"cell": ["a", "b"]}, index=pd.Index(["a", "b"], name="cell"))
    write_elem(root, "df", df)
    got = read_elem(root["df"])
    assert got.index.name == "cell"
    assert list(got["cell"]) == ["a", "b"]


def test_non_string_keys_refused(root: MemoryGroup) -> None:
    with pytest.raises(TypeError, match="str keys"):
        write_elem(root, "d", {1: "a"})


def test_nullable_string_refused_without_infer_string(root: MemoryGroup, monkeypatch) -> None:
    from annstore.io.encodings import _nullable

    monkeypatch.setattr(_nullable, "_infer_string", lambda: False)
    with pytest.raises(ValueError, match="allow_write_nullable_strings"):
        write_elem(root, "s", pd.array(["a"], dtype="string"))
    with annstore.settings.override(allow_write_nullable_strings=True):
        write_elem(root, "s", pd.array(["a"], dtype="string"))
    assert root["s"].attrs["encoding-type"] == "nullable-string-array"


def test_nullable_string_missing_na_value_reads_as_NA(root: MemoryGroup) -> None:
    write_elem(root, "s", pd.array(["a", None], dtype="str"))
    del root["s"].attrs["na-value"]
    got = read_elem(root["s"])
    assert got.dtype == pd.StringDtype(na_value=pd.NA)
    assert got[1] is pd.NA


def test_pre_0_7_layout(root: MemoryGroup) -> None:
    """Structured-array obs/var, categories in uns, legacy raw.* keys, graphs in uns."""
    obs = np.array([("c0", 0, 1.0), ("c1", 1, 2.0), ("c2", 0, 3.0)],
                   dtype=[("index", "S2"), ("louvain", "<i8"), ("n", "<f8")])
    var = np.array([("g0",), ("g1",)], dtype=[("index", "S2")])
    root.create_array("X", data=np.arange(6.0).reshape(3, 2))
    root.create_array("obs", data=obs)
    root.create_array("var", data=var)
    uns = root.create_group("uns")
    uns.create_array("louvain_categories", data=np.array(["A", "B"], dtype=object))
    nb = uns.create_group("neighbors")
    conn = sparse.random(3, 3, density=0.5, format="csr", random_state=0)
    cg = nb.create_group("connectivities")
    cg.attrs["h5sparse_format"] = "csr"
    cg.attrs["h5sparse_shape"] = [3, 3]
    for k in ("data", "indices", "indptr"):
        cg.create_array(k, data=getattr(conn, k))
    root.create_array("raw.X", data=np.ones((3, 4)))
    root.create_array("raw.var", data=np.array([(f"r{i}",) for i in range(4)], dtype=[("index", "S2")]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (OldFormatWarning, FutureWarning))
        adata = read_anndata_root(root, ctx=ReadContext())
    assert list(adata.obs_names) == ["c0", "c1", "c2"]
    assert list(adata.var_names) == ["g0", "g1"]
    assert isinstance(adata.obs["louvain"].dtype, pd.CategoricalDtype)
    assert list(adata.obs["louvain"]) == ["A", "B", "A"]
    assert "louvain_categories" not in adata.uns
    assert_equal(adata.obsp["connectivities"], conn)
    assert "connectivities" not in adata.uns["neighbors"]
    assert adata.raw is not None and adata.raw.shape == (3, 4)
    assert list(adata.raw.var_names) == ["r0", "r1", "r2", "r3"]


def test_both_raw_layouts_is_an_error(root: MemoryGroup) -> None:
    from annstore.errors import InvalidFileError

    adata = annstore.AnnData(np.ones((2, 2)))
    write_elem(root, "/", adata)
    root.create_group("raw")
    root.create_array("raw.X", data=np.ones((2, 2)))
    with pytest.raises(InvalidFileError, match="legacy raw"):
        read_anndata_root(root, ctx=ReadContext())


def test_as_sparse_csc_and_bad_key(root: MemoryGroup) -> None:
    X = np.arange(12.0).reshape(3, 4)
    write_elem(root, "/", annstore.AnnData(X))
    got = read_anndata_root(root, ctx=ReadContext(options={
        "as_sparse": ("X",), "as_sparse_fmt": sparse.csc_matrix, "chunk_size": 3}))
    assert isinstance(got.X, sparse.csc_matrix)
    assert_equal(got.X.toarray(), X)
    with pytest.raises(NotImplementedError, match="`X` and `raw/X`"):
        read_anndata_root(root, ctx=ReadContext(options={"as_sparse": ("layers/a",)}))


def test_x_must_be_2d(root: MemoryGroup) -> None:
    from annstore.io.encodings._anndata import write_anndata_into
    from annstore.io._dispatch import WriteContext

    class Fake:
        X = np.arange(3)
        layers: dict = {}

    with pytest.raises(ValueError, match="2-d X"):
        write_anndata_into(root, Fake(), ctx=WriteContext(), dataset_kwargs={})  # type: ignore[arg-type]

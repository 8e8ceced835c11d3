"""IO and backed semantics that anndata's own test suite relies on (each failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from annstore.experimental import read_dispatched, write_dispatched
from annstore.io import read_elem, sparse_dataset, write_elem
from scipy import sparse

h5py = pytest.importorskip("h5py")
zarr = pytest.importorskip("zarr")


def _gen(n: int = 6, m: int = 4) -> ad.AnnData:
    x = np.arange(n * m, dtype=np.float32).reshape(n, m)
    obs = pd.DataFrame({"g": pd.Categorical(list("ab") * (n // 2))}, index=[f"c{i}" for i in range(n)])
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(m)]))


@pytest.fixture(params=["h5ad", "zarr"])
def group(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "h5ad":
        f = h5py.File(tmp_path / "t.h5", "a")
        yield f
        f.close()
    else:
        yield zarr.open_group(zarr.storage.MemoryStore(), mode="w")


# ------------------------------------------------------------------------ dispatch


def test_callbacks_receive_native_objects(group) -> None:
    native = (h5py.Group, h5py.Dataset) if isinstance(group, h5py.Group) else (zarr.Group, zarr.Array)
    seen_write, seen_read = [], []

    def writer(func, store, k, elem, *, dataset_kwargs, iospec):
        seen_write.append(isinstance(store, native))
        func(store, k, elem, dataset_kwargs=dataset_kwargs)

    def reader(func, elem_name, elem, *, iospec):
        seen_read.append(isinstance(elem, native))
        return func(elem)

    adata = _gen()
    write_dispatched(group, "/", adata, callback=writer)
    back = read_dispatched(group, reader)
    assert seen_write and all(seen_write)
    assert seen_read and all(seen_read)
    np.testing.assert_array_equal(back.X, adata.X)


@pytest.mark.parametrize(
    "value",
    [
        {"a": np.arange(3)},
        pd.DataFrame({"a": [1, 2, 3]}),
        sparse.random(5, 3, density=0.5, format="csr", random_state=0),
        pd.Categorical(list("aabc")),
        pd.array([1, None, 3], dtype="Int64"),
    ],
    ids=["dict", "dataframe", "csr", "categorical", "nullable"],
)
def test_write_group_encodings_to_root(group, value) -> None:
    write_elem(group, "/", value)
    got = read_elem(group)
    if sparse.issparse(value):
        np.testing.assert_array_equal(got.toarray(), value.toarray())
    elif isinstance(value, dict):
        np.testing.assert_array_equal(got["a"], value["a"])
    elif isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(got, value)
    else:
        assert list(got) == list(value)


def test_write_error_note_names_key_and_parent(tmp_path: Path) -> None:
    a = ad.AnnData(uns={"a": {"b": {"c": (1, 2, 3)}}})
    with pytest.raises(Exception, match=r"Error raised while writing key 'c'.*to /uns/a/b"):
        a.write_h5ad(tmp_path / "x.h5ad")


def test_consolidated_store_refuses_edits() -> None:
    store = zarr.storage.MemoryStore()
    ad.AnnData(np.ones((4, 4))).write_zarr(store)
    g = zarr.open(store)
    with pytest.raises(ValueError, match="Cannot overwrite/edit a store with consolidated metadata"):
        write_elem(g["obs"], "foo", np.arange(4))


def test_forward_slash_keys(tmp_path: Path) -> None:
    a = ad.AnnData(shape=(3, 3))
    a.uns["bad/key"] = 1
    with pytest.raises(ValueError, match="Forward slashes"):
        a.write_zarr(zarr.storage.MemoryStore())
    with ad.settings.override(disallow_forward_slash_in_h5ad=False), pytest.warns(
        FutureWarning, match="Forward slashes"
    ):
        a.write_h5ad(tmp_path / "ok.h5ad")
    b = ad.AnnData(shape=(3, 3))
    b.obsm["bad/key"] = np.ones((3, 2))
    with ad.settings.override(disallow_forward_slash_in_h5ad=False), pytest.raises(
        ValueError, match="Forward slashes are not allowed in keys in obsm"
    ):
        b.write_h5ad(tmp_path / "bad.h5ad")


def test_failed_write_keeps_existing_file_and_leaves_new_partial(tmp_path: Path) -> None:
    bad = ad.AnnData(shape=(3, 3))
    bad.obsm["bad/key"] = np.ones((3, 2))
    new = tmp_path / "new.h5ad"
    with pytest.raises(ValueError):
        bad.write_h5ad(new)
    assert not ad.read_h5ad(new).obsm.keys()  # what was written before the error, as anndata
    old = tmp_path / "old.h5ad"
    _gen().write_h5ad(old)
    with pytest.raises(ValueError):
        bad.write_h5ad(old)
    assert ad.read_h5ad(old).shape == (6, 4)  # never replaced by a partial write


def test_missing_zarr_group_is_group_not_found(tmp_path: Path) -> None:
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(zarr.errors.GroupNotFoundError):
        ad.read_zarr(tmp_path / "empty.zarr")


# -------------------------------------------------------------------------- backed


def test_backed_dense_x_is_the_h5py_dataset(tmp_path: Path) -> None:
    p = tmp_path / "b.h5ad"
    mem = _gen()
    mem.write_h5ad(p)
    b = ad.read_h5ad(p, backed="r")
    assert isinstance(b.X, h5py.Dataset)
    rows = [3, 0, 3, 1]  # unsorted, repeated: h5py alone refuses these
    np.testing.assert_array_equal(b[rows, [2, 0]].X, mem.X[np.ix_(rows, [2, 0])])
    np.testing.assert_array_equal(b[rows].layers[None], mem.X[rows])
    b.write_h5ad(tmp_path / "c.h5ad")
    assert not b.file.is_open  # as anndata: write closes the backing file
    np.testing.assert_array_equal(ad.read_h5ad(tmp_path / "c.h5ad").X, mem.X)
    b.file.close()


def test_in_memory_file_manager_and_filename_setter(tmp_path: Path) -> None:
    a = _gen()
    a.file.close()  # no backing file: a no-op, as anndata
    assert not a.file.is_open and a.file.filename is None
    a.obs["s"] = list("xyzxyz")
    a.filename = tmp_path / "f.h5ad"
    assert isinstance(a.X, h5py.Dataset)  # stored dense, so it can be edited in place
    assert isinstance(a.obs["s"].dtype, pd.CategoricalDtype)  # strings became categoricals
    a.filename = None
    assert isinstance(a.X, np.ndarray)


def test_backed_zarr_x_refuses_misfit_assignment(tmp_path: Path) -> None:
    p = tmp_path / "b.zarr"
    ad.write(_gen(), p)
    b = ad.read_zarr(p, backed="r+")
    assert isinstance(b.X, zarr.Array)
    with pytest.raises(ValueError):
        b.X[0:2] = np.ones((3, 4))
    np.testing.assert_array_equal(b.X[0:2], _gen().X[0:2])
    b.file.close()


def test_sparse_dataset_append_as_anndata(group) -> None:
    a = sparse.random(5, 4, density=0.5, format="csr", random_state=1)
    write_elem(group, "a", a)
    write_elem(group, "b", a)
    ds = sparse_dataset(group["a"])
    ds.append(sparse_dataset(group["b"]))  # another backed dataset
    np.testing.assert_array_equal(ds.to_memory().toarray(), sparse.vstack([a, a]).toarray())
    with pytest.raises(ValueError, match="must have same format"):
        ds.append(a.tocsc())
    with pytest.raises(NotImplementedError):
        ds.append(np.ones((2, 4)))
    with pytest.raises(AssertionError):
        ds.append(sparse.random(2, 3, format="csr"))
    assert ds._indptr.shape == (11,) and ds._data.shape == ds._indices.shape


def test_h5ad_dataframe_with_many_columns(tmp_path: Path) -> None:
    a = ad.AnnData(np.ones((3, 2)))
    a.obsm["df"] = pd.DataFrame(np.ones((3, 6000)), index=a.obs_names, columns=[str(i) for i in range(6000)])
    a.write_h5ad(tmp_path / "wide.h5ad")  # column-order exceeds HDF5's 64 kB attribute limit
    assert ad.read_h5ad(tmp_path / "wide.h5ad").obsm["df"].shape == (3, 6000)


def test_implicit_nullable_strings_error_is_a_runtime_error(group) -> None:
    with ad.settings.override(allow_write_nullable_strings=None), pd.option_context(
        "future.infer_string", False
    ), pytest.raises(RuntimeError, match="allow_write_nullable_strings"):
        write_elem(group, "el", pd.array(["a", None], dtype="string"))


def test_zarr_sparse_explicit_shards_and_chunks_kept() -> None:
    z = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
    x = sparse.random(100, 100, density=0.1, format="csr", random_state=0)
    write_elem(z, "X", x, dataset_kwargs={"shards": (500,), "chunks": (250,)})
    for name in ("data", "indices", "indptr"):
        assert z["X"][name].shards == (500,) and z["X"][name].chunks == (250,)

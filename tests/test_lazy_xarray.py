"""xarray-backed annotations (``annstore.experimental.backed``) and lazy reads of whole stores."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import annstore as ad
import numpy as np
import pandas as pd
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

from annstore.experimental import read_elem_lazy, read_lazy  # noqa: E402
from annstore.experimental.backed import CategoricalArray, Dataset2D, MaskedArray  # noqa: E402


def _frame(n: int, prefix: str = "c") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cat": pd.Categorical(np.array(["a", "b", "c", "a"])[np.arange(n) % 4]),
            "i": np.arange(n),
            "f": np.linspace(0, 1, n),
            "nint": pd.array([None if k % 5 == 0 else k for k in range(n)], dtype="Int32"),
            "nbool": pd.array([None if k % 3 == 0 else bool(k % 2) for k in range(n)], dtype="boolean"),
        },
        index=pd.Index([f"{prefix}{k}" for k in range(n)]),
    )


def _adata(n: int = 40, m: int = 6) -> ad.AnnData:
    rng = np.random.default_rng(0)
    a = ad.AnnData(
        rng.random((n, m)).astype(np.float32),
        obs=_frame(n),
        var=pd.DataFrame({"g": np.arange(m)}, index=[f"g{k}" for k in range(m)]),
    )
    a.obsm["df"] = pd.DataFrame({"x": np.arange(n)}, index=a.obs_names)
    a.obsm["pca"] = rng.random((n, 3))
    a.uns["arr"] = np.arange(5)
    return a


class CountingStore(zarr.storage.WrapperStore):
    """Counts reads of keys containing each tracked string."""

    def __init__(self, store: Any) -> None:
        super().__init__(store.with_read_only(read_only=True))
        self.counts: Counter[str] = Counter()
        self.tracked: list[str] = []

    def track(self, *keys: str) -> None:
        self.tracked = list(keys)
        self.counts.clear()

    def _hit(self, key: str) -> None:
        for t in self.tracked:
            if t in key:
                self.counts[t] += 1

    def get_sync(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self._hit(key)
        return super().get_sync(key, *args, **kwargs)

    async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
        self._hit(key)
        if prototype is None:
            from zarr.core.buffer import default_buffer_prototype

            prototype = default_buffer_prototype()
        return await self._store.get(key, prototype, byte_range)


# ------------------------------------------------------------------ Dataset2D


def test_dataset2d_dataframe_api() -> None:
    df = _frame(8)
    ds = Dataset2D(xr.Dataset.from_dataframe(df))
    assert ds.shape == df.shape
    assert set(ds.columns) == set(df.columns)
    assert ds.index.equals(df.index)
    pd.testing.assert_frame_equal(ds.to_memory()[df.columns], df, check_index_type=False, check_names=False)
    sub = ds.iloc[np.array([1, 3])]
    assert isinstance(sub, Dataset2D) and list(sub.index) == ["c1", "c3"]
    empty = ds[[]]
    assert empty.shape == (8, 0) and empty.index.equals(ds.index)
    assert not ds.is_backed
    ds.is_backed = True
    assert ds.is_backed and ds.copy().is_backed
    with pytest.warns(UserWarning, match=r"Renaming or reordering columns on `Dataset2D`"):
        ds.columns = ds.columns
    with pytest.raises(ValueError, match=r"Trying to rename the keys"):
        ds.columns = pd.Index(["x"])


def test_dataset2d_true_index() -> None:
    ds = Dataset2D(xr.Dataset.from_dataframe(_frame(6)))
    ds.true_index_dim = "i"
    assert ds.true_index_dim == "i" and list(ds.true_index) == list(range(6))
    assert "i" not in ds.columns
    assert ds[["f"]].true_index_dim == "i"  # a column subset keeps the true index
    pd.testing.assert_index_equal(ds.to_memory().index, pd.Index(range(6), name="i"), exact=False)
    with pytest.raises(ValueError, match=r"Unknown variable `nope`\."):
        ds.true_index_dim = "nope"


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (("other", [1, 2, 3]), r"Setting value tuple should have first entry"),
        ((("obs_names", "x"), [1, 2, 3]), r"Dimension tuple is too long"),
        (xr.DataArray(np.arange(3), dims="other"), r"DataArray should have dimension obs_names"),
        (xr.Variable(("obs_names", "y"), np.zeros((3, 3))), r"Variable should have only one dimension"),
    ],
)
def test_dataset2d_setitem_checks(value: Any, pattern: str) -> None:
    ds = Dataset2D(xr.Dataset({"foo": ("obs_names", np.arange(3))}, coords={"obs_names": [1, 2, 3]}))
    with pytest.raises(ValueError, match=pattern):
        ds["bar"] = value
    with pytest.raises(KeyError, match=r"Cannot set the index dimension obs_names"):
        ds["obs_names"] = np.arange(3)
    ds["bar"] = pd.array(["x", "y", "z"], dtype="category")
    assert ds["bar"].dims == ("obs_names",)


def test_dataset2d_invariants() -> None:
    with pytest.raises(TypeError, match=r"Expected an xarray Dataset"):
        Dataset2D({"a": 1})
    two = xr.Dataset({"a": (("x", "y"), np.zeros((2, 2)))}, coords={"x": [0, 1], "y": [0, 1]})
    with pytest.raises(ValueError, match=r"Dataset should have exactly one"):
        Dataset2D(two)


# ------------------------------------------------------------------ in the model


def test_obsm_accepts_xarray_dataset() -> None:
    a = ad.AnnData(np.ones((4, 2)))
    a.obsm["x"] = xr.Dataset.from_dataframe(pd.DataFrame({"v": np.arange(4)}, index=a.obs_names))
    assert isinstance(a.obsm["x"], Dataset2D)
    v = a[[0, 2]]
    assert isinstance(v.obsm["x"], Dataset2D) and list(v.obsm["x"]["v"].values) == [0, 2]
    assert isinstance(a.copy().obsm["x"], Dataset2D)
    with pytest.raises(ValueError, match=r"incorrect shape"):
        a.obsm["bad"] = xr.Dataset.from_dataframe(pd.DataFrame({"v": np.arange(3)}))
    with pytest.raises(NotImplementedError, match=r"Writing AnnData objects with a Dataset2D"):
        a.write_h5ad(Path("never-written.h5ad"))
    assert not Path("never-written.h5ad").exists()


def test_obs_accepts_xarray_dataset() -> None:
    ds = xr.Dataset.from_dataframe(_frame(5))
    a = ad.AnnData(np.ones((5, 2)), obs=ds)
    assert isinstance(a.obs, Dataset2D) and list(a.obs_names) == [f"c{k}" for k in range(5)]
    assert a[a.obs["cat"] == "a"].n_obs == 3


# ------------------------------------------------------------------ read_lazy


@pytest.fixture(params=["h5ad", "zarr-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    a = _adata()
    if request.param == "h5ad":
        p = tmp_path / "a.h5ad"
        a.write_h5ad(p)
        return p, a
    s = zarr.storage.MemoryStore()
    a.write_zarr(s)
    return s, a


def test_read_lazy_types_and_values(store: Any) -> None:
    where, mem = store
    lazy = read_lazy(where)
    assert isinstance(lazy.obs, Dataset2D) and lazy.obs.is_backed
    assert isinstance(lazy.obsm["df"], Dataset2D)
    assert isinstance(lazy.obs.ds["cat"].variable._data.array, CategoricalArray)
    assert isinstance(lazy.obs.ds["nint"].variable._data.array, MaskedArray)
    assert lazy.obs["cat"].dtype == mem.obs["cat"].dtype
    assert type(lazy.X).__module__.startswith("dask")
    assert type(lazy.uns["arr"]).__module__.startswith("dask")
    back = lazy.to_memory()
    pd.testing.assert_frame_equal(back.obs, mem.obs, check_index_type=False, check_column_type=False)
    np.testing.assert_array_equal(back.X, mem.X)
    pd.testing.assert_frame_equal(back.obsm["df"], mem.obsm["df"], check_index_type=False)
    sub = lazy[lazy.obs["cat"] == "b", 1:4].to_memory()
    want = mem[mem.obs["cat"] == "b", 1:4]
    np.testing.assert_array_equal(sub.X, want.X)
    pd.testing.assert_frame_equal(sub.obs, want.obs, check_index_type=False, check_column_type=False, check_frame_type=False)
    if isinstance(where, Path):
        assert lazy.file.is_open and lazy.filename == where


def test_read_lazy_without_annotation_index(store: Any) -> None:
    where, mem = store
    lazy = read_lazy(where, load_annotation_index=False)
    assert list(lazy.obs_names[:2]) == ["0", "1"]  # a range index stands in
    assert list(lazy.obs.true_index[:2]) == ["c0", "c1"]
    assert lazy.to_memory().obs_names.equals(mem.obs_names)


def test_read_lazy_reads_only_what_is_used() -> None:
    a = _adata(1000)
    base = zarr.storage.MemoryStore()
    a.write_zarr(base)
    g = zarr.open_group(base, mode="a", use_consolidated=False)
    ad.io.write_elem(g, "obs", a.obs, dataset_kwargs={"chunks": (250,), "shards": None})
    zarr.consolidate_metadata(base)
    s = CountingStore(base)
    lazy = read_lazy(s)
    s.track("obs/cat/codes", "obs/i", "X", "obs/cat/categories")
    lazy[:10]  # views read nothing
    assert sum(s.counts.values()) == 0
    lazy.obs["cat"].dtype  # noqa: B018 - categories once
    lazy.obs["cat"].dtype  # noqa: B018
    assert s.counts["obs/cat/categories"] == 1 and s.counts["obs/cat/codes"] == 0
    lazy[500].obs["i"].compute()  # one chunk of one column
    assert s.counts["obs/i"] == 1 and s.counts["X"] == 0
    lazy[lazy.obs["cat"] == "a"]  # all codes, once per chunk
    assert s.counts["obs/cat/codes"] == 4


def test_read_lazy_unconsolidated_warns() -> None:
    s = zarr.storage.MemoryStore()
    ad.io.write_zarr(s, _adata(), consolidate_metadata=False)
    with pytest.warns(UserWarning, match=r"Did not read zarr as consolidated"):
        lazy = read_lazy(s)
    assert lazy.to_memory().n_obs == 40


def test_read_elem_lazy_dataframe_chunks() -> None:
    s = zarr.storage.MemoryStore()
    g = zarr.open_group(s, mode="w", zarr_format=2)
    ad.io.write_elem(g, "df", _frame(120), dataset_kwargs={"chunks": 25})
    node = zarr.open(s, mode="r")["df"]
    for chunks, want in [((1,), (1,)), ((-1,), (120,)), (None, (25,))]:
        ds = read_elem_lazy(node, chunks=chunks)
        assert isinstance(ds, Dataset2D)
        assert ds["i"].data.chunksize == want
    with pytest.warns(UserWarning, match=r"Renaming or reordering columns on `Dataset2D` has no effect"):
        empty = ad.AnnData(np.ones((3, 1)))
        sz = zarr.storage.MemoryStore()
        empty.write_zarr(sz)
        empty.obs = read_elem_lazy(zarr.open(sz)["obs"])


def test_concat_lazy() -> None:
    parts, lazies = [], []
    for k in range(2):
        a = _adata(20)
        a.obs_names = [f"d{k}_{i}" for i in range(20)]
        a.obsm["df"].index = a.obs_names
        s = zarr.storage.MemoryStore()
        a.write_zarr(s)
        parts.append(a)
        lazies.append(read_lazy(s))
    both = ad.concat(lazies, join="outer")
    assert isinstance(both.obs, Dataset2D) and both.n_obs == 40
    back = both.to_memory()
    want = ad.concat(parts, join="outer")
    assert list(back.obs_names) == list(want.obs_names)
    np.testing.assert_array_equal(back.X, want.X)


def test_import_does_not_import_xarray() -> None:
    code = (
        "import sys, annstore, annstore.experimental, annstore.experimental.backed\n"
        "assert 'xarray' not in sys.modules, 'xarray imported'\n"
        "from annstore.experimental.backed import Dataset2D\n"
        "assert 'xarray' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

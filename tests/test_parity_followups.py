"""Fixes found by anndata's and scanpy's own tests (tests/anndata_suite), each checked here too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad

pytest.importorskip("h5py")


def test_lazy_concat_keeps_nullable_na(tmp_path):
    pytest.importorskip("xarray")
    pytest.importorskip("dask")
    obs = pd.DataFrame({"n": pd.array([1, None, 3, None], dtype="Int32"),
                        "b": pd.array([True, None, False, True], dtype="boolean")},
                       index=[f"c{i}" for i in range(4)])
    ad.AnnData(np.ones((4, 2)), obs=obs).write_h5ad(tmp_path / "a.h5ad")
    lazy = ad.experimental.read_lazy(tmp_path / "a.h5ad")
    with pytest.warns(UserWarning, match="not unique"):
        mem = ad.concat([lazy, lazy], join="inner").to_memory()
    assert mem.obs["n"].isna().tolist() == [False, True, False, True] * 2
    assert mem.obs["b"].isna().tolist() == [False, True, False, False] * 2
    assert mem.obs["n"].astype("Int32").tolist()[:3] == [1, pd.NA, 3]


def test_backed_file_items_are_the_storage_librarys_objects(tmp_path):
    import h5py

    ad.AnnData(np.ones((4, 3), dtype="f4"), layers={"l": np.zeros((4, 3))}).write_h5ad(tmp_path / "a.h5ad")
    b = ad.read_h5ad(tmp_path / "a.h5ad", backed="r")
    assert isinstance(b.file["X"], h5py.Dataset)
    assert isinstance(b.file["layers"], h5py.Group)
    b.file.close()


def test_read_elem_lazy_sparse_shares_one_dataset_without_a_path():
    # anndata's test_data_access counts metadata reads: the blocks of a store with no path to
    # reopen share one opened dataset instead of opening the arrays once per block
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask")
    from zarr.storage import MemoryStore

    g = zarr.open_group(MemoryStore(), zarr_format=3)
    ad.io.write_elem(g, "X", sparse.csr_matrix(np.eye(10)))
    x = ad.experimental.read_elem_lazy(g["X"], chunks=(2, -1))
    np.testing.assert_array_equal(x.compute().toarray(), np.eye(10))
    tasks = [t for t in dict(x.__dask_graph__()).values() if isinstance(t, tuple)]
    datasets = {id(t[1]) for t in tasks}
    assert len(tasks) == 5 and len(datasets) == 1
    # not the group, reopened per block: one dataset, shipped to workers inside its tasks
    from annstore.backed._ship import Shipped

    assert all(isinstance(t[1], Shipped) and isinstance(t[1].obj, ad.experimental.CSRDataset) for t in tasks)

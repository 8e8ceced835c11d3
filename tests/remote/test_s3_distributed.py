"""Lazy reads of object-storage zarr computed on a 2-process ``dask.distributed`` cluster.

The tasks carry what reopens the store in a worker process (a zarr ``FsspecStore``: URL,
filesystem and storage options), so they run with no shared filesystem; an in-memory store
travels as a copy; a store that cannot be pickled fails with one clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import annstore as ad
import numpy as np
import pytest
from annstore.experimental import read_elem_lazy, read_lazy
from scipy import sparse

distributed = pytest.importorskip("dask.distributed")
zarr = pytest.importorskip("zarr")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


X = sparse.random(300, 40, density=0.2, format="csr", random_state=4, dtype=np.float64)


def _colsums(lazy_x: Any) -> Any:
    return lazy_x.map_blocks(lambda b: np.asarray(b.sum(axis=0)).reshape(1, -1), chunks=(1, 40),
                             dtype=np.float64).sum(axis=0)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_read_lazy_s3_on_cluster(client: Any, bucket: Any, zarr_format: int) -> None:
    url = f"{bucket.url}/d.zarr"
    ad.io.write_zarr(url, ad.AnnData(X, layers={"d": X.toarray()}),
                     storage_options={**bucket.storage_options, "zarr_format": zarr_format})
    lazy = read_lazy(url, storage_options=bucket.storage_options, chunks=(64, -1))
    assert lazy.X.npartitions == 5
    bucket.server.reset_traffic()
    sums = client.compute(_colsums(lazy.X)).result()
    np.testing.assert_allclose(np.asarray(sums).ravel(), np.asarray(X.sum(axis=0)).ravel())
    dense = client.compute(lazy.layers["d"][[299, 0, 150]]).result()
    np.testing.assert_array_equal(dense, X[[299, 0, 150]].toarray())
    assert bucket.server.reset_traffic().reads() > 0  # the workers read from the endpoint
    who = client.run(lambda: __import__("os").getpid())
    assert len(set(who.values())) == 2


def test_read_elem_lazy_s3_on_cluster(client: Any, bucket: Any) -> None:
    from zarr.storage import FsspecStore

    url = f"{bucket.url}/e.zarr"
    ad.io.write_zarr(url, ad.AnnData(X), storage_options=bucket.storage_options)
    g = zarr.open_group(FsspecStore.from_url(url, storage_options=bucket.storage_options, read_only=True), mode="r")
    lazy = read_elem_lazy(g["X"], chunks=(100, -1))
    got = client.compute(lazy[50:250]).result()
    np.testing.assert_array_equal(got.toarray(), X[50:250].toarray())


def test_memory_store_ships_as_a_copy(client: Any) -> None:
    store = zarr.storage.MemoryStore()
    ad.io.write_zarr(store, ad.AnnData(X, layers={"d": X.toarray()}))
    lazy = read_lazy(store, chunks=(64, -1))
    np.testing.assert_allclose(client.compute(lazy.layers["d"].sum(axis=0)).result(), X.toarray().sum(axis=0))
    np.testing.assert_allclose(np.asarray(client.compute(_colsums(lazy.X)).result()).ravel(),
                               np.asarray(X.sum(axis=0)).ravel())


class _LockedStore(zarr.storage.MemoryStore):
    """A custom store holding a lock: usable in process, cannot be pickled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()


def test_unpicklable_store_fails_clearly(client: Any) -> None:
    from annstore.backed._ship import StoreNotShippableError

    store = _LockedStore()
    ad.io.write_zarr(store, ad.AnnData(X.toarray()))
    lazy = read_lazy(store, chunks=(64, -1))
    np.testing.assert_allclose(lazy.X.sum(axis=0).compute(scheduler="threads"), X.toarray().sum(axis=0))
    with pytest.raises(TypeError) as ei:
        client.compute(lazy.X.sum(axis=0)).result()
    chain, e = [], ei.value
    while e is not None:
        chain.append(e)
        e = e.__cause__ or e.__context__
    ours = [c for c in chain if isinstance(c, StoreNotShippableError)]
    assert ours, chain
    assert "'/X'" in str(ours[0]) and "_LockedStore" in str(ours[0]) and "pickle" in str(ours[0])

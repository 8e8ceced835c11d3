"""Lazy X of h5ad and zarr files computes on a multi-process ``dask.distributed`` cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annstore as ad
import numpy as np
import pytest
from annstore.experimental import read_lazy
from scipy import sparse

distributed = pytest.importorskip("dask.distributed")


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


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
@pytest.mark.parametrize("kind", ["csr", "dense"])
def test_colsums_and_rows_on_cluster(client: Any, tmp_path: Path, fmt: str, kind: str) -> None:
    if fmt not in ad.list_formats():
        pytest.skip(f"requires annstore-{fmt}")
    x = sparse.random(300, 40, density=0.2, format="csr", random_state=4, dtype=np.float64)
    X = x if kind == "csr" else x.toarray()
    path = tmp_path / f"d.{fmt}"
    ad.write(ad.AnnData(X), path)
    lazy = read_lazy(path, chunks=(64, -1))
    assert lazy.X.npartitions == 5
    # per-block column sums (scipy blocks do not take dask's keepdims), reduced on the cluster
    partial = lazy.X.map_blocks(
        lambda b: np.asarray(b.sum(axis=0)).reshape(1, -1), chunks=(1, 40), dtype=np.float64
    )
    sums = client.compute(partial.sum(axis=0)).result()
    np.testing.assert_allclose(np.asarray(sums).ravel(), np.asarray(x.sum(axis=0)).ravel())
    rows = [299, 0, 150, 150]
    sub = client.compute(lazy.X[rows]).result()
    sub = sub.toarray() if sparse.issparse(sub) else np.asarray(sub)
    np.testing.assert_array_equal(sub, x[rows].toarray())
    # the work ran in the worker processes
    assert len(client.scheduler_info()["workers"]) == 2

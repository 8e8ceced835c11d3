"""Reads and writes on ``s3://`` URLs against a real S3 endpoint (moto's server, loopback).

Each test goes through the public API with ``storage_options`` (endpoint, key, secret), as a
user on a real bucket would; the server counts the requests it answered, and the h5ad tests
bound them (the block cache keeps them few).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from annstore.experimental import concat_on_disk, read_lazy
from scipy import sparse

pytest.importorskip("zarr")
pytest.importorskip("h5py")


def _adata(n: int = 200, m: int = 30, seed: int = 0) -> ad.AnnData:
    x = sparse.random(n, m, density=0.2, format="csr", random_state=seed, dtype=np.float32)
    obs = pd.DataFrame({"cat": pd.Categorical(["a", "b"] * (n // 2)), "n": np.arange(n)},
                       index=[f"c{seed}-{i}" for i in range(n)])
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(m)]),
                      layers={"dense": x.toarray()}, obsm={"pca": np.ones((n, 2))})


def _same(a: ad.AnnData, b: ad.AnnData) -> None:
    from annstore.testing import assert_equal

    assert_equal(a, b)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_write_read_zarr_url(bucket: Any, zarr_format: int) -> None:
    a = _adata()
    url = f"{bucket.url}/d.zarr"
    ad.io.write_zarr(url, a, storage_options={**bucket.storage_options, "zarr_format": zarr_format})
    fs = bucket.fs()
    meta = "zarr.json" if zarr_format == 3 else ".zgroup"
    assert fs.exists(f"{bucket.name}/d.zarr/{meta}")  # really in the bucket
    _same(ad.read_zarr(url, storage_options=bucket.storage_options), a)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_backed_zarr_url_reads_rows(bucket: Any, zarr_format: int) -> None:
    a = _adata()
    url = f"{bucket.url}/b.zarr"
    ad.io.write_zarr(url, a, storage_options={**bucket.storage_options, "zarr_format": zarr_format})
    b = ad.read_zarr(url, backed="r", storage_options=bucket.storage_options)
    assert b.isbacked
    np.testing.assert_array_equal(b.X[10:20].toarray(), a.X[10:20].toarray())
    _same(b[[3, 150, 7]].to_memory(), a[[3, 150, 7]])


def _put_h5ad(bucket: Any, tmp_path: Path, a: ad.AnnData, name: str = "d.h5ad") -> str:
    local = tmp_path / name
    a.write_h5ad(local)
    bucket.fs().put(str(local), f"{bucket.name}/{name}")
    return f"{bucket.url}/{name}"


def test_read_h5ad_url_few_requests(bucket: Any, tmp_path: Path) -> None:
    a = _adata()
    url = _put_h5ad(bucket, tmp_path, a)
    bucket.server.reset_traffic()
    _same(ad.read_h5ad(url, storage_options=bucket.storage_options), a)
    t = bucket.server.reset_traffic()
    # a file smaller than one block: its metadata probe plus one ranged GET, not one per element
    assert t.requests["GET"] == 1, t
    assert t.total <= 3, t


def test_read_h5ad_url_block_size_bounds_requests(bucket: Any, tmp_path: Path) -> None:
    a = _adata(4000, 200)
    url = _put_h5ad(bucket, tmp_path, a)
    size = bucket.fs().size(f"{bucket.name}/d.h5ad")
    bucket.server.reset_traffic()
    block = 64 * 1024
    _same(ad.read_h5ad(url, storage_options={**bucket.storage_options, "block_size": block}), a)
    t = bucket.server.reset_traffic()
    blocks = -(-size // block)
    assert blocks <= t.requests["GET"] <= blocks + 2, (t, blocks)  # each block fetched once
    assert t.bytes_out <= size + block


def test_read_h5ad_file_object(bucket: Any, tmp_path: Path) -> None:
    a = _adata()
    url = _put_h5ad(bucket, tmp_path, a)
    fs = bucket.fs()
    with fs.open(url, "rb", cache_type="blockcache", block_size=2**20) as f:
        _same(ad.read_h5ad(f), a)


def test_backed_h5ad_url(bucket: Any, tmp_path: Path) -> None:
    a = _adata()
    url = _put_h5ad(bucket, tmp_path, a)
    b = ad.read_h5ad(url, backed="r", storage_options=bucket.storage_options)
    np.testing.assert_array_equal(b.X[5:9].toarray(), a.X[5:9].toarray())
    b.file.close()


def test_h5ad_url_is_read_only(bucket: Any) -> None:
    from annstore.errors import CapabilityError

    with pytest.raises(CapabilityError, match="read-only"):
        ad.write(_adata(), f"{bucket.url}/w.h5ad", storage_options=bucket.storage_options)


@pytest.mark.parametrize("suffix", [".zarr", ".h5ad"])
def test_read_lazy_url(bucket: Any, tmp_path: Path, suffix: str) -> None:
    a = _adata()
    if suffix == ".zarr":
        url = f"{bucket.url}/l.zarr"
        ad.io.write_zarr(url, a, storage_options=bucket.storage_options)
    else:
        url = _put_h5ad(bucket, tmp_path, a)
    lazy = read_lazy(url, storage_options=bucket.storage_options, chunks=(64, -1))
    assert lazy.X.npartitions == 4
    np.testing.assert_allclose(lazy.layers["dense"].sum(axis=0).compute(), a.layers["dense"].sum(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(lazy.X[10:30].compute().toarray(), a.X[10:30].toarray())
    assert list(lazy.obs["cat"].to_numpy()[:4]) == ["a", "b", "a", "b"]
    if suffix == ".h5ad":
        lazy.file.close()


def test_concat_on_disk_s3_groups(bucket: Any, tmp_path: Path) -> None:
    import zarr
    from zarr.storage import FsspecStore

    parts = [_adata(100, 30, seed=i) for i in range(2)]
    urls = []
    for i, p in enumerate(parts):
        urls.append(f"{bucket.url}/in{i}.zarr")
        ad.io.write_zarr(urls[-1], p, storage_options=bucket.storage_options)
    so = bucket.storage_options
    ins = [zarr.open_group(FsspecStore.from_url(u, storage_options=so, read_only=True), mode="r") for u in urls]
    expected = ad.concat(parts)
    concat_on_disk(ins, tmp_path / "local.zarr")  # s3 inputs, local output
    np.testing.assert_array_equal(ad.read_zarr(tmp_path / "local.zarr").X.toarray(), expected.X.toarray())
    out = zarr.open_group(FsspecStore.from_url(f"{bucket.url}/out.zarr", storage_options=so), mode="w")
    concat_on_disk(ins, out)  # s3 inputs, s3 output
    got = ad.read_zarr(f"{bucket.url}/out.zarr", storage_options=so)
    np.testing.assert_array_equal(got.X.toarray(), expected.X.toarray())
    assert list(got.obs_names) == list(expected.obs_names)


def _cli(args: list[str], bucket: Any) -> subprocess.CompletedProcess[str]:
    so = bucket.storage_options
    env = {**os.environ, "AWS_ACCESS_KEY_ID": so["key"], "AWS_SECRET_ACCESS_KEY": so["secret"],
           "AWS_ENDPOINT_URL": so["endpoint_url"], "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([sys.executable, "-m", "annstore.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_cli_convert_between_local_and_s3(bucket: Any, tmp_path: Path) -> None:
    a = _adata()
    local = tmp_path / "a.h5ad"
    a.write_h5ad(local)
    r = _cli(["convert", "-q", str(local), f"{bucket.url}/c.zarr"], bucket)
    assert r.returncode == 0, r.stderr
    _same(ad.read_zarr(f"{bucket.url}/c.zarr", storage_options=bucket.storage_options), a)
    r = _cli(["convert", "-q", f"{bucket.url}/c.zarr", str(tmp_path / "back.h5ad")], bucket)
    assert r.returncode == 0, r.stderr
    _same(ad.read_h5ad(tmp_path / "back.h5ad"), a)

"""Requests and bytes per operation on the test S3 endpoint: the table of docs/remote.md.

Run: ``python tests/remote/measure_requests.py`` (starts moto's server on 127.0.0.1, prints
a Markdown table). Counts are what the server answered (HTTP requests, response body bytes
out, request body bytes in), through s3fs exactly as on a real bucket.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _s3server import S3Server  # noqa: E402


def main(n_obs: int = 5000, n_vars: int = 1000, density: float = 0.05) -> None:
    import annstore as ad
    from annstore.experimental import read_lazy

    srv = S3Server().start()
    srv.create_bucket("measure")
    so = srv.storage_options()
    x = sparse.random(n_obs, n_vars, density=density, format="csr", random_state=0, dtype=np.float32)
    a = ad.AnnData(x, obs=pd.DataFrame({"c": pd.Categorical(["a", "b"] * (n_obs // 2))},
                                       index=[f"c{i}" for i in range(n_obs)]))
    rows: list[tuple[str, object]] = []

    def op(label: str, fn: object) -> None:
        srv.reset_traffic()
        fn()  # type: ignore[operator]
        rows.append((label, srv.reset_traffic()))

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "d.h5ad"
        a.write_h5ad(local)
        size = local.stat().st_size
        op("upload .h5ad (s3fs put, for reference)", lambda: ad_put(so, local))
        op("read_h5ad(url) eager, 4 MiB blocks (default)",
           lambda: ad.read_h5ad("s3://measure/d.h5ad", storage_options=so))
        op("read_h5ad(url) eager, 256 KiB blocks",
           lambda: ad.read_h5ad("s3://measure/d.h5ad", storage_options={**so, "block_size": 2**18}))
        op("read_h5ad(url, backed='r') + X[100:200]",
           lambda: ad.read_h5ad("s3://measure/d.h5ad", backed="r", storage_options=so).X[100:200])
        for zf in (2, 3):
            url = f"s3://measure/d{zf}.zarr"
            op(f"write_zarr(url), zarr v{zf}",
               lambda url=url, zf=zf: ad.io.write_zarr(url, a, storage_options={**so, "zarr_format": zf}))
            op(f"read_zarr(url) eager, zarr v{zf}", lambda url=url: ad.read_zarr(url, storage_options=so))
            op(f"read_zarr(url, backed='r') + X[100:200], zarr v{zf}",
               lambda url=url: ad.read_zarr(url, backed="r", storage_options=so).X[100:200])
            op(f"read_lazy(url) + X[100:200].compute(), zarr v{zf}",
               lambda url=url: read_lazy(url, storage_options=so, chunks=(1000, -1)).X[100:200].compute())
    srv.stop()
    print(f"{n_obs} x {n_vars} CSR float32, {x.nnz} stored values; .h5ad file {size} bytes\n")
    print("| operation | requests (GET/HEAD/PUT/other) | bytes out | bytes in |")
    print("|---|---|---|---|")
    for label, t in rows:
        r = t.requests  # type: ignore[attr-defined]
        other = t.total - r["GET"] - r["HEAD"] - r["PUT"]  # type: ignore[attr-defined]
        print(f"| {label} | {t.total} ({r['GET']}/{r['HEAD']}/{r['PUT']}/{other}) | "  # type: ignore[attr-defined]
              f"{t.bytes_out:,} | {t.bytes_in:,} |")  # type: ignore[attr-defined]


def ad_put(so: dict, local: Path) -> None:
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True, **so).put(str(local), "measure/d.h5ad")


if __name__ == "__main__":
    main()

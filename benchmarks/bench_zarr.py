"""Benchmark: read_zarr / write_zarr of a large sparse AnnData against the raw-zarr floor.

The floor is zarr-python itself writing and reading the same arrays (X's data/indices/indptr,
obs/var names) with the same chunking, sharding and codecs, in the same run. With
``ANNSTORE_ANNDATA_PYTHON`` set, anndata's read_zarr/write_zarr of the same object is timed in a
subprocess as well.

    /work/venv/bin/python benchmarks/bench_zarr.py               # 100,000 x 20,000, 2% density
    /work/venv/bin/python benchmarks/bench_zarr.py --scale 0.05  # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

try:  # shared timing helpers, when the h5ad benchmark has provided them
    sys.path.insert(0, str(Path(__file__).parent))
    from _common import best_of as _common_best_of  # type: ignore[import-not-found]
except Exception:  # noqa: BLE001
    _common_best_of = None


def best_of(fn: Any, repeat: int) -> float:
    if _common_best_of is not None:
        try:
            return float(_common_best_of(fn, repeat))
        except TypeError:
            pass
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_adata(n_obs: int, n_vars: int, density: float) -> Any:
    import pandas as pd
    import scipy.sparse as sp

    import annstore

    rng = np.random.default_rng(0)
    nnz_per_row = max(int(n_vars * density), 1)
    indptr = np.arange(0, (n_obs + 1) * nnz_per_row, nnz_per_row, dtype=np.int64)
    indices = np.sort(
        rng.integers(0, n_vars, size=(n_obs, nnz_per_row), dtype=np.int32), axis=1
    ).ravel()
    data = rng.random(indices.size, dtype=np.float32)
    x = sp.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))
    x.sum_duplicates()
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"gene{i}" for i in range(n_vars)])
    return annstore.AnnData(x, obs=obs, var=var)


def floor_write(path: Path, adata: Any, zarr_format: int) -> None:
    """zarr-python writing X's three arrays and the two name arrays, as annstore lays them out."""
    import zarr
    from zarr.core.dtype import VariableLengthUTF8

    kw: dict[str, Any] = {"shards": "auto"} if zarr_format == 3 else {}
    with warnings.catch_warnings(), zarr.config.set({"array.target_shard_size_bytes": 1_000_000_000}):
        warnings.simplefilter("ignore")
        g = zarr.open_group(path, mode="w", zarr_format=zarr_format)
        x = g.create_group("X")
        for k in ("data", "indices", "indptr"):
            v = getattr(adata.X, k)
            a = x.create_array(k, shape=v.shape, dtype=v.dtype, **kw)
            a[...] = v
        for k, names in (("obs", adata.obs_names), ("var", adata.var_names)):
            extra = {"filters": [__import__("numcodecs").VLenUTF8()], "fill_value": ""} if zarr_format == 2 else {}
            a = g.create_group(k).create_array(
                "_index", shape=(len(names),), dtype=VariableLengthUTF8(), **kw, **extra
            )
            a[...] = np.asarray(names, dtype=object)


def floor_read(path: Path) -> None:
    import zarr

    g = zarr.open_group(path, mode="r")
    for k in ("data", "indices", "indptr"):
        g["X"][k][...]
    g["obs"]["_index"][...]
    g["var"]["_index"][...]


def anndata_times(python: str, path_ann: Path, src: Path, zarr_format: int, repeat: int) -> dict[str, float]:
    code = textwrap.dedent(f"""
        import json, time, shutil, anndata as ad
        ad.settings.zarr_write_format = {zarr_format}
        a = ad.read_zarr({str(src)!r})
        def t(fn):
            best = float("inf")
            for _ in range({repeat}):
                t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
            return best
        def w():
            shutil.rmtree({str(path_ann)!r}, ignore_errors=True); a.write_zarr({str(path_ann)!r})
        tw = t(w)
        tr = t(lambda: ad.read_zarr({str(path_ann)!r}))
        print(json.dumps({{"write": tw, "read": tr}}))
    """)
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 100,000 x 20,000")
    ap.add_argument("--density", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--zarr-format", type=int, choices=(2, 3), default=3)
    ap.add_argument("--dir", default=None, help="scratch directory (default: a temp dir)")
    args = ap.parse_args()

    import annstore

    n_obs = max(int(100_000 * args.scale), 10)
    n_vars = max(int(20_000 * args.scale), 10)
    adata = make_adata(n_obs, n_vars, args.density)
    nnz = adata.X.nnz
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="bench_zarr_"))
    tmp.mkdir(parents=True, exist_ok=True)
    p_ours, p_floor, p_ann = tmp / "ours.zarr", tmp / "floor.zarr", tmp / "anndata.zarr"

    def w_ours() -> None:
        with annstore.settings.override(zarr_write_format=args.zarr_format):
            annstore.io.write_zarr(p_ours, adata, convert_strings_to_categoricals=False)

    def w_floor() -> None:
        shutil.rmtree(p_floor, ignore_errors=True)
        floor_write(p_floor, adata, args.zarr_format)

    # Floor and annstore run alternately (ABAB..., every other round reversed) and report
    # medians, so both see the same load on a shared machine.
    from _common import interleaved  # type: ignore[import-not-found]

    res: dict[str, float] = {}
    wf, wo = interleaved({"floor": w_floor, "ours": w_ours}, repeat=args.repeat, memory=False)
    rf, ro = interleaved({"floor": lambda: floor_read(p_floor),
                          "ours": lambda: annstore.read_zarr(p_ours)}, repeat=args.repeat, memory=False)
    res["write_floor"], res["write_ours"] = wf.seconds, wo.seconds
    res["read_floor"], res["read_ours"] = rf.seconds, ro.seconds
    for r, op in ((wf, "write floor"), (wo, "write annstore"), (rf, "read floor"), (ro, "read annstore")):
        print(f"  {op:15s} {r.note}")
    back = annstore.read_zarr(p_ours)
    assert back.X.nnz == nnz and (back.X != adata.X).nnz == 0, "roundtrip mismatch"
    py = os.environ.get("ANNSTORE_ANNDATA_PYTHON")
    if py:
        ann = anndata_times(py, p_ann, p_ours, args.zarr_format, args.repeat)
        res["write_anndata"], res["read_anndata"] = ann["write"], ann["read"]

    mb = (adata.X.data.nbytes + adata.X.indices.nbytes + adata.X.indptr.nbytes) / 1e6
    print(f"zarr v{args.zarr_format}: {n_obs:,} x {n_vars:,} CSR, nnz {nnz:,} ({mb:,.0f} MB of arrays), "
          f"median of {args.repeat} (floor/annstore interleaved; anndata: best of {args.repeat} in a child)")
    for op in ("write", "read"):
        line = f"  {op:5s}  floor {res[f'{op}_floor']:7.3f}s  annstore {res[f'{op}_ours']:7.3f}s " \
               f"({res[f'{op}_ours'] / res[f'{op}_floor']:.2f}x floor)"
        if f"{op}_anndata" in res:
            line += f"  anndata {res[f'{op}_anndata']:7.3f}s ({res[f'{op}_anndata'] / res[f'{op}_floor']:.2f}x floor)"
        print(line)
    print(json.dumps(res))
    if args.dir is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

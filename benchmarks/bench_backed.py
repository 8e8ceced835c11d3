"""Backed access and streamed dask writes: annstore vs anndata 0.13.4 vs the h5py floor.

    python benchmarks/bench_backed.py [--scale 0.1] [--repeat 20] [--rows 2000]

1. Random rows from a backed CSR X: a 100,000 x 20,000 CSR float32 at 2 % density (both
   dimensions scaled by ``--scale``) is written to an h5ad file. Each of ``--repeat`` rounds
   draws ``--rows`` random row positions (unsorted, same seeds for everyone) and reads them:
   * annstore: ``read_h5ad(path, backed="r").X[rows]`` (a scipy CSR),
   * anndata 0.13.4 (in a child process, with ``ANNSTORE_ANNDATA_PYTHON``): the same,
   * floor: h5py slicing (its compiled fast path) of exactly those rows' ``indptr`` ranges
     of ``data`` and ``indices`` into preallocated buffers (indptr read once, as both
     libraries cache it); no scipy matrix is even built.
   Targets: >= 2x faster than anndata, within 1.5x of the floor. "peak MB" is the traced
   memory of one selection: anndata 0.13.4 loads the whole matrix for an unsorted integer
   row selection (``to_memory()[row, col]``), annstore reads only the selected rows.
2. Streamed write: an AnnData whose X is a dask array of CSR blocks (the same shape and
   density, generated block by block) is written to h5ad in a child process; its peak traced
   memory (tracemalloc) and peak RSS growth are compared with the in-memory size of X.
   Target: peak < 1/4 of the in-memory size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import Result, print_table, run_python

DENSITY = 0.02
BLOCK_ROWS = 5000


def dims(scale: float) -> tuple[int, int, int]:
    n_obs, n_vars = max(int(100_000 * scale), 100), max(int(20_000 * scale), 100)
    per_row = max(int(n_vars * DENSITY), 1)
    return n_obs, n_vars, per_row


def csr_block(start: int, stop: int, n_vars: int, per_row: int, seed: int = 0) -> Any:
    """Rows ``start:stop`` of the benchmark matrix: ``per_row`` sorted, distinct columns per row."""
    from scipy import sparse

    rng = np.random.default_rng([seed, start])
    n = stop - start
    stride = n_vars // per_row
    offs = rng.integers(0, stride, size=(n, 1))
    indices = (offs + np.arange(per_row) * stride).astype(np.int32).ravel()
    data = rng.random(n * per_row, dtype=np.float32) + 0.5
    indptr = np.arange(0, (n + 1) * per_row, per_row, dtype=np.int64)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, n_vars))


def make_file(path: Path, scale: float) -> None:
    import annstore
    import pandas as pd
    from scipy import sparse

    n_obs, n_vars, per_row = dims(scale)
    blocks = [csr_block(s, min(s + BLOCK_ROWS, n_obs), n_vars, per_row) for s in range(0, n_obs, BLOCK_ROWS)]
    X = sparse.vstack(blocks, format="csr")
    obs = pd.DataFrame(index=[f"c{i}" for i in range(n_obs)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(n_vars)])
    annstore.write(annstore.AnnData(X, obs=obs, var=var), path)


def row_sets(n_obs: int, n_rows: int, repeat: int) -> list[np.ndarray]:
    return [np.random.default_rng(100 + r).choice(n_obs, size=min(n_rows, n_obs), replace=False)
            for r in range(repeat)]


def bench_annstore(path: Path, sets: list[np.ndarray]) -> tuple[float, int]:
    import annstore

    a = annstore.read_h5ad(path, backed="r")
    X = a.X
    X[sets[0][:10]]  # open + indptr cached, as the others do outside the timing
    nnz = 0
    t0 = time.perf_counter()
    for rows in sets:
        nnz += X[rows].nnz
    dt = time.perf_counter() - t0
    import tracemalloc

    tracemalloc.start()
    X[sets[0]]
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    a.file.close()
    return dt, nnz, peak


def bench_floor(path: Path, sets: list[np.ndarray]) -> tuple[float, int]:
    import h5py

    with h5py.File(path, "r") as f:
        g = f["X"]
        data, indices = g["data"], g["indices"]
        indptr = g["indptr"][:]
        nnz = 0
        t0 = time.perf_counter()
        for rows in sets:
            r = np.sort(rows)
            starts, stops = indptr[r], indptr[r + 1]
            total = int((stops - starts).sum())
            dbuf = np.empty(total, dtype=data.dtype)
            ibuf = np.empty(total, dtype=indices.dtype)
            at = 0
            for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
                if e > s:  # plain slicing takes h5py's compiled fast path (read_direct does not)
                    dbuf[at : at + e - s] = data[s:e]
                    ibuf[at : at + e - s] = indices[s:e]
                    at += e - s
            nnz += total
        dt = time.perf_counter() - t0
    return dt, nnz


ANNDATA_CODE = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    import anndata as ad
    path, n_rows, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    a = ad.read_h5ad(path, backed="r")
    X = a.X
    n_obs = X.shape[0]
    sets = [np.random.default_rng(100 + r).choice(n_obs, size=min(n_rows, n_obs), replace=False)
            for r in range(repeat)]
    X[np.sort(sets[0][:10])]
    nnz = 0
    t0 = time.perf_counter()
    for rows in sets:
        nnz += X[rows].nnz
    dt = time.perf_counter() - t0
    import tracemalloc
    tracemalloc.start()
    X[sets[0]]
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps({"seconds": dt, "nnz": int(nnz), "version": ad.__version__, "peak_mb": peak}))
    """
)

WRITE_CODE = textwrap.dedent(
    """
    import json, os, sys, time, tracemalloc, warnings, resource
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[4])
    import numpy as np
    import dask, dask.array as da
    import annstore
    from bench_backed import csr_block, BLOCK_ROWS
    path, n_obs, n_vars, per_row = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
    from scipy import sparse
    dask.config.set(scheduler="synchronous")
    starts = list(range(0, n_obs, BLOCK_ROWS))
    chunks = tuple(min(BLOCK_ROWS, n_obs - s) for s in starts)
    blocks = [da.from_delayed(dask.delayed(csr_block)(s, s + c, n_vars, per_row), shape=(c, n_vars),
                              dtype=np.float32, meta=sparse.csr_matrix((0, 0), dtype=np.float32))
              for s, c in zip(starts, chunks)]
    X = da.concatenate(blocks, axis=0)
    adata = annstore.AnnData(X)
    from annstore.backed._encodings import ensure_registered
    ensure_registered(dask=True)  # no-op once the built-in plugin registers the backed writers
    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    base_rss = rss()
    tracemalloc.start()
    t0 = time.perf_counter()
    annstore.write(adata, path)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"seconds": dt, "peak_traced_mb": peak, "rss_growth_mb": rss() - base_rss,
                      "maxrss_mb": rss()}))
    """
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--skip-write", action="store_true")
    args = p.parse_args()
    n_obs, n_vars, per_row = dims(args.scale)
    with tempfile.TemporaryDirectory(prefix="bench-backed-") as tmp:
        path = Path(tmp) / "x.h5ad"
        t0 = time.perf_counter()
        make_file(path, args.scale)
        nnz = n_obs * per_row
        print(f"file: {n_obs} x {n_vars} CSR float32, nnz {nnz:,}, {path.stat().st_size / 2**20:.0f} MB "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        sets = row_sets(n_obs, args.rows, args.repeat)
        rows: list[Result] = []
        t_floor, n_floor = bench_floor(path, sets)
        rows.append(Result("h5py floor (sliced ranges)", t_floor, note=f"nnz {n_floor:,}"))
        t_ours, n_ours, peak_ours = bench_annstore(path, sets)
        assert n_ours == n_floor, (n_ours, n_floor)
        rows.append(Result("annstore backed X[rows]", t_ours, peak_ours, note=f"{t_ours / t_floor:.2f}x floor"))
        py = os.environ.get("ANNSTORE_ANNDATA_PYTHON")
        if py:
            res = run_python(py, ANNDATA_CODE, str(path), str(args.rows), str(args.repeat))
            assert res["nnz"] == n_floor
            rows.append(Result(f"anndata {res['version']} backed X[rows]", res["seconds"], res["peak_mb"],
                               note=f"annstore is {res['seconds'] / t_ours:.2f}x faster"))
        else:
            print("(set ANNSTORE_ANNDATA_PYTHON to an interpreter with anndata to compare)")
        print_table(f"{args.repeat} x {args.rows} random rows from backed CSR", rows,
                    baseline="h5py floor (sliced ranges)")
        if args.skip_write:
            return
        out = Path(tmp) / "dask.h5ad"
        path.unlink()
        res = run_python(sys.executable, WRITE_CODE, str(out), str(n_obs), str(n_vars),
                         str(Path(__file__).parent), str(per_row))
        in_mem = (nnz * (4 + 4) + (n_obs + 1) * 8) / 2**20
        print(f"\nstreamed write of a dask-backed {n_obs} x {n_vars} CSR X to h5ad "
              f"({BLOCK_ROWS}-row blocks): {res['seconds']:.1f} s")
        print(f"  in-memory size of X      {in_mem:9.1f} MB")
        print(f"  peak traced (tracemalloc) {res['peak_traced_mb']:8.1f} MB  "
              f"({res['peak_traced_mb'] / in_mem:.3f} of in-memory; target < 0.25)")
        print(f"  peak RSS growth           {res['rss_growth_mb']:8.1f} MB  (process peak RSS {res['maxrss_mb']:.0f} MB)")
        import annstore

        check = annstore.read_h5ad(out, backed="r")
        assert check.X.shape == (n_obs, n_vars) and check.X.nnz == nnz
        last = n_obs - 1 - (n_obs - 1) % BLOCK_ROWS
        want = np.vstack([csr_block(0, min(BLOCK_ROWS, n_obs), n_vars, per_row)[0].toarray(),
                          csr_block(last, n_obs, n_vars, per_row)[-1].toarray()])
        np.testing.assert_array_equal(check.X[[0, n_obs - 1]].toarray(), want)
        check.file.close()


if __name__ == "__main__":
    main()

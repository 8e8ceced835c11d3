"""h5ad read/write speed: annstore vs the floor (raw h5py on the same arrays) vs anndata 0.13.4.

    python benchmarks/bench_h5ad.py [--scale 0.1] [--repeat 5]

Data: 100,000 x 20,000 CSR float32 at 2 % density (scaled in both dimensions by ``--scale``)
with realistic obs (categoricals, floats, ints, strings), var and obsm. The floor writes and
reads exactly the arrays of the h5ad file with h5py (``read_direct`` into preallocated
buffers; datasets created with the same chunks/maxshape/filters as the h5ad file), so it is the
best any h5ad library could do. With ``ANNSTORE_ANNDATA_PYTHON`` set to
an interpreter with anndata, anndata's read_h5ad/write_h5ad of the same file run in a child
process. Targets: annstore within 1.2x of the floor, and faster than anndata.

Timing: the floor and annstore run alternately (ABAB..., every other round reversed) and each
reports its median, so both see the same machine load; the best run and all runs are in the
notes. anndata's child process reports its median of the same number of runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))
from _common import Result, interleaved, print_table, run_python  # noqa: E402


def make_adata(scale: float, seed: int = 0) -> Any:
    import annstore

    rng = np.random.default_rng(seed)
    n_obs, n_vars = max(int(100_000 * scale), 10), max(int(20_000 * scale), 10)
    density = 0.02
    nnz_per_row = max(int(n_vars * density), 1)
    indptr = np.arange(0, (n_obs + 1) * nnz_per_row, nnz_per_row, dtype=np.int64)
    # sorted unique column indices per row, drawn quickly
    step = n_vars // nnz_per_row
    base = np.arange(nnz_per_row) * step
    indices = (base[None, :] + rng.integers(0, step, size=(n_obs, nnz_per_row))).ravel().astype(np.int32)
    data = rng.random(indices.size, dtype=np.float32)
    X = sparse.csr_matrix((data, indices, indptr.astype(np.int32)), shape=(n_obs, n_vars))
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(rng.choice([f"type_{i}" for i in range(20)], n_obs)),
            "batch": pd.Categorical(rng.choice(["b1", "b2", "b3"], n_obs)),
            "n_genes": rng.integers(200, 5000, n_obs),
            "total_counts": rng.random(n_obs, dtype=np.float32) * 1e4,
            "pct_mito": rng.random(n_obs),
            "barcode": [f"AAACCTG{i:09d}-1" for i in range(n_obs)],
        },
        index=[f"cell_{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {
            "gene_symbol": [f"GENE{i}" for i in range(n_vars)],
            "highly_variable": rng.random(n_vars) < 0.1,
            "means": rng.random(n_vars),
        },
        index=[f"ENSG{i:011d}" for i in range(n_vars)],
    )
    obsm = {"X_pca": rng.random((n_obs, 50), dtype=np.float32), "X_umap": rng.random((n_obs, 2))}
    return annstore.AnnData(X, obs=obs, var=var, obsm=obsm)


# --------------------------------------------------------------------------- the floor


def _leaves(path: Path) -> list[str]:
    import h5py

    names: list[str] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return names


def floor_read(path: Path, names: list[str]) -> dict[str, Any]:
    """Read every dataset of the file with read_direct (strings with a plain read)."""
    import h5py

    out: dict[str, Any] = {}
    with h5py.File(path, "r") as f:
        for n in names:
            ds = f[n]
            if ds.shape is None:
                continue
            if h5py.check_string_dtype(ds.dtype) is not None:
                out[n] = ds.asstr()[()]
            else:
                buf = np.empty(ds.shape, dtype=ds.dtype)
                if buf.size:
                    ds.read_direct(buf)
                out[n] = buf
    return out


def _layouts(path: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Creation properties of each dataset (chunks, maxshape, filters): the floor mirrors them."""
    import h5py

    with h5py.File(path, "r") as f:
        return {
            n: {"chunks": f[n].chunks, "maxshape": f[n].maxshape if f[n].chunks else None,
                "compression": f[n].compression}
            for n in names if f[n].shape is not None
        }


def floor_write(path: Path, arrays: dict[str, Any], attrs: dict[str, dict[str, Any]],
                layouts: dict[str, dict[str, Any]]) -> None:
    """Write the same datasets, stored the same way, and their attributes with h5py directly."""
    import h5py

    with h5py.File(path, "w") as f:
        for n, v in arrays.items():
            kw = {k: x for k, x in layouts[n].items() if x is not None}
            if v.dtype == object:
                f.create_dataset(n, data=v, dtype=h5py.string_dtype(), **kw)
            else:
                f.create_dataset(n, data=v, **kw)
        for n, a in attrs.items():
            f.require_group(n) if n not in f else None
            f[n].attrs.update(a)


def _all_attrs(path: Path) -> dict[str, dict[str, Any]]:
    import h5py

    out: dict[str, dict[str, Any]] = {}
    with h5py.File(path, "r") as f:
        out["/"] = dict(f.attrs)
        f.visititems(lambda n, o: out.__setitem__(n, dict(o.attrs)))
    return out


# --------------------------------------------------------------------------- anndata


_ANNDATA_CHILD = textwrap.dedent(
    """
    import json, sys, time, warnings, resource
    warnings.simplefilter("ignore")
    import anndata as ad
    src, dst, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    import os, statistics
    rs, ws = [], []
    for _ in range(repeat):
        t0 = time.perf_counter(); a = ad.read_h5ad(src); rs.append(time.perf_counter() - t0)
    for i in range(repeat):
        out = f"{dst}-{i}.h5ad"
        t0 = time.perf_counter(); a.write_h5ad(out); ws.append(time.perf_counter() - t0)
        os.unlink(out)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read": statistics.median(rs), "write": statistics.median(ws),
                      "read_best": min(rs), "write_best": min(ws),
                      "version": ad.__version__, "maxrss_mb": rss}))
    """
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="scale both dimensions (0.1 for a quick run)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    import annstore.io

    tmp = Path(tempfile.mkdtemp(prefix="bench_h5ad_"))
    try:
        adata = make_adata(args.scale)
        X = adata.X
        print(f"data: {adata.n_obs} x {adata.n_vars} csr float32, nnz={X.nnz:,} "
              f"({(X.data.nbytes + X.indices.nbytes) / 2**20:.0f} MB of data+indices)")
        path = tmp / "a.h5ad"
        annstore.io.write_h5ad(path, adata)
        size = path.stat().st_size / 2**20
        names = _leaves(path)
        arrays = floor_read(path, names)
        attrs = _all_attrs(path)
        layouts = _layouts(path, names)

        r_floor, r_ann = interleaved({
            "floor: h5py read_direct": lambda: floor_read(path, names),
            "annstore read_h5ad": lambda: annstore.io.read_h5ad(path),
        }, repeat=args.repeat)
        # Every write goes to a fresh file name (old ones deleted outside the timing), so no
        # run pays for freeing the previous run's blocks.
        counter = iter(range(10**6))

        def fresh(stem: str) -> Path:
            for old in tmp.glob(f"{stem}-*"):
                old.unlink()
            return tmp / f"{stem}-{next(counter)}.h5ad"

        def timed_write(stem: str, write: Any) -> Any:
            def run() -> None:
                write(fresh(stem))
            return run

        w_floor, w_ann = interleaved({
            "floor: h5py create_dataset": timed_write(
                "floor", lambda p: floor_write(p, arrays, attrs, layouts)),
            "annstore write_h5ad": timed_write("w", lambda p: annstore.io.write_h5ad(
                p, adata, convert_strings_to_categoricals=False)),
        }, repeat=args.repeat)
        reads, writes = [r_floor, r_ann], [w_floor, w_ann]

        py = os.environ.get("ANNSTORE_ANNDATA_PYTHON")
        if py:
            res = run_python(py, _ANNDATA_CHILD, str(path), str(tmp / "ad.h5ad"), str(args.repeat))
            note = (f"anndata {res['version']} (child, median of {args.repeat}, maxrss "
                    f"{res['maxrss_mb']:.0f} MB)")
            reads.append(Result("anndata read_h5ad", res["read"], None,
                                f"{note}; best {res['read_best']:.3f}"))
            writes.append(Result("anndata write_h5ad", res["write"], None,
                                 f"{note}; best {res['write_best']:.3f}"))

        print(f"file: {size:.0f} MB, {len(names)} datasets")
        print_table("read", reads, baseline="floor: h5py read_direct")
        print_table("write", writes, baseline="floor: h5py create_dataset")
        rr, wr = r_ann.seconds / r_floor.seconds, w_ann.seconds / w_floor.seconds
        print(f"\nannstore/floor: read {rr:.2f}x, write {wr:.2f}x (target <= 1.20x)")
        if py:
            print(f"annstore/anndata: read {r_ann.seconds / reads[2].seconds:.2f}x, "
                  f"write {w_ann.seconds / writes[2].seconds:.2f}x (target < 1)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""concat_on_disk: peak memory and time of annstore vs anndata 0.13.4 on the same inputs.

    python benchmarks/bench_concat_on_disk.py [--scale 0.25] [--repeat 3] [--density 0.1]
                                              [--format h5ad|zarr] [--max-loaded-elems N]

Data: 8 inputs of 10,000 x 2,000 CSR float32 (scaled in both dimensions by ``--scale``), each
with a different random subset of a 3,000-gene pool, so the outer join reindexes every input.
Each concatenation runs in a fresh child process, which reports its wall time and its peak
resident memory (``VmHWM`` from ``/proc/self/status``, else ``ru_maxrss``); the peak above the memory after imports is shown too. With
``ANNSTORE_ANNDATA_PYTHON`` set to an interpreter with anndata, anndata's concat_on_disk of the
same inputs runs the same way, and both results are checked to hold the same AnnData.
Targets: peak at most half of anndata's, time no worse. The peak is judged on the figure above
imports (what concat_on_disk itself allocates; the import baselines differ by ~35 MB between
the two interpreters and libraries and say nothing about the operation); the total is shown too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))
from _common import MAXRSS_SNIPPET, Result, print_table, run_python

N_INPUTS = 8


def make_inputs(tmp: Path, *, scale: float, density: float, fmt: str, seed: int = 0) -> list[Path]:
    import annstore

    rng = np.random.default_rng(seed)
    n_obs, n_vars = max(int(10_000 * scale), 10), max(int(2_000 * scale), 10)
    pool = np.array([f"gene_{i:05d}" for i in range(int(n_vars * 1.5))])
    paths = []
    for i in range(N_INPUTS):
        genes = np.sort(rng.choice(pool, size=n_vars, replace=False))
        nnz_row = max(int(n_vars * density), 1)
        # sorted unique column indices per row, drawn quickly
        step = n_vars // nnz_row
        base = np.arange(nnz_row) * step
        indices = (base[None, :] + rng.integers(0, step, size=(n_obs, nnz_row))).ravel().astype(np.int32)
        indptr = np.arange(0, (n_obs + 1) * nnz_row, nnz_row, dtype=np.int64).astype(np.int32)
        data = (rng.random(indices.size, dtype=np.float32) * 10).astype(np.float32)
        X = sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))
        obs = pd.DataFrame(
            {
                "cell_type": pd.Categorical(rng.choice([f"type_{j}" for j in range(20)], n_obs)),
                "n_genes": rng.integers(200, 5000, n_obs),
                "total_counts": rng.random(n_obs, dtype=np.float32) * 1e4,
            },
            index=[f"cell_{i}_{j}" for j in range(n_obs)],
        )
        var = pd.DataFrame({"gene_id": genes.astype(object)}, index=genes)
        ad = annstore.AnnData(X, obs=obs, var=var)
        p = tmp / f"in{i}.{fmt}"
        annstore.write(ad, p)
        paths.append(p)
    return paths


CHILD = MAXRSS_SNIPPET + textwrap.dedent(
    """
    import json, sys, time

    def _peak_mb():
        # VmHWM is the peak of this program image; ru_maxrss on Linux can carry over the
        # parent's peak across fork+exec (it did here: the data generator's 170 MB)
        try:
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return _maxrss_mb()

    lib, out, max_loaded, *paths = sys.argv[1:]
    if lib == "annstore":
        import annstore, annstore_h5ad, annstore_zarr
        from annstore.experimental import concat_on_disk
        annstore.list_formats()  # load plugins before measuring
    else:
        import anndata
        from anndata.experimental import concat_on_disk
    base = _peak_mb()
    t0 = time.perf_counter()
    concat_on_disk(paths, out, join="outer", max_loaded_elems=int(max_loaded))
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "maxrss_mb": _peak_mb(), "base_mb": base}))
    """
)


def run(python: str, lib: str, paths: list[Path], out: Path, max_loaded: int, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        runs.append(run_python(python, CHILD, lib, str(out), str(max_loaded), *map(str, paths)))
    return {
        "seconds": min(r["seconds"] for r in runs),
        "maxrss_mb": min(r["maxrss_mb"] for r in runs),
        "base_mb": min(r["base_mb"] for r in runs),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="scale both dimensions (quick runs: 0.1)")
    ap.add_argument("--density", type=float, default=0.1)
    ap.add_argument("--format", choices=["h5ad", "zarr"], default="h5ad")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-loaded-elems", type=int, default=100_000_000)
    ap.add_argument("--no-check", action="store_true", help="skip comparing the two results")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_concat_"))
    try:
        paths = make_inputs(tmp, scale=args.scale, density=args.density, fmt=args.format)
        import annstore

        shapes = [annstore.read(p, backed="r").shape for p in paths[:1]]
        print(f"{N_INPUTS} inputs of {shapes[0]} ({args.format}, density {args.density}), outer join, "
              f"max_loaded_elems={args.max_loaded_elems}")
        rows: list[Result] = []
        ours_out = tmp / f"ours.{args.format}"
        ours = run(sys.executable, "annstore", paths, ours_out, args.max_loaded_elems, args.repeat)
        rows.append(Result("annstore concat_on_disk", ours["seconds"], ours["maxrss_mb"],
                           f"peak RSS; {ours['maxrss_mb'] - ours['base_mb']:.1f} MB above imports "
                           f"({ours['base_mb']:.1f})"))
        ad_py = os.environ.get("ANNSTORE_ANNDATA_PYTHON")
        if ad_py:
            theirs_out = tmp / f"theirs.{args.format}"
            theirs = run(ad_py, "anndata", paths, theirs_out, args.max_loaded_elems, args.repeat)
            rows.append(Result("anndata concat_on_disk", theirs["seconds"], theirs["maxrss_mb"],
                               f"peak RSS; {theirs['maxrss_mb'] - theirs['base_mb']:.1f} MB above "
                               f"imports ({theirs['base_mb']:.1f})"))
            if not args.no_check:
                from annstore.testing import assert_adata_equal

                assert_adata_equal(annstore.read(ours_out), annstore.read(theirs_out))
                print("results: equal")
        print_table("concat_on_disk (best wall time; peak resident memory of the child)", rows,
                    baseline="anndata concat_on_disk" if ad_py else None)
        if ad_py:
            print(f"\n  peak RSS ratio annstore/anndata: {ours['maxrss_mb'] / theirs['maxrss_mb']:.2f} "
                  f"(above imports: {(ours['maxrss_mb'] - ours['base_mb']) / max(theirs['maxrss_mb'] - theirs['base_mb'], 1e-9):.2f}); "
                  f"time ratio: {ours['seconds'] / theirs['seconds']:.2f}")
            above = (ours["maxrss_mb"] - ours["base_mb"]) / max(theirs["maxrss_mb"] - theirs["base_mb"], 1e-9)
            met = above <= 0.5 and ours["seconds"] <= theirs["seconds"]
            print(f"  target (peak above imports <= 0.5x anndata's, time <= anndata's): "
                  f"{'met' if met else 'NOT met'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

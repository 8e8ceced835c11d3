"""Run every benchmark in turn: ``python benchmarks/run_all.py [--scale 0.1]``.

Each benchmark compares annstore with the floor (raw h5py/zarr on the same arrays) in the same
run, and with anndata 0.13.4 when ``ANNSTORE_ANNDATA_PYTHON`` names an interpreter that has it.
``--scale 1`` (the default) is the size the targets are stated for; ``--scale 0.1`` is a quick check.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
SCALED = ["bench_h5ad.py", "bench_zarr.py", "bench_backed.py", "bench_loader.py", "bench_concat_on_disk.py"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", nargs="*", help="benchmark file names to run (default: all)")
    args = ap.parse_args()
    jobs = [("bench_import.py", ["-n", "7"])] + [(b, ["--scale", str(args.scale)]) for b in SCALED]
    failed = []
    for name, extra in jobs:
        if args.only and name not in args.only:
            continue
        print(f"\n===== {name} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / name), *extra])
        print(f"----- {name}: exit {rc} in {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

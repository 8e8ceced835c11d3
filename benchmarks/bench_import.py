"""Import cost of ``import annstore`` against ``import anndata`` and the numpy/pandas/scipy floor.

Each figure is the median over N fresh interpreter processes of (a) wall time of the import
statement measured inside the process and (b) the cumulative ``-X importtime`` of the top-level
module. anndata is imported with the interpreter named by ``ANNSTORE_ANNDATA_PYTHON`` (e.g.
``/work/oracle/bin/python``) if set, else with the current one when it has anndata.

Usage: ``python benchmarks/bench_import.py [-n 15]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

CASES = {
    "floor (numpy, pandas, scipy.sparse)": "import numpy, pandas, scipy.sparse",
    "annstore": "import annstore",
    "anndata": "import anndata",
}
_TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _top_module(stmt: str) -> list[str]:
    return [m.strip().split(".")[0] for m in stmt.removeprefix("import ").split(",")]


def measure(python: str, stmt: str) -> tuple[float, float]:
    """One fresh process: (wall seconds of the import, summed cumulative importtime seconds)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    out = subprocess.run(
        [python, "-X", "importtime", "-c", _TIMER.format(stmt=stmt)],
        capture_output=True, text=True, check=True, env=env,
    )
    wall = float(out.stdout.strip().splitlines()[-1])
    tops = set(_top_module(stmt))
    cumulative = 0
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and m.group(3) in tops and len(m.group(2)) == 1:
            cumulative += int(m.group(1))
    return wall, cumulative / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="fresh processes per case (default 15)")
    args = parser.parse_args()
    anndata_py = os.environ.get("ANNSTORE_ANNDATA_PYTHON", sys.executable)
    rows = []
    for label, stmt in CASES.items():
        python = anndata_py if label == "anndata" else sys.executable
        try:
            samples = [measure(python, stmt) for _ in range(args.n)]
        except subprocess.CalledProcessError:
            rows.append((label, python, None, None))
            continue
        rows.append((label, python, statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)))
    print(f"median of {args.n} fresh processes")
    print(f"{'case':38} {'wall ms':>9} {'importtime ms':>14}  interpreter")
    for label, python, wall, cum in rows:
        if wall is None:
            print(f"{label:38} {'n/a':>9} {'n/a':>14}  {python} (import failed)")
        else:
            print(f"{label:38} {wall * 1e3:9.1f} {cum * 1e3:14.1f}  {python}")
    by = {r[0]: r for r in rows}
    floor, ours, theirs = (by[k][2] for k in CASES)
    if None not in (floor, ours, theirs):
        print(f"\nannstore / anndata (wall): {ours / theirs:.2f}")
        print(f"above the floor: annstore {1e3 * (ours - floor):.1f} ms, anndata {1e3 * (theirs - floor):.1f} ms")
        note = "(anndata runs on a different interpreter: compare above-floor figures with care)"
        if anndata_py != sys.executable:
            print(note)
        print("target (annstore <= half of anndata):", "met" if ours <= theirs / 2 else "NOT met")


if __name__ == "__main__":
    main()

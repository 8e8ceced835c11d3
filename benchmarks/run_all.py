"""Every benchmark case, annstore vs anndata 0.13.4 vs the floor, in one interleaved run.

    python benchmarks/run_all.py [--scale 1] [--rounds 5] [--only CASE ...] [--python PY]

How a figure is taken (what a skeptic should be able to check):

* one interpreter for everything (``--python``, default the judge's Python 3.12 venv of
  ``tests/anndata_suite/run.py``, which holds annstore *and* the real anndata 0.13.4 on the
  stack anndata resolves), so both libraries see the same numpy, scipy, pandas, h5py and zarr;
* every run is a fresh process (``_child.py``): untimed setup (imports, opening, reading the
  object to write), then the page cache is warmed with the case's inputs for everyone alike,
  then the operation alone is timed: wall seconds, CPU seconds of the whole process (all
  threads) and peak RSS;
* rounds interleave the implementations: round ``r`` runs every case, each case's
  implementations in an order rotated by ``r`` (and reversed on odd rounds), so machine drift
  hits all alike;
* both libraries run the same code with the same arguments (``_cases.py``); the floor is a
  true lower bound of the work (see ``_cases.py``);
* the report gives per case the median and the spread (min-max) of every implementation, the
  ratios of medians annstore/anndata and annstore/floor, and the geometric mean; the raw runs,
  the machine and the versions go to ``benchmarks/results/<name>.json`` beside the table
  (``.md``), both meant to be committed with the figures they back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _cases import CASES  # noqa: E402

IMPLS = ("annstore", "anndata", "floor")
DEFAULT_PY = REPO / "tests" / "anndata_suite" / ".work" / "venv-annstore" / "bin" / "python"

PROBE = """
import json, sys, importlib.metadata as md
import annstore, anndata
assert anndata.AnnData is not annstore.AnnData, "anndata is aliased to annstore in this interpreter"
v = {}
for d in ("anndata", "annstore-core", "numpy", "scipy", "pandas", "h5py", "zarr"):
    try:
        v[d] = md.version(d)
    except md.PackageNotFoundError:
        v[d] = None
v["python"] = sys.version.split()[0]
print(json.dumps(v))
"""


def _run(py: str, *args: str, timeout: float = 3600) -> str:
    res = subprocess.run([py, *args], capture_output=True, text=True, timeout=timeout, check=False,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if res.returncode:
        msg = f"{' '.join(args[:3])} failed ({res.returncode}):\n{res.stderr[-3000:]}"
        raise RuntimeError(msg)
    return res.stdout


def _order(r: int) -> list[str]:
    k = r % len(IMPLS)
    order = list(IMPLS[k:] + IMPLS[:k])
    return order[::-1] if r % 2 else order


def _stats(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def summarise(runs: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for case in dict.fromkeys(r["case"] for r in runs):
        per = {}
        for impl in IMPLS:
            rs = [r for r in runs if r["case"] == case and r["impl"] == impl and "error" not in r]
            if rs:
                per[impl] = {m: _stats([r[m] for r in rs]) for m in ("wall_s", "cpu_s", "op_peak_mb")}
                per[impl]["n"] = len(rs)
        ratios = {}
        for other in ("anndata", "floor"):
            if "annstore" in per and other in per:
                for m in ("wall_s", "cpu_s", "op_peak_mb"):
                    ratios[f"{m}/{other}"] = per["annstore"][m]["median"] / per[other][m]["median"]
        out[case] = {"impls": per, "ratios": ratios}
    return out


def table(summary: dict[str, dict]) -> str:
    lines = [
        "| case | annstore CPU s (min-max), op peak | anndata CPU s (min-max), op peak | floor CPU s, op peak | annstore/anndata CPU | "
        "annstore/anndata wall | annstore/floor CPU | op peak RSS annstore/anndata |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def cell(s: dict, impl: str) -> str:
        if impl not in s["impls"]:
            return "-"
        c = s["impls"][impl]["cpu_s"]
        m = s["impls"][impl]["op_peak_mb"]["median"]
        return f"{c['median']:.3f} ({c['min']:.3f}-{c['max']:.3f}), {m:.0f} MB"

    def ratio(s: dict, key: str) -> str:
        v = s["ratios"].get(key)
        return f"{v:.2f}x" if v is not None else "-"

    cpu_ratios = []
    for case, s in summary.items():
        if "cpu_s/anndata" in s["ratios"]:
            cpu_ratios.append(s["ratios"]["cpu_s/anndata"])
        lines.append(
            f"| {case} | {cell(s, 'annstore')} | {cell(s, 'anndata')} | {cell(s, 'floor')} | "
            f"{ratio(s, 'cpu_s/anndata')} | {ratio(s, 'wall_s/anndata')} | {ratio(s, 'cpu_s/floor')} | "
            f"{ratio(s, 'op_peak_mb/anndata')} |"
        )
    if cpu_ratios:
        gm = math.exp(sum(math.log(x) for x in cpu_ratios) / len(cpu_ratios))
        lines.append(f"\nGeometric mean of annstore/anndata CPU time over {len(cpu_ratios)} cases: {gm:.2f}x")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=os.environ.get("ANNSTORE_BENCH_PYTHON", str(DEFAULT_PY)))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run (default: all)")
    ap.add_argument("--name", default=None, help="results file name (default: scale and date)")
    ap.add_argument("--datadir", default=str(HERE / ".data"))
    args = ap.parse_args()
    if not Path(args.python).exists():
        print(f"{args.python} not found: build it with `python tests/anndata_suite/run.py --sample 1 "
              "--no-workflow` (or pass --python a Python with annstore and anndata 0.13.4)", file=sys.stderr)
        return 2
    versions = json.loads(_run(args.python, "-c", PROBE).splitlines()[-1])
    data = Path(args.datadir) / f"scale-{args.scale:g}"
    if not (data / "small.h5ad").exists():
        print(f"generating inputs in {data} ...", flush=True)
        _run(args.python, str(HERE / "_data.py"), str(data), str(args.scale))
    cases = args.only or list(CASES)
    runs: list[dict] = []
    for r in range(args.rounds):
        for case in cases:
            for impl in _order(r):
                out = Path(tempfile.mkdtemp(prefix="annstore-bench-"))
                try:
                    rec = json.loads(_run(args.python, str(HERE / "_child.py"), case, impl, str(data), str(out)).splitlines()[-1])
                except RuntimeError as e:
                    rec = {"error": str(e)[-500:]}
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                runs.append({"round": r, "case": case, "impl": impl, **rec})
                shown = f"{rec['cpu_s']:.3f} s CPU" if "cpu_s" in rec else "ERROR"
                print(f"round {r} {case:<18} {impl:<9} {shown}", flush=True)
    summary = summarise(runs)
    for case in cases:  # the same work: every implementation's check value must agree
        checks = {r["impl"]: r.get("check") for r in runs if r["case"] == case and r.get("check") is not None}
        lib = {checks.get("annstore"), checks.get("anndata")} - {None}
        if len(lib) > 1:
            print(f"warning: {case}: annstore and anndata disagree on the result: {checks}", file=sys.stderr)
    name = args.name or f"scale{args.scale:g}-{dt.date.today().isoformat()}"
    res_dir = HERE / "results"
    res_dir.mkdir(exist_ok=True)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                    "load_at_start": os.getloadavg()},
        "versions": versions, "scale": args.scale, "rounds": args.rounds,
        "cases": {c: CASES[c].description for c in cases},
    }
    (res_dir / f"{name}.json").write_text(json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=1) + "\n")
    md = (f"# Benchmarks {name}\n\n{meta['date']}, {meta['machine']['cpus']} CPUs, load at start "
          f"{meta['machine']['load_at_start'][0]:.1f}; {json.dumps(versions)}; {args.rounds} interleaved rounds, "
          f"scale {args.scale:g}. Raw runs: `{name}.json`. Command: `python benchmarks/run_all.py "
          f"--scale {args.scale:g} --rounds {args.rounds}`.\n\n" + table(summary) + "\n")
    (res_dir / f"{name}.md").write_text(md)
    print("\n" + md)
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

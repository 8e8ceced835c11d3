"""Benchmark helpers: wall time (best of N), peak memory, child-process runs, result tables."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAXRSS_SNIPPET", "Result", "best_of", "interleaved", "maxrss_mb", "measure", "print_table",
    "run_python",
]


@dataclass
class Result:
    """One measured operation: best wall time in seconds and peak traced memory in MB."""

    name: str
    seconds: float
    peak_mb: float | None = None
    note: str = ""


def measure(name: str, fn: Callable[[], Any], *, repeat: int = 3, memory: bool = True) -> Result:
    """Best-of-``repeat`` wall time of ``fn()``; then one extra run under tracemalloc for peak memory.

    tracemalloc sees numpy's allocations (numpy reports them to it), not HDF5's internal
    buffers; for whole-process peaks use :func:`run_python` and its ``maxrss_mb``.
    """
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        del out
    peak = None
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            out = fn()
            del out
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    return Result(name, best, peak)


def interleaved(fns: dict[str, Callable[[], Any]], *, repeat: int = 5,
                memory: bool = True) -> list[Result]:
    """Median wall time of each function, the functions run in turn (ABAB.../BABA... rounds).

    On a shared, noisy machine a best-of-N of one function and then of another compares two
    different moments of the machine's load; alternating the functions (and their order in
    every other round) exposes each to the same load, and the median resists outliers. The
    note gives the best time and every run. One extra traced run per function gives the peak
    memory, as in :func:`measure`.
    """
    names = list(fns)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(repeat):
        for n in names if i % 2 == 0 else names[::-1]:
            gc.collect()
            t0 = time.perf_counter()
            out = fns[n]()
            times[n].append(time.perf_counter() - t0)
            del out
    results = []
    for n in names:
        peak = None
        if memory:
            gc.collect()
            tracemalloc.start()
            try:
                out = fns[n]()
                del out
                peak = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
        ts = sorted(times[n])
        med = ts[len(ts) // 2] if len(ts) % 2 else (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]) / 2
        note = f"median of {repeat}; best {ts[0]:.3f}; runs " + " ".join(f"{t:.2f}" for t in times[n])
        results.append(Result(n, med, peak, note))
    return results


def run_python(python: str, code: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 3600) -> dict[str, Any]:
    """Run ``code`` with interpreter ``python``; it must print one JSON object as its last line.

    ``maxrss_mb`` (the child's peak resident memory) is added to the result.
    """
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [python, "-c", code, *args], capture_output=True, text=True, env=full_env, timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        msg = f"{python} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        raise RuntimeError(msg)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


#: Snippet children can use to report their own peak RSS in MB.
MAXRSS_SNIPPET = (
    "import resource as _r, sys as _s\n"
    "def _maxrss_mb():\n"
    "    v = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss\n"
    "    return v / 2**20 if _s.platform == 'darwin' else v / 2**10\n"
)


def maxrss_mb() -> float:
    v = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return v / 2**20 if sys.platform == "darwin" else v / 2**10


def print_table(title: str, rows: list[Result], *, baseline: str | None = None) -> None:
    """Print results; with ``baseline`` also each row's ratio to that row's time."""
    base = next((r.seconds for r in rows if r.name == baseline), None)
    print(f"\n{title}")
    print(f"  {'operation':<34} {'seconds':>9} {'peak MB':>9} {'ratio':>7}  note")
    for r in rows:
        ratio = f"{r.seconds / base:6.2f}x" if base else ""
        peak = f"{r.peak_mb:9.1f}" if r.peak_mb is not None else f"{'-':>9}"
        print(f"  {r.name:<34} {r.seconds:9.3f} {peak} {ratio:>7}  {r.note}")


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls of ``fn()`` in seconds (no memory tracing)."""
    return measure("", fn, repeat=repeat, memory=False).seconds

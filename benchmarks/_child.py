"""One measured run, in a fresh process: ``python _child.py CASE IMPL DATADIR OUTDIR``.

Runs the case's untimed ``setup`` for the implementation, warms the page cache with every input
file of the case (so every implementation starts from the same warm cache), then times ``op``:
wall seconds (``perf_counter``), CPU seconds of the whole process (``process_time``: every
thread, user + system, so parallel decoding is paid for), and the peak resident memory of the
operation above what the process held before it (the kernel's peak mark is reset first, through
``/proc/self/clear_refs``). Prints one JSON object as its last line.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _cases import CASES  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so that it measures the operation alone."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    return float("nan")


def _warm(paths: list[Path]) -> None:
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for p in files:
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass


def main() -> None:
    case_name, impl, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    case = CASES[case_name]
    ns: dict = {"DATA": data, "OUT": out, "ARGS": case.args}
    exec(case.impls[impl].setup, ns)
    _warm([data / f for f in case.inputs])
    gc.collect()
    gc.disable()
    rss0, maxrss0 = _rss_mb(), _maxrss_mb()
    reset = _reset_peak()
    c0, t0 = time.process_time(), time.perf_counter()
    exec(case.impls[impl].op, ns)
    t1, c1 = time.perf_counter(), time.process_time()
    op_peak = _hwm_mb() - rss0 if reset else float("nan")
    gc.enable()
    check = ns.get("CHECK")
    print(json.dumps({
        "wall_s": t1 - t0, "cpu_s": c1 - c0, "rss_before_mb": rss0,
        "peak_rss_mb": _maxrss_mb(), "peak_rss_before_op_mb": maxrss0,
        # peak resident memory during the operation above what the process held before it
        "op_peak_mb": max(op_peak, 0.0),
        "check": check if isinstance(check, int | float | str) else None,
    }))


if __name__ == "__main__":
    main()

"""Writers SIGKILLed at random points lose nothing and leave nothing behind after the next write.

For each format (h5ad, zarr directory, zarr zip, loom) a writer replacing a small "old" file
with a larger "new" one is killed with SIGKILL at a random point of the write, ``KILLS`` times
(default 100; ``ANNSTORE_KILL_TRIALS=1000`` for more). After every kill:

* the path reads as the old or the new content, whole, eagerly and (h5ad, zarr) backed; if the
  writer died between the two renames of a directory swap (only where the system has no atomic
  exchange), the old store waits under its ``.annstore-tmp-old-`` name and the next write puts
  it back;
* the temporaries the writer left (``.annstore-tmp-*``, zip staging included) are removed by the
  next write of the same path, so no temporary remains: every tenth trial writes the old
  content again with ``annstore.write``; the others run what that write runs first
  (``clean_stale``) and put a copy of the old content back, which is faster.

Kills are cheap: one "zygote" process imports annstore once and forks a writer per trial, so a
trial costs a fork and a fraction of one write. ``pytest tests/robustness/test_writer_kills.py -s``
prints the figures (``[writer-kills]`` lines).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import annstore
from annstore.io._atomic import clean_stale

KILLS = int(os.environ.get("ANNSTORE_KILL_TRIALS", "100"))
#: format -> (suffix, plugin, reads backed)
FORMATS = {
    "h5ad": (".h5ad", "h5ad", True),
    "zarr": (".zarr", "zarr", True),
    "zarr-zip": (".zarr.zip", "zarr", True),
    "loom": (".loom", "loom", False),
}
FIGURES: dict[str, dict[str, int]] = {}
NEW_SHAPE = (300, 40)

_ZYGOTE = textwrap.dedent(
    """
    import os, signal, sys, time, warnings
    warnings.simplefilter("ignore")
    import numpy as np, pandas as pd
    import annstore
    annstore.list_formats()  # load the plugins (and h5py, zarr) once, before forking
    path, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    new = annstore.AnnData(
        np.random.default_rng(2).random((n, m), dtype=np.float32),
        obs=pd.DataFrame({"v": np.full(n, 2)}, index=[f"c{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(m)]),
    )
    print("ready", flush=True)
    for line in sys.stdin:
        delay = float(line)
        pid = os.fork()
        if pid == 0:
            try:
                while True:
                    annstore.write(new, path)
            finally:
                os._exit(0)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)
    """
)


def _adata(n: int, m: int, v: int) -> Any:
    return annstore.AnnData(
        np.random.default_rng(v).random((n, m), dtype=np.float32),
        obs=pd.DataFrame({"v": np.full(n, v)}, index=[f"c{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(m)]),
    )


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _classify(got: Any, old: Any, new: Any) -> str:
    x = got.X
    if hasattr(x, "toarray"):
        x = x.toarray()
    elif not isinstance(x, np.ndarray):  # a backed dense X: the storage library's array
        x = np.asarray(x[...])
    for name, ref in (("old", old), ("new", new)):
        if x.shape == ref.X.shape and np.array_equal(x, ref.X) and list(got.obs["v"]) == list(ref.obs["v"]):
            return name
    return "torn"


def _temporaries(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith(".annstore-"))


def _tmp_dir_leftovers(name: str) -> list[str]:
    import tempfile

    return sorted(p.name for p in Path(tempfile.gettempdir()).iterdir()
                  if p.name.startswith(".annstore-") and p.name.endswith(name))


def _restore(pristine: Path, path: Path) -> None:
    """Put a copy of the old content back at ``path`` (faster than writing it again)."""
    if pristine.is_dir():
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(pristine, path)
    else:
        shutil.copyfile(pristine, path)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_killed_writers_lose_nothing_and_leave_nothing(fmt: str, tmp_path: Path) -> None:
    suffix, plugin, backed = FORMATS[fmt]
    if plugin not in annstore.list_formats():
        pytest.skip(f"requires annstore-{plugin}")
    rng = random.Random(20261204)
    path = tmp_path / f"data{suffix}"
    old, new = _adata(30, 8, 1), _adata(*NEW_SHAPE, 2)
    t0 = time.perf_counter()
    _quiet(annstore.write, new, tmp_path / f"timing{suffix}")
    one_write = time.perf_counter() - t0
    pristine = tmp_path / "pristine" / path.name
    pristine.parent.mkdir()
    _quiet(annstore.write, old, pristine)
    _quiet(annstore.write, old, path)
    zygote = subprocess.Popen(
        [sys.executable, "-c", _ZYGOTE, str(path), str(NEW_SHAPE[0]), str(NEW_SHAPE[1])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    assert zygote.stdout.readline().strip() == "ready"
    fig = {"kills": 0, "old": 0, "new": 0, "torn": 0, "restored": 0, "left-temporaries": 0,
           "temporaries-after-next-write": 0, "backed-reads": 0}
    t_start = time.perf_counter()
    try:
        for trial in range(KILLS):
            zygote.stdin.write(f"{rng.uniform(0.0, 1.3 * one_write):.6f}\n")
            zygote.stdin.flush()
            assert zygote.stdout.readline().strip() == "killed"
            fig["kills"] += 1
            left = _temporaries(tmp_path)
            fig["left-temporaries"] += len(left)
            if not path.exists():  # died between the two renames of a directory swap
                assert any(n.startswith(".annstore-tmp-old-") for n in left), left
                clean_stale(path)
                fig["restored"] += 1
            got = _quiet(annstore.read, path)
            outcome = _classify(got, old, new)
            fig[outcome] += 1
            assert outcome != "torn", f"trial {trial}: {path.name} reads as neither old nor new"
            if backed:
                b = _quiet(annstore.read, path, backed="r")
                try:
                    assert _classify(b, old, new) == outcome, f"trial {trial}: backed read differs"
                finally:
                    b.file.close()
                fig["backed-reads"] += 1
            if trial % 10 == 9:  # the next write cleans the dead writer's temporaries ...
                _quiet(annstore.write, old, path)
            else:  # ... by calling clean_stale first, which is all that the cheap reset runs
                clean_stale(path)
                _restore(pristine, path)
            after = _temporaries(tmp_path) + _tmp_dir_leftovers(path.name)
            fig["temporaries-after-next-write"] += len(after)
            assert after == [], f"trial {trial}: temporaries survived the next write: {after}"
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=60)
    fig["seconds"] = round(time.perf_counter() - t_start, 1)
    FIGURES[fmt] = fig
    print(f"\n[writer-kills] {fmt}: {fig}")
    assert fig["kills"] == KILLS and fig["torn"] == 0
    assert fig["old"] > 0 and fig["new"] > 0  # kills landed before and after the swap
    assert fig["left-temporaries"] > 0  # kills landed mid-write, so there was something to clean


def test_summary() -> None:
    print(f"\n[writer-kills] figures: {FIGURES}")
    assert all(v["torn"] == 0 and v["temporaries-after-next-write"] == 0 for v in FIGURES.values())

"""Whole-file h5ad writes are atomic: a killed or failing writer never damages the previous file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from annstore.io._atomic import TMP_MARK


def _small_adata() -> object:
    import annstore

    rng = np.random.default_rng(0)
    return annstore.AnnData(
        rng.random((30, 8), dtype="f4"),
        obs=pd.DataFrame(
            {"group": pd.Categorical(rng.choice(["a", "b"], 30)), "score": rng.random(30)},
            index=[f"cell{i}" for i in range(30)],
        ),
        var=pd.DataFrame(index=[f"gene{i}" for i in range(8)]),
    )


def _assert_same(a: object, b: object) -> None:
    np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(a.obs, b.obs, check_dtype=False)  # type: ignore[attr-defined]
    assert list(a.var_names) == list(b.var_names)  # type: ignore[attr-defined]


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith(TMP_MARK))


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np, annstore, annstore.io
    n = int(sys.argv[2])
    X = np.random.default_rng(1).random((n, 1000), dtype="f8")
    print("ready", flush=True)
    annstore.io.write_h5ad(sys.argv[1], annstore.AnnData(X))
    print("done", flush=True)
    """
)


def _tmp_file_growing(d: Path, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        tmps = [p for p in d.iterdir() if p.name.startswith(TMP_MARK)]
        if any(p.stat().st_size > 1_000_000 for p in tmps if p.exists()):
            return True
        time.sleep(0.005)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_write_keeps_previous_file(tmp_path: Path) -> None:
    import annstore.io

    target = tmp_path / "data.h5ad"
    old = _small_adata()
    annstore.io.write_h5ad(target, old)
    before = target.read_bytes()

    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    # ~400 MB of float64 so the write takes long enough to be interrupted.
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), "50000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert _tmp_file_growing(tmp_path, timeout=60), "the writer never started writing its temp file"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # The target was never touched: same bytes, and it reads back equal.
    assert target.read_bytes() == before
    _assert_same(annstore.io.read_h5ad(target), old)


def test_exception_mid_write_leaves_no_temp_and_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import annstore.io
    from annstore_h5ad import _store

    target = tmp_path / "data.h5ad"
    old = _small_adata()
    annstore.io.write_h5ad(target, old)
    before = target.read_bytes()

    calls = {"n": 0}
    real = _store.H5Group.create_array

    def failing(self: _store.H5Group, name: str, *a: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            msg = "disk on fire"
            raise OSError(msg)
        return real(self, name, *a, **kw)

    monkeypatch.setattr(_store.H5Group, "create_array", failing)
    new = _small_adata()
    new.X = np.asarray(new.X) + 1  # type: ignore[attr-defined]
    with pytest.raises(OSError, match="disk on fire"):
        annstore.io.write_h5ad(target, new)
    monkeypatch.undo()
    assert calls["n"] >= 3
    assert _leftovers(tmp_path) == []
    assert target.read_bytes() == before
    _assert_same(annstore.io.read_h5ad(target), old)


def test_successful_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    import annstore.io

    target = tmp_path / "data.h5ad"
    annstore.io.write_h5ad(target, _small_adata())
    new = _small_adata()
    new.X = np.asarray(new.X) * 2  # type: ignore[attr-defined]
    annstore.io.write_h5ad(target, new)
    assert _leftovers(tmp_path) == []
    _assert_same(annstore.io.read_h5ad(target), new)

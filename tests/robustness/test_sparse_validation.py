"""Damaged sparse matrices are refused on every read path, and the corruption suite holds backed.

Two parts:

* The project's corruption suite (``_corrupt.py``: every element kind, ~630-700 damaged inputs
  per format) read with ``backed="r"`` (open, then ``to_memory()``), for h5ad and zarr v2/v3:
  each input raises an annstore error naming the file and the element, or is one of the
  documented legitimate reads; no crash, hang or silently returned damage.
* A sparse X damaged in the ways scipy trusts blindly (indices outside the minor axis or
  negative, ``indptr`` decreasing, not starting at 0 or not ending at ``nnz``, ``data`` and
  ``indices`` of different lengths, a shape attribute declaring ``10**12`` rows) is read
  through each path that reaches stored sparse data: eager ``read``, backed (``X[...]`` and
  ``to_memory()``), ``read_elem_lazy(...).compute()``, ``AnnCollection`` over the backed
  object, and ``concat_on_disk``. Each read runs in a subprocess (an out-of-range index makes
  scipy write outside its buffers: a segfault must fail one case, not the suite) and must
  raise an :class:`~annstore.AnnstoreError` naming the file and ``X``.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corrupt

import annstore

# --------------------------------------------------------------- corruption suite, backed


def _skip_unless(fmt: str) -> None:
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")


@pytest.mark.parametrize("kind", list(_corrupt.BASES))
def test_every_corruption_raises_a_documented_error_backed(kind: str, tmp_path: Path) -> None:
    _skip_unless(_corrupt.BASES[kind][0])
    base = _corrupt.make_base(kind, tmp_path)
    cases, results = _corrupt.run_cases(kind, base, tmp_path, workers=2, timeout=90.0, backed=True)
    failures = []
    statuses: collections.Counter[str] = collections.Counter()
    for case, out in results:
        statuses[out.status] += 1
        path = tmp_path / f"case{cases.index(case)}{_corrupt.SUFFIX[_corrupt.BASES[kind][0]]}"
        why = _corrupt.acceptable(out, path, case)
        if why is not None:
            failures.append(f"{case.id}: {why}")
    print(f"\n[corruption, backed] {kind}: {len(cases)} corrupt inputs, outcomes {dict(statuses)}, "
          f"{len(failures)} broke the guarantees")
    assert statuses["error"] > 0.75 * len(cases)
    assert not failures, f"{len(failures)} of {len(cases)} corrupt inputs misbehaved backed:\n" + "\n".join(
        failures[:40]
    )


# ------------------------------------------------------------- damaged sparse X, all paths

N_OBS, N_VARS = 40, 30


def _base(path: Path, fmt: str) -> None:
    rng = np.random.default_rng(0)
    x = sparse.random(N_OBS, N_VARS, density=0.3, format="csr", dtype=np.float32, random_state=rng)
    adata = annstore.AnnData(x)
    adata.obs_names = [f"c{i}" for i in range(N_OBS)]
    adata.var_names = [f"g{i}" for i in range(N_VARS)]
    annstore.write(adata, path, format=fmt)


def _set(name: str, fn: Any) -> Any:
    """A damage of ``/X/<name>``: ``fn(values) -> new values`` (rewritten with the same attrs)."""

    def run(root: Any) -> None:
        v = np.asarray(root[f"/X/{name}"][...])
        _corrupt._replace_array(f"/X/{name}", fn(v.copy()))(root)

    return run


def _decreasing(ip: np.ndarray) -> np.ndarray:
    ip[10] = ip[11] + 3
    return ip


def _at(i: int, value: int) -> Any:
    def fn(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.int64)
        v[i] = value
        return v

    return fn


def _shape_attr(shape: list[int]) -> Any:
    def run(root: Any) -> None:
        root["/X"].attrs["shape"] = shape

    return run


DAMAGES: dict[str, Any] = {
    "indices-out-of-range": _set("indices", _at(5, N_VARS + 7)),
    "indices-negative": _set("indices", _at(3, -2)),
    "indptr-decreasing": _set("indptr", _decreasing),
    "indptr-not-from-0": _set("indptr", _at(0, 1)),
    "indptr-short-of-nnz": _set("indptr", lambda ip: np.r_[ip[:-1], ip[-1] - 2]),
    "indptr-past-nnz": _set("indptr", lambda ip: np.r_[ip[:-1], ip[-1] + 5]),
    "data-shorter-than-indices": _set("data", lambda d: d[:-3]),
    "declares-1e12-rows": _shape_attr([10**12, N_VARS]),
}

ROUTES = ("eager", "backed-slice", "backed-to-memory", "lazy", "collection", "concat-on-disk")

_WORKER = r"""
import faulthandler, json, sys, warnings
faulthandler.enable()
warnings.simplefilter("ignore")
import numpy as np
import annstore
from annstore.errors import AnnstoreError

route, fmt, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
for path in sys.argv[4:]:
    print(json.dumps({"path": path, "status": "start"}), flush=True)
    try:
        if route == "eager":
            annstore.read(path, format=fmt).X.toarray()
        elif route == "backed-slice":
            a = annstore.read(path, format=fmt, backed="r")
            a.X[0:20].toarray()
            a.X[20:40, 3:9].toarray()
            a.X[[39, 2, 17]].toarray()
        elif route == "backed-to-memory":
            a = annstore.read(path, format=fmt, backed="r")
            a.X.to_memory().toarray()
        elif route == "lazy":
            from annstore.experimental import read_elem_lazy
            with annstore.io.open_store(path, format=fmt, mode="r") as root:
                read_elem_lazy(root["X"], chunks=(7, -1)).compute().toarray()
        elif route == "collection":
            from annstore.experimental import AnnCollection
            coll = AnnCollection([annstore.read(path, format=fmt, backed="r")])
            coll[np.arange(coll.n_obs)].X.toarray()
        elif route == "concat-on-disk":
            from annstore.experimental import concat_on_disk
            out = f"{out_dir}/out-{path.rsplit('/', 1)[1]}"
            concat_on_disk([path, path], out, index_unique="-")
            annstore.read(out).X.toarray()
        res = {"status": "ok"}
    except BaseException as e:
        text = str(e) + "\n" + "\n".join(getattr(e, "__notes__", []) or [])
        res = {"status": "error", "type": type(e).__name__, "annstore": isinstance(e, AnnstoreError),
               "text": text}
    res["path"] = path
    print(json.dumps(res), flush=True)
"""


@pytest.fixture(scope="module", params=["h5ad", "zarr"])
def damaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Path]]:
    fmt = request.param
    _skip_unless(fmt)
    d = tmp_path_factory.mktemp(f"damaged-{fmt}")
    suffix = _corrupt.SUFFIX[fmt]
    base = d / f"base{suffix}"
    _base(base, fmt)
    files = {}
    for name, damage in DAMAGES.items():
        p = _corrupt.copy_store(base, d / f"{name}{suffix}")
        _corrupt._edit(fmt, damage)(p)
        files[name] = p
    return fmt, files


def _run(route: str, fmt: str, files: list[Path], out_dir: Path) -> dict[str, dict[str, Any]]:
    """Read each file by ``route`` in one subprocess; a file that kills it is a ``crash``."""
    results: dict[str, dict[str, Any]] = {}
    todo = [str(f) for f in files]
    while todo:
        proc = subprocess.run(
            [sys.executable, "-c", _WORKER, route, fmt, str(out_dir), *todo],
            capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONFAULTHANDLER="1"),
        )
        started = None
        for line in proc.stdout.splitlines():
            msg = json.loads(line)
            if msg["status"] == "start":
                started = msg["path"]
            else:
                results[msg["path"]] = msg
                started = None
        if started is not None:  # the process died on this file
            results[started] = {"status": "crash", "text": proc.stderr[-1500:], "returncode": proc.returncode}
        todo = [p for p in todo if p not in results]
        if todo and started is None:
            msg = f"reader subprocess stopped early (rc {proc.returncode}): {proc.stderr[-2000:]}"
            raise RuntimeError(msg)
    return results


@pytest.mark.parametrize("route", ROUTES)
def test_damaged_sparse_x_is_refused_on_every_path(
    damaged: tuple[str, dict[str, Path]], route: str, tmp_path: Path
) -> None:
    fmt, files = damaged
    results = _run(route, fmt, list(files.values()), tmp_path)
    bad = []
    for name, path in files.items():
        r = results[str(path)]
        if r["status"] == "ok":
            bad.append(f"{name}: read succeeded (damage returned silently)")
        elif r["status"] == "crash":
            bad.append(f"{name}: the reader crashed (rc {r['returncode']}): {r['text'][-400:]}")
        elif not r["annstore"]:
            bad.append(f"{name}: {r['type']} is not an AnnstoreError: {r['text'][:300]}")
        elif path.name not in r["text"] or not any(s in r["text"] for s in ("'/X'", "'X'", "/X ")):
            bad.append(f"{name}: the error does not name the file and 'X': {r['text'][:300]}")
    print(f"\n[damaged sparse] {fmt} {route}: {len(files) - len(bad)} of {len(files)} refused correctly")
    assert not bad, f"{fmt}, {route}:\n" + "\n".join(bad)


def test_undamaged_base_reads_on_every_path(damaged: tuple[str, dict[str, Path]], tmp_path: Path) -> None:
    """Control: the same routes read the undamaged file (so the refusals above are not blanket)."""
    fmt, files = damaged
    base = next(iter(files.values())).parent / f"base{_corrupt.SUFFIX[fmt]}"
    for route in ROUTES:
        r = _run(route, fmt, [base], tmp_path)[str(base)]
        assert r["status"] == "ok", (route, r)

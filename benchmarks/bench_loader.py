"""AnnLoader throughput: one shuffled epoch, batch 256, over a backed CSR h5ad.

    python benchmarks/bench_loader.py [--scale 0.1] [--batch-size 256] [--max-batches N] [--repeat 3]

Data: a 100,000 x 20,000 CSR float32 matrix at 2 % density (scaled in both dimensions by
``--scale``) in an h5ad file, opened backed. Every configuration runs ``--repeat`` times, the
configurations in turn (ABC.../...CBA rounds, so each sees the same machine load); the table
gives the median (and every run). Columns (samples/second, higher is better):

* ``h5py floor (CSR)``: the same shuffled batches read with h5py alone: sort the batch, select
  the ``indptr`` ranges of its runs of consecutive rows as one union of hyperslabs, read
  ``data`` and ``indices`` (opened without a chunk cache, so HDF5 reads only the selected bytes)
  with one HDF5 read each, build the CSR, restore the batch order. One process.
* ``annstore CSR``: ``AnnLoader([path], batch_size, shuffle=True, use_default_converter=False)``;
  each batch's ``X`` is read (scipy CSR). One process (``num_workers=0``).
* ``annstore tensor``: the same with the default converter (dense torch tensor). One process.
* ``annstore sparse tensor``: the same with ``sparse_tensors=True`` (torch sparse CSR tensor,
  sharing the CSR's arrays; annstore only: anndata's converter always densifies). One process.
* ``annstore CSR, 2 workers`` / ``annstore tensor, 2 workers``: the same with ``num_workers=2``
  (worker start-up included in the time). anndata's AnnLoader cannot batch with workers (with
  ``num_workers > 0`` it falls back to per-sample fetching), so these rows have no anndata
  counterpart; they show what a second core buys (on a machine whose cores are busy with other
  work they can be slower than one process).
* ``anndata stand-in``: anndata 0.13.4 over ``read_h5ad(path, backed="r")``, run in a child
  process when ``ANNSTORE_ANNDATA_PYTHON`` names an interpreter with anndata. With torch there,
  its real ``AnnLoader`` (default converter). Without torch (the oracle has none: PyPI has only
  CUDA builds of torch for its Python 3.12, and anndata 0.13.4 needs Python >= 3.12), the child
  does the work anndata's AnnLoader does per batch minus the torch parts: its
  ``BatchIndexSampler`` order (``np.random.permutation``), ``AnnCollection[batch].X`` and the
  default converter's ``toarray()``; it omits the DataLoader overhead and the copy that
  ``torch.tensor(arr)`` makes, so it is a lower bound of anndata's time and the ratios below
  flatter anndata. Without the variable the column is skipped and the reason printed.

Target (issue 9): annstore's AnnLoader at least 3x anndata's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))


def run_python(python: str, code: str, *args: str) -> dict:
    """Run ``code`` in interpreter ``python``; its last output line is one JSON object."""
    import subprocess

    proc = subprocess.run([python, "-c", code, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"{python} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        raise RuntimeError(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])



def write_file(path: Path, scale: float, seed: int = 0) -> tuple[int, int]:
    """Write the benchmark h5ad (X only, plus a small obs) with annstore; return its shape."""
    import pandas as pd

    import annstore

    rng = np.random.default_rng(seed)
    n_obs, n_vars = max(int(100_000 * scale), 300), max(int(20_000 * scale), 50)
    per_row = max(int(n_vars * 0.02), 1)
    indptr = np.arange(0, (n_obs + 1) * per_row, per_row, dtype=np.int64)
    # sorted, unique column indices per row: per_row evenly spread columns with a random offset
    base = np.linspace(0, n_vars, per_row, endpoint=False).astype(np.int64)
    offs = rng.integers(0, max(n_vars // per_row, 1), size=n_obs)
    indices = (base[None, :] + offs[:, None]).clip(max=n_vars - 1).astype(np.int32).ravel()
    data = rng.random(indices.size, dtype=np.float32)
    X = sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))
    obs = pd.DataFrame({"cluster": pd.Categorical(rng.choice(list("abcd"), n_obs))}, index=[f"c{i}" for i in range(n_obs)])
    annstore.AnnData(X, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(n_vars)])).write_h5ad(path)
    return n_obs, n_vars


def run_annstore(
    path: Path, batch_size: int, max_batches: int | None, *, tensor: bool, workers: int = 0, sparse_tensors: bool = False
) -> tuple[float, int]:
    import torch

    from annstore.experimental import AnnLoader

    loader = AnnLoader(
        [path], batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0),
        use_default_converter=tensor, num_workers=workers, sparse_tensors=sparse_tensors,
    )
    n = 0
    t0 = time.perf_counter()
    for i, batch in enumerate(loader):  # with workers: their start-up is timed too
        if max_batches is not None and i >= max_batches:
            break
        x = batch.X
        assert isinstance(x, torch.Tensor) == tensor
        n += x.shape[0]
    secs = time.perf_counter() - t0
    del loader  # stops the workers
    return secs, n


def run_floor(path: Path, batch_size: int, max_batches: int | None) -> tuple[float, int]:
    import h5py
    from h5py import h5d, h5p, h5s

    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        g = f["X"]
        n_obs, n_vars = (int(s) for s in g.attrs["shape"])
        indptr = g["indptr"][...]
        # No chunk cache on data/indices (their chunks are unfiltered): HDF5 then reads only
        # the selected bytes instead of whole chunks, the fastest raw h5py read of scattered
        # rows (annstore's backed source opens them the same way).
        dapl = h5p.create(h5p.DATASET_ACCESS)
        nslots, _, w0 = dapl.get_chunk_cache()
        dapl.set_chunk_cache(nslots, 0, w0)
        data_ds, ind_ds = (h5py.Dataset(h5d.open(g.id, k, dapl=dapl)) for k in (b"data", b"indices"))
        order = np.random.default_rng(0).permutation(n_obs)
        n = 0
        for b, lo in enumerate(range(0, n_obs, batch_size)):
            if max_batches is not None and b >= max_batches:
                break
            rows = order[lo : lo + batch_size]
            srt = np.sort(rows)
            brk = np.flatnonzero(np.diff(srt) != 1) + 1
            starts = srt[np.concatenate(([0], brk))]
            stops = srt[np.concatenate((brk - 1, [srt.size - 1]))] + 1
            lengths = indptr[srt + 1] - indptr[srt]
            total = int(lengths.sum())
            data = np.empty(total, dtype=data_ds.dtype)
            ind = np.empty(total, dtype=ind_ds.dtype)
            if total:
                # one HDF5 read per array: the union of the runs' hyperslabs
                for ds, out in ((data_ds, data), (ind_ds, ind)):
                    space = ds.id.get_space()
                    space.select_none()
                    for s, e in zip(indptr[starts].tolist(), indptr[stops].tolist(), strict=True):
                        if e > s:
                            space.select_hyperslab((s,), (e - s,), op=h5s.SELECT_OR)
                    ds.id.read(h5s.create_simple((total,)), space, out)
            ip = np.zeros(srt.size + 1, dtype=np.int64)
            np.cumsum(lengths, out=ip[1:])
            m = sparse.csr_matrix((data, ind, ip), shape=(srt.size, n_vars))
            inv = np.searchsorted(srt, rows)
            m = m[inv]
            n += m.shape[0]
    return time.perf_counter() - t0, n


ANNDATA_CODE = textwrap.dedent(
    """
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    import anndata as ad
    import numpy as np
    path, bs, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    np.random.seed(0)
    a = ad.read_h5ad(path, backed="r")
    try:
        import torch
    except ImportError:
        torch = None
    n = 0
    if torch is not None:
        from anndata.experimental import AnnLoader
        torch.manual_seed(0)
        loader = AnnLoader([a], batch_size=bs, shuffle=True)
        t0 = time.perf_counter()
        for i, batch in enumerate(loader):
            if mb >= 0 and i >= mb:
                break
            n += batch.X.shape[0]
        mode = "AnnLoader"
    else:
        # No torch: the work anndata's AnnLoader does per batch without the tensor wrap: its
        # BatchIndexSampler order, AnnCollection[batch].X, and the converter's toarray().
        from anndata.experimental import AnnCollection
        coll = AnnCollection([a])
        t0 = time.perf_counter()
        perm = np.random.permutation(a.n_obs).tolist()
        for i, lo in enumerate(range(0, a.n_obs, bs)):
            if mb >= 0 and i >= mb:
                break
            x = coll[perm[lo : lo + bs]].X
            x = x.toarray()
            n += x.shape[0]
        mode = "AnnCollection batches + toarray (no torch in that interpreter)"
    print(json.dumps({"seconds": time.perf_counter() - t0, "n": n, "mode": mode}))
    """
)


def run_anndata(python: str, path: Path, batch_size: int, max_batches: int | None) -> tuple[float, int, str]:
    out = run_python(python, ANNDATA_CODE, str(path), str(batch_size), str(-1 if max_batches is None else max_batches))
    return float(out["seconds"]), int(out["n"]), str(out["mode"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="scale both dimensions (default 1: 100,000 x 20,000)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--max-batches", type=int, default=None, help="stop each run after this many batches")
    p.add_argument("--repeat", type=int, default=3, help="interleaved runs of each configuration (median reported)")
    p.add_argument("--keep", type=Path, default=None, help="write the file here (reused if it exists)")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")

    tmp = tempfile.TemporaryDirectory()
    path = args.keep or Path(tmp.name) / "loader.h5ad"
    t0 = time.perf_counter()
    if not path.exists():
        shape = write_file(path, args.scale)
        print(f"wrote {shape[0]:,} x {shape[1]:,} CSR (2% density) to {path} in {time.perf_counter() - t0:.1f}s")
    else:
        print(f"reusing {path}")

    configs: dict[str, Any] = {
        "h5py floor (CSR)": lambda: run_floor(path, args.batch_size, args.max_batches),
        "annstore CSR": lambda: run_annstore(path, args.batch_size, args.max_batches, tensor=False),
        "annstore tensor": lambda: run_annstore(path, args.batch_size, args.max_batches, tensor=True),
        "annstore sparse tensor": lambda: run_annstore(
            path, args.batch_size, args.max_batches, tensor=True, sparse_tensors=True
        ),
        "annstore CSR, 2 workers": lambda: run_annstore(path, args.batch_size, args.max_batches, tensor=False, workers=2),
        "annstore tensor, 2 workers": lambda: run_annstore(path, args.batch_size, args.max_batches, tensor=True, workers=2),
    }
    notes: dict[str, str] = {}
    python = os.environ.get("ANNSTORE_ANNDATA_PYTHON", "")
    if not python:
        notes["anndata stand-in"] = "skipped: ANNSTORE_ANNDATA_PYTHON is not set"
    else:
        def _anndata() -> tuple[float, int]:
            secs, n, mode = run_anndata(python, path, args.batch_size, args.max_batches)
            notes["anndata stand-in"] = "real AnnLoader" if mode == "AnnLoader" else mode
            return secs, n

        configs["anndata stand-in"] = _anndata
    times: dict[str, list[float]] = {k: [] for k in configs}
    counts: dict[str, int] = {}
    names = list(configs)
    for r in range(args.repeat):
        for name in names if r % 2 == 0 else names[::-1]:
            try:
                secs, n = configs[name]()
            except RuntimeError as e:
                notes[name] = "skipped: " + str(e).strip().splitlines()[-1]
                configs.pop(name)
                names.remove(name)
                times.pop(name)
                continue
            times[name].append(secs)
            counts[name] = n

    print(f"\none shuffled epoch, batch {args.batch_size}" + (f", first {args.max_batches} batches" if args.max_batches else "")
          + f"; median of {args.repeat} interleaved runs")
    print(f"  {'loader':<28} {'seconds':>8} {'samples/s':>10}  runs; note")
    res: dict[str, float] = {}
    for name in [*configs, *(k for k in notes if k not in configs)]:
        ts = sorted(times.get(name, []))
        if not ts:
            print(f"  {name:<28} {'-':>8} {'-':>10}  {notes.get(name, '')}")
            continue
        med = ts[len(ts) // 2] if len(ts) % 2 else (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]) / 2
        res[name] = counts[name] / med
        runs = " ".join(f"{t:.2f}" for t in times[name])
        print(f"  {name:<28} {med:8.2f} {res[name]:10,.0f}  {runs}" + (f"; {notes[name]}" if name in notes else ""))
    ad_rate = res.get("anndata stand-in")
    if ad_rate:
        print()
        for name in ("annstore tensor", "annstore sparse tensor", "annstore CSR", "annstore tensor, 2 workers",
                     "annstore CSR, 2 workers"):
            if name in res:
                r = res[name] / ad_rate
                print(f"  {name + ' / anndata stand-in':<46} {r:5.2f}x  {'>= 3x: met' if r >= 3 else '< 3x'}")
    print(f"  annstore CSR / h5py floor: {res['annstore CSR'] / res['h5py floor (CSR)']:.2f}x of the floor's rate")
    print(json.dumps({k: round(v, 1) for k, v in res.items()}))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

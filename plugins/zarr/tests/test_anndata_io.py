"""AnnData-level zarr IO: read_zarr/write_zarr, stores, atomic replacement, interop with anndata."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import warnings
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import zarr

import annstore
from annstore.io._atomic import TMP_MARK

FORMATS = [pytest.param(2, id="v2"), pytest.param(3, id="v3")]
ANNDATA_PY = os.environ.get("ANNSTORE_ANNDATA_PYTHON")


def _adata(n: int = 40, m: int = 12) -> annstore.AnnData:
    rng = np.random.default_rng(0)
    x = sp.random(n, m, density=0.2, format="csr", random_state=0, dtype="f4")
    obs = pd.DataFrame(
        {"ct": pd.Categorical(rng.choice(["a", "b"], n)), "k": np.arange(n)},
        index=[f"c{i}" for i in range(n)],
    )
    var = pd.DataFrame({"g": np.arange(m, dtype="f8")}, index=[f"g{i}" for i in range(m)])
    return annstore.AnnData(
        x, obs=obs, var=var, obsm={"p": rng.normal(size=(n, 2))},
        uns={"s": "str", "i": 3, "arr": np.arange(3), "names": np.array(["x", "y"])},
    )


def _check_same(a: annstore.AnnData, b: annstore.AnnData) -> None:
    assert a.shape == b.shape
    assert list(a.obs_names) == list(b.obs_names)
    assert list(a.var_names) == list(b.var_names)
    np.testing.assert_array_equal(np.asarray(a.X.todense()), np.asarray(b.X.todense()))
    pd.testing.assert_frame_equal(a.obs, b.obs, check_dtype=False)
    np.testing.assert_array_equal(a.obsm["p"], b.obsm["p"])
    assert b.uns["s"] == "str" and int(b.uns["i"]) == 3
    assert list(b.uns["names"]) == ["x", "y"]


@pytest.fixture(params=FORMATS)
def zfmt(request: pytest.FixtureRequest):
    with annstore.settings.override(zarr_write_format=request.param):
        yield request.param


def test_write_read_zarr(tmp_path: Path, zfmt: int) -> None:
    a = _adata()
    p = tmp_path / "a.zarr"
    annstore.io.write_zarr(p, a)
    meta = p / ("zarr.json" if zfmt == 3 else ".zgroup")
    assert meta.exists()
    root = zarr.open_group(p, mode="r")
    assert root.metadata.zarr_format == zfmt
    assert root.metadata.consolidated_metadata is not None
    assert root.attrs["encoding-type"] == "anndata"
    b = annstore.read_zarr(p)
    _check_same(a, b)
    c = annstore.read(p)  # format guessed from the directory
    _check_same(a, c)


def test_storage_options_zarr_format(tmp_path: Path) -> None:
    a = _adata()
    annstore.write(a, tmp_path / "a.zarr", storage_options={"zarr_format": 2})
    assert (tmp_path / "a.zarr" / ".zgroup").exists()
    annstore.write(a, tmp_path / "b.zarr", storage_options={"zarr_format": 3,
                                                            "consolidate_metadata": False})
    root = json.loads((tmp_path / "b.zarr" / "zarr.json").read_text())
    assert "consolidated_metadata" not in root or root["consolidated_metadata"] is None


def test_store_objects_and_groups(zfmt: int) -> None:
    a = _adata()
    store = zarr.storage.MemoryStore()
    annstore.io.write_zarr(store, a)
    _check_same(a, annstore.read_zarr(store))
    group = zarr.open_group(store, mode="r")
    _check_same(a, annstore.read_zarr(group))
    _check_same(a, annstore.read(group))


def test_zip_read(tmp_path: Path, zfmt: int) -> None:
    a = _adata()
    p = tmp_path / "a.zarr.zip"
    annstore.write(a, p)
    _check_same(a, annstore.read(p))
    plain = tmp_path / "b.zip"
    os.replace(p, plain)
    _check_same(a, annstore.read(plain))  # zip magic + zarr marker inside


def test_fsspec_file_and_memory_urls(tmp_path: Path, zfmt: int) -> None:
    a = _adata()
    url = f"memory://annstore-anndata-{zfmt}/a.zarr"
    annstore.write(a, url)
    _check_same(a, annstore.read(url))
    p = tmp_path / "f.zarr"
    annstore.write(a, f"file://{p}", storage_options={"auto_mkdir": True})
    _check_same(a, annstore.read(p))


@pytest.fixture
def http_root(tmp_path: Path):
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_http_url_read(http_root: tuple[Path, str], zfmt: int) -> None:
    pytest.importorskip("aiohttp")
    root, base = http_root
    a = _adata()
    annstore.write(a, root / "served.zarr")
    _check_same(a, annstore.read(f"{base}/served.zarr"))


# ---------------------------------------------------------------------------- atomicity


def test_exception_mid_write_keeps_old_store(tmp_path: Path, zfmt: int) -> None:
    p = tmp_path / "a.zarr"
    old = _adata()
    annstore.write(old, p)
    bad = _adata()
    bad.uns["bad"] = object()  # no writer: raises mid-write
    with pytest.raises(Exception, match="object"):
        annstore.write(bad, p)
    assert not [q.name for q in tmp_path.iterdir() if q.name.startswith(TMP_MARK)]
    _check_same(old, annstore.read(p))


def test_sigkill_mid_write_keeps_old_store(tmp_path: Path) -> None:
    p = tmp_path / "a.zarr"
    old = _adata()
    annstore.write(old, p)
    script = textwrap.dedent(f"""
        import os, signal, numpy as np, annstore
        from annstore_zarr import _store
        a = annstore.read({str(p)!r})
        a.obsm["big"] = np.zeros((a.n_obs, 5))
        orig = _store.ZarrGroup.create_array
        n = [0]
        def slow(self, *args, **kw):
            n[0] += 1
            if n[0] == 5:
                print("writing", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            return orig(self, *args, **kw)
        _store.ZarrGroup.create_array = slow
        annstore.write(a, {str(p)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "writing" in proc.stdout
    leftovers = [q for q in tmp_path.iterdir() if q.name.startswith(TMP_MARK)]
    assert leftovers, "the killed writer should have left its temporary sibling"
    b = annstore.read(p)
    _check_same(old, b)
    assert "big" not in b.obsm


# ------------------------------------------------------------------------------- interop


@pytest.mark.interop
@pytest.mark.skipif(not ANNDATA_PY, reason="set ANNSTORE_ANNDATA_PYTHON to an anndata Python")
@pytest.mark.parametrize("fmt", [2, 3])
def test_anndata_reads_ours(tmp_path: Path, fmt: int) -> None:
    a = _adata()
    p = tmp_path / "ours.zarr"
    with annstore.settings.override(zarr_write_format=fmt):
        annstore.io.write_zarr(p, a)
    code = textwrap.dedent(f"""
        import anndata as ad, json, numpy as np
        a = ad.read_zarr({str(p)!r})
        print(json.dumps(dict(shape=list(a.shape), obs=list(a.obs_names[:3]),
              xsum=float(a.X.sum()), ct=list(map(str, a.obs["ct"][:3])), s=a.uns["s"],
              names=list(map(str, a.uns["names"])), p=float(a.obsm["p"].sum()))))
    """)
    out = subprocess.run([ANNDATA_PY, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["shape"] == list(a.shape)
    assert got["obs"] == list(a.obs_names[:3])
    assert got["xsum"] == pytest.approx(float(a.X.sum()), rel=1e-6)
    assert got["ct"] == list(map(str, a.obs["ct"][:3]))
    assert got["s"] == "str" and got["names"] == ["x", "y"]
    assert got["p"] == pytest.approx(float(a.obsm["p"].sum()))


@pytest.mark.interop
@pytest.mark.skipif(not ANNDATA_PY, reason="set ANNSTORE_ANNDATA_PYTHON to an anndata Python")
@pytest.mark.parametrize("fmt", [2, 3])
def test_we_read_anndatas(tmp_path: Path, fmt: int) -> None:
    p = tmp_path / "theirs.zarr"
    code = textwrap.dedent(f"""
        import anndata as ad, numpy as np, pandas as pd, scipy.sparse as sp
        ad.settings.zarr_write_format = {fmt}
        x = sp.random(30, 8, density=0.3, format="csr", random_state=1, dtype="f4")
        a = ad.AnnData(x, obs=pd.DataFrame({{"t": ["u", "v"] * 15}}, index=[f"o{{i}}" for i in range(30)]),
                       uns={{"rec": np.array([(1, "ab")], dtype=[("i", "i8"), ("s", "U2")]), "n": None}})
        a.write_zarr({str(p)!r})
        np.save({str(tmp_path / "x.npy")!r}, x.toarray())
    """)
    out = subprocess.run([ANNDATA_PY, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    b = annstore.read_zarr(p)
    np.testing.assert_array_equal(np.asarray(b.X.todense()), np.load(tmp_path / "x.npy"))
    assert list(b.obs["t"][:2]) == ["u", "v"]
    assert b.uns["n"] is None
    assert b.uns["rec"]["i"][0] == 1 and str(b.uns["rec"]["s"][0]) == "ab"


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)

"""The ``annstore`` command, run as a subprocess: every subcommand and its error exits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import annstore

SAMPLE = Path(annstore.__file__).parent / "data" / "sample.h5ad"
formats = annstore.list_formats()
needs_h5ad = pytest.mark.skipif("h5ad" not in formats, reason="requires annstore-h5ad")
needs_zarr = pytest.mark.skipif("zarr" not in formats, reason="requires annstore-zarr")


def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    res = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}")
    return res


def test_help_for_every_subcommand():
    for sub in ("info", "convert", "concat", "validate", "formats", "demo"):
        res = run(sub, "--help", check=True)
        assert res.stdout.startswith("usage: annstore " + sub)
    res = run()
    assert res.returncode == 2 and "usage:" in res.stderr


def test_formats_lists_installed_plugins():
    res = run("formats", check=True)
    for name in formats:
        assert name in res.stdout
    data = json.loads(run("formats", "--json", check=True).stdout)
    assert set(data) == set(formats)
    assert data["memory"]["hierarchical"] is True


@needs_h5ad
def test_info_reads_metadata_only(tmp_path: Path):
    res = run("info", SAMPLE, check=True)
    assert "n_obs × n_vars = 300 × 120" in res.stdout
    assert "/layers/log1p" in res.stdout and "csr_matrix@0.1.0" in res.stdout
    data = json.loads(run("info", "--json", SAMPLE, check=True).stdout)
    assert data["shape"] == [300, 120]
    by_path = {r["path"]: r for r in data["elements"]}
    assert by_path["/obsm/X_pca"]["shape"] == [300, 10]
    assert by_path["/obsm/X_pca"]["dtype"] == "float32"
    assert by_path["/X"]["encoding"] == "csr_matrix@0.1.0"


def test_info_errors_are_one_line_without_traceback(tmp_path: Path):
    res = run("info", tmp_path / "missing.h5ad")
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert "missing.h5ad" in res.stderr
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a known format at all")
    res = run("info", junk)
    assert res.returncode == 1 and "Could not determine the format" in res.stderr


@needs_h5ad
@needs_zarr
def test_convert_roundtrip_h5ad_zarr_h5ad(tmp_path: Path):
    z, h = tmp_path / "s.zarr", tmp_path / "back.h5ad"
    run("convert", SAMPLE, z, check=True)
    run("convert", z, h, "--compression", "gzip", check=True)
    from annstore.testing import assert_adata_equal

    assert_adata_equal(annstore.read_h5ad(SAMPLE), annstore.read_h5ad(h))


@needs_h5ad
def test_convert_to_unknown_format_fails_cleanly(tmp_path: Path):
    res = run("convert", SAMPLE, tmp_path / "x.h5ad", "--format", "nosuch")
    assert res.returncode == 1
    assert "Unknown format 'nosuch'" in res.stderr and "Installed formats:" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.h5ad").exists()


@needs_h5ad
def test_validate_valid_invalid_unreadable(tmp_path: Path):
    assert run("validate", SAMPLE).returncode == 0
    import h5py

    bad = tmp_path / "bad.h5ad"
    shutil.copy(SAMPLE, bad)
    with h5py.File(bad, "r+") as f:
        del f["obsm/X_pca"].attrs["encoding-type"]
        f["layers/log1p"].attrs["shape"] = np.array([300, 999])
        del f["obs"].attrs["_index"]
    res = run("validate", bad)
    assert res.returncode == 1
    assert "/obsm/X_pca: missing 'encoding-type'" in res.stdout
    assert "/layers/log1p" in res.stdout
    assert "/obs: dataframe without an '_index' attribute" in res.stdout
    rows = json.loads(run("validate", "--json", bad).stdout)
    assert {r["path"] for r in rows} >= {"/obsm/X_pca", "/obs"}
    garbage = tmp_path / "garbage.h5ad"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    res = run("validate", garbage)
    assert res.returncode == 2 and "cannot read" in res.stderr


@needs_h5ad
def test_validate_catches_inconsistent_sparse(tmp_path: Path):
    import h5py

    bad = tmp_path / "sparse.h5ad"
    shutil.copy(SAMPLE, bad)
    with h5py.File(bad, "r+") as f:
        ind = f["X/indices"][...]
        ind[0] = 10_000
        f["X/indices"][...] = ind
    res = run("validate", bad)
    assert res.returncode == 1 and "/X/indices: indices outside [0, 120)" in res.stdout
    assert run("validate", "--metadata-only", bad).returncode == 0


@needs_h5ad
def test_concat_on_disk(tmp_path: Path):
    a = annstore.read_h5ad(SAMPLE)
    p1, p2 = tmp_path / "a.h5ad", tmp_path / "b.h5ad"
    a[:100].copy().write_h5ad(p1)
    a[100:].copy().write_h5ad(p2)
    out = tmp_path / "out.h5ad"
    run("concat", "-o", out, p1, p2, "--label", "part", "--keys", "x,y", check=True)
    c = annstore.read_h5ad(out)
    assert c.shape == a.shape
    assert list(c.obs["part"].cat.categories) == ["x", "y"]
    np.testing.assert_array_equal(c.X.toarray(), a.X.toarray())


def test_concat_missing_input_fails(tmp_path: Path):
    res = run("concat", "-o", tmp_path / "o.h5ad", tmp_path / "nope.h5ad", "-q")
    assert res.returncode != 0 and "nope.h5ad" in res.stderr and "Traceback" not in res.stderr


@needs_h5ad
@needs_zarr
def test_demo_main_job(tmp_path: Path):
    res = run("demo", "--outdir", tmp_path, check=True)
    assert "round trip h5ad -> zarr -> h5ad is lossless" in res.stdout
    assert (tmp_path / "sample.zarr").is_dir()


@needs_h5ad
def test_info_shows_sizes_and_survives_closed_pipe(tmp_path: Path):
    data = json.loads(run("info", "--json", SAMPLE, check=True).stdout)
    sizes = {r["path"]: r["stored_bytes"] for r in data["elements"]}
    assert sizes["/X/data"] > 0 and sizes["/"] >= sizes["/X"] >= sizes["/X/data"]
    exe = shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore"
    res = subprocess.run(f"'{exe}' info '{SAMPLE}' | head -1", shell=True, capture_output=True,
                         text=True)
    assert res.stdout.startswith(str(SAMPLE)) and "Broken pipe" not in res.stderr

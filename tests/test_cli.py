"""The ``annstore`` command, run as a subprocess: every subcommand and its error exits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    assert res.returncode == 3 and "Could not determine the format" in res.stderr


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
    assert res.returncode == 2
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
    assert "/obsm/X_pca: warning: written without 'encoding-type'" in res.stdout
    assert "/layers/log1p: error:" in res.stdout
    assert "/obs: error: dataframe without an '_index' attribute" in res.stdout
    data = json.loads(run("validate", "--json", bad).stdout)
    assert {r["path"] for r in data["problems"]} >= {"/obsm/X_pca", "/obs"}
    assert data["valid"] is False and data["errors"] == 2 and data["warnings"] == 1
    garbage = tmp_path / "garbage.h5ad"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    res = run("validate", garbage)
    assert res.returncode == 3 and "cannot read" in res.stderr and "garbage.h5ad" in res.stderr


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
    assert res.returncode == 1 and "/X/indices: error: indices outside [0, 120)" in res.stdout
    assert res.stdout.count("/X") == 1  # once, not again as "cannot be read"
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


# ------------------------------------------------------------------ issue 20: the CLI defects

COMPAT = Path("/work/shared/compat")


def cli(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    """Run ``annstore ARGS`` in this process; return (exit code, stdout, stderr)."""
    from annstore.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_on_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; return (exit code, stdout, stderr)."""
    import pty
    import select

    exe = shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore"
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 24 x 120
    proc = subprocess.Popen([exe, *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                            env=dict(os.environ, PYTHONWARNINGS="ignore", **(env or {})))
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@needs_h5ad
@pytest.mark.skipif("loom" not in formats, reason="requires annstore-loom")
def test_convert_sparse_source_to_loom(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Defect: every sparse (backed CSRDataset) source failed ("setting an array element")."""
    a = annstore.read_h5ad(SAMPLE)
    a.raw, a.uns = None, {}  # everything left is something loom holds
    src, out = tmp_path / "s.h5ad", tmp_path / "s.loom"
    a.write_h5ad(src)
    code, stdout, err = cli(capsys, "convert", src, out)
    assert code == 0, err
    assert f"wrote {out}" in stdout and "dropped" not in err
    back = annstore.io.read_loom(out, sparse=True)
    assert back.shape == a.shape
    np.testing.assert_allclose(back.X.toarray(), a.X.toarray())
    np.testing.assert_allclose(back.layers["log1p"].toarray(), a.layers["log1p"].toarray())


@needs_h5ad
@pytest.mark.skipif("text" not in formats, reason="requires annstore-text")
def test_convert_refuses_what_the_target_cannot_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Defect: ``convert`` to .csv wrote no X, layers, obsp or raw and printed the full shape."""
    out = tmp_path / "s.csv"
    code, stdout, err = cli(capsys, "convert", SAMPLE, out)
    assert code == 1 and stdout == ""
    assert not out.exists() and not list(tmp_path.iterdir())
    line = err.strip()
    assert "\n" not in line and str(out) in line
    for elem in ("layers/log1p", "obsp/connectivities", "raw"):
        assert elem in line
    assert "--drop" in line and "--allow-lossy" in line
    # told to drop: X is written, and stderr says what was left out
    code, stdout, err = cli(capsys, "convert", SAMPLE, out, "--allow-lossy")
    assert code == 0
    assert (out / "X.csv").is_file() and (out / "obs.csv").is_file()
    x = np.loadtxt(out / "X.csv", delimiter=",")
    np.testing.assert_allclose(x, annstore.read_h5ad(SAMPLE).X.toarray(), rtol=1e-6)
    assert "warning: " in err and "dropped" in err and "layers/log1p" in err and "raw" in err
    assert "dropped" not in stdout
    # --drop must cover everything the format cannot hold
    code, _, err = cli(capsys, "convert", SAMPLE, tmp_path / "t.csv", "--drop", "layers,raw")
    assert code == 1 and "obsp/connectivities" in err and "layers/log1p" not in err
    code, _, err = cli(capsys, "convert", SAMPLE, tmp_path / "t.csv",
                       "--drop", "layers,raw", "--drop", "obsp,uns")
    assert code == 0 and "dropped" in err
    # hierarchical targets hold everything: nothing is dropped unless asked
    code, _, err = cli(capsys, "convert", SAMPLE, tmp_path / "c.h5ad", "--drop", "layers/log1p")
    assert code == 0 and "dropped layers/log1p" in err
    assert [k for k in annstore.read_h5ad(tmp_path / "c.h5ad").layers.keys() if k is not None] == []


def test_progress_extra_declared():
    import tomllib

    meta = tomllib.loads((Path(__file__).parents[1] / "core" / "pyproject.toml").read_text())
    assert any(r.startswith("tqdm") for r in meta["project"]["optional-dependencies"]["progress"])


@needs_h5ad
def test_convert_progress_only_on_a_terminal(tmp_path: Path):
    """Defect: no progress on convert; progress must stay out of logs and pipes."""
    res = run("convert", SAMPLE, tmp_path / "a.h5ad")
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout.startswith("wrote ")
    code, out, err = run_on_terminal("convert", SAMPLE, tmp_path / "b.h5ad")
    assert code == 0 and out.startswith("wrote ")
    assert "writing b.h5ad" in err
    code, out, err = run_on_terminal("convert", "-q", SAMPLE, tmp_path / "c.h5ad")
    assert code == 0 and out == "" and "writing" not in err


@needs_h5ad
def test_concat_progress(tmp_path: Path):
    """Defect: the built-in bar counted rows once per layer, had no rate or ETA, and wrote
    ``\\r`` frames into logs."""
    a = annstore.read_h5ad(SAMPLE)
    p1, p2 = tmp_path / "a.h5ad", tmp_path / "b.h5ad"
    a[:100].copy().write_h5ad(p1)
    a[100:].copy().write_h5ad(p2)
    res = run("concat", "-o", tmp_path / "o.h5ad", p1, p2)
    assert res.returncode == 0
    assert res.stderr == ""  # not a terminal: no progress at all
    assert res.stdout.strip() == f"wrote {tmp_path / 'o.h5ad'} (300 × 120)"
    # on a terminal, without tqdm: the built-in bar, one per layer, counting the 300 rows once
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "tqdm.py").write_text("raise ImportError('no tqdm here')\n")
    code, out, err = run_on_terminal("concat", "-o", tmp_path / "o2.h5ad", p1, p2,
                                     env={"PYTHONPATH": str(blocker)})
    assert code == 0, err
    assert "(300/300 rows)" in err and "(600/600" not in err and "(900/900" not in err
    assert "rows/s" in err and "<" in err  # rate and time left
    assert "concat_on_disk X (1/2)" in err and "concat_on_disk layers/log1p (2/2)" in err


@needs_h5ad
def test_streams_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Defect: stdout/stderr and exit codes differed between commands."""
    missing = tmp_path / "missing.h5ad"
    for argv in (("info", missing), ("validate", missing), ("convert", missing, tmp_path / "o.h5ad"),
                 ("concat", "-o", tmp_path / "o.h5ad", missing)):
        code, out, err = cli(capsys, *argv)
        assert code == 3, argv
        assert out == "" and err.count("\n") == 1 and str(missing) in err
        assert err.startswith(f"annstore {argv[0]}: error: ")
    # usage errors: 2
    code, out, err = cli(capsys, "convert", SAMPLE, tmp_path / "x.nosuchsuffix")
    assert code == 2 and "--format" in err and "format=" not in err and "x.nosuchsuffix" in err
    code, _, err = cli(capsys, "info", SAMPLE, "--format", "nosuch")
    assert code == 2 and "Unknown format 'nosuch'" in err
    code, _, err = cli(capsys, "convert", SAMPLE, tmp_path / "x.zarr", "--compression", "gzip")
    assert code == 2 and "--compression" in err
    # results on stdout, nothing on stderr
    code, out, err = cli(capsys, "validate", SAMPLE)
    assert code == 0 and err == "" and out.strip().endswith(": valid")
    code, out, err = cli(capsys, "convert", SAMPLE, tmp_path / "ok.h5ad")
    assert code == 0 and err == "" and out.startswith("wrote ")
    # exit codes are documented in --help and README's CLI table
    res = run("--help")
    for code_ in ("0 ", "1 ", "2 ", "3 "):
        assert f"\n  {code_}" in res.stdout
    assert "exit status:" in run("convert", "--help").stdout
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.split("The command line does the same from a shell")[1].split("## ")[0]
    assert "exit" in table and "3" in table and "stderr" in table


@needs_h5ad
def test_errors_name_the_target_not_the_temporary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "no_such_dir" / "x.h5ad"
    code, stdout, err = cli(capsys, "convert", SAMPLE, out)
    assert code == 1
    assert ".annstore-tmp-" not in err and str(out) in err
    assert err.count("\n") == 1


@needs_h5ad
def test_json_output_ends_with_newline(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    argvs: list[tuple[Any, ...]] = [("info", "--json", SAMPLE), ("validate", "--json", SAMPLE),
                                    ("formats", "--json")]
    if "loom" in formats:  # a whole-file format: --json was ignored (text was printed)
        a = annstore.read_h5ad(SAMPLE)
        a.raw, a.uns = None, {}
        annstore.io.write_loom(tmp_path / "s.loom", a, write_obsm_varm=True)
        argvs.append(("info", "--json", tmp_path / "s.loom"))
    for argv in argvs:
        code, out, err = cli(capsys, *argv)
        assert code == 0 and out.endswith("\n")
        assert all(line.startswith(f"annstore {argv[0]}: warning: ") for line in err.splitlines())
        json.loads(out)


def test_every_option_has_help():
    import argparse

    from annstore.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in subs.choices.items():
        assert sub.epilog and "exit status" in sub.epilog
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.skipif(not (COMPAT / "gen" / "v0.7.8" / "rich.h5ad").exists(), reason="no compat corpus")
@needs_h5ad
def test_python_warnings_are_one_line_without_source(tmp_path: Path):
    """Defect: warnings printed as ``/path/_dispatch.py:207: OldFormatWarning: ...`` + source line."""
    exe = shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    res = subprocess.run([exe, "convert", COMPAT / "gen" / "v0.7.8" / "rich.h5ad", tmp_path / "o.h5ad"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert lines and all(line.startswith("annstore convert: warning: ") for line in lines)
    assert ".py:" not in res.stderr and "sys:1" not in res.stderr
    assert len(lines) == len(set(lines))
    # one OldFormatWarning per element of the old file: the first is shown, the rest counted
    assert len(lines) <= 4 and "more like it" in res.stderr


def _corpus_stores() -> list[Path]:
    if not (COMPAT / "MANIFEST.json").exists():
        return []
    files = json.loads((COMPAT / "MANIFEST.json").read_text())["files"]
    return [COMPAT / f["path"] for f in files if f["format"] in ("h5ad", "zarr", "zarr-zip")]


@pytest.mark.skipif(not _corpus_stores(), reason="no compat corpus")
@needs_h5ad
@needs_zarr
def test_validate_accepts_every_layout_anndata_writes(capsys: pytest.CaptureFixture[str]):
    """Defect: files of anndata 0.5-0.7 were "invalid" (groups without encoding attributes)."""
    bad = {}
    for path in _corpus_stores():
        code, out, err = cli(capsys, "validate", "--json", path)
        data = json.loads(out)
        if code != 0 or data["errors"] or err:
            bad[str(path.relative_to(COMPAT))] = (code, err, data["problems"][:3])
        legacy = "v0.5.0" in str(path) or "v0.7." in str(path)
        # one warning for a whole pre-0.8 file, not one per element; none for newer files
        assert len(data["problems"]) == (1 if legacy else 0), (path, data["problems"])
    assert bad == {}


@needs_h5ad
def test_validate_reports_each_problem_once_and_grades(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import h5py

    bad = tmp_path / "bad.h5ad"
    shutil.copy(SAMPLE, bad)
    with h5py.File(bad, "r+") as f:
        del f["obs"].attrs["_index"]
    code, out, err = cli(capsys, "validate", bad)
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("/obs")] == [
        "/obs: error: dataframe without an '_index' attribute"
    ]
    assert out.splitlines()[-1] == f"{bad}: invalid (1 error)"
    # an element without encoding attributes is read by anndata: a warning, exit 0
    warn = tmp_path / "warn.h5ad"
    shutil.copy(SAMPLE, warn)
    with h5py.File(warn, "r+") as f:
        del f["obsm/X_pca"].attrs["encoding-type"]
        del f["obsm/X_pca"].attrs["encoding-version"]
        f["extra"] = np.arange(3)
    code, out, err = cli(capsys, "validate", warn)
    assert code == 0 and err == ""
    assert "/obsm/X_pca: warning:" in out and "/extra: warning:" in out
    assert out.splitlines()[-1] == f"{warn}: valid (2 warnings)"


@needs_h5ad
def test_demo_cleans_up(tmp_path: Path):
    """Defect: ``demo`` left its temporary folder behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = subprocess.run(
        [shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore", "demo"],
        capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(tmp), PYTHONWARNINGS="ignore"),
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "is lossless" in res.stdout
    assert list(tmp.iterdir()) == []


@needs_h5ad
def test_demo_without_zarr(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Defect: ``demo`` needed zarr."""
    real = annstore.list_formats

    def no_zarr() -> dict[str, Any]:
        return {k: v for k, v in real().items() if k != "zarr"}

    monkeypatch.setattr(annstore, "list_formats", no_zarr)
    code, out, err = cli(capsys, "demo", "--outdir", tmp_path)
    assert code == 0, err
    assert "zarr plugin is not installed" in err and "pip install annstore-zarr" in err
    assert "round trip h5ad -> h5ad (gzip) -> h5ad is lossless" in out
    assert not (tmp_path / "sample.zarr").exists()

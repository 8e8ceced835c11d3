"""From the built wheels alone, in a fresh venv: `pip install annstore` reads and writes h5ad and
zarr, and so does `pip install "annstore[h5ad,zarr]"` (without pip warning of unknown extras).

This builds every wheel of the repository (hatchling, version from git) and installs them with
pip's index only for third-party dependencies, as a user of the published packages would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FOLDERS = ["core", "meta", "plugins/h5ad", "plugins/zarr", "plugins/loom", "plugins/text"]

CHECK = textwrap.dedent(
    """
    import sys, tempfile, os, warnings
    import numpy as np, scipy.sparse as sp
    warnings.simplefilter("error")
    import annstore as ad
    assert "site-packages" in ad.__file__, ad.__file__
    a = ad.AnnData(sp.random(20, 7, density=0.3, format="csr", dtype=np.float32, random_state=0))
    a.obs["g"] = list("ab" * 10)
    d = tempfile.mkdtemp()
    for name in ("x.h5ad", "x.zarr"):
        p = os.path.join(d, name)
        ad.write(a, p)
        b = ad.read(p)
        assert (b.X != a.X).nnz == 0 and list(b.obs["g"]) == list(a.obs["g"]), name
    print("OK", sorted(ad.list_formats()))
    """
)


def _pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", *args],
        capture_output=True, text=True, check=False, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), *(str(ROOT / f) for f in FOLDERS)],
        capture_output=True, text=True, check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_every_wheel_carries_license_classifiers_and_a_description(wheels: Path):
    built = sorted(wheels.glob("*.whl"))
    assert len(built) == len(FOLDERS)
    for whl in built:
        with zipfile.ZipFile(whl) as z:
            names = z.namelist()
            meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
            meta = Parser().parsestr(z.read(meta_name).decode())
            assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), whl.name
        assert meta["License-Expression"] == "BSD-3-Clause", whl.name
        assert len(meta.get_all("Classifier") or []) >= 5, whl.name
        assert len(meta.get_payload()) >= 400, f"{whl.name}: long description too short"
        assert "pytest11" not in "".join(names), whl.name


@pytest.mark.parametrize("spec", ["annstore", "annstore[h5ad,zarr]"])
def test_fresh_venv_from_wheels_reads_and_writes_h5ad_and_zarr(wheels: Path, tmp_path: Path, spec: str):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    res = _pip(venv, "install", "-q", "--find-links", str(wheels), spec)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "does not provide the extra" not in res.stderr, res.stderr
    run = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "'h5ad'" in run.stdout and "'zarr'" in run.stdout

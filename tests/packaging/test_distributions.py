"""Every distribution of the repository is packaged as scverse packages are, and declares its
dependencies exactly as its code imports them."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DISTRIBUTIONS = {
    "core": "annstore",
    "meta": None,  # `annstore`: dependencies only
    "plugins/h5ad": "annstore_h5ad",
    "plugins/zarr": "annstore_zarr",
    "plugins/loom": "annstore_loom",
    "plugins/text": "annstore_text",
    "plugins/tiledb": "annstore_tiledb",
    "examples/annstore-npydir": "annstore_npydir",
}
#: distribution name -> the top-level module it provides
IMPORT_NAME = {
    "annstore-core": "annstore",
    "dask": "dask",
    "pytest": "pytest",
    "psutil": "psutil",
    "torch": "torch",
    "tqdm": "tqdm",
    "xarray": "xarray",
    "awkward": "awkward",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "pluggy": "pluggy",
    "natsort": "natsort",
    "h5py": "h5py",
    "zarr": "zarr",
    "numcodecs": "numcodecs",
    "tiledb": "tiledb",
    "openpyxl": "openpyxl",
}
#: extras that install what the code uses through another library, not by importing it
#: (zarr opens s3://, gs:// and http:// URLs through fsspec), or that gather other extras
INDIRECT_EXTRAS = {"remote", "test", "all", "h5ad", "zarr", "loom", "text", "tiledb"}


def _project(folder: str) -> dict:
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]


def _req_name(req: str) -> str:
    for sep in "[<>=!~; ":
        req = req.split(sep, 1)[0]
    return req.strip().lower()


def _import_name(req: str) -> str:
    name = _req_name(req)
    return IMPORT_NAME.get(name, name.replace("-", "_"))


def _third_party_imports(package: str, folder: str) -> set[str]:
    mods: set[str] = set()
    for path in (ROOT / folder / "src" / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                mods.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split(".")[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != package}


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_metadata_as_scverse_packages(folder: str):
    meta = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
    proj = meta["project"]
    assert meta["build-system"]["build-backend"] == "hatchling.build"
    assert any(r.startswith("hatch-vcs") for r in meta["build-system"]["requires"])
    assert proj["dynamic"] == ["version"] and "version" not in proj
    assert meta["tool"]["hatch"]["version"]["source"] == "vcs"
    assert proj["license"] == "BSD-3-Clause"
    assert proj["license-files"] == ["LICENSE"]
    assert (ROOT / folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in proj["classifiers"])
    assert "Topic :: Scientific/Engineering :: Bio-Informatics" in proj["classifiers"]
    readme = (ROOT / folder / proj["readme"]).read_text()
    assert len(readme) >= 400, f"{folder}: the long description is {len(readme)} characters"
    assert "pytest11" not in proj.get("entry-points", {}), "the pytest plugin must be opt-in"
    assert all("importlib-metadata" not in r for r in proj.get("dependencies", []))


@pytest.mark.parametrize("folder", [f for f, p in DISTRIBUTIONS.items() if p])
def test_dependencies_declared_exactly_as_imported(folder: str):
    proj = _project(folder)
    package = DISTRIBUTIONS[folder]
    imported = _third_party_imports(package, folder)
    required = {_import_name(r) for r in proj.get("dependencies", [])}
    optional = {
        _import_name(r)
        for extra, reqs in proj.get("optional-dependencies", {}).items()
        if extra not in INDIRECT_EXTRAS
        for r in reqs
    }
    assert imported - required - optional == set(), f"{folder}: imported but not declared"
    assert required - imported == set(), f"{folder}: declared but never imported"
    assert optional - imported == set(), f"{folder}: an extra installs what nothing imports"


def test_plugins_depend_on_core_not_on_the_distribution_that_depends_on_them():
    meta = _project("meta")
    assert {_req_name(r) for r in meta["dependencies"]} == {"annstore-core", "annstore-h5ad", "annstore-zarr"}
    for folder in DISTRIBUTIONS:
        if folder in {"core", "meta"}:
            continue
        deps = {_req_name(r) for r in _project(folder)["dependencies"]}
        assert "annstore-core" in deps and "annstore" not in deps, folder


def test_meta_extras_name_every_format_plugin():
    extras = _project("meta")["optional-dependencies"]
    for name in ("h5ad", "zarr", "loom", "text", "tiledb"):
        assert any(_req_name(r) == f"annstore-{name}" for r in extras[name]), name
    assert {_req_name(r) for r in extras["all"]} >= {"annstore-loom", "annstore-text", "annstore-tiledb"}

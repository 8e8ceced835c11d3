"""Plugin-API compatibility is declared by each plugin and checked when it is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import annstore
from annstore.hookspecs import PLUGIN_API_VERSION

FAKE = Path(__file__).parent / "fake_dists"


def _discover(*dists: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        """
        import warnings, annstore
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            formats = annstore.list_formats()
        for x in w:
            print("WARNING", type(x.message).__name__, x.message)
        print("FORMATS", sorted(formats))
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(FAKE / d) for d in dists))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)


def test_plugin_built_for_another_api_warns_and_is_skipped():
    out = _discover("oldapi", "good").stdout
    assert "WARNING PluginLoadWarning annstore plugin 'oldapi' (annstore_fake_oldapi" in out
    assert f"not built for annstore's plugin API {PLUGIN_API_VERSION}" in out
    assert "declares 99 as ANNSTORE_PLUGIN_API" in out
    formats = out.split("FORMATS", 1)[1]
    assert "'oldapi'" not in formats
    assert "'h5ad'" in formats  # the others load


def test_every_installed_plugin_declares_this_api():
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="annstore.plugins") if ep.value.startswith("annstore_")]
    assert eps, "no annstore plugin installed"
    for ep in eps:
        if ep.value.startswith("annstore_fake_"):
            continue
        assert getattr(ep.load(), "ANNSTORE_PLUGIN_API", None) == PLUGIN_API_VERSION, ep.value
    assert annstore.hookspecs.PLUGIN_API_VERSION == PLUGIN_API_VERSION

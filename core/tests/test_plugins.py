"""Plugin discovery through entry points: good, broken, misspelt and conflicting plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import annstore
from annstore.errors import PluginConflictError, PluginLoadWarning
from annstore.io import _plugins

FAKE = Path(__file__).parent / "fake_dists"


@pytest.fixture
def use_dist(monkeypatch: pytest.MonkeyPatch):
    """Put fake distributions on sys.path and rediscover plugins; restore afterwards."""

    def _use(*names: str) -> None:
        for n in names:
            monkeypatch.syspath_prepend(str(FAKE / n))
        annstore.refresh_formats()

    yield _use
    monkeypatch.undo()
    for mod in [m for m in sys.modules if m.startswith("annstore_fake_")]:
        del sys.modules[mod]
    annstore.refresh_formats()


def test_core_registers_through_its_own_hooks():
    pm = _plugins.get_plugin_manager()
    assert pm.get_plugin("annstore.builtin") is not None
    impls = [i.plugin_name for i in pm.hook.annstore_register_encodings.get_hookimpls()]
    assert "annstore.builtin" in impls
    assert "memory" in annstore.list_formats()


def test_plugins_load_lazily_and_are_cached(use_dist):
    use_dist()
    assert _plugins._cached.cache_info().currsize == 0
    pm1 = _plugins.get_plugin_manager()
    assert _plugins.get_plugin_manager() is pm1
    annstore.refresh_formats()
    assert _plugins.get_plugin_manager() is not pm1


def test_third_party_encoding_is_discovered(use_dist):
    use_dist("good")
    reg = _plugins.get_registry()
    mod = sys.modules["annstore_fake_points"]
    entry = reg.find_reader(mod.POINTS)
    assert entry.func is mod.read_points
    assert entry.owner == "annstore_fake_points"
    assert reg.find_writer(mod.Points([1.0], [2.0])).spec == mod.POINTS


def test_broken_plugin_warns_once_and_others_load(use_dist):
    with pytest.warns(PluginLoadWarning, match=r"'broken'.*failed to import.*definitely_missing_lib"):
        use_dist("broken", "good")
        _plugins.get_plugin_manager()
    assert "annstore_fake_points" in sys.modules
    assert "memory" in annstore.list_formats()


def test_misspelt_hook_warns_naming_plugin_and_hook(use_dist):
    with pytest.warns(PluginLoadWarning, match=r"'badhook'.*annstore_gues_format"):
        use_dist("badhook")
        pm = _plugins.get_plugin_manager()
    assert pm.get_plugin("badhook") is None


def test_conflicting_plugin_warns_naming_both_and_is_skipped(use_dist, tmp_path: Path):
    """A registration conflicting with core's is isolated like an import error: one warning
    naming both registrants, the plugin is left out, and IO keeps working."""
    import numpy as np
    from scipy import sparse

    with pytest.warns(PluginLoadWarning, match=r"'conflict' is skipped.*annstore\.io\.encodings.*"
                      r"annstore_fake_conflict"):
        use_dist("conflict", "good")
        pm = _plugins.get_plugin_manager()
    assert pm.get_plugin("conflict") is None
    assert pm.get_plugin("points") is not None  # the other plugin loaded
    entry = pm.registry.find_reader(annstore.IOSpec("csr_matrix", "0.1.0"))
    assert entry.owner.startswith("annstore.")  # nothing of the skipped plugin stayed
    m = sparse.csr_matrix(np.eye(3))
    url = f"memory://{tmp_path}/c"
    annstore.write(annstore.AnnData(m), url)
    assert (annstore.read(url).X != m).nnz == 0


def test_conflict_error_is_a_value_error_naming_both():
    def one(node, *, ctx):
        return 1

    def two(node, *, ctx):
        return 2

    reg = _plugins.Registry()
    reg.register_reader(annstore.IOSpec("x", "0.1.0"), one, owner="first")
    with pytest.raises(PluginConflictError, match=r"'first'.*'second'") as ei:
        reg.register_reader(annstore.IOSpec("x", "0.1.0"), two, owner="second")
    assert isinstance(ei.value, ValueError)


def test_disable_autoload_env(tmp_path: Path):
    code = textwrap.dedent(
        f"""
        import sys, warnings
        sys.path.insert(0, {str(FAKE / "good")!r})
        import annstore
        from annstore.io import _plugins
        pm = _plugins.get_plugin_manager()
        print(sorted(n for n, _ in pm.list_name_plugin()))
        """
    )
    env_off = {"ANNSTORE_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env_off, capture_output=True, text=True, check=True)
    # core's own plugins only: io's built-in one and the backed layer's hooks
    assert out.stdout.strip() == "['annstore.backed', 'annstore.builtin']"
    out = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    assert "points" in out.stdout


def test_duplicate_format_name_warns(use_dist, monkeypatch: pytest.MonkeyPatch):
    from annstore import FormatInfo, hookimpl

    class Dup:
        @staticmethod
        @hookimpl
        def annstore_format_info():
            return FormatInfo("memory", "another memory", (), True)

    use_dist()
    orig = _plugins._build

    def build():
        pm = orig()
        pm.register(Dup, name="dup")
        pm.formats.clear()
        with pytest.warns(PluginLoadWarning, match="'memory' is provided by both"):
            _plugins._collect_formats(pm)
        return pm

    monkeypatch.setattr(_plugins, "_build", build)
    annstore.refresh_formats()
    assert annstore.list_formats()["memory"].description.startswith("In-process")


def test_list_formats_repr_describes_capabilities():
    info = annstore.list_formats()["memory"]
    text = repr(info)
    assert "memory" in text and "hierarchical" in text and "backed" in text

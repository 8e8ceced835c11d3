"""Format guessing and the one-line errors for unknown or uninstalled formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import annstore
from annstore.errors import CapabilityError, FormatNotInstalledError, UnknownFormatError
from annstore.io import _plugins


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):
    """Pretend a format's plugin is not installed."""

    def _without(name: str) -> None:
        pm = _plugins.get_plugin_manager()
        monkeypatch.delitem(pm.formats, name, raising=False)
        monkeypatch.setattr(pm.hook, "annstore_guess_format", lambda **kw: None)

    return _without


def test_missing_plugin_names_the_package(without):
    without("loom")
    with pytest.raises(FormatNotInstalledError) as ei:
        annstore.read("x.loom", format="loom")
    assert str(ei.value) == "Format 'loom' needs the annstore-loom plugin: pip install annstore-loom"
    assert ei.value.package == "annstore-loom"
    assert isinstance(ei.value, ImportError) and isinstance(ei.value, ValueError)


def test_guess_names_the_plugin_for_a_known_suffix(tmp_path: Path, without):
    without("loom")
    f = tmp_path / "pbmc.loom"
    f.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(UnknownFormatError, match=r"Could not determine the format of .*pbmc\.loom.*\n"
                       r"The suffix belongs to format 'loom': pip install annstore-loom"):
        annstore.io.guess_format(f)


def test_guess_missing_file_is_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.h5ad"):
        annstore.io.guess_format(tmp_path / "nope.h5ad")


def test_unknown_format_lists_installed():
    with pytest.raises(UnknownFormatError, match=r"Unknown format 'nosuch'\. Installed formats: .*memory"):
        annstore.read("x", format="nosuch")


def test_write_without_suffix_asks_for_format(tmp_path: Path):
    with pytest.raises(UnknownFormatError, match="pass format="):
        annstore.write(annstore.AnnData(np.zeros((1, 1))), tmp_path / "noext")


def test_memory_urls_are_guessed(tmp_path: Path):
    a = annstore.AnnData(np.eye(3, dtype=np.float32))
    url = f"memory://{tmp_path}/g"
    annstore.write(a, url)
    assert annstore.io.guess_format(url) == "memory"
    np.testing.assert_array_equal(annstore.read(url).X, a.X)


def test_capability_flags_are_enforced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import dataclasses

    pm = _plugins.get_plugin_manager()
    monkeypatch.setitem(pm.formats, "memory",
                        dataclasses.replace(pm.formats["memory"], supports_backed=False))
    with pytest.raises(CapabilityError, match="does not support backed mode"):
        annstore.read(f"memory://{tmp_path}/x", format="memory", backed="r")

"""Load plugin objects through the real entry-point path, without installing a distribution."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import annstore
from annstore.io import _plugins


class FakeEntryPoint:
    """An ``importlib.metadata.EntryPoint`` look-alike whose ``load()`` returns ``obj``."""

    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self._obj, self.dist = name, f"test:{name}", obj, None

    def load(self) -> object:
        return self._obj


def installer(monkeypatch: pytest.MonkeyPatch) -> Callable[..., _plugins.AnnstorePluginManager]:
    """``install(name=plugin, ...)``: add fake entry points and rebuild the plugin manager
    (API check, registration, encodings, formats run as for installed plugins). Undo with
    ``monkeypatch.undo()`` and ``annstore.refresh_formats()``."""

    def install(**plugins: object) -> _plugins.AnnstorePluginManager:
        orig = _plugins._iter_entry_points
        monkeypatch.setattr(
            _plugins, "_iter_entry_points",
            lambda: [*orig(), *(FakeEntryPoint(n, p) for n, p in plugins.items())],
        )
        annstore.refresh_formats()
        return _plugins.get_plugin_manager()

    return install

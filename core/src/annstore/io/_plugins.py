"""The plugin manager: built-ins, entry points, broken-plugin warnings, cache and refresh."""

from __future__ import annotations

import os
import threading
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pluggy

from .. import hookspecs
from ..errors import PluginLoadWarning
from ._registry import Registry
from ._spec import FormatInfo

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "ENTRY_POINT_GROUP",
    "get_plugin_manager",
    "get_registry",
    "list_formats",
    "refresh_formats",
]

ENTRY_POINT_GROUP = "annstore.plugins"
DISABLE_ENV = "ANNSTORE_DISABLE_PLUGIN_AUTOLOAD"

_lock = threading.RLock()


class AnnstorePluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` that also owns the encoding registry and format table."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.formats: dict[str, FormatInfo] = {}
        self.format_owners: dict[str, str] = {}

    def safe_register(self, plugin: Any, name: str) -> bool:
        """Register ``plugin``; on a bad hook, warn naming it and leave it out."""
        try:
            self.register(plugin, name=name)
            self._check_plugin_pending(plugin, name)
        except Exception as e:  # noqa: BLE001 - any failure of a third-party plugin only warns
            if self.is_registered(plugin):
                self.unregister(plugin)
            warnings.warn(
                f"annstore plugin {name!r} could not be registered and is skipped: "
                f"{type(e).__name__}: {e}",
                PluginLoadWarning,
                stacklevel=3,
            )
            return False
        return True

    def _check_plugin_pending(self, plugin: Any, name: str) -> None:
        for attr in dir(plugin):
            if not attr.startswith("annstore_"):
                continue
            if getattr(self.hook, attr, None) is None or not hasattr(
                getattr(self.hook, attr), "spec"
            ) or getattr(self.hook, attr).spec is None:
                msg = f"unknown hook {attr!r} (known hooks: {', '.join(_hook_names())})"
                raise pluggy.PluginValidationError(plugin, msg)


def _hook_names() -> list[str]:
    return sorted(n for n in dir(hookspecs) if n.startswith("annstore_"))


def _iter_entry_points() -> Iterable[Any]:
    from importlib.metadata import entry_points

    seen: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in seen:
            if seen[ep.name].value != ep.value:
                warnings.warn(
                    f"annstore plugin name {ep.name!r} is provided twice ({seen[ep.name].value!r} "
                    f"and {ep.value!r}); using the first.",
                    PluginLoadWarning,
                    stacklevel=4,
                )
            continue
        seen[ep.name] = ep
        yield ep


def _build() -> AnnstorePluginManager:
    pm = AnnstorePluginManager()
    from . import _builtin

    pm.register(_builtin, name="annstore.builtin")
    for name, plugin in _builtin.load_core_plugins():  # the backed layer's hooks (see _builtin)
        pm.register(plugin, name=name)
    if os.environ.get(DISABLE_ENV, "").strip() not in {"", "0", "false", "False"}:
        pass
    else:
        for ep in _iter_entry_points():
            try:
                plugin = ep.load()
            except Exception as e:  # noqa: BLE001 - a broken plugin must not break the others
                warnings.warn(
                    f"annstore plugin {ep.name!r} ({ep.value}) failed to import and is skipped: "
                    f"{type(e).__name__}: {e}",
                    PluginLoadWarning,
                    stacklevel=3,
                )
                continue
            if pm.is_registered(plugin):
                continue
            pm.safe_register(plugin, ep.name)
    _collect_formats(pm)
    _collect_encodings(pm)
    return pm


def _collect_formats(pm: AnnstorePluginManager) -> None:
    for impl in pm.hook.annstore_format_info.get_hookimpls():
        name = impl.plugin_name
        try:
            res = impl.function()
        except Exception as e:  # noqa: BLE001
            warnings.warn(
                f"annstore plugin {name!r} failed in annstore_format_info: {e}",
                PluginLoadWarning,
                stacklevel=4,
            )
            continue
        infos = res if isinstance(res, list | tuple) else [res]
        for info in infos:
            if not isinstance(info, FormatInfo):
                warnings.warn(
                    f"annstore plugin {name!r} returned {type(info).__name__} from "
                    "annstore_format_info; expected FormatInfo.",
                    PluginLoadWarning,
                    stacklevel=4,
                )
                continue
            if info.name in pm.formats:
                warnings.warn(
                    f"Format {info.name!r} is provided by both {pm.format_owners[info.name]!r} "
                    f"and {name!r}; using {pm.format_owners[info.name]!r}.",
                    PluginLoadWarning,
                    stacklevel=4,
                )
                continue
            pm.formats[info.name] = info
            pm.format_owners[info.name] = name


def _collect_encodings(pm: AnnstorePluginManager) -> None:
    # Core first (it is registered first), then each plugin; a conflict is an error that names
    # both registrants, raised at first IO use.
    for impl in pm.hook.annstore_register_encodings.get_hookimpls():
        kwargs = {"registry": pm.registry}
        impl.function(*[kwargs[a] for a in impl.argnames])


@lru_cache(maxsize=1)
def _cached() -> AnnstorePluginManager:
    return _build()


def get_plugin_manager() -> AnnstorePluginManager:
    """The process-wide plugin manager, built (and entry points loaded) on first use."""
    with _lock:
        return _cached()


def get_registry() -> Registry:
    """The encoding registry of the current plugin manager."""
    return get_plugin_manager().registry


def refresh_formats() -> None:
    """Forget loaded plugins; the next IO call rediscovers entry points."""
    with _lock:
        _cached.cache_clear()
        from importlib import invalidate_caches

        invalidate_caches()


def list_formats() -> dict[str, FormatInfo]:
    """Installed formats by name, each with its description, suffixes and capabilities."""
    return dict(sorted(get_plugin_manager().formats.items()))

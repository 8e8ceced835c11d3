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
    "open_store_root",
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
            if not _api_compatible(ep, plugin):
                continue
            pm.safe_register(plugin, ep.name)
    _collect_encodings(pm)  # first: a plugin skipped there contributes no format either
    _collect_formats(pm)
    return pm


def _api_compatible(ep: Any, plugin: Any) -> bool:
    """Whether an entry-point plugin was built for this core's plugin API; warn and skip if not."""
    declared = getattr(plugin, "ANNSTORE_PLUGIN_API", None)
    if declared == hookspecs.PLUGIN_API_VERSION:
        return True
    dist = getattr(getattr(ep, "dist", None), "name", None)
    where = f"{ep.name!r} ({ep.value}{', from ' + dist if dist else ''})"
    found = "declares none" if declared is None else f"declares {declared!r}"
    warnings.warn(
        f"annstore plugin {where} is skipped: it was not built for annstore's plugin API "
        f"{hookspecs.PLUGIN_API_VERSION} (its module {found} as ANNSTORE_PLUGIN_API); "
        "install a version of the plugin made for this annstore.",
        PluginLoadWarning,
        stacklevel=4,
    )
    return False


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
    """Run every plugin's ``annstore_register_encodings`` (core's first, it registered first).

    Each plugin's registrations are one transaction: when the hook raises (a registration
    conflicting with an earlier plugin's, or a bug), everything it registered is rolled back,
    the plugin is unregistered (none of its hooks runs) and one :class:`PluginLoadWarning`
    names it; the other plugins and every IO call keep working, as with an import error.
    """
    for impl in pm.hook.annstore_register_encodings.get_hookimpls():
        name = impl.plugin_name
        kwargs = {"registry": pm.registry}
        snapshot = pm.registry.snapshot()
        try:
            impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as e:  # noqa: BLE001 - a broken plugin must not break the others
            pm.registry.restore(snapshot)
            if name == "annstore.builtin":
                raise
            if pm.is_registered(impl.plugin):
                pm.unregister(impl.plugin)
            warnings.warn(
                f"annstore plugin {name!r} is skipped: its annstore_register_encodings failed "
                f"({type(e).__name__}: {e})",
                PluginLoadWarning,
                stacklevel=4,
            )


def open_store_root(
    path: Any, *, format: str, mode: str, storage_options: dict[str, Any] | None = None
) -> Any:
    """Call ``annstore_open_store`` and check what the answering plugin returned.

    The one place core asks plugins to open a store. Implementations are tried in pluggy's
    call order; the first non-``None`` result wins. It must be a store node (class attribute
    ``_annstore_node = True``) whose ``format`` is the format asked for: a plugin that forgot
    its ``if format != MINE: return None`` check would otherwise take over every other
    format. A result that breaks either rule is closed and refused with
    :class:`~annstore.errors.PluginError` naming the plugin. Returns ``None`` when no plugin
    opened ``path``.
    """
    from ..errors import PluginError

    hook = get_plugin_manager().hook.annstore_open_store
    kwargs = {"path": path, "format": format, "mode": mode,
              "storage_options": dict(storage_options or {})}
    for impl in reversed(hook.get_hookimpls()):
        try:
            root = impl.function(*[kwargs[a] for a in impl.argnames])
        except RecursionError as e:  # metadata nested too deeply, e.g. 100k-deep JSON
            from .._limits import FileRef, too_deep

            raise too_deep(FileRef(path, format), e) from None
        if root is None:
            continue
        problem = node_problem(root, format)
        if problem is not None:
            close = getattr(root, "close", None)
            if callable(close):
                close()
            msg = (
                f"annstore plugin {impl.plugin_name!r} returned {_type_name(root)} from "
                f"annstore_open_store(format={format!r}) for {str(path)!r}: {problem}"
            )
            raise PluginError(msg, plugin=impl.plugin_name)
        return root
    return None


def node_problem(node: Any, format: str | None = None) -> str | None:
    """What is wrong with ``node`` as a store node of ``format``, or ``None`` when nothing is."""
    if not getattr(node, "_annstore_node", False):
        return (
            "it lacks the class attribute `_annstore_node = True` that marks store nodes "
            "(set it on the adapter's group and array classes)."
        )
    got = getattr(node, "format", None)
    if format is not None and got != format:
        return (
            f"its nodes are of format {got!r}, not {format!r}. Return None from "
            "annstore_open_store for formats that are not yours, and set `format` on your "
            "nodes to your format's name."
        )
    return None


def concat_elems(elems: list[Any], *, axis: int, fill_value: Any) -> Any:
    """Ask the plugins' ``annstore_concat_elems`` to concatenate third-party elements.

    The model's :func:`annstore._concat.set_foreign_concat` point is wired to this function,
    so ``concat`` reaches the hook without importing the plugin layer.
    """
    return get_plugin_manager().hook.annstore_concat_elems(
        elems=list(elems), axis=axis, fill_value=fill_value
    )


def owner_of_format(format: str | None) -> str | None:
    """Name of the plugin that provides ``format`` (``None`` when no plugin does)."""
    if format is None:
        return None
    return get_plugin_manager().format_owners.get(format)


def _type_name(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


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

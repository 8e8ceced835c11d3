"""Core's own plugin: the anndata element encodings and the built-in ``memory`` format.

Also the list of core's plugins from layers above io (the backed layer's hooks): io names none
of them; the package facade (:mod:`annstore._wiring`) adds each with :func:`add_core_plugin`,
and every plugin manager io builds registers them right after this module, whatever
``ANNSTORE_DISABLE_PLUGIN_AUTOLOAD`` says.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ._spec import FormatInfo

if TYPE_CHECKING:
    from ..types import GroupLike, OpenMode
    from ._registry import Registry

MEMORY = "memory"

#: Core plugins of layers above io: name -> loader (imports the layer, returns the plugin module).
_CORE_PLUGINS: dict[str, Callable[[], ModuleType]] = {}


def add_core_plugin(name: str, loader: Callable[[], ModuleType]) -> None:
    """Add a core plugin from a layer above io, registered in each plugin manager built from now on.

    Parameters
    ----------
    name
        Plugin name (as :func:`annstore.list_formats` and warnings name it).
    loader
        Imports the plugin's layer and returns the module holding its hook implementations.
    """
    _CORE_PLUGINS[name] = loader


def load_core_plugins() -> list[tuple[str, ModuleType]]:
    """Import core's plugins from the layers above io; ``(name, module)`` in the order added."""
    return [(name, load()) for name, load in _CORE_PLUGINS.items()]


@hookimpl
def annstore_format_info() -> FormatInfo:
    return FormatInfo(
        name=MEMORY,
        description="In-process dict-backed store (reference format; not persisted)",
        suffixes=(),
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore-core",
        version=_core_version(),
    )


def _core_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("annstore-core")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return ""


@hookimpl
def annstore_guess_format(path: Any) -> str | None:
    return MEMORY if str(path).startswith("memory://") else None


@hookimpl
def annstore_open_store(path: Any, format: str, mode: OpenMode) -> GroupLike | None:
    if format != MEMORY:
        return None
    from ._memory import open_memory_store

    return open_memory_store(path, mode)


@hookimpl
def annstore_register_encodings(registry: Registry) -> None:
    from .encodings import ENCODINGS

    ENCODINGS.register_on(registry)
    from .encodings._awkward import register_writer as register_awkward

    registry.register_lazy("awkward", register_awkward)

"""Core's own plugin: the anndata element encodings and the built-in ``memory`` format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ._spec import FormatInfo

if TYPE_CHECKING:
    from ..types import GroupLike, OpenMode
    from ._registry import Registry

MEMORY = "memory"


@hookimpl
def annstore_format_info() -> FormatInfo:
    return FormatInfo(
        name=MEMORY,
        description="In-process dict-backed store (reference format; not persisted)",
        suffixes=(),
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore",
    )


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
    from ..backed._encodings import register as register_backed
    from .encodings._awkward import register_writer as register_awkward

    register_backed(registry)  # backed datasets, and dask arrays once dask is imported
    registry.register_lazy("awkward", register_awkward)

"""annstore hook implementations of the ``tiledb`` format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annstore import FormatInfo, hookimpl

if TYPE_CHECKING:
    from annstore.types import ArrayLike, BackedSparseSource, GroupLike, OpenMode

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


FORMAT = "tiledb"
SUFFIXES = (".tiledb",)
#: Entries TileDB puts into a group directory (checked before importing tiledb).
_GROUP_MARKERS = ("__tiledb_group.tdb", "__group")


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("annstore-tiledb")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = ""
    return FormatInfo(
        name=FORMAT,
        description="TileDB group of dense arrays (local directory or TileDB URI)",
        suffixes=SUFFIXES,
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore-tiledb",
        version=v,
    )


def _is_tiledb_object(obj: Any) -> bool:
    return type(obj).__module__.split(".", 1)[0] == "tiledb"


@hookimpl
def annstore_guess_format(path: Any, is_dir: bool) -> str | None:
    if _is_tiledb_object(path):
        return FORMAT
    if not isinstance(path, str | os.PathLike):
        return None
    name = str(path).rstrip("/").lower()
    if name.endswith(SUFFIXES):
        return FORMAT
    if is_dir and any((Path(path) / m).exists() for m in _GROUP_MARKERS):
        import tiledb

        try:
            return FORMAT if tiledb.object_type(str(path)) == "group" else None
        except tiledb.TileDBError:
            return None
    return None


@hookimpl
def annstore_open_store(
    path: Any, format: str, mode: OpenMode, storage_options: dict[str, Any]
) -> GroupLike | None:
    if format != FORMAT:
        return None
    from ._store import open_tiledb_store

    return open_tiledb_store(path, mode, storage_options)


@hookimpl
def annstore_adapt_node(obj: Any) -> GroupLike | ArrayLike | None:
    if not _is_tiledb_object(obj):
        return None
    from ._store import adapt_tiledb_object

    return adapt_tiledb_object(obj)


@hookimpl
def annstore_backed_sparse_source(group: GroupLike) -> BackedSparseSource | None:
    if getattr(group, "format", None) != FORMAT:
        return None
    from ._sparse import TileDBSparseSource

    return TileDBSparseSource.from_group(group)

"""The plugin's hook implementations: this module is the ``annstore.plugins`` entry point.

The format is a zarr hierarchy in a :class:`~annstore_sqlite.SQLiteStore`; the zarr plugin's
adapter does the rest (``open_zarr_store(..., format=NAME)``, ``register_encodings``). Format
guessing needs no hook: core matches the declared suffix and magic bytes.
"""

from __future__ import annotations

from typing import Any

from annstore import FormatInfo, hookimpl

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1

NAME = "sqlite-zarr"
SUFFIX = ".sqlite-zarr"
SQLITE_MAGIC = b"SQLite format 3\x00"


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import version

    return FormatInfo(
        name=NAME,
        description="Zarr hierarchy in one SQLite file (example key-value plugin)",
        suffixes=(SUFFIX,),
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore-sqlite",
        version=version("annstore-sqlite"),
        magic=(SQLITE_MAGIC,),
    )


@hookimpl
def annstore_open_store(path: Any, format: str, mode: str, storage_options: dict[str, Any]) -> Any:
    if format != NAME:
        return None
    from annstore_zarr import open_zarr_store

    from ._store import SQLiteStore

    store = SQLiteStore(path, read_only=mode == "r")
    try:
        return open_zarr_store(store, mode, storage_options, format=NAME)  # type: ignore[arg-type]
    except BaseException:
        store.close()
        raise


@hookimpl
def annstore_register_encodings(registry: Any) -> None:
    from annstore_zarr import register_encodings

    register_encodings(registry, format=NAME)  # zarr's own encoding overrides, for this format

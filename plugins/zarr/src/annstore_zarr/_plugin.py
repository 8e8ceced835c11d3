"""annstore hook implementations of the ``zarr`` format."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annstore import FormatInfo, hookimpl

if TYPE_CHECKING:
    from annstore.io import Registry
    from annstore.types import ArrayLike, BackedSparseSource, GroupLike, OpenMode

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


FORMAT = "zarr"
SUFFIXES = (".zarr", ".zarr.zip")
ZIP_MAGIC = b"PK\x03\x04"
_MARKERS = ("zarr.json", ".zgroup", ".zattrs", ".zmetadata", ".zarray")


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("annstore-zarr")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = ""
    return FormatInfo(
        name=FORMAT,
        description="Zarr hierarchy (format 2 or 3): directory, zip archive or fsspec URL",
        suffixes=SUFFIXES,
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore-zarr",
        version=v,
        magic=(ZIP_MAGIC,),
    )


def _is_zarr_object(obj: Any) -> bool:
    # zarr's own classes, and subclasses of them (the backed X array of this plugin)
    return any(c.__module__.split(".", 1)[0] == "zarr" for c in type(obj).__mro__[:-1])


def _zip_holds_zarr(path: Any) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return any(m in names for m in _MARKERS)


@hookimpl
def annstore_guess_format(path: Any, head: bytes, is_dir: bool) -> str | None:
    if _is_zarr_object(path):
        return FORMAT
    if not isinstance(path, str | os.PathLike):
        return None
    name = str(path).rstrip("/").lower()
    if "://" in name:
        return FORMAT if name.endswith((".zarr", ".zarr.zip")) else None
    if is_dir:
        return FORMAT if name.endswith(".zarr") or any(
            (Path(path) / m).exists() for m in _MARKERS
        ) else None
    if name.endswith(SUFFIXES):
        return FORMAT
    if head.startswith(ZIP_MAGIC) and name.endswith(".zip") and _zip_holds_zarr(path):
        return FORMAT
    return None


@hookimpl
def annstore_open_store(
    path: Any, format: str, mode: OpenMode, storage_options: dict[str, Any]
) -> GroupLike | None:
    if format != FORMAT:
        return None
    from ._open import open_zarr_store

    return open_zarr_store(path, mode, storage_options)


@hookimpl
def annstore_adapt_node(obj: Any) -> GroupLike | ArrayLike | None:
    if not _is_zarr_object(obj):
        return None
    from ._open import adapt_zarr_object

    return adapt_zarr_object(obj)


@hookimpl
def annstore_register_encodings(registry: Registry) -> None:
    from ._encodings import register

    register(registry)


@hookimpl
def annstore_backed_sparse_source(group: GroupLike) -> BackedSparseSource | None:
    if not type(group).__module__.startswith("annstore_zarr."):  # zarr nodes of any format
        return None
    from ._sparse import ZarrSparseSource

    return ZarrSparseSource.from_group(group)

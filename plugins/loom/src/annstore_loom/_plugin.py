"""Hook implementations of the ``loom`` format (whole-file read and write)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from annstore import FormatInfo, hookimpl

if TYPE_CHECKING:
    from annstore import AnnData

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


FORMAT = "loom"


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("annstore-loom")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = ""
    return FormatInfo(
        name=FORMAT,
        description="Loom files (HDF5, genes x cells), read and written with h5py",
        suffixes=(".loom",),
        hierarchical=False,
        package="annstore-loom",
        version=v,
    )


@hookimpl
def annstore_guess_format(path: Any, is_dir: bool) -> str | None:
    if is_dir or not isinstance(path, str | os.PathLike):
        return None
    return FORMAT if str(path).lower().endswith(".loom") else None


@hookimpl
def annstore_read_file(path: Any, format: str, options: dict[str, Any]) -> AnnData | None:
    if format != FORMAT:
        return None
    from ._read import read_loom_file

    return read_loom_file(path, **options)


@hookimpl
def annstore_write_file(adata: AnnData, path: Any, format: str, options: dict[str, Any]) -> bool | None:
    if format != FORMAT:
        return None
    from ._write import write_loom_file

    write_loom_file(adata, path, **options)
    return True

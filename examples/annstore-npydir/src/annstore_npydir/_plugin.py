"""The plugin's hook implementations: this module is the ``annstore.plugins`` entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annstore import FormatInfo, hookimpl

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


NAME = "npydir"
SUFFIX = ".npydir"


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import version

    return FormatInfo(
        name=NAME,
        description="Directory of .npy arrays with JSON attributes (example plugin)",
        suffixes=(SUFFIX,),
        hierarchical=True,
        package="annstore-npydir",
        version=version("annstore-npydir"),
    )


@hookimpl
def annstore_guess_format(path: Any, is_dir: bool) -> str | None:
    p = str(path).rstrip("/")
    if p.endswith(SUFFIX) or (is_dir and (Path(p) / ".attrs.json").is_file()):
        return NAME
    return None


@hookimpl
def annstore_open_store(path: Any, format: str, mode: str) -> Any:
    if format != NAME:
        return None
    from ._store import open_npydir

    return open_npydir(path, mode)

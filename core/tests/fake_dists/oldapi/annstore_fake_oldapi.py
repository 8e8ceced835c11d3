"""A plugin built for another (future) version of annstore's plugin API: it must be skipped."""

from __future__ import annotations

from annstore import FormatInfo, hookimpl

ANNSTORE_PLUGIN_API = 99


@hookimpl
def annstore_format_info() -> FormatInfo:
    return FormatInfo(name="oldapi", description="built for plugin API 99", suffixes=(".old",), hierarchical=False)

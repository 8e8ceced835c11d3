"""Hook implementations of the ``text`` format (csv/txt/xlsx/mtx/umi_tools readers, write_csvs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annstore import FormatInfo, hookimpl
from annstore.errors import CapabilityError

if TYPE_CHECKING:
    from annstore import AnnData

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


FORMAT = "text"
KINDS = ("csv", "text", "excel", "mtx", "umi_tools")

_COMPRESSED = (".gz", ".bz2")
#: plain suffix -> reader kind used when the kind is guessed from the file name
_SUFFIX_KIND = {
    ".csv": "csv",
    ".tsv": "text",
    ".tab": "text",
    ".txt": "text",
    ".data": "text",
    ".mtx": "mtx",
    ".xlsx": "excel",
}
SUFFIXES = tuple(_SUFFIX_KIND) + tuple(
    s + c for s in _SUFFIX_KIND if s != ".xlsx" for c in _COMPRESSED
)


def kind_from_suffix(path: Any) -> str | None:
    """The reader kind for ``path``'s suffix (``.gz``/``.bz2`` looked through), or ``None``."""
    if not isinstance(path, str | os.PathLike):
        return None
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
        if suffixes and suffixes[-1] == ".xlsx":
            return None
    return _SUFFIX_KIND.get(suffixes[-1]) if suffixes else None


@hookimpl
def annstore_format_info() -> FormatInfo:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("annstore-text")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = ""
    return FormatInfo(
        name=FORMAT,
        description="Delimited text, Excel, Matrix Market and umi_tools tables; write_csvs",
        suffixes=SUFFIXES,
        hierarchical=False,
        package="annstore-text",
        version=v,
    )


@hookimpl
def annstore_guess_format(path: Any, is_dir: bool) -> str | None:
    if is_dir:
        return None
    return FORMAT if kind_from_suffix(path) is not None else None


def _kind(path: Any, options: dict[str, Any]) -> str:
    kind = options.pop("kind", None)
    if kind is None:
        kind = kind_from_suffix(path)
        if kind is None:
            msg = (
                f"Cannot tell which text reader to use for {str(path)!r}; expected a suffix "
                f"among {', '.join(_SUFFIX_KIND)} or kind= one of {KINDS}."
            )
            raise ValueError(msg)
    if kind not in KINDS:
        msg = f"Expected kind one of {KINDS}; got {kind!r} instead."
        raise ValueError(msg)
    return str(kind)


@hookimpl
def annstore_read_file(path: Any, format: str, options: dict[str, Any]) -> AnnData | None:
    if format != FORMAT:
        return None
    from . import _read

    opts = dict(options)
    kind = _kind(path, opts)
    if kind == "csv":
        opts.setdefault("delimiter", ",")
        return _read.read_csv_file(path, **opts)
    if kind == "text":
        return _read.read_text_file(path, **opts)
    if kind == "excel":
        if "sheet" not in opts:
            msg = "read_excel needs sheet= (a sheet name or 0-based index)."
            raise TypeError(msg)
        return _read.read_excel_file(path, **opts)
    if kind == "mtx":
        return _read.read_mtx_file(path, **opts)
    return _read.read_umi_tools_file(path, **opts)


@hookimpl
def annstore_write_file(adata: AnnData, path: Any, format: str, options: dict[str, Any]) -> bool | None:
    if format != FORMAT:
        return None
    opts = dict(options)
    kind = opts.pop("kind", "csvs")
    if kind != "csvs":
        msg = f"The text format writes only kind='csvs' (a directory of CSV files); got {kind!r}."
        raise CapabilityError(msg)
    from ._write import write_csvs_dir

    write_csvs_dir(adata, path, **opts)
    return True

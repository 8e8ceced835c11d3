"""Annotated data matrices (AnnData) with pluggable storage formats.

``import annstore as ad`` runs code written for anndata 0.13's public API. Storage formats
(h5ad, zarr, loom, text, ...) come from plugins discovered through the ``annstore.plugins``
entry-point group on first IO use; importing annstore loads none of them.
"""

from __future__ import annotations

from typing import Any

from ._alias import install_as_anndata
from ._anndata import AnnData
from ._raw import Raw
from ._settings import settings
from .errors import (
    AnnstoreError,
    AnnstoreWarning,
    ExperimentalFeatureWarning,
    ImplicitModificationWarning,
    OldFormatWarning,
    WriteWarning,
)
from .hookspecs import hookimpl
from .io import (
    FormatInfo,
    IOSpec,
    list_formats,
    read,
    read_elem,
    read_h5ad,
    read_zarr,
    refresh_formats,
    write,
    write_elem,
)
from . import _wiring  # noqa: F401 - connects the layers' registration points (see its docstring)

__all__ = [
    "AnnData",
    "AnnstoreError",
    "AnnstoreWarning",
    "ExperimentalFeatureWarning",
    "FormatInfo",
    "IOSpec",
    "ImplicitModificationWarning",
    "OldFormatWarning",
    "Raw",
    "WriteWarning",
    "acc",
    "concat",
    "hookimpl",
    "install_as_anndata",
    "list_formats",
    "read",
    "read_elem",
    "read_h5ad",
    "read_zarr",
    "refresh_formats",
    "register_anndata_namespace",
    "settings",
    "write",
    "write_elem",
]


_DEPRECATED_IO = ("read_loom", "read_hdf", "read_excel", "read_umi_tools", "read_csv", "read_text", "read_mtx")
#: Readers anndata moved to ``io``: ``annstore.read_csv`` still works, with anndata's FutureWarning.
_DEPRECATED = {name: f"io.{name}" for name in _DEPRECATED_IO}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        from . import io as _io
        from .utils import redirect_deprecated

        return redirect_deprecated(name, _DEPRECATED, modules={"io": _io})
    if name == "__version__":
        from importlib.metadata import version

        return version("annstore-core")  # the distribution that holds the package
    if name == "concat":
        from ._concat import concat

        return concat
    if name == "register_anndata_namespace":
        from ._extensions import register_anndata_namespace

        return register_anndata_namespace
    if name in {"acc", "experimental", "testing", "backed", "types", "errors", "hookspecs", "abc", "typing", "utils", "logging"}:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    msg = f"module 'annstore' has no attribute {name!r}"
    raise AttributeError(msg)

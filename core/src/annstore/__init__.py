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


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("annstore")
    if name == "concat":
        from ._concat import concat

        return concat
    if name == "register_anndata_namespace":
        from ._extensions import register_anndata_namespace

        return register_anndata_namespace
    if name in {"acc", "experimental", "testing", "backed", "types", "errors", "hookspecs"}:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    msg = f"module 'annstore' has no attribute {name!r}"
    raise AttributeError(msg)

"""Reading and writing: formats, element encodings, the plugin manager and the store protocol."""

from __future__ import annotations

from typing import Any

from ._api import (
    open_store,
    read,
    read_csv,
    read_excel,
    read_h5ad,
    read_hdf,
    read_loom,
    read_mtx,
    read_text,
    read_umi_tools,
    read_zarr,
    write,
    write_csvs,
    write_h5ad,
    write_loom,
    write_zarr,
)
from ._dispatch import read_dispatched, read_elem, write_dispatched, write_elem
from ._guess import guess_format
from ._plugins import get_registry, list_formats, refresh_formats
from ._registry import Registry
from ._spec import FormatInfo, IOSpec

__all__ = [
    "FormatInfo",
    "IOSpec",
    "Registry",
    "get_registry",
    "guess_format",
    "list_formats",
    "open_store",
    "read",
    "read_csv",
    "read_dispatched",
    "read_elem",
    "read_excel",
    "read_h5ad",
    "read_hdf",
    "read_loom",
    "read_mtx",
    "read_text",
    "read_umi_tools",
    "read_zarr",
    "refresh_formats",
    "sparse_dataset",
    "write",
    "write_csvs",
    "write_dispatched",
    "write_elem",
    "write_h5ad",
    "write_loom",
    "write_zarr",
]


def __getattr__(name: str) -> Any:
    if name == "sparse_dataset":
        from ..backed import sparse_dataset

        return sparse_dataset
    msg = f"module 'annstore.io' has no attribute {name!r}"
    raise AttributeError(msg)

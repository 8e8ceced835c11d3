"""Reading and writing: formats, element encodings, the plugin manager and the store protocol."""

from __future__ import annotations

from typing import Any

from .._limits import BoundedReader, check_allocation, max_allocation
from ._adapter import (
    ArrayBase,
    GroupBase,
    StoreAttrs,
    StoreNode,
    bounding_box,
    check_str_elements,
    expand_selection,
    fit_chunks,
    index_array,
    outer_put,
    outer_take,
    plain_attr,
)
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
from ._identity import StorePin, pin_path
from ._plugins import get_registry, list_formats, refresh_formats
from ._registry import Registry
from ._spec import FormatInfo, IOSpec

__all__ = [
    "ArrayBase",
    "BoundedReader",
    "FormatInfo",
    "GroupBase",
    "IOSpec",
    "Registry",
    "StoreAttrs",
    "StoreNode",
    "StorePin",
    "bounding_box",
    "check_allocation",
    "check_str_elements",
    "expand_selection",
    "fit_chunks",
    "get_registry",
    "guess_format",
    "index_array",
    "list_formats",
    "max_allocation",
    "open_store",
    "outer_put",
    "outer_take",
    "pin_path",
    "plain_attr",
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


#: Public names of ``annstore.io`` whose objects belong to a layer above io: anndata has
#: ``anndata.io.sparse_dataset``, and in annstore the backed layer owns it. That layer provides
#: them with :func:`_provide` when it is imported; io imports nothing above it, and the first
#: access loads core's own plugins (:func:`annstore.io._builtin.load_core_plugins`, filled in by
#: the package facade), which imports the layer.
_FROM_UPPER_LAYERS = ("sparse_dataset",)


def _provide(name: str, value: Any) -> None:
    """Set the public name ``annstore.io.<name>`` (one of ``_FROM_UPPER_LAYERS``) to ``value``."""
    if name not in _FROM_UPPER_LAYERS:
        msg = f"annstore.io has no name {name!r} for another layer to provide (known: {', '.join(_FROM_UPPER_LAYERS)})"
        raise ValueError(msg)
    globals()[name] = value


def __getattr__(name: str) -> Any:
    if name in _FROM_UPPER_LAYERS:
        from ._builtin import load_core_plugins

        load_core_plugins()
        if name in globals():
            return globals()[name]
        msg = f"annstore.io.{name} is provided by the backed layer (annstore.backed), which is not loaded"
        raise AttributeError(msg)
    msg = f"module 'annstore.io' has no attribute {name!r}"
    raise AttributeError(msg)

"""HDF5-only encoding overrides: ``null`` is an ``h5py.Empty`` dataset (as anndata writes it).

Every other encoding is core's, written against the store protocol; :mod:`._store` already
maps strings, scalars and attributes to their HDF5 form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import h5py
from annstore.io import IOSpec

from ._store import FORMAT, H5Array, H5Group

if TYPE_CHECKING:
    from annstore.io import Registry

__all__ = ["ARRAY", "NULL", "register", "write_h5py_dataset"]

NULL = IOSpec("null", "0.1.0")
ARRAY = IOSpec("array", "0.2.0")


def write_null(parent: H5Group, key: str, value: None, *, ctx: Any, dataset_kwargs: dict[str, Any]) -> None:
    """Write ``None`` as an empty (null-dataspace) float32 dataset, anndata's layout."""
    parent.h5.create_dataset(key, data=h5py.Empty("f"))


def read_null(node: H5Array, *, ctx: Any) -> None:
    """Read a ``null`` element."""
    return None


def write_h5py_dataset(
    parent: Any, key: str, value: h5py.Dataset, *, ctx: Any, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write an ``h5py.Dataset`` (e.g. a backed X) into any store, copied in blocks."""
    from annstore.backed import BackedArray

    arr = BackedArray(H5Array(value))
    entry = ctx.registry.find_writer(arr, parent.format)
    return entry.func(parent, key, arr, ctx=ctx, dataset_kwargs=dataset_kwargs) or entry.spec


def register(registry: Registry) -> None:
    """Register the HDF5 overrides for format ``h5ad``, and the writer of h5py datasets."""
    registry.register_reader(NULL, read_null, format=FORMAT)
    registry.register_writer(type(None), NULL, write_null, format=FORMAT)
    registry.register_writer(h5py.Dataset, ARRAY, write_h5py_dataset)

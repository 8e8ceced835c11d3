"""Zarr-only element encodings: the ``null`` element as anndata writes it in zarr."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annstore import IOSpec

if TYPE_CHECKING:
    from annstore.io import Registry
    from annstore.types import GroupLike

NULL = IOSpec("null", "0.1.0")
ARRAY = IOSpec("array", "0.2.0")


def write_null(
    parent: GroupLike, key: str, value: None, *, ctx: Any, dataset_kwargs: dict[str, Any]
) -> None:
    """Zarr has no empty dataset: anndata writes a 0-d ``bool`` array and no chunk."""
    parent.create_array(key, shape=(), dtype="bool")


def write_zarr_array(
    parent: GroupLike, key: str, value: Any, *, ctx: Any, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a ``zarr.Array`` (e.g. a backed X) into any store, copied in blocks."""
    from annstore.backed import BackedArray

    from ._open import adapt_zarr_object

    arr = BackedArray(adapt_zarr_object(value))
    entry = ctx.registry.find_writer(arr, parent.format)
    return entry.func(parent, key, arr, ctx=ctx, dataset_kwargs=dataset_kwargs) or entry.spec


def register(registry: Registry, format: str = "zarr") -> None:
    """Register the zarr-only overrides on ``registry`` for ``format``, and the writer of zarr
    arrays. A format built on a zarr ``Store`` calls it with its own name (its nodes are zarr
    nodes reporting that name, see :func:`~annstore_zarr.open_zarr_store`)."""
    import zarr

    registry.register_writer(type(None), NULL, write_null, format=format)
    registry.register_writer(zarr.Array, ARRAY, write_zarr_array)

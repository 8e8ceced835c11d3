"""Zarr-only element encodings: the ``null`` element as anndata writes it in zarr."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annstore import IOSpec

if TYPE_CHECKING:
    from annstore.io import Registry
    from annstore.types import GroupLike

NULL = IOSpec("null", "0.1.0")


def write_null(
    parent: GroupLike, key: str, value: None, *, ctx: Any, dataset_kwargs: dict[str, Any]
) -> None:
    """Zarr has no empty dataset: anndata writes a 0-d ``bool`` array and no chunk."""
    parent.create_array(key, shape=(), dtype="bool")


def register(registry: Registry) -> None:
    """Register the zarr-only overrides on ``registry``."""
    registry.register_writer(type(None), NULL, write_null, format="zarr")

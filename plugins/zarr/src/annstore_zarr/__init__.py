"""Zarr (format 2 and 3) storage for annstore: directory, zip and fsspec/remote stores."""

from __future__ import annotations

from ._encodings import register as register_encodings
from ._sparse import ZarrSparseSource
from ._store import ZarrArray, ZarrGroup, adapt_zarr_object, open_zarr_store

__all__ = [
    "ZarrArray",
    "ZarrGroup",
    "ZarrSparseSource",
    "adapt_zarr_object",
    "open_zarr_store",
    "register_encodings",
]

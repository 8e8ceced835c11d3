"""Zarr (format 2 and 3) storage for annstore: directory, zip and fsspec/remote stores."""

from __future__ import annotations

from ._encodings import register as register_encodings
from ._sparse import ZarrSparseSource
from ._open import adapt_zarr_object, open_zarr_store
from ._store import ZarrArray, ZarrGroup

__all__ = [
    "ZarrArray",
    "ZarrGroup",
    "ZarrSparseSource",
    "adapt_zarr_object",
    "open_zarr_store",
    "register_encodings",
]

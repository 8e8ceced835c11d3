"""TileDB storage for annstore: AnnData as a TileDB group of dense arrays."""

from __future__ import annotations

from ._sparse import TileDBSparseSource
from ._store import (
    ReadOnlyStoreError,
    TileDBArray,
    TileDBGroup,
    adapt_tiledb_object,
    open_tiledb_store,
)

__all__ = [
    "ReadOnlyStoreError",
    "TileDBArray",
    "TileDBGroup",
    "TileDBSparseSource",
    "adapt_tiledb_object",
    "open_tiledb_store",
]

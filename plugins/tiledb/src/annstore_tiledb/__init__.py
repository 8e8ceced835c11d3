"""TileDB storage for annstore: AnnData as a TileDB group of dense arrays.

Names are imported on first use, so loading the plugin (``annstore_tiledb._plugin``) does not
import ``tiledb`` until a TileDB store is actually opened.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ReadOnlyStoreError",
    "TileDBArray",
    "TileDBGroup",
    "TileDBSparseSource",
    "adapt_tiledb_object",
    "open_tiledb_store",
]

_WHERE = {
    "ReadOnlyStoreError": "._store",
    "TileDBArray": "._store",
    "TileDBGroup": "._store",
    "TileDBSparseSource": "._sparse",
    "adapt_tiledb_object": "._store",
    "open_tiledb_store": "._store",
}


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        msg = f"module 'annstore_tiledb' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    return getattr(importlib.import_module(mod, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)

"""Example annstore plugin: AnnData in one SQLite file, as a zarr ``Store`` (see docs/plugins.md)."""

from __future__ import annotations

from ._store import SQLiteStore

__all__ = ["SQLiteStore"]

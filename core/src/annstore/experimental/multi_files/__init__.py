"""``annstore.experimental.multi_files`` (anndata's public module of the same name)."""

from __future__ import annotations

from .._collection import AnnCollection

__all__ = ["AnnCollection"]

"""``annstore.experimental.pytorch`` (anndata's public module of the same name)."""

from __future__ import annotations

from .._loader import AnnLoader

__all__ = ["AnnLoader"]

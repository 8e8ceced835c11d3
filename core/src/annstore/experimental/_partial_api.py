"""Public entry point of partial reads (implemented in :mod:`annstore.backed._partial`)."""

from __future__ import annotations

from ..backed._partial import read_partial

__all__ = ["read_partial"]

"""Public entry points of lazy reading (implemented in :mod:`annstore.backed._lazy`)."""

from __future__ import annotations

from ..backed._lazy import read_elem_lazy, read_lazy

__all__ = ["read_elem_lazy", "read_lazy"]

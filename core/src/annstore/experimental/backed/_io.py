"""``read_lazy`` and the names of AnnData's elements (the layout of anndata's module of this name).

Absolute imports only: anndata clients may import this module as
``anndata.experimental.backed._io`` under :func:`annstore.install_as_anndata`.
"""

from __future__ import annotations

from annstore.backed._lazy import ANNDATA_ELEMS, read_lazy

__all__ = ["ANNDATA_ELEMS", "read_lazy"]

"""Backed sparse access over TileDB: several ``data``/``indices`` ranges read in one query each."""

from __future__ import annotations

from typing import Any

import numpy as np
from annstore.backed import GenericSparseSource, merge_touching
from annstore.types import IndexSupport

__all__ = ["TileDBSparseSource"]


class TileDBSparseSource(GenericSparseSource):
    """:class:`~annstore.types.BackedSparseSource` over the arrays of a TileDB CSR/CSC group.

    :meth:`read_nnz_ranges` sends all ranges of ``data`` (and of ``indices``) to TileDB as
    one multi-range query, so a selection of many rows costs two queries, not two per row.
    """

    indexing = IndexSupport.POINTS

    def read_nnz_ranges(self, starts: Any, stops: Any) -> tuple[np.ndarray, np.ndarray]:
        starts, stops = merge_touching(starts, stops)
        if starts.size <= 1:
            return self.read_nnz(int(starts[0]), int(stops[0])) if starts.size else self.read_nnz(0, 0)
        return self._data.read_ranges(starts, stops), self._indices.read_ranges(starts, stops)

"""Backed sparse access over TileDB: several ``data``/``indices`` ranges read in one query each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from annstore.errors import InvalidFileError
from annstore.types import IndexSupport

from ._store import TileDBArray

if TYPE_CHECKING:
    from annstore.types import GroupLike

__all__ = ["TileDBSparseSource"]

_FORMATS: dict[str, Literal["csr", "csc"]] = {
    "csr_matrix": "csr", "csc_matrix": "csc", "csr": "csr", "csc": "csc",
}


class TileDBSparseSource:
    """:class:`~annstore.types.BackedSparseSource` over the arrays of a TileDB CSR/CSC group.

    :meth:`read_nnz_ranges` sends all ranges of ``data`` (and of ``indices``) to TileDB as
    one multi-range query, so a selection of many rows costs two queries, not two per row.
    """

    indexing = IndexSupport.POINTS

    def __init__(self, group: GroupLike, fmt: Literal["csr", "csc"], shape: tuple[int, int]) -> None:
        self._group = group
        self.format = fmt
        self.shape = shape
        data, indices, indptr = (group[k] for k in ("data", "indices", "indptr"))
        if not all(isinstance(a, TileDBArray) for a in (data, indices, indptr)):
            msg = f"Expected data/indices/indptr arrays in sparse group {group.name!r}; found groups."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        self._data: TileDBArray = data  # type: ignore[assignment]
        self._indices: TileDBArray = indices  # type: ignore[assignment]
        self._indptr_arr: TileDBArray = indptr  # type: ignore[assignment]
        n_major = shape[0] if fmt == "csr" else shape[1]
        if self._indptr_arr.shape != (n_major + 1,) or self._data.shape != self._indices.shape:
            msg = (
                f"Expected indptr of length {n_major + 1} and data/indices of equal length in the "
                f"{fmt} matrix {group.name!r} of shape {shape}; got indptr {self._indptr_arr.shape}, "
                f"data {self._data.shape}, indices {self._indices.shape} instead."
            )
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        self.dtype = self._data.dtype
        self._indptr: np.ndarray | None = None

    @classmethod
    def from_group(cls, group: GroupLike) -> TileDBSparseSource | None:
        """A source for a ``csr_matrix``/``csc_matrix`` group, or ``None`` for anything else."""
        attrs = group.attrs
        enc = attrs.get("encoding-type", attrs.get("h5sparse_format"))
        fmt = _FORMATS.get(str(enc)) if enc is not None else None
        if fmt is None or not all(k in group for k in ("data", "indices", "indptr")):
            return None
        shape = attrs.get("shape", attrs.get("h5sparse_shape"))
        if shape is None or len(shape) != 2:
            msg = f"Expected a 2-d 'shape' attribute on sparse group {group.name!r}; got {shape!r}."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        return cls(group, fmt, (int(shape[0]), int(shape[1])))

    def indptr(self) -> np.ndarray:
        if self._indptr is None:
            self._indptr = np.asarray(self._indptr_arr[...])
        return self._indptr

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = int(start), int(stop)
        if stop <= start:
            return np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype)
        return self._data[start:stop], self._indices[start:stop]

    def read_nnz_ranges(self, starts: Any, stops: Any) -> tuple[np.ndarray, np.ndarray]:
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.asarray(stops, dtype=np.int64)
        keep = stops > starts
        starts, stops = starts[keep], stops[keep]
        if starts.size == 0:
            return np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype)
        if starts.size == 1:
            return self.read_nnz(int(starts[0]), int(stops[0]))
        return self._data.read_ranges(starts, stops), self._indices.read_ranges(starts, stops)

    def __repr__(self) -> str:
        return f"<TileDBSparseSource {self.format} {self.shape} {self._group.name!r}>"

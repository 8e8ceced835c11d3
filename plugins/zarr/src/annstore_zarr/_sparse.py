"""Backed sparse access over zarr: batched reads of ``data``/``indices`` ranges."""

from __future__ import annotations

from typing import Any

import numpy as np
from annstore.backed import SparseSourceBase, merge_touching
from annstore.errors import InvalidFileError
from annstore.types import IndexSupport

__all__ = ["ZarrSparseSource"]

#: Above this many separate ranges, one orthogonal (point) selection decodes each chunk once.
MANY_RANGES = 32


class ZarrSparseSource(SparseSourceBase):
    """:class:`~annstore.types.BackedSparseSource` over the arrays of a zarr CSR/CSC group."""

    indexing = IndexSupport.POINTS

    def __init__(self, group: Any) -> None:
        super().__init__(group)
        self._opened: dict[str, Any] = {}
        self._indptr: np.ndarray | None = None

    # The arrays are opened on first use and kept: opening a zarr array reads its metadata,
    # and anndata's sparse datasets read nothing until a selection (and metadata once).
    def _array(self, name: str) -> Any:
        arr = self._opened.get(name)
        if arr is None:
            try:
                arr = self._opened[name] = self._group[name]
            except KeyError:
                msg = (
                    f"Expected data/indices/indptr arrays in sparse group {self._group.name!r}; "
                    f"{name!r} is missing."
                )
                raise InvalidFileError(
                    msg, filename=self._group.filename, path=self._group.name
                ) from None
            check = getattr(arr, "_check_chunks", None)  # decompression bombs (see _chunks.py)
            if check is not None:
                check()
        return arr

    @property
    def _data(self) -> Any:
        return self._array("data")

    @property
    def _indices(self) -> Any:
        return self._array("indices")

    @property
    def _indptr_arr(self) -> Any:
        return self._array("indptr")

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def indptr_range(self, start: int, stop: int) -> np.ndarray:
        """``indptr[start:stop]`` (without caching the whole of it)."""
        return np.asarray(self._indptr_arr[start:stop])

    def indptr(self) -> np.ndarray:
        if self._indptr is None:
            ip = np.asarray(self._indptr_arr[...])
            self._check_arrays(ip, self._data, self._indices)
            self._indptr = ip
        return self._indptr

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return self._data[start:stop], self._indices[start:stop]

    def read_nnz_ranges(self, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m_starts, m_stops = merge_touching(starts, stops)  # consecutive rows: one read
        if m_starts.size == 0:
            return (np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype))
        if m_starts.size == 1:
            return self.read_nnz(int(m_starts[0]), int(m_stops[0]))
        if m_starts.size > MANY_RANGES:
            lens = m_stops - m_starts
            idx = np.repeat(m_stops - np.cumsum(lens), lens) + np.arange(int(lens.sum()))
            if np.all(np.diff(m_starts) > 0):
                return self._data[idx], self._indices[idx]
            order = np.argsort(idx, kind="stable")
            inv = np.empty_like(order)
            inv[order] = np.arange(order.size)
            return self._data[idx[order]][inv], self._indices[idx[order]][inv]
        return _gather(self._data.native, m_starts, m_stops), _gather(
            self._indices.native, m_starts, m_stops
        )


def _gather(arr: Any, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Read several slices of a zarr array concurrently, concatenated in order."""
    try:
        from zarr.core.sync import sync

        aarr = arr._async_array  # noqa: SLF001 - zarr's own concurrent read path
    except (ImportError, AttributeError):  # pragma: no cover - other zarr versions
        return np.concatenate([arr[int(a):int(b)] for a, b in zip(starts, stops, strict=True)])
    import asyncio

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(aarr.getitem(slice(int(a), int(b))) for a, b in zip(starts, stops, strict=True))
        )

    parts = sync(run())
    return np.concatenate([np.asarray(p) for p in parts])

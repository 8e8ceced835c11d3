"""Backed sparse source over HDF5: raw ``indptr``/``data``/``indices`` reads with ``read_direct``."""

from __future__ import annotations

from typing import Any, Literal

import h5py
import numpy as np
from annstore.errors import InvalidFileError
from annstore.types import IndexSupport

from ._store import H5Group

__all__ = ["H5SparseSource", "sparse_source"]

_FORMATS = {"csr_matrix": "csr", "csc_matrix": "csc", "csr": "csr", "csc": "csc"}


def _read_range(ds: h5py.Dataset, out: np.ndarray[Any, Any], start: int, stop: int, at: int) -> None:
    if stop > start:
        ds.read_direct(out, source_sel=np.s_[start:stop], dest_sel=np.s_[at : at + stop - start])


class H5SparseSource:
    """Raw reads of a stored CSR/CSC matrix; core's backed module owns the selection logic."""

    indexing = IndexSupport.BASIC

    def __init__(self, group: H5Group) -> None:
        g = group.h5
        where = group.name
        attrs = group.attrs
        enc = attrs.get("encoding-type") or attrs.get("h5sparse_format")
        fmt = _FORMATS.get(str(enc)) if enc is not None else None
        if fmt is None:
            msg = f"Expected a csr_matrix/csc_matrix group at {where!r}; got encoding {enc!r} instead."
            raise InvalidFileError(msg, filename=group.filename, path=where)
        missing = [k for k in ("data", "indices", "indptr") if k not in g]
        shape = attrs.get("shape", attrs.get("h5sparse_shape"))
        if missing or shape is None:
            what = f"arrays {missing}" if missing else "the 'shape' attribute"
            msg = f"Expected a sparse matrix group with data/indices/indptr and a shape at {where!r}; {what} missing."
            raise InvalidFileError(msg, filename=group.filename, path=where)
        self.format: Literal["csr", "csc"] = fmt  # type: ignore[assignment]
        self.shape = (int(shape[0]), int(shape[1]))
        self._data: h5py.Dataset = g["data"]
        self._indices: h5py.Dataset = g["indices"]
        self._indptr: h5py.Dataset = g["indptr"]
        self.dtype = self._data.dtype
        self.name = where
        self.filename = group.filename
        n_major = self.shape[0] if fmt == "csr" else self.shape[1]
        if self._indptr.shape != (n_major + 1,) or self._data.shape != self._indices.shape:
            msg = (
                f"Expected indptr of length {n_major + 1} and data/indices of equal length in the "
                f"{fmt} matrix {where!r} of shape {self.shape}; got indptr {self._indptr.shape}, "
                f"data {self._data.shape}, indices {self._indices.shape} instead."
            )
            raise InvalidFileError(msg, filename=group.filename, path=where)
        self._indptr_cache: np.ndarray[Any, Any] | None = None

    def indptr(self) -> np.ndarray[Any, Any]:
        if self._indptr_cache is None:
            out = np.empty(self._indptr.shape, dtype=self._indptr.dtype)
            if out.size:
                self._indptr.read_direct(out)
            self._indptr_cache = out
        return self._indptr_cache

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        start, stop = int(start), int(stop)
        n = max(stop - start, 0)
        data = np.empty(n, dtype=self._data.dtype)
        indices = np.empty(n, dtype=self._indices.dtype)
        _read_range(self._data, data, start, stop, 0)
        _read_range(self._indices, indices, start, stop, 0)
        return data, indices

    def read_nnz_ranges(
        self, starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.asarray(stops, dtype=np.int64)
        lengths = np.maximum(stops - starts, 0)
        total = int(lengths.sum())
        data = np.empty(total, dtype=self._data.dtype)
        indices = np.empty(total, dtype=self._indices.dtype)
        # Merge touching ranges so consecutive rows become one HDF5 read.
        at = 0
        i, n = 0, len(starts)
        while i < n:
            s, e = int(starts[i]), int(stops[i])
            j = i + 1
            while j < n and int(starts[j]) == e:
                e = max(e, int(stops[j]))
                j += 1
            _read_range(self._data, data, s, e, at)
            _read_range(self._indices, indices, s, e, at)
            at += max(e - s, 0)
            i = j
        return data, indices

    def __repr__(self) -> str:
        return f"<H5SparseSource {self.format} {self.shape} {self.name!r} in {self.filename!r}>"


def sparse_source(group: Any) -> H5SparseSource | None:
    """The backed sparse source of an adapted HDF5 sparse group, or ``None`` if not HDF5."""
    if not isinstance(group, H5Group):
        return None
    return H5SparseSource(group)

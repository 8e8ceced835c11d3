"""Backed sparse source over HDF5: raw ``indptr``/``data``/``indices`` reads with ``read_direct``."""

from __future__ import annotations

from typing import Any, Literal

import h5py
import numpy as np
from h5py import h5d, h5p, h5s, h5t

from annstore.errors import InvalidFileError
from annstore.types import IndexSupport

from ._store import H5Group

__all__ = ["H5SparseSource", "sparse_source"]

_FORMATS = {"csr_matrix": "csr", "csc_matrix": "csc", "csr": "csr", "csc": "csc"}


def _read_range(ds: h5py.Dataset, out: np.ndarray[Any, Any], start: int, stop: int, at: int) -> None:
    if stop > start:
        ds.read_direct(out, source_sel=np.s_[start:stop], dest_sel=np.s_[at : at + stop - start])


def _merge_touching(
    starts: Any, stops: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Drop empty ranges and merge each range into its predecessor when they touch."""
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    stops = np.asarray(stops, dtype=np.int64).reshape(-1)
    keep = stops > starts
    starts, stops = starts[keep], stops[keep]
    if len(starts) > 1:
        # A range starts a new run unless it begins exactly where the previous one ended.
        new_run = np.ones(len(starts), dtype=bool)
        new_run[1:] = starts[1:] != stops[:-1]
        firsts = np.flatnonzero(new_run)
        lasts = np.append(firsts[1:] - 1, len(starts) - 1)
        starts, stops = starts[firsts], stops[lasts]
    return starts, stops


#: Ranges per union-of-hyperslabs read. HDF5's cost of OR-ing a hyperslab into a selection
#: grows with the selection's size (building one of n ranges is quadratic: ~3 s for 8,000
#: rows), so the ranges go in groups of this many, one HDF5 read per group.
_UNION_BATCH = 128


def _read_union(
    ds: h5py.Dataset, out: np.ndarray[Any, Any], starts: np.ndarray[Any, Any],
    stops: np.ndarray[Any, Any],
) -> None:
    """Read the sorted, disjoint ranges ``[starts[i], stops[i])`` of ``ds`` into ``out``."""
    mtype = h5t.py_create(out.dtype)
    at = 0
    for i in range(0, len(starts), _UNION_BATCH):
        group_starts = starts[i : i + _UNION_BATCH].tolist()
        group_stops = stops[i : i + _UNION_BATCH].tolist()
        space = ds.id.get_space()
        space.select_none()
        n = 0
        for s, e in zip(group_starts, group_stops, strict=True):
            space.select_hyperslab((s,), (e - s,), op=h5s.SELECT_OR)
            n += e - s
        ds.id.read(h5s.create_simple((n,)), space, out[at : at + n], mtype=mtype)
        at += n


def _open_for_pieces(g: h5py.Group, name: str) -> h5py.Dataset:
    """Open ``g[name]`` without a chunk cache when its chunks are unfiltered.

    Backed reads select small pieces (rows) scattered over many chunks. With a chunk cache,
    HDF5 reads each touched chunk whole into the cache and copies the piece out; without
    one it reads just the selected bytes of an unfiltered chunk straight into the output,
    about twice as fast for random rows. Filtered (compressed) chunks must be decoded whole,
    so they keep the cache. HDF5 shares one cache between handles of a dataset that is
    already open, in which case the setting has no effect (reads stay correct either way).
    """
    try:
        dapl = h5p.create(h5p.DATASET_ACCESS)
        nslots, _nbytes, w0 = dapl.get_chunk_cache()
        dapl.set_chunk_cache(nslots, 0, w0)
        ds = h5py.Dataset(h5d.open(g.id, name.encode("utf-8"), dapl=dapl))
        if ds.chunks is not None and not ds.id.get_create_plist().get_nfilters():
            return ds
        del ds  # filtered or contiguous: close this handle before opening the usual one
    except Exception:  # noqa: BLE001 - an optimisation only: fall back to the usual handle
        pass
    return g[name]


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
        self._data: h5py.Dataset = _open_for_pieces(g, "data")
        self._indices: h5py.Dataset = _open_for_pieces(g, "indices")
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
        starts, stops = _merge_touching(starts, stops)
        total = int((stops - starts).sum())
        data = np.empty(total, dtype=self._data.dtype)
        indices = np.empty(total, dtype=self._indices.dtype)
        if total == 0:
            return data, indices
        if len(starts) == 1:
            s, e = int(starts[0]), int(stops[0])
            _read_range(self._data, data, s, e, 0)
            _read_range(self._indices, indices, s, e, 0)
            return data, indices
        # Several ranges: one HDF5 read per array over the union of their hyperslabs. HDF5
        # delivers a union selection in increasing offset order, so the ranges must be sorted
        # and disjoint; core passes them so, anything else takes the range-by-range path.
        if bool(np.all(starts[1:] >= stops[:-1])):
            _read_union(self._data, data, starts, stops)
            _read_union(self._indices, indices, starts, stops)
            return data, indices
        at = 0
        for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
            _read_range(self._data, data, s, e, at)
            _read_range(self._indices, indices, s, e, at)
            at += e - s
        return data, indices

    def __repr__(self) -> str:
        return f"<H5SparseSource {self.format} {self.shape} {self.name!r} in {self.filename!r}>"


def sparse_source(group: Any) -> H5SparseSource | None:
    """The backed sparse source of an adapted HDF5 sparse group, or ``None`` if not HDF5."""
    if not isinstance(group, H5Group):
        return None
    return H5SparseSource(group)

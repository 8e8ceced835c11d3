"""Backed sparse source over HDF5: raw ``indptr``/``data``/``indices`` reads with ``read_direct``."""

from __future__ import annotations

import mmap
import os
import weakref
from typing import Any

import h5py
import numpy as np
from h5py import h5d, h5p, h5s, h5t

from annstore.backed import SparseSourceBase, merge_touching

from ._store import H5Group

__all__ = ["H5SparseSource", "sparse_source"]


def _read_range(ds: h5py.Dataset, out: np.ndarray[Any, Any], start: int, stop: int, at: int) -> None:
    if stop > start:
        ds.read_direct(out, source_sel=np.s_[start:stop], dest_sel=np.s_[at : at + stop - start])


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


# ---------------------------------------------------------------- memory-mapped fast path
#
# Reading scattered ranges through HDF5 costs a selection build and a per-range dispatch in
# the library; for data stored as raw bytes (no filters, native byte order, plain numeric
# type) the bytes of every allocated chunk sit at a fixed offset in the file, so the ranges
# can be copied straight out of a read-only memory map of that file. Everything the copy
# relies on is checked once per dataset (the layout) and, per read, that the requested
# chunks are allocated and still inside the file; anything else reads through h5py.

#: Layout of an unfiltered 1-D dataset: element count per chunk, and the file byte offset
#: of each chunk in order (``-1`` for a chunk that is not allocated).
_Layout = tuple[int, np.ndarray[Any, Any]]

_FAST_KINDS = frozenset("biuf")


class _FileMap:
    """A read-only memory map of the file HDF5 has open as ``h5_fd`` (closed with the source).

    The map is made from a descriptor of its own: a duplicate of HDF5's would share its open
    file description, and with it HDF5's ``flock``, keeping the file locked after h5py closes
    it. The new descriptor must name the same file (device and inode) as HDF5's.
    """

    def __init__(self, filename: str, h5_fd: int) -> None:
        fd = os.open(filename, os.O_RDONLY)
        try:
            st, h5_st = os.fstat(fd), os.fstat(h5_fd)
            if (st.st_dev, st.st_ino) != (h5_st.st_dev, h5_st.st_ino):
                msg = f"Expected {filename!r} to be the file HDF5 has open; it was replaced."
                raise OSError(msg)
            self.size = st.st_size
            self._mm: mmap.mmap | None = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)  # mmap holds its own duplicate until closed
        self._h5_fd = h5_fd
        self.bytes: np.ndarray[Any, Any] | None = np.frombuffer(self._mm, dtype=np.uint8)

    def current_size(self) -> int:
        """The file's size now (a file shrunk below the mapping must not be read through it)."""
        return os.fstat(self._h5_fd).st_size

    def close(self) -> None:
        self.bytes = None
        mm, self._mm = self._mm, None
        if mm is not None:
            try:
                mm.close()
            except Exception:
                pass


def _layout_of(ds: h5py.Dataset, size: int) -> _Layout | None:
    """The chunk layout of ``ds`` when its bytes may be read straight from the file, else ``None``."""
    if ds.ndim != 1 or ds.dtype.kind not in _FAST_KINDS or not ds.dtype.isnative:
        return None
    # The stored type must be exactly the in-memory one (no conversion done by HDF5).
    if ds.id.get_type() != h5t.py_create(ds.dtype):
        return None
    dcpl = ds.id.get_create_plist()
    if dcpl.get_nfilters():
        return None
    itemsize = ds.dtype.itemsize
    (n,) = ds.shape
    layout = dcpl.get_layout()
    if layout == h5d.CONTIGUOUS:
        off = ds.id.get_offset()
        if off is None or off < 0 or off + n * itemsize > size:
            return None  # unallocated (reads as fill value) or beyond the end of the file
        return max(n, 1), np.array([off], dtype=np.int64)
    if layout != h5d.CHUNKED or ds.chunks is None:
        return None  # compact, virtual: leave to HDF5
    (chunk,) = ds.chunks
    n_chunks = -(-n // chunk)
    offsets = np.full(n_chunks, -1, dtype=np.int64)
    chunk_bytes = chunk * itemsize
    bad: list[bool] = []

    def visit(info: Any) -> None:
        (start,) = info.chunk_offset
        k, rem = divmod(int(start), chunk)
        if (
            rem or not 0 <= k < n_chunks or info.filter_mask or info.size != chunk_bytes
            or info.byte_offset is None or not 0 <= info.byte_offset <= size - chunk_bytes
        ):
            bad.append(True)
            return
        offsets[k] = info.byte_offset

    if n_chunks:
        if hasattr(ds.id, "chunk_iter"):
            ds.id.chunk_iter(visit)
        else:
            for i in range(ds.id.get_num_chunks()):
                visit(ds.id.get_chunk_info(i))
    return None if bad else (chunk, offsets)


def _gather(
    fmap: _FileMap, layout: _Layout, dtype: np.dtype[Any], starts: np.ndarray[Any, Any],
    stops: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any] | None:
    """Concatenate ``[starts[i], stops[i])`` from the mapped file; ``None`` if not safely possible."""
    chunk, offsets = layout
    itemsize = dtype.itemsize
    first = starts // chunk
    last = (stops - 1) // chunk
    n_pieces = last - first + 1
    if len(offsets) == 1:
        chunk_of = first
        piece_lo, piece_hi = starts, stops
    else:
        # One piece per (range, chunk it touches).
        total = int(n_pieces.sum())
        owner = np.repeat(np.arange(len(starts)), n_pieces)
        begin = np.cumsum(n_pieces) - n_pieces
        chunk_of = first[owner] + (np.arange(total, dtype=np.int64) - begin[owner])
        piece_lo = np.maximum(starts[owner], chunk_of * chunk)
        piece_hi = np.minimum(stops[owner], (chunk_of + 1) * chunk)
    where = offsets[chunk_of]
    if bool((where < 0).any()):
        return None  # a chunk is not allocated: HDF5 supplies the fill value
    b0 = where + (piece_lo - chunk_of * chunk) * itemsize
    b1 = b0 + (piece_hi - piece_lo) * itemsize
    b0, b1 = merge_touching(b0, b1)  # pieces that continue each other in the file: one copy
    buf = fmap.bytes
    if buf is None or int(b1.max()) > min(len(buf), fmap.current_size()):
        return None
    out = np.concatenate([buf[lo:hi] for lo, hi in zip(b0.tolist(), b1.tolist(), strict=True)])
    return out.view(dtype)


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
    except Exception:
        pass
    return g[name]


class H5SparseSource(SparseSourceBase):
    """Raw reads of a stored CSR/CSC matrix; core's backed module owns the selection logic."""

    def __init__(self, group: H5Group) -> None:
        super().__init__(group)
        g = group.h5
        # the adapter refuses links and storage leaving the file (see _confine)
        data, indices, indptr = self._arrays()
        self._check_arrays(indptr.h5, data.h5, indices.h5)
        self._data: h5py.Dataset = _open_for_pieces(g, "data")
        self._indices: h5py.Dataset = _open_for_pieces(g, "indices")
        self._indptr: h5py.Dataset = g["indptr"]
        from ._chunks import check_chunk_sizes

        for key, ds in (("data", self._data), ("indices", self._indices), ("indptr", self._indptr)):
            check_chunk_sizes(ds, filename=group.filename, path=f"{group.name.rstrip('/')}/{key}")
        self.dtype = self._data.dtype
        self.name = group.name
        self.filename = group.filename
        self._indptr_cache: np.ndarray[Any, Any] | None = None
        self._map: _FileMap | None = None
        self._layouts: dict[str, _Layout | None] | None = None
        self._map_key: Any = None
        #: Calls of :meth:`read_nnz_ranges` served from the memory map / through h5py.
        self._mapped_reads = 0
        self._h5py_reads = 0

    # -- memory-mapped reads ---------------------------------------------------------------

    def _close_map(self) -> None:
        if self._map is not None:
            self._map.close()
        self._map = None
        self._layouts = None
        self._map_key = None

    def _mapped_layouts(self) -> tuple[_FileMap, _Layout, _Layout] | None:
        """The file map and both layouts, when the fast path applies to this matrix."""
        data, indices = self._data, self._indices
        if not (data.id.valid and indices.id.valid):
            self._close_map()  # the h5py file was closed: so is the map
            return None
        if self._layouts is None:
            try:
                f = data.file
                if f.mode != "r" or f.driver != "sec2":
                    self._layouts = {}
                    return None
                fd = int(f.id.get_vfd_handle())
                st = os.fstat(fd)
                key = (f.id.id, fd, st.st_dev, st.st_ino)
                fmap = _FileMap(f.filename, fd)
                self._layouts = {
                    "data": _layout_of(data, fmap.size),
                    "indices": _layout_of(indices, fmap.size),
                }
                if None in self._layouts.values():
                    fmap.close()
                    return None
                self._map, self._map_key = fmap, key
                weakref.finalize(self, fmap.close)
            except Exception:
                self._close_map()
                self._layouts = {}
                return None
        if self._map is None:
            return None
        f = data.file
        try:
            fd = int(f.id.get_vfd_handle())
            st = os.fstat(fd)
            key = (f.id.id, fd, st.st_dev, st.st_ino)
        except Exception:
            key = None
        if key != self._map_key:
            self._close_map()  # reopened underneath us: rebuild on the next call
            return None
        return self._map, self._layouts["data"], self._layouts["indices"]  # type: ignore[return-value]

    def _read_mapped(
        self, starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        got = self._mapped_layouts()
        if got is None:
            return None
        if int(starts.min()) < 0 or int(stops.max()) > self._data.shape[0]:
            return None  # out of bounds: let h5py report it
        fmap, data_layout, indices_layout = got
        data = _gather(fmap, data_layout, self._data.dtype, starts, stops)
        if data is None:
            return None
        indices = _gather(fmap, indices_layout, self._indices.dtype, starts, stops)
        if indices is None:
            return None
        return data, indices

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
        starts, stops = merge_touching(starts, stops)
        if len(starts):
            # Unfiltered data in a read-only local file: copy the ranges out of a memory map.
            mapped = self._read_mapped(starts, stops)
            if mapped is not None:
                self._mapped_reads += 1
                return mapped
        total = int((stops - starts).sum())
        data = np.empty(total, dtype=self._data.dtype)
        indices = np.empty(total, dtype=self._indices.dtype)
        if total == 0:
            return data, indices
        self._h5py_reads += 1
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


def sparse_source(group: Any) -> H5SparseSource | None:
    """The backed sparse source of an adapted HDF5 sparse group, or ``None`` if not HDF5."""
    if not isinstance(group, H5Group):
        return None
    return H5SparseSource(group)

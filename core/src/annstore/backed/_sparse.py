"""CSR/CSC datasets kept on disk: the one implementation of backed sparse selection and append.

A selection is split into a *major* part (rows of CSR, columns of CSC) and a *minor* part.
The major part decides which ``indptr`` ranges of ``data``/``indices`` are read: positions are
sorted and de-duplicated, empty ranges dropped, touching or nearby ranges merged, and one raw
read per merged range is asked of the :class:`~annstore.types.BackedSparseSource`. The minor
part is applied in memory, chunk by chunk along the major axis, so a column selection of a CSR
matrix never holds more than one bounded chunk of the unselected matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import sparse

from .._limits import check_allocation, check_indices, check_indptr
from ..errors import InvalidFileError, ShapeMismatchError

if TYPE_CHECKING:
    from ..types import BackedSparseSource, GroupLike

__all__ = [
    "BaseCompressedSparseDataset",
    "CSCDataset",
    "CSRDataset",
    "check_structure",
    "check_values",
    "checked_indptr",
    "sparse_dataset",
]

#: Ranges of ``data``/``indices`` closer than this many elements are read as one range (one
#: raw read costs about as much as copying ~16k extra values from the page cache) ...
MERGE_GAP = 16384
#: ... as long as the merged reads stay below this multiple of the values actually wanted.
MAX_OVERREAD = 2.0
#: Major-axis chunks hold at most this many stored values while a minor selection is applied.
CHUNK_NNZ = 1 << 22

_I32_MAX = np.iinfo(np.int32).max
_BACKENDS = {"h5ad": "hdf5", "zarr": "zarr"}


def backend_name(fmt: str) -> str:
    """anndata's name for the storage backend of format ``fmt`` (``.backend`` of backed arrays)."""
    return _BACKENDS.get(fmt, fmt)


# ---------------------------------------------------------------------------- index parsing


def _split_2d(index: Any) -> tuple[Any, Any]:
    if isinstance(index, tuple):
        items = [i for i in index if i is not Ellipsis]
        if len(items) > 2 or (len(items) < len(index) - 1):
            msg = f"Expected an index of at most 2 dimensions; got {index!r}."
            raise IndexError(msg)
        if len(items) == 2:
            return items[0], items[1]
        if len(items) == 1:
            return (items[0], slice(None)) if index[0] is not Ellipsis else (slice(None), items[0])
        return slice(None), slice(None)
    if index is Ellipsis:
        return slice(None), slice(None)
    return index, slice(None)


def _normalize_axis(idx: Any, n: int, axis: int) -> tuple[Literal["int", "array"], Any]:
    """Return ``("int", i)`` for a scalar or ``("array", positions)``, positions in ``[0, n)``."""
    if isinstance(idx, bool | np.bool_):
        msg = f"Expected an int, slice, mask or integer array on axis {axis}; got the scalar {idx!r}."
        raise IndexError(msg)
    if isinstance(idx, int | np.integer):
        i = int(idx)
        if not -n <= i < n:
            msg = f"Index {i} is out of bounds for axis {axis} with size {n}."
            raise IndexError(msg)
        return "int", i % n if n else i
    if isinstance(idx, slice):
        return "array", np.arange(*idx.indices(n), dtype=np.int64)
    if sparse.issparse(idx):
        idx = idx.toarray()
    if hasattr(idx, "to_numpy"):  # pandas Series / Index / extension arrays
        idx = idx.to_numpy()
    if not isinstance(idx, np.ndarray):
        if not isinstance(idx, Sequence | range) and not hasattr(idx, "__array__"):
            msg = f"Unsupported index {idx!r} of type {type(idx).__name__} on axis {axis}."
            raise IndexError(msg)
        idx = np.asarray(idx)
        if idx.size == 0:
            idx = idx.astype(np.int64)
    if idx.ndim != 1:
        if idx.ndim == 2 and 1 in idx.shape:
            idx = idx.ravel()
        else:
            msg = f"Expected a 1-d indexer on axis {axis}; got an array of shape {idx.shape}."
            raise IndexError(msg)
    if idx.dtype.kind == "b":
        if idx.shape[0] != n:
            msg = f"Boolean index of length {idx.shape[0]} does not match axis {axis} of size {n}."
            raise IndexError(msg)
        return "array", np.flatnonzero(idx).astype(np.int64)
    if idx.dtype.kind not in "iu":
        msg = f"Expected integer positions or a boolean mask on axis {axis}; got dtype {idx.dtype}."
        raise IndexError(msg)
    pos = idx.astype(np.int64, copy=True)
    if pos.size:
        lo, hi = int(pos.min()), int(pos.max())
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            msg = f"Index {bad} is out of bounds for axis {axis} with size {n}."
            raise IndexError(msg)
        if lo < 0:
            pos[pos < 0] += n
    return "array", pos


# ------------------------------------------------------------------------------ range reads


def _merge_and_read(
    source: BackedSparseSource, starts: np.ndarray, stops: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Read the ``[starts, stops)`` ranges (sorted, non-overlapping) concatenated in order."""
    keep = stops > starts
    s, e = starts[keep], stops[keep]
    if s.size == 0:
        data, indices = source.read_nnz(0, 0)
        return data, indices
    gaps = s[1:] - e[:-1]
    lens = e - s
    total = int(lens.sum())
    brk = np.flatnonzero(gaps > MERGE_GAP) + 1
    if total + int(gaps[gaps <= MERGE_GAP].sum()) > MAX_OVERREAD * total:
        brk = np.flatnonzero(gaps > 0) + 1  # merge touching ranges only
    first = np.r_[0, brk]
    last = np.r_[brk - 1, s.size - 1]
    ms, me = s[first], e[last]
    if ms.size == 1:
        data, indices = source.read_nnz(int(ms[0]), int(me[0]))
    else:
        data, indices = source.read_nnz_ranges(ms, me)
    if total == int((me - ms).sum()):
        return data, indices
    # Some gaps were read too: keep only the wanted parts.
    counts = np.diff(np.r_[first, s.size])
    group = np.repeat(np.arange(ms.size), counts)
    buf_off = np.r_[0, np.cumsum(me - ms)[:-1]]
    off = buf_off[group] + (s - ms[group])
    sel = np.repeat(off - (np.cumsum(lens) - lens), lens) + np.arange(total)
    return data[sel], indices[sel]


# ---------------------------------------------------------------------------------- classes


class BaseCompressedSparseDataset:
    """A CSR or CSC matrix stored in a file, read on selection.

    Indexing (``ds[rows, cols]``) accepts ints, slices of any step, boolean masks, integer
    arrays or lists (unsorted, repeated, negative) on either axis and returns a scipy sparse
    matrix in the dataset's format (``ds[i, j]`` returns a scalar). Only the stored ranges a
    selection needs are read.

    Parameters
    ----------
    group
        The stored group of the matrix (``data``, ``indices``, ``indptr`` and the ``shape``
        and encoding attributes), as an annstore group or the storage library's object.
    should_cache_indptr
        Keep ``indptr`` in memory after the first read (default), so selections read it once.

    Raises
    ------
    InvalidFileError
        The group is not a CSR/CSC matrix, or its arrays disagree with its shape.
    """

    format: Literal["csr", "csc"]

    def __init__(self, group: Any, *, should_cache_indptr: bool = True) -> None:
        from ..io._dispatch import as_node
        from ._source import get_sparse_source, sparse_format_of

        node = as_node(group)
        if not hasattr(node, "create_group") or sparse_format_of(node) is None:  # type: ignore[arg-type]
            enc = node.attrs.get("encoding-type")
            msg = (
                f"Expected a stored csr_matrix/csc_matrix group; got {node.name!r} with encoding "
                f"{enc!r} in {getattr(node, 'filename', None)!r} instead."
            )
            raise InvalidFileError(msg, filename=getattr(node, "filename", None), path=node.name)
        self._native = group
        self._node: GroupLike = node  # type: ignore[assignment]
        self._should_cache_indptr = should_cache_indptr
        self._indptr_node: Any = None
        self._get_source = get_sparse_source
        # No array is opened here (anndata's sparse datasets read no metadata until a
        # selection): the source checks the arrays' shapes against the matrix when it opens
        # them, and every read checks indptr and indices before scipy sees them.
        self._source: BackedSparseSource = get_sparse_source(self._node)
        #: Whether the whole cached ``indptr`` was checked (once, when first loaded).
        self._indptr_checked = False
        self._vbytes: int | None = None
        if self._source.format != self.format:
            msg = f"Expected a {self.format} matrix at {node.name!r}; found {self._source.format}."
            raise InvalidFileError(msg, filename=node.filename, path=node.name)

    # -- properties ------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the stored matrix."""
        return tuple(self._source.shape)  # type: ignore[return-value]

    @property
    def dtype(self) -> np.dtype[Any]:
        """Dtype of the stored values."""
        return np.dtype(self._source.dtype)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def backend(self) -> str:
        """Storage backend: ``"hdf5"``, ``"zarr"``, or the store's format name."""
        return backend_name(self._node.format)

    @property
    def group(self) -> Any:
        """The group holding ``data``/``indices``/``indptr`` (as it was passed in)."""
        return self._native

    @property
    def file(self) -> Any:
        return getattr(self._native, "file", None)

    @property
    def nnz(self) -> int:
        n = getattr(self._source, "nnz", None)  # the source's open array: no metadata read
        return int(n) if n is not None else int(self._node["data"].shape[0])  # type: ignore[union-attr]

    def __repr__(self) -> str:
        where = self._node.name
        fn = getattr(self._node, "filename", None)
        return (
            f"{type(self).__name__}: backend {self.backend}, shape {self.shape}, "
            f"data_dtype {self.dtype}, element {where!r}" + (f" in {str(fn)!r}" if fn else "")
        )

    # -- reading ---------------------------------------------------------------------------

    def _major_minor(self) -> tuple[int, int]:
        m, n = self.shape
        return (m, n) if self.format == "csr" else (n, m)

    def _full_indptr(self) -> np.ndarray:
        """The whole ``indptr``, checked (from 0, non-decreasing, to ``nnz``) when first loaded."""
        if not self._indptr_checked:
            ip = checked_indptr(self._source, self._node)
            self._indptr_checked = True
            return ip
        return np.asarray(self._source.indptr())

    def _indptr_bounds(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``indptr[u]`` and ``indptr[u + 1]`` for sorted unique major positions ``u``.

        Without a cached ``indptr`` only the span ``u`` needs is read, and that span is checked
        (bounded memory): non-decreasing, within ``[0, nnz]``, 0 at the first entry and ``nnz``
        at the last."""
        if self._should_cache_indptr:
            ip = self._full_indptr()
            return np.asarray(ip[u], dtype=np.int64), np.asarray(ip[u + 1], dtype=np.int64)
        lo, hi = int(u[0]), int(u[-1]) + 2
        raw = np.asarray(self._indptr_range(lo, hi))
        if raw.shape != (hi - lo,):
            raise _invalid(self._node, f"expected 'indptr[{lo}:{hi}]' of length {hi - lo}; got shape {raw.shape}.")
        n_major = self._major_minor()[0]
        check_indptr(raw, self._node, nnz=self.nnz, first=lo == 0, last=hi == n_major + 1)
        ip = raw.astype(np.int64, copy=False)
        return ip[u - lo], ip[u + 1 - lo]

    def _indptr_range(self, lo: int, hi: int) -> Any:
        """``indptr[lo:hi]``: from the source when it offers ranges, else from the group's
        ``indptr`` array (opened once)."""
        rng = getattr(self._source, "indptr_range", None)
        if rng is not None:
            return rng(lo, hi)
        if self._indptr_node is None:
            self._indptr_node = self._node["indptr"]
        return self._indptr_node[lo:hi]  # type: ignore[index]

    def _read_major(
        self, u: np.ndarray, n_minor: int, bounds: tuple[np.ndarray, np.ndarray] | None = None
    ) -> sparse.csr_matrix:
        """Rows ``u`` (sorted, unique) of the matrix in major-axis (CSR) orientation
        (``bounds``: their ``indptr`` starts and stops, when already read)."""
        if u.size == 0:
            return sparse.csr_matrix((0, n_minor), dtype=self.dtype)
        starts, stops = self._indptr_bounds(u) if bounds is None else bounds
        lengths = stops - starts
        total = int(lengths.sum())
        check_allocation(
            total * self._value_bytes(), self._node,
            f"reading {u.size} {'rows' if self.format == 'csr' else 'columns'} with {total} stored values",
        )
        try:
            data, indices = _merge_and_read(self._source, starts, stops)
        except MemoryError as e:
            raise _oom(self._node) from e
        self._check_values(data, indices, total, n_minor)
        return _csr(data, indices, lengths, (u.size, n_minor))

    def _value_bytes(self) -> int:
        """Bytes one stored value takes in memory (its ``data`` item and its index)."""
        if self._vbytes is None:
            # an index takes at most 8 bytes: an upper bound that opens no array (opening
            # ``indices`` again would read its metadata a second time)
            self._vbytes = self.dtype.itemsize + 8
        return self._vbytes

    def _check_values(self, data: np.ndarray, indices: np.ndarray, total: int, n_minor: int) -> None:
        check_values(self._node, data, indices, total, n_minor)

    def _select_major(self, pos: np.ndarray, minor: np.ndarray | None) -> sparse.csr_matrix:
        n_minor = self._major_minor()[1]
        if pos.size == 0:
            n = n_minor if minor is None else minor.size
            return sparse.csr_matrix((0, n), dtype=self.dtype)
        diffs = np.diff(pos)
        if np.all(diffs > 0):
            u, inv = pos, None
        else:
            u, inv = np.unique(pos, return_inverse=True)
        if minor is None:
            m = self._read_major(u, n_minor)
        else:
            m = self._read_chunked(u, minor, n_minor)
        if inv is not None:
            m = m[inv]
        return m

    def _read_chunked(self, u: np.ndarray, minor: np.ndarray, n_minor: int) -> sparse.csr_matrix:
        """Read rows ``u`` in chunks of bounded size, applying the minor selection to each."""
        starts, stops = self._indptr_bounds(u)
        cum = np.cumsum(stops - starts)
        parts = []
        i = 0
        while i < u.size:
            base = cum[i - 1] if i else 0
            j = int(np.searchsorted(cum, base + CHUNK_NNZ, side="right"))
            j = max(j, i + 1)
            chunk = self._read_major(u[i:j], n_minor, (starts[i:j], stops[i:j]))
            parts.append(chunk[:, minor])
            i = j
        if len(parts) == 1:
            return parts[0].tocsr()
        return sparse.vstack(parts, format="csr")

    def __getitem__(self, index: Any) -> Any:
        row, col = _split_2d(index)
        m, n = self.shape
        rk, rv = _normalize_axis(row, m, 0)
        ck, cv = _normalize_axis(col, n, 1)
        rows = np.array([rv], dtype=np.int64) if rk == "int" else rv
        cols = np.array([cv], dtype=np.int64) if ck == "int" else cv
        major, minor, n_minor = (rows, cols, n) if self.format == "csr" else (cols, rows, m)
        full_minor = minor.size == n_minor and (n_minor == 0 or np.array_equal(minor, np.arange(n_minor)))
        res = self._select_major(major, None if full_minor else minor)
        out = res if self.format == "csr" else res.T.tocsc()
        if rk == "int" and ck == "int":
            return out[0, 0]
        return _as_output(out)

    def to_memory(self) -> sparse.csr_matrix | sparse.csc_matrix:
        """The whole matrix as a scipy sparse matrix (or array, per ``settings.use_sparse_array_on_read``)."""
        n_major, n_minor = self._major_minor()
        ip = self._full_indptr()
        nnz = int(ip[-1]) if ip.size else 0
        check_allocation(
            nnz * self._value_bytes() + ip.nbytes, self._node,
            f"reading the {self.format} matrix of shape {self.shape} with {nnz} stored values",
        )
        try:
            data, indices = self._source.read_nnz(0, nnz)
        except MemoryError as e:
            raise _oom(self._node) from e
        self._check_values(data, indices, nnz, n_minor)
        m = _csr(data, indices, np.diff(ip), (n_major, n_minor))
        return _as_output(m if self.format == "csr" else m.T.tocsc())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.to_memory().toarray()
        return out if dtype is None else out.astype(dtype)

    # -- writing ---------------------------------------------------------------------------

    def append(self, sparse_matrix: Any) -> None:
        """Append ``sparse_matrix`` along the major axis (rows for CSR, columns for CSC).

        The matrix must have the dataset's format and the same size on the other axis; its
        values are cast to the dataset's dtype (same-kind casts only). When the stored
        ``indptr`` is 32-bit and the new number of stored values no longer fits, ``indptr``
        is rewritten as 64-bit (anndata reads either) instead of silently wrapping around.
        The file must be open for writing.

        Parameters
        ----------
        sparse_matrix
            A scipy sparse matrix or array of the dataset's format (CSR for a
            :class:`CSRDataset`, CSC for a :class:`CSCDataset`).

        Raises
        ------
        NotImplementedError
            ``sparse_matrix`` is not sparse.
        ValueError
            Its format differs from the dataset's.
        AppendShapeError
            The other axis has another size (a :class:`~annstore.errors.ShapeMismatchError`
            and, as in anndata, an ``AssertionError``).
        TypeError
            Its values cannot be cast to the dataset's dtype.
        OverflowError
            The number of stored values no longer fits a 32-bit ``indptr`` that cannot be widened.
        CapabilityError
            The storage format does not support appending.
        """
        if isinstance(sparse_matrix, BaseCompressedSparseDataset):
            sparse_matrix = sparse_matrix.to_memory()
        if not sparse.issparse(sparse_matrix):  # anndata's wording
            msg = (
                "Currently, only sparse matrices of equivalent format can be appended to a "
                f"SparseDataset, not {type(sparse_matrix).__name__}."
            )
            raise NotImplementedError(msg)
        if sparse_matrix.format != self.format:
            msg = (
                f"Matrices must have same format. Currently are {self.format!r} and "
                f"{sparse_matrix.format!r} (expected a {self.format} sparse matrix to append to "
                f"{self._node.name!r})."
            )
            raise ValueError(msg)
        from ..io._guess import require_capability

        require_capability(self._node.format, "supports_append", "appending to a sparse dataset")
        ip_dtype = np.dtype(self._node["indptr"].dtype)  # type: ignore[union-attr]
        if ip_dtype == np.int32:  # as anndata: a 32-bit indptr is not widened
            new_nnz = int(self._node["indices"].shape[0]) + int(sparse_matrix.indices.shape[0])  # type: ignore[union-attr]
            if new_nnz >= np.iinfo(np.int32).max:
                msg = (
                    "This array was written with a 32 bit intptr, but is now large enough to "
                    "require 64 bit values. Please recreate the array with a 64 bit indptr."
                )
                raise OverflowError(msg)
        m, n = self.shape
        am, an = sparse_matrix.shape
        if self.format == "csr" and an != n:
            msg = (
                "CSR matrices must have same size of dimension 1 to be appended: expected a "
                f"matrix with {n} columns to append to {self._node.name!r} {self.shape}; got "
                f"shape {(am, an)} instead."
            )
            raise AppendShapeError(msg)
        if self.format == "csc" and am != m:
            msg = (
                "CSC matrices must have same size of dimension 0 to be appended: expected a "
                f"matrix with {m} rows to append to {self._node.name!r} {self.shape}; got shape "
                f"{(am, an)} instead."
            )
            raise AppendShapeError(msg)
        if not np.can_cast(sparse_matrix.dtype, self.dtype, casting="same_kind"):
            msg = f"Cannot append values of dtype {sparse_matrix.dtype} to {self._node.name!r} of dtype {self.dtype}."
            raise TypeError(msg)
        mat = sparse_matrix.copy()
        mat.sum_duplicates()
        g = self._node
        data_a, ind_a, ip_a = g["data"], g["indices"], g["indptr"]
        n_major = self._major_minor()[0]
        add_major = am if self.format == "csr" else an
        old_nnz = int(np.asarray(ip_a[n_major : n_major + 1])[0])  # type: ignore[index]
        new_nnz = old_nnz + int(mat.nnz)
        ind_dt = np.dtype(ind_a.dtype)  # type: ignore[union-attr]
        if mat.nnz and ind_dt.kind in "iu" and int(mat.indices.max()) > np.iinfo(ind_dt).max:
            msg = f"Indices of the appended matrix do not fit the stored {ind_dt} indices of {g.name!r}."
            raise ValueError(msg)
        ip_dt = np.dtype(ip_a.dtype)  # type: ignore[union-attr]
        if ip_dt.kind in "iu" and new_nnz > np.iinfo(ip_dt).max:
            old_ip = np.asarray(ip_a[:], dtype=np.int64)  # type: ignore[index]
            attrs = dict(ip_a.attrs)
            del g["indptr"]
            ip_a = g.create_array("indptr", data=old_ip, maxshape=(None,))
            ip_a.attrs.update(attrs)
        try:
            data_a.resize((new_nnz,))  # type: ignore[union-attr]
            ind_a.resize((new_nnz,))  # type: ignore[union-attr]
            ip_a.resize((n_major + add_major + 1,))  # type: ignore[union-attr]
        except (TypeError, ValueError) as e:
            msg = f"The arrays of {g.name!r} cannot grow; was the matrix written resizable? ({e})"
            raise ValueError(msg) from e
        if mat.nnz:
            data_a[old_nnz:new_nnz] = mat.data.astype(self.dtype, copy=False)  # type: ignore[index]
            ind_a[old_nnz:new_nnz] = mat.indices.astype(ind_dt, copy=False)  # type: ignore[index]
        ip_a[n_major + 1 :] = (mat.indptr[1:].astype(np.int64) + old_nnz).astype(ip_a.dtype)  # type: ignore[index,union-attr]
        new_shape = (m + am, n) if self.format == "csr" else (m, n + an)
        g.attrs["shape"] = list(new_shape)
        if "h5sparse_shape" in g.attrs:
            del g.attrs["h5sparse_shape"]
        self._source = self._get_source(g)
        self._indptr_node = None
        self._indptr_checked = False

    # -- anndata's cached arrays (read by some of anndata's tests and clients) -------------

    @property
    def _indptr(self) -> Any:
        """``indptr`` in memory when cached (``should_cache_indptr``), else the stored array."""
        return self._full_indptr() if self._should_cache_indptr else self._node["indptr"]

    @property
    def _indices(self) -> Any:
        """The stored ``indices`` array."""
        return self._node["indices"]

    @property
    def _data(self) -> Any:
        """The stored ``data`` array."""
        return self._node["data"]


class AppendShapeError(ShapeMismatchError, AssertionError):
    """The matrix to append has the wrong size on the other axis (an ``AssertionError`` in
    anndata, a :class:`~annstore.errors.ShapeMismatchError` in annstore)."""


class CSRDataset(BaseCompressedSparseDataset):
    """A stored CSR matrix (rows are the major axis).

    Parameters
    ----------
    group
        The stored group of the matrix.
    should_cache_indptr
        Keep ``indptr`` in memory after the first read.
    """

    format = "csr"


class CSCDataset(BaseCompressedSparseDataset):
    """A stored CSC matrix (columns are the major axis).

    Parameters
    ----------
    group
        The stored group of the matrix.
    should_cache_indptr
        Keep ``indptr`` in memory after the first read.
    """

    format = "csc"


def _invalid(node: Any, what: str) -> InvalidFileError:
    from ..io.encodings._common import invalid

    return invalid(node, what)


def _oom(node: Any) -> InvalidFileError:
    """Running out of memory on a read whose size was checked against the budget: the stored
    data claims more than it holds (e.g. a compressed chunk declaring a huge size)."""
    return _invalid(
        node,
        "decoding stored values ran out of memory although the selection fits the allocation "
        "budget: the stored data claims more than it holds (a compressed chunk declaring a "
        "huge decompressed size?).",
    )


def checked_indptr(source: BackedSparseSource, node: Any) -> np.ndarray:
    """The whole ``indptr`` of ``source`` (the sparse matrix ``node``), checked: its length is
    the major axis + 1, it starts at 0, never decreases and ends at the length of ``data``."""
    ip = np.asarray(source.indptr())
    m, n = source.shape
    n_major = m if source.format == "csr" else n
    if ip.shape != (n_major + 1,):
        raise _invalid(node, f"expected 'indptr' of length {n_major + 1}; read shape {ip.shape}.")
    nnz = getattr(source, "nnz", None)  # from the array the source opened: no metadata read
    check_indptr(ip, node, nnz=int(node["data"].shape[0]) if nnz is None else int(nnz))
    return ip


def check_values(node: Any, data: Any, indices: Any, total: int, n_minor: int) -> None:
    """Stored values read for a selection of ``node``: ``total`` of them, and every index within
    the minor axis (``n_minor``), checked before scipy sees them."""
    data, indices = np.asarray(data), np.asarray(indices)
    if data.shape != (total,) or indices.shape != (total,):
        raise _invalid(
            node,
            f"expected {total} stored values and indices for the selection; read "
            f"{data.shape} and {indices.shape}.",
        )
    check_indices(indices, node, minor=n_minor)


def check_structure(node: Any) -> None:
    """The shape attribute and the three arrays of a stored sparse matrix agree (metadata only:
    nothing is read), so a matrix declaring ``10**12`` rows over a short ``indptr`` fails when
    it is opened, naming the file and the element."""
    from ..io.encodings._sparse import check_sparse_node, sparse_shape
    from ._source import sparse_format_of

    attr = "shape" if "shape" in node.attrs or "h5sparse_shape" not in node.attrs else "h5sparse_shape"
    check_sparse_node(node, sparse_format_of(node) or "csr", sparse_shape(node, attr))


def _csr(data: np.ndarray, indices: np.ndarray, lengths: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    nnz = int(data.shape[0])
    big = nnz > _I32_MAX or max(shape) > _I32_MAX
    idx_dt = np.dtype(np.int64) if big else np.dtype(np.int32)
    indptr = np.empty(len(lengths) + 1, dtype=idx_dt)
    indptr[0] = 0
    np.cumsum(lengths, out=indptr[1:])
    return sparse.csr_matrix((data, indices.astype(idx_dt, copy=False), indptr), shape=shape, copy=False)


def _as_output(m: Any) -> Any:
    from .._settings import settings

    if settings.use_sparse_array_on_read:
        return sparse.csr_array(m) if m.format == "csr" else sparse.csc_array(m)
    return m


def sparse_dataset(group: Any, *, should_cache_indptr: bool = True) -> CSRDataset | CSCDataset:
    """Open a stored CSR/CSC matrix for backed access.

    Parameters
    ----------
    group
        The matrix's group: an annstore store node or a native ``h5py``/``zarr`` group.
    should_cache_indptr
        Keep the whole ``indptr`` in memory after the first selection (default). When false,
        each selection reads only the span of ``indptr`` it needs.

    Returns
    -------
    :class:`CSRDataset` or :class:`CSCDataset`, by the stored encoding.

    Examples
    --------
    >>> ds = sparse_dataset(h5py.File("pbmc.h5ad")["X"])  # doctest: +SKIP
    >>> ds[[5, 1, 5], :100]  # doctest: +SKIP
    """
    from ..io._dispatch import as_node
    from ._source import sparse_format_of

    node = as_node(group)
    fmt = sparse_format_of(node) if hasattr(node, "create_group") else None  # type: ignore[arg-type]
    if fmt is None:
        enc = node.attrs.get("encoding-type")
        msg = (
            f"Expected a csr_matrix/csc_matrix group; got {node.name!r} with encoding {enc!r} "
            f"in {getattr(node, 'filename', None)!r} instead."
        )
        raise InvalidFileError(msg, filename=getattr(node, "filename", None), path=node.name)
    cls = CSRDataset if fmt == "csr" else CSCDataset
    return cls(group, should_cache_indptr=should_cache_indptr)

"""Raw sources of stored CSR/CSC matrices: plugin hook lookup and the generic ArrayLike source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import InvalidFileError
from ..types import IndexSupport

if TYPE_CHECKING:
    from ..types import ArrayLike, BackedSparseSource, GroupLike

__all__ = ["GenericSparseSource", "SparseSourceBase", "get_sparse_source", "merge_touching", "sparse_format_of"]

_FORMATS: dict[str, Literal["csr", "csc"]] = {
    "csr_matrix": "csr",
    "csc_matrix": "csc",
    "csr": "csr",
    "csc": "csc",
}


def sparse_format_of(group: GroupLike) -> Literal["csr", "csc"] | None:
    """``"csr"``/``"csc"`` for a stored sparse matrix group (current or legacy h5sparse attrs)."""
    attrs = group.attrs
    enc = attrs.get("encoding-type", attrs.get("h5sparse_format"))
    return _FORMATS.get(str(enc)) if enc is not None else None


def _where(group: GroupLike) -> str:
    fn = getattr(group, "filename", None)
    return f"{group.name!r}" + (f" in {str(fn)!r}" if fn is not None else "")


def merge_touching(starts: Any, stops: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``[starts, stops)`` ranges without the empty ones, each merged into its predecessor
    when it begins where that one ends (the concatenated reads stay the same).

    Parameters
    ----------
    starts, stops
        Equally long sequences of range bounds, sorted by ``starts``.

    Returns
    -------
    tuple of numpy.ndarray
        The merged ``(starts, stops)`` as ``int64`` arrays.
    """
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    stops = np.asarray(stops, dtype=np.int64).reshape(-1)
    keep = stops > starts
    starts, stops = starts[keep], stops[keep]
    if len(starts) > 1:
        brk = np.flatnonzero(starts[1:] != stops[:-1]) + 1
        starts, stops = starts[np.r_[0, brk]], stops[np.r_[brk - 1, len(stops) - 1]]
    return starts, stops


class SparseSourceBase:
    """The base of a :class:`~annstore.types.BackedSparseSource`: the group's header, checked.

    Reads only attributes (``encoding-type`` or legacy ``h5sparse_format``, and ``shape``),
    so a source that opens its arrays lazily stays lazy; a source that opens them calls
    :meth:`_check_arrays`. Subclasses implement ``indptr``, ``read_nnz`` and, where the
    backend reads several ranges faster than one by one, ``read_nnz_ranges``.

    Parameters
    ----------
    group
        An adapted ``csr_matrix`` / ``csc_matrix`` group.
    """

    indexing = IndexSupport.BASIC

    def __init__(self, group: GroupLike) -> None:
        fmt = sparse_format_of(group)
        if fmt is None:
            enc = group.attrs.get("encoding-type")
            msg = f"Expected a csr_matrix/csc_matrix group at {_where(group)}; got encoding {enc!r} instead."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        shape = group.attrs.get("shape", group.attrs.get("h5sparse_shape"))
        if shape is None or len(shape) != 2:
            msg = f"Expected a 2-d 'shape' attribute on the sparse group {_where(group)}; got {shape!r}."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        self.format: Literal["csr", "csc"] = fmt
        self.shape = (int(shape[0]), int(shape[1]))
        self._group = group

    @classmethod
    def from_group(cls, group: GroupLike) -> Any:
        """A source for ``group``, or ``None`` when it is not a stored sparse matrix.

        Parameters
        ----------
        group
            An adapted group of the store.

        Returns
        -------
        SparseSourceBase or None
        """
        return cls(group) if sparse_format_of(group) is not None else None

    @property
    def nnz(self) -> int:
        """Number of stored values: the length of ``data``, from the array the source opened
        (so asking for it reads no metadata a second time)."""
        return int(self._data.shape[0])  # type: ignore[attr-defined]

    def _check_arrays(self, indptr: Any, data: Any, indices: Any) -> None:
        """Refuse ``indptr``/``data``/``indices`` arrays whose shapes do not fit the matrix."""
        n_major = self.shape[0] if self.format == "csr" else self.shape[1]
        if tuple(indptr.shape) != (n_major + 1,) or tuple(data.shape) != tuple(indices.shape):
            g = self._group
            msg = (
                f"Expected indptr of length {n_major + 1} and data/indices of equal length in the "
                f"{self.format} matrix {_where(g)} of shape {self.shape}; got indptr "
                f"{tuple(indptr.shape)}, data {tuple(data.shape)}, indices {tuple(indices.shape)} instead."
            )
            raise InvalidFileError(msg, filename=g.filename, path=g.name)

    def _arrays(self) -> tuple[Any, Any, Any]:
        """The group's ``data``, ``indices`` and ``indptr`` nodes (checked to be arrays)."""
        g = self._group
        missing = [k for k in ("data", "indices", "indptr") if k not in g]
        nodes = [g[k] for k in ("data", "indices", "indptr") if not missing]
        if missing or any(hasattr(n, "create_group") for n in nodes):
            what = f"{missing} are missing" if missing else "some are groups"
            msg = f"Expected data/indices/indptr arrays in the sparse group {_where(g)}; {what}."
            raise InvalidFileError(msg, filename=g.filename, path=g.name)
        return nodes[0], nodes[1], nodes[2]

    def read_nnz_ranges(
        self, starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Concatenated ``data``/``indices`` of the ranges, read one :meth:`read_nnz` each.

        Parameters
        ----------
        starts, stops
            Sorted, non-overlapping ranges of stored values.

        Returns
        -------
        tuple of numpy.ndarray
            The values and indices of every range, concatenated in order.
        """
        starts, stops = merge_touching(starts, stops)
        parts = [self.read_nnz(a, b) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return self.read_nnz(0, 0)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Read ``(data[start:stop], indices[start:stop])``; implemented by each backend.

        Parameters
        ----------
        start, stop
            The range of stored values, as ``indptr`` gives it.

        Returns
        -------
        tuple of numpy.ndarray
            ``(data[start:stop], indices[start:stop])``.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.format} {self.shape} {_where(self._group)}>"


class GenericSparseSource(SparseSourceBase):
    """:class:`~annstore.types.BackedSparseSource` over plain :class:`~annstore.types.ArrayLike` slicing.

    Used when no plugin offers a faster source. Several ranges are read one slice each
    (core merges touching and nearby ranges before calling :meth:`read_nnz_ranges`).

    Parameters
    ----------
    group
        An adapted ``csr_matrix`` / ``csc_matrix`` group.

    Raises
    ------
    InvalidFileError
        The group is not a stored sparse matrix, or its arrays disagree with its shape.
    """

    def __init__(self, group: GroupLike) -> None:
        super().__init__(group)
        self._data: ArrayLike
        self._indices: ArrayLike
        self._indptr_arr: ArrayLike
        self._data, self._indices, self._indptr_arr = self._arrays()
        self.dtype = self._data.dtype
        self._check_arrays(self._indptr_arr, self._data, self._indices)
        self._indptr: np.ndarray[Any, Any] | None = None

    def indptr(self) -> np.ndarray[Any, Any]:
        """The whole ``indptr`` array, read on the first call and cached."""
        if self._indptr is None:
            self._indptr = np.asarray(self._indptr_arr[:])
        return self._indptr

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Read ``(data[start:stop], indices[start:stop])`` by slicing the two arrays.

        Parameters
        ----------
        start, stop
            The range of stored values, as ``indptr`` gives it.

        Returns
        -------
        tuple of numpy.ndarray
            ``(data[start:stop], indices[start:stop])``.
        """
        start, stop = int(start), int(stop)
        if stop <= start:
            return np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype)
        return np.asarray(self._data[start:stop]), np.asarray(self._indices[start:stop])


def get_sparse_source(group: GroupLike) -> BackedSparseSource:
    """The fastest source a plugin offers for ``group``, else :class:`GenericSparseSource`."""
    from ..io._plugins import get_plugin_manager

    src = get_plugin_manager().hook.annstore_backed_sparse_source(group=group)
    if src is None:
        src = GenericSparseSource(group)
    return src  # type: ignore[no-any-return]

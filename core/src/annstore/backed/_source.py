"""Raw sources of stored CSR/CSC matrices: plugin hook lookup and the generic ArrayLike source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import InvalidFileError
from ..types import IndexSupport

if TYPE_CHECKING:
    from ..types import ArrayLike, BackedSparseSource, GroupLike

__all__ = ["GenericSparseSource", "get_sparse_source", "sparse_format_of"]

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


class GenericSparseSource:
    """:class:`~annstore.types.BackedSparseSource` over plain :class:`~annstore.types.ArrayLike` slicing.

    Used when no plugin offers a faster source. Several ranges are read one slice each
    (core merges touching and nearby ranges before calling :meth:`read_nnz_ranges`).
    """

    indexing = IndexSupport.BASIC

    def __init__(self, group: GroupLike) -> None:
        fmt = sparse_format_of(group)
        if fmt is None:
            enc = group.attrs.get("encoding-type")
            msg = f"Expected a csr_matrix/csc_matrix group at {_where(group)}; got encoding {enc!r} instead."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        missing = [k for k in ("data", "indices", "indptr") if k not in group]
        shape = group.attrs.get("shape", group.attrs.get("h5sparse_shape"))
        if missing or shape is None or len(shape) != 2:
            what = f"arrays {missing} are missing" if missing else f"the 'shape' attribute is {shape!r}"
            msg = f"Expected data/indices/indptr arrays and a 2-d 'shape' attribute at {_where(group)}; {what}."
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        self.format: Literal["csr", "csc"] = fmt
        self.shape = (int(shape[0]), int(shape[1]))
        self._group = group
        self._data: ArrayLike = group["data"]  # type: ignore[assignment]
        self._indices: ArrayLike = group["indices"]  # type: ignore[assignment]
        self._indptr_arr: ArrayLike = group["indptr"]  # type: ignore[assignment]
        self.dtype = self._data.dtype
        n_major = self.shape[0] if fmt == "csr" else self.shape[1]
        if tuple(self._indptr_arr.shape) != (n_major + 1,) or tuple(self._data.shape) != tuple(
            self._indices.shape
        ):
            msg = (
                f"Expected indptr of length {n_major + 1} and data/indices of equal length in the "
                f"{fmt} matrix {_where(group)} of shape {self.shape}; got indptr "
                f"{tuple(self._indptr_arr.shape)}, data {tuple(self._data.shape)}, indices "
                f"{tuple(self._indices.shape)} instead."
            )
            raise InvalidFileError(msg, filename=group.filename, path=group.name)
        self._indptr: np.ndarray[Any, Any] | None = None

    def indptr(self) -> np.ndarray[Any, Any]:
        if self._indptr is None:
            self._indptr = np.asarray(self._indptr_arr[:])
        return self._indptr

    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        start, stop = int(start), int(stop)
        if stop <= start:
            return np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype)
        return np.asarray(self._data[start:stop]), np.asarray(self._indices[start:stop])

    def read_nnz_ranges(
        self, starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        parts = [self.read_nnz(a, b) for a, b in zip(starts.tolist(), stops.tolist(), strict=True) if b > a]
        if not parts:
            return np.empty(0, self._data.dtype), np.empty(0, self._indices.dtype)
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def __repr__(self) -> str:
        return f"<GenericSparseSource {self.format} {self.shape} {_where(self._group)}>"


def get_sparse_source(group: GroupLike) -> BackedSparseSource:
    """The fastest source a plugin offers for ``group``, else :class:`GenericSparseSource`."""
    from ..io._plugins import get_plugin_manager

    src = get_plugin_manager().hook.annstore_backed_sparse_source(group=group)
    if src is None:
        src = GenericSparseSource(group)
    return src  # type: ignore[no-any-return]

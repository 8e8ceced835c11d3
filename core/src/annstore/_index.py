"""Index normalisation, subsetting and index composition shared by views and backed access."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._settings import settings

if TYPE_CHECKING:
    from numpy.typing import NDArray

from ._xarray import Dataset2D, is_xr_dataarray

__all__ = [
    "is_dask_array",
    "normalize_index",
    "normalize_indices",
    "resolve_index",
    "subset",
    "unpack_index",
]

#: A normalised 1-D indexer: an int, a slice, an int position array or a bool mask.
Index1DNorm = "int | np.integer | slice | NDArray[np.integer] | NDArray[np.bool_]"


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a dask array, without importing dask."""
    return any(
        c.__name__ == "Array" and c.__module__.startswith("dask.array") for c in type(x).__mro__
    )


def unpack_index(index: Any) -> tuple[Any, Any]:
    """Split ``adata[index]`` into an (obs, var) pair, handling ``...`` and 1-tuples."""
    if not isinstance(index, tuple):
        return (slice(None) if index is Ellipsis else index), slice(None)
    n_ell = sum(i is Ellipsis for i in index)
    if n_ell > 1:
        msg = "an index can only have a single ellipsis ('...')"
        raise IndexError(msg)
    if len(index) > 2:
        if not n_ell:
            msg = f"Received a length {len(index)} index without an ellipsis; expected at most 2 dimensions."
            raise IndexError(msg)
        index = tuple(i for i in index if i is not Ellipsis)
        if len(index) != 2:
            msg = f"Expected an index of at most 2 dimensions; got {len(index) + 1}."
            raise IndexError(msg)
        return index[0], index[1]
    if len(index) == 2:
        o, v = (slice(None) if i is Ellipsis else i for i in index)
        return o, v
    if len(index) == 1:
        return unpack_index(index[0])
    msg = "Expected an index of 1 or 2 dimensions; got an empty tuple."
    raise IndexError(msg)


def _label_pos(label: Any, names: pd.Index) -> Any:
    if isinstance(label, str):
        try:
            return names.get_loc(label)
        except KeyError:
            msg = f"{label!r} is not a valid obs/var name."
            raise KeyError(msg) from None
    return label


def _from_slice(s: slice, names: pd.Index) -> slice:
    start = _label_pos(s.start, names)
    stop = _label_pos(s.stop, names)
    if isinstance(s.stop, str):  # label slices include their stop label
        stop = stop + 1 if (s.step or 1) > 0 else (stop - 1 if stop > 0 else None)
    return slice(start, stop, s.step)


def _from_array(indexer: Any, names: pd.Index) -> np.ndarray:
    arr = np.asarray(indexer)
    n = len(names)
    if arr.ndim == 2 and (arr.shape == (n, 1) or arr.shape == (1, n) or 1 in arr.shape):
        arr = arr.ravel()
    if arr.ndim != 1:
        msg = f"Expected a 1-D indexer; got an array of shape {arr.shape}."
        raise IndexError(msg)
    kind = arr.dtype.kind
    if kind == "b":
        if arr.shape[0] != n:
            msg = (
                "Boolean index does not match AnnData’s shape along this dimension. "
                f"Boolean index has shape {arr.shape} while AnnData index has shape {(n,)}."
            )
            raise IndexError(msg)
        return arr
    if kind in "iu":
        return arr
    if kind == "f":
        as_int = arr.astype(np.int64)
        if np.any(as_int != arr):
            msg = f"Indexer {indexer!r} has floating point values that are not whole numbers."
            raise IndexError(msg)
        return as_int
    if kind == "O" and len(arr) and all(isinstance(v, bool | np.bool_) for v in arr):
        return _from_array(arr.astype(bool), names)
    # labels (names of any dtype, as anndata: datetimes, tuples of a MultiIndex, ...)
    if kind in "OUST":
        labels = arr.astype(object)
    elif isinstance(indexer, pd.api.extensions.ExtensionArray | pd.MultiIndex):
        labels = indexer
    else:
        labels = arr
    positions = names.get_indexer(labels)
    if (positions < 0).any():
        missing = list(labels[positions < 0])
        msg = f"Values {missing}, from {list(labels)}, are not valid obs/ var names or indices."
        raise KeyError(msg)
    return positions


def normalize_index(indexer: Any, names: pd.Index) -> Any:
    """Normalise one axis' indexer against ``names``.

    Returns an ``int`` (a single position, possibly negative), a ``slice`` of positions, an
    integer position array or a boolean mask of ``len(names)``.
    """
    if isinstance(indexer, pd.MultiIndex) and not settings.restrict_index_types:
        return _from_array(indexer, names)  # tuples looked up in a MultiIndex of names
    if isinstance(indexer, pd.Index | pd.Series):
        indexer = indexer.array
    if is_xr_dataarray(indexer):
        indexer = indexer.data
        indexer = indexer.compute() if is_dask_array(indexer) else np.asarray(indexer)
    if isinstance(indexer, slice):
        return _from_slice(indexer, names)
    if isinstance(indexer, bool | np.bool_):
        msg = f"Expected an int, slice, name, mask or array as indexer; got the scalar {indexer!r}."
        raise IndexError(msg)
    if isinstance(indexer, int | np.integer):
        return indexer
    if isinstance(indexer, str):
        try:
            pos = names.get_loc(indexer)
        except KeyError:
            msg = f"{indexer!r} is not a valid obs/var name."
            raise KeyError(msg) from None
        return pos
    if sparse.issparse(indexer):
        return _from_array(indexer.toarray(), names)
    if isinstance(indexer, np.ndarray | pd.api.extensions.ExtensionArray):
        if isinstance(indexer, pd.api.extensions.ExtensionArray) and indexer.dtype.kind == "b":
            indexer = indexer.to_numpy(dtype=bool, na_value=False)
        return _from_array(indexer, names)
    if isinstance(indexer, Sequence) or is_dask_array(indexer):
        arr = np.asarray(indexer)
        if arr.size == 0:
            arr = arr.astype(np.intp)
        return _from_array(arr, names)
    if hasattr(indexer, "__array__"):
        return _from_array(np.asarray(indexer), names)
    msg = f"Unknown indexer {indexer!r} of type {type(indexer)}"
    raise IndexError(msg)


def normalize_indices(index: Any, obs_names: pd.Index, var_names: pd.Index) -> tuple[Any, Any]:
    """Normalise ``adata[index]`` into a pair of 1-D indexers (see :func:`normalize_index`)."""
    o, v = unpack_index(index)
    return normalize_index(o, obs_names), normalize_index(v, var_names)


def _is_arraylike_idx(x: Any) -> bool:
    return not isinstance(x, slice) and isinstance(x, Iterable)


def _positions(idx: Any) -> Any:
    if isinstance(idx, np.ndarray) and idx.dtype.kind == "b":
        return np.flatnonzero(idx)
    return idx


def _is_native_disk_array(a: Any) -> bool:
    """An ``h5py.Dataset`` or ``zarr.Array`` (recognised by type name, importing neither)."""
    for c in type(a).__mro__:
        mod = c.__module__.split(".")[0]
        if (mod == "h5py" and c.__name__ == "Dataset") or (mod == "zarr" and c.__name__ == "Array"):
            return True
    return False


def subset(a: Any, idx: tuple[Any, ...]) -> Any:
    """Select ``idx`` (one indexer per leading axis) from ``a``, as an outer (not point) selection."""
    if isinstance(a, Dataset2D):
        return a.iloc[_positions(np.asarray(idx[0]) if isinstance(idx[0], list) else idx[0])]
    if isinstance(a, pd.DataFrame):
        return a.iloc[tuple(_positions(i) for i in idx)] if len(idx) > 1 else a.iloc[_positions(idx[0])]
    if _is_native_disk_array(a):  # h5py.Dataset / zarr.Array: any outer selection, as anndata
        from ._backing import provider

        return provider().subset(a, tuple(idx))
    if len(idx) == 1:
        return a[_positions(idx[0]) if sparse.issparse(a) else idx[0]]
    if all(_is_arraylike_idx(i) for i in idx):
        if isinstance(a, np.ndarray):
            return a[np.ix_(*idx)]
        o, v = (_positions(i) for i in idx)
        if sparse.issparse(a) and a.format == "csc":
            return a[:, v][o, :]
        return a[o, :][:, v]
    if sparse.issparse(a):
        return a[tuple(_positions(i) for i in idx)]
    return a[idx]


def resolve_index(old: Any, new: Any, length: int) -> Any:
    """Compose ``new`` (relative to the view) onto ``old`` (relative to a parent of ``length``)."""
    if isinstance(old, slice):
        if isinstance(new, slice):
            r = range(*old.indices(length))[new]
            if len(r) == 0:
                return slice(r.start, r.start, r.step)
            stop = r.stop if r.stop >= 0 else None
            return slice(r.start, stop, r.step)
        return np.arange(*old.indices(length))[new]
    old = np.asarray(old)
    if old.dtype.kind == "b":
        if isinstance(new, np.ndarray) and new.dtype.kind == "b":
            out = np.zeros_like(old)
            out[np.flatnonzero(old)[new]] = True
            return out
        old = np.flatnonzero(old)
    return old[new]

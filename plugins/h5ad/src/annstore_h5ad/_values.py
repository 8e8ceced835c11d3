"""HDF5 values as annstore's store protocol has them: strings, records and attributes.

Strings are stored as variable-length UTF-8 and read back as ``object`` arrays of ``str``;
record arrays get variable-length string fields for their ``U``/``O`` fields and read back
with ``U`` fields; attributes read back as plain Python, numeric vectors as numpy arrays, and
the empty float array HDF5 stores for an empty list as ``[]``.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
from annstore.io import plain_attr

__all__ = ["STR", "STRING_DTYPE", "from_compound", "norm_attr", "str_compound", "to_attr", "to_stored"]

STR = h5py.string_dtype("utf-8")
#: numpy's variable-width string dtype (numpy >= 2), used as a fast decode target for reads.
STRING_DTYPE: Any = getattr(getattr(np, "dtypes", None), "StringDType", None)
STRING_DTYPE = STRING_DTYPE() if STRING_DTYPE is not None else None
#: h5py writes StringDType arrays as variable-length UTF-8 strings from 3.14 on.
_NPY_STRINGS_WRITE = STRING_DTYPE is not None and tuple(
    int(x) for x in h5py.__version__.split(".")[:2]
) >= (3, 14)


def _decode(x: Any) -> Any:
    return x.decode("utf-8") if isinstance(x, bytes) else x


def norm_attr(v: Any) -> Any:
    """Return an HDF5 attribute value as plain Python (see the module docstring)."""
    if isinstance(v, h5py.Empty):
        return None
    if isinstance(v, np.ndarray) and v.dtype.kind not in "OSU" and v.size == 0 and v.ndim == 1:
        return []  # how HDF5 holds an empty list (anndata's empty column-order)
    return plain_attr(v, keep_arrays=True)


def to_attr(v: Any) -> Any:
    """Convert a Python attribute value to what h5py stores the way anndata does."""
    if isinstance(v, tuple):
        v = list(v)
    if isinstance(v, list):
        if not v:
            return np.array([], dtype="f8")
        if all(isinstance(x, str) for x in v):
            return np.array(v, dtype=STR)
        return np.asarray(v)
    if isinstance(v, np.ndarray) and v.dtype.kind == "U":
        return v.astype(STR)
    return v


def str_compound(dt: np.dtype[Any]) -> np.dtype[Any]:
    return np.dtype([(n, STR if dt[n].kind in "UO" else dt[n]) for n in dt.names or ()])


def to_stored(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``create_array`` data (checked by the base) as h5py stores it."""
    if arr.dtype.kind in "UTO":
        return _vlen_strings(arr)
    if arr.dtype.names and any(arr.dtype[n].kind in "UO" for n in arr.dtype.names):
        out = np.empty(arr.shape, dtype=str_compound(arr.dtype))
        for n in arr.dtype.names:
            out[n] = arr[n] if arr.dtype[n].kind not in "U" else arr[n].astype(object)
        return out
    return arr


def _vlen_strings(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A non-scalar array of str ready for HDF5 variable-length UTF-8 storage.

    With h5py >= 3.14 a numpy ``StringDType`` array is written to the same HDF5 type
    (variable-length, UTF-8) with the encoding done in C, faster than h5py's per-object
    conversion of an ``object`` array.
    """
    # HDF5 would cut a StringDType string at an embedded NUL; the object path raises h5py's
    # "VLEN strings do not support embedded NULLs" instead, as before.
    if _NPY_STRINGS_WRITE and arr.ndim and arr.size and "\x00" not in "".join(arr.ravel().tolist()):
        return arr.astype(STRING_DTYPE)
    return arr.astype(STR)


def from_compound(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Record arrays with vlen string fields come back with ``U`` fields."""
    names = arr.dtype.names or ()
    if not any(h5py.check_string_dtype(arr.dtype[n]) is not None for n in names):
        return arr
    cols = {}
    for n in names:
        if h5py.check_string_dtype(arr.dtype[n]) is not None:
            cols[n] = np.array([str(_decode(x)) for x in arr[n].ravel().tolist()], dtype=str)
            cols[n] = cols[n].reshape(arr.shape) if cols[n].size else np.zeros(arr.shape, "U1")
        else:
            cols[n] = arr[n]
    out = np.empty(arr.shape, dtype=[(n, cols[n].dtype) for n in names])
    for n in names:
        out[n] = cols[n]
    return out

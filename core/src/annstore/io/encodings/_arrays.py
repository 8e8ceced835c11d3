"""Array encodings: ``array`` 0.2.0, ``string-array`` 0.2.0 and ``rec-array`` 0.2.0.

On-disk layout
--------------
``array`` 0.2.0
    An n-d array of a numeric or boolean dtype, stored as is (storage options such as
    ``compression`` and ``chunks`` apply).
``string-array`` 0.2.0
    An n-d array of variable-length UTF-8 strings (numpy ``U``, ``T`` or ``O`` of ``str``).
``rec-array`` 0.2.0
    A 1-d structured (compound) array. String fields are stored as fixed-length unicode
    (zarr's layout; the h5ad plugin overrides it with variable-length strings). Read back
    with string fields as ``object`` arrays of ``str``.

Write decisions (anndata 0.13's): a 0-d array is written as a scalar (``numeric-scalar`` or
``string``); a ``list`` becomes ``np.array(list)`` first, so ``[1, "two", 3.0]`` is a
string-array ``["1", "two", "3.0"]``; a masked array is written without its mask.

Object arrays (e.g. ``object`` dataframe columns) are lossless or refused, never coerced:

* only ``str`` values: ``string-array``;
* ``str`` values and missing values (``None``, ``NaN``, ``pd.NA``): ``nullable-string-array``
  with ``na-value`` ``"NaN"`` (anndata 0.13 refuses these with a bare h5py TypeError;
  anndata reads what we write);
* anything else (numbers mixed with strings, nested objects): :class:`UnsupportedValueError`
  naming the offending value and its position (the dataframe writer adds the column name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._spec import IOSpec
from . import ENCODINGS
from ._common import UnsupportedValueError, array_kwargs, invalid

if TYPE_CHECKING:
    from ...types import ArrayLike, GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = [
    "ARRAY",
    "REC_ARRAY",
    "STRING_ARRAY",
    "classify_object_array",
    "write_ndarray",
]

ARRAY = IOSpec("array", "0.2.0")
STRING_ARRAY = IOSpec("string-array", "0.2.0")
REC_ARRAY = IOSpec("rec-array", "0.2.0")


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        import pandas as pd

        if x is pd.NA:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(x, float | np.floating) and bool(np.isnan(x))


def classify_object_array(arr: np.ndarray) -> tuple[str, Any]:
    """Classify an object array: ``("str", None)``, ``("str+missing", None)`` or ``("mixed", (index, value))``.

    The first offending value (neither ``str`` nor missing) is returned with its flat index.
    """
    flat = arr.reshape(-1)
    if flat.size and _pd_infer_dtype(flat) == "string":
        return "str", None  # every element a str instance: checked at C speed
    missing = False
    for i, x in enumerate(flat.tolist()):
        if isinstance(x, str):
            continue
        if _is_missing(x):
            missing = True
            continue
        return "mixed", (i, x)
    return ("str+missing" if missing else "str"), None


def mixed_object_error(index: Any, value: Any, where: str) -> UnsupportedValueError:
    msg = (
        f"Cannot write {where}: an object array must hold only strings (and missing values); "
        f"found {type(value).__name__} {value!r} at position {index!r}. Convert it to one type "
        "first, e.g. `.astype(str)`, `.astype('category')` or a numeric dtype."
    )
    return UnsupportedValueError(msg)


def _pd_infer_dtype(flat: np.ndarray) -> str:
    import pandas as pd

    return str(pd.api.types.infer_dtype(flat, skipna=False))


def _as_str_array(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "UT":
        return arr.astype(object)  # numpy boxes each element as a plain str in C
    items = arr.reshape(-1).tolist()
    out = np.empty(arr.shape, dtype=object)
    if set(map(type, items)) <= {str}:
        out.reshape(-1)[:] = items  # already plain str (the common case): no per-item call
    else:
        out.reshape(-1)[:] = [str(x) for x in items]
    return out


def write_ndarray(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a numpy array with the encoding its dtype calls for; return that encoding."""
    arr = np.asarray(value)  # also drops a masked array's mask, as anndata does
    kind = arr.dtype.kind
    if arr.ndim == 0:
        from ._scalars import write_numeric_scalar, write_string

        item = arr[()]
        if kind in "UOT" and isinstance(item, str):
            return write_string(parent, key, item, ctx=ctx, dataset_kwargs=dataset_kwargs)
        return write_numeric_scalar(parent, key, item, ctx=ctx, dataset_kwargs=dataset_kwargs)
    kw = array_kwargs(dataset_kwargs, arr.ndim)
    if kind in "UT":
        parent.create_array(key, data=_as_str_array(arr), **kw)
        return STRING_ARRAY
    if kind == "O":
        cls, bad = classify_object_array(arr)
        if cls == "mixed":
            idx = np.unravel_index(bad[0], arr.shape) if arr.ndim > 1 else bad[0]
            raise mixed_object_error(idx, bad[1], f"{key!r}")
        if cls == "str+missing":
            import pandas as pd

            if arr.ndim != 1:
                msg = f"Cannot write {key!r}: missing values in a {arr.ndim}-d string array."
                raise UnsupportedValueError(msg)
            from ._nullable import write_nullable

            sarr = pd.array(
                [None if _is_missing(x) else x for x in arr.tolist()],
                dtype=pd.StringDtype(na_value=np.nan),
            )
            return write_nullable(parent, key, sarr, ctx=ctx, dataset_kwargs=dataset_kwargs)
        parent.create_array(key, data=_as_str_array(arr), **kw)
        return STRING_ARRAY
    if kind == "V":
        return write_recarray(parent, key, arr, ctx=ctx, dataset_kwargs=dataset_kwargs)
    if kind == "S":
        msg = f"Cannot write {key!r}: byte-string arrays are not supported; decode them to str."
        raise UnsupportedValueError(msg)
    parent.create_array(key, data=np.ascontiguousarray(arr), **kw)
    return ARRAY


ENCODINGS.writer(np.ndarray, ARRAY)(write_ndarray)


@ENCODINGS.writer(list, ARRAY)
def write_list(
    parent: GroupLike, key: str, value: list[Any], *, ctx: WriteContext,
    dataset_kwargs: dict[str, Any],
) -> IOSpec:
    """Write a list as ``np.array(value)`` (so mixed lists become string arrays, as in anndata)."""
    return write_ndarray(parent, key, np.array(value), ctx=ctx, dataset_kwargs=dataset_kwargs)


def write_recarray(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a structured array; string fields become fixed-length unicode."""
    arr = np.asarray(value)
    if arr.dtype.names is None:
        msg = f"Expected a structured array for {key!r}; got dtype {arr.dtype} instead."
        raise TypeError(msg)
    fields = []
    for name in arr.dtype.names:
        dt = arr.dtype.fields[name][0]
        if dt.kind in "OUT":
            col = arr[name]
            n = max((len(str(x)) for x in col.reshape(-1).tolist()), default=1)
            fields.append((name, f"<U{max(n, 1)}"))
        else:
            fields.append((name, dt))
    out = np.empty(arr.shape, dtype=fields)
    for name in arr.dtype.names:
        col = arr[name]
        out[name] = [str(x) for x in col.tolist()] if col.dtype.kind in "OT" else col
    parent.create_array(key, data=out, **array_kwargs(dataset_kwargs, out.ndim))
    return REC_ARRAY


ENCODINGS.writer(np.recarray, REC_ARRAY)(write_recarray)


def refuse_opaque(node: ArrayLike) -> None:
    """Refuse opaque (``V`` without fields) data: such bytes (e.g. pickles) are never decoded."""
    dt = np.dtype(node.dtype)
    if dt.kind == "V" and dt.names is None:
        raise invalid(
            node,
            f"expected numeric, boolean or string data; got opaque dtype {dt} ({dt.itemsize} raw "
            "bytes per item). Opaque data (such as pickled objects) is never decoded.",
        )


@ENCODINGS.reader(ARRAY)
def read_array(node: ArrayLike, *, ctx: ReadContext) -> np.ndarray:
    """Read a dense array."""
    refuse_opaque(node)
    return np.asarray(node[()] if len(node.shape) == 0 else node[...])


@ENCODINGS.reader(STRING_ARRAY)
def read_string_array(node: ArrayLike, *, ctx: ReadContext) -> np.ndarray:
    """Read a string array as an ``object`` array of ``str``."""
    refuse_opaque(node)
    v = np.asarray(node[()] if len(node.shape) == 0 else node[...])
    if v.dtype.kind == "O":
        if v.size:
            import pandas as pd

            inferred = str(pd.api.types.infer_dtype(v.reshape(-1), skipna=False))
            if inferred not in ("string", "bytes"):
                first = next(
                    (x for x in v.reshape(-1).tolist() if not isinstance(x, str | bytes)), None
                )
                raise invalid(
                    node,
                    f"expected a string array; found {type(first).__name__} items "
                    f"(e.g. {first!r:.60}).",
                )
        if any(isinstance(x, bytes) for x in v.reshape(-1)[:1].tolist()):
            return decode_strings(v)
        return v
    if v.dtype.kind in "SUT":
        return decode_strings(v)
    raise invalid(node, f"expected a string array; got dtype {v.dtype}.")


def decode_strings(v: np.ndarray) -> np.ndarray:
    """An ``object`` array of ``str`` from bytes/unicode/object strings."""
    out = np.empty(v.shape, dtype=object)
    out.reshape(-1)[:] = [
        x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in v.reshape(-1).tolist()
    ]
    return out


def decode_structured(v: np.ndarray) -> np.ndarray:
    """A structured array whose string fields (bytes, fixed or vlen) are ``object`` arrays of str."""
    if v.dtype.names is None:
        return v
    new = []
    for name in v.dtype.names:
        dt = v.dtype.fields[name][0]
        new.append((name, object if dt.kind in "OSUT" else dt))
    out = np.empty(v.shape, dtype=new)
    for name in v.dtype.names:
        col = v[name]
        out[name] = decode_strings(col) if col.dtype.kind in "OSUT" else col
    return out


@ENCODINGS.reader(REC_ARRAY)
def read_recarray(node: ArrayLike, *, ctx: ReadContext) -> np.ndarray:
    """Read a structured array (string fields as ``object`` arrays of ``str``)."""
    v = np.asarray(node[()] if len(node.shape) == 0 else node[...])
    if v.dtype.names is None:
        raise invalid(node, f"expected a structured (compound) dtype; got {v.dtype}.")
    return decode_structured(v)

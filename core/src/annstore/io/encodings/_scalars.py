"""Scalar encodings: ``numeric-scalar`` 0.2.0 and ``string`` 0.2.0.

On-disk layout
--------------
``numeric-scalar`` 0.2.0
    A 0-d array of the value's numpy dtype (bool, signed/unsigned integers, floats, complex).
``string`` 0.2.0
    A 0-d array holding one variable-length UTF-8 string.

Both carry ``encoding-type``/``encoding-version`` attributes and no compression (HDF5 refuses
to compress scalars). Python ``bool``/``int``/``float``/``complex``, their numpy counterparts,
``str``/``np.str_`` and 0-d numpy arrays are written this way. Reading returns Python scalars
(``int``, ``float``, ``bool``, ``complex``, ``str``), as anndata 0.13 does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._spec import IOSpec
from . import ENCODINGS
from ._common import invalid, scalar_kwargs

if TYPE_CHECKING:
    from ...types import ArrayLike, GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["NUMERIC_SCALAR", "STRING", "write_numeric_scalar", "write_string"]

NUMERIC_SCALAR = IOSpec("numeric-scalar", "0.2.0")
STRING = IOSpec("string", "0.2.0")

_NUMERIC_TYPES: tuple[type, ...] = (
    bool, np.bool_, int, np.integer, float, np.floating, complex, np.complexfloating,
)


def write_numeric_scalar(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a bool/int/float/complex scalar as a 0-d array."""
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "biufc":
        msg = f"Expected a numeric scalar; got {type(value).__name__} {value!r} instead."
        raise TypeError(msg)
    parent.create_array(key, data=arr, **scalar_kwargs(dataset_kwargs))
    return NUMERIC_SCALAR


for _t in _NUMERIC_TYPES:
    ENCODINGS.writer(_t, NUMERIC_SCALAR)(write_numeric_scalar)


@ENCODINGS.writer(str, STRING)
def write_string(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write one string as a 0-d variable-length UTF-8 array."""
    arr = np.empty((), dtype=object)
    arr[()] = str(value)
    parent.create_array(key, data=arr, **scalar_kwargs(dataset_kwargs))
    return STRING


def _scalar_of(node: ArrayLike) -> Any:
    if len(node.shape) > 1 or (len(node.shape) == 1 and node.shape[0] != 1):
        raise invalid(node, f"expected a 0-d array for a scalar; got shape {tuple(node.shape)}.")
    v = node[()]
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size == 1 else v[()]
    return v


@ENCODINGS.reader(NUMERIC_SCALAR)
def read_numeric_scalar(node: ArrayLike, *, ctx: ReadContext) -> Any:
    """Read a 0-d numeric array as a Python scalar."""
    v = _scalar_of(node)
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, bool | int | float | complex):
        raise invalid(node, f"expected a numeric scalar; got {type(v).__name__} {v!r}.")
    return v


@ENCODINGS.reader(STRING)
def read_string(node: ArrayLike, *, ctx: ReadContext) -> str:
    """Read a 0-d string array as ``str``."""
    v = _scalar_of(node)
    if isinstance(v, bytes):
        v = v.decode("utf-8")
    if not isinstance(v, str):
        raise invalid(node, f"expected a string scalar; got {type(v).__name__} {v!r}.")
    return str(v)

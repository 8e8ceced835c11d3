"""Pandas nullable arrays: ``nullable-integer``, ``nullable-boolean``, ``nullable-string-array`` 0.1.0.

On-disk layout
--------------
A group with two children of equal length:

``values``
    the data (``array`` of the integer dtype / ``array`` of bool / ``string-array``), with a
    filler (0, ``False``, ``""``) where the value is missing;
``mask``
    an ``array`` of bool, ``True`` where the value is missing.

``nullable-string-array`` groups also carry ``na-value``: ``"NA"`` for pandas ``string``
(``pd.StringDtype(na_value=pd.NA)``) and ``"NaN"`` for pandas 3's default ``str`` dtype
(``pd.StringDtype(na_value=np.nan)``); a missing attribute reads as ``"NA"``.

Writing string arrays follows ``settings.allow_write_nullable_strings`` as anndata 0.13 does:
``False`` writes a plain ``string-array`` (refusing missing values), ``None`` (default) writes
the nullable encoding when ``pd.options.future.infer_string`` is on (pandas 3) and refuses
otherwise, ``True`` always writes it. Nullable floats (``Float64``) have no encoding in the
spec and are refused, as in anndata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._settings import settings
from .._spec import IOSpec
from . import ENCODINGS
from ._common import ElementWriteError, child, invalid, read_attr

if TYPE_CHECKING:
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["NULLABLE_BOOLEAN", "NULLABLE_INTEGER", "NULLABLE_STRING", "write_nullable"]

NULLABLE_INTEGER = IOSpec("nullable-integer", "0.1.0")
NULLABLE_BOOLEAN = IOSpec("nullable-boolean", "0.1.0")
NULLABLE_STRING = IOSpec("nullable-string-array", "0.1.0")


class ImplicitNullableStringError(ElementWriteError, RuntimeError):
    """Nullable strings met with neither setting opting in (a ``RuntimeError`` in anndata)."""


def _string_array_types() -> tuple[type, ...]:
    types: list[type] = [pd.arrays.StringArray]
    for name in ("ArrowStringArray", "ArrowStringArrayNumpySemantics"):
        t = getattr(pd.arrays, name, None)
        if t is not None:
            types.append(t)
    return tuple(types)


def _infer_string() -> bool:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas >= 3 deprecates the (always-on) option
        try:
            return bool(pd.get_option("future.infer_string"))
        except (KeyError, pd.errors.OptionError):  # pragma: no cover - option removed
            return True


def _is_string_array(v: Any) -> bool:
    return isinstance(getattr(v, "dtype", None), pd.StringDtype)


def write_nullable(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a pandas masked array as a ``values`` + ``mask`` group."""
    mask = np.asarray(value.isna(), dtype=bool)
    if _is_string_array(value):
        allow = settings.allow_write_nullable_strings
        if allow is False:
            if mask.any():
                msg = (
                    f"Cannot write string array {key!r} with {int(mask.sum())} missing values "
                    "while annstore.settings.allow_write_nullable_strings is False. Set it to "
                    "True (or None) or fill the missing values."
                )
                raise ElementWriteError(msg)
            from ._arrays import write_ndarray

            return write_ndarray(
                parent, key, np.asarray(value, dtype=object), ctx=ctx, dataset_kwargs=dataset_kwargs
            )
        if allow is None and not _infer_string():
            msg = (
                "annstore.settings.allow_write_nullable_strings is None and "
                "pd.options.future.infer_string is False. Opt in to writing nullable string "
                "arrays by setting either to True, or set allow_write_nullable_strings=False "
                "to write the legacy non-nullable string-array."
            )
            raise ImplicitNullableStringError(msg)
        na = value.dtype.na_value
        if na is pd.NA:
            na_attr = "NA"
        elif isinstance(na, float) and np.isnan(na):
            na_attr = "NaN"
        else:
            msg = f"Cannot write {na!r} as the na-value of a pandas string array {key!r}."
            raise ElementWriteError(msg)
        values: np.ndarray = np.asarray(value.to_numpy(na_value=""), dtype=object)
        spec = NULLABLE_STRING
    else:
        values = value.to_numpy(na_value=0 if value.dtype.kind != "b" else False,
                                dtype=value.dtype.numpy_dtype)
        spec = NULLABLE_BOOLEAN if value.dtype.kind == "b" else NULLABLE_INTEGER
    g = parent.create_group(key)
    if spec is NULLABLE_STRING:
        g.attrs["na-value"] = na_attr
    ctx.write_elem(g, "values", values, dataset_kwargs=dataset_kwargs)
    ctx.write_elem(g, "mask", mask, dataset_kwargs=dataset_kwargs)
    return spec


ENCODINGS.writer(pd.arrays.IntegerArray, NULLABLE_INTEGER)(write_nullable)
ENCODINGS.writer(pd.arrays.BooleanArray, NULLABLE_BOOLEAN)(write_nullable)
for _t in _string_array_types():
    ENCODINGS.writer(_t, NULLABLE_STRING)(write_nullable)


def _values_and_mask(node: GroupLike, ctx: ReadContext) -> tuple[np.ndarray, np.ndarray]:
    vnode = child(node, "values", array=True)
    mnode = child(node, "mask", array=True)
    if len(vnode.shape) != 1 or tuple(vnode.shape) != tuple(mnode.shape):
        raise invalid(
            node,
            f"expected 1-d 'values' and 'mask' of equal length; got shapes "
            f"{tuple(vnode.shape)} and {tuple(mnode.shape)}.",
        )
    mask = np.asarray(ctx.read_elem(mnode))
    if mask.dtype.kind != "b":
        raise invalid(node, f"expected a boolean 'mask'; got dtype {mask.dtype}.")
    return np.asarray(ctx.read_elem(vnode)), mask


@ENCODINGS.reader(NULLABLE_INTEGER)
def read_nullable_integer(node: GroupLike, *, ctx: ReadContext) -> pd.arrays.IntegerArray:
    """Read a nullable integer array (pandas ``Int*``/``UInt*``)."""
    values, mask = _values_and_mask(node, ctx)
    if values.dtype.kind not in "iu":
        raise invalid(node, f"expected integer 'values'; got dtype {values.dtype}.")
    return pd.arrays.IntegerArray(values, mask=mask)


@ENCODINGS.reader(NULLABLE_BOOLEAN)
def read_nullable_boolean(node: GroupLike, *, ctx: ReadContext) -> pd.arrays.BooleanArray:
    """Read a nullable boolean array (pandas ``boolean``)."""
    values, mask = _values_and_mask(node, ctx)
    if values.dtype.kind not in "biu":
        raise invalid(node, f"expected boolean 'values'; got dtype {values.dtype}.")
    return pd.arrays.BooleanArray(values.astype(bool), mask=mask)


@ENCODINGS.reader(NULLABLE_STRING)
def read_nullable_string(node: GroupLike, *, ctx: ReadContext) -> Any:
    """Read a nullable string array as pandas ``str`` (``na-value`` NaN) or ``string`` (NA)."""
    values, mask = _values_and_mask(node, ctx)
    na = read_attr(node, "na-value", "NA")
    if na not in ("NA", "NaN"):
        raise invalid(node, f"expected attribute 'na-value' 'NA' or 'NaN'; got {na!r}.")
    dtype = pd.StringDtype(na_value=np.nan if na == "NaN" else pd.NA)
    obj = np.asarray(values, dtype=object).copy()
    obj[mask] = None
    return pd.array(obj, dtype=dtype)

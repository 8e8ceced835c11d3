"""Dataframe encoding: ``dataframe`` 0.2.0 (writes), and reading the legacy ``dataframe`` 0.1.0.

On-disk layout (0.2.0)
----------------------
A group with attributes

``_index``
    name of the child holding the index: the index's name, or ``"_index"`` when unnamed;
``column-order``
    the column names in order (an empty list when there are none),

and one child per column plus the index, each encoded by its own type (``array``,
``string-array``, ``categorical``, ``nullable-*``). anndata 0.13 writes each column's
backing array (``series._values``), so pandas 3 ``str`` columns and indices become
``nullable-string-array`` (``na-value`` ``"NaN"``) and a ``RangeIndex`` an integer ``array``.

``dataframe`` 0.1.0 (anndata 0.7) has the same attributes, but categorical columns are integer
code arrays with a ``categories`` attribute pointing at ``__categories/<column>``.

Object columns
--------------
An ``object`` column must hold only strings, optionally with missing values (those write as
``nullable-string-array``). A column mixing strings with numbers or other objects is refused
with :class:`UnsupportedValueError` naming the column, the offending value and its row label
(anndata 0.13 fails there too, with h5py's bare "Can't implicitly convert non-string objects
to strings"). Writing is never lossy: convert such columns explicitly.

Reading checks that every listed column exists and has as many rows as the index before
reading anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._spec import IOSpec
from . import ENCODINGS
from ._arrays import classify_object_array
from ._common import ElementWriteError, UnsupportedValueError, invalid, read_attr, read_str_list_attr
from ._mapping import check_key

if TYPE_CHECKING:
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["DATAFRAME", "DATAFRAME_0_1_0"]

DATAFRAME = IOSpec("dataframe", "0.2.0")
DATAFRAME_0_1_0 = IOSpec("dataframe", "0.1.0")


def _check_object_column(df: pd.DataFrame, col: str, values: np.ndarray, where: str) -> None:
    kind, bad = classify_object_array(values)
    if kind != "mixed":
        return
    pos, value = bad
    label = df.index[pos]
    msg = (
        f"Cannot write column {col!r} of dataframe {where!r}: an object column must hold only "
        f"strings (and missing values); found {type(value).__name__} {value!r} at row {label!r} "
        f"(first value: {values[0]!r}). Convert it explicitly, e.g. "
        f"df[{col!r}] = df[{col!r}].astype(str) or .astype('category')."
    )
    raise UnsupportedValueError(msg)


@ENCODINGS.writer(pd.DataFrame, DATAFRAME)
def write_dataframe(
    parent: GroupLike, key: str, df: pd.DataFrame, *, ctx: WriteContext,
    dataset_kwargs: dict[str, Any],
) -> None:
    """Write a dataframe: index and columns as children, names in attributes."""
    where = f"{parent.name.rstrip('/')}/{key}"
    if "_index" in df.columns:
        msg = f"'_index' is a reserved name for dataframe columns (dataframe {where!r})."
        raise ElementWriteError(msg)
    if not df.columns.is_unique:
        dup = list(df.columns[df.columns.duplicated()])
        msg = f"Found repeated column names: {dup!r}. Column names must be unique. (dataframe {where!r})"
        raise ElementWriteError(msg)
    cols = [check_key(c, f"the columns of dataframe {where!r}") for c in df.columns]
    index_name = df.index.name
    if index_name is not None:
        index_name = check_key(index_name, f"the index name of dataframe {where!r}")
        if index_name in cols and not np.array_equal(
            np.asarray(df.index, dtype=object), np.asarray(df[index_name], dtype=object)
        ):
            msg = (
                f"DataFrame.index.name ({index_name!r}) is also used by a column whose values "
                "are different. This is not supported. Please make sure the values are the "
                f"same, or use a different name. (dataframe {where!r})"
            )
            raise ElementWriteError(msg)
    else:
        index_name = "_index"
    for c, (_, s) in zip(cols, df.items(), strict=True):
        if s.dtype == object:
            _check_object_column(df, c, np.asarray(s._values), where)
    if df.index.dtype == object:
        vals = np.asarray(df.index._values)
        kind, bad = classify_object_array(vals)
        if kind == "mixed":
            msg = (
                f"Cannot write the index of dataframe {where!r}: an object index must hold only "
                f"strings; found {type(bad[1]).__name__} {bad[1]!r} at position {bad[0]}."
            )
            raise UnsupportedValueError(msg)
    big = getattr(parent, "create_group_large_attrs", None)  # HDF5: 64 kB attribute limit
    g = big(key) if big is not None and len(cols) > 5_000 else parent.create_group(key)
    g.attrs["_index"] = index_name
    g.attrs["column-order"] = cols
    ctx.write_elem(g, index_name, df.index._values, dataset_kwargs=dataset_kwargs)
    for c, (_, s) in zip(cols, df.items(), strict=True):
        ctx.write_elem(g, c, s._values, dataset_kwargs=dataset_kwargs)


def _elem_len(node: Any) -> int | None:
    """Length of a stored column (first axis) without reading it, when it can be told."""
    if not hasattr(node, "create_group"):
        return int(node.shape[0]) if len(node.shape) else None
    for sub in ("codes", "values", "mask"):
        if sub in node:
            n = node[sub]
            if not hasattr(n, "create_group") and len(n.shape):
                return int(n.shape[0])
    return None


def _check_columns(node: GroupLike, columns: list[str], idx_key: str) -> None:
    missing = [c for c in [idx_key, *columns] if c not in node]
    if missing:
        raise invalid(
            node,
            f"expected columns {missing!r} listed in 'column-order'/'_index'; found "
            f"{sorted(node.keys())!r}.",
        )
    n = _elem_len(node[idx_key])
    if n is None:
        return
    for c in columns:
        m = _elem_len(node[c])
        if m is not None and m != n:
            raise invalid(node, f"expected column {c!r} to have {n} rows like the index; got {m}.")


def _frame(columns: list[str], data: dict[str, Any], index: Any, idx_key: str) -> pd.DataFrame:
    df = pd.DataFrame(data, index=pd.Index(index) if not isinstance(index, pd.Index) else index,
                      columns=columns if columns else None)
    df.index.name = None if idx_key == "_index" else idx_key
    return df


@ENCODINGS.reader(DATAFRAME)
def read_dataframe(node: GroupLike, *, ctx: ReadContext) -> pd.DataFrame:
    """Read a dataframe (columns in ``column-order``, index from ``_index``)."""
    columns = read_str_list_attr(node, "column-order")
    idx_key = read_attr(node, "_index")
    if not isinstance(idx_key, str):
        raise invalid(node, f"expected attribute '_index' to be a string; got {idx_key!r}.")
    _check_columns(node, columns, idx_key)
    data = {c: ctx.read_elem(node[c]) for c in columns}
    index = ctx.read_elem(node[idx_key])
    for c, v in [*data.items(), (idx_key, index)]:
        if isinstance(v, dict) or np.ndim(v) != 1:
            raise invalid(
                node[c],
                f"expected a 1-d column (array, categorical or nullable array); read a "
                f"{type(v).__name__}{'' if isinstance(v, dict) else f' of shape {np.shape(v)}'} instead.",
            )
    return _frame(columns, data, index, idx_key)


def _read_series_0_1_0(node: GroupLike, col: str, ctx: ReadContext) -> Any:
    from ._categorical import categorical_from_codes

    elem = node[col]
    if hasattr(elem, "create_group") or "categories" not in elem.attrs:
        return ctx.read_elem(elem)
    ref = elem.attrs["categories"]
    cats_node = None
    if isinstance(ref, bytes):
        ref = ref.decode()
    if isinstance(ref, str):
        base = node.name.rstrip("/") + "/"
        rel = ref[len(base):] if ref.startswith(base) else ref.lstrip("/")
        if rel in node:
            cats_node = node[rel]
    elif hasattr(ref, "attrs"):
        cats_node = ref
    if cats_node is None and f"__categories/{col}" in node:
        cats_node = node[f"__categories/{col}"]
    if cats_node is None:
        raise invalid(node, f"column {col!r} points at categories {ref!r}, which do not exist.")
    categories = ctx.read_elem(cats_node)
    ordered = bool(read_attr(cats_node, "ordered", False))
    return categorical_from_codes(elem, np.asarray(ctx.read_elem(elem)), categories, ordered)


@ENCODINGS.reader(DATAFRAME_0_1_0)
def read_dataframe_0_1_0(node: GroupLike, *, ctx: ReadContext) -> pd.DataFrame:
    """Read an anndata 0.7 dataframe (categoricals as codes + ``__categories``)."""
    columns = read_str_list_attr(node, "column-order")
    idx_key = read_attr(node, "_index")
    _check_columns(node, columns, idx_key)
    data = {c: _read_series_0_1_0(node, c, ctx) for c in columns}
    index = _read_series_0_1_0(node, idx_key, ctx)
    return _frame(columns, data, index, idx_key)

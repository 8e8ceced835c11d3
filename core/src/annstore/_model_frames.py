"""Building obs/var DataFrames and validating obs_names/var_names for the AnnData model."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from pandas.api.types import infer_dtype, is_integer_dtype, is_string_dtype

from ._settings import settings
from .errors import ImplicitModificationWarning, ShapeMismatchError

from ._xarray import Dataset2D, is_xr_dataset

__all__ = ["as_str_index", "gen_dataframe", "gen_index", "make_index_unique", "prep_dim_index"]


#: pandas' default dtype for strings: "str" from pandas 3 on, object before.
_DEFAULT_STR_DTYPE = pd.Index(["a"]).dtype


def gen_index(n: int) -> pd.Index:
    """The default names ``'0'``, ``'1'``, ... as a string index."""
    return pd.RangeIndex(n).astype(str)


def as_str_index(idx: pd.Index) -> pd.Index:
    """Convert an index to strings, keeping missing values missing."""
    if isinstance(idx.dtype, pd.StringDtype):
        return idx
    return idx.astype(pd.StringDtype(na_value=idx.array.dtype.na_value)).astype(_DEFAULT_STR_DTYPE)


def _length_error(source: str, attr: str, expected: int, actual: int) -> ShapeMismatchError:
    what = "rows" if attr == "obs" else "columns"
    axis = "n_obs" if attr == "obs" else "n_vars"
    if source == "X":
        msg = (
            f"Observations annot. `{attr}` must have as many rows as `X` has {what[:-1]}s "
            f"({expected}), but has {actual} rows."
        )
    else:
        msg = f"`shape` is inconsistent with `{attr}`: expected {expected} rows ({axis}); got {actual} rows instead."
    return ShapeMismatchError(msg)


def gen_dataframe(
    anno: Any, index_names: Iterable[str], *, source: str, attr: str, length: int | None = None
) -> pd.DataFrame:
    """Turn ``anno`` (None, a mapping or a DataFrame) into the ``obs``/``var`` DataFrame.

    An :class:`xarray.Dataset` is wrapped in (and a ``Dataset2D`` kept as) a ``Dataset2D``.
    """
    if is_xr_dataset(anno):
        anno = Dataset2D(anno)
    if isinstance(anno, Dataset2D):
        if length is not None and length != anno.shape[0]:
            raise _length_error(source, attr, length, anno.shape[0])
        return anno
    if anno is None or (isinstance(anno, Mapping) and not isinstance(anno, pd.DataFrame)):
        anno = dict(anno or {})
        for name in index_names:
            if name in anno:
                df = pd.DataFrame(anno, index=anno[name], columns=[k for k in anno if k != name])
                break
        else:
            df = pd.DataFrame(
                anno,
                index=None if length is None else gen_index(length),
                columns=None if anno else pd.Index([], dtype="str"),
            )
        if length is None:
            df.index = gen_index(len(df))
        elif length != len(df):
            raise _length_error(source, attr, length, len(df))
        if not isinstance(df.index, pd.RangeIndex) and not is_string_dtype(df.index):
            df.index = as_str_index(df.index)
        return df
    if isinstance(anno, pd.DataFrame):
        if isinstance(anno.index, pd.MultiIndex) and settings.restrict_index_types:
            msg = (
                "pandas.MultiIndex not supported as index for obs or var on declaration.\n"
                "You can set `obs_names` manually although most operations after will error or convert to str.\n"
                "You can also opt out of `settings.restrict_index_types` which will allow pandas.MultiIndex."
            )
            raise ValueError(msg)
        if isinstance(anno.columns, pd.MultiIndex):
            msg = f"MultiIndex columns are not supported in AnnData. Please use a single-level index for {attr}."
            raise ValueError(msg)
        if length is not None and length != len(anno):
            raise _length_error(source, attr, length, len(anno))
        anno = anno.copy(deep=False)
        if (
            settings.restrict_index_types and not is_string_dtype(anno.index[~anno.index.isna()])
        ) or is_integer_dtype(anno.index):
            warnings.warn("Transforming to str index.", ImplicitModificationWarning, stacklevel=4)
            anno.index = as_str_index(anno.index)
        if not len(anno.columns):
            anno.columns = as_str_index(anno.columns)
        return anno
    msg = f"Cannot convert {type(anno)} to {attr} DataFrame: expected a DataFrame or a mapping of columns."
    raise ValueError(msg)


def prep_dim_index(value: Any, attr: str, expected_len: int, shape: tuple[int, int]) -> pd.Index:
    """Validate new ``obs_names``/``var_names``: length, name type, string values."""
    if len(value) != expected_len:
        msg = (
            f"Length of passed value for {attr}_names is {len(value)}, but this AnnData has "
            f"shape: {shape}"
        )
        raise ShapeMismatchError(msg)
    if settings.restrict_index_types and isinstance(value, pd.Index) and not isinstance(value.name, str | None):
        msg = (
            f"AnnData expects .{attr}.index.name to be a string or None, but you passed a name "
            f"of type {type(value.name).__name__!r}"
        )
        raise ValueError(msg)
    if not isinstance(value, pd.Index):
        value = as_str_index(pd.Index(value))
    if not isinstance(value.name, str | None):  # e.g. a Series named 0 (anndata drops the name)
        value = value.rename(None)
    if (
        settings.restrict_index_types
        and len(value) > 0
        and not isinstance(value, pd.RangeIndex)
        and infer_dtype(value) not in {"string", "bytes"}
    ):
        sample = list(value[: min(len(value), 5)])
        msg = (
            f"AnnData expects .{attr}.index to contain strings, but got values like:\n"
            f"    {sample}\n\n    Inferred to be: {infer_dtype(value)}"
        )
        warnings.warn(msg, UserWarning, stacklevel=4)
    return value


def make_index_unique(index: pd.Index, join: str = "-") -> pd.Index:
    """Suffix repeated names with ``join`` + a counter (``a``, ``a-1``, ``a-2``), keeping the first.

    A candidate name that already exists is skipped (the counter advances), with a warning.

    Parameters
    ----------
    index
        The names.
    join
        The separator between a name and its counter.

    Returns
    -------
    pandas.Index
        The unique names, in the same order.
    """
    if index.is_unique:
        return index
    values = index.array.copy()  # keeps the index's array type (a ``string`` index stays one)
    dup = index.duplicated(keep="first") & ~index.isna()
    taken = set(values)
    counters: dict[Any, int] = {}
    collisions: list[str] = []
    positions = dup.nonzero()[0]
    renamed: list[str] = []
    for i in positions:
        v = values[i]
        while True:
            counters[v] = counters.get(v, 0) + 1
            candidate = f"{v}{join}{counters[v]}"
            if candidate not in taken:
                taken.add(candidate)
                renamed.append(candidate)
                break
            collisions.append(candidate)
    if collisions:
        msg = (
            f"Suffix used ({join}[0-9]+) to deduplicate index values may make index values "
            "difficult to interpret. There values with a similar suffixes in the index. "
            f"Consider using a different delimiter by passing `join={{delimiter}}`. Example key "
            f"collisions generated by the make_index_unique algorithm: {collisions[:5]}"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    values[positions] = renamed
    # dtype re-inferred for object arrays, as anndata does: an object index holding None becomes str with NaN
    return pd.Index(values, name=index.name)

"""Merge strategies for values not aligned to the concatenation axis (``concat(merge=, uns_merge=)``).

A strategy takes a sequence of mappings (one per input: ``uns`` dicts, reindexed ``varm``
elements, or the reindexed ``var`` DataFrames, whose keys are their columns) and returns one
mapping. The built-in strategies walk nested mappings recursively:

``"same"``
    keys present in every input whose values are all equal;
``"unique"``
    keys (from any input) whose present values are all equal;
``"first"``
    the first value seen for each key;
``"only"``
    keys present in exactly one input.

A nested mapping is merged key by key; a nested mapping that ends up empty is dropped. A key
whose values mix mappings and non-mappings is decided on the values themselves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from ._xarray import Dataset2D
from .errors import AnnstoreError

__all__ = [
    "MISSING",
    "MergeStrategy",
    "equal",
    "first",
    "intersect_keys",
    "merge_first",
    "merge_nested",
    "merge_only",
    "merge_same",
    "merge_unique",
    "only",
    "resolve_merge_strategy",
    "union_keys",
    "unique_value",
]

MergeStrategy = Callable[[Sequence[Mapping[Any, Any]]], Mapping[Any, Any]]
StrategyName = Literal["same", "unique", "first", "only"]


class _Missing:
    """Sentinel type: no value could be chosen for a key."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


class UnknownMergeStrategyError(AnnstoreError, ValueError, KeyError):
    """A merge strategy name is not one of the built-in ones.

    Also a :class:`KeyError`, which anndata raises (its strategies are looked up in a dict).
    """

    __str__ = Exception.__str__  # the message as is, not quoted as a KeyError's


# ------------------------------------------------------------------ key joins


def union_keys(mappings: Iterable[Iterable[Any]]) -> list[Any]:
    """Keys of all ``mappings``, in order of first appearance."""
    out: dict[Any, None] = {}
    for m in mappings:
        for k in m:
            out.setdefault(k, None)
    return list(out)


def intersect_keys(mappings: Iterable[Iterable[Any]]) -> list[Any]:
    """Keys present in every one of ``mappings``, in the order of the *last* one (as anndata)."""
    mappings = list(mappings)
    if not mappings:
        return []
    keys = list(dict.fromkeys(mappings[-1]))
    for m in mappings[:-1]:
        present = m if isinstance(m, Mapping | pd.DataFrame) else set(m)
        keys = [k for k in keys if k in present]
    return keys


# ------------------------------------------------------------------ equality


def _is_dask(x: Any) -> bool:
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def _dense_equal(a: np.ndarray, b: np.ndarray) -> bool:
    # Compare through pandas so that NaN == NaN and the column dtype has to match
    # (an int64 array never equals a float64 array, as in anndata).
    if a.shape != b.shape:
        return False
    return pd.DataFrame(a.reshape(-1)).equals(pd.DataFrame(b.reshape(-1)))


def _to_numpy(x: Any) -> np.ndarray:
    if sparse.issparse(x):
        return x.toarray()
    if _is_dask(x):
        return _to_numpy(x.compute())
    return np.asarray(x)


def equal(a: Any, b: Any) -> bool:
    """Whether two values count as the same for merging.

    NaNs in the same positions are equal; arrays of different dtypes or shapes are not;
    a sparse matrix never equals a dense array; DataFrames and Series use ``.equals``.
    """
    if a is b and not isinstance(a, float | np.floating):
        return True
    if isinstance(a, pd.DataFrame | pd.Series | Dataset2D):
        return bool(a.equals(b))
    if type(a).__module__.split(".")[0] == "awkward":
        import awkward as ak

        try:
            return bool(ak.almost_equal(a, b))
        except Exception:  # noqa: BLE001 - not comparable: not equal
            return False
    if sparse.issparse(a):
        if not sparse.issparse(b):
            return False
        if a.shape != b.shape:
            return False
        diff = a != b
        if isinstance(diff, bool | np.bool_):
            return not diff
        if diff.nnz == 0:
            return True
        rows, cols = diff.nonzero()
        av = np.asarray(a[rows, cols]).ravel()
        bv = np.asarray(b[rows, cols]).ravel()
        return bool(np.isnan(av).all() and np.isnan(bv).all()) if av.dtype.kind == "f" else False
    if _is_dask(a):
        if a.shape != getattr(b, "shape", None):
            return False
        return equal(a.compute(), b.compute() if _is_dask(b) else b)
    if isinstance(a, np.ndarray):
        return _dense_equal(a, _to_numpy(b))
    # Scalars, lists, strings and other objects: compare as numpy arrays.
    try:
        an, bn = np.asarray(a), _to_numpy(b)
    except Exception:  # objects numpy cannot hold: fall back to ==
        return bool(a == b)
    if an.ndim == 0 and bn.ndim == 0:
        try:
            return bool(an == bn)
        except Exception:
            return False
    if an.dtype.names is not None or bn.dtype.names is not None:
        return bool(np.array_equal(an, bn))
    try:
        a_na, b_na = pd.isna(an), pd.isna(bn)
        return bool(np.array_equal(a_na, b_na) and np.array_equal(an[~a_na], bn[~b_na]))
    except Exception:
        return False


# ------------------------------------------------------------------ value choices


def unique_value(vals: Sequence[Any]) -> Any:
    """The value shared by all ``vals``, else :data:`MISSING`."""
    ref = vals[0]
    for v in vals[1:]:
        if not equal(v, ref):
            return MISSING
    return ref


def first(vals: Sequence[Any]) -> Any:
    """The first of ``vals`` that is not :data:`MISSING`."""
    for v in vals:
        if v is not MISSING:
            return v
    return MISSING


def only(vals: Sequence[Any]) -> Any:
    """The single value of ``vals`` if there is exactly one, else :data:`MISSING`."""
    return vals[0] if len(vals) == 1 else MISSING


# ------------------------------------------------------------------ recursive merge


def _is_mapping(x: Any) -> bool:
    return isinstance(x, Mapping) and not isinstance(x, Dataset2D)


def merge_nested(
    mappings: Sequence[Any],
    keys_join: Callable[[Sequence[Any]], list[Any]],
    value_join: Callable[[Sequence[Any]], Any],
) -> dict[Any, Any]:
    """Merge ``mappings`` key by key, recursing into values that are all mappings.

    Parameters
    ----------
    mappings
        One mapping (or DataFrame, keyed by column) per input.
    keys_join
        Chooses the keys to consider (:func:`union_keys` or :func:`intersect_keys`).
    value_join
        Picks the value of a key from the values present (:func:`unique_value`,
        :func:`first`, :func:`only`); returning :data:`MISSING` drops the key.
    """
    out: dict[Any, Any] = {}
    for k in keys_join(mappings):
        vals = [m[k] for m in mappings if k in m]
        if not vals:
            continue
        if all(_is_mapping(v) for v in vals):
            v = merge_nested(vals, keys_join, value_join)
            if not v:
                continue
        else:
            v = value_join(vals)
            if v is MISSING:
                continue
        out[k] = v
    return out


def merge_same(mappings: Sequence[Any]) -> dict[Any, Any]:
    """Keep keys present in every input with equal values."""
    return merge_nested(mappings, intersect_keys, unique_value)


def merge_unique(mappings: Sequence[Any]) -> dict[Any, Any]:
    """Keep keys whose present values are all equal."""
    return merge_nested(mappings, union_keys, unique_value)


def merge_first(mappings: Sequence[Any]) -> dict[Any, Any]:
    """Keep the first value seen for each key."""
    return merge_nested(mappings, union_keys, first)


def merge_only(mappings: Sequence[Any]) -> dict[Any, Any]:
    """Keep keys present in exactly one input."""
    return merge_nested(mappings, union_keys, only)


def _merge_none(mappings: Sequence[Any]) -> dict[Any, Any]:
    return {}


_STRATEGIES: Final[dict[str | None, MergeStrategy]] = {
    None: _merge_none,
    "same": merge_same,
    "unique": merge_unique,
    "first": merge_first,
    "only": merge_only,
}


def resolve_merge_strategy(strategy: StrategyName | MergeStrategy | None) -> MergeStrategy:
    """Turn a strategy name (or ``None``, which keeps nothing) into a callable."""
    if callable(strategy):
        return strategy
    try:
        return _STRATEGIES[strategy]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in _STRATEGIES)
        msg = f"Expected a merge strategy among {known} or a callable; got {strategy!r} instead."
        raise UnknownMergeStrategyError(msg) from None

"""Categorical encoding: ``categorical`` 0.2.0.

On-disk layout
--------------
A group with attribute ``ordered`` (bool) and two children:

``codes``
    an ``array`` of signed integers (pandas' smallest code dtype, ``int8`` for up to 127
    categories), ``-1`` where the value is missing;
``categories``
    the categories, encoded by their own type (``string-array`` for strings, ``array`` for
    numbers and bools).

Reading checks that every code lies in ``[-1, len(categories))`` before building the
``pd.Categorical``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._spec import IOSpec
from . import ENCODINGS
from ._common import child, invalid, read_attr

if TYPE_CHECKING:
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["CATEGORICAL"]

CATEGORICAL = IOSpec("categorical", "0.2.0")


@ENCODINGS.writer(pd.Categorical, CATEGORICAL)
def write_categorical(
    parent: GroupLike, key: str, value: pd.Categorical, *, ctx: WriteContext,
    dataset_kwargs: dict[str, Any],
) -> None:
    """Write codes and categories of a ``pd.Categorical``."""
    g = parent.create_group(key)
    g.attrs["ordered"] = bool(value.ordered)
    ctx.write_elem(g, "codes", np.asarray(value.codes), dataset_kwargs=dataset_kwargs)
    ctx.write_elem(g, "categories", value.categories.to_numpy(), dataset_kwargs=dataset_kwargs)


@ENCODINGS.reader(CATEGORICAL)
def read_categorical(node: GroupLike, *, ctx: ReadContext) -> pd.Categorical:
    """Read a ``pd.Categorical`` after checking codes against the categories."""
    cnode = child(node, "codes", array=True)
    catnode = child(node, "categories")
    if len(cnode.shape) != 1:
        raise invalid(node, f"expected 1-d 'codes'; got shape {tuple(cnode.shape)}.")
    ordered = read_attr(node, "ordered", False)
    categories = ctx.read_elem(catnode)
    codes = np.asarray(ctx.read_elem(cnode))
    return categorical_from_codes(node, codes, categories, bool(ordered))


def categorical_from_codes(
    node: Any, codes: np.ndarray, categories: Any, ordered: bool
) -> pd.Categorical:
    """``pd.Categorical.from_codes`` with a file-level error on bad codes."""
    if codes.dtype.kind not in "iu":
        raise invalid(node, f"expected integer codes; got dtype {codes.dtype}.")
    n = len(categories)
    if codes.size:
        lo, hi = int(codes.min()), int(codes.max())
        if lo < -1 or hi >= n:
            raise invalid(
                node,
                f"expected codes in [-1, {n}) for {n} categories; found codes from {lo} to {hi}.",
            )
    if codes.dtype.kind == "u":
        codes = codes.astype(np.int64)
    try:
        return pd.Categorical.from_codes(codes, categories=categories, ordered=ordered)
    except ValueError as e:
        raise invalid(node, f"invalid categories: {e}") from e

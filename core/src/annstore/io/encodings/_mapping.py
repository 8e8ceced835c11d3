"""Mapping encodings: ``dict`` 0.1.0 and ``null`` 0.1.0.

On-disk layout
--------------
``dict`` 0.1.0
    A group whose children are the mapping's values, each encoded by its own type and named
    by its key (keys must be ``str`` without ``/``).
``null`` 0.1.0
    ``None``: a 0-d boolean array with no meaningful value (zarr's layout; the h5ad plugin
    overrides it with an empty ``h5py.Empty("f")`` dataset, as anndata writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._spec import IOSpec
from . import ENCODINGS
from ._common import UnsupportedValueError, scalar_kwargs

if TYPE_CHECKING:
    from ...types import ArrayLike, GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["DICT", "NULL", "write_mapping"]

DICT = IOSpec("dict", "0.1.0")
NULL = IOSpec("null", "0.1.0")


def check_key(key: Any, where: str) -> str:
    """Return ``key`` as ``str``; refuse non-string keys (anndata's ``check_key``)."""
    if isinstance(key, str):
        return str(key)
    msg = (
        f"Expected str keys in {where}; got {type(key).__name__} {key!r} instead. "
        "Convert the key to a string."
    )
    raise UnsupportedValueError(msg)


@ENCODINGS.writer(dict, DICT)
def write_mapping(
    parent: GroupLike, key: str, value: Mapping[str, Any], *, ctx: WriteContext,
    dataset_kwargs: dict[str, Any],
) -> None:
    """Write a mapping as a group of its encoded values."""
    g = parent.create_group(key)
    for k, v in value.items():
        ctx.write_elem(g, check_key(k, "a mapping"), v, dataset_kwargs=dataset_kwargs)


@ENCODINGS.reader(DICT)
def read_mapping(node: GroupLike, *, ctx: ReadContext) -> dict[str, Any]:
    """Read a group as a ``dict`` of its decoded children."""
    return {k: ctx.read_elem(node[k]) for k in node.keys()}


@ENCODINGS.writer(type(None), NULL)
def write_null(
    parent: GroupLike, key: str, value: None, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> None:
    """Write ``None`` as a placeholder 0-d array."""
    parent.create_array(key, data=np.zeros((), dtype=bool), **scalar_kwargs(dataset_kwargs))


@ENCODINGS.reader(NULL)
def read_null(node: ArrayLike, *, ctx: ReadContext) -> None:
    """``None``."""
    return None

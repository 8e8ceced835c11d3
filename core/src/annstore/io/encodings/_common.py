"""Helpers shared by the element encodings: attribute parsing, validation errors, storage options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import ElementWriteError, InvalidFileError, UnsupportedValueError

__all__ = [
    "ElementWriteError",
    "UnsupportedValueError",
    "array_kwargs",
    "child",
    "invalid",
    "read_attr",
    "scalar_kwargs",
]

_MISSING: Any = object()

#: Storage options that make no sense for 0-d arrays (HDF5 refuses to compress scalars).
_SCALAR_DROP = (
    "compression",
    "compression_opts",
    "chunks",
    "shuffle",
    "fletcher32",
    "scaleoffset",
    "compressor",
    "shards",
)


def invalid(node: Any, what: str) -> InvalidFileError:
    """An :class:`InvalidFileError` for ``node`` (its path and file are part of the message)."""
    name = getattr(node, "name", "?")
    fn = getattr(node, "filename", None)
    where = f" in {getattr(node, 'format', '?')} file {str(fn)!r}" if fn else ""
    return InvalidFileError(f"Malformed element {name!r}{where}: {what}", filename=fn, path=name)


def _plain(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return _plain(v[()])
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return v


def read_attr(node: Any, key: str, default: Any = _MISSING) -> Any:
    """Attribute ``key`` of ``node`` as plain Python (``str``/``int``/``float``/``bool``/``list``).

    Raises :class:`InvalidFileError` naming the element when the attribute is missing and no
    default is given.
    """
    attrs = node.attrs
    if key not in attrs:
        if default is _MISSING:
            raise invalid(node, f"expected attribute {key!r}; found only {sorted(attrs)!r}.")
        return default
    return _plain(attrs[key])


def read_str_list_attr(node: Any, key: str) -> list[str]:
    """A list-of-strings attribute (``column-order``); an empty numeric array reads as ``[]``."""
    v = read_attr(node, key)
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list):
        raise invalid(node, f"expected attribute {key!r} to be a list of strings; got {v!r}.")
    bad = [x for x in v if not isinstance(x, str)]
    if bad:
        raise invalid(node, f"expected attribute {key!r} to hold strings; got {bad[0]!r}.")
    return v


def child(node: Any, key: str, *, array: bool | None = None) -> Any:
    """``node[key]``, raising :class:`InvalidFileError` when missing or of the wrong node kind."""
    if key not in node:
        raise invalid(node, f"expected a child {key!r}; found {sorted(node.keys())!r}.")
    c = node[key]
    if array is not None and array == hasattr(c, "create_group"):
        kind = "an array" if array else "a group"
        raise invalid(node, f"expected {key!r} to be {kind}.")
    return c


def scalar_kwargs(dataset_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``dataset_kwargs`` without the options that cannot apply to 0-d arrays."""
    return {k: v for k, v in dataset_kwargs.items() if k not in _SCALAR_DROP}


def array_kwargs(dataset_kwargs: Mapping[str, Any], ndim: int) -> dict[str, Any]:
    """``dataset_kwargs`` fitted to an ``ndim``-dimensional array (chunk tuples trimmed)."""
    kw = dict(dataset_kwargs)
    if ndim == 0:
        return scalar_kwargs(kw)
    chunks = kw.get("chunks")
    if isinstance(chunks, tuple | list) and len(chunks) != ndim:
        kw["chunks"] = tuple(chunks[:ndim]) if len(chunks) > ndim else None
        if kw["chunks"] is None:
            del kw["chunks"]
    return kw

"""The built-in ``memory`` format: a dict-backed store implementing the store protocol.

Stores live in a process-wide table keyed by the path they were opened with, like zarr's
``MemoryStore``. It is the reference adapter: core's encodings and the conformance suite run
against it with no storage plugin installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..types import OpenMode
from ._adapter import ArrayBase, GroupBase, StoreAttrs, plain_attr

__all__ = ["MemoryArray", "MemoryGroup", "open_memory_store"]

_STORES: dict[str, MemoryGroup] = {}


class _Attrs(StoreAttrs):
    """Attributes in a ``dict``, normalised on write (numeric arrays copied)."""

    __slots__ = ()

    def encode(self, value: Any) -> Any:
        v = plain_attr(value, keep_arrays=True)
        return v.copy() if isinstance(v, np.ndarray) else v


class MemoryArray(ArrayBase):
    """An in-memory :class:`~annstore.types.ArrayLike`."""

    format = "memory"
    store_kind = "memory store"

    def __init__(self, name: str, data: np.ndarray, filename: str | None) -> None:
        super().__init__(name, filename)
        self._data = data
        self._attrs = _Attrs({}, self)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._data.dtype

    @property
    def attrs(self) -> _Attrs:
        return self._attrs

    @property
    def native(self) -> np.ndarray:
        return self._data

    def __getitem__(self, sel: Any) -> Any:
        out = self._data[sel]
        return out.copy() if isinstance(out, np.ndarray) else out

    def __setitem__(self, sel: Any, value: Any) -> None:
        self._data[sel] = value

    def _resize(self, shape: tuple[int, ...]) -> None:
        new = np.zeros(shape, dtype=self._data.dtype)
        common = tuple(slice(0, min(a, b)) for a, b in zip(shape, self._data.shape, strict=True))
        new[common] = self._data[common]
        self._data = new

    def _identity(self) -> Any:
        return id(self)


class MemoryGroup(GroupBase):
    """An in-memory :class:`~annstore.types.GroupLike`."""

    format = "memory"
    store_kind = "memory store"

    def __init__(self, name: str = "/", filename: str | None = None) -> None:
        super().__init__(name, filename)
        self._children: dict[str, MemoryGroup | MemoryArray] = {}
        self._attrs = _Attrs({}, self)

    @property
    def attrs(self) -> _Attrs:
        return self._attrs

    @property
    def native(self) -> MemoryGroup:
        return self

    def _identity(self) -> Any:
        return id(self)

    def keys(self) -> list[str]:
        return list(self._children)

    def _child(self, key: str) -> MemoryGroup | MemoryArray | None:
        return self._children.get(key)

    def _remove(self, key: str) -> None:
        del self._children[key]

    def _new_group(self, name: str) -> MemoryGroup:
        g = MemoryGroup(self.child_path(name), self.filename)
        self._children[name] = g
        return g

    def _new_array(
        self, name: str, data: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype[Any],
        options: dict[str, Any],
    ) -> MemoryArray:
        if data is None:
            arr = np.full(shape, "", dtype=object) if dtype.kind == "O" else np.zeros(shape, dtype=dtype)
        else:
            arr = data.astype(object) if dtype.kind == "O" else data.copy()
        a = MemoryArray(self.child_path(name), arr, self.filename)
        self._children[name] = a
        return a

    def _repr_extra(self) -> str:
        return f" ({len(self._children)} members)"


def open_memory_store(path: Any, mode: OpenMode) -> MemoryGroup:
    """Open the in-memory store registered under ``path`` (``w`` creates it afresh)."""
    key = str(path)
    if mode == "w" or (mode == "a" and key not in _STORES):
        _STORES[key] = MemoryGroup("/", key)
    elif key not in _STORES:
        msg = f"No memory store named {key!r}"
        raise FileNotFoundError(msg)
    return _STORES[key]


def drop_memory_store(path: Any) -> None:
    """Forget the in-memory store registered under ``path``."""
    _STORES.pop(str(path), None)

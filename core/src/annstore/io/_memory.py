"""The built-in ``memory`` format: a dict-backed store implementing the store protocol.

Stores live in a process-wide table keyed by the path they were opened with, like zarr's
``MemoryStore``. It is the reference adapter: core's encodings and the conformance suite run
against it with no storage plugin installed.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from ..types import OpenMode
from ._dispatch import join_path

__all__ = ["MemoryArray", "MemoryGroup", "open_memory_store"]

_STORES: dict[str, MemoryGroup] = {}


def _norm_attr(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OUS":
            return [str(x) for x in v.tolist()]
        return v.copy()
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


class _Attrs(MutableMapping[str, Any]):
    def __init__(self) -> None:
        self._d: dict[str, Any] = {}

    def __getitem__(self, k: str) -> Any:
        return self._d[k]

    def __setitem__(self, k: str, v: Any) -> None:
        self._d[k] = _norm_attr(v)

    def __delitem__(self, k: str) -> None:
        del self._d[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _to_stored(data: Any) -> np.ndarray:
    arr = np.asarray(data)
    if arr.dtype.kind == "U" or (arr.dtype.kind == "O"):
        out = np.empty(arr.shape, dtype=object)
        flat = out.reshape(-1)
        for i, x in enumerate(arr.reshape(-1).tolist()):
            if not isinstance(x, str):
                msg = f"Expected str elements in a string array; got {type(x).__name__} {x!r} instead."
                raise TypeError(msg)
            flat[i] = x
        return out
    if arr.dtype.kind == "S":
        msg = "Byte-string arrays are not supported; decode them to str first."
        raise TypeError(msg)
    return arr.copy()


class MemoryArray:
    """An in-memory :class:`~annstore.types.ArrayLike`."""

    _annstore_node = True
    supports_fancy = True
    format = "memory"

    def __init__(self, name: str, data: np.ndarray, filename: str | None) -> None:
        self.name = name
        self.filename = filename
        self._data = data
        self._attrs = _Attrs()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._data.dtype

    @property
    def attrs(self) -> _Attrs:
        return self._attrs

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, sel: Any) -> Any:
        out = self._data[sel]
        return out.copy() if isinstance(out, np.ndarray) else out

    def __setitem__(self, sel: Any, value: Any) -> None:
        self._data[sel] = value

    def resize(self, shape: tuple[int, ...] | int) -> None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        new = np.zeros(shape, dtype=self._data.dtype)
        common = tuple(slice(0, min(a, b)) for a, b in zip(shape, self._data.shape, strict=True))
        new[common] = self._data[common]
        self._data = new

    def read_into(self, out: np.ndarray, selection: Any = ()) -> None:
        out[...] = self._data[selection]

    def __repr__(self) -> str:
        return f"<MemoryArray {self.name!r} shape={self.shape} dtype={self.dtype}>"


class MemoryGroup:
    """An in-memory :class:`~annstore.types.GroupLike`."""

    _annstore_node = True
    format = "memory"

    def __init__(self, name: str = "/", filename: str | None = None) -> None:
        self.name = name
        self.filename = filename
        self._children: dict[str, MemoryGroup | MemoryArray] = {}
        self._attrs = _Attrs()

    @property
    def attrs(self) -> _Attrs:
        return self._attrs

    def keys(self) -> list[str]:
        return list(self._children)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._children))

    def __len__(self) -> int:
        return len(self._children)

    def _resolve(self, key: str) -> tuple[MemoryGroup, str]:
        parts = [p for p in key.split("/") if p]
        node = self
        for p in parts[:-1]:
            child = node._children[p]
            if not isinstance(child, MemoryGroup):
                raise KeyError(key)
            node = child
        if not parts:
            raise KeyError(key)
        return node, parts[-1]

    def __getitem__(self, key: str) -> MemoryGroup | MemoryArray:
        if key in ("/", ""):
            return self
        node, last = self._resolve(key)
        try:
            return node._children[last]
        except KeyError:
            msg = f"{key!r} not found in group {self.name!r}"
            raise KeyError(msg) from None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: str) -> None:
        node, last = self._resolve(key)
        del node._children[last]

    def _check_new(self, name: str) -> None:
        if not name or "/" in name:
            msg = f"Expected a non-empty key without '/'; got {name!r} instead."
            raise ValueError(msg)
        if name in self._children:
            msg = f"{name!r} already exists in group {self.name!r}"
            raise ValueError(msg)

    def create_group(self, name: str) -> MemoryGroup:
        self._check_new(name)
        g = MemoryGroup(join_path(self.name, name), self.filename)
        self._children[name] = g
        return g

    def require_group(self, name: str) -> MemoryGroup:
        if name in self._children and isinstance(self._children[name], MemoryGroup):
            return self._children[name]  # type: ignore[return-value]
        return self.create_group(name)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> MemoryArray:
        self._check_new(name)
        if data is None:
            if shape is None:
                msg = "create_array needs data or shape"
                raise TypeError(msg)
            dt = np.dtype(dtype if dtype is not None else "f8")
            arr = np.empty(shape, dtype=object) if dt.kind in "OUT" else np.zeros(shape, dtype=dt)
            if dt.kind in "OUT":
                arr[...] = ""
        else:
            arr = _to_stored(data)
            if dtype is not None and np.dtype(dtype).kind not in "OUT":
                arr = arr.astype(dtype)
        a = MemoryArray(join_path(self.name, name), arr, self.filename)
        self._children[name] = a
        return a

    def close(self) -> None:
        """Nothing to release; present for the store protocol."""

    def __enter__(self) -> MemoryGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<MemoryGroup {self.name!r} ({len(self._children)} members)>"


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

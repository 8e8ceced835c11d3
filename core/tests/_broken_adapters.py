"""Deliberately broken store adapters over the built-in ``memory`` format, for proving that
:class:`annstore.testing.FormatTests` catches each defect.

Every format ``broken-<defect>`` opens the memory store and wraps its nodes; the wrapper
changes one behaviour (``broken-none`` changes nothing, the control). The plugin object is
registered through a fake entry point by the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from annstore import FormatInfo, hookimpl
from annstore import hookspecs as _hookspecs

DEFECTS = (
    "none",
    "strings-as-U",  # string arrays come back as numpy <U arrays
    "strings-report-U",  # string arrays report a <U dtype
    "dtype-wrong",  # integer arrays report int64 whatever they hold
    "attrs-tuples",  # list attributes come back as tuples
    "resize-raises",
    "read_into-raises",
    "setitem-raises",
    "missing-not-keyerror",  # a missing key raises LookupError's sibling IndexError
)


class _Attrs(MutableMapping[str, Any]):
    def __init__(self, inner: Any, defect: str) -> None:
        self._inner, self._defect = inner, defect

    def __getitem__(self, k: str) -> Any:
        v = self._inner[k]
        return tuple(v) if self._defect == "attrs-tuples" and isinstance(v, list) else v

    def __setitem__(self, k: str, v: Any) -> None:
        self._inner[k] = v

    def __delitem__(self, k: str) -> None:
        del self._inner[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)


class _Node:
    _annstore_node = True

    def __init__(self, inner: Any, fmt: str) -> None:
        self._inner = inner
        self.format = fmt
        self.name = inner.name
        self.filename = inner.filename

    @property
    def defect(self) -> str:
        return self.format.removeprefix("broken-")

    @property
    def attrs(self) -> _Attrs:
        return _Attrs(self._inner.attrs, self.defect)


def _wrap(inner: Any, fmt: str) -> Any:
    return BrokenGroup(inner, fmt) if hasattr(inner, "create_group") else BrokenArray(inner, fmt)


class BrokenArray(_Node):
    supports_fancy = True

    @property
    def shape(self) -> tuple[int, ...]:
        return self._inner.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        dt = self._inner.dtype
        if self.defect == "strings-report-U" and dt.kind == "O":
            return np.dtype("<U1")
        if self.defect == "dtype-wrong" and dt.kind in "iu":
            return np.dtype(np.int64)
        return dt

    def __len__(self) -> int:
        return len(self._inner)

    def __getitem__(self, sel: Any) -> Any:
        out = self._inner[sel]
        if self.defect == "strings-as-U" and isinstance(out, np.ndarray) and out.dtype.kind == "O":
            return out.astype(str)
        return out

    def __setitem__(self, sel: Any, value: Any) -> None:
        if self.defect == "setitem-raises":
            raise NotImplementedError("this backend cannot assign")
        self._inner[sel] = value

    def resize(self, shape: Any) -> None:
        if self.defect == "resize-raises":
            raise NotImplementedError("this backend cannot resize")
        self._inner.resize(shape)

    def read_into(self, out: np.ndarray, selection: Any = ()) -> None:
        if self.defect == "read_into-raises":
            raise NotImplementedError("this backend has no read_into")
        self._inner.read_into(out, selection)


class BrokenGroup(_Node):
    def keys(self) -> list[str]:
        return self._inner.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)

    def __contains__(self, key: object) -> bool:
        return key in self._inner

    def __getitem__(self, key: str) -> Any:
        if self.defect == "missing-not-keyerror" and key not in self._inner:
            raise IndexError(key)
        node = self._inner[key]
        return self if node is self._inner else _wrap(node, self.format)

    def __delitem__(self, key: str) -> None:
        del self._inner[key]

    def create_group(self, name: str) -> BrokenGroup:
        return BrokenGroup(self._inner.create_group(name), self.format)

    def require_group(self, name: str) -> BrokenGroup:
        return BrokenGroup(self._inner.require_group(name), self.format)

    def create_array(self, name: str, data: Any = None, **kw: Any) -> BrokenArray:
        return BrokenArray(self._inner.create_array(name, data, **kw), self.format)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> BrokenGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BrokenPlugin:
    """The hook implementations of every ``broken-*`` format."""

    ANNSTORE_PLUGIN_API = getattr(_hookspecs, "PLUGIN_API_VERSION", 1)

    @staticmethod
    @hookimpl
    def annstore_format_info() -> list[FormatInfo]:
        return [
            FormatInfo(name=f"broken-{d}", description=f"memory store, defect: {d}", suffixes=(),
                       hierarchical=True, supports_backed=True, supports_append=True)
            for d in DEFECTS
        ]

    @staticmethod
    @hookimpl
    def annstore_guess_format(path: Any) -> str | None:
        text = str(path)
        if text.startswith("broken-") and "://" in text:
            return text.split("://", 1)[0]
        return None

    @staticmethod
    @hookimpl
    def annstore_open_store(path: Any, format: str, mode: str) -> Any:
        if not format.startswith("broken-"):
            return None
        from annstore.io._memory import open_memory_store

        return BrokenGroup(open_memory_store(path, mode), format)  # type: ignore[arg-type]

"""TileDB adapters to annstore's store protocol, and opening of TileDB stores.

On-disk layout
--------------
* Every annstore group is a TileDB group. Its children live in sub-directories of the
  group's directory and are registered as members under their key with a *relative* URI,
  so a store can be moved or renamed (core's atomic write renames a temporary sibling).
  Directory names are the keys, with characters that are unsafe in paths or that could
  clash with TileDB's own entries (``__meta``, ``__group``, ...) escaped as ``~XX``.
* Every annstore array is a TileDB *dense* array with one attribute, ``data`` (structured
  numpy dtypes get one attribute per field). Strings use TileDB's variable-length UTF-8
  string attribute. ``float16`` is stored as ``uint16`` bits (TileDB has no half floats).
* Dense TileDB domains cannot be empty and cannot grow in place, so every dimension gets a
  fixed large domain ``[0, 2**40)`` and the *logical* shape lives in the array metadata
  under ``__annstore__`` (JSON: shape and numpy dtype). Empty arrays write no cells;
  0-d arrays use cell 0 of a one-dimensional array. ``resize`` therefore only rewrites
  the logical shape (and fills cells that a previous shrink left behind).
* Attributes are TileDB metadata: ``str``, ``int`` (int64 range), ``float`` and numeric
  numpy vectors are stored natively; anything else (``bool``, lists, dicts, ``None``, big
  ints) is stored as UTF-8 JSON *bytes* (a value type the store protocol never produces,
  so decoding is unambiguous) and read back as plain Python.

Timestamps
----------
TileDB orders writes (cells, metadata, group membership) by millisecond timestamps, and two
writes to one object within the same millisecond are ordered arbitrarily. Every write here
opens its object at a timestamp from a process-wide clock that never hands out the same
millisecond twice (waiting for the next millisecond when needed), so writes made by this
process read back in the order they were made.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import warnings
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tiledb
from annstore.errors import AnnstoreError, InvalidFileError, WriteWarning

if TYPE_CHECKING:
    from annstore.types import OpenMode

__all__ = [
    "CAPACITY",
    "META_KEY",
    "ReadOnlyStoreError",
    "TileDBArray",
    "TileDBAttrs",
    "TileDBGroup",
    "adapt_tiledb_object",
    "escape_key",
    "open_tiledb_store",
]

#: Domain size of every dimension (the largest logical extent an array can grow to).
CAPACITY = 2**40
#: Array metadata key holding the logical shape and numpy dtype (JSON).
META_KEY = "__annstore__"
#: Name of the single TileDB attribute of a non-structured array.
DATA_ATTR = "data"
_LAYOUT_VERSION = 1
#: Target uncompressed tile size when no ``chunks`` are given.
TARGET_TILE_BYTES = 1 << 20
_SAFE_EXTRA = set("-_.+=,@ ()[]{}!$&'")


class ReadOnlyStoreError(AnnstoreError, PermissionError):
    """A write was attempted on a TileDB store opened read-only."""


# ------------------------------------------------------------------------------ clock


class _Clock:
    """Hands out strictly increasing millisecond timestamps that are never in the future."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            now = time.time_ns() // 1_000_000
            while now <= self._last:
                time.sleep(0.0002)
                now = time.time_ns() // 1_000_000
            self._last = now
            return now


_CLOCK = _Clock()


# ------------------------------------------------------------------------------ keys


def escape_key(key: str) -> str:
    """The directory name used for the child ``key`` (``~XX`` escapes, injective)."""
    out = []
    for i, ch in enumerate(key):
        risky = (
            ch == "~"
            or (not (ch.isalnum() or ch in _SAFE_EXTRA))
            or (i == 0 and ch in ".-")
            or (i == 0 and ch == "_" and key.startswith("__"))
        )
        out.append("".join(f"~{b:02X}" for b in ch.encode("utf-8")) if risky else ch)
    return "".join(out)


def _join_uri(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _join_path(parent: str, key: str) -> str:
    return "/" + key if parent in ("", "/") else f"{parent.rstrip('/')}/{key}"


# ------------------------------------------------------------------------------ attributes


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OUST":
            return [_jsonable(x) for x in v.reshape(-1).tolist()]
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, complex):
        msg = f"Expected a JSON-representable attribute value; got complex {v!r} instead."
        raise TypeError(msg)
    if v is None or isinstance(v, str | int | float | bool):
        return v
    msg = f"Expected a str, number, bool, list, dict or numpy array attribute; got {type(v).__name__} {v!r} instead."
    raise TypeError(msg)


def encode_attr(value: Any) -> Any:
    """The TileDB metadata value for an attribute (native where lossless, else JSON bytes)."""
    if isinstance(value, np.generic) and not isinstance(value, np.str_ | np.bytes_):
        value = value.item()
    if isinstance(value, np.str_):
        value = str(value)
    if isinstance(value, bool):
        return json.dumps(value).encode()
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else json.dumps(value).encode()
    if isinstance(value, float):
        return value
    if (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.size > 0
        and value.dtype.kind in "iufb"
        and value.dtype != np.float16
    ):
        return np.ascontiguousarray(value).copy()
    return json.dumps(_jsonable(value)).encode()


def decode_attr(raw: Any) -> Any:
    """Plain Python (or a numeric numpy vector) from a stored metadata value."""
    if isinstance(raw, bytes):
        return json.loads(raw.decode("utf-8"))
    if isinstance(raw, np.ndarray):
        return raw.copy()
    if isinstance(raw, np.generic):
        return raw.item()
    if isinstance(raw, tuple):
        return [decode_attr(x) for x in raw]
    return raw


def _is_internal(key: str) -> bool:
    return key == META_KEY


class TileDBAttrs(MutableMapping[str, Any]):
    """Attributes of a TileDB group or array, stored as TileDB metadata."""

    __slots__ = ("_node",)

    def __init__(self, node: _Node) -> None:
        self._node = node

    def _keys(self) -> list[str]:
        n = self._node
        return [k for k in n._session.meta_keys(n.uri, n._kind) if not _is_internal(k)]

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or _is_internal(key):
            raise KeyError(key)
        n = self._node
        return decode_attr(n._session.meta_get(n.uri, n._kind, key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        """Set several attributes (one metadata write)."""
        items = dict(other, **kw)
        if not items:
            return
        n = self._node
        n._session.check_writable(f"set attributes of {n.name!r}")
        enc = {}
        for k, v in items.items():
            if not isinstance(k, str) or not k or _is_internal(k):
                msg = f"Expected a non-empty str attribute name other than {META_KEY!r}; got {k!r} on {n.name!r}."
                raise KeyError(msg)
            enc[k] = encode_attr(v)
        n._session.meta_set(n.uri, n._kind, enc)

    def __delitem__(self, key: str) -> None:
        n = self._node
        n._session.check_writable(f"delete attribute {key!r} of {n.name!r}")
        if key not in self:
            msg = f"Attribute {key!r} not found on {n.name!r} {n._where()}"
            raise KeyError(msg)
        n._session.meta_delete(n.uri, n._kind, key)

    def asdict(self) -> dict[str, Any]:
        return {k: self[k] for k in self}

    def __repr__(self) -> str:
        return f"TileDBAttrs({self.asdict()!r})"


# ------------------------------------------------------------------------------ session

_DELETE: Any = object()


class _Session:
    """What every node of one opened store shares: context, mode, read handles, pending edits.

    In a writable store that annstore opened itself, attribute writes and new group members
    are kept in memory and written when the root is closed: one metadata write per node and
    one membership write per group, instead of one per call. Stores wrapped from a user's
    TileDB objects (never closed by annstore) write through immediately.
    """

    def __init__(self, root_uri: str, *, filename: str | None, mode: str, ctx: Any,
                 owned: bool = True) -> None:
        self.root_uri = root_uri
        self.filename = filename
        self.mode = mode
        self.ctx = ctx
        self.owned = owned
        self.buffered = owned and mode != "r"
        self.closed = False
        self._readers: dict[str, Any] = {}
        self._members: dict[str, dict[str, tuple[str, str]]] = {}
        #: uri -> (kind, {key: encoded value or _DELETE})
        self._pending_meta: dict[str, tuple[str, dict[str, Any]]] = {}
        #: group uri -> {member name: (child uri, kind, relative uri)}
        self._pending_adds: dict[str, dict[str, tuple[str, str, str]]] = {}
        #: objects created by this session whose metadata and members are all still pending
        self._fresh: set[str] = set()

    @property
    def writable(self) -> bool:
        return self.mode != "r"

    def reader(self, uri: str, kind: str) -> Any:
        h = self._readers.get(uri)
        if h is None:
            h = tiledb.Group(uri, "r", ctx=self.ctx) if kind == "group" else tiledb.open(
                uri, "r", ctx=self.ctx
            )
            self._readers[uri] = h
        return h

    # -- metadata ---------------------------------------------------------------------------

    def _disk_meta(self, uri: str, kind: str) -> Any:
        if uri in self._fresh and kind == "group":
            return {}
        return self.reader(uri, kind).meta

    def meta_keys(self, uri: str, kind: str) -> list[str]:
        disk = list(self._disk_meta(uri, kind).keys())
        pend = self._pending_meta.get(uri, (kind, {}))[1]
        out = [k for k in disk if pend.get(k) is not _DELETE]
        return out + [k for k, v in pend.items() if v is not _DELETE and k not in disk]

    def meta_get(self, uri: str, kind: str, key: str) -> Any:
        pend = self._pending_meta.get(uri, (kind, {}))[1]
        if key in pend:
            if pend[key] is _DELETE:
                raise KeyError(key)
            return pend[key]
        disk = self._disk_meta(uri, kind)
        if key not in disk:
            raise KeyError(key)
        return disk[key]

    def meta_set(self, uri: str, kind: str, items: dict[str, Any]) -> None:
        if self.buffered:
            self._pending_meta.setdefault(uri, (kind, {}))[1].update(items)
            return
        with self.writer(uri, kind) as w:
            for k, v in items.items():
                w.meta[k] = v

    def meta_delete(self, uri: str, kind: str, key: str) -> None:
        if self.buffered:
            pend = self._pending_meta.setdefault(uri, (kind, {}))[1]
            on_disk = key in self._disk_meta(uri, kind)
            if on_disk:
                pend[key] = _DELETE
            else:
                pend.pop(key, None)
            return
        with self.writer(uri, kind) as w:
            del w.meta[key]

    # -- membership -------------------------------------------------------------------------

    def members(self, uri: str) -> dict[str, tuple[str, str]]:
        """Member name -> (uri, ``"group"`` | ``"array"`` | ``""``) of the group at ``uri``."""
        m = self._members.get(uri)
        if m is None:
            m = {}
            if uri not in self._fresh:
                for obj in self.reader(uri, "group"):
                    t = obj.type
                    kind = "group" if t is tiledb.Group else "array" if t is not None else ""
                    name = obj.name if obj.name is not None else obj.uri.rstrip("/").rsplit("/", 1)[-1]
                    m[name] = (obj.uri, kind)
            self._members[uri] = m
        pend = self._pending_adds.get(uri)
        if pend:
            m = dict(m)
            m.update({k: (u, kind) for k, (u, kind, _) in pend.items()})
        return m

    def add_member(self, group_uri: str, name: str, child_uri: str, kind: str, rel: str) -> None:
        if self.buffered:
            self._pending_adds.setdefault(group_uri, {})[name] = (child_uri, kind, rel)
            self._fresh.add(child_uri)
            return
        with self.writer(group_uri, "group") as w:
            w.add(rel, name=name, relative=True)

    def remove_member(self, group_uri: str, name: str) -> None:
        pend = self._pending_adds.get(group_uri, {})
        if name in pend:
            del pend[name]
            return
        with self.writer(group_uri, "group") as w:
            w.remove(name)

    def forget(self, uri: str) -> None:
        """Drop everything pending or cached for ``uri`` and the objects below it (deleted)."""
        prefix = uri.rstrip("/") + "/"

        def under(k: str) -> bool:
            return k == uri or k.startswith(prefix)

        for d in (self._pending_meta, self._pending_adds):
            for k in [k for k in d if under(k)]:
                del d[k]
        self._fresh = {k for k in self._fresh if not under(k)}
        self.invalidate(uri, subtree=True)

    # -- handles ----------------------------------------------------------------------------

    def invalidate(self, uri: str, *, subtree: bool = False) -> None:
        prefix = uri.rstrip("/") + "/"
        for k in [k for k in self._members if k == uri or (subtree and k.startswith(prefix))]:
            del self._members[k]
        keys = [k for k in self._readers if k == uri or (subtree and k.startswith(prefix))]
        for k in keys:
            h = self._readers.pop(k)
            try:
                h.close()
            except Exception:
                pass

    def check_writable(self, what: str) -> None:
        if not self.writable:
            where = f" {self.filename!r}" if self.filename else ""
            msg = f"Cannot {what}: the TileDB store{where} is open read-only (mode 'r'); open it with mode 'r+' or 'a'."
            raise ReadOnlyStoreError(msg)

    @contextmanager
    def writer(self, uri: str, kind: str) -> Iterator[Any]:
        """Open ``uri`` for writing at a fresh timestamp; drop its cached read handle."""
        self.invalidate(uri)
        ts = _CLOCK.next()
        if kind == "group":
            cfg = tiledb.Config({"sm.group.timestamp_end": str(ts)})
            h = tiledb.Group(uri, "w", config=cfg, ctx=self.ctx)
        else:
            h = tiledb.open(uri, "w", timestamp=ts, ctx=self.ctx)
        try:
            yield h
        finally:
            h.close()
            self.invalidate(uri)

    def flush(self) -> None:
        """Write pending group members and attributes to TileDB."""
        adds, self._pending_adds = self._pending_adds, {}
        meta, self._pending_meta = self._pending_meta, {}
        self._fresh = set()
        for guri, members in adds.items():
            if members:
                with self.writer(guri, "group") as w:
                    for name, (_, _, rel) in members.items():
                        w.add(rel, name=name, relative=True)
        for uri, (kind, items) in meta.items():
            if items:
                with self.writer(uri, kind) as w:
                    for k, v in items.items():
                        if v is _DELETE:
                            del w.meta[k]
                        else:
                            w.meta[k] = v
        self._members.clear()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.buffered:
                self.flush()
        finally:
            for k in list(self._readers):
                self.invalidate(k)


# ------------------------------------------------------------------------------ dtypes


def _is_str_kind(dt: np.dtype[Any]) -> bool:
    return dt.kind in "OUT"


def _logical_dtype(dt: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype an array reports: strings are ``object``; struct fields keep their dtypes."""
    if dt.names is not None:
        for name in dt.names:
            _check_field_dtype(dt.fields[name][0], name)  # type: ignore[index]
        return dt
    if _is_str_kind(dt):
        return np.dtype(object)
    _check_field_dtype(dt, None)
    return dt


def _check_field_dtype(dt: np.dtype[Any], field: str | None) -> None:
    where = f" (field {field!r})" if field else ""
    if dt.kind == "S":
        msg = f"Byte-string arrays are not supported{where}; decode them to str first."
        raise TypeError(msg)
    if dt.kind == "V" or dt.subdtype is not None:
        msg = f"Expected a numeric, bool or string dtype{where}; got {dt} instead."
        raise TypeError(msg)


def _tiledb_attr_dtype(dt: np.dtype[Any]) -> tuple[Any, bool]:
    """(TileDB attribute dtype, variable-length) for one logical field dtype."""
    if _is_str_kind(dt):
        return str, True
    if dt == np.float16:
        return np.dtype(np.uint16), False
    return dt, False


def _fill_for(dt: np.dtype[Any]) -> Any:
    if _is_str_kind(dt):
        return None
    if dt.kind == "c":
        return None
    if dt == np.float16:
        return np.uint16(0)
    if dt.kind in "mM":
        return None
    return np.zeros((), dtype=dt)[()]


def _fields(dt: np.dtype[Any]) -> list[tuple[str, np.dtype[Any]]]:
    if dt.names is not None:
        return [(n, dt.fields[n][0]) for n in dt.names]  # type: ignore[index]
    return [(DATA_ATTR, dt)]


def _dtype_to_json(dt: np.dtype[Any]) -> Any:
    if dt.names is not None:
        return [[n, _dtype_to_json(dt.fields[n][0])] for n in dt.names]  # type: ignore[index]
    return "object" if dt.kind == "O" else dt.str


def _dtype_from_json(v: Any) -> np.dtype[Any]:
    if isinstance(v, list):
        return np.dtype([(str(n), _dtype_from_json(d)) for n, d in v])
    return np.dtype(object) if v == "object" else np.dtype(v)


def _check_strings(flat: list[Any], where: str) -> None:
    for x in flat:
        if not isinstance(x, str):
            msg = f"Expected str elements in a string array{where}; got {type(x).__name__} {x!r} instead."
            raise TypeError(msg)


def _to_cells(values: np.ndarray, dt: np.dtype[Any], where: str = "") -> dict[str, np.ndarray]:
    """The TileDB attribute buffers for ``values`` (already of the logical shape)."""
    out: dict[str, np.ndarray] = {}
    for name, fdt in _fields(dt):
        col = values[name] if dt.names is not None else values
        col = np.asarray(col)
        if _is_str_kind(fdt):
            if col.dtype.kind == "O":
                flat = col.reshape(-1).tolist()
                _check_strings(flat, where)
                buf = np.empty(col.shape, dtype=object)
                buf.reshape(-1)[:] = flat
            elif col.dtype.kind in "UT":
                buf = col.astype(object)
            else:
                msg = f"Expected strings for a string array{where}; got dtype {col.dtype} instead."
                raise TypeError(msg)
        elif fdt == np.float16:
            buf = np.ascontiguousarray(col.astype(np.float16)).view(np.uint16)
        else:
            buf = np.ascontiguousarray(col.astype(fdt, copy=False))
        out[name] = buf
    return out


def _from_cells(cells: dict[str, np.ndarray], dt: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    """The logical numpy array from TileDB attribute buffers."""
    if dt.names is None:
        return _field_from_cells(cells[DATA_ATTR], dt, shape)
    out = np.empty(shape, dtype=dt)
    for name, fdt in _fields(dt):
        out[name] = _field_from_cells(cells[name], fdt, shape)
    return out


def _field_from_cells(buf: np.ndarray, fdt: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    buf = np.asarray(buf).reshape(shape)
    if _is_str_kind(fdt):
        if fdt.kind == "O":
            if buf.dtype.kind != "O":
                buf = buf.astype(object)
            return buf
        return buf.astype(fdt)
    if fdt == np.float16:
        return buf.view(np.float16) if buf.dtype == np.uint16 else buf.astype(np.float16)
    return buf if buf.dtype == fdt else buf.astype(fdt)


def _empty(shape: tuple[int, ...], dt: np.dtype[Any]) -> np.ndarray:
    if dt.names is None and dt.kind == "O":
        out = np.empty(shape, dtype=object)
        out[...] = ""
        return out
    return np.zeros(shape, dtype=dt)


def _auto_tiles(shape: tuple[int, ...], dt: np.dtype[Any]) -> tuple[int, ...]:
    item = sum(16 if _is_str_kind(f) else f.itemsize for _, f in _fields(dt)) or 1
    tiles = [max(1, int(s)) for s in shape] or [1]
    while math.prod(tiles) * item > TARGET_TILE_BYTES and max(tiles) > 1:
        i = int(np.argmax(tiles))
        tiles[i] = (tiles[i] + 1) // 2
    return tuple(tiles)


_COMPRESSORS = {
    "gzip": "GzipFilter",
    "zstd": "ZstdFilter",
    "lz4": "LZ4Filter",
    "lzf": "LZ4Filter",  # h5py's lzf has no TileDB equivalent; LZ4 is the fast codec here
    "bzip2": "Bzip2Filter",
}


def _filters(opts: dict[str, Any], where: str) -> Any:
    if "filters" in opts and opts["filters"] is not None:
        f = opts["filters"]
        return f if isinstance(f, tiledb.FilterList) else tiledb.FilterList(list(f))
    comp = opts.get("compression")
    if comp is None or comp is False:
        return None
    name = str(comp).lower()
    if name not in _COMPRESSORS:
        warnings.warn(
            f"Unknown compression {comp!r} for {where}; known: {sorted(_COMPRESSORS)}. "
            "Writing it uncompressed instead.",
            WriteWarning,
            stacklevel=5,
        )
        return None
    cls = getattr(tiledb, _COMPRESSORS[name])
    level = opts.get("compression_opts")
    if isinstance(level, int | np.integer) and name in ("gzip", "zstd", "bzip2"):
        return tiledb.FilterList([cls(level=int(level))])
    return tiledb.FilterList([cls()])


def _schema(shape: tuple[int, ...], dt: np.dtype[Any], opts: dict[str, Any], ctx: Any,
            where: str) -> Any:
    ndim = max(len(shape), 1)
    chunks = opts.get("chunks", opts.get("tile"))
    if isinstance(chunks, int | np.integer) and len(shape) == 1:
        chunks = (int(chunks),)
    if isinstance(chunks, tuple | list) and len(chunks) == len(shape) and len(shape) > 0:
        tiles = tuple(max(1, min(int(c) if c is not None and int(c) > 0 else max(1, s), CAPACITY))
                      for c, s in zip(chunks, shape, strict=True))
    else:
        tiles = _auto_tiles(shape, dt) if shape else (1,)
    dims = [
        tiledb.Dim(name=f"__dim_{i}", domain=(0, CAPACITY - 1), tile=tiles[i], dtype=np.int64, ctx=ctx)
        for i in range(ndim)
    ]
    filters = _filters(opts, where)
    attrs = []
    for name, fdt in _fields(dt):
        tdt, var = _tiledb_attr_dtype(fdt)
        kw: dict[str, Any] = {"name": name, "dtype": tdt, "var": var, "ctx": ctx}
        if filters is not None:
            kw["filters"] = filters
        fill = _fill_for(fdt)
        if fill is not None:
            kw["fill"] = fill
        attrs.append(tiledb.Attr(**kw))
    return tiledb.ArraySchema(domain=tiledb.Domain(*dims, ctx=ctx), attrs=attrs, sparse=False, ctx=ctx)


# ------------------------------------------------------------------------------ selections


def _as_index_array(s: Any, n: int, axis: int, name: str) -> np.ndarray:
    a = np.asarray(s)
    if a.dtype == bool:
        if a.shape != (n,):
            msg = f"Expected a boolean mask of length {n} on axis {axis} of {name!r}; got shape {a.shape}."
            raise IndexError(msg)
        return np.flatnonzero(a)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if a.dtype.kind not in "iu" or a.ndim != 1:
        msg = f"Expected a 1-d integer or boolean index on axis {axis} of {name!r}; got {a.dtype} of shape {a.shape}."
        raise IndexError(msg)
    a = a.astype(np.int64)
    a = np.where(a < 0, a + n, a)
    if a.min() < 0 or a.max() >= n:
        msg = f"Index out of range on axis {axis} of {name!r} (size {n}): {s!r}"
        raise IndexError(msg)
    return a


class _Axis:
    """The read plan of one axis: ranges to read and the selection to apply afterwards."""

    __slots__ = ("local", "ranges", "scalar")

    def __init__(self, ranges: list[tuple[int, int]], local: Any, scalar: bool = False) -> None:
        self.ranges = ranges  # half-open [start, stop) ranges, in read order
        self.local = local  # slice or index array into the concatenated ranges
        self.scalar = scalar

    @property
    def size(self) -> int:
        return sum(b - a for a, b in self.ranges)

    @property
    def simple(self) -> bool:
        return len(self.ranges) == 1 and isinstance(self.local, slice) and self.local == slice(None)


def _merge_ranges(idx: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Sorted unique runs of ``idx`` and the positions of ``idx`` in their concatenation."""
    uniq, inverse = np.unique(idx, return_inverse=True)
    if uniq.size == 0:
        return [], inverse
    brk = np.flatnonzero(np.diff(uniq) != 1) + 1
    starts = uniq[np.r_[0, brk]]
    stops = uniq[np.r_[brk - 1, uniq.size - 1]] + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)], inverse


def _plan(sel: Any, shape: tuple[int, ...], name: str) -> list[_Axis]:
    items = list(sel) if isinstance(sel, tuple) else [sel]
    n_ell = sum(1 for s in items if s is Ellipsis)
    if n_ell > 1:
        msg = "An index can only have a single ellipsis ('...')"
        raise IndexError(msg)
    if n_ell:
        i = next(k for k, s in enumerate(items) if s is Ellipsis)
        items[i : i + 1] = [slice(None)] * (len(shape) - len(items) + 1)
    if len(items) > len(shape):
        msg = f"Too many indices for {name!r}: array is {len(shape)}-dimensional, but {len(items)} were indexed"
        raise IndexError(msg)
    items += [slice(None)] * (len(shape) - len(items))
    plan: list[_Axis] = []
    for ax, (s, n) in enumerate(zip(items, shape, strict=True)):
        if isinstance(s, int | np.integer) and not isinstance(s, bool | np.bool_):
            i = int(s)
            if i < 0:
                i += n
            if not 0 <= i < n:
                msg = f"Index {int(s)} is out of bounds for axis {ax} of {name!r} with size {n}"
                raise IndexError(msg)
            plan.append(_Axis([(i, i + 1)], slice(None), scalar=True))
        elif isinstance(s, slice):
            start, stop, step = s.indices(n)
            if step == 1:
                plan.append(_Axis([(start, max(start, stop))] if stop > start else [], slice(None)))
            elif step > 1:
                if stop <= start:
                    plan.append(_Axis([], slice(None)))
                else:
                    plan.append(_Axis([(start, stop)], slice(None, None, step)))
            else:
                idx = np.arange(start, stop, step, dtype=np.int64)
                ranges, inv = _merge_ranges(idx)
                plan.append(_Axis(ranges, inv))
        elif isinstance(s, np.ndarray | list | tuple | range):
            idx = _as_index_array(s, n, ax, name)
            if idx.size and np.all(np.diff(idx) == 1):
                plan.append(_Axis([(int(idx[0]), int(idx[-1]) + 1)], slice(None)))
            else:
                ranges, inv = _merge_ranges(idx)
                plan.append(_Axis(ranges, inv))
        else:
            msg = f"Unsupported index {s!r} ({type(s).__name__}) on axis {ax} of {name!r}."
            raise IndexError(msg)
    return plan


def _apply_local(block: np.ndarray, plan: list[_Axis]) -> np.ndarray:
    out = block
    for ax, p in enumerate(plan):
        if isinstance(p.local, slice):
            if p.local != slice(None):
                out = out[(slice(None),) * ax + (p.local,)]
        else:
            out = np.take(out, p.local, axis=ax)
    squeeze = tuple(ax for ax, p in enumerate(plan) if p.scalar)
    if squeeze:
        out = out.reshape([d for ax, d in enumerate(out.shape) if ax not in squeeze])
        if out.ndim == 0:
            return out[()]
    return out


# ------------------------------------------------------------------------------ nodes


class _Node:
    _annstore_node = True
    format = "tiledb"
    _kind = ""

    def __init__(self, uri: str, name: str, session: _Session) -> None:
        self.uri = uri
        self.name = name
        self._session = session
        self.filename = session.filename

    def _reader(self) -> Any:
        return self._session.reader(self.uri, self._kind)

    @contextmanager
    def _writer(self) -> Iterator[Any]:
        self._session.check_writable(f"modify {self.name!r}")
        with self._session.writer(self.uri, self._kind) as w:
            yield w

    @property
    def attrs(self) -> TileDBAttrs:
        return TileDBAttrs(self)

    def _where(self) -> str:
        return f"in TileDB store {self.filename!r}" if self.filename else "in TileDB store"


class TileDBArray(_Node):
    """A TileDB dense array as :class:`~annstore.types.ArrayLike`."""

    supports_fancy = True
    _kind = "array"

    def _info(self) -> tuple[tuple[int, ...], np.dtype[Any]]:
        h = self._reader()
        raw = h.meta[META_KEY] if META_KEY in h.meta else None
        if raw is None:
            return self._foreign_info(h)
        try:
            info = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
            shape = tuple(int(s) for s in info["shape"])
            dt = _dtype_from_json(info["dtype"])
        except (ValueError, KeyError, TypeError) as e:
            msg = f"Malformed {META_KEY!r} metadata on array {self.name!r} {self._where()}: {raw!r} ({e})."
            raise InvalidFileError(msg, filename=self.filename, path=self.name) from e
        if any(s < 0 or s > CAPACITY for s in shape):
            msg = f"Expected a logical shape within [0, {CAPACITY}] on array {self.name!r} {self._where()}; got {shape}."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        return shape, dt

    def _foreign_info(self, h: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
        """A dense array written by another tool: its non-empty domain is its shape."""
        schema = h.schema
        if schema.sparse:
            msg = f"Expected a dense TileDB array at {self.name!r} {self._where()}; found a sparse one."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        ned = h.nonempty_domain()
        shape = tuple(0 for _ in range(schema.domain.ndim)) if ned is None else tuple(
            int(hi) - int(lo) + 1 for lo, hi in ned
        )
        if ned is not None and any(int(lo) != 0 for lo, _ in ned):
            msg = f"Expected a TileDB array starting at index 0 at {self.name!r} {self._where()}; got non-empty domain {ned}."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        attrs = [schema.attr(i) for i in range(schema.nattr)]
        if len(attrs) == 1:
            a = attrs[0]
            dt = np.dtype(object) if a.isvar or a.dtype.kind in "SU" else np.dtype(a.dtype)
            self._attr_names = (a.name,)
            return shape, dt
        dt = np.dtype([(a.name, np.dtype(object) if a.isvar else a.dtype) for a in attrs])
        return shape, dt

    @property
    def shape(self) -> tuple[int, ...]:
        return self._info()[0]

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._info()[1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def native(self) -> Any:
        """The (read-mode) ``tiledb.Array`` handle."""
        return self._reader()

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            msg = "len() of a 0-d array"
            raise TypeError(msg)
        return shape[0]

    def _attr_list(self, dt: np.dtype[Any]) -> list[str]:
        names = getattr(self, "_attr_names", None)
        return list(names) if names else [n for n, _ in _fields(dt)]

    def _query(self, plan: list[_Axis], dt: np.dtype[Any]) -> np.ndarray:
        """Read the ranges of ``plan`` (one query) as the logical dtype."""
        box = tuple(p.size for p in plan) or (1,)
        if math.prod(box) == 0:
            return _empty(box, dt)
        h = self._reader()
        names = self._attr_list(dt)
        if all(len(p.ranges) == 1 for p in plan):
            sub = tuple(slice(p.ranges[0][0], p.ranges[0][1]) for p in plan) or (slice(0, 1),)
            res = h.query(attrs=names)[sub]
        else:
            ranges = [[(a, b - 1) for a, b in p.ranges] for p in plan]
            res = h.query(attrs=names).multi_index[tuple(ranges)]
        if names != [n for n, _ in _fields(dt)]:
            res = {n: res[m] for (n, _), m in zip(_fields(dt), names, strict=True)}
        return _from_cells(res, dt, box)

    def __getitem__(self, sel: Any) -> Any:
        shape, dt = self._info()
        if not shape:
            value = self._query([], dt).reshape(())
            if (isinstance(sel, tuple) and not sel) or sel is Ellipsis:
                return value[sel]
            msg = f"Invalid index {sel!r} for the 0-d array {self.name!r}; use () or ..."
            raise IndexError(msg)
        plan = _plan(sel, shape, self.name)
        return _apply_local(self._query(plan, dt), plan)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self[()] if not self.shape else self[...])
        return out if dtype is None else out.astype(dtype)

    def read_ranges(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Concatenated ``self[a:b]`` for each ``[a, b)`` (1-d arrays; one TileDB query)."""
        shape, dt = self._info()
        pairs = [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if int(b) > int(a)]
        if len(shape) != 1:
            msg = f"read_ranges needs a 1-d array; {self.name!r} has shape {shape}."
            raise ValueError(msg)
        if not pairs:
            return _empty((0,), dt)
        lo = min(a for a, _ in pairs)
        hi = max(b for _, b in pairs)
        if lo < 0 or hi > shape[0]:
            msg = f"Range [{lo}, {hi}) is out of bounds for {self.name!r} of length {shape[0]}."
            raise IndexError(msg)
        return self._query([_Axis(pairs, slice(None))], dt)

    def read_into(self, out: np.ndarray, selection: Any = ()) -> None:
        """Fill the preallocated ``out`` with ``self[selection]``."""
        out[...] = self[selection] if self.shape or selection not in ((), Ellipsis) else self[()]

    # -- writing ---------------------------------------------------------------------------

    def _write_box(self, w: Any, box: list[tuple[int, int]], values: np.ndarray, dt: np.dtype[Any]) -> None:
        if any(b <= a for a, b in box) and box:
            return
        cells = _to_cells(values, dt, f" {self.name!r}")
        sub = tuple(slice(a, b) for a, b in box) or (slice(0, 1),)
        if dt.names is None and len(cells) == 1:
            w[sub] = cells[DATA_ATTR].reshape(tuple(b - a for a, b in box) or (1,))
        else:
            w[sub] = {k: v.reshape(tuple(b - a for a, b in box) or (1,)) for k, v in cells.items()}

    def __setitem__(self, sel: Any, value: Any) -> None:
        shape, dt = self._info()
        if not shape:
            if not (sel is Ellipsis or (isinstance(sel, tuple) and not sel)):
                msg = f"Invalid index {sel!r} for the 0-d array {self.name!r}; use () or ..."
                raise IndexError(msg)
            v = np.asarray(value, dtype=dt if dt.kind != "O" else None).reshape(())
            with self._writer() as w:
                self._write_box(w, [], v.reshape(()), dt)
            return
        plan = _plan(sel, shape, self.name)
        box = [p.ranges[0] if p.ranges else (0, 0) for p in plan]
        sizes = [p.size for p in plan]
        if any(s == 0 for s in sizes):
            return
        simple = all(p.simple for p in plan)
        squeezed = [s for s, p in zip(sizes, plan, strict=True) if not p.scalar]
        if simple:
            v = self._coerce(value, dt)
            v = np.broadcast_to(v, squeezed).reshape(sizes)
            with self._writer() as w:
                self._write_box(w, box, v, dt)
            return
        # Stepped or fancy selection: read the bounding box, assign in memory, write it back.
        lo = [min(a for a, _ in p.ranges) for p in plan]
        hi = [max(b for _, b in p.ranges) for p in plan]
        full = [_Axis([(a, b)], slice(None)) for a, b in zip(lo, hi, strict=True)]
        block = self._query(full, dt)
        local = []
        for p, a in zip(plan, lo, strict=True):
            positions = np.concatenate([np.arange(x, y) for x, y in p.ranges]) - a
            local.append(positions[p.local])
        target_shape = [len(ix) for ix in local]
        squeezed = [n for n, p in zip(target_shape, plan, strict=True) if not p.scalar]
        v = np.broadcast_to(self._coerce(value, dt), squeezed).reshape(target_shape)
        block[np.ix_(*local)] = v
        with self._writer() as w:
            self._write_box(w, list(zip(lo, hi, strict=True)), block, dt)

    def _coerce(self, value: Any, dt: np.dtype[Any]) -> np.ndarray:
        if dt.names is None and dt.kind == "O":
            v = np.asarray(value)
            return v if v.dtype.kind == "O" else v.astype(object)
        return np.asarray(value).astype(dt, copy=False) if dt.names is None else np.asarray(value, dtype=dt)

    def resize(self, shape: tuple[int, ...] | int) -> None:
        """Change the logical shape (same number of dimensions); new cells read as zeros/``""``."""
        new = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
        old, dt = self._info()
        if len(new) != len(old):
            msg = f"Expected a shape with {len(old)} dimensions to resize {self.name!r}; got {new}."
            raise ValueError(msg)
        if any(s < 0 or s > CAPACITY for s in new):
            msg = f"Expected every dimension within [0, {CAPACITY}] to resize {self.name!r}; got {new}."
            raise ValueError(msg)
        self._session.check_writable(f"resize {self.name!r}")
        stale = self._stale_beyond(old)
        with self._writer() as w:
            if stale:
                # Cells a previous shrink left behind must not reappear: overwrite the new region.
                for k in range(len(new)):
                    if new[k] <= old[k]:
                        continue
                    box = [(0, min(o, n)) for o, n in zip(old[:k], new[:k], strict=True)]
                    box += [(old[k], new[k])] + [(0, n) for n in new[k + 1 :]]
                    if all(b > a for a, b in box):
                        self._write_box(w, box, _empty(tuple(b - a for a, b in box), dt), dt)
            w.meta[META_KEY] = json.dumps(
                {"shape": list(new), "dtype": _dtype_to_json(dt), "layout": _LAYOUT_VERSION}
            )

    def _stale_beyond(self, shape: tuple[int, ...]) -> bool:
        ned = self._reader().nonempty_domain()
        if ned is None or not shape:
            return False
        return any(int(hi) >= s for (_, hi), s in zip(ned, shape, strict=False))

    def __repr__(self) -> str:
        return f"<TileDBArray {self.name!r} shape={self.shape} dtype={self.dtype}>"


class TileDBGroup(_Node):
    """A TileDB group as :class:`~annstore.types.GroupLike`."""

    _kind = "group"

    @property
    def native(self) -> Any:
        """The (read-mode) ``tiledb.Group`` handle."""
        return self._reader()

    def _members(self) -> dict[str, tuple[str, str]]:
        """Member name -> (uri, "group" | "array")."""
        return self._session.members(self.uri)

    def keys(self) -> list[str]:
        return sorted(self._members())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._members())

    def items(self) -> Iterator[tuple[str, TileDBGroup | TileDBArray]]:
        for k in self.keys():
            yield k, self[k]

    def _child(self, key: str) -> TileDBGroup | TileDBArray | None:
        members = self._members()
        if key not in members:
            return None
        uri, kind = members[key]
        if not kind:
            kind = str(tiledb.object_type(uri, ctx=self._session.ctx) or "")
        name = _join_path(self.name, key)
        if kind == "group":
            return TileDBGroup(uri, name, self._session)
        if kind == "array":
            return TileDBArray(uri, name, self._session)
        msg = f"Member {key!r} of group {self.name!r} {self._where()} points to {uri!r}, which holds no TileDB object."
        raise InvalidFileError(msg, filename=self.filename, path=name)

    def __getitem__(self, key: str) -> TileDBGroup | TileDBArray:
        if key in ("/", ""):
            return self
        node: TileDBGroup | TileDBArray = self
        parts = [p for p in key.split("/") if p]
        for i, part in enumerate(parts):
            child = node._child(part) if isinstance(node, TileDBGroup) else None
            if child is None:
                msg = f"{key!r} not found in group {self.name!r} {self._where()}"
                if i:
                    msg += f" (no {'/'.join(parts[: i + 1])!r})"
                raise KeyError(msg)
            node = child
        return node

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in ("/", ""):
            return True
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: str) -> None:
        parts = [p for p in key.split("/") if p]
        if not parts:
            msg = f"Cannot delete the group {self.name!r} itself."
            raise KeyError(msg)
        parent = self["/".join(parts[:-1])] if len(parts) > 1 else self
        last = parts[-1]
        if not isinstance(parent, TileDBGroup) or last not in parent._members():
            msg = f"{key!r} not found in group {self.name!r} {self._where()}"
            raise KeyError(msg)
        parent._remove_member(last)

    def _remove_member(self, key: str) -> None:
        uri, _ = self._members()[key]
        self._session.check_writable(f"delete {key!r} from {self.name!r}")
        self._session.remove_member(self.uri, key)
        self._session.forget(uri)
        own = _join_uri(self.uri, escape_key(key))
        if _same_uri(uri, own):
            vfs = tiledb.VFS(ctx=self._session.ctx)
            if vfs.is_dir(own):
                vfs.remove_dir(own)

    def _check_new(self, name: str) -> str:
        if not isinstance(name, str) or not name or "/" in name:
            msg = f"Expected a non-empty key without '/'; got {name!r} instead."
            raise ValueError(msg)
        self._session.check_writable(f"create {name!r} in {self.name!r}")
        if name in self._members():
            msg = f"{name!r} already exists in group {self.name!r} {self._where()}"
            raise ValueError(msg)
        uri = _join_uri(self.uri, escape_key(name))
        vfs = tiledb.VFS(ctx=self._session.ctx)
        if vfs.is_dir(uri):  # left over from an interrupted write: not a member, so garbage
            vfs.remove_dir(uri)
        return uri

    def _add_member(self, name: str, uri: str, kind: str) -> None:
        self._session.add_member(self.uri, name, uri, kind, escape_key(name))

    def create_group(self, name: str) -> TileDBGroup:
        uri = self._check_new(name)
        tiledb.Group.create(uri, ctx=self._session.ctx)
        self._add_member(name, uri, "group")
        return TileDBGroup(uri, _join_path(self.name, name), self._session)

    def require_group(self, name: str) -> TileDBGroup:
        if name in self._members():
            node = self[name]
            if isinstance(node, TileDBGroup):
                return node
            msg = f"{name!r} in group {self.name!r} is an array, expected a group"
            raise TypeError(msg)
        return self.create_group(name)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> TileDBArray:
        """Create a dense array child (strings as TileDB variable-length UTF-8).

        ``storage_options``: ``chunks`` (tile extents), ``compression`` (``"gzip"``,
        ``"zstd"``, ``"lz4"``, ``"bzip2"``; h5py's ``"lzf"`` maps to LZ4),
        ``compression_opts`` (level) and ``filters`` (a ``tiledb.FilterList``); others are
        ignored.
        """
        path = _join_path(self.name, name)
        values: np.ndarray | None
        if data is None:
            if shape is None:
                msg = f"create_array needs data or shape (creating {path!r})."
                raise TypeError(msg)
            shp = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
            dt = _logical_dtype(np.dtype(dtype if dtype is not None else "f8"))
            values = None
        else:
            arr = np.asarray(data)
            if dtype is not None and not _is_str_kind(np.dtype(dtype)) and not _is_str_kind(arr.dtype):
                arr = arr.astype(dtype)
            shp = tuple(int(s) for s in arr.shape)
            dt = _logical_dtype(arr.dtype)
            values = arr
            if dt.kind == "O" and arr.size:
                _to_cells(arr, dt, f" {path!r}")  # refuse non-str elements before creating anything
        if any(s > CAPACITY for s in shp):
            msg = f"Expected every dimension of {path!r} to be at most {CAPACITY}; got shape {shp}."
            raise ValueError(msg)
        uri = self._check_new(name)
        ctx = self._session.ctx
        tiledb.Array.create(uri, _schema(shp, dt, storage_options, ctx, repr(path)), ctx=ctx)
        node = TileDBArray(uri, path, self._session)
        try:
            with self._session.writer(uri, "array") as w:
                if values is not None and values.size:
                    node._write_box(w, [(0, s) for s in shp], values.reshape(shp), dt)
                w.meta[META_KEY] = json.dumps(
                    {"shape": list(shp), "dtype": _dtype_to_json(dt), "layout": _LAYOUT_VERSION}
                )
        except BaseException:
            tiledb.VFS(ctx=ctx).remove_dir(uri)
            raise
        self._add_member(name, uri, "array")
        return node

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Release the store's cached TileDB handles (on the root; a no-op on subgroups)."""
        if self.name == "/":
            self._session.close()

    def __enter__(self) -> TileDBGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TileDBGroup {self.name!r} in {self.filename!r}>"


def _same_uri(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        u = u.rstrip("/")
        return u[len("file://"):] if u.startswith("file://") else u

    return norm(a) == norm(b)


# ------------------------------------------------------------------------------ opening


def _uri_of(path: Any) -> tuple[str, str, bool]:
    """(uri for TileDB, filename shown to users, is_local)."""
    s = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if "://" in s and not s.startswith("file://"):
        return s.rstrip("/"), s, False
    local = s[len("file://"):] if s.startswith("file://") else s
    return str(Path(local).absolute()), s, True


def _ctx(storage_options: dict[str, Any] | None) -> Any:
    so = dict(storage_options or {})
    ctx = so.pop("ctx", None)
    if ctx is not None:
        return ctx
    cfg = so.pop("config", None) or {}
    cfg = dict(cfg) if not isinstance(cfg, tiledb.Config) else {k: v for k, v in cfg.items()}
    cfg.update({str(k): str(v) for k, v in so.items()})
    return tiledb.Ctx(tiledb.Config(cfg)) if cfg else tiledb.default_ctx()


def open_tiledb_store(
    path: Any, mode: OpenMode, storage_options: dict[str, Any] | None = None
) -> TileDBGroup:
    """Open ``path`` (directory or TileDB URI) as the root group of a TileDB store.

    ``storage_options``: ``ctx`` (a ``tiledb.Ctx``), ``config`` (a mapping or
    ``tiledb.Config``), and any other key as a TileDB config parameter (e.g.
    ``{"vfs.s3.region": "eu-west-1"}``).
    """
    if isinstance(path, tiledb.Group):
        node = adapt_tiledb_object(path)
        assert isinstance(node, TileDBGroup)
        return node
    if isinstance(path, tiledb.Array):
        msg = f"Expected a TileDB group (the root of a store); got the TileDB array {path.uri!r}."
        raise InvalidFileError(msg, filename=path.uri, path="/")
    uri, filename, local = _uri_of(path)
    ctx = _ctx(storage_options)
    kind = tiledb.object_type(uri, ctx=ctx)
    if mode == "w":
        vfs = tiledb.VFS(ctx=ctx)
        if local and Path(uri).is_file():
            Path(uri).unlink()
        elif vfs.is_dir(uri):
            vfs.remove_dir(uri)
        tiledb.Group.create(uri, ctx=ctx)
    elif mode == "a" and kind is None:
        if local and Path(uri).exists():
            msg = f"Expected a TileDB group at {filename!r}; found a file or directory that is not one."
            raise InvalidFileError(msg, filename=filename, path="/")
        tiledb.Group.create(uri, ctx=ctx)
    elif kind is None:
        if local and not Path(uri).exists():
            msg = f"No such file or directory: {filename!r}"
            raise FileNotFoundError(msg)
        msg = f"Expected a TileDB group at {filename!r}; found no TileDB object there."
        raise InvalidFileError(msg, filename=filename, path="/")
    elif kind != "group":
        msg = f"Expected a TileDB group at {filename!r}; found a TileDB {kind}."
        raise InvalidFileError(msg, filename=filename, path="/")
    session = _Session(uri, filename=filename, mode=mode, ctx=ctx)
    return TileDBGroup(uri, "/", session)


def adapt_tiledb_object(obj: Any) -> TileDBGroup | TileDBArray | None:
    """Wrap a user's open ``tiledb.Group`` / ``tiledb.Array`` (the user keeps ownership)."""
    if isinstance(obj, tiledb.Group):
        kind = "group"
    elif isinstance(obj, tiledb.Array):
        kind = "array"
    else:
        return None
    uri = str(obj.uri).rstrip("/")
    mode = "r" if getattr(obj, "mode", "r") == "r" else "r+"
    ctx = getattr(obj, "ctx", None) or tiledb.default_ctx()
    session = _Session(uri, filename=uri, mode=mode, ctx=ctx, owned=False)
    if kind == "group":
        return TileDBGroup(uri, "/", session)
    return TileDBArray(uri, "/" + uri.rsplit("/", 1)[-1], session)

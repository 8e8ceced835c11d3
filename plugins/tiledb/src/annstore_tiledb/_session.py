"""What every node of one opened TileDB store shares: a clock, read handles, pending writes.

TileDB orders writes (cells, metadata, group membership) by millisecond timestamps, and two
writes to one object within the same millisecond are ordered arbitrarily. Every write here
opens its object at a timestamp from a process-wide clock that never hands out the same
millisecond twice (waiting for the next millisecond when needed), so writes made by this
process read back in the order they were made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import tiledb
from annstore.errors import AnnstoreError

__all__ = ["ReadOnlyStoreError", "Session"]


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


_DELETE: Any = object()


class Session:
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


"""``SQLiteStore``: a zarr-python v3 ``Store`` over one SQLite file (stdlib ``sqlite3``).

Every zarr key (``zarr.json``, ``X/data/c/0``, ...) is one row of the table ``zarr(key TEXT
PRIMARY KEY, value BLOB)``. Byte ranges are read with SQL ``substr``, so partial reads (shard
indexes, sharded chunks) fetch only the bytes asked for. Chunking, compression, sharding and
the anndata layout are zarr's and the annstore zarr plugin's: this module only moves bytes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, Store, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

__all__ = ["SQLiteStore"]


def _slice_sql(byte_range: ByteRequest | None) -> tuple[str, tuple[Any, ...]]:
    """The SQL expression of ``value`` restricted to ``byte_range`` (substr is 1-based)."""
    if byte_range is None:
        return "value", ()
    if isinstance(byte_range, RangeByteRequest):
        return "substr(value, ?, ?)", (byte_range.start + 1, byte_range.end - byte_range.start)
    if isinstance(byte_range, OffsetByteRequest):
        return "substr(value, ?)", (byte_range.offset + 1,)
    if isinstance(byte_range, SuffixByteRequest):
        return "substr(value, max(length(value) - ? + 1, 1))", (byte_range.suffix,)
    msg = f"Unexpected byte range {byte_range!r}"
    raise TypeError(msg)


class SQLiteStore(Store):
    """A zarr ``Store`` keeping every key as a row of one SQLite file.

    Parameters
    ----------
    path
        The SQLite file. Read-only opening requires it to exist; otherwise it is created.
    read_only
        Open the file read-only (SQLite's ``mode=ro``).
    """

    supports_writes = True
    supports_deletes = True
    supports_listing = True
    supports_partial_writes = False

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self.path = str(path)
        if read_only and not Path(self.path).is_file():
            msg = f"No such file or directory: {self.path!r}"
            raise FileNotFoundError(msg)
        uri = f"{Path(self.path).absolute().as_uri()}?mode={'ro' if read_only else 'rwc'}"
        # zarr calls the store from its own event-loop thread: one connection, one lock
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        if not read_only:
            self._db.execute("CREATE TABLE IF NOT EXISTS zarr (key TEXT PRIMARY KEY, value BLOB)")

    def _query(self, sql: str, args: tuple[Any, ...] = (), *, write: bool = False) -> list[Any]:
        with self._lock:
            if write and not self._db.in_transaction:
                self._db.execute("BEGIN")  # one transaction per session: committed by close()
            return self._db.execute(sql, args).fetchall()

    def with_read_only(self, read_only: bool = False) -> SQLiteStore:
        return type(self)(self.path, read_only=read_only)

    def close(self) -> None:
        """Commit what was written and close the file."""
        super().close()
        with self._lock:
            if self._db.in_transaction:
                self._db.execute("COMMIT")
            self._db.close()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SQLiteStore) and (other.path, other.read_only) == (
            self.path, self.read_only)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- reading --------------------------------------------------------------------------

    async def get(
        self, key: str, prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        expr, args = _slice_sql(byte_range)
        rows = self._query(f"SELECT {expr} FROM zarr WHERE key = ?", (*args, key))
        if not rows:
            return None
        return (prototype or default_buffer_prototype()).buffer.from_bytes(bytes(rows[0][0]))

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(k, prototype, r) for k, r in key_ranges]

    async def exists(self, key: str) -> bool:
        return bool(self._query("SELECT 1 FROM zarr WHERE key = ?", (key,)))

    # -- writing --------------------------------------------------------------------------

    async def set(self, key: str, value: Buffer) -> None:
        self._check_writable()
        if not isinstance(value, Buffer):
            msg = f"SQLiteStore.set(): expected a zarr Buffer; got {type(value).__name__} instead."
            raise TypeError(msg)
        self._query("INSERT OR REPLACE INTO zarr VALUES (?, ?)", (key, value.to_bytes()), write=True)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        self._check_writable()
        self._query("INSERT OR IGNORE INTO zarr VALUES (?, ?)", (key, value.to_bytes()), write=True)

    async def delete(self, key: str) -> None:
        self._check_writable()
        self._query("DELETE FROM zarr WHERE key = ?", (key,), write=True)

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, Any]]) -> None:
        raise NotImplementedError

    # -- listing --------------------------------------------------------------------------

    async def list(self) -> AsyncIterator[str]:
        for (key,) in self._query("SELECT key FROM zarr ORDER BY key"):
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for (key,) in self._query("SELECT key FROM zarr WHERE substr(key, 1, ?) = ?",
                                  (len(prefix), prefix)):
            yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
        seen: set[str] = set()
        async for key in self.list_prefix(prefix):
            child = key[len(prefix):].split("/", 1)[0]
            if child not in seen:
                seen.add(child)
                yield child

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

Arrays live in :mod:`._array`, dtypes, cells and schemas in :mod:`._cells`, read plans in
:mod:`._select`, write ordering and buffered metadata in :mod:`._session`; what every store
adapter shares comes from :mod:`annstore.io`'s adapter base.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tiledb
from annstore.errors import InvalidFileError
from annstore.io import GroupBase

from ._array import META_KEY, TileDBArray, TileDBAttrs, TileDBNode, layout_meta
from ._cells import CAPACITY, array_schema, logical_dtype
from ._session import ReadOnlyStoreError, Session

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

_SAFE_EXTRA = set("-_.+=,@ ()[]{}!$&'")


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


class TileDBGroup(TileDBNode, GroupBase):
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

    def _child(self, key: str) -> TileDBGroup | TileDBArray | None:
        members = self._members()
        if key not in members:
            return None
        uri, kind = members[key]
        if not kind:
            kind = str(tiledb.object_type(uri, ctx=self._session.ctx) or "")
        name = self.child_path(key)
        if kind == "group":
            return TileDBGroup(uri, name, self._session)
        if kind == "array":
            return TileDBArray(uri, name, self._session)
        msg = f"Member {key!r} of group {self.name!r} {self._where()} points to {uri!r}, which holds no TileDB object."
        raise InvalidFileError(msg, filename=self.filename, path=name)

    def _remove(self, key: str) -> None:
        uri, _ = self._members()[key]
        self._session.check_writable(f"delete {key!r} from {self.name!r}")
        self._session.remove_member(self.uri, key)
        self._session.forget(uri)
        own = _join_uri(self.uri, escape_key(key))
        if _same_uri(uri, own):
            vfs = tiledb.VFS(ctx=self._session.ctx)
            if vfs.is_dir(own):
                vfs.remove_dir(own)

    def _check_new(self, name: str) -> None:
        self._session.check_writable(f"create {name!r} in {self.name!r}")
        super()._check_new(name)

    def _new_uri(self, name: str) -> str:
        uri = _join_uri(self.uri, escape_key(name))
        vfs = tiledb.VFS(ctx=self._session.ctx)
        if vfs.is_dir(uri):  # left over from an interrupted write: not a member, so garbage
            vfs.remove_dir(uri)
        return uri

    def _add_member(self, name: str, uri: str, kind: str) -> None:
        self._session.add_member(self.uri, name, uri, kind, escape_key(name))

    def _new_group(self, name: str) -> TileDBGroup:
        uri = self._new_uri(name)
        tiledb.Group.create(uri, ctx=self._session.ctx)
        self._add_member(name, uri, "group")
        return TileDBGroup(uri, self.child_path(name), self._session)

    def _new_array(
        self, name: str, values: np.ndarray | None, shp: tuple[int, ...], dtype: np.dtype[Any],
        storage_options: dict[str, Any],
    ) -> TileDBArray:
        """Create a dense array child (strings as TileDB variable-length UTF-8).

        ``storage_options``: ``chunks`` (tile extents), ``compression`` (``"gzip"``,
        ``"zstd"``, ``"lz4"``, ``"bzip2"``; h5py's ``"lzf"`` maps to LZ4),
        ``compression_opts`` (level) and ``filters`` (a ``tiledb.FilterList``); others are
        ignored.
        """
        path = self.child_path(name)
        dt = logical_dtype(dtype)
        if any(s > CAPACITY for s in shp):
            msg = f"Expected every dimension of {path!r} to be at most {CAPACITY}; got shape {shp}."
            raise ValueError(msg)
        uri = self._new_uri(name)
        ctx = self._session.ctx
        tiledb.Array.create(uri, array_schema(shp, dt, storage_options, ctx, repr(path)), ctx=ctx)
        node = TileDBArray(uri, path, self._session)
        try:
            with self._session.writer(uri, "array") as w:
                if values is not None and values.size:
                    node._write_box(w, [(0, s) for s in shp], values.reshape(shp), dt)
                w.meta[META_KEY] = layout_meta(shp, dt)
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
    session = Session(uri, filename=filename, mode=mode, ctx=ctx)
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
    session = Session(uri, filename=uri, mode=mode, ctx=ctx, owned=False)
    if kind == "group":
        return TileDBGroup(uri, "/", session)
    return TileDBArray(uri, "/" + uri.rsplit("/", 1)[-1], session)

"""Opening of zarr stores: directories, zip files, URLs (fsspec), zarr ``Store`` and ``Group``.

An existing local store is confined to its root (no symlink out of it is followed, see
``_confine``); zip archives are read in place and written through a sibling directory packed
on close (``_zip``); metadata written in ``"w"`` mode is consolidated on close, and ``r+``/``a``
edits keep existing consolidated metadata in sync.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zarr
from annstore.errors import InvalidFileError

from ._store import ZarrArray, ZarrGroup, _StoreState

if TYPE_CHECKING:
    from annstore.types import OpenMode

__all__ = ["adapt_zarr_object", "open_zarr_store"]

ZIP_MAGIC = b"PK\x03\x04"


def _store_filename(store: Any) -> str | None:
    root = getattr(store, "root", None)
    if root is not None:
        return str(root)
    path = getattr(store, "path", None)
    if isinstance(path, str | os.PathLike):
        return str(path)
    return str(store)


def _is_zip_file(p: Path) -> bool:
    if p.suffix.lower() == ".zip":
        return True
    try:
        with open(p, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def _leave_open() -> None:
    """Closing an adapter of a user's zarr object leaves its store open (the user owns it)."""


def adapt_zarr_object(obj: Any) -> ZarrGroup | ZarrArray | None:
    """Wrap a user's ``zarr.Group`` / ``zarr.Array`` (no consolidation, the user owns it)."""
    if not isinstance(obj, zarr.Group | zarr.Array):
        return None
    st = _StoreState(
        obj.store,
        filename=_store_filename(obj.store),
        zarr_format=int(obj.metadata.zarr_format),
        mode="r" if obj.store.read_only else "r+",
        finalize=_leave_open,  # a module function: the nodes pickle (lazy tasks on workers)
    )
    return ZarrGroup(obj, st) if isinstance(obj, zarr.Group) else ZarrArray(obj, st)


def _open_group(store: Any, mode: str, zarr_format: int | None) -> Any:
    kw: dict[str, Any] = {}
    if mode == "r":
        kw["use_consolidated"] = None
    else:
        kw["use_consolidated"] = False
    if mode in ("w", "a") and zarr_format is not None:
        kw["zarr_format"] = zarr_format
    try:
        return zarr.open_group(store, mode=mode, **kw)  # type: ignore[arg-type]
    except (FileNotFoundError, zarr.errors.GroupNotFoundError) as e:
        msg = (
            f"Expected a zarr group at {_store_filename(store)!r}; found none "
            f"({type(e).__name__}: {e})."
        )
        # zarr's own error (a FileNotFoundError too), as anndata raises
        raise zarr.errors.GroupNotFoundError(msg) from e
    except zarr.errors.ContainsArrayError as e:
        msg = f"Expected a zarr group at {_store_filename(store)!r}; found an array."
        raise InvalidFileError(msg, filename=_store_filename(store), path="/") from e
    except (ValueError, KeyError, TypeError) as e:  # damaged zarr.json/.zattrs/.zgroup/.zmetadata
        msg = f"Malformed zarr metadata in {_store_filename(store)!r}: {type(e).__name__}: {e}"
        raise InvalidFileError(msg, filename=_store_filename(store), path="/") from e


def _was_consolidated(group: Any) -> bool:
    """Whether the store holds consolidated metadata (that r+/a edits must keep in sync)."""
    if getattr(group.metadata, "consolidated_metadata", None) is not None:
        return True
    try:
        fresh = zarr.open_group(group.store, mode="r", use_consolidated=None, path=group.path)
    except Exception:  # noqa: BLE001 - unreadable root: nothing to keep in sync
        return False
    return fresh.metadata.consolidated_metadata is not None


def open_zarr_store(
    path: Any, mode: OpenMode, storage_options: dict[str, Any] | None = None, *,
    format: str = "zarr",
) -> ZarrGroup:
    """Open ``path`` (directory, zip file, URL, zarr ``Store`` or ``Group``) as a root group.

    ``storage_options`` keys ``zarr_format`` (format written in ``"w"`` mode, default
    ``annstore.settings.zarr_write_format``) and ``consolidate_metadata`` (consolidate after
    writing, default ``True``) are annstore's; the others go to fsspec for URLs.

    ``format`` is the annstore format name the nodes report: a plugin whose storage is a
    zarr ``Store`` (a database, an object store) opens it here under its own format name and
    calls :func:`annstore_zarr.register_encodings` for that name; it then gets every
    encoding, chunking, compression and partial reads of this plugin.
    """
    from annstore import settings

    so = dict(storage_options or {})
    zarr_format = so.pop("zarr_format", None)
    consolidate_opt = so.pop("consolidate_metadata", None)
    if mode == "w" and zarr_format is None:
        # bypass the setting's own deprecation warning on reading it, as anndata does
        zarr_format = int(settings.__dict__["zarr_write_format"])
        if zarr_format == 2:
            warnings.warn(
                "zarr v3 will become the only option in 0.14 anndata for `{read,write}_zarr`. "
                "This setting (`anndata.settings.zarr_write_format`) will be removed in 0.14.",
                DeprecationWarning,
                stacklevel=4,
            )
    if zarr_format is not None and int(zarr_format) not in (2, 3):
        msg = f"Expected zarr_format 2 or 3; got {zarr_format!r} instead."
        raise ValueError(msg)
    zarr_format = None if zarr_format is None else int(zarr_format)
    finalize = None
    filename: str | None

    if isinstance(path, zarr.Group):
        node = adapt_zarr_object(path)
        assert isinstance(node, ZarrGroup)
        return node
    if isinstance(path, zarr.abc.store.Store):
        store = path
        filename = _store_filename(store)
    elif isinstance(path, MutableMapping):
        store = path
        filename = None
    elif isinstance(path, str | os.PathLike) and "://" in str(path):
        from zarr.storage import FsspecStore

        filename = str(path)
        store = FsspecStore.from_url(filename, storage_options=so or None, read_only=mode == "r")
    elif isinstance(path, str | os.PathLike):
        p = Path(path)
        filename = str(p)
        if (p.is_file() and _is_zip_file(p)) or (not p.exists() and p.suffix.lower() == ".zip"):
            store, finalize = _open_zip(p, mode, zarr_format)
        else:
            if mode == "r" and not p.exists():
                msg = f"No such file or directory: {filename!r}"
                raise FileNotFoundError(msg)
            from zarr.storage import LocalStore

            from ._confine import local_store

            # An existing store is confined to its root (no symlink out of it is followed).
            store = LocalStore(p) if mode == "w" else local_store(p, read_only=mode == "r")
    else:
        msg = (
            "Expected a path, URL, zarr Store or zarr Group; got "
            f"{type(path).__module__}.{type(path).__qualname__} instead."
        )
        raise TypeError(msg)

    group = _open_group(store, mode, zarr_format)
    fmt = int(group.metadata.zarr_format)
    if mode == "w":
        consolidate = True if consolidate_opt is None else bool(consolidate_opt)
    elif mode in ("r+", "a"):
        consolidate = _was_consolidated(group) if consolidate_opt is None else bool(consolidate_opt)
    else:
        consolidate = False
    st = _StoreState(
        group.store, filename=filename, zarr_format=fmt, mode=mode,
        consolidate=consolidate, finalize=finalize, format=format,
    )
    if finalize is None and mode != "w" and isinstance(path, str | os.PathLike) and "://" not in str(path):
        from ._guard import store_guard

        st.guard = store_guard(path)
    return ZarrGroup(group, st)


def _open_zip(p: Path, mode: str, zarr_format: int | None) -> tuple[Any, Any]:
    """Zip archives: read in place; writes go to a sibling directory packed on close."""
    if mode == "r":
        from ._confine import check_zip_members

        check_zip_members(p)
    from ._zip import open_zip

    return open_zip(p, mode)

"""Reads of a local zarr store stay inside the store's root.

A zarr directory store reads every key by path, so a chunk file, an array or group directory,
or a metadata file that is a symlink to somewhere else would hand that place's bytes back as
X or uns. :class:`ConfinedLocalStore` is zarr's own ``LocalStore`` with one check added in
front of every key it reads, lists or writes: a key whose path resolves outside the store root
(through a symlink at any depth, ``..`` or an absolute key) raises
:class:`~annstore.errors.InvalidFileError` naming the store and the key. Symlinks that stay
inside the root keep working. ``annstore.settings.allow_outside_data = True`` opts out (the
store is then a plain ``LocalStore``).

Zip stores are read in place and never extracted; a member whose name is absolute or
contains a ``..`` part is still refused on opening (:func:`check_zip_members`): no zarr writer
makes one, so it is a crafted archive.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from annstore.errors import InvalidFileError
from zarr.storage import LocalStore

__all__ = ["ConfinedLocalStore", "check_zip_members", "local_store"]

_OPT_IN = "set annstore.settings.allow_outside_data = True to follow it anyway"


def _within(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class ConfinedLocalStore(LocalStore):
    """zarr's ``LocalStore`` that refuses keys resolving outside its root.

    Parameters
    ----------
    root
        Directory of the store.
    read_only
        Whether the store is read-only.

    Notes
    -----
    The directories of checked keys are remembered once found inside the root, so reading
    many chunks of one array costs one ``lstat`` per chunk. The check guards against crafted
    stores, not against a process that swaps symlinks in while the store is being read.
    """

    def __init__(self, root: Path | str, *, read_only: bool = False) -> None:
        super().__init__(root, read_only=read_only)
        self._root_s = os.fspath(self.root)
        self._real_root = os.path.realpath(self._root_s)
        self._dirs_inside: set[str] = {""}

    def _refuse(self, key: str, real: str) -> InvalidFileError:
        msg = (
            f"Expected every key of the zarr store {self._root_s!r} to stay inside it; {key!r} "
            f"is, or goes through, a symlink (or '..') resolving to {real!r} outside the store. "
            f"Data outside the store is not read; {_OPT_IN}."
        )
        return InvalidFileError(msg, filename=self._root_s, path="/" + key.lstrip("/"))

    def _check_dir(self, key: str, prefix: str) -> None:
        if prefix in self._dirs_inside:
            return
        real = os.path.realpath(os.path.join(self._root_s, prefix))
        if not _within(real, self._real_root):
            raise self._refuse(key, real)
        if os.path.isdir(real):
            self._dirs_inside.add(prefix)

    def _check(self, key: str) -> None:
        """Raise if ``key`` resolves to a path outside the store root."""
        key = key.rstrip("/")
        parent, _, _name = key.rpartition("/")
        self._check_dir(key, parent)
        full = os.path.join(self._root_s, key)
        if os.path.islink(full) or os.path.isabs(key):
            real = os.path.realpath(full)
            if not _within(real, self._real_root):
                raise self._refuse(key, real)

    # -- reads ---------------------------------------------------------------------------

    def get_sync(self, key: str, **kwargs: Any) -> Any:
        self._check(key)
        return super().get_sync(key, **kwargs)

    async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
        self._check(key)
        return await super().get(key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: Any, key_ranges: Iterable[tuple[str, Any]]
    ) -> list[Any]:
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            self._check(key)
        return await super().get_partial_values(prototype, key_ranges)

    async def exists(self, key: str) -> bool:
        self._check(key)
        return await super().exists(key)

    async def getsize(self, key: str) -> int:
        self._check(key)
        return await super().getsize(key)

    # -- listing -------------------------------------------------------------------------

    async def list(self) -> AsyncIterator[str]:
        async for key in super().list():
            self._check(key)
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        if prefix.strip("/"):
            self._check(prefix)
        async for key in super().list_prefix(prefix):
            self._check(key)
            yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        base = prefix.strip("/")
        if base:
            self._check(base)
        async for name in super().list_dir(prefix):
            self._check(f"{base}/{name}" if base else name)
            yield name

    # -- writes (r+ edits must not land outside either) ----------------------------------

    def set_sync(self, key: str, value: Any) -> None:
        self._check(key)
        super().set_sync(key, value)

    async def set(self, key: str, value: Any) -> None:
        self._check(key)
        await super().set(key, value)

    async def set_if_not_exists(self, key: str, value: Any) -> None:
        self._check(key)
        await super().set_if_not_exists(key, value)


def local_store(path: Path, *, read_only: bool) -> LocalStore:
    """The store annstore opens for an existing local directory: confined unless opted out.

    Parameters
    ----------
    path
        The store's directory.
    read_only
        Whether the store is read-only.
    """
    from annstore import settings

    if settings.allow_outside_data:
        return LocalStore(path, read_only=read_only)
    return ConfinedLocalStore(path, read_only=read_only)


def check_zip_members(path: Path) -> None:
    """Refuse a zip store holding a member whose name is absolute or has a ``..`` part.

    Parameters
    ----------
    path
        The zip archive.

    Raises
    ------
    InvalidFileError
        Naming the archive and the first such member.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return  # zarr's ZipStore reports what is wrong with the archive itself
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            msg = (
                f"Expected the members of the zip store {str(path)!r} to be relative keys "
                f"inside it; member {name!r} is absolute or climbs out with '..'."
            )
            raise InvalidFileError(msg, filename=str(path), path=name)

"""Replace-detection: what a local path names now, held so that a replacement is always seen.

Two things identify the file or directory store at a path, and neither is an inode number
taken on trust (file systems reuse them as soon as they are free; ext4 does so for directories
within milliseconds):

* a **pin**: an open read-only descriptor of the file or directory. While it is held, the
  kernel cannot give its inode number to another file, so ``stat(path)`` naming another
  ``(device, inode)`` than the descriptor proves that the path was replaced;
* a **generation token**: a random token that every atomic write (:mod:`annstore.io._atomic`)
  stores as the extended attribute ``user.annstore.generation`` of the file or directory it
  writes. It is invisible to HDF5 and zarr (no file is added to a store) and changes with every
  write, including the in-place fallback of a write into a read-only directory, where the file
  or directory itself stays the same. Where extended attributes are not supported (macOS,
  Windows, some network file systems) there is no token and the pin alone decides.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from pathlib import Path
from typing import Any

__all__ = ["GENERATION_XATTR", "StorePin", "new_token", "pin_path", "read_token", "write_token"]

#: Extended attribute holding the generation token of a file or directory store.
GENERATION_XATTR = "user.annstore.generation"
_MAX_TOKEN = 64
_O_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_HAS_XATTR = hasattr(os, "setxattr")


def new_token() -> str:
    """A fresh random generation token."""
    return uuid.uuid4().hex


def write_token(path: Any, token: str | None = None) -> str | None:
    """Give the file or directory ``path`` a (new) generation token; return it.

    ``None`` where the file system keeps no extended attributes.
    """
    if not _HAS_XATTR:
        return None
    token = token or new_token()
    try:
        os.setxattr(path, GENERATION_XATTR, token.encode("ascii"))
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES, errno.EROFS):
            return None
        raise
    return token


def read_token(path: Any) -> str | None:
    """The generation token of ``path`` (a path or an open descriptor); ``None`` if none."""
    if not _HAS_XATTR:
        return None
    try:
        return os.getxattr(path, GENERATION_XATTR)[:_MAX_TOKEN].decode("ascii", "replace")
    except OSError:
        return None


class StorePin:
    """The file or directory store a local path names at the time of pinning, held open.

    Parameters
    ----------
    path
        A local path that exists.

    Raises
    ------
    OSError
        When ``path`` cannot be opened (missing, unreadable).
    """

    __slots__ = ("__weakref__", "_fd", "dev", "ino", "is_dir", "path", "token")

    def __init__(self, path: Any) -> None:
        self.path = Path(path)
        self._fd: int | None
        try:
            self._fd = os.open(self.path, _O_FLAGS)
            st = os.fstat(self._fd)
        except (IsADirectoryError, PermissionError):  # platforms that cannot open directories
            self._fd = None
            st = os.stat(self.path)
        self.dev, self.ino = st.st_dev, st.st_ino
        self.is_dir = stat.S_ISDIR(st.st_mode)
        # read through the pinned descriptor: the token of *this* file or directory, even if
        # the path was swapped since it was opened
        self.token = read_token(self._fd if self._fd is not None else self.path)

    def same_store(self, other: StorePin) -> bool:
        """Whether ``other`` pins the same file or store generation as this pin.

        Parameters
        ----------
        other
            Another pin.

        Returns
        -------
        bool
        """
        return (self.dev, self.ino, self.token) == (other.dev, other.ino, other.token)

    def matches(self) -> bool:
        """Whether the path still names the pinned file or store generation."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != (self.dev, self.ino):
            return False
        return read_token(self.path) == self.token

    def close(self) -> None:
        """Release the descriptor (the pin no longer guards against inode reuse)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<StorePin {str(self.path)!r} dev={self.dev} ino={self.ino} token={self.token!r}>"


def pin_path(path: Any) -> StorePin | None:
    """Pin what ``path`` names now; ``None`` if it does not exist or cannot be opened.

    Parameters
    ----------
    path
        A local path.

    Returns
    -------
    StorePin or None
    """
    try:
        return StorePin(path)
    except OSError:
        return None

"""Replace-detection for local zarr directory stores, whose chunks are opened by path one by one.

A reader of a directory store that another writer replaces meanwhile (annstore swaps the two
directories, then deletes the old one) would read chunks of the new store into arrays described
by the old metadata. The guard pins the store when it is opened (``annstore.io.pin_path``: a
held descriptor and the store's generation token) and is called after every array read and
before every write of a backed array: it raises :class:`~annstore.errors.FileReplacedError`
once the path names another store, so no mix is ever returned or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from annstore.errors import FileReplacedError
from annstore.io import pin_path

__all__ = ["store_guard"]


def store_guard(path: str | os.PathLike[str]) -> Callable[[str], None] | None:
    """A check of ``path`` against the store it names now; ``None`` if nothing is there."""
    pin = pin_path(path)
    if pin is None or not pin.is_dir:
        return None

    def check(element: Any) -> None:
        if pin.matches():
            return
        msg = (
            f"The zarr store {str(path)!r} was replaced by another writer after it was opened; "
            f"element {str(element)!r} would mix chunks of two stores. Open it again."
        )
        raise FileReplacedError(msg, filename=str(path), path=str(element))

    check.pin = pin  # type: ignore[attr-defined]  # held as long as the store is
    return check

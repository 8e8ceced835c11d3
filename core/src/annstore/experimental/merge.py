"""``annstore.experimental.merge`` (anndata's public module of the same name): on-disk
concatenation and :func:`as_group`, which opens a path or store as a group of its format."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._concat_on_disk import concat_on_disk

__all__ = ["as_group", "concat_on_disk"]


def _is_group(obj: Any) -> bool:
    return hasattr(obj, "attrs") and hasattr(obj, "keys") and hasattr(obj, "create_group")


@contextmanager
def as_group(store: Any, *, mode: str) -> Iterator[Any]:
    """Open ``store`` (a path, a zarr store, or an open group) as a group, closed on exit.

    A path ending in ``.h5ad`` opens an HDF5 file, any other path or store a zarr group; an
    open group is yielded as it is. The group is the storage library's own object (an
    ``h5py.File`` or ``zarr.Group``), as in anndata.
    """
    if _is_group(store) and not isinstance(store, str | os.PathLike):
        yield store
        return
    from ..io import open_store

    fmt = None
    if isinstance(store, str | os.PathLike):
        fmt = "h5ad" if os.fspath(store).endswith(".h5ad") else "zarr"
    elif not hasattr(store, "get") or not hasattr(store, "set"):
        msg = "This is not yet implemented."
        raise NotImplementedError(msg)
    else:
        fmt = "zarr"
    with open_store(store, format=fmt, mode=mode) as root:  # type: ignore[arg-type]
        yield _native(root)


def _native(node: Any) -> Any:
    for attr in ("native", "h5"):
        obj = getattr(node, attr, None)
        if obj is not None:
            return obj
    return node

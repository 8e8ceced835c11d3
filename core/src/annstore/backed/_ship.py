"""Stored elements embedded in dask tasks, and what happens when a task leaves the process.

Elements of a local path are read by reopening the path in each task (``_lazy._read_block``).
Every other element (a zarr store at a URL, an in-memory or custom zarr store) is embedded in
its tasks: in the process that built the graph the task reads through the element itself;
sent to a ``dask.distributed`` worker, the element is pickled, store included. A
``FsspecStore`` pickles as its URL, filesystem and storage options (endpoint, credentials),
so the worker reopens the same object store; a ``MemoryStore`` pickles as a copy of its
contents (fine for small data, one copy per task). A store that cannot be pickled (it holds
a lock, a connection, an open file) fails once, here, with an error that names the element
and the store instead of a serializer's message about graph internals.
"""

from __future__ import annotations

import pickle
from typing import Any

from ..errors import AnnstoreError

__all__ = ["Shipped", "StoreNotShippableError", "read_shipped_block"]


class StoreNotShippableError(AnnstoreError, TypeError):
    """A lazy element's store cannot be sent to another process (it does not pickle)."""


def _describe(obj: Any) -> str:
    name = getattr(obj, "name", None)
    native = getattr(obj, "native", None)
    store = getattr(native, "store", None)
    kind = type(store if store is not None else obj)
    where = f"element {name!r} of a " if isinstance(name, str) else ""
    return f"{where}{kind.__module__}.{kind.__qualname__}"


def _unship(data: bytes, is_node: bool) -> Shipped:
    return Shipped(pickle.loads(data), is_node=is_node)  # noqa: S301 - our own pickle of a task argument


class Shipped:
    """What a task reads from: an element (or a sparse dataset over one), shipped by pickle.

    Parameters
    ----------
    obj
        The annstore node, or a backed sparse dataset over one.
    is_node
        Whether ``obj`` is a node (read as a block of it) or a dataset (indexed).
    """

    __slots__ = ("is_node", "obj")

    def __init__(self, obj: Any, *, is_node: bool) -> None:
        self.obj = obj
        self.is_node = is_node

    def __reduce__(self) -> Any:
        try:
            data = pickle.dumps(self.obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - any pickling failure means the same
            msg = (
                f"Cannot send the lazy {_describe(self.obj)} to another process: its store "
                f"cannot be pickled ({type(e).__name__}: {e}). Open the data from a path, or "
                "from a URL with storage_options, or use a zarr store that pickles, to "
                "compute on dask.distributed; the threaded scheduler works with any store."
            )
            raise StoreNotShippableError(msg) from e
        return (_unship, (data, self.is_node))


def read_shipped_block(shipped: Shipped, selection: tuple[slice, ...]) -> Any:
    """Task body: read ``selection`` of the shipped element or sparse dataset."""
    from ._lazy import _read_node_block

    if shipped.is_node:
        return _read_node_block(shipped.obj, selection)
    return shipped.obj[selection]

"""What the AnnData model needs from backed storage: a protocol the model defines, and its slot.

The model (:class:`~annstore.AnnData`, :class:`~annstore.Raw`, views, index selection) knows
no storage. An AnnData is *backed* when its X stays in a file (``AnnData(filename=...)``,
``adata.filename = path``, ``read_h5ad(path, backed="r")``); for those operations the model
calls :func:`provider`, which returns the object implementing :class:`BackingProvider`.

Where the implementation comes from, without any upward import:

* The backed layer (:mod:`annstore.backed`) implements the protocol and calls
  :func:`register_provider` when it is imported (``backed -> model``, allowed).
* When a backed operation comes before anything imported :mod:`annstore.backed` (an
  ``AnnData(X, filename=...)`` in a fresh process), :func:`provider` calls the *loader*: a
  callable without arguments that imports the provider's layer. The package facade
  (:mod:`annstore._wiring`, run by ``import annstore``, which sits above every layer) sets it
  with :func:`set_provider_loader`. Every import of a submodule of annstore runs the package's
  ``__init__`` first, so the loader is always in place before the model can ask.

This module therefore imports nothing but the model's own errors, and the same slot lets a
test (or another implementation) stand in for the backed layer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .errors import CapabilityError

if TYPE_CHECKING:
    from ._anndata import AnnData

__all__ = ["BackingProvider", "provider", "register_provider", "set_provider_loader"]


class BackingProvider(Protocol):
    """The operations the model delegates for a backed AnnData.

    ``adata`` is always an actual AnnData (the model resolves views to their parent first);
    the provider keeps its state on it (``adata.file``, ``adata._filename``,
    ``adata._filemode``).
    """

    def init_backed(self, adata: AnnData, filename: Any, filemode: str | None) -> Any:
        """``AnnData(..., filename=, filemode=)``: open ``filename`` as ``adata.file``.

        A file that does not exist yet is written from ``adata`` first, and X then lives on
        disk only. Returns the file manager set as ``adata.file``.
        """

    def set_filename(self, adata: AnnData, filename: Any) -> None:
        """``adata.filename = filename``: back an in-memory object by a new file, move the
        backing file (``filename`` is another path) or load X into memory (``None``)."""

    def backed_X(self, adata: AnnData) -> Any:
        """X of a backed AnnData, left on disk (a backed sparse dataset or a dense array)."""

    def backed_raw_X(self, adata: AnnData) -> Any:
        """raw.X of a backed AnnData, left on disk; ``None`` when the file has none."""

    def subset(self, x: Any, idx: tuple[Any, ...]) -> Any:
        """The outer selection ``idx`` (one indexer per axis) of a backed or on-disk array
        (an ``h5py.Dataset``, a ``zarr.Array``, a backed sparse dataset), read into memory."""


_lock = threading.Lock()
_provider: BackingProvider | None = None
_loader: Callable[[], object] | None = None


def register_provider(impl: BackingProvider) -> None:
    """Make ``impl`` the backed-storage implementation the model calls.

    Parameters
    ----------
    impl
        An object with the methods of :class:`BackingProvider`. The backed layer registers
        its own when :mod:`annstore.backed` is imported; a later registration replaces it.
    """
    global _provider
    with _lock:
        _provider = impl


def set_provider_loader(loader: Callable[[], object] | None) -> None:
    """Set what imports the provider's layer on the first backed operation.

    Parameters
    ----------
    loader
        Called without arguments when no provider is registered yet; expected to import a
        module that calls :func:`register_provider`. ``None`` removes it.
    """
    global _loader
    with _lock:
        _loader = loader


def provider() -> BackingProvider:
    """The registered :class:`BackingProvider`, loading the backed layer on first use.

    Raises
    ------
    CapabilityError
        When no implementation is registered and none could be loaded.
    """
    if _provider is not None:
        return _provider
    loader = _loader
    reason = "no loader is set"
    if loader is not None:
        try:
            loader()
        except ImportError as e:
            reason = f"loading it failed: {e}"
        else:
            reason = "the loader registered none"
    if _provider is None:
        msg = (
            "Backed mode needs the backed layer (annstore.backed) to implement the model's "
            f"backing protocol, but no implementation is registered ({reason})."
        )
        raise CapabilityError(msg)
    return _provider

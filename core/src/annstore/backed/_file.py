"""Backed AnnData: the file manager, ``read_backed`` and :data:`FILE_BACKING`, the backed layer's
implementation of the model's :class:`~annstore._backing.BackingProvider`."""

from __future__ import annotations

import contextvars
import os
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CapabilityError, FileReplacedError

if TYPE_CHECKING:
    from .._anndata import AnnData
    from ..types import GroupLike

__all__ = [
    "FILE_BACKING",
    "AnnDataFileManager",
    "_backed_X",
    "_backed_raw_X",
    "_backed_subset",
    "_init_backed",
    "_set_filename",
    "read_backed",
]


#: How often opening a backed object is retried when its file is replaced meanwhile.
_OPEN_RETRIES = 12
#: storage options (a URL's endpoint and credentials) of the backed read being constructed:
#: ``_init_backed`` opens the store with them, as the read itself did
_OPENING_OPTIONS: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("_OPENING_OPTIONS", default={})


def _replaced(filename: Any, element: str) -> FileReplacedError:
    msg = (
        f"The backing file {str(filename)!r} was replaced by another writer after this backed "
        f"AnnData opened it; element {element!r} is not read from the new file (obs, var and "
        "X would come from different files). Open it again: annstore.read(..., backed=...)."
    )
    return FileReplacedError(msg, filename=str(filename), path=element)


class AnnDataFileManager:
    """The open backing file of a backed AnnData (``adata.file``).

    Holds the store's root group opened in ``filemode``. ``close()`` keeps the filename, and
    the next access to X reopens the file (as anndata does). A whole-file write to the
    backing path by this process (``adata.write()``) replaces the file atomically; the
    manager notices the new file and reopens it. A replacement by any other writer is
    detected (:class:`~annstore.io._identity.StorePin`: a held descriptor and the store's
    generation token, not a bare inode number) and raises :class:`FileReplacedError` at the
    next access instead of switching files.

    Parameters
    ----------
    adata
        The backed AnnData (held by weak reference), or ``None``.
    filename
        Path (or URL) of the backing file or store; ``None``: nothing is opened yet.
    filemode
        ``"r"`` or ``"r+"``.
    format
        The store's format name; guessed from the file when omitted.
    storage_options
        Options of the fsspec filesystem of a URL.
    """

    def __init__(
        self,
        adata: AnnData | None,
        filename: Any,
        filemode: str | None = "r",
        *,
        format: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._adata_ref = weakref.ref(adata) if adata is not None else None
        self._filename = None if filename is None else Path(filename) if not _is_url(filename) else filename
        self._filemode = filemode or "r"
        self._format = format
        self._storage_options = dict(storage_options or {})
        self._root: GroupLike | None = None
        self._pin: Any = None  # StorePin of the file opened first (local paths)
        self._cache: dict[str, Any] = {}
        if self._filename is not None:
            self.open()

    # -- state ------------------------------------------------------------------------------

    @property
    def filename(self) -> Any:
        """Path of the backing file."""
        return self._filename

    @property
    def format(self) -> str:
        """Format name of the backing store (``"h5ad"``, ``"zarr"``, ...)."""
        if self._format is None:
            from ..io._guess import guess_format

            self._format = guess_format(self._filename)
        return self._format

    @property
    def is_open(self) -> bool:
        """Whether the backing file is currently open."""
        return self._root is not None

    def open(self, filename: Any = None, filemode: str | None = None) -> None:
        """(Re)open the backing file, optionally another file or mode.

        Parameters
        ----------
        filename
            Another file to open instead (the current one is closed first).
        filemode
            Another mode (``"r"`` or ``"r+"``).

        Raises
        ------
        ValueError
            No filename is set, or ``filemode`` is not ``"r"`` / ``"r+"``.
        CapabilityError
            The store's format does not support backed mode.
        FileReplacedError
            The file was replaced by another writer since it was first opened.
        """
        if filename is not None:
            self.close()
            self._filename = Path(filename) if not _is_url(filename) else filename
            self._format = None
        if filemode is not None:
            self.close()
            self._filemode = filemode
        if self._filename is None:
            msg = "Cannot open the backing file: backing is not initialised (no filename)."
            raise ValueError(msg)
        if self._root is not None:
            return
        self._open("/")

    def _open(self, element: str) -> None:
        from ..io._api import _MODES
        from ..io._guess import require_format
        from ..io._plugins import open_store_root

        if self._filemode not in _MODES:
            msg = f"Expected filemode 'r' or 'r+'; got {self._filemode!r} instead."
            raise ValueError(msg)
        info = require_format(self.format)
        if not info.supports_backed:
            msg = f"Format {self.format!r} does not support backed mode."
            raise CapabilityError(msg)
        from ..io._identity import pin_path

        for attempt in range(_OPEN_RETRIES):
            pin = pin_path(self._filename) if isinstance(self._filename, Path) else None
            root = open_store_root(
                self._filename, format=self.format, mode=self._filemode,
                storage_options=dict(self._storage_options),
            )
            if root is None:
                msg = f"The {self.format!r} plugin did not open {str(self._filename)!r}."
                raise OSError(msg)
            if pin is None or pin.matches():
                break
            close = getattr(root, "close", None)  # replaced while opening: open the new one
            if close is not None:
                close()
            if attempt + 1 == _OPEN_RETRIES:
                raise _replaced(self._filename, element)
        self._adopt(pin, root, element)
        self._root = root
        self._cache.clear()

    def _adopt(self, pin: Any, root: Any, element: str) -> None:
        """Keep the first pin; a later open of another file is allowed only after our own write."""
        from ..io._atomic import written_here

        old = self._pin
        if pin is None or old is None:
            self._pin = pin if old is None else old
            return
        if old.same_store(pin):
            pin.close()
            return
        if written_here(self._filename):
            old.close()
            self._pin = pin
            return
        pin.close()
        close = getattr(root, "close", None)
        if close is not None:
            close()
        raise _replaced(self._filename, element)

    def close(self) -> None:
        """Close the backing file; the filename is kept (X access reopens it)."""
        if self._root is not None:
            close = getattr(self._root, "close", None)
            self._root = None
            self._cache.clear()
            if close is not None:
                close()

    @property
    def root(self) -> GroupLike:
        """The store's root group, reopened if closed or replaced on disk by this process.

        Raises :class:`FileReplacedError` if another writer replaced the file.
        """
        return self._checked_root("/")

    def _checked_root(self, element: str) -> GroupLike:
        from ..io._atomic import written_here

        if self._root is not None and self._pin is not None and not self._pin.matches():
            if not written_here(self._filename):
                raise _replaced(self._filename, element)
            self.close()
        if self._root is None:
            self._open(element)
        assert self._root is not None
        return self._root

    # -- mapping access --------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        """The storage library's own object at ``key`` (an ``h5py.Dataset``/``Group``, a zarr
        array/group), as anndata's ``adata.file[key]`` gives."""
        node = self._checked_root(key)[key]
        return getattr(node, "native", node)

    def __contains__(self, key: object) -> bool:
        return key in self.root

    def __iter__(self) -> Iterator[str]:
        return iter(self.root)

    def __delitem__(self, key: str) -> None:
        del self.root[key]
        self._cache.clear()

    def element(self, key: str) -> Any:
        """The backed object for element ``key``: a CSR/CSC dataset or a dense :class:`BackedArray`.

        Objects are cached while the file stays open, so the indptr of a sparse X is read once.

        Parameters
        ----------
        key
            The element path in the store (``"X"``, ``"raw/X"``, ``"layers/counts"``).

        Returns
        -------
        object
            A :class:`CSRDataset`, :class:`CSCDataset` or :class:`BackedArray`.

        Raises
        ------
        KeyError
            The store has no element ``key``.
        CapabilityError
            The element is neither a sparse matrix nor a dense array.
        """
        root = self._checked_root(key)
        if key in self._cache:
            return self._cache[key]
        if key not in root:
            return None
        node = root[key]
        if hasattr(node, "create_group"):
            from ._source import sparse_format_of
            from ._sparse import sparse_dataset

            if sparse_format_of(node) is None:
                msg = f"Element {key!r} of {str(self._filename)!r} is a group but not a sparse matrix; it cannot be backed."
                raise CapabilityError(msg)
            obj: Any = sparse_dataset(node)
        else:
            obj = _dense_element(node)
        self._cache[key] = obj
        return obj

    def __repr__(self) -> str:
        if self._filename is None:
            return "Backing file manager: no file is set."
        return f"Backing file manager of file {self._filename}."

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_root"] = None
        state["_pin"] = None
        state["_cache"] = {}
        state["_adata_ref"] = None
        return state


def _dense_element(node: Any) -> Any:
    """A backed dense element as anndata gives it: the storage library's own array
    (``h5py.Dataset``, ``zarr.Array``) where the store node offers one as ``backed_array``;
    a :class:`BackedArray` over the node otherwise (TileDB, third-party stores), since a
    native array of another library need not index, assign or convert as numpy does."""
    native = getattr(node, "backed_array", None)
    if native is not None and native is not node:
        return native
    from ._dense import BackedArray

    return BackedArray(node)


def _backed_subset(x: Any, idx: tuple[Any, ...]) -> Any:
    """Outer selection ``idx`` of a backed X / raw.X (for views of backed AnnData).

    A native dense array is read through :class:`BackedArray` (any indexer on each axis,
    unsorted and repeated too, as anndata's safe fancy indexing of h5py datasets); backed
    sparse datasets select themselves.
    """
    from .._index import subset
    from ._dense import BackedArray
    from ._sparse import BaseCompressedSparseDataset

    if isinstance(x, BackedArray | BaseCompressedSparseDataset) or not hasattr(x, "shape"):
        return subset(x, idx)
    from ..io._dispatch import as_node

    return BackedArray(as_node(x))[idx]


def _is_url(x: Any) -> bool:
    return isinstance(x, str) and "://" in x


# ----------------------------------------------------------------------- model hook-ins


def _init_backed(adata: AnnData, filename: Any, filemode: str | None) -> AnnDataFileManager:
    """Called by ``AnnData(filename=..., filemode=...)``: open the backing file as ``adata.file``.

    If the file does not exist yet, ``adata`` (with its in-memory X) is written to it first
    and X is dropped from memory, as setting ``adata.filename`` does.
    """
    path = Path(filename) if not _is_url(filename) else filename
    if isinstance(path, Path) and not path.exists() and not str(path).startswith("memory:"):
        _write_and_back(adata, path)
        return adata.file  # type: ignore[no-any-return]
    mgr = AnnDataFileManager(adata, path, filemode or "r", storage_options=_OPENING_OPTIONS.get())
    adata.file = mgr  # type: ignore[attr-defined]
    adata._filename = path  # type: ignore[attr-defined]
    adata._filemode = filemode or "r"  # type: ignore[attr-defined]
    return mgr


def _manager(adata: AnnData) -> AnnDataFileManager:
    mgr = getattr(adata, "file", None)
    if not isinstance(mgr, AnnDataFileManager):
        mgr = _init_backed(adata, adata._filename, adata._filemode)  # type: ignore[attr-defined]
    return mgr


def _backed_X(adata: AnnData) -> Any:
    """X of a backed (actual) AnnData: a CSR/CSC dataset or the file's dense array."""
    return _manager(adata).element("X")


def _backed_raw_X(adata: AnnData) -> Any:
    """raw.X of a backed (actual) AnnData, kept on disk like X."""
    mgr = _manager(adata)
    root = mgr.root
    if "raw" in root and "X" in root["raw"]:
        return mgr.element("raw/X")
    if "raw.X" in root:
        return mgr.element("raw.X")
    return None


def _write_and_back(adata: AnnData, path: Any, *, format: str | None = None) -> None:
    from .._anndata import _strings_to_categoricals
    from ..io import write

    # as anndata's ``self.write(filename, as_dense=...)``: strings become categoricals and X
    # (and raw.X) are stored dense, so that X can be edited in place
    _strings_to_categoricals(adata, True)
    dense = ("X", "raw/X") if adata.raw is not None else ("X",)
    write(adata, path, format=format, as_dense=dense)
    adata._filename = path  # type: ignore[attr-defined]
    adata._filemode = "r+"  # type: ignore[attr-defined]
    mgr = AnnDataFileManager(adata, path, "r+", format=format)
    adata.file = mgr  # type: ignore[attr-defined]
    adata._layers.pop(None, None)  # type: ignore[attr-defined]
    raw = getattr(adata, "_raw", None)
    if raw is not None and getattr(raw, "_X", None) is not None:
        raw._X = None


def _load(x: Any) -> Any:
    """A backed element in memory (a sparse dataset's matrix, a native array's values)."""
    if x is None or isinstance(x, np.ndarray):
        return x
    if hasattr(x, "to_memory"):
        return x.to_memory()
    return np.asarray(x[()])


def _set_filename(adata: AnnData, filename: Any) -> None:
    """``adata.filename = ...``: switch to backed mode, move the backing file, or load into memory.

    * ``None``: X (and raw.X) are loaded into memory and the file is closed.
    * a new path on an in-memory object: the object is written there and X stays on disk.
    * a new path on a backed object: the object is written to its file, which is then moved.
    """
    mgr = getattr(adata, "file", None)
    if filename is None:
        if adata._filename is None:  # type: ignore[attr-defined]
            return
        X = adata.X
        raw = getattr(adata, "_raw", None)
        raw_X = raw.X if raw is not None else None
        X, raw_X = _load(X), _load(raw_X)
        if isinstance(mgr, AnnDataFileManager):
            mgr.close()
        adata._filename = None  # type: ignore[attr-defined]
        adata._filemode = None  # type: ignore[attr-defined]
        from .._anndata import _NO_FILE

        adata.file = _NO_FILE  # type: ignore[attr-defined]
        if X is not None:
            adata._layers[None] = X  # type: ignore[attr-defined]
        if raw is not None and raw_X is not None:
            raw._X = raw_X
        return
    path = Path(filename)
    if adata._filename is None:  # type: ignore[attr-defined]
        _write_and_back(adata, path)
        return
    if Path(adata._filename) == path:  # type: ignore[attr-defined]
        return
    old = Path(adata._filename)  # type: ignore[attr-defined]
    adata.write()  # type: ignore[attr-defined]
    if isinstance(mgr, AnnDataFileManager):
        mgr.close()
    os.replace(old, path)
    adata._filename = path  # type: ignore[attr-defined]
    adata._filemode = "r+"  # type: ignore[attr-defined]
    adata.file = AnnDataFileManager(adata, path, "r+")  # type: ignore[attr-defined]


class _FileBacking:
    """The backed layer's :class:`~annstore._backing.BackingProvider`: backing files opened
    through the store plugins, kept as ``adata.file`` (an :class:`AnnDataFileManager`)."""

    init_backed = staticmethod(_init_backed)
    set_filename = staticmethod(_set_filename)
    backed_X = staticmethod(_backed_X)
    backed_raw_X = staticmethod(_backed_raw_X)
    subset = staticmethod(_backed_subset)

    def __repr__(self) -> str:
        return "<annstore.backed file backing>"


#: Registered with the model (:func:`annstore._backing.register_provider`) when
#: :mod:`annstore.backed` is imported.
FILE_BACKING = _FileBacking()


# ------------------------------------------------------------------------------ reading


class _ReplacedWhileOpening(Exception):
    pass


def read_backed(
    path: Any,
    *,
    format: str | None = None,
    mode: str = "r",
    storage_options: Mapping[str, Any] | None = None,
) -> AnnData:
    """Read an AnnData whose X (and raw.X) stay on disk; everything else is read into memory.

    Parameters
    ----------
    path
        File or store path (h5ad, zarr, ...; any format whose plugin supports backed mode).
    format
        Format name; guessed when omitted.
    mode
        ``"r"`` (read-only) or ``"r+"`` (dense X can be assigned to, ``adata.write()``
        writes back to the same file).
    storage_options
        Passed to the storage plugin.

    Raises
    ------
    FileReplacedError
        The file was replaced by another writer during each attempt to open it (a file
        replaced while it is opened is opened again, so obs/var and X come from one file).
    """
    for attempt in range(_OPEN_RETRIES):
        try:
            return _read_backed_once(path, format=format, mode=mode, storage_options=storage_options)
        except (_ReplacedWhileOpening, FileReplacedError):
            time.sleep(min(0.005 * 2**attempt, 0.25))
    raise _replaced(path, "/")


def _read_backed_once(
    path: Any, *, format: str | None, mode: str, storage_options: Mapping[str, Any] | None
) -> AnnData:
    if mode not in ("r", "r+"):
        msg = f"Expected backed mode 'r' or 'r+'; got {mode!r} instead."
        raise ValueError(msg)
    from ._encodings import ensure_registered

    ensure_registered()
    mgr = AnnDataFileManager(None, path, mode, format=format, storage_options=storage_options)
    try:
        adata = _read_backed_parts(mgr, path, mode, storage_options)
    except Exception as e:
        if mgr._pin is not None and not mgr._pin.matches():
            raise _ReplacedWhileOpening from e
        raise
    cur = getattr(adata, "file", None)
    new_pin = getattr(cur, "_pin", None)
    if mgr._pin is not None and (new_pin is None or not mgr._pin.same_store(new_pin)):
        if isinstance(cur, AnnDataFileManager):
            cur.close()
        raise _ReplacedWhileOpening
    return adata


def _read_backed_parts(
    mgr: AnnDataFileManager, path: Any, mode: str, storage_options: Mapping[str, Any] | None
) -> AnnData:
    from .._anndata import AnnData
    from ..io._dispatch import ReadContext
    from ..io.encodings._anndata import _MAPPINGS, _read_frame

    root = mgr.root
    from ._validate import check_backed_root, construct_backed

    where = check_backed_root(root)  # X, raw and declared shapes, before anything is read
    ctx = ReadContext()
    d: dict[str, Any] = {}
    legacy_frames = False
    for k in ("obs", "var"):
        if k in root:
            legacy_frames |= not hasattr(root[k], "create_group")
            d[k] = _read_frame(root[k], ctx)
    for k in _MAPPINGS:
        if k in root:
            d[k] = ctx.read_elem(root[k])
    raw: dict[str, Any] | None = None
    if "raw" in root:
        g = root["raw"]
        raw = {}
        if "var" in g:
            raw["var"] = _read_frame(g["var"], ctx)
        if "varm" in g:
            raw["varm"] = ctx.read_elem(g["varm"])
    elif any(k.startswith("raw.") for k in root.keys()):
        raw = {}
        if "raw.var" in root:
            raw["var"] = _read_frame(root["raw.var"], ctx)
        if "raw.varm" in root:
            raw["varm"] = ctx.read_elem(root["raw.varm"])
    if legacy_frames:
        from ..io.encodings._legacy import clean_legacy_uns

        clean_legacy_uns(d)
    if raw is not None:
        d["raw"] = raw
    if "obs" not in d or "var" not in d:
        shape = _x_shape(root)
        if shape is not None:
            d["shape"] = shape
    fmt = mgr.format
    opts = dict(storage_options or {})
    mgr.close()
    if mgr._pin is not None and not mgr._pin.matches():
        raise _ReplacedWhileOpening
    token = _OPENING_OPTIONS.set(opts)
    try:
        adata = construct_backed(where, AnnData, d, filename=path, filemode=mode)
    finally:
        _OPENING_OPTIONS.reset(token)
    cur = getattr(adata, "file", None)
    if isinstance(cur, AnnDataFileManager) and (cur._format != fmt or cur._storage_options != opts):
        cur.close()
        cur._format = fmt
        cur._storage_options = opts
        cur.open()
    return adata


def _x_shape(root: GroupLike) -> tuple[int, int] | None:
    if "X" not in root:
        return None
    x = root["X"]
    if hasattr(x, "create_group"):
        shape = x.attrs.get("shape", x.attrs.get("h5sparse_shape"))
        return None if shape is None else (int(shape[0]), int(shape[1]))
    return (int(x.shape[0]), int(x.shape[1]))  # type: ignore[union-attr]

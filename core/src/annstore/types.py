"""Public protocols and aliases: the store protocol that element encodings are written against.

annstore writes every element encoding of the anndata on-disk spec once, against two small
protocols, and each hierarchical storage plugin (HDF5, zarr, TileDB, the built-in in-memory
format) adapts its native objects to them:

``GroupLike``
    A node holding named children and attributes. ``create_group`` and ``create_array`` make
    children; ``__getitem__`` returns a child (``GroupLike`` or ``ArrayLike``).
``ArrayLike``
    An n-dimensional array with ``shape``, ``dtype`` and ``attrs``. ``__getitem__`` accepts
    slices, integers, ``()`` and, where ``supports_fancy`` is true, a sorted integer array on the
    first axis. ``read_into(out, selection)`` fills a preallocated buffer (h5py ``read_direct``).

Adapters normalise what differs between backends, so encodings never branch on the store:

* Strings: ``create_array`` accepts numpy ``U``/``O`` arrays of ``str`` and stores them in the
  backend's native variable-length UTF-8 encoding; reading a string array returns an ``object``
  array of ``str`` and its ``dtype`` reports ``object`` (``dtype.kind == "O"``).
* Attributes read back as plain Python values: ``str``, ``int``, ``float``, ``bool``, ``list``
  (possibly empty, e.g. ``column-order``), or numpy arrays for numeric vectors.
* ``name`` is the absolute element path inside the store (``"/"`` for the root), ``filename``
  the file, directory or URL the store lives in (``None`` for the memory format), and
  ``format`` the format name, used in error messages.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, MutableMapping
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ArrayLike",
    "BackedSparseSource",
    "GroupLike",
    "IndexSupport",
    "OpenMode",
    "PathLikeStr",
    "SupportsArrayApi",
    "SupportsArrayApiBase",
]

OpenMode = Literal["r", "r+", "w", "a"]
PathLikeStr = str | PathLike[str]


@runtime_checkable
class ArrayLike(Protocol):
    """An array node of a hierarchical store (see the module docstring for the contract)."""

    name: str
    filename: str | None
    format: str

    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def attrs(self) -> MutableMapping[str, Any]: ...
    def __getitem__(self, selection: Any) -> Any: ...
    def __setitem__(self, selection: Any, value: Any) -> None: ...
    def resize(self, shape: tuple[int, ...]) -> None:
        """Change the shape in place, keeping the stored values (for appending).

        Parameters
        ----------
        shape
            The new shape, with as many dimensions as the current one.
        """
    def read_into(self, out: np.ndarray[Any, Any], selection: Any = ...) -> None:
        """Read ``self[selection]`` into the preallocated ``out`` (a bulk fast path).

        Parameters
        ----------
        out
            A numpy array of the selection's shape and the array's dtype.
        selection
            What to read, as for ``__getitem__`` (default: everything).
        """


@runtime_checkable
class GroupLike(Protocol):
    """A group node of a hierarchical store (see the module docstring for the contract)."""

    name: str
    filename: str | None
    format: str

    @property
    def attrs(self) -> MutableMapping[str, Any]: ...
    def keys(self) -> Iterable[str]:
        """The names of the direct children."""
    def __iter__(self) -> Iterator[str]: ...
    def __getitem__(self, key: str) -> GroupLike | ArrayLike: ...
    def __contains__(self, key: object) -> bool: ...
    def __delitem__(self, key: str) -> None: ...
    def create_group(self, name: str) -> GroupLike:
        """Create and return the child group ``name``.

        Parameters
        ----------
        name
            The child's name (or a ``/``-separated path below this group).

        Raises
        ------
        ValueError
            A child of that name exists.
        """
    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> ArrayLike:
        """Create and return the child array ``name``, from ``data`` or as ``shape``/``dtype``.

        Parameters
        ----------
        name
            The child's name.
        data
            The values (a numpy array; strings as ``U``, ``T`` or ``object`` arrays of ``str``).
        shape, dtype
            Shape and dtype of an empty array, when ``data`` is not given.
        **storage_options
            Backend options: ``chunks``, ``compression``, ``compression_opts``, ``maxshape``,
            ``fill_value``, ... (a backend ignores those it has no use for).
        """


class IndexSupport(enum.Enum):
    """What a backed sparse source can select natively on its ``data``/``indices`` arrays."""

    BASIC = "basic"  #: contiguous slices only
    POINTS = "points"  #: sorted integer arrays as well


@runtime_checkable
class BackedSparseSource(Protocol):
    """Raw access to the three arrays of a stored CSR/CSC matrix.

    Core owns all selection logic (:mod:`annstore.backed`); a source only reads ranges.
    """

    format: Literal["csr", "csc"]
    shape: tuple[int, int]
    dtype: np.dtype[Any]
    indexing: IndexSupport

    def indptr(self) -> np.ndarray[Any, Any]:
        """The whole ``indptr`` array (read once by core, then cached)."""
    def read_nnz(self, start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Return ``(data[start:stop], indices[start:stop])``.

        Parameters
        ----------
        start, stop
            The range of stored values, as ``indptr`` gives it.

        Returns
        -------
        tuple of numpy.ndarray
            The values and their minor-axis indices.
        """
        ...
    def read_nnz_ranges(
        self, starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Return concatenated ``data``/``indices`` of several ``[start, stop)`` ranges.

        Parameters
        ----------
        starts, stops
            Sorted, non-overlapping ranges of stored values (``int64`` arrays of equal length).

        Returns
        -------
        tuple of numpy.ndarray
            The values and indices of every range, concatenated in order.
        """
        ...


@runtime_checkable
class SupportsArrayApiBase(Protocol):
    """An array of the Python array API standard (``anndata.types.SupportsArrayApiBase``)."""

    device: Any
    shape: tuple[int, ...]
    size: int

    def __array_namespace__(self, *, api_version: str | None = None) -> Any: ...
    def to_device(self, device: Any, /, *, stream: Any = ...) -> Any:
        """A copy of the array on ``device`` (the array API's ``to_device``).

        Parameters
        ----------
        device
            The target device.
        stream
            The library's stream or queue to copy on.
        """
    def __getitem__(self, k: object) -> Any: ...


@runtime_checkable
class SupportsArrayApi(SupportsArrayApiBase, Protocol):
    """An array API array that also supports DLPack exchange."""

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: bool | None = None) -> Any: ...
    def __dlpack_device__(self) -> tuple[int, int]: ...


def __getattr__(name: str) -> Any:
    if name == "ExtensionNamespace":  # deprecated in anndata 0.13 (moved to scverse_misc)
        import warnings

        from ._extensions import ExtensionNamespace

        msg = "Importing ExtensionNamespace from `types` is deprecated. Please use scverse_misc instead."
        warnings.warn(msg, FutureWarning, stacklevel=2)
        return ExtensionNamespace
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

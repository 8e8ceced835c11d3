"""References to 1-d and 2-d arrays of an AnnData object, and the accessors that build them.

A reference (:class:`AdRef`) pairs a *reference accessor* (which container: ``X``, a layer, an
``obs``/``var`` frame, an ``obsm``/``varm`` matrix, an ``obsp``/``varp`` graph) with an *index*
into it (a column name, a column position, or a 2-d index of which at least one axis spans a
whole dimension). ``adata[ref]`` resolves it; ``ref in adata`` checks it exists.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable
from dataclasses import KW_ONLY, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

__all__ = [
    "NO_IDX",
    "A",
    "AdAcc",
    "AdRef",
    "GraphAcc",
    "GraphMapAcc",
    "Idx2D",
    "LayerAcc",
    "LayerMapAcc",
    "MapAcc",
    "MetaAcc",
    "MultiAcc",
    "MultiMapAcc",
    "RefAcc",
]

Dim = Literal["obs", "var"]

Idx2D = tuple[str | slice, slice] | tuple[slice, str | slice]
"""A 2-d index spanning one or both dimensions whole: ``[:, "gene-1"]``, ``["cell-1", :]``, ``[:, :]``."""

I = TypeVar("I", bound=Hashable)  # noqa: E741 - the index type, as in anndata
D = TypeVar("D")
R = TypeVar("R", bound="AdRef[Any, Any]")
RA = TypeVar("RA", bound="RefAcc[Any, Any, Any]")


class _NoIdx:
    """Type of :data:`NO_IDX`: a sentinel meaning "no index, the whole container"."""

    _instance: ClassVar[_NoIdx | None] = None

    def __new__(cls) -> _NoIdx:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_IDX"

    def __reduce__(self) -> str:
        return "NO_IDX"


NO_IDX = _NoIdx()
"""Sentinel for :meth:`RefAcc.get` meaning "return the whole container, not one array of it"."""


def _hashable(idx: Any) -> Hashable:
    """``idx`` with slices (unhashable before Python 3.12) replaced by tuples."""
    if isinstance(idx, slice):
        return (slice, idx.start, idx.stop, idx.step)
    if isinstance(idx, tuple):
        return tuple(_hashable(i) for i in idx)
    return idx


# ---------------------------------------------------------------------------- references


class AdRef(Generic[I, D]):
    """A reference to a 1-d or 2-d array along one or both dimensions of an AnnData object.

    Build references from :data:`A` the way you would index an AnnData object, then resolve
    them with ``adata[ref]`` or test them with ``ref in adata``.

    Parameters
    ----------
    acc
        The reference accessor naming the container (e.g. ``A.obs``, ``A.layers["counts"]``).
    idx
        The index into that container that makes the referenced array 1-d or 2-d.

    Examples
    --------
    >>> from annstore.acc import A
    >>> ref = A.obs["x"]
    >>> ref.dims
    {'obs'}
    >>> ref.idx
    'x'
    >>> ref.acc
    A.obs
    """

    acc: RefAcc[Any, I, D]
    """The reference accessor this array belongs to."""

    idx: I
    """The index into the accessor's container (a column key, position or 2-d index)."""

    __match_args__: ClassVar[tuple[str, ...]] = ("acc", "idx")

    def __init__(self, acc: RefAcc[Any, I, D], idx: I) -> None:
        self.acc = acc
        self.idx = idx

    @cached_property
    def dims(self) -> Collection[Dim]:
        """The dimensions the referenced array spans (``{"obs"}``, ``{"obs", "var"}``, ...)."""
        return self.acc.dims(self.idx)

    def __hash__(self) -> int:
        return hash((self.acc, _hashable(self.idx)))

    def __eq__(self, value: object) -> bool:
        if isinstance(value, AdRef):
            return self.acc == value.acc and self.idx == value.idx
        if isinstance(value, str):
            a = A if type(self).__eq__ is AdRef.__eq__ and type(self) is AdRef else AdAcc(ref_class=type(self))
            other = a.resolve(value, strict=False)
            if other is not None:
                return self == other
        return NotImplemented

    def __repr__(self) -> str:
        idx_repr = self.acc.idx_repr(self.idx).replace("slice(None, None, None)", ":")
        return f"{self.acc!r}{idx_repr}"

    __str__ = __repr__


# ---------------------------------------------------------------------------- accessor bases


class MapAcc(abc.ABC, Generic[RA]):
    """Base class of accessors for mapping containers (``A.layers``, ``A.obsm``, ``A.obsp``, ...).

    Indexing one with a key gives the reference accessor of that entry.
    """

    ref_acc_cls: type[RA]

    @abc.abstractmethod
    def __getitem__(self, k: str, /) -> RA:
        """The reference accessor of the entry ``k``."""


@dataclass(frozen=True)
class RefAcc(abc.ABC, Generic[R, I, D]):
    """Base class of reference accessors: containers whose indexing yields :class:`AdRef` s.

    Subclasses say which dimensions an index spans (:meth:`dims`), how they print
    (``__repr__``, :meth:`idx_repr`), whether an array exists in an object (:meth:`isin`) and how
    to get it (:meth:`get`).

    Parameters
    ----------
    ref_class
        The :class:`AdRef` (sub)class that indexing creates.
    """

    _: KW_ONLY
    ref_class: type[R]

    def process_idx(self, idx: Any, /) -> I:
        """Validate an index and return it normalised.

        Parameters
        ----------
        idx
            What was passed in ``acc[idx]``: a column name, a ``(row, column)`` pair, an integer
            column position, depending on the accessor.

        Returns
        -------
        object
            The index in the form the other methods take.

        Raises
        ------
        TypeError, ValueError
            ``idx`` is not an index of this accessor.
        """
        self.dims(idx)
        return idx

    def __getitem__(self, idx: Any, /) -> Any:
        idx = self.process_idx(idx)
        return self.ref_class(self, idx)

    @abc.abstractmethod
    def dims(self, idx: I, /) -> Collection[Dim]:
        """The dimensions spanned by the array at ``idx``.

        Parameters
        ----------
        idx
            A normalised index (see :meth:`process_idx`).

        Returns
        -------
        collection of str
            ``{"obs"}``, ``{"var"}`` or ``{"obs", "var"}``.
        """

    @abc.abstractmethod
    def __repr__(self) -> str:
        """The accessor as Python code, e.g. ``A.obsm['pca']``."""

    @abc.abstractmethod
    def idx_repr(self, idx: I, /) -> str:
        """``idx`` as Python code appended to the accessor's repr, e.g. ``[:, 0]``.

        Parameters
        ----------
        idx
            A normalised index.

        Returns
        -------
        str
            The code, so that ``repr(acc) + acc.idx_repr(idx)`` rebuilds the reference.
        """

    @abc.abstractmethod
    def isin(self, data: D, idx: I | None = None, /) -> bool:
        """Whether the container (``idx=None``) or the array at ``idx`` exists in ``data``.

        Parameters
        ----------
        data
            The AnnData (or the object the accessor reads from).
        idx
            A normalised index; ``None`` asks about the container itself (for instance whether
            ``obsm["pca"]`` exists at all).

        Returns
        -------
        bool
        """

    @abc.abstractmethod
    def get(self, data: D, idx: Any = NO_IDX, /) -> Any:
        """The array at ``idx`` of ``data``; with ``idx`` omitted (:data:`NO_IDX`), the container.

        ``adata[A.obs]`` is the whole ``obs`` frame and ``adata[A.obsm["pca"]]`` the whole
        ``obsm["pca"]`` array, one level above what an :class:`AdRef` gives.

        Parameters
        ----------
        data
            The AnnData (or the object the accessor reads from).
        idx
            A normalised index, or :data:`NO_IDX` for the container.

        Returns
        -------
        object
            The array (1-d when it spans one dimension) or the container.

        Raises
        ------
        KeyError
            Nothing is stored at ``idx``.
        """

    def _maybe_flatten(self, idx: I, a: Any) -> Any:
        """``a`` as a 1-d array if ``idx`` spans one dimension, else unchanged."""
        if len(self.dims(idx)) != 1:
            return a
        return _flatten(a)


def _densify_block(x: Any) -> Any:
    """A dense version of a scipy or cupyx sparse block (other blocks unchanged)."""
    if sparse.issparse(x) or type(x).__module__.startswith("cupyx"):
        return x.toarray()
    return x


def _flatten(a: Any) -> Any:
    """A 1-d version of the (n, 1) or (1, n) array ``a`` of any supported array type."""
    mod = type(a).__module__
    from .._index import is_dask_array

    if is_dask_array(a):  # a dask array or a view of one
        meta = getattr(a, "_meta", None)
        if meta is not None and (sparse.issparse(meta) or type(meta).__module__.startswith("cupyx")):
            a = a.map_blocks(_densify_block, dtype=a.dtype, meta=_densify_block(meta))
        return a.reshape(-1)
    if sparse.issparse(a) or mod.startswith("cupyx"):
        a = a.toarray()
    elif isinstance(a, np.ndarray):
        if type(a) is not np.ndarray:  # an ArrayView of a view: a copy, never a window into the parent
            a = np.array(a)
        return a.reshape(-1)
    if hasattr(a, "__array_namespace__"):
        return a.__array_namespace__().reshape(a, (a.size,))
    return a.ravel()


# ---------------------------------------------------------------------------- list shortcuts


def _is_t_list(idx: object, cls: type) -> bool:
    """Whether ``idx`` is a list or pandas Index whose entries are all of type ``cls``."""
    if isinstance(idx, pd.Index):
        check = pd.api.types.is_string_dtype if cls is str else pd.api.types.is_integer_dtype
        if check(idx.dtype):
            return True
    return isinstance(idx, list | pd.Index) and all(isinstance(j, cls) for j in idx)


def _is_idx2d_list(idx: object) -> bool:
    """Whether the 2-d index ``idx`` has a list of names along one of its axes."""
    return isinstance(idx, tuple) and any(_is_t_list(i, str) for i in idx)


def _expand_idx2d_list(idx: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The 2-d indices of each name of the list in ``idx`` (at most one axis may hold a list)."""
    lists = [isinstance(i, list | pd.Index) for i in idx]
    if len(idx) != 2 or all(lists):
        msg = "2D index can have at most one list/index: …[:, [...]] or …[[...], :]"
        raise TypeError(msg)
    ix, iy = idx
    if lists[0]:
        return [(i, iy) for i in ix]
    return [(ix, i) for i in iy]


def _is_full_slice(i: object) -> bool:
    return isinstance(i, slice) and i == slice(None)


# ---------------------------------------------------------------------------- X and layers


@dataclass(frozen=True)
class LayerAcc(RefAcc[R, tuple[Any, Any], Any]):
    """Reference accessor for ``X`` (``A.X``) or a layer (``A.layers[k]``).

    Index it like the AnnData object with one name and one ``:``, or with ``[:, :]``.

    Parameters
    ----------
    k
        The layer key, ``None`` for ``X``.

    Examples
    --------
    >>> from annstore.acc import A
    >>> A.layers["counts"]["cell-1", :]
    A.layers['counts']['cell-1', :]
    """

    k: str | None
    """The layer key (``None`` for ``X``)."""

    def __getitem__(self, idx: Any, /) -> Any:
        if _is_idx2d_list(idx):
            return [self[i] for i in _expand_idx2d_list(idx)]
        return super().__getitem__(idx)

    def dims(self, idx: tuple[Any, Any], /) -> set[Dim]:
        if not isinstance(idx, tuple):
            msg = f"Unsupported index {idx!r} is not a tuple. Did you mean `{self}[{idx!r}, :]`?"
            raise TypeError(msg)
        for dim_idx in idx:
            if not (isinstance(dim_idx, str) or _is_full_slice(dim_idx)):
                msg = f"Unsupported dimension index {dim_idx!r} in index {idx!r} (not `:` or a string)"
                raise ValueError(msg)
        if len(idx) == 2:
            i, j = idx
            if isinstance(i, slice) and isinstance(j, str):
                return {"obs"}
            if isinstance(i, str) and isinstance(j, slice):
                return {"var"}
            if isinstance(i, slice) and isinstance(j, slice):
                return {"obs", "var"}
        msg = f"Invalid index: {idx}"
        raise TypeError(msg)

    def __repr__(self) -> str:
        return "A.X" if self.k is None else f"A.layers[{self.k!r}]"

    def idx_repr(self, idx: tuple[Any, Any]) -> str:
        return f"[{idx[0]!r}, {idx[1]!r}]"

    def isin(self, adata: Any, idx: tuple[Any, Any] | None = None) -> bool:
        if self.k is None:
            if adata.X is None:
                return False
        elif self.k not in getattr(adata, "layers", {}):
            return False
        for i, dim in zip(idx or (), ("obs", "var")):
            if isinstance(i, str):
                return i in getattr(adata, f"{dim}_names")
        return True

    def get(self, adata: Any, idx: Any = NO_IDX, /) -> Any:
        if idx is NO_IDX:
            return adata.X if self.k is None else adata.layers[self.k]
        sub = adata[idx]  # a view: only the selected row or column is read from a backed X
        arr = sub.X if self.k is None else sub.layers[self.k]
        if arr is None:  # anndata 0.13.4 fails with an AttributeError from deep inside
            msg = f"Cannot get {self.ref_class(self, idx)!r}: X is None."
            raise KeyError(msg)
        return self._maybe_flatten(idx, arr)


@dataclass(frozen=True)
class LayerMapAcc(MapAcc[LayerAcc[R]], Generic[R]):
    """Accessor for layers (``A.layers``): ``A.layers[k]`` is the :class:`LayerAcc` of layer ``k``.

    Parameters
    ----------
    ref_class
        The :class:`AdRef` (sub)class the layer accessors create.
    ref_acc_cls
        The accessor class for one layer (a :class:`LayerAcc` subclass).
    """

    _: KW_ONLY
    ref_class: type[R]
    ref_acc_cls: type[LayerAcc[Any]] = LayerAcc

    def __getitem__(self, k: str | None, /) -> LayerAcc[R]:
        if not isinstance(k, str | None):
            msg = f"Unsupported layer {k!r}"
            raise TypeError(msg)
        return self.ref_acc_cls(k, ref_class=self.ref_class)

    def __repr__(self) -> str:
        return "A.layers"


# ---------------------------------------------------------------------------- obs and var


@dataclass(frozen=True)
class MetaAcc(RefAcc[R, "str | None", Any]):
    """Reference accessor for columns (and the index) of ``obs`` or ``var`` (``A.obs``, ``A.var``).

    Parameters
    ----------
    dim
        ``"obs"`` or ``"var"``.

    Examples
    --------
    >>> from annstore.acc import A
    >>> A.obs["type"]
    A.obs['type']
    >>> A.var.index
    A.var.index
    """

    dim: Dim
    """The dimension (``"obs"`` or ``"var"``)."""

    @property
    def index(self) -> R:
        """The reference to the index (``A.obs.index``, ``A.var.index``)."""
        return self[None]

    def process_idx(self, k: object, /) -> str | None:
        if k is not None and not isinstance(k, str):
            msg = f"Unsupported {self.dim} column {k!r}"
            raise TypeError(msg)
        return k

    def __getitem__(self, k: Any, /) -> Any:
        if isinstance(k, list) or _is_t_list(k, str):
            return [self[i] for i in k]
        return super().__getitem__(k)

    def dims(self, k: str | None, /) -> set[Dim]:
        return {self.dim}

    def __repr__(self) -> str:
        return f"A.{self.dim}"

    def idx_repr(self, k: str | None) -> str:
        return ".index" if k is None else f"[{k!r}]"

    def isin(self, data: Any, idx: str | None = None) -> bool:
        if idx is None:
            return True  # the index always exists
        return idx in getattr(data, self.dim)

    def get(self, data: Any, k: Any = NO_IDX, /) -> Any:
        full = getattr(data, self.dim)
        if k is NO_IDX:
            return full
        if isinstance(full, pd.DataFrame):
            return full.index.array if k is None else full[k].array
        if hasattr(full, "true_index"):  # a Dataset2D (xarray-backed frame)
            return full.true_index.array if k is None else full[k].variable
        msg = f"Unsupported {self.dim} container"
        raise TypeError(msg)


# ---------------------------------------------------------------------------- obsm and varm


@dataclass(frozen=True)
class MultiAcc(RefAcc[R, int, Any]):
    """Reference accessor for columns of an ``obsm`` or ``varm`` entry (``A.obsm[k]``).

    Index it with a column position (negative positions count from the end) or ``[:, i]``.

    Parameters
    ----------
    dim
        ``"obs"`` (``obsm``) or ``"var"`` (``varm``).
    k
        The entry's key.

    Examples
    --------
    >>> from annstore.acc import A
    >>> A.obsm["pca"][:, 0]
    A.obsm['pca'][:, 0]
    """

    dim: Dim
    """The dimension (``"obs"`` for ``obsm``, ``"var"`` for ``varm``)."""

    k: str
    """The entry's key."""

    @staticmethod
    def process_idx(i: object, /) -> Any:
        if isinstance(i, tuple):
            if len(i) != 2 or not _is_full_slice(i[0]):
                msg = f"Unsupported slice {i!r}"
                raise ValueError(msg)
            i = i[1]
        # bool is an int, but a boolean mask is not a column position
        if isinstance(i, bool) or (not isinstance(i, int) and not _is_t_list(i, int)):
            msg = f"Unsupported index {i!r}"
            raise TypeError(msg)
        return i

    def __getitem__(self, i: Any, /) -> Any:
        i = self.process_idx(i)
        if isinstance(i, list | pd.Index):
            return [self[j] for j in i]
        return super().__getitem__(i)

    def dims(self, i: int, /) -> set[Dim]:
        return {self.dim}

    def __repr__(self) -> str:
        return f"A.{self.dim}m[{self.k!r}]"

    def idx_repr(self, i: int) -> str:
        return f"[:, {i!r}]"

    def isin(self, data: Any, idx: int | None = None) -> bool:
        m = getattr(data, f"{self.dim}m")
        if self.k not in m:
            return False
        if idx is None:
            return True
        n_cols = m[self.k].shape[1]
        return -n_cols <= idx < n_cols

    def get(self, data: Any, i: Any = NO_IDX, /) -> Any:
        full = getattr(data, f"{self.dim}m")[self.k]
        if i is NO_IDX:
            return full
        n_cols = full.shape[1]
        if not -n_cols <= i < n_cols:
            msg = f"Column index `{i}` is out of range for {self} with {n_cols} columns."
            raise IndexError(msg)
        if i < 0:
            i += n_cols
        if isinstance(full, pd.DataFrame):
            return full.iloc[:, i].array
        # a 2-d selection: scipy < 1.14 cannot index sparse matrices down to 1-d
        return self._maybe_flatten(i, full[:, i : i + 1])


@dataclass(frozen=True)
class MultiMapAcc(MapAcc[MultiAcc[R]], Generic[R]):
    """Accessor for ``obsm`` or ``varm`` (``A.obsm``): ``A.obsm[k]`` is a :class:`MultiAcc`.

    Parameters
    ----------
    dim
        ``"obs"`` or ``"var"``.
    """

    dim: Dim
    """The dimension (``"obs"`` for ``obsm``, ``"var"`` for ``varm``)."""

    _: KW_ONLY
    ref_class: type[R]
    ref_acc_cls: type[MultiAcc[Any]] = MultiAcc

    def __getitem__(self, k: str, /) -> MultiAcc[R]:
        if not isinstance(k, str):
            msg = f"Unsupported {self.dim}m key {k!r}"
            raise TypeError(msg)
        return self.ref_acc_cls(self.dim, k, ref_class=self.ref_class)

    def __repr__(self) -> str:
        return f"A.{self.dim}m"


# ---------------------------------------------------------------------------- obsp and varp


@dataclass(frozen=True)
class GraphAcc(RefAcc[R, tuple[Any, Any], Any]):
    """Reference accessor for an ``obsp`` or ``varp`` graph (``A.obsp[k]``).

    Index it with one name and one ``:`` for a row or column, or ``[:, :]`` for the whole matrix.

    Parameters
    ----------
    dim
        ``"obs"`` (``obsp``) or ``"var"`` (``varp``).
    k
        The graph's key.

    Examples
    --------
    >>> from annstore.acc import A
    >>> A.obsp["distances"][:, "cell-1"]
    A.obsp['distances'][:, 'cell-1']
    """

    dim: Dim
    """The dimension (``"obs"`` for ``obsp``, ``"var"`` for ``varp``)."""

    k: str
    """The graph's key."""

    def process_idx(self, idx: Any, /) -> tuple[Any, Any]:
        if not all(isinstance(i, str | slice) for i in idx):
            msg = f"Unsupported index {idx!r}"
            raise TypeError(msg)
        if sum(isinstance(i, slice) for i in idx) not in {1, 2}:
            msg = f"Unsupported index {idx!r}: should be ['c1', :], ['c1', 'c2'], or [:, 'c2']"
            raise TypeError(msg)
        return idx

    def __getitem__(self, idx: Any, /) -> Any:
        if _is_idx2d_list(idx):
            return [self[i] for i in _expand_idx2d_list(idx)]
        return super().__getitem__(idx)

    def dims(self, idx: tuple[Any, Any], /) -> Collection[Dim]:
        n_slices = sum(isinstance(i, slice) for i in idx)
        return (self.dim,) * n_slices if n_slices > 1 else {self.dim}

    def __repr__(self) -> str:
        return f"A.{self.dim}p[{self.k!r}]"

    def idx_repr(self, idx: tuple[Any, Any]) -> str:
        return f"[{idx[0]!r}, {idx[1]!r}]"

    def isin(self, data: Any, idx: tuple[Any, Any] | None = None) -> bool:
        if self.k not in getattr(data, f"{self.dim}p"):
            return False
        names = [i for i in (idx or ()) if isinstance(i, str)]
        return all(n in getattr(data, f"{self.dim}_names") for n in names)

    def get(self, data: Any, idx: Any = NO_IDX, /) -> Any:
        full = getattr(data, f"{self.dim}p")[self.k]
        if idx is NO_IDX:
            return full
        names = getattr(data, f"{self.dim}_names")
        # a list keeps the selection 2-d (scipy < 1.14 cannot index sparse matrices down to 1-d)
        iloc = tuple([names.get_loc(i)] if isinstance(i, str) else i for i in idx)
        return self._maybe_flatten(idx, full[iloc])


@dataclass(frozen=True)
class GraphMapAcc(MapAcc[GraphAcc[R]], Generic[R]):
    """Accessor for ``obsp`` or ``varp`` (``A.obsp``): ``A.obsp[k]`` is a :class:`GraphAcc`.

    Parameters
    ----------
    dim
        ``"obs"`` or ``"var"``.
    """

    dim: Dim
    """The dimension (``"obs"`` for ``obsp``, ``"var"`` for ``varp``)."""

    _: KW_ONLY
    ref_class: type[R]
    ref_acc_cls: type[GraphAcc[Any]] = GraphAcc

    def __getitem__(self, k: str, /) -> GraphAcc[R]:
        if not isinstance(k, str):
            msg = f"Unsupported {self.dim}p key {k!r}"
            raise TypeError(msg)
        return self.ref_acc_cls(self.dim, k, ref_class=self.ref_class)

    def __repr__(self) -> str:
        return f"A.{self.dim}p"


# ---------------------------------------------------------------------------- the entry point


@dataclass(frozen=True)
class AdAcc(Generic[R]):
    """The accessor that builds :class:`AdRef` s (the global instance is :data:`A`).

    Parameters
    ----------
    ref_class
        The :class:`AdRef` (sub)class the references are made of.
    layer_cls, meta_cls, multi_cls, graph_cls
        The reference accessor classes for ``X``/``layers``, ``obs``/``var``,
        ``obsm``/``varm`` and ``obsp``/``varp``; subclass them to customise references.

    Examples
    --------
    >>> from annstore.acc import A
    >>> A.X[:, "gene-5"]
    A.X[:, 'gene-5']
    >>> A.obsm["pca"][0]
    A.obsm['pca'][:, 0]
    """

    ref_class: type[R] = AdRef  # type: ignore[assignment]
    layer_cls: type[LayerAcc[Any]] = LayerAcc
    """Class of the ``X``/``layers`` accessors."""
    meta_cls: type[MetaAcc[Any]] = MetaAcc
    """Class of the ``obs``/``var`` accessors."""
    multi_cls: type[MultiAcc[Any]] = MultiAcc
    """Class of the ``obsm``/``varm`` accessors."""
    graph_cls: type[GraphAcc[Any]] = GraphAcc
    """Class of the ``obsp``/``varp`` accessors."""

    X: LayerAcc[R] = field(init=False)
    """``X`` (same as ``A.layers[None]``): ``A.X[:, :]``, ``A.X["cell-1", :]``, ``A.X[:, "gene-5"]``."""
    layers: LayerMapAcc[R] = field(init=False)
    """Layers: ``A.layers["counts"][:, "gene-5"]``."""
    obs: MetaAcc[R] = field(init=False)
    """Observation annotations: ``A.obs["cell_type"]``, ``A.obs.index``."""
    var: MetaAcc[R] = field(init=False)
    """Variable annotations: ``A.var["symbol"]``, ``A.var.index``."""
    obsm: MultiMapAcc[R] = field(init=False)
    """Columns of multi-dimensional observation annotations: ``A.obsm["pca"][:, 0]``."""
    varm: MultiMapAcc[R] = field(init=False)
    """Columns of multi-dimensional variable annotations: ``A.varm["loadings"][:, 0]``."""
    obsp: GraphMapAcc[R] = field(init=False)
    """Observation graphs: ``A.obsp["distances"]["cell-1", :]``."""
    varp: GraphMapAcc[R] = field(init=False)
    """Variable graphs: ``A.varp["cons"][:, "gene-1"]``."""

    ATTRS: ClassVar[frozenset[str]] = frozenset({"layers", "obs", "var", "obsm", "varm", "obsp", "varp"})
    """The container names a string spec may start with (besides ``X``)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "X", self.layer_cls(None, ref_class=self.ref_class))
        set_(self, "layers", LayerMapAcc(ref_class=self.ref_class, ref_acc_cls=self.layer_cls))
        for dim in ("obs", "var"):
            set_(self, dim, self.meta_cls(dim, ref_class=self.ref_class))
            set_(self, f"{dim}m", MultiMapAcc(dim, ref_class=self.ref_class, ref_acc_cls=self.multi_cls))
            set_(self, f"{dim}p", GraphMapAcc(dim, ref_class=self.ref_class, ref_acc_cls=self.graph_cls))

    def to_json(self, ref: Any) -> list[str | int | None]:
        """Serialise a reference or a whole-container accessor to a JSON-compatible list.

        Parameters
        ----------
        ref
            An :class:`AdRef`, or a :class:`LayerAcc`, :class:`MultiAcc` or :class:`GraphAcc`.

        Returns
        -------
        list
            E.g. ``["obsm", "pca", 0]`` for ``A.obsm["pca"][0]``, ``["layers", None]`` for
            ``A.X``; the format is ``acc-schema-v1.json`` next to this module.

        Raises
        ------
        TypeError
            If ``ref`` is an accessor with no serialisation (e.g. ``A.obs``).
        """
        from ._parse import to_json

        return to_json(ref)

    def from_json(self, data: Sequence[str | int | None], *, vec: bool | None = None) -> Any:
        """Build a reference or a whole-container accessor from its JSON list (see :meth:`to_json`).

        Parameters
        ----------
        data
            The serialised form, e.g. ``["obsm", "pca", 0]``.
        vec
            ``True``: ``data`` must refer to a vector (an :class:`AdRef`); ``False``: to a whole
            container; ``None``: either.

        Returns
        -------
        AdRef or RefAcc
            The reference or accessor.

        Raises
        ------
        ValueError
            If ``data`` cannot be parsed or is not of the requested kind.
        """
        from ._parse import parse_json

        try:
            return parse_json(self, data, vec=vec)
        except Exception as e:
            msg = f"Failed to parse {data!r}: {e}"
            raise ValueError(msg) from e

    def resolve(self, spec: str, *, strict: bool = True, vec: bool | None = None) -> Any:
        """Build a reference or a whole-container accessor from a short string.

        Parameters
        ----------
        spec
            Vectors: ``"X[:,:]"``, ``"layers.y[c,:]"``, ``"layers.y[:,g]"``, ``"obs.a"``,
            ``"var.b"``, ``"obsm.c.0"``, ``"obsp.g[c1,:]"``; whole containers: ``"X"``,
            ``"layers.y"``, ``"obsm.c"``, ``"varp.h"``.
        strict
            If ``False``, return ``None`` instead of raising when ``spec`` cannot be parsed.
        vec
            ``True``: ``spec`` must be a vector form; ``False``: a whole container; ``None``:
            either.

        Returns
        -------
        AdRef or RefAcc or None
            The reference or accessor (``None`` only when ``strict`` is false).

        Raises
        ------
        ValueError
            If ``spec`` cannot be parsed or is not of the requested kind (and ``strict``).

        Examples
        --------
        >>> from annstore.acc import A
        >>> A.resolve("obsm.c.0")
        A.obsm['c'][:, 0]
        >>> A.resolve("layers.y", vec=False)
        A.layers['y']
        """
        from ._parse import parse

        if not strict:
            try:
                return parse(self, spec, vec=vec)
            except ValueError:
                return None
        return parse(self, spec, vec=vec)

    def __repr__(self) -> str:
        return "A"


A: AdAcc[AdRef[Any, Any]] = AdAcc()
"""The global accessor: ``adata[A.obs["type"]]``, ``adata[A.X[:, "gene-1"]]``, ``A.obsm["pca"] in adata``."""

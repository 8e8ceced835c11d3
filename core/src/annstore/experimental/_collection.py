"""AnnCollection: lazy concatenation of in-memory and backed AnnData objects along obs."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._anndata import AnnData
from .._index import normalize_index, unpack_index
from ..errors import AnnstoreError, CapabilityError, ShapeMismatchError

if TYPE_CHECKING:
    from ..types import ArrayLike, BackedSparseSource

__all__ = ["AnnCollection", "AnnCollectionView", "LazyAttrData"]

#: Attributes a view reads per member (``X`` is handled on its own).
ATTRS: tuple[str, ...] = ("obs", "obsm", "layers")

ConvertType = Callable[[Any], Any] | Mapping[str, Callable[[Any], Any] | Mapping[Any, Callable[[Any], Any]]]


class CollectionError(AnnstoreError, ValueError):
    """Inputs of an :class:`AnnCollection` cannot be combined, or a selection is invalid."""


# --------------------------------------------------------------------------- helpers


def _select_convert(convert: Any, attr: Any) -> Callable[[Any], Any] | Any | None:
    """The converter for ``attr`` (an attribute name, or a key inside an attribute's mapping)."""
    if convert is None:
        return None
    if callable(convert):
        return convert
    if isinstance(convert, Mapping) and attr in convert:
        return convert[attr]
    return None


def _apply(convert: Any, value: Any) -> Any:
    return convert(value) if callable(convert) else value


def _runs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[start, stop)`` bounds of the maximal runs of consecutive values in sorted unique ``rows``."""
    if rows.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    brk = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = rows[np.concatenate(([0], brk))]
    stops = rows[np.concatenate((brk - 1, [rows.size - 1]))] + 1
    return starts.astype(np.int64), stops.astype(np.int64)


def _positions(idx: Any, n: int) -> np.ndarray:
    """Integer positions (``intp``) selected by ``idx`` in an axis of length ``n``."""
    if isinstance(idx, slice):
        return np.arange(*idx.indices(n), dtype=np.intp)
    if isinstance(idx, int | np.integer):
        i = int(idx)
        if not -n <= i < n:
            msg = f"Expected an index in [-{n}, {n}); got {i} instead."
            raise IndexError(msg)
        return np.array([i % n], dtype=np.intp)
    arr = np.asarray(idx)
    if arr.dtype.kind == "b":
        if arr.shape != (n,):
            msg = f"Expected a boolean mask of length {n}; got shape {arr.shape} instead."
            raise IndexError(msg)
        return np.flatnonzero(arr).astype(np.intp)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp)
    if arr.dtype.kind not in "iu":
        msg = f"Expected integer positions; got an array of dtype {arr.dtype} instead."
        raise IndexError(msg)
    arr = arr.astype(np.intp, copy=False).ravel()
    if arr.size and (arr.min() < -n or arr.max() >= n):
        msg = f"Expected indices in [-{n}, {n}); got values from {arr.min()} to {arr.max()}."
        raise IndexError(msg)
    return np.where(arr < 0, arr + n, arr)


def _take_cols(block: Any, cols: np.ndarray | None) -> Any:
    if cols is None:
        return block
    if isinstance(block, pd.DataFrame):
        return block.iloc[:, cols]
    return block[:, cols]


def _materialise(x: Any) -> Any:
    if hasattr(x, "compute") and not isinstance(x, pd.DataFrame | pd.Series):
        x = x.compute()
    if hasattr(x, "to_memory") and not isinstance(x, AnnData):
        x = x.to_memory()
    return x


def _take_rows(arr: Any, rows: np.ndarray, cols: np.ndarray | None) -> Any:
    """``arr[rows][:, cols]`` for an in-memory (or lazily indexable) array; ``rows`` sorted unique."""
    if isinstance(arr, pd.DataFrame):
        return _take_cols(arr.iloc[rows], cols)
    if isinstance(arr, pd.Series):
        return arr.iloc[rows]
    if isinstance(arr, np.ndarray) and cols is not None and arr.ndim == 2:
        return arr[np.ix_(rows, cols)]
    if sparse.issparse(arr) and arr.format == "csc" and cols is not None:
        return _materialise(arr[:, cols][rows])
    return _materialise(_take_cols(_materialise(arr[rows]), cols))


def _stack(blocks: list[Any]) -> Any:
    """Row-wise concatenation of materialised blocks (sparse if any block is sparse)."""
    if len(blocks) == 1:
        return blocks[0]
    if any(isinstance(b, pd.DataFrame) for b in blocks):
        return pd.concat(blocks, axis=0)
    if any(isinstance(b, pd.Series) for b in blocks):
        return pd.concat(blocks, axis=0)
    if any(sparse.issparse(b) for b in blocks):
        return sparse.vstack(blocks, format="csr")
    return np.concatenate([np.asarray(b) for b in blocks], axis=0)


def _reorder(x: Any, inverse: np.ndarray | None) -> Any:
    if inverse is None:
        return x
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.iloc[inverse]
    return x[inverse]


def _astype(x: Any, dtype: Any) -> Any:
    if dtype is None or getattr(x, "dtype", None) is None or x.dtype == dtype:
        return x
    if isinstance(x, pd.Series):
        return x.astype(dtype)
    if isinstance(x, pd.DataFrame):
        return x
    return x.astype(dtype, copy=False)


def _series_values(s: pd.Series) -> Any:
    """Values of an obs column taken from member frames: numpy for numpy dtypes, else pandas arrays."""
    return s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array


def _common_dtype(samples: list[Any]) -> Any:
    """The dtype concatenating ``samples`` (first-row slices of each member's array) yields."""
    dtypes = [getattr(s, "dtype", None) for s in samples]
    if any(d is None for d in dtypes):
        return None
    if all(isinstance(d, np.dtype) and d.kind in "biufc" for d in dtypes):
        return np.result_type(*dtypes)
    if all(d == dtypes[0] for d in dtypes):
        return dtypes[0]
    if any(isinstance(s, pd.DataFrame) for s in samples):
        return None
    try:
        return pd.concat([pd.Series(np.asarray(s) if not isinstance(s, pd.Series) else s) for s in samples]).dtype
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- backed reads


class BackedElement:
    """Rows of one stored matrix (``X`` or a layer) of a file, reopened by path in each process.

    Handles are never shared between processes: a forked worker or an unpickled copy reopens
    the file on first use. CSR matrices are read as coalesced ``indptr`` ranges (one range
    read per run of consecutive rows); dense arrays as one slice per run.

    Parameters
    ----------
    path
        File the element lives in.
    elem
        Element path inside the file (``"X"``, ``"layers/counts"``).
    format
        Format name; guessed from the file when omitted.
    node
        An already open node for ``elem`` usable in this process (avoids reopening).
    """

    def __init__(self, path: str | os.PathLike[str], elem: str, *, format: str | None = None, node: Any = None) -> None:
        self.path = str(path)
        self.elem = elem
        self.format = format
        self._pid: int | None = None
        self._cm: Any = None
        self._node: Any = None
        self._source: BackedSparseSource | None = None
        self._fallback: Any = None
        self.shape: tuple[int, ...]
        self.dtype: np.dtype[Any]
        if node is not None:
            self._attach(node)
        else:
            self._open()

    # -- handle management
    def _attach(self, node: Any) -> None:
        from ..backed._source import get_sparse_source, sparse_format_of
        from ..io._dispatch import as_node

        node = as_node(node)
        self._node = node
        self._source = None
        self._fallback = None
        fmt = sparse_format_of(node) if hasattr(node, "keys") else None
        self._indptr: np.ndarray | None = None
        if fmt == "csr":
            from ..backed._sparse import check_structure

            check_structure(node)  # shape attribute and array lengths agree (metadata only)
            self._source = get_sparse_source(node)
            self.shape = tuple(self._source.shape)
            self.dtype = np.dtype(self._source.dtype)
        elif fmt == "csc":
            from ..backed import sparse_dataset

            self._fallback = sparse_dataset(node)
            self.shape = tuple(self._fallback.shape)
            self.dtype = np.dtype(self._fallback.dtype)
        elif hasattr(node, "keys"):
            enc = node.attrs.get("encoding-type")
            msg = (
                f"Expected a dense array or a csr/csc matrix at {self.elem!r} in {self.path!r}; "
                f"got a group with encoding {enc!r} instead."
            )
            raise CapabilityError(msg)
        else:
            self.shape = tuple(node.shape)
            self.dtype = np.dtype(node.dtype)
        self._pid = os.getpid()

    def _open(self) -> None:
        from ..io import open_store

        self.close()
        cm = open_store(self.path, format=self.format, mode="r")
        root = cm.__enter__()
        try:
            node = root[self.elem]
            self._attach(node)
        except BaseException:
            cm.__exit__(None, None, None)
            raise
        self._cm = cm

    def _ensure(self) -> None:
        if self._pid != os.getpid():
            self._cm = None  # inherited handle: never close or use it in this process
            self._open()

    def close(self) -> None:
        """Close the handle this object opened (not one it was given)."""
        if self._cm is not None and self._pid == os.getpid():
            cm, self._cm = self._cm, None
            cm.__exit__(None, None, None)
        self._cm = None
        self._node = self._source = self._fallback = None
        self._indptr = None
        self._pid = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "elem": self.elem, "format": self.format, "shape": self.shape, "dtype": self.dtype}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = None
        self._cm = self._node = self._source = self._fallback = None
        self._indptr = None

    def __repr__(self) -> str:
        return f"<BackedElement {self.elem!r} of {self.path!r} shape={self.shape} dtype={self.dtype}>"

    # -- reads
    def read_rows(self, rows: np.ndarray, cols: np.ndarray | None = None) -> Any:
        """Rows ``rows`` (sorted, unique) and optionally columns ``cols`` as an in-memory array."""
        self._ensure()
        rows = np.asarray(rows, dtype=np.int64)
        if self._source is not None:
            out = self._read_csr(rows)
        elif self._fallback is not None:
            out = self._fallback[rows]
        else:
            out = self._read_dense(rows)
        return _take_cols(out, cols)

    def _read_csr(self, rows: np.ndarray) -> sparse.csr_matrix:
        from .._limits import check_allocation
        from ..backed._sparse import check_values, checked_indptr

        src = self._source
        assert src is not None
        if self._indptr is None:
            self._indptr = checked_indptr(src, self._node)  # checked once, before any row
        indptr = self._indptr
        starts, stops = _runs(rows)
        lengths = indptr[rows + 1] - indptr[rows]
        total = int(lengths.sum())
        check_allocation(total * (self.dtype.itemsize + 8), self._node, f"reading {rows.size} rows with {total} stored values")
        data, indices = src.read_nnz_ranges(indptr[starts], indptr[stops])
        check_values(self._node, data, indices, total, self.shape[1])
        new_indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_indptr[1:])
        return sparse.csr_matrix((data, indices, new_indptr), shape=(rows.size, self.shape[1]))

    def _read_dense(self, rows: np.ndarray) -> np.ndarray:
        node: ArrayLike = self._node
        out = np.empty((rows.size, *self.shape[1:]), dtype=self.dtype)
        at = 0
        for s, e in zip(*(_runs(rows)), strict=True):
            n = int(e - s)
            try:
                node.read_into(out[at : at + n], np.s_[int(s) : int(e)])
            except (AttributeError, TypeError, NotImplementedError):
                out[at : at + n] = node[int(s) : int(e)]
            at += n
        return out


# --------------------------------------------------------------------------- members


def _is_lazy(x: Any) -> bool:
    return not (isinstance(x, np.ndarray | pd.DataFrame) or sparse.issparse(x))


class _Member:
    """One concatenated object: its annotations, and readers for its X and layers."""

    def __init__(self, adata: AnnData) -> None:
        self.adata: AnnData | None = adata
        self.n_obs = int(adata.n_obs)
        self.obs_names = adata.obs_names
        self.var_names = adata.var_names
        self.obs = adata.obs
        self.obsm = adata.obsm
        self.layer_keys: list[Any] = list(adata.layers.keys())
        self.backed = bool(adata.isbacked)
        #: key (None for X) -> (BackedElement, root rows or None, root cols or None)
        self._elements: dict[Any, tuple[BackedElement, np.ndarray | None, np.ndarray | None]] = {}
        if self.backed:
            self._init_backed(adata)

    def _init_backed(self, adata: AnnData) -> None:
        path = adata.filename
        root = adata._adata_ref if adata.is_view else adata
        assert root is not None
        rows = cols = None
        if adata.is_view:
            rows = _positions(adata._oidx, root.n_obs)
            cols = _positions(adata._vidx, root.n_vars)
            if cols.size == root.n_vars and np.array_equal(cols, np.arange(root.n_vars)):
                cols = None
        X = root.X
        node = getattr(X, "group", None)
        if node is None and not isinstance(X, np.ndarray) and hasattr(X, "shape") and hasattr(X, "attrs"):
            node = X
        self._elements[None] = (BackedElement(path, "X", node=node), rows, cols)  # type: ignore[arg-type]
        for k in self.layer_keys:
            if k is None:
                continue
            lay = root.layers[k]
            if _is_lazy(lay):
                node = getattr(lay, "group", lay if hasattr(lay, "attrs") else None)
                self._elements[k] = (BackedElement(path, f"layers/{k}", node=node), rows, cols)  # type: ignore[arg-type]

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], format: str | None = None) -> _Member:
        """A member read from ``path`` with X and layers left on disk (only annotations are loaded)."""
        from ..io import open_store, read_elem

        with open_store(path, format=format, mode="r") as root:
            obs = read_elem(root["obs"])
            var = read_elem(root["var"])
            obsm = read_elem(root["obsm"]) if "obsm" in root else {}
            layer_keys = list(root["layers"].keys()) if "layers" in root else []
        shell = AnnData(obs=obs, var=var, obsm=obsm or None)
        self = cls.__new__(cls)
        self.adata = shell
        self.n_obs = shell.n_obs
        self.obs_names, self.var_names = shell.obs_names, shell.var_names
        self.obs, self.obsm = shell.obs, shell.obsm
        self.layer_keys = [*layer_keys, None]
        self.backed = True
        self._elements = {None: (BackedElement(path, "X", format=format), None, None)}
        for k in layer_keys:
            self._elements[k] = (BackedElement(path, f"layers/{k}", format=format), None, None)
        el = self._elements[None][0]
        if tuple(el.shape[:1]) != (self.n_obs,):
            msg = f"Expected X of {path!r} to have {self.n_obs} rows (as obs); got shape {el.shape} instead."
            raise ShapeMismatchError(msg)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self.backed:
            # Backed objects hold open file handles: ship annotations only; workers reopen X by path.
            state["adata"] = None
            state["obsm"] = {k: _materialise(v) for k, v in self.obsm.items()}
            if self.adata is not None:
                state["_mem_layers"] = {
                    k: self.adata.layers[k] for k in self.layer_keys if k is not None and k not in self._elements
                }
        return state

    def dtype_of(self, key: Any) -> Any:
        if key in self._elements:
            return self._elements[key][0].dtype
        arr = self.adata.X if key is None else self.adata.layers[key]  # type: ignore[union-attr]
        return getattr(arr, "dtype", None)

    def read(self, key: Any, rows: np.ndarray, cols: np.ndarray | None) -> Any:
        """Rows (sorted unique local positions) of X (``key=None``) or a layer, columns ``cols``."""
        if key in self._elements:
            el, root_rows, root_cols = self._elements[key]
            if root_cols is not None:
                cols = root_cols if cols is None else root_cols[cols]
            if root_rows is None:
                return el.read_rows(rows, cols)
            r = root_rows[rows]
            u, inv = np.unique(r, return_inverse=True)
            out = el.read_rows(u, cols)
            return out if u.size == r.size and np.array_equal(u, r) else out[inv]
        if self.adata is None:
            arr = self.__dict__.get("_mem_layers", {})[key]
        else:
            arr = self.adata.X if key is None else self.adata.layers[key]
        if arr is None:
            msg = f"Expected an X to read; the AnnData with shape {self.adata.shape} has X=None."
            raise CollectionError(msg)
        return _take_rows(arr, rows, cols)

    def close(self) -> None:
        for el, _, _ in self._elements.values():
            el.close()


# --------------------------------------------------------------------------- selection plan


class _Plan:
    """How a selection of global rows maps to members: sorted unique rows per member + reorder."""

    __slots__ = ("inverse", "parts")

    def __init__(self, oidx: np.ndarray, offsets: np.ndarray) -> None:
        if oidx.size > 1 and not bool(np.all(oidx[1:] > oidx[:-1])):
            u, inv = np.unique(oidx, return_inverse=True)
            self.inverse: np.ndarray | None = inv.ravel()
        else:
            u, self.inverse = oidx, None
        member = np.searchsorted(offsets, u, side="right") - 1
        bounds = np.searchsorted(member, np.arange(len(offsets)), side="left")
        bounds = np.append(bounds, member.size)
        self.parts: list[tuple[int, np.ndarray]] = []
        for i in range(len(offsets) - 1):
            a, b = int(bounds[i]), int(bounds[i + 1])
            if b > a:
                self.parts.append((i, u[a:b] - offsets[i]))


# --------------------------------------------------------------------------- mapping views


class MapObsView:
    """Lazy per-key access to ``obs``, ``obsm`` or ``layers`` of a selection.

    ``view[key]`` reads (and converts) only that key for the selected rows. ``to_dict()`` reads
    several keys; ``.df`` (obs only) returns a DataFrame.
    """

    def __init__(self, view: AnnCollectionView, attr: str, keys: list[Any], *, own: bool) -> None:
        self._view = view
        self.attr = attr
        self._keys = keys
        self._own = own

    def keys(self) -> list[Any]:
        return list(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, key: Any) -> Any:
        return self._get(key, use_convert=True)

    def _get(self, key: Any, *, use_convert: bool) -> Any:
        if key not in self._keys:
            msg = f"No {key!r} in the {self.attr} view; available keys: {self._keys}."
            raise KeyError(msg)
        return self._view._value(self.attr, key, own=self._own, use_convert=use_convert)

    def to_dict(self, keys: Sequence[Any] | None = None, *, use_convert: bool = True) -> dict[Any, Any]:
        """The values of ``keys`` (all keys by default), converted unless ``use_convert=False``."""
        return {k: self._get(k, use_convert=use_convert) for k in (self._keys if keys is None else keys)}

    @property
    def df(self) -> pd.DataFrame | None:
        """The selected rows of ``obs`` as a DataFrame (None for other attributes)."""
        if self.attr != "obs":
            return None
        cols = {k: (_series_values(v) if isinstance(v, pd.Series) else v) for k, v in self.to_dict(use_convert=False).items()}
        return pd.DataFrame(cols, index=self._view.obs_names)

    def __repr__(self) -> str:
        return f"View of {self.attr} with keys: {str(self._keys)[1:-1]}"


# --------------------------------------------------------------------------- iteration


class _IterateMixin:
    shape: tuple[int, ...]

    def __getitem__(self, index: Any) -> Any:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def iterate_axis(
        self,
        batch_size: int,
        axis: Literal[0, 1] = 0,
        shuffle: bool = False,
        drop_last: bool = False,
    ) -> Iterator[tuple[Any, list[int]]]:
        """Iterate over ``axis`` in batches of ``batch_size``, yielding ``(batch, indices)``.

        Parameters
        ----------
        batch_size
            How many samples to put into a batch.
        axis
            The axis to iterate over (0: observations, 1: variables).
        shuffle
            Permute the indices (with numpy's global random state, as anndata) before iterating.
        drop_last
            Drop the last batch when it is smaller than ``batch_size``.
        """
        if axis not in (0, 1):
            msg = f"Expected axis 0 or 1; got {axis!r} instead."
            raise ValueError(msg)
        if batch_size < 1:
            msg = f"Expected a positive batch_size; got {batch_size!r} instead."
            raise ValueError(msg)
        n = self.shape[axis]
        indices = np.random.permutation(n).tolist() if shuffle else list(range(n))
        for i in range(0, n, batch_size):
            idx = indices[i : i + batch_size]
            if len(idx) < batch_size and drop_last:
                continue
            yield (self[:, idx] if axis == 1 else self[idx]), idx


# --------------------------------------------------------------------------- views


class AnnCollectionView(_IterateMixin):
    """A selection of an :class:`AnnCollection`; reads nothing until an attribute is accessed.

    ``.X``, ``.obs[key]``, ``.obsm[key]`` and ``.layers[key]`` return in-memory arrays for the
    selected rows (in the order of the selection), with the collection's converters applied.
    A view pickles as a materialised snapshot (every attribute read and converted, no file
    handles), which is how batches leave :class:`~annstore.experimental.AnnLoader` workers.
    """

    def __init__(
        self,
        reference: AnnCollection,
        oidx: np.ndarray,
        vidx: np.ndarray | None,
        convert: Any = None,
    ) -> None:
        self.reference: AnnCollection | None = reference
        self.oidx = oidx
        self.vidx = vidx
        self._convert = convert
        self._plan: _Plan | None = None
        self._cache: dict[tuple[str, Any], Any] = {}
        self._obs_names = reference.obs_names[oidx]
        self._var_names = reference.var_names if vidx is None else reference.var_names[vidx]
        self._snapshot: dict[tuple[str, Any], Any] | None = None
        self._attrs_keys = reference.attrs_keys
        self._own = tuple(reference._attrs)

    # -- shape and names
    @property
    def obs_names(self) -> pd.Index:
        """Names of the selected observations."""
        return self._obs_names

    @property
    def var_names(self) -> pd.Index:
        """Names of the selected variables."""
        return self._var_names

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_obs, n_vars)`` of the selection."""
        return len(self._obs_names), len(self._var_names)

    @property
    def n_obs(self) -> int:
        """Number of selected observations."""
        return self.shape[0]

    @property
    def n_vars(self) -> int:
        """Number of selected variables."""
        return self.shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def attrs_keys(self) -> dict[str, list[Any]]:
        """Dict of all accessible attributes and their keys."""
        return {k: list(v) for k, v in self._attrs_keys.items()}

    @property
    def convert(self) -> Any:
        """Converters applied to ``X`` and to the keys of ``obs``, ``obsm``, ``layers``."""
        return self._convert

    @convert.setter
    def convert(self, value: Any) -> None:
        if self._snapshot is not None:
            msg = "Cannot change the converters of a materialised (unpickled) view."
            raise CapabilityError(msg)
        self._convert = value

    @property
    def has_backed(self) -> bool:
        """Whether the selection reads rows from backed members."""
        ref = self._ref()
        return any(ref._members[i].backed for i, _ in self._get_plan().parts)

    # -- selection
    def _ref(self) -> AnnCollection:
        if self.reference is None:
            msg = "This view was materialised (unpickled); it holds only its read values."
            raise CapabilityError(msg)
        return self.reference

    def _get_plan(self) -> _Plan:
        if self._plan is None:
            ref = self._ref()
            self._plan = _Plan(self.oidx, ref._offsets)
        return self._plan

    def __getitem__(self, index: Any) -> AnnCollectionView:
        ref = self._ref()
        o, v = _normalize(index, self._obs_names, self._var_names)
        oidx = self.oidx[o]
        if v is None:
            vidx = self.vidx
        else:
            vidx = v if self.vidx is None else self.vidx[v]
        return ref._make_view(oidx, vidx, self._convert)

    def __getitems__(self, indices: Sequence[int]) -> AnnCollectionView:
        """One view for a list of positions (the batched fetch torch's DataLoader uses)."""
        return self[np.asarray(indices, dtype=np.intp)]

    # -- reading
    def _member_cols(self, i: int) -> np.ndarray | None:
        mv = self._ref()._member_vidx[i]
        if mv is None:
            return self.vidx
        return mv if self.vidx is None else mv[self.vidx]

    def _gather(self, attr: str, key: Any) -> Any:
        """Raw (unconverted) values of ``X`` (attr ``"X"``) or ``attr[key]`` for the selection."""
        if attr == "layers" and key is None:
            attr = "X"
        ck = (attr, key)
        if self._snapshot is not None:
            msg = "This view was materialised (unpickled); only converted values are available."
            raise CapabilityError(msg)
        if ck in self._cache:
            return self._cache[ck]
        ref = self._ref()
        if attr in self._own:
            src = ref.obs if attr == "obs" else ref.obsm
            val = src[key]
            val = val.iloc[self.oidx] if isinstance(val, pd.Series | pd.DataFrame) else _materialise(val[self.oidx])
            self._cache[ck] = val
            return val
        plan = self._get_plan()
        blocks = []
        for i, rows in plan.parts:
            m = ref._members[i]
            if attr == "X":
                blocks.append(m.read(None, rows, self._member_cols(i)))
            elif attr == "layers":
                blocks.append(m.read(key, rows, self._member_cols(i)))
            elif attr == "obs":
                blocks.append(m.obs[key].iloc[rows])
            else:
                blocks.append(_take_rows(m.obsm[key], rows, None))
        if not blocks:
            val = self._empty(attr, key)
        else:
            val = _reorder(_stack(blocks), plan.inverse)
        if isinstance(val, pd.Series):
            val = _series_values(val)
        elif isinstance(val, pd.DataFrame):
            val.index = self._obs_names
        dtypes = ref._dtypes
        if dtypes is not None:
            dt = dtypes.get("X") if attr == "X" else dtypes.get(attr, {}).get(key)
            val = _astype(val, dt)
        self._cache[ck] = val
        return val

    def _empty(self, attr: str, key: Any) -> Any:
        ref = self._ref()
        m = ref._members[0]
        rows = np.zeros(0, dtype=np.intp)
        if attr == "obs":
            return m.obs[key].iloc[rows]
        if attr == "obsm":
            return _take_rows(m.obsm[key], rows, None)
        return m.read(None if attr == "X" else key, rows, self._member_cols(0))

    def _value(self, attr: str, key: Any, *, own: bool, use_convert: bool) -> Any:
        if self._snapshot is not None:
            if not use_convert:
                msg = "This view was materialised (unpickled); only converted values are available."
                raise CapabilityError(msg)
            if attr == "layers" and key is None:
                return self._snapshot[("X", None)]
            return self._snapshot[(attr, key)]
        val = self._gather(attr, key)
        if use_convert:
            val = _apply(_select_convert(_select_convert(self._convert, attr), key), val)
        return val

    @property
    def X(self) -> Any:
        """The selected rows and columns of the concatenated data matrix (converted)."""
        if self._snapshot is not None:
            return self._snapshot[("X", None)]
        return _apply(_select_convert(self._convert, "X"), self._gather("X", None))

    def _map(self, attr: str) -> MapObsView | None:
        keys = self._attrs_keys.get(attr)
        if attr not in self._own and not keys:
            return None
        return MapObsView(self, attr, list(keys or []), own=attr in self._own)

    @property
    def obs(self) -> MapObsView | None:
        """Lazy per-key access to the selected rows of ``obs`` (``.obs.df`` for a DataFrame)."""
        return self._map("obs")

    @property
    def obsm(self) -> MapObsView | None:
        """Lazy per-key access to the selected rows of ``obsm``."""
        return self._map("obsm")

    @property
    def layers(self) -> MapObsView | None:
        """Lazy per-key access to the selected rows of ``layers`` (key ``None`` is X)."""
        return self._map("layers")

    # -- conversion
    def to_adata(self, *, ignore_X: bool = False, ignore_layers: bool = False) -> AnnData:
        """Copy the selection into an in-memory :class:`~annstore.AnnData` (no converters).

        Parameters
        ----------
        ignore_X
            Leave ``X`` out (the AnnData only gets the shape).
        ignore_layers
            Leave ``layers`` out.
        """
        obs_map, obsm_map, layers_map = self.obs, self.obsm, self.layers
        layers = None
        if not ignore_layers and layers_map is not None:
            layers = {k: v for k, v in layers_map.to_dict(use_convert=False).items() if k is not None}
        obsm = None if obsm_map is None else obsm_map.to_dict(use_convert=False)
        obs = None if obs_map is None else obs_map.df
        X = None if ignore_X else self._gather("X", None)
        adata = AnnData(X, obs=obs, obsm=obsm, layers=layers or None, shape=self.shape if X is None else None)
        adata.obs_names = self.obs_names
        adata.var_names = self.var_names
        return adata

    def _materialize(self) -> AnnCollectionView:
        """Read and convert every attribute now and drop the reference to the collection."""
        if self._snapshot is not None:
            return self
        snap: dict[tuple[str, Any], Any] = {("X", None): self.X}
        for attr in ATTRS:
            mv = self._map(attr)
            if mv is None:
                continue
            for k in mv.keys():
                if attr == "layers" and k is None:
                    continue  # layers[None] is X: shipped once
                snap[(attr, k)] = mv[k]
        self._snapshot = snap
        self._cache = {}
        self._plan = None
        self.reference = None
        self._convert = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        if self._snapshot is None:
            self._materialize()
        return self.__dict__.copy()

    def __copy__(self) -> AnnCollectionView:
        # A shallow copy stays lazy (``copy`` would otherwise go through ``__getstate__``, which
        # reads everything); it gets its own cache and converters.
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._cache = dict(self._cache)
        return new

    @classmethod
    def _from_snapshot(
        cls, reference: AnnCollection, oidx: np.ndarray, vidx: np.ndarray | None, snapshot: dict[tuple[str, Any], Any]
    ) -> AnnCollectionView:
        """A materialised view of ``reference[oidx, vidx]`` holding ``snapshot`` (converted values).

        Names and keys come from ``reference`` (so they need not travel between processes);
        the view keeps no reference to it, exactly like an unpickled view.
        """
        self = cls(reference, oidx, vidx, None)
        self._snapshot = snapshot
        self.reference = None
        return self

    def __repr__(self) -> str:
        n_obs, n_vars = self.shape
        descr = f"AnnCollectionView object with n_obs × n_vars = {n_obs} × {n_vars}"
        ordered = [a for a in self._attrs_keys if a not in self._own] + [a for a in self._attrs_keys if a in self._own]
        for attr in ordered:
            keys = self._attrs_keys[attr]
            if keys:
                line = f"\n    {attr}: {str(list(keys))[1:-1]}"
                if attr == "layers":
                    line = line.replace("None", "None (.X)")
                descr += line
        return descr


# --------------------------------------------------------------------------- the collection


def _normalize(index: Any, obs_names: pd.Index, var_names: pd.Index) -> tuple[np.ndarray, np.ndarray | None]:
    o, v = unpack_index(index)
    oi = _positions(normalize_index(o, obs_names), len(obs_names))
    if isinstance(v, slice) and v == slice(None):
        return oi, None
    vi = _positions(normalize_index(v, var_names), len(var_names))
    return oi, vi


class AnnCollection(_IterateMixin):
    """Lazily concatenate AnnData objects along the ``obs`` axis.

    No data matrix is copied: indexing returns an :class:`AnnCollectionView` whose ``X``,
    ``obs``, ``obsm`` and ``layers`` read only the selected rows from the underlying objects.
    Backed objects (``read_h5ad(..., backed="r")``, or file paths) are read row-range-wise from
    their files, which are reopened by path in worker processes.

    Parameters
    ----------
    adatas
        The objects to concatenate (AnnData, or paths of h5ad/zarr files that are opened with
        X and layers left on disk). A mapping uses its keys as ``keys``.
    join_obs
        ``"inner"`` or ``"outer"``: join the ``.obs`` of all objects into this object's ``.obs``
        (views read from it). ``None``: only this object's own columns (the label) live here;
        views read the columns common to all objects from the objects themselves.
    join_obsm
        ``"inner"``: inner-join the ``.obsm`` of all objects into this object's ``.obsm``.
        ``None``: views read the ``.obsm`` keys common to all objects (same width) lazily.
    join_vars
        ``None``: all objects must have the same variables. ``"inner"``: use their intersection.
    label
        Column of ``.obs`` holding the key of the object each observation comes from.
    keys
        Names of the objects (for ``label`` and ``index_unique``); default ``"0"``, ``"1"``, ...
    index_unique
        Separator to make obs names unique as ``f"{name}{index_unique}{key}"``; ``None`` keeps them.
    convert
        A function, or a mapping of attribute (``"X"``, ``"obs"``, ``"obsm"``, ``"layers"``) to
        a function or to a mapping of key to function, applied to values read by views.
    harmonize_dtypes
        Cast values read by views to the dtype concatenating all objects would give.
    indices_strict
        Keep the order of the selection (``False`` returns rows of a view sorted by position,
        which is cheaper; the view's ``obs_names`` follow the same order).
    """

    def __init__(
        self,
        adatas: Sequence[AnnData | str | os.PathLike[str]] | Mapping[str, AnnData | str | os.PathLike[str]],
        join_obs: Literal["inner", "outer"] | None = "inner",
        join_obsm: Literal["inner"] | None = None,
        join_vars: Literal["inner"] | None = None,
        label: str | None = None,
        keys: Sequence[str] | None = None,
        index_unique: str | None = None,
        convert: ConvertType | None = None,
        harmonize_dtypes: bool = True,
        indices_strict: bool = True,
    ) -> None:
        if isinstance(adatas, Mapping):
            if keys is not None:
                msg = "Cannot specify categories in both mapping keys and using `keys`. Only specify this once."
                raise TypeError(msg)
            keys, items = list(adatas.keys()), list(adatas.values())
        elif isinstance(adatas, AnnData | str | os.PathLike):
            items = [adatas]
        else:
            items = list(adatas)
        if not items:
            msg = "Expected at least one AnnData object to collect; got none."
            raise CollectionError(msg)
        if join_obs not in ("inner", "outer", None):
            msg = f"Expected join_obs 'inner', 'outer' or None; got {join_obs!r} instead."
            raise ValueError(msg)
        if join_obsm not in ("inner", None):
            msg = f"Expected join_obsm 'inner' or None; got {join_obsm!r} instead."
            raise ValueError(msg)
        if join_vars not in ("inner", None):
            msg = f"Expected join_vars 'inner' or None; got {join_vars!r} instead."
            raise ValueError(msg)
        members = []
        for i, a in enumerate(items):
            if isinstance(a, AnnData):
                members.append(_Member(a))
            elif isinstance(a, str | os.PathLike):
                members.append(_Member.from_path(Path(a)))
            else:
                msg = f"Expected AnnData objects or paths; got {type(a).__name__} at position {i}."
                raise TypeError(msg)
        self._members = members

        # variables
        var_lists = [m.var_names for m in members]
        self._member_vidx: list[np.ndarray | None] = [None] * len(members)
        if all(var_lists[0].equals(v) for v in var_lists[1:]):
            self.var_names: pd.Index = var_lists[0]
        elif join_vars == "inner":
            var_names = reduce(pd.Index.intersection, var_lists)
            for i, v in enumerate(var_lists):
                if not var_names.equals(v):
                    self._member_vidx[i] = v.get_indexer(var_names).astype(np.intp)
            self.var_names = var_names
        else:
            msg = "Adatas have different variables. Please specify join_vars='inner' for intersection."
            raise CollectionError(msg)

        # observations
        sizes = [m.n_obs for m in members]
        if keys is None:
            keys = [str(i) for i in range(len(members))]
        keys = list(keys)
        if len(keys) != len(members):
            msg = f"Expected {len(members)} keys (one per object); got {len(keys)} instead."
            raise CollectionError(msg)
        label_col = pd.Categorical.from_codes(np.repeat(np.arange(len(members)), sizes), categories=keys)
        names = pd.concat([pd.Series(m.obs_names) for m in members], ignore_index=True)
        if index_unique is not None:
            names = names.astype(str).str.cat(pd.Series(np.asarray(label_col).astype(str)), sep=index_unique)
        self.obs_names: pd.Index = pd.Index(names)
        if not self.obs_names.is_unique:
            warnings.warn("Observation names are not unique.", UserWarning, stacklevel=2)

        view_attrs = list(ATTRS)
        self._attrs: list[str] = []
        if join_obs is not None:
            view_attrs.remove("obs")
            self._attrs.append("obs")
            obs = pd.concat([m.obs for m in members], join=join_obs, ignore_index=True)
            obs.index = self.obs_names
            self._obs = obs
        else:
            self._obs = pd.DataFrame(index=self.obs_names)
        if label is not None:
            self._obs[label] = label_col

        self._obsm: Any = None
        if join_obsm == "inner":
            from .._concat import concat_aligned_mappings

            view_attrs.remove("obsm")
            self._attrs.append("obsm")
            self._obsm = concat_aligned_mappings(
                [m.obsm for m in members], sizes, "inner", axis=0, index=self.obs_names
            )

        # keys every member has (with equal widths for obsm)
        self._view_attrs_keys: dict[str, list[Any]] = {}
        for attr in view_attrs:
            first = members[0]
            ks = list(first.obs.columns if attr == "obs" else first.obsm.keys() if attr == "obsm" else first.layer_keys)
            for m in members[1:]:
                kept = []
                for k in ks:
                    if attr == "obs":
                        if k in m.obs.columns:
                            kept.append(k)
                    elif attr == "obsm":
                        if k in m.obsm.keys():
                            s0, si = first.obsm[k].shape, m.obsm[k].shape
                            if len(s0) < 2 or len(si) < 2 or s0[1] == si[1]:
                                kept.append(k)
                    elif k in m.layer_keys:
                        kept.append(k)
                ks = kept
            self._view_attrs_keys[attr] = ks

        self._offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self.limits: list[int] = [int(x) for x in self._offsets[1:]]
        self._convert = convert
        self.indices_strict = indices_strict
        self._dtypes: dict[str, Any] | None = None
        if len(members) > 1 and harmonize_dtypes:
            self._dtypes = self._harmonize()

    def _harmonize(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        ms = self._members
        for attr, ks in self._view_attrs_keys.items():
            if not ks:
                continue
            d: dict[Any, Any] = {}
            for k in ks:
                if attr == "obs":
                    d[k] = _common_dtype([m.obs[k].iloc[:1] for m in ms])
                elif attr == "obsm":
                    d[k] = _common_dtype([m.obsm[k][:1] if not isinstance(m.obsm[k], pd.DataFrame) else m.obsm[k].iloc[:1] for m in ms])
                else:
                    d[k] = _common_dtype([_DtypeOnly(m.dtype_of(k)) for m in ms])
            out[attr] = d
        out["X"] = _common_dtype([_DtypeOnly(m.dtype_of(None)) for m in ms])
        return out

    # -- public attributes
    @property
    def adatas(self) -> list[AnnData | None]:
        """The collected objects (``None`` for backed ones in a worker process)."""
        return [m.adata for m in self._members]

    @property
    def convert(self) -> Any:
        """Converters applied by views (not to this object's own ``obs``/``obsm``).

        A function, or a mapping such as ``{"X": densify, "obsm": to_float32, "obs": {"key1": f}}``.
        """
        return self._convert

    @convert.setter
    def convert(self, value: Any) -> None:
        self._convert = value

    @property
    def obs(self) -> pd.DataFrame:
        """This object's own ``obs`` (the joined obs with ``join_obs``; else only the label)."""
        return self._obs

    @property
    def obsm(self) -> Any:
        """The inner-joined ``obsm`` with ``join_obsm="inner"``; else ``None``."""
        return self._obsm

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the lazily concatenated data matrix."""
        return int(self._offsets[-1]), len(self.var_names)

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return self.shape[0]

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return self.shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def has_backed(self) -> bool:
        """Whether any collected object is backed."""
        return any(m.backed for m in self._members)

    @property
    def attrs_keys(self) -> dict[str, list[Any]]:
        """Dict of all accessible attributes and their keys."""
        out: dict[str, list[Any]] = {}
        for attr in self._attrs:
            out[attr] = list(getattr(self, attr).keys())
        out.update({k: list(v) for k, v in self._view_attrs_keys.items()})
        return out

    # -- selection
    def _make_view(self, oidx: np.ndarray, vidx: np.ndarray | None, convert: Any) -> AnnCollectionView:
        if not self.indices_strict:
            oidx = np.sort(oidx, kind="stable")
        return AnnCollectionView(self, oidx, vidx, convert)

    def __getitem__(self, index: Any) -> AnnCollectionView:
        o, v = _normalize(index, self.obs_names, self.var_names)
        return self._make_view(o, v, self._convert)

    def __getitems__(self, indices: Sequence[int]) -> AnnCollectionView:
        """One view for a list of positions (the batched fetch torch's DataLoader uses)."""
        return self._make_view(_positions(np.asarray(indices, dtype=np.intp), self.n_obs), None, self._convert)

    def lazy_attr(self, attr: str, key: Any = None) -> LazyAttrData:
        """A subsettable, array-like handle on ``attr`` (``"X"``, ``"obs"``, ``"obsm"``, ``"layers"``) or ``attr[key]``.

        Parameters
        ----------
        attr
            ``"X"``, ``"obs"``, ``"obsm"`` or ``"layers"``.
        key
            A key of ``attr`` (an obs column, an obsm or layers entry); ``None``: the whole
            attribute.

        Returns
        -------
        LazyAttrData
            A handle that reads only the rows it is indexed with, from the underlying AnnData
            objects.
        """
        if attr not in ("X", *ATTRS):
            msg = f"Expected attr one of 'X', 'obs', 'obsm', 'layers'; got {attr!r} instead."
            raise ValueError(msg)
        return LazyAttrData(self, attr, key)

    def to_adata(self) -> AnnData:
        """An :class:`~annstore.AnnData` with this object's ``obs`` and ``obsm`` (and no ``X``)."""
        view = None
        if self._view_attrs_keys.get("obs") or self._view_attrs_keys.get("obsm"):
            view = self._make_view(np.arange(self.n_obs, dtype=np.intp), None, None)
        if "obsm" in self._view_attrs_keys:
            mv = view.obsm if view is not None else None
            obsm = mv.to_dict(use_convert=False) if mv is not None else None
        else:
            obsm = dict(self.obsm) if self.obsm is not None else None
        obs = self.obs.copy()
        if view is not None and self._view_attrs_keys.get("obs"):
            for k, v in view.obs.to_dict(use_convert=False).items():  # type: ignore[union-attr]
                obs[k] = v
        adata = AnnData(X=None, obs=obs, obsm=obsm or None, shape=self.shape)
        adata.obs_names = self.obs_names
        adata.var_names = self.var_names
        return adata

    def close(self) -> None:
        """Close the file handles this collection opened itself (backed objects stay open)."""
        for m in self._members:
            m.close()

    def __repr__(self) -> str:
        n_obs, n_vars = self.shape
        descr = f"AnnCollection object with n_obs × n_vars = {n_obs} × {n_vars}"
        descr += f"\n  constructed from {len(self._members)} AnnData objects"
        for attr, keys in self._view_attrs_keys.items():
            if keys:
                line = f"\n    view of {attr}: {str(list(keys))[1:-1]}"
                if attr == "layers":
                    line = line.replace("None", "None (.X)")
                descr += line
        for attr in self._attrs:
            keys = list(getattr(self, attr).keys())
            if keys:
                descr += f"\n    {attr}: {str(keys)[1:-1]}"
        if "obs" in self._view_attrs_keys:
            keys = list(self.obs.keys())
            if keys:
                descr += f"\n    own obs: {str(keys)[1:-1]}"
        return descr


class _DtypeOnly:
    """Stands in for an array when only its dtype is needed (no data is read)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype


class LazyAttrData(_IterateMixin):
    """Array-like access to one attribute (or one key of it) of an :class:`AnnCollection`."""

    def __init__(self, adset: AnnCollection, attr: str, key: Any = None) -> None:
        self.adset = adset
        self.attr = attr
        self.key = key

    def __getitem__(self, index: Any) -> Any:
        vidx = None
        oidx = index
        if isinstance(index, tuple) and self.attr in ("obs", "obsm"):
            oidx = index[0]
            vidx = index[1] if len(index) > 1 else None
        view = self.adset[oidx]
        val = view.X if self.attr == "X" else getattr(view, self.attr)
        if self.key is not None:
            val = val[self.key]  # type: ignore[index]
        return val if vidx is None else val[:, vidx]

    @property
    def shape(self) -> tuple[int, ...] | None:
        n_obs, n_vars = self.adset.shape
        if self.attr in ("X", "layers"):
            return (n_obs, n_vars)
        if self.attr == "obs":
            return (n_obs,)
        if self.attr == "obsm" and self.key is not None:
            return (n_obs, self[:1].shape[1])
        return None

    @property
    def ndim(self) -> int:
        s = self.shape
        return len(s) if s is not None else 0

    @property
    def dtype(self) -> Any:
        dt = self.adset._dtypes
        if dt is not None:
            if self.attr == "X":
                return dt["X"]
            if self.attr in dt and self.key in dt[self.attr]:
                return dt[self.attr][self.key]
        return getattr(self[:1], "dtype", None)

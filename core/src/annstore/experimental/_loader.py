"""AnnLoader: a torch DataLoader over AnnData objects, AnnCollections and backed files.

torch is imported when this module is imported; ``annstore.experimental`` imports this module
only when ``AnnLoader`` is first used.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    get_worker_info,
)

from .._anndata import AnnData
from ._collection import ATTRS, AnnCollection, AnnCollectionView, _select_convert

__all__ = ["AnnLoader", "default_converter"]

_COLLECTION_KWARGS = (
    "join_obs",
    "join_obsm",
    "join_vars",
    "label",
    "keys",
    "index_unique",
    "convert",
    "harmonize_dtypes",
    "indices_strict",
)


def default_converter(arr: Any, *, use_cuda: bool = False, pin_memory: bool = False, sparse_tensors: bool = False) -> Any:
    """Turn numeric arrays (dense, sparse, numeric pandas columns) into torch tensors.

    Sparse matrices become dense tensors, or torch sparse CSR tensors with ``sparse_tensors``
    (sharing the matrix's arrays: no copy). Non-numeric values (categoricals, strings,
    booleans) are returned unchanged, as anndata does.
    """
    if isinstance(arr, torch.Tensor):
        if use_cuda:
            return arr.cuda()
        return arr.pin_memory() if pin_memory else arr
    dtype = getattr(arr, "dtype", None)
    if dtype is None or not isinstance(dtype, np.dtype) or not np.issubdtype(dtype, np.number):
        return arr
    if sparse.issparse(arr):
        if sparse_tensors:
            t = _sparse_csr_tensor(arr)
            if use_cuda:
                return t.cuda()
            return t.pin_memory() if pin_memory else t
        arr = arr.toarray()
    elif isinstance(arr, pd.Series | pd.DataFrame):
        arr = arr.to_numpy()
    arr = np.ascontiguousarray(arr)
    if not arr.flags.writeable:
        arr = arr.copy()  # e.g. pandas copy-on-write columns; tensors must not alias read-only memory
    t = torch.as_tensor(arr)
    if use_cuda:
        return t.cuda()
    return t.pin_memory() if pin_memory else t


def _writable(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a if a.flags.writeable else a.copy()


def _sparse_csr_tensor(m: Any) -> torch.Tensor:
    """A torch sparse CSR tensor of a scipy sparse matrix (its arrays shared when possible)."""
    m = m.tocsr()
    # torch wants crow and col indices of one integer dtype
    idx_dtype = np.int32 if max(m.nnz, m.shape[1]) < 2**31 else np.int64
    crow = _writable(m.indptr.astype(idx_dtype, copy=False))
    col = _writable(m.indices.astype(idx_dtype, copy=False))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(crow), torch.from_numpy(col), torch.from_numpy(_writable(m.data)),
            size=m.shape, check_invariants=False,
        )


class _Chain:
    """``outer(inner(x))``, picklable (for worker processes started with spawn)."""

    __slots__ = ("inner", "outer")

    def __init__(self, outer: Callable[[Any], Any], inner: Callable[[Any], Any] | None) -> None:
        self.outer = outer
        self.inner = inner

    def __call__(self, x: Any) -> Any:
        return self.outer(x if self.inner is None else self.inner(x))

    def __getstate__(self) -> tuple[Any, Any]:
        return (self.outer, self.inner)

    def __setstate__(self, state: tuple[Any, Any]) -> None:
        self.outer, self.inner = state


def _convert_on_top(convert: Any, top: Callable[[Any], Any], attrs_keys: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Per attribute and key, ``top`` applied after the user's converter (if any)."""
    out: dict[str, Any] = {}
    for attr, keys in attrs_keys.items():
        if attr == "X":
            inner = convert if callable(convert) else (convert.get("X") if isinstance(convert, Mapping) else None)
            out["X"] = _Chain(top, inner)
            continue
        level = convert if callable(convert) else (convert.get(attr) if isinstance(convert, Mapping) else None)
        per_key: dict[Any, Any] = {}
        for k in keys:
            inner_k = level if callable(level) else (level.get(k) if isinstance(level, Mapping) else None)
            per_key[k] = _Chain(top, inner_k)
        out[attr] = per_key
    return out


def _split_convert(convert: Any) -> tuple[Any, Any]:
    """``(inner, outer)`` of a loader converter chain; a user's converter is all ``inner``."""
    if isinstance(convert, _Chain):
        return convert.inner, convert.outer
    return convert, None


def _key_convert(convert: Any, attr: str, key: Any) -> Any:
    """The converter a view applies to ``X`` (attr ``"X"``) or to ``attr[key]``."""
    level = _select_convert(convert, attr)
    return level if attr == "X" else _select_convert(level, key)


class _Shipped:
    """A batch read in a worker process, as it travels to the main process.

    Only positions and values cross the process boundary: the names and keys are taken from the
    main process's own collection (pickling 20,000 variable names per batch costs more than
    reading the batch). Values carry the user's converters but not the loader's default
    converter, which runs in the main process (:func:`_unship`): a dense batch is ~40x larger
    than its CSR, and moving it through fresh shared memory costs ~30 ms against ~1.5 ms to
    densify it where it is used (and CUDA tensors cannot be made in forked workers).
    """

    __slots__ = ("oidx", "values", "vidx")

    def __init__(self, oidx: np.ndarray, vidx: np.ndarray | None, values: dict[tuple[str, Any], Any]) -> None:
        self.oidx = oidx
        self.vidx = vidx
        self.values = values

    def __getstate__(self) -> tuple[Any, Any, Any]:
        return (self.oidx, self.vidx, self.values)

    def __setstate__(self, state: tuple[Any, Any, Any]) -> None:
        self.oidx, self.vidx, self.values = state


def _ship(view: AnnCollectionView) -> _Shipped:
    """Read every attribute of ``view`` (in a worker) and apply all but the default converter."""
    values: dict[tuple[str, Any], Any] = {}
    wanted: list[tuple[str, Any]] = [("X", None)]
    for attr in ATTRS:
        keys = view._attrs_keys.get(attr)
        if attr in view._own or keys:
            wanted.extend((attr, k) for k in keys or [] if not (attr == "layers" and k is None))
    for attr, key in wanted:
        raw = view._value(attr, key, own=attr in view._own, use_convert=False)
        inner, _ = _split_convert(_key_convert(view.convert, attr, key))
        val = inner(raw) if callable(inner) else raw
        if isinstance(val, pd.Series | pd.DataFrame) and val.index.equals(view.obs_names):
            val = _Reindexed(val)
        values[(attr, key)] = val
    return _Shipped(view.oidx, view.vidx, values)


class _Reindexed:
    """A Series/DataFrame indexed by the batch's obs names, shipped without its index."""

    __slots__ = ("frame",)

    def __init__(self, frame: pd.Series | pd.DataFrame) -> None:
        self.frame = frame.set_axis(pd.RangeIndex(len(frame)), axis=0)

    def restore(self, obs_names: pd.Index) -> pd.Series | pd.DataFrame:
        return self.frame.set_axis(obs_names, axis=0)

    def __getstate__(self) -> Any:
        return self.frame

    def __setstate__(self, state: Any) -> None:
        self.frame = state


def _unship(batch: _Shipped, dataset: AnnCollection | AnnCollectionView) -> AnnCollectionView:
    """The materialised view of a shipped batch, with the default converter applied here."""
    coll = dataset.reference if isinstance(dataset, AnnCollectionView) else dataset
    convert = dataset.convert
    snap: dict[tuple[str, Any], Any] = {}
    view = AnnCollectionView._from_snapshot(coll, batch.oidx, batch.vidx, snap)  # type: ignore[arg-type]
    for (attr, key), v in batch.values.items():
        if isinstance(v, _Reindexed):
            v = v.restore(view.obs_names)
        _, outer = _split_convert(_key_convert(convert, attr, key))
        snap[(attr, key)] = outer(v) if callable(outer) else v
    return view


def _collate(batch: Any) -> Any:
    """Pass a batch (one view) through; in a worker, read it there and ship its values."""
    if isinstance(batch, AnnCollectionView) and get_worker_info() is not None:
        return _ship(batch)
    if isinstance(batch, list) and batch and all(isinstance(b, AnnCollectionView) for b in batch):
        msg = (
            "AnnLoader got a list of per-sample views; pass batch_size/sampler so that batches "
            "are fetched as one view (or give a collate_fn of your own)."
        )
        raise TypeError(msg)
    return batch


class _UnshipIter:
    """Wraps a DataLoader iterator: turns shipped worker batches back into views."""

    def __init__(self, it: Any, dataset: Any) -> None:
        self._it = it
        self._dataset = dataset

    def __iter__(self) -> _UnshipIter:
        return self

    def __next__(self) -> Any:
        batch = next(self._it)
        return _unship(batch, self._dataset) if isinstance(batch, _Shipped) else batch

    def __len__(self) -> int:
        return len(self._it)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._it, name)


def _as_collection(adatas: Any, kwargs: dict[str, Any]) -> AnnCollection | AnnCollectionView:
    coll_kwargs = {k: kwargs.pop(k) for k in _COLLECTION_KWARGS if k in kwargs}
    if isinstance(adatas, AnnCollection | AnnCollectionView):
        if coll_kwargs:
            msg = f"AnnCollection arguments {sorted(coll_kwargs)} cannot be used with an existing AnnCollection."
            raise TypeError(msg)
        return copy(adatas)
    if isinstance(adatas, AnnData | str | os.PathLike):
        adatas = [adatas]
    if isinstance(adatas, list | tuple | Mapping):
        return AnnCollection(adatas, **coll_kwargs)
    msg = f"Expected AnnData objects, paths or an AnnCollection; got {type(adatas).__name__} instead."
    raise TypeError(msg)


class AnnLoader(DataLoader):  # type: ignore[type-arg]
    """A :class:`torch.utils.data.DataLoader` over AnnData objects, an AnnCollection or files.

    Each batch is an :class:`~annstore.experimental.AnnCollectionView` of the batch's rows:
    ``batch.X``, ``batch.obs["key"]``, ``batch.obsm["key"]``, ``batch.layers["key"]`` are read
    (only those rows; backed files as coalesced range reads) and converted to tensors by the
    default converter. Rows are fetched once per batch, not once per sample.

    Parameters
    ----------
    adatas
        AnnData objects (a sequence or a mapping), paths of h5ad/zarr files (read backed: only
        annotations are loaded), or an :class:`AnnCollection` / view (copied, so its converters
        are not changed).
    batch_size
        Samples per batch (``None`` disables batching: each item is a one-row view).
    shuffle
        Reshuffle the rows at every epoch; pass ``generator=`` (a seeded
        :class:`torch.Generator`) for reproducible orders.
    use_default_converter
        Convert numeric values to tensors (applied after converters already set on an
        AnnCollection); ``pin_memory=True`` pins them.
    sparse_tensors
        With the default converter, turn sparse matrices (``X``, layers) into torch sparse CSR
        tensors instead of dense tensors (annstore only: anndata always densifies). The
        tensor shares the CSR's arrays, so a batch costs no dense ``n_obs x n_vars`` array.
    use_cuda
        Move tensors to the default CUDA device (with the default converter).
    kwargs
        AnnCollection arguments (``join_obs``, ``join_obsm``, ``join_vars``, ``label``, ``keys``,
        ``index_unique``, ``convert``, ``harmonize_dtypes``, ``indices_strict``) when ``adatas``
        is not a collection, and DataLoader arguments (``num_workers``, ``sampler``,
        ``batch_sampler``, ``drop_last``, ``generator``, ``collate_fn``, ...). With
        ``num_workers > 0`` each worker reopens backed files by path and returns batches
        already read and converted.
    """

    def __init__(
        self,
        adatas: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        use_default_converter: bool = True,
        use_cuda: bool = False,
        sparse_tensors: bool = False,
        **kwargs: Any,
    ) -> None:
        if sparse_tensors and not use_default_converter:
            msg = "sparse_tensors=True needs use_default_converter=True (it is an option of the default converter)."
            raise ValueError(msg)
        dataset = _as_collection(adatas, kwargs)
        if use_default_converter:
            pin_memory = kwargs.pop("pin_memory", False)
            top = partial(default_converter, use_cuda=use_cuda, pin_memory=pin_memory, sparse_tensors=sparse_tensors)
            keys = dict(dataset.attrs_keys, X=[])
            dataset.convert = _convert_on_top(dataset.convert, top, keys)
        kwargs.setdefault("collate_fn", _collate)
        generator = kwargs.get("generator")
        sampler = kwargs.pop("sampler", None)
        if "batch_sampler" in kwargs or batch_size is None:
            # The user's batch sampler / no batching: DataLoader's own handling
            # (AnnCollection.__getitems__ fetches a whole batch at once).
            super().__init__(dataset, batch_size=batch_size, shuffle=shuffle if sampler is None else None, sampler=sampler, **kwargs)  # type: ignore[arg-type]
            return
        if batch_size < 1:
            msg = f"Expected a positive batch_size; got {batch_size!r} instead."
            raise ValueError(msg)
        drop_last = kwargs.pop("drop_last", False)
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)  # type: ignore[arg-type]
        elif shuffle:
            msg = "sampler option is mutually exclusive with shuffle"
            raise ValueError(msg)
        batches = BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last)
        super().__init__(dataset, batch_size=None, sampler=batches, **kwargs)  # type: ignore[arg-type]

    def __iter__(self) -> Any:
        it = super().__iter__()
        if self.num_workers > 0 and self.collate_fn is _collate:
            return _UnshipIter(it, self.dataset)
        return it

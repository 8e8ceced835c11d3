"""Writers for out-of-core values: dask arrays and backed datasets, written block by block.

Dense values create the array at full shape, then write one block at a time. Sparse values
(dask arrays of scipy CSR/CSC blocks, :class:`CSRDataset`/:class:`CSCDataset`) create
growable ``data``/``indices`` arrays and append each block's values, writing ``indptr``
(64-bit) as they go. Peak memory is about one block, never the whole array.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io._spec import IOSpec

if TYPE_CHECKING:
    from ..io._registry import Registry
    from ..types import GroupLike

__all__ = ["ensure_registered", "register"]

ARRAY = IOSpec("array", "0.2.0")
CSR = IOSpec("csr_matrix", "0.1.0")
CSC = IOSpec("csc_matrix", "0.1.0")
#: Target number of stored values per block when copying backed datasets.
COPY_NNZ = 1 << 22
#: Growth chunk of the appendable ``data``/``indices`` arrays.
APPEND_CHUNK = 1 << 16

_OWNER = "annstore.backed"


def _growable(kw: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in kw.items() if k not in ("chunks", "maxshape")}
    out["chunks"] = (APPEND_CHUNK,)
    out["maxshape"] = (None,)
    return out


def write_sparse_blocks(
    parent: GroupLike,
    key: str,
    blocks: Iterator[Any],
    *,
    fmt: str,
    shape: tuple[int, int],
    dtype: Any,
    dataset_kwargs: dict[str, Any],
    total_nnz: int | None = None,
    indptr_dtype: Any = np.int64,
    indices_dtype: Any = None,
) -> IOSpec:
    """Write a CSR/CSC matrix given as consecutive blocks along its major axis.

    With ``total_nnz`` known up front, ``data``/``indices`` are created at their final size;
    otherwise they grow block by block.
    """
    from scipy import sparse

    g = parent.create_group(key)
    g.attrs["shape"] = [int(shape[0]), int(shape[1])]
    n_major, n_minor = (shape[0], shape[1]) if fmt == "csr" else (shape[1], shape[0])
    idx_dtype = np.dtype(indices_dtype) if indices_dtype is not None else (
        np.int32 if n_minor < np.iinfo(np.int32).max else np.int64
    )
    plain_kw = {k: v for k, v in dataset_kwargs.items() if k not in ("chunks", "maxshape")}
    if total_nnz is None:
        from ..io._guess import require_capability

        require_capability(parent.format, "supports_append", "a block-wise sparse write of unknown size")
        kw, start_len = _growable(dataset_kwargs), 0
    else:
        kw, start_len = plain_kw, int(total_nnz)
    data = g.create_array("data", shape=(start_len,), dtype=np.dtype(dtype), **kw)
    indices = g.create_array("indices", shape=(start_len,), dtype=idx_dtype, **kw)
    indptr_dtype = np.dtype(indptr_dtype)
    if total_nnz is not None and total_nnz > np.iinfo(indptr_dtype).max:
        indptr_dtype = np.dtype(np.int64)
    indptr = g.create_array("indptr", shape=(n_major + 1,), dtype=indptr_dtype, **plain_kw)
    nnz, row = 0, 0
    indptr[0:1] = np.zeros(1, dtype=indptr_dtype)
    for b in blocks:
        if not sparse.issparse(b):
            b = sparse.csr_matrix(b) if fmt == "csr" else sparse.csc_matrix(b)
        b = b.asformat(fmt)
        b.sum_duplicates()
        k = int(b.shape[0] if fmt == "csr" else b.shape[1])
        m = int(b.nnz)
        if m:
            if total_nnz is None:
                data.resize((nnz + m,))
                indices.resize((nnz + m,))
            elif nnz + m > total_nnz:
                msg = f"Blocks of {g.name!r} hold more than the {total_nnz} values announced."
                raise ValueError(msg)
            data[nnz : nnz + m] = b.data.astype(dtype, copy=False)
            indices[nnz : nnz + m] = b.indices.astype(idx_dtype, copy=False)
        if k:
            indptr[row + 1 : row + k + 1] = (b.indptr[1:].astype(np.int64) + nnz).astype(indptr_dtype)
        nnz += m
        row += k
    if row != n_major:
        msg = f"Expected {n_major} rows/columns of blocks for {g.name!r}; got {row}."
        raise ValueError(msg)
    if total_nnz is not None and nnz != total_nnz:
        msg = f"Expected {total_nnz} stored values for {g.name!r}; the blocks held {nnz}."
        raise ValueError(msg)
    return CSR if fmt == "csr" else CSC


def write_dense_blocks(
    parent: GroupLike,
    key: str,
    blocks: Iterator[tuple[tuple[slice, ...], Any]],
    *,
    shape: tuple[int, ...],
    dtype: Any,
    dataset_kwargs: dict[str, Any],
) -> IOSpec:
    """Create ``parent[key]`` at full ``shape`` and fill it from ``(selection, block)`` pairs."""
    arr = parent.create_array(key, shape=tuple(shape), dtype=np.dtype(dtype), **dataset_kwargs)
    for sel, block in blocks:
        arr[sel] = np.asarray(block)
    return ARRAY


# ------------------------------------------------------------------------------------ dask


def _dask_blocks(x: Any) -> Iterator[tuple[tuple[slice, ...], Any]]:
    starts = [np.r_[0, np.cumsum(c)[:-1]] for c in x.chunks]
    for idx in np.ndindex(*x.numblocks):
        sel = tuple(slice(int(starts[a][i]), int(starts[a][i] + x.chunks[a][i])) for a, i in enumerate(idx))
        yield sel, x.blocks[idx].compute()


def write_dask(parent: GroupLike, key: str, x: Any, *, ctx: Any, dataset_kwargs: dict[str, Any]) -> IOSpec:
    """Write a dask array block by block (dense or of scipy sparse blocks) without computing it whole."""
    from scipy import sparse

    meta = getattr(x, "_meta", None)
    if sparse.issparse(meta):
        fmt = meta.format if meta.format in ("csr", "csc") else "csr"
        minor = 1 if fmt == "csr" else 0
        if x.numblocks[minor] != 1:
            x = x.rechunk({minor: -1})
        return write_sparse_blocks(
            parent, key, (b for _, b in _dask_blocks(x)), fmt=fmt, shape=tuple(x.shape),  # type: ignore[arg-type]
            dtype=x.dtype, dataset_kwargs=dataset_kwargs,
            indices_dtype=np.int64,  # as anndata's block-appending dask writer
        )
    if x.dtype.kind in "OUS":
        return _write_computed(parent, key, x.compute(), ctx, dataset_kwargs)
    return write_dense_blocks(
        parent, key, _dask_blocks(x), shape=tuple(x.shape), dtype=x.dtype, dataset_kwargs=dataset_kwargs
    )


def _write_computed(parent: GroupLike, key: str, value: Any, ctx: Any, kw: dict[str, Any]) -> IOSpec | None:
    entry = ctx.registry.find_writer(value, parent.format)
    out = entry.func(parent, key, value, ctx=ctx, dataset_kwargs=kw)
    return out if isinstance(out, IOSpec) else entry.spec


# ----------------------------------------------------------------------- backed datasets


def write_backed_sparse(parent: GroupLike, key: str, ds: Any, *, ctx: Any, dataset_kwargs: dict[str, Any]) -> IOSpec:
    """Copy a :class:`CSRDataset`/:class:`CSCDataset` in bounded blocks of its major axis."""
    fmt = ds.format
    n_major = ds.shape[0] if fmt == "csr" else ds.shape[1]
    ip = np.asarray(ds._source.indptr())
    if int(ip[-1]) <= COPY_NNZ:  # small: the ordinary writer, byte-for-byte anndata's layout
        ctx.write_elem(parent, key, ds.to_memory(), dataset_kwargs=dataset_kwargs)
        return CSR if fmt == "csr" else CSC

    def blocks() -> Iterator[Any]:
        start = 0
        while start < n_major:
            stop = int(np.searchsorted(ip, ip[start] + COPY_NNZ, side="right")) - 1
            stop = min(max(stop, start + 1), n_major)
            yield ds[start:stop] if fmt == "csr" else ds[:, start:stop]
            start = stop

    return write_sparse_blocks(parent, key, blocks(), fmt=fmt, shape=ds.shape, dtype=ds.dtype,
                               dataset_kwargs=dataset_kwargs, total_nnz=int(ip[-1]),
                               indptr_dtype=ip.dtype)


def write_backed_dense(parent: GroupLike, key: str, arr: Any, *, ctx: Any, dataset_kwargs: dict[str, Any]) -> IOSpec | None:
    """Copy a :class:`BackedArray` in row blocks."""
    if arr.dtype.kind in "OUS" or arr.ndim == 0:
        return _write_computed(parent, key, arr.to_memory(), ctx, dataset_kwargs)
    row_bytes = max(int(np.prod(arr.shape[1:])) * arr.dtype.itemsize, 1)
    step = max(1, (64 << 20) // row_bytes)

    def blocks() -> Iterator[tuple[tuple[slice, ...], Any]]:
        for s in range(0, arr.shape[0], step):
            sel = (slice(s, min(s + step, arr.shape[0])),)
            yield sel, arr[sel]

    return write_dense_blocks(parent, key, blocks(), shape=arr.shape, dtype=arr.dtype,
                              dataset_kwargs=dataset_kwargs)


# ------------------------------------------------------------------------- registration


def register(registry: Registry) -> None:
    """Register the backed-dataset writers, and the dask writers when dask is imported."""
    from ._dense import BackedArray
    from ._sparse import CSCDataset, CSRDataset

    registry.register_writer(CSRDataset, CSR, write_backed_sparse, owner=_OWNER)
    registry.register_writer(CSCDataset, CSC, write_backed_sparse, owner=_OWNER)
    registry.register_writer(BackedArray, ARRAY, write_backed_dense, owner=_OWNER)
    registry.register_lazy("dask", _register_dask)


def _register_dask(registry: Registry) -> None:
    import dask.array as da

    registry.register_writer(da.Array, ARRAY, write_dask, owner=_OWNER)


def ensure_registered(*, dask: bool = False) -> None:
    """Make sure the live registry has these writers (also without the built-in hook line)."""
    from ..io._plugins import get_registry
    from ._sparse import CSRDataset

    reg = get_registry()
    if not any(t is CSRDataset for (t, _, _) in reg.writers):
        register(reg)
    if dask:
        import dask.array as da

        if not any(t is da.Array for (t, _, _) in reg.writers):
            _register_dask(reg)

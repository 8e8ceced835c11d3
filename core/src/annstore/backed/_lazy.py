"""Lazy reads: arrays into dask arrays, dataframes into xarray-backed ``Dataset2D``.

A dask task reads one block. Elements of a store opened from a path reopen it by path in
each task (``(_read_block, path, format, element, selection)``), so their graphs pickle and
run on ``dask.distributed`` workers; elements of in-memory or user-owned stores (a zarr
``MemoryStore``, an open ``zarr.Group``) are read through the node itself. Only the blocks a
computation touches are read.
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import CapabilityError

if TYPE_CHECKING:
    from .._anndata import AnnData

__all__ = ["ANNDATA_ELEMS", "read_elem_lazy", "read_lazy"]

#: The elements of an AnnData, as anndata names them (``AnnDataElem``).
ANNDATA_ELEMS: tuple[str, ...] = ("obs", "var", "obsm", "varm", "obsp", "varp", "layers", "X", "raw", "uns")

#: Default block length along the major (row) axis.
DEFAULT_CHUNK = 1000

_LAZY_ENCODINGS = {"array", "csr_matrix", "csc_matrix"}


# ------------------------------------------------------------------ block reads


def _read_block(path: Any, fmt: str, name: str, selection: tuple[slice, ...]) -> Any:
    """Task body: open ``path``, read ``selection`` of element ``name``, close."""
    from ..io._api import open_store

    with open_store(path, format=fmt, mode="r") as root:
        node = root[name] if name not in ("", "/") else root
        return _read_node_block(node, selection)


def _read_node_block(node: Any, selection: tuple[slice, ...]) -> Any:
    """Task body for stores without a path: read ``selection`` of ``node`` directly."""
    if hasattr(node, "create_group"):
        from ._sparse import sparse_dataset

        return sparse_dataset(node, should_cache_indptr=False)[selection]
    out = node[selection]
    return np.asarray(out)


def _chunk_layout(chunk: int, n: int) -> tuple[int, ...]:
    if n == 0:
        return (0,)
    chunk = max(int(chunk), 1)
    q, r = divmod(n, chunk)
    return (chunk,) * q + ((r,) if r else ())


def _normalize_chunks(chunks: Any, shape: tuple[int, ...], default: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    if chunks is None:
        chunks = default
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    chunks = tuple(chunks)
    if len(chunks) != len(shape):
        from dask.array.core import normalize_chunks

        return normalize_chunks(chunks, shape=shape)
    out = []
    for c, n in zip(chunks, shape, strict=True):
        if isinstance(c, tuple):
            out.append(c)
        else:
            out.append(_chunk_layout(n if c in (None, -1) else c, n))
    return tuple(out)


def _reopenable(node: Any) -> tuple[str, str] | None:
    """``(path, format)`` when tasks can reopen ``node``'s store by path, else ``None``."""
    path = getattr(node, "filename", None)
    if path is None:
        return None
    p = str(path)
    if "://" in p or not Path(p).exists():  # remote and in-memory stores: read through the node
        return None
    return p, node.format


def _node_info(elem: Any) -> tuple[Any, str, str]:
    from ..io._dispatch import as_node

    node = as_node(elem)
    path = getattr(node, "filename", None)
    if path is None:
        msg = (
            f"Expected an element of a store opened from a path (lazy tasks reopen it); "
            f"got {node.name!r} of a {node.format} store without a filename."
        )
        raise CapabilityError(msg)
    return node, str(path), node.format


def _dask_from_blocks(node: Any, shape: tuple[int, ...], dtype: np.dtype, meta: Any, norm: tuple[tuple[int, ...], ...],
                      dataset: Any = None) -> Any:
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    where = _reopenable(node)
    ident = f"{where or id(node)}-{node.name}-{norm}-{dtype}"
    name = "annstore-read-" + hashlib.sha1(ident.encode()).hexdigest()[:16]
    starts = [np.r_[0, np.cumsum(c)[:-1]].tolist() if len(c) else [0] for c in norm]
    from ._ship import Shipped, read_shipped_block

    shipped = Shipped(dataset, is_node=False) if dataset is not None else Shipped(node, is_node=True)
    dsk: dict[Any, Any] = {}
    for idx in itertools.product(*(range(len(c)) for c in norm)):
        sel = tuple(slice(int(starts[a][i]), int(starts[a][i] + norm[a][i])) for a, i in enumerate(idx))
        if where is not None:
            dsk[(name, *idx)] = (_read_block, where[0], where[1], node.name, sel)
        else:  # embedded: read in place here, pickled to a worker (see _ship)
            dsk[(name, *idx)] = (read_shipped_block, shipped, sel)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=norm, dtype=dtype, meta=meta)


def _sparse_lazy(node: Any, sfmt: str, chunks: Any) -> Any:
    from scipy import sparse

    from ..io.encodings._sparse import check_sparse_node

    s = node.attrs.get("shape", node.attrs.get("h5sparse_shape"))
    shape = (int(s[0]), int(s[1]))
    dataset = None
    if _reopenable(node) is None:
        # no path to reopen: the tasks share one dataset, so each array's metadata is read once
        # (its source checks the arrays against the shape when it opens them)
        from ._sparse import sparse_dataset

        dataset = sparse_dataset(node, should_cache_indptr=False)
        dtype = np.dtype(dataset.dtype)
    else:
        # shape attribute and array lengths agree (metadata only, each array opened once)
        data_node = check_sparse_node(node, sfmt, shape)[0]
        dtype = np.dtype(data_node.dtype)
    major, minor = (1, 0) if sfmt == "csc" else (0, 1)
    stride = DEFAULT_CHUNK
    if chunks is not None:
        if len(chunks) != 2:
            msg = "`chunks` must be a tuple of two integers"
            raise ValueError(msg)
        if chunks[minor] not in {shape[minor], -1, None}:
            msg = (
                "Only the major axis can be chunked. "
                f"Try setting chunks to {((-1, DEFAULT_CHUNK) if sfmt == 'csc' else (DEFAULT_CHUNK, -1))}"
            )
            raise ValueError(msg)
        stride = chunks[major] if chunks[major] not in {None, -1} else shape[major]
    layout = [(shape[0],), (shape[1],)]
    layout[major] = _chunk_layout(stride, shape[major])
    cls = sparse.csr_matrix if sfmt == "csr" else sparse.csc_matrix
    return _dask_from_blocks(node, shape, dtype, cls((0, 0), dtype=dtype), tuple(layout), dataset=dataset)


def _dense_lazy(node: Any, chunks: Any) -> Any:
    shape = tuple(int(n) for n in node.shape)
    dtype = np.dtype(node.dtype)
    on_disk = getattr(node, "chunks", None)
    if chunks is not None:
        chunks = tuple(chunks)
        if len(chunks) != len(shape):
            msg = f"`chunks` must have one entry per dimension ({len(shape)}); got {chunks!r}."
            raise ValueError(msg)
        default = tuple(n if c in (None, -1) else c for c, n in zip(chunks, shape, strict=True))
    elif on_disk:
        default = tuple(int(c) for c in on_disk)
    else:
        default = tuple(min(DEFAULT_CHUNK, n) for n in shape)
    norm = _normalize_chunks(default, shape, default)
    return _dask_from_blocks(node, shape, dtype, np.empty((0,) * len(shape), dtype=dtype), norm)


def _string_lazy(node: Any, chunks: Any) -> Any:
    import dask.array as da

    from ..io._dispatch import read_elem

    values = read_elem(node)
    shape = tuple(int(n) for n in np.shape(values))
    if chunks is not None:
        c = tuple(n if c in (None, -1) else c for c, n in zip(chunks, shape, strict=True))
    else:
        on_disk = getattr(node, "chunks", None)
        c = tuple(on_disk) if on_disk else tuple(min(DEFAULT_CHUNK, n) for n in shape)
    return da.from_array(values, chunks=_normalize_chunks(c, shape, c))


# ------------------------------------------------------------------ dataframes


def _store_ref(node: Any) -> Any:
    where = _reopenable(node)
    return Path(where[0]) if where is not None else node


def _lazy_column(node: Any, chunks: Any) -> Any:
    enc = node.attrs.get("encoding-type")
    if enc == "categorical":
        from ._lazy_arrays import CategoricalArray

        return CategoricalArray(
            codes=node["codes"], categories=node["categories"], ordered=bool(node.attrs.get("ordered", False)),
            base_path_or_zarr_group=_store_ref(node), elem_name=node.name,
        )
    if enc is not None and enc.startswith("nullable-"):
        from ._lazy_arrays import MaskedArray

        return MaskedArray(
            values=node["values"], mask=node["mask"], dtype_str=enc,
            base_path_or_zarr_group=_store_ref(node), elem_name=node.name,
        )
    return read_elem_lazy(node, chunks=chunks)


def _read_dataframe_lazy(node: Any, *, use_range_index: bool = False, chunks: Any = None) -> Any:
    import xarray as xr

    from .._xarray import DUMMY_RANGE_INDEX_KEY, Dataset2D
    from ..io._dispatch import read_elem
    from ._lazy_arrays import CategoricalArray, MaskedArray

    index_key = node.attrs["_index"]
    order = list(node.attrs.get("column-order", []))
    if isinstance(order, str):
        order = [order]
    cols: dict[str, Any] = {}
    for k in [*order, index_key]:
        if k == index_key and not use_range_index:
            idx = read_elem(node[k])
            cols[k] = pd.Index(np.asarray(idx, dtype=object) if pd.api.types.is_string_dtype(idx) else idx)
            if pd.api.types.is_string_dtype(cols[k]):
                cols[k] = pd.Index(cols[k].map(lambda v: v if v is None or v is pd.NA else str(v)).astype(object)
                                   ).astype("str")
        else:
            cols[k] = _lazy_column(node[k], chunks)
    if not use_range_index:
        dim = index_key
        index = cols[dim]
    else:
        dim = DUMMY_RANGE_INDEX_KEY
        n = cols[index_key].shape[0]
        index = pd.RangeIndex(n).astype("str")
    variables: dict[str, Any] = {}
    for k, v in cols.items():
        if k == dim:
            variables[k] = xr.Variable([dim], data=index)
        elif isinstance(v, CategoricalArray | MaskedArray):
            variables[k] = xr.Variable(
                [dim], data=xr.core.indexing.LazilyIndexedArray(v),
                attrs={
                    "base_path_or_zarr_group": v.base_path_or_zarr_group,
                    "elem_name": v.elem_name,
                    "is_nullable_string": isinstance(v, MaskedArray) and isinstance(v.dtype, np.dtypes.StringDType),
                },
            )
        elif hasattr(v, "dask") or hasattr(v, "__dask_graph__"):
            variables[k] = xr.Variable([dim], data=v)
        else:
            msg = f"Could not read {k}: {v} from into xarray Dataset2D"
            raise ValueError(msg)
    if use_range_index:
        variables[DUMMY_RANGE_INDEX_KEY] = xr.Variable([DUMMY_RANGE_INDEX_KEY], data=index)
    ds = Dataset2D(xr.Dataset(variables))
    ds.is_backed = True
    ds.true_index_dim = index_key
    return ds


# ------------------------------------------------------------------ public API


def read_elem_lazy(elem: Any, chunks: Any = None, **kwargs: Any) -> Any:
    """Read a stored element lazily.

    Dense arrays become dask arrays of numpy blocks (chunked as on disk by default);
    ``csr_matrix``/``csc_matrix`` elements dask arrays of scipy sparse blocks (1000 rows,
    resp. columns, per block by default); string arrays dask arrays over the loaded strings;
    dataframes :class:`~annstore.experimental.backed.Dataset2D` objects whose columns are dask
    arrays, :class:`~annstore.experimental.backed.CategoricalArray` or
    :class:`~annstore.experimental.backed.MaskedArray` (needs xarray); categorical and
    nullable elements those lazy arrays. Other elements (mappings, scalars, awkward arrays)
    are read eagerly. Blocks of a store opened from a path are read by reopening it, so the
    graph pickles and runs on ``dask.distributed``.

    Parameters
    ----------
    elem
        The stored element: an annstore node or a native ``h5py``/``zarr`` object.
    chunks
        Block shape (dask's ``chunks``); ``None`` or ``-1`` on an axis means the whole axis.
        For sparse matrices only the major axis may be chunked.
    **kwargs
        ``use_range_index`` (dataframes): index the dataset by a range instead of reading
        the stored index (which is kept as a lazy column).

    Returns
    -------
    The lazy element.
    """
    from ..io._dispatch import as_node, read_elem
    from ._encodings import ensure_registered

    use_range_index = kwargs.pop("use_range_index", False)
    if kwargs:
        msg = (
            f"Keyword argument {next(iter(kwargs))} passed to read_elem_lazy are not supported by the "
            "registered read function."
        )
        raise ValueError(msg)
    ensure_registered(dask=True)
    node = as_node(elem)
    enc = node.attrs.get("encoding-type")
    if hasattr(node, "create_group"):
        from ._source import sparse_format_of

        if enc == "dataframe":
            from .._xarray import requires_xarray

            return requires_xarray(_read_dataframe_lazy)(node, use_range_index=use_range_index, chunks=chunks)
        if enc == "categorical" or (enc is not None and enc.startswith("nullable-")):
            from .._xarray import requires_xarray

            return requires_xarray(_lazy_column)(node, chunks)
        sfmt = sparse_format_of(node)  # type: ignore[arg-type]
        if sfmt is None:
            return read_elem(node)
        return _sparse_lazy(node, sfmt, chunks)
    if enc == "string-array" or (enc in (None, "array") and np.dtype(node.dtype).kind in "OUST"):  # type: ignore[union-attr]
        return _string_lazy(node, chunks)
    if enc not in (None, "array"):
        return read_elem(node)
    if np.dtype(node.dtype).kind == "V":  # type: ignore[union-attr]
        return read_elem(node)
    return _dense_lazy(node, chunks)


def _consolidated(root: Any) -> bool:
    """Whether a zarr root was opened from consolidated metadata (True for other formats)."""
    native = getattr(root, "native", None)
    meta = getattr(native, "metadata", None)
    if meta is None or not hasattr(meta, "consolidated_metadata"):
        return True
    return meta.consolidated_metadata is not None


def _open_root(store: Any, fmt: str | None, storage_options: Any = None) -> tuple[Any, bool]:
    """Open ``store`` read-only: ``(root, owned)`` where ``owned`` means we must close it."""
    from ..io._dispatch import as_node
    from ..io._guess import guess_format
    from ..io._plugins import open_store_root

    if not isinstance(store, str | Path) and hasattr(store, "__fspath__") is False:
        try:
            return as_node(store), False
        except TypeError:
            pass
    if fmt is None:
        if isinstance(store, str | Path) and str(store).endswith(".h5ad"):
            fmt = "h5ad"
        else:
            try:
                fmt = guess_format(store)
            except Exception:  # noqa: BLE001 - mappings and stores: zarr
                fmt = "zarr"
    root = open_store_root(store, format=fmt, mode="r", storage_options=dict(storage_options or {}))
    if root is None:
        from ..io._api import require_format

        require_format(fmt)
        msg = f"The {fmt!r} plugin did not open {str(store)!r}."
        raise CapabilityError(msg)
    return root, True


def read_lazy(
    store: Any,
    *,
    load_annotation_index: bool = True,
    format: str | None = None,
    chunks: Any = None,
    storage_options: Any = None,
) -> AnnData:
    """Read an AnnData lazily, including ``obs`` and ``var``.

    X, layers, obsm/varm/obsp/varp arrays, raw.X and arrays in uns become dask arrays;
    obs, var and dataframes in obsm/varm become
    :class:`~annstore.experimental.backed.Dataset2D` objects whose columns read lazily
    (categorical and nullable columns as
    :class:`~annstore.experimental.backed.CategoricalArray` /
    :class:`~annstore.experimental.backed.MaskedArray`). Nothing but metadata, the
    annotation indices and categories on use is read before a computation asks for it;
    awkward arrays and scalars are read into memory. Needs xarray and dask.

    Parameters
    ----------
    store
        Path of an ``.h5ad`` file or a zarr store, a zarr store object or mapping (e.g. an
        fsspec mapper), or an open ``zarr.Group`` / ``h5py.File`` / ``h5py.Group`` (which
        must stay open while the result is used). Zarr stores are best consolidated: an
        unconsolidated one warns. The file of an ``.h5ad`` path stays open, attached to
        the result as ``adata.file`` (close it when done).
    load_annotation_index
        Whether to read the obs/var indices. If ``False``, a range index is used in the
        datasets and the true index stays on disk.
    format
        Format name (annstore's extension); guessed when omitted.
    chunks
        Block shape for X, layers and other arrays (see :func:`read_elem_lazy`).
    storage_options
        For a URL ``store`` (``s3://...``; annstore's extension): options of its fsspec
        filesystem (endpoint, credentials). The tasks of the result carry them, so they
        reopen the store on any ``dask.distributed`` worker.

    Returns
    -------
    The lazily read :class:`~annstore.AnnData`.

    Examples
    --------
    >>> from annstore.experimental import read_lazy
    >>> lazy = read_lazy("pbmc.zarr")  # doctest: +SKIP
    >>> b_cells = lazy[lazy.obs["cell_type"] == "B"]  # doctest: +SKIP
    >>> b_cells.to_memory()  # reads only the selected rows  # doctest: +SKIP
    """
    from .._anndata import AnnData
    from .._settings import settings
    from .._xarray import requires_xarray
    from ..io._dispatch import ReadContext
    from ._encodings import ensure_registered

    requires_xarray(lambda: None)()
    ensure_registered(dask=True)
    is_h5_path = isinstance(store, str | Path) and Path(store).suffix == ".h5ad"
    root, owned = _open_root(store, format, storage_options)
    if not _consolidated(root):
        msg = "Did not read zarr as consolidated. Consider consolidating your metadata."
        warnings.warn(msg, UserWarning, stacklevel=2)
    ctx = ReadContext()

    def read(node: Any, name: str) -> Any:
        enc = node.attrs.get("encoding-type")
        is_grp = hasattr(node, "create_group")
        path = "/" + str(getattr(node, "name", "")).strip("/")
        if enc in {"anndata", "raw"} or (is_grp and enc is None and name in ("", "/")):
            out = {}
            for k in ANNDATA_ELEMS:  # one metadata read per element (unconsolidated stores)
                try:
                    child = node[k]
                except KeyError:
                    continue
                out[k] = read(child, k)
            return out
        if enc == "dataframe":
            # anndata's rule, by path prefix: obs, var, obsm/*, varm/*, raw/var, raw/varm/*
            if path[:4] in {"/obs", "/var"} or path[:8] in {"/raw/obs", "/raw/var"}:
                return read_elem_lazy(node, use_range_index=not load_annotation_index)
            return read_elem_lazy(node)
        if enc in {"csr_matrix", "csc_matrix", "array", "string-array", "categorical"} or (
            enc is not None and "nullable" in enc
        ):
            ch = chunks if path == "/X" or path.startswith("/layers/") else None
            if ch is not None and enc == "csc_matrix":  # ``chunks`` is (rows, cols): CSC splits columns
                ch = tuple(ch)[::-1]
            return read_elem_lazy(node, chunks=ch)
        if enc == "dict" or (is_grp and enc is None):
            return {k: read(node[k], k) for k in node.keys()}
        return ctx.read_elem(node)

    # the root stays open: lazy categorical/nullable columns read through its nodes
    with settings.override(check_uniqueness=False) if not load_annotation_index else nullcontext():
        d = read(root, "/")
        raw = d.pop("raw", None)
        adata = AnnData(**d)
        if raw is not None:
            adata.raw = AnnData(X=raw.get("X"), var=raw.get("var"), varm=raw.get("varm"))
    if owned and is_h5_path:
        from ._file import AnnDataFileManager

        where = store if "://" in str(store) else Path(store)  # a URL stays a URL
        adata._filename = where
        adata.file = AnnDataFileManager(adata, where, "r", format="h5ad", storage_options=storage_options)
    return adata


def _lazy_or_eager(node: Any, ctx: Any) -> Any:
    enc = node.attrs.get("encoding-type")
    if enc in _LAZY_ENCODINGS and not (enc == "array" and np.dtype(node.dtype).kind in "OUS"):
        return read_elem_lazy(node)
    return ctx.read_elem(node)

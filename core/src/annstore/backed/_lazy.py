"""Lazy reads into dask arrays whose tasks reopen the store by path (so graphs run on a cluster).

Every task is ``(_read_block, path, format, element, selection)``: it opens the store read-only,
reads one block and closes the store. No open handle is captured in a graph, so graphs pickle
and run on ``dask.distributed`` workers in other processes (any path the workers can open).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CapabilityError

if TYPE_CHECKING:
    from .._anndata import AnnData

__all__ = ["read_elem_lazy", "read_lazy"]

#: Default block length along the major (row) axis.
DEFAULT_CHUNK = 1000

_LAZY_ENCODINGS = {"array", "csr_matrix", "csc_matrix"}


def _read_block(path: Any, fmt: str, name: str, selection: tuple[slice, ...]) -> Any:
    """Task body: open ``path``, read ``selection`` of element ``name``, close."""
    from ..io._api import open_store

    with open_store(path, format=fmt, mode="r") as root:
        node = root[name] if name not in ("", "/") else root
        if hasattr(node, "create_group"):
            from ._sparse import sparse_dataset

            return sparse_dataset(node, should_cache_indptr=False)[selection]
        return np.asarray(node[selection])


def _normalize_chunks(chunks: Any, shape: tuple[int, ...], default: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    from dask.array.core import normalize_chunks

    if chunks is None:
        chunks = default
    elif isinstance(chunks, tuple | list):
        chunks = tuple(n if c in (None, -1) else c for c, n in zip(chunks, shape, strict=False))
    return normalize_chunks(chunks, shape=shape)


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


def read_elem_lazy(elem: Any, chunks: Any = None) -> Any:
    """Read a stored array lazily, as a dask array.

    Dense arrays become dask arrays of numpy blocks; ``csr_matrix``/``csc_matrix`` elements
    dask arrays of scipy sparse blocks (CSR blocks split along rows, CSC along columns by
    default). Every task reopens the file by path, so the graph pickles and runs on
    ``dask.distributed``. Other elements (dataframes, mappings, scalars) are read eagerly.

    Parameters
    ----------
    elem
        The stored element: an annstore node or a native ``h5py``/``zarr`` object.
    chunks
        Block shape (dask's ``chunks``); ``None`` or ``-1`` on an axis means the whole axis.
        Defaults to 1000 rows (CSR, dense) or 1000 columns (CSC) per block.
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph
    from scipy import sparse

    from ..io._dispatch import read_elem
    from ._encodings import ensure_registered

    ensure_registered(dask=True)
    node, path, fmt = _node_info(elem)
    enc = node.attrs.get("encoding-type")
    if hasattr(node, "create_group"):
        from ._source import sparse_format_of

        sfmt = sparse_format_of(node)  # type: ignore[arg-type]
        if sfmt is None:
            return read_elem(node)
        s = node.attrs.get("shape", node.attrs.get("h5sparse_shape"))
        shape: tuple[int, ...] = (int(s[0]), int(s[1]))
        dtype = np.dtype(node["data"].dtype)  # type: ignore[index]
        default = (min(DEFAULT_CHUNK, max(shape[0], 1)), shape[1]) if sfmt == "csr" else (
            shape[0], min(DEFAULT_CHUNK, max(shape[1], 1)))
        cls = sparse.csr_matrix if sfmt == "csr" else sparse.csc_matrix
        meta = cls((0, 0), dtype=dtype)
    else:
        if enc not in (None, "array") or np.dtype(node.dtype).kind in "OUS":  # type: ignore[union-attr]
            return read_elem(node)
        shape = tuple(int(n) for n in node.shape)  # type: ignore[union-attr]
        dtype = np.dtype(node.dtype)  # type: ignore[union-attr]
        default = tuple(min(DEFAULT_CHUNK, max(n, 1)) if k == 0 else n for k, n in enumerate(shape))
        meta = np.empty((0,) * len(shape), dtype=dtype)
    norm = _normalize_chunks(chunks, shape, default)
    token = f"read-{fmt}-{path}-{node.name}-{norm}".encode()
    import hashlib

    name = "annstore-read-" + hashlib.sha1(token).hexdigest()[:16]
    starts = [np.r_[0, np.cumsum(c)[:-1]].tolist() for c in norm]
    dsk: dict[Any, Any] = {}
    for idx in itertools.product(*(range(len(c)) for c in norm)):
        sel = tuple(slice(int(starts[a][i]), int(starts[a][i] + norm[a][i])) for a, i in enumerate(idx))
        dsk[(name, *idx)] = (_read_block, path, fmt, node.name, sel)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=norm, dtype=dtype, meta=meta)


def read_lazy(path_or_store: Any, *, format: str | None = None, chunks: Any = None) -> AnnData:
    """Read an AnnData lazily: X, layers, obsm/varm/obsp/varp arrays and raw.X as dask arrays.

    obs, var and uns (and dataframes inside obsm/varm) are read into memory. Tasks reopen the
    store by path, so the arrays compute on a ``dask.distributed`` cluster.

    Parameters
    ----------
    path_or_store
        Path of an h5ad file or zarr store (or any hierarchical format).
    format
        Format name; guessed when omitted.
    chunks
        Passed to :func:`read_elem_lazy` for X, layers and raw.X.
    """
    from .._anndata import AnnData
    from ..io._api import open_store
    from ..io._dispatch import ReadContext
    from ..io.encodings._anndata import _read_frame
    from ._encodings import ensure_registered

    ensure_registered(dask=True)
    with open_store(path_or_store, format=format, mode="r") as root:
        ctx = ReadContext()
        d: dict[str, Any] = {}
        for k in ("obs", "var"):
            if k in root:
                d[k] = _read_frame(root[k], ctx)
        if "uns" in root:
            d["uns"] = ctx.read_elem(root["uns"])
        if "X" in root:
            d["X"] = read_elem_lazy(root["X"], chunks)
        if "layers" in root:
            g = root["layers"]
            d["layers"] = {k: read_elem_lazy(g[k], chunks) for k in g.keys()}
        for m in ("obsm", "varm", "obsp", "varp"):
            if m in root:
                g = root[m]
                d[m] = {k: _lazy_or_eager(g[k], ctx) for k in g.keys()}
        if "raw" in root:
            g = root["raw"]
            raw: dict[str, Any] = {}
            if "X" in g:
                raw["X"] = read_elem_lazy(g["X"], chunks)
            if "var" in g:
                raw["var"] = _read_frame(g["var"], ctx)
            if "varm" in g:
                raw["varm"] = {k: _lazy_or_eager(g["varm"][k], ctx) for k in g["varm"].keys()}
            d["raw"] = raw
    return AnnData(**d)


def _lazy_or_eager(node: Any, ctx: Any) -> Any:
    enc = node.attrs.get("encoding-type")
    if enc in _LAZY_ENCODINGS and not (enc == "array" and np.dtype(node.dtype).kind in "OUS"):
        return read_elem_lazy(node)
    return ctx.read_elem(node)

"""AnnData encodings: ``anndata`` 0.1.0 (the top-level layout) and ``raw`` 0.1.0.

On-disk layout
--------------
``anndata`` 0.1.0
    A group (the file's root, or a nested element in ``uns``) with children ``X`` (absent
    when ``X is None``), ``obs`` and ``var`` (dataframes), ``obsm``, ``varm``, ``obsp``,
    ``varp``, ``layers`` and ``uns`` (``dict`` groups, written even when empty) and ``raw``
    (only when set).
``raw`` 0.1.0
    A group with ``X``, ``var`` (dataframe) and ``varm`` (dict).

Reading also accepts the legacy layouts anndata still reads: ``obs``/``var`` as structured
arrays (pre-0.7) with categories in ``uns['<col>_categories']``, and ``raw.X``/``raw.var``/
``raw.varm`` as top-level keys instead of a ``raw`` group.

Options (``ctx.options``): on write, ``as_dense`` (``"X"``, ``"raw/X"``) stores those sparse
matrices densely; on read, ``as_sparse`` (``"X"``, ``"raw/X"``) turns those dense arrays into
``as_sparse_fmt`` (``csr_matrix`` by default; ``csc_matrix`` allowed), ``chunk_size`` rows
(or columns) at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from .._spec import IOSpec
from . import ENCODINGS
from ._common import invalid

if TYPE_CHECKING:
    from ..._anndata import AnnData
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["ANNDATA", "RAW", "read_anndata_root", "write_anndata_into"]

ANNDATA = IOSpec("anndata", "0.1.0")
RAW = IOSpec("raw", "0.1.0")

_MAPPINGS = ("obsm", "varm", "obsp", "varp", "layers", "uns")


def _option_keys(ctx: Any, name: str) -> set[str]:
    v = ctx.options.get(name, ()) or ()
    if isinstance(v, str):
        v = (v,)
    out = set()
    for k in v:
        if k in ("raw.X", ("raw", "X")):
            k = "raw/X"
        if k not in ("X", "raw/X"):
            msg = f"Only 'X' and 'raw/X' can be given to {name}; got {k!r} instead."
            raise NotImplementedError(msg)
        out.add(k)
    return out


def _maybe_dense(x: Any, key: str, dense: set[str]) -> Any:
    if key in dense and (sparse.issparse(x) or hasattr(x, "to_memory")):
        x = x.to_memory() if hasattr(x, "to_memory") and not sparse.issparse(x) else x
        return np.asarray(x.toarray())
    return x


def _dictify(m: Any) -> dict[str, Any]:
    if m is None:
        return {}
    return dict(m.items()) if isinstance(m, Mapping) or hasattr(m, "items") else dict(m)


def _check_2d(adata: Any) -> None:
    layers = _dictify(adata.layers)
    for name, x in [("X", adata.X), *((f"layers/{k}", v) for k, v in layers.items() if k is not None)]:
        if x is not None and len(getattr(x, "shape", ())) != 2:
            msg = f"Expected a 2-d {name}; got shape {getattr(x, 'shape', None)} instead."
            raise ValueError(msg)


def write_anndata_into(
    root: GroupLike, adata: AnnData, *, ctx: WriteContext, dataset_kwargs: Mapping[str, Any]
) -> None:
    """Write ``adata``'s elements into the existing group ``root`` and stamp its attributes."""
    dense = _option_keys(ctx, "as_dense")
    kw = dict(dataset_kwargs)
    _check_2d(adata)
    X = adata.X
    layers = _dictify(adata.layers)
    if None in layers:  # anndata 0.13 exposes X as layers[None]
        x_layer = layers.pop(None)
        X = x_layer if X is None else X
    if X is not None:
        X = _maybe_dense(X, "X", dense)
        x_kw = kw
        x_chunks = ctx.options.get("x_chunks")
        if x_chunks is not None and isinstance(X, np.ndarray):  # write_zarr(chunks=): dense X only
            x_kw = dict(kw, chunks=tuple(x_chunks))
        ctx.write_elem(root, "X", X, dataset_kwargs=x_kw)
    ctx.write_elem(root, "obs", adata.obs, dataset_kwargs=kw)
    ctx.write_elem(root, "var", adata.var, dataset_kwargs=kw)
    for name in _MAPPINGS:
        value = layers if name == "layers" else _dictify(getattr(adata, name))
        ctx.write_elem(root, name, value, dataset_kwargs=kw)
    raw = adata.raw
    if raw is not None:
        if "raw/X" in dense:
            g = root.create_group("raw") if "raw" not in root else root["raw"]
            _write_raw_children(g, raw, ctx, kw, dense=True)
            g.attrs.update(RAW.to_attrs())
        else:
            ctx.write_elem(root, "raw", raw, dataset_kwargs=kw)
    root.attrs.update(ANNDATA.to_attrs())


def _register_writers() -> None:
    from ..._anndata import AnnData
    from ..._raw import Raw

    @ENCODINGS.writer(AnnData, ANNDATA)
    def write_anndata(
        parent: GroupLike, key: str, adata: AnnData, *, ctx: WriteContext,
        dataset_kwargs: dict[str, Any],
    ) -> None:
        """Write an AnnData nested in a group (e.g. in ``uns``)."""
        write_anndata_into(parent.create_group(key), adata, ctx=ctx, dataset_kwargs=dataset_kwargs)

    @ENCODINGS.writer(Raw, RAW)
    def write_raw(
        parent: GroupLike, key: str, raw: Raw, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
    ) -> None:
        """Write ``raw``: its X, var and varm."""
        _write_raw_children(parent.create_group(key), raw, ctx, dataset_kwargs, dense=False)


def _write_raw_children(
    g: GroupLike, raw: Any, ctx: WriteContext, kw: dict[str, Any], *, dense: bool
) -> None:
    x = raw.X
    if dense:
        x = _maybe_dense(x, "raw/X", {"raw/X"})
    ctx.write_elem(g, "X", x, dataset_kwargs=kw)
    ctx.write_elem(g, "var", raw.var, dataset_kwargs=kw)
    ctx.write_elem(g, "varm", _dictify(raw.varm), dataset_kwargs=kw)


_register_writers()


# ----------------------------------------------------------------------------------- reading


def _dense_as_sparse(node: Any, ctx: Any) -> Any:
    fmt = ctx.options.get("as_sparse_fmt") or sparse.csr_matrix
    chunk = int(ctx.options.get("chunk_size", 6000) or 6000)
    if fmt not in (sparse.csr_matrix, sparse.csc_matrix):
        msg = "Dense arrays can only be read as csr_matrix or csc_matrix."
        raise NotImplementedError(msg)
    if hasattr(node, "create_group"):  # already sparse on disk
        return ctx.read_elem(node)
    shape = tuple(node.shape)
    if len(shape) != 2:
        raise invalid(node, f"expected a 2-d array to read as sparse; got shape {shape}.")
    axis = 0 if fmt is sparse.csr_matrix else 1
    parts = []
    for start in range(0, max(shape[axis], 1), chunk):
        stop = min(start + chunk, shape[axis])
        sel = (slice(start, stop), slice(None)) if axis == 0 else (slice(None), slice(start, stop))
        parts.append(fmt(np.asarray(node[sel])))
    stack = sparse.vstack if axis == 0 else sparse.hstack
    return fmt(stack(parts, format="csr" if axis == 0 else "csc"))


def _read_x(node: Any, key: str, ctx: Any, as_sparse: set[str]) -> Any:
    if key in as_sparse:
        return _dense_as_sparse(node, ctx)
    return ctx.read_elem(node)


def _read_frame(node: Any, ctx: Any) -> Any:
    from ._legacy import read_legacy_dataframe

    if not hasattr(node, "create_group"):
        return read_legacy_dataframe(node)
    return ctx.read_elem(node)


def _read_raw_dict(root: GroupLike, ctx: ReadContext, as_sparse: set[str]) -> dict[str, Any] | None:
    legacy = [k for k in root.keys() if k.startswith("raw.")]
    if "raw" in root:
        if legacy:
            raise invalid(root, f"found both a 'raw' group and legacy raw elements {legacy!r}.")
        g = root["raw"]
        raw: dict[str, Any] = {}
        if "X" in g:
            raw["X"] = _read_x(g["X"], "raw/X", ctx, as_sparse)
        if "var" in g:
            raw["var"] = _read_frame(g["var"], ctx)
        if "varm" in g:
            raw["varm"] = ctx.read_elem(g["varm"])
        return raw
    if not legacy:
        return None
    raw = {}
    if "raw.X" in root:
        raw["X"] = _read_x(root["raw.X"], "raw/X", ctx, as_sparse)
    if "raw.var" in root:
        raw["var"] = _read_frame(root["raw.var"], ctx)
    if "raw.varm" in root:
        raw["varm"] = ctx.read_elem(root["raw.varm"])
    return raw


def read_anndata_root(root: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read the AnnData stored in ``root`` (current and legacy layouts)."""
    from ..._anndata import AnnData
    from ._legacy import clean_legacy_uns, move_adjacency_matrices

    as_sparse = _option_keys(ctx, "as_sparse")
    d: dict[str, Any] = {}
    if "X" in root:
        d["X"] = _read_x(root["X"], "X", ctx, as_sparse)
    legacy_frames = False
    for k in ("obs", "var"):
        if k in root:
            legacy_frames |= not hasattr(root[k], "create_group")
            d[k] = _read_frame(root[k], ctx)
    for k in _MAPPINGS:
        if k in root:
            d[k] = ctx.read_elem(root[k])
    raw = _read_raw_dict(root, ctx, as_sparse)
    if legacy_frames:
        clean_legacy_uns(d)
    move_adjacency_matrices(d)
    if raw is not None:
        d["raw"] = raw
    return AnnData(**d)


@ENCODINGS.reader(ANNDATA)
def read_anndata(node: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read an AnnData element (the root, or one nested in ``uns``)."""
    return read_anndata_root(node, ctx=ctx)


@ENCODINGS.reader(RAW)
def read_raw(node: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read ``raw`` as an AnnData of its X, var and varm (anndata's return value)."""
    from ..._anndata import AnnData

    d = {k: ctx.read_elem(node[k]) for k in ("X", "var", "varm") if k in node}
    return AnnData(**d)

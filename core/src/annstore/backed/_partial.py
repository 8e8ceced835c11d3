"""Partial reads: chosen elements, dataframe columns and rows of a stored AnnData, nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InvalidFileError

if TYPE_CHECKING:
    from .._anndata import AnnData
    from ..types import GroupLike

__all__ = ["read_partial"]

_TOP = ("X", "obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns", "raw")


def _read_frame_columns(node: Any, ctx: Any, columns: Iterable[str] | None) -> pd.DataFrame:
    """Read the index and only ``columns`` of a stored dataframe (all columns when None)."""
    from ..io.encodings._anndata import _read_frame

    if not hasattr(node, "create_group") or node.attrs.get("encoding-type") != "dataframe":
        df = _read_frame(node, ctx)  # legacy layouts: whole table
        return df if columns is None else df[list(columns)]
    if columns is None:
        return ctx.read_elem(node)  # type: ignore[no-any-return]
    index_key = node.attrs.get("_index", "_index")
    order = list(node.attrs.get("column-order", []))
    cols = list(columns)
    missing = [c for c in cols if c not in order]
    if missing:
        msg = f"Columns {missing} are not in the dataframe {node.name!r}; it has {order}."
        raise KeyError(msg)
    index = pd.Index(np.asarray(ctx.read_elem(node[index_key])))
    if index_key != "_index":
        index.name = index_key
    data = {c: ctx.read_elem(node[c]) for c in cols}
    return pd.DataFrame(data, index=index, columns=cols)


def _positions(sel: Any, names: pd.Index) -> Any:
    from .._index import normalize_index

    idx = normalize_index(sel, names)
    if isinstance(idx, int | np.integer):
        return slice(int(idx) % len(names), int(idx) % len(names) + 1)
    if isinstance(idx, np.ndarray) and idx.dtype.kind == "b":
        return np.flatnonzero(idx)
    return idx


def _read_array(node: Any, ctx: Any, sel: tuple[Any, ...]) -> Any:
    """Read ``sel`` (one indexer per leading axis) of a stored array-like element."""
    from ._dense import BackedArray
    from ._source import sparse_format_of
    from ._sparse import sparse_dataset

    full = all(isinstance(s, slice) and s == slice(None) for s in sel)
    if hasattr(node, "create_group"):
        if sparse_format_of(node) is not None:
            ds = sparse_dataset(node)
            return ds.to_memory() if full else ds[sel if len(sel) == 2 else (sel[0], slice(None))]
        value = ctx.read_elem(node)
        if full:
            return value
        if isinstance(value, pd.DataFrame):
            return value.iloc[sel[0]]
        return value[sel[0]]
    enc = node.attrs.get("encoding-type")
    if enc not in (None, "array") or np.dtype(node.dtype).kind in "OUS":
        value = ctx.read_elem(node)
        return value if full else value[sel[0]]
    if full:
        return ctx.read_elem(node)
    return BackedArray(node)[sel]


def read_partial(
    path: Any,
    *,
    elements: Iterable[str] | None = None,
    obs_columns: Iterable[str] | None = None,
    var_columns: Iterable[str] | None = None,
    obs: Any = None,
    var: Any = None,
    format: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AnnData:
    """Read part of a stored AnnData without loading the rest.

    Parameters
    ----------
    path
        File or store (h5ad, zarr, or any hierarchical format).
    elements
        Top-level elements to read (``"X"``, ``"layers"``, ``"obsm"``, ``"obsp"``, ``"varm"``,
        ``"varp"``, ``"uns"``, ``"raw"``), or ``"group/key"`` for single entries such as
        ``"layers/counts"`` or ``"obsm/X_pca"``. Default: all. The obs and var indexes are
        always read (they name the rows and columns); their other columns only as below.
    obs_columns, var_columns
        Columns of obs / var to read; ``None`` reads all, ``[]`` none (index only).
    obs, var
        Rows (observations) / columns (variables) to keep: a slice, boolean mask, integer
        positions or names. Only those rows of X, layers, obsm, obsp (and columns of
        varm, varp) are read from sparse and dense arrays.

    Returns
    -------
    An in-memory AnnData holding only what was asked for.

    Examples
    --------
    >>> ad = read_partial("pbmc.h5ad", elements=["X", "obsm/X_umap"], obs_columns=["cell_type"],
    ...                   obs=slice(0, 1000))  # doctest: +SKIP
    """
    from .._anndata import AnnData
    from ..io._api import open_store
    from ..io._dispatch import ReadContext

    wanted: dict[str, set[str] | None] = {}
    for e in _TOP if elements is None else elements:
        top, _, sub = str(e).strip("/").partition("/")
        if top not in _TOP:
            msg = f"Expected elements among {_TOP} (or 'group/key'); got {e!r} instead."
            raise KeyError(msg)
        if not sub:
            wanted[top] = None
        elif wanted.get(top, set()) is not None:
            wanted.setdefault(top, set()).add(sub)  # type: ignore[union-attr]
    with open_store(path, format=format, mode="r", storage_options=storage_options) as root:
        ctx = ReadContext()
        if "obs" not in root or "var" not in root:
            msg = f"Expected 'obs' and 'var' in {str(path)!r}; found {sorted(root.keys())}."
            raise InvalidFileError(msg, filename=str(path), path="/")
        obs_df = _read_frame_columns(root["obs"], ctx, None if "obs" in wanted and obs_columns is None else (obs_columns or []))
        var_df = _read_frame_columns(root["var"], ctx, None if "var" in wanted and var_columns is None else (var_columns or []))
        o = slice(None) if obs is None else _positions(obs, obs_df.index)
        v = slice(None) if var is None else _positions(var, var_df.index)
        d: dict[str, Any] = {"obs": obs_df.iloc[o], "var": var_df.iloc[v]}

        def keys_of(name: str) -> list[str]:
            if name not in wanted or name not in root:
                return []
            sub = wanted[name]
            have = list(root[name].keys())
            if sub is None:
                return have
            missing = sorted(sub - set(have))
            if missing:
                msg = f"{name} has no keys {missing}; it has {have}."
                raise KeyError(msg)
            return [k for k in have if k in sub]

        if "X" in wanted and "X" in root:
            d["X"] = _read_array(root["X"], ctx, (o, v))
        if "uns" in wanted and "uns" in root:
            g = root["uns"]
            d["uns"] = ctx.read_elem(g) if wanted["uns"] is None else {k: ctx.read_elem(g[k]) for k in keys_of("uns")}
        axes = {"layers": (o, v), "obsm": (o,), "varm": (v,), "obsp": (o, o), "varp": (v, v)}
        for name, sel in axes.items():
            ks = keys_of(name)
            if ks:
                d[name] = {k: _read_array(root[name][k], ctx, sel) for k in ks}
        if "raw" in wanted and "raw" in root:
            g: GroupLike = root["raw"]  # type: ignore[assignment,no-redef]
            raw: dict[str, Any] = {}
            if "X" in g:
                raw["X"] = _read_array(g["X"], ctx, (o, slice(None)))
            if "var" in g:
                raw["var"] = ctx.read_elem(g["var"])
            if "varm" in g:
                raw["varm"] = ctx.read_elem(g["varm"])
            d["raw"] = raw
    return AnnData(**d)

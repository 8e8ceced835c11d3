"""``write_loom``: an AnnData as a loom 3.0.0 file (the layout loompy 3 writes), with h5py only.

X (transposed to genes x cells) is the main matrix ``/matrix``; each layer goes to
``/layers/<key>``; var columns and the var names are row attributes, obs columns and the obs
names column attributes (named after the index name, or ``var_names`` / ``obs_names``);
``obsm``/``varm`` 2-D arrays are attributes too when ``write_obsm_varm``; ``obsp``/``varp``
become column/row graphs. Values are normalised as loompy does: bools to uint8, strings (and
any other object) to variable-length UTF-8 ``str(value)``, so a missing category becomes
``"nan"``.
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from annstore.errors import AnnstoreError, WriteWarning
from annstore.utils import warn  # attributed to the user's line, past pluggy and annstore

if TYPE_CHECKING:
    import h5py
    from annstore import AnnData

__all__ = ["LOOM_SPEC_VERSION", "LoomWriteError", "write_loom_file"]

LOOM_SPEC_VERSION = "3.0.0"
#: cells per block when writing a sparse matrix into the dense on-disk layout
_BLOCK = 4096
_GZIP = {"compression": "gzip", "compression_opts": 2, "shuffle": False, "fletcher32": False}


class LoomWriteError(AnnstoreError, ValueError):
    """An AnnData cannot be stored as a loom file (no X, an empty axis, a bad key)."""


def _timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _issparse(x: Any) -> bool:
    from scipy import sparse

    return bool(sparse.issparse(x))


def _normalize_values(values: Any, *, where: str) -> np.ndarray:
    """An attribute's values as loompy stores them (numbers kept, bool -> uint8, else str)."""
    if _issparse(values):
        values = values.toarray()
    if isinstance(values, pd.DataFrame):
        msg = f"Expected an array for {where}; got a DataFrame"
        raise TypeError(msg)
    arr = np.array(values.tolist() if isinstance(values, pd.Series | pd.Index) else values)
    if arr.dtype.kind in "iuf":
        return arr
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind == "c":
        msg = f"Expected real numbers or strings for {where}; got complex values"
        raise TypeError(msg)
    return np.array([str(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)


def _column_values(s: pd.Series) -> np.ndarray:
    """A DataFrame column as ``np.array(list)``, as anndata builds loom attributes."""
    return np.array(s.tolist()) if len(s) else np.array(s.to_numpy())


def _check_key(key: Any, where: str) -> str:
    key = str(key)
    if "/" in key or key in ("", ".", ".."):
        msg = f"Expected a {where} name without '/' (loom stores it as an HDF5 name); got {key!r}."
        raise LoomWriteError(msg)
    return key


def _write_attr(group: h5py.Group, key: str, values: np.ndarray, ts: str) -> None:
    import h5py

    maxshape = (values.shape[0],) if values.ndim == 1 else (values.shape[0], None)
    if values.dtype == object:
        ds = group.create_dataset(
            key, data=values, dtype=h5py.string_dtype("utf-8"), maxshape=maxshape, **_GZIP
        )
    else:
        ds = group.create_dataset(key, data=values, maxshape=maxshape, **_GZIP)
    ds.attrs["last_modified"] = ts


def _write_matrix(f: h5py.File, path: str, value: Any, n_obs: int, n_vars: int, where: str) -> None:
    """Store a cells x genes matrix transposed (genes x cells), chunked 64 x 64, gzip 2."""
    if value is None:
        return
    if tuple(value.shape) != (n_obs, n_vars):
        msg = f"Expected {where} of shape {(n_obs, n_vars)}; got {tuple(value.shape)}."
        raise LoomWriteError(msg)
    dtype = np.dtype(value.dtype)
    if dtype.kind == "b":
        dtype = np.dtype(np.uint8)
    if dtype.kind not in "iuf":
        msg = f"Expected a numeric {where} (loom matrices are integer or float); got dtype {value.dtype}."
        raise LoomWriteError(msg)
    chunks = (min(64, n_vars), min(64, n_obs))
    ds = f.create_dataset(
        path, shape=(n_vars, n_obs), dtype=dtype, maxshape=(n_vars, None), chunks=chunks, **_GZIP
    )
    sparse_in = _issparse(value)
    csr = value.tocsr() if sparse_in else None
    for start in range(0, n_obs, _BLOCK):
        stop = min(start + _BLOCK, n_obs)
        block = csr[start:stop].toarray() if csr is not None else np.asarray(value[start:stop])
        ds[:, start:stop] = block.T.astype(dtype, copy=False)


def write_loom_file(adata: AnnData, filename: Any, *, write_obsm_varm: bool = False) -> None:
    """Write ``adata`` to a loom file that loompy 3 opens and its validator accepts.

    Parameters
    ----------
    adata
        The object; X must be set (it becomes the main matrix).
    filename
        Target path (replaced if it exists).
    write_obsm_varm
        Also store 2-D ``obsm``/``varm`` arrays as column/row attributes (sparse ones
        densified); otherwise they are left out with one :class:`~annstore.WriteWarning`.

    Raises
    ------
    LoomWriteError
        X is None, an axis is empty, or a key contains ``/``.
    """
    import h5py

    if adata.X is None:
        msg = "Expected X to be set: loom files need a main matrix (loompy does not accept empty matrices)."
        raise LoomWriteError(msg)
    n_obs, n_vars = int(adata.n_obs), int(adata.n_vars)
    if n_obs == 0 or n_vars == 0:
        msg = f"Expected at least one observation and one variable for loom; got shape {(n_obs, n_vars)}."
        raise LoomWriteError(msg)

    row_attrs: dict[str, np.ndarray] = {}
    col_attrs: dict[str, np.ndarray] = {}
    for attrs, df, names, default, what in (
        (row_attrs, adata.var, adata.var_names, "var_names", "var"),
        (col_attrs, adata.obs, adata.obs_names, "obs_names", "obs"),
    ):
        for col in df.columns:
            key = _check_key(col, f"{what} column")
            attrs[key] = _normalize_values(_column_values(df[col]), where=f"{what}[{col!r}]")
        dim = _check_key(names.name if names.name is not None else default, f"{what} index")
        attrs[dim] = _normalize_values(np.asarray(names, dtype=object), where=f"{what}_names")

    extra_keys = list(adata.obsm.keys()) + list(adata.varm.keys())
    if write_obsm_varm:
        for attrs, mapping, what in ((col_attrs, adata.obsm, "obsm"), (row_attrs, adata.varm, "varm")):
            for key in mapping.keys():
                value = mapping[key]
                if isinstance(value, pd.DataFrame) or not hasattr(value, "shape"):
                    warn(
                        f"{what}[{key!r}] is a {type(value).__name__}, which loom cannot store; "
                        "it is left out.",
                        WriteWarning,
                    )
                    continue
                attrs[_check_key(key, f"{what} key")] = _normalize_values(value, where=f"{what}[{key!r}]")
    elif extra_keys:
        warn(
            f"The loom file will lack these fields: {sorted(set(map(str, extra_keys)))}. "
            "Use write_obsm_varm=True to export multi-dimensional annotations.",
            WriteWarning,
        )

    fname = os.fspath(filename)
    if os.path.exists(fname):
        os.unlink(fname)
    ts = _timestamp()
    with h5py.File(fname, "w") as f:
        for g in ("attrs", "layers", "row_attrs", "col_attrs", "row_graphs", "col_graphs"):
            f.create_group(g)
        f["attrs"].create_dataset("CreationDate", data=ts, dtype=h5py.string_dtype("utf-8"))
        f["attrs"].create_dataset(
            "LOOM_SPEC_VERSION", data=LOOM_SPEC_VERSION, dtype=h5py.string_dtype("utf-8")
        )
        _write_matrix(f, "matrix", adata.X, n_obs, n_vars, "X")
        for key in adata.layers.keys():
            if key is None:  # anndata 0.13's alias of X among the layers
                continue
            k = _check_key(key, "layer")
            _write_matrix(f, f"layers/{k}", adata.layers[key], n_obs, n_vars, f"layers[{key!r}]")
        for group, attrs in (("row_attrs", row_attrs), ("col_attrs", col_attrs)):
            for key, values in attrs.items():
                _write_attr(f[group], key, values, ts)
            f[group].attrs["last_modified"] = ts
        for group, mapping, what in (("col_graphs", adata.obsp, "obsp"), ("row_graphs", adata.varp, "varp")):
            for key in mapping.keys():
                _write_graph(f[group], _check_key(key, f"{what} key"), mapping[key], ts)
        f.attrs["last_modified"] = ts


def _write_graph(group: h5py.Group, key: str, value: Any, ts: str) -> None:
    from scipy import sparse

    g = sparse.coo_matrix(value)
    w = g.data if g.data.dtype.kind == "f" else g.data.astype(np.float64)
    sub = group.create_group(key)
    sub.create_dataset("a", data=g.row.astype(np.int64))
    sub.create_dataset("b", data=g.col.astype(np.int64))
    sub.create_dataset("w", data=w)
    sub.attrs["last_modified"] = ts

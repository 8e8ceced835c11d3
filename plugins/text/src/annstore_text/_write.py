"""``write_csvs``: an AnnData's annotations (and optionally X) as a directory of CSV files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from annstore.errors import WriteWarning
from annstore.utils import warn  # attributed to the user's line, past pluggy and annstore

if TYPE_CHECKING:
    from annstore import AnnData

__all__ = ["axis_arrays_to_df", "write_csvs_dir"]

_TOP = ("X", "var", "obs", "obsm", "varm")
_WITH_HEADER = ("obs", "var", "obsm", "varm")
_WITH_INDEX = ("obs", "var")


def _issparse(x: Any) -> bool:
    from scipy import sparse

    return bool(sparse.issparse(x))


def axis_arrays_to_df(mapping: Any, index: pd.Index) -> pd.DataFrame:
    """Flatten an obsm/varm mapping into one table: column ``f"{key}{i + 1}"`` per column.

    Values are iterated exactly as anndata's ``AxisArrays.to_df`` does (``enumerate(value.T)``),
    so a DataFrame value contributes its index labels, as in anndata; sparse values are
    densified (anndata fails on them).
    """
    df = pd.DataFrame(index=index)
    for key in mapping.keys():
        value = mapping[key]
        if _issparse(value):
            value = value.toarray()
        for icol, column in enumerate(value.T):
            df[f"{key}{icol + 1}"] = column
    return df


def write_csvs_dir(
    adata: AnnData, dirname: Any, *, skip_data: bool = True, sep: str = ","
) -> None:
    """Write ``obs.csv``, ``var.csv``, ``obsm.csv``, ``varm.csv`` (and ``X.csv`` unless
    ``skip_data``) into ``dirname``, and each ``uns`` entry into ``dirname/uns/<key>.csv``.

    Files and bytes are those of anndata's ``write_csvs``: obs/var with header and index,
    obsm/varm with header only, X and uns entries with neither. Sparse uns entries are left
    out with one :class:`~annstore.WriteWarning`; entries pandas cannot tabulate are left out
    with a warning naming them.
    """
    dirname = Path(os.fspath(dirname))
    dirname.mkdir(parents=True, exist_ok=True)
    dir_uns = dirname / "uns"
    dir_uns.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Any] = {
        "obs": adata.obs,
        "var": adata.var,
        "obsm": axis_arrays_to_df(adata.obsm, adata.obs_names),
        "varm": axis_arrays_to_df(adata.varm, adata.var_names),
    }
    if not skip_data:
        X = adata.X
        if X is None:
            warn("X is None; X.csv is not written.", WriteWarning)
        else:
            X = X.toarray() if _issparse(X) else np.asarray(X)
            tables["X"] = pd.DataFrame(X)
    to_write = {**tables, **dict(adata.uns)}
    warned_sparse = False
    for key, value in to_write.items():
        if _issparse(value):
            if not warned_sparse:
                warn("Omitting to write sparse annotation.", WriteWarning)
                warned_sparse = True
            continue
        target = (dirname if key in _TOP else dir_uns) / f"{key}.csv"
        df = value
        if not isinstance(value, pd.DataFrame):
            arr = np.array(value)
            if np.ndim(arr) == 0:
                arr = arr[None]
            try:
                df = pd.DataFrame(arr)
            except Exception as e:
                warn(f"Omitting to write {key!r}: pandas cannot tabulate it ({type(e).__name__}).", WriteWarning)
                continue
        df.to_csv(target, sep=sep, header=key in _WITH_HEADER, index=key in _WITH_INDEX)

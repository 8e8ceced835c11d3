"""The ``Raw`` container: a frozen snapshot of X/var/varm aligned to an AnnData's obs."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["Raw"]


class Raw:
    """Unfiltered data kept alongside an AnnData (``adata.raw``)."""

    def __init__(self, adata: Any, X: Any = None, var: Any = None, varm: Any = None) -> None:
        self._adata = adata
        if X is None:
            X = adata.X
            var = adata.var if var is None else var
            varm = adata.varm if varm is None else varm
        self._X = X.copy() if hasattr(X, "copy") else X
        self._var = pd.DataFrame(var).copy() if var is not None else pd.DataFrame(index=pd.RangeIndex(X.shape[1]).astype(str))
        self._varm = dict(varm) if varm is not None else {}

    @property
    def X(self) -> Any:
        return self._X

    @property
    def var(self) -> pd.DataFrame:
        return self._var

    @property
    def varm(self) -> Any:
        return self._varm

    @property
    def var_names(self) -> pd.Index:
        return self._var.index

    @property
    def obs_names(self) -> pd.Index:
        return self._adata.obs_names

    @property
    def n_obs(self) -> int:
        return self._X.shape[0]

    @property
    def n_vars(self) -> int:
        return self._X.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_obs, self.n_vars)

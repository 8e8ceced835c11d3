"""The in-memory ``AnnData`` container (provisional skeleton, being built out)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._raw import Raw

__all__ = ["AnnData"]


def _gen_index(n: int) -> pd.Index:
    return pd.Index([str(i) for i in range(n)], dtype=object)


class AnnData:
    """An annotated data matrix."""

    def __init__(self, X: Any = None, obs: Any = None, var: Any = None, uns: Any = None, *,
                 obsm: Any = None, varm: Any = None, layers: Any = None, raw: Any = None,
                 shape: Any = None, filename: Any = None, filemode: Any = None, asview: bool = False,
                 obsp: Any = None, varp: Any = None, oidx: Any = None, vidx: Any = None) -> None:
        if isinstance(X, pd.DataFrame):
            obs = pd.DataFrame(index=X.index.astype(str)) if obs is None else obs
            var = pd.DataFrame(index=X.columns.astype(str)) if var is None else var
            X = X.to_numpy()
        if X is not None:
            n_obs, n_vars = X.shape
        elif shape is not None:
            n_obs, n_vars = shape
        else:
            n_obs = len(obs) if obs is not None else 0
            n_vars = len(var) if var is not None else 0
        self._X = X
        self._obs = pd.DataFrame(obs) if obs is not None else pd.DataFrame(index=_gen_index(n_obs))
        self._var = pd.DataFrame(var) if var is not None else pd.DataFrame(index=_gen_index(n_vars))
        self._uns = dict(uns or {})
        self._obsm = dict(obsm or {})
        self._varm = dict(varm or {})
        self._obsp = dict(obsp or {})
        self._varp = dict(varp or {})
        self._layers = dict(layers or {})
        self._raw = None if raw is None else Raw(self, **raw) if isinstance(raw, dict) else Raw(self, raw.X, raw.var, raw.varm)
        self.filename = filename
        self.filemode = filemode

    X = property(lambda self: self._X)
    obs = property(lambda self: self._obs)
    var = property(lambda self: self._var)
    uns = property(lambda self: self._uns)
    obsm = property(lambda self: self._obsm)
    varm = property(lambda self: self._varm)
    obsp = property(lambda self: self._obsp)
    varp = property(lambda self: self._varp)
    layers = property(lambda self: self._layers)
    raw = property(lambda self: self._raw)
    obs_names = property(lambda self: self._obs.index)
    var_names = property(lambda self: self._var.index)
    n_obs = property(lambda self: len(self._obs))
    n_vars = property(lambda self: len(self._var))
    shape = property(lambda self: (self.n_obs, self.n_vars))
    is_view = property(lambda self: False)
    isbacked = property(lambda self: False)

    def __len__(self) -> int:
        return self.n_obs

"""``Raw``: unfiltered X/var/varm kept alongside an AnnData, aligned to its observations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from ._aligned import AlignedMappingProperty, AxisArrays
from ._index import normalize_index, subset, unpack_index
from ._model_frames import gen_dataframe

if TYPE_CHECKING:
    from ._anndata import AnnData

__all__ = ["Raw"]


class _RawVarSubset:
    """Minimal parent for viewing ``raw.varm`` through a variable subset."""

    def __init__(self, raw: Raw, vidx: Any) -> None:
        self._raw = raw
        self._vidx = vidx
        self._oidx = slice(None)
        self._adata_ref = raw
        self.is_view = True

    @property
    def var_names(self) -> pd.Index:
        return self._raw.var_names[self._vidx]

    @property
    def obs_names(self) -> pd.Index:
        return self._raw.obs_names

    @property
    def shape(self) -> tuple[int, int]:
        return self._raw.n_obs, len(self.var_names)


class Raw:
    """Unfiltered data kept alongside an AnnData (``adata.raw``).

    ``raw.X``, ``raw.var`` and ``raw.varm`` keep all variables; the observations are always
    those of the owning AnnData (a view of the AnnData subsets ``raw`` along observations only).

    Parameters
    ----------
    adata
        The AnnData that owns this ``raw``.
    X
        The unfiltered data matrix, one row per observation of ``adata`` (default: ``adata.X``).
    var
        The variable annotation of ``X`` (default: ``adata.var``).
    varm
        Aligned arrays of the variables.
    """

    is_view: ClassVar[bool] = False

    varm = AlignedMappingProperty(AxisArrays, 1, doc="Multi-dimensional variable annotation of raw.")

    def __init__(self, adata: AnnData, X: Any = None, var: Any = None, varm: Any = None) -> None:
        if X is not None and X.shape[0] != adata.n_obs:
            msg = (
                f"X has {X.shape[0]} rows, but n_obs is {adata.n_obs}: raw X needs the AnnData's "
                f"{adata.n_obs} rows; got shape {X.shape} instead."
            )
            from .errors import ShapeMismatchError

            raise ShapeMismatchError(msg)
        self._adata = adata
        self._n_obs = adata.n_obs
        self._varm: dict = {}
        if adata.isbacked == (X is None):
            self._X = X
            n_vars = None if X is None else X.shape[1]
            self._var = gen_dataframe(var, ("var_names",), source="X", attr="var", length=n_vars)
            self.varm = varm
        elif X is None:  # snapshot of adata
            ax = adata.X
            self._X = None if ax is None else ax.copy()
            self._var = adata.var.copy()
            self.varm = adata.varm.copy()
        else:
            msg = "Cannot specify X for raw of a backed AnnData: raw.X is read from the file."
            raise ValueError(msg)

    @property
    def X(self) -> Any:
        """The raw data matrix (read from the file for backed AnnData)."""
        if not self._adata.isbacked:
            return self._X
        X = self._adata._backed_raw_X()
        if self._adata.is_view:
            return self._adata._backed_subset(X, (self._adata._oidx, slice(None)))
        return X

    @property
    def var(self) -> pd.DataFrame:
        """Variable annotation of raw."""
        return self._var

    @property
    def var_names(self) -> pd.Index:
        """Names of raw's variables."""
        return self._var.index

    @property
    def obs_names(self) -> pd.Index:
        """Names of the observations (those of the owning AnnData)."""
        return self._adata.obs_names

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return self._n_obs

    @property
    def n_vars(self) -> int:
        """Number of raw variables."""
        return self._var.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        """(n_obs, n_vars)."""
        return self.n_obs, self.n_vars

    def _normalize_indices(self, packed: Any) -> tuple[Any, Any]:
        if isinstance(packed, pd.Series):
            packed = packed.to_numpy()
        if isinstance(packed, tuple):
            if len(packed) != 2:
                msg = (
                    f"You tried to slice a Raw object with a {len(packed)}-dimensional index, "
                    "but only 2 dimensions exist in such an object."
                )
                raise IndexError(msg)
            packed = tuple(p.to_numpy() if isinstance(p, pd.Series) else p for p in packed)
        o, v = unpack_index(packed)
        return normalize_index(o, self._adata.obs_names), normalize_index(v, self.var_names)

    def __getitem__(self, index: Any) -> Any:
        from ._anndata import AnnData
        from .acc import AdRef

        if isinstance(index, AdRef):  # raw[A.var["x"]], raw[A.X["cell-1", :]], as in anndata
            return index.acc.get(self, index.idx)
        if isinstance(index, tuple) and len(index) == 2 and isinstance(index[0], AnnData):
            adata, index = index
            oidx, vidx = self._normalize_indices(index)
        else:
            oidx, vidx = self._normalize_indices(index)
            adata = self._adata[oidx]
        vidx, oidx = _as_slice(vidx), _as_slice(oidx)
        X = subset(self.X, (oidx, vidx)) if not self._adata.isbacked else None
        var = self._var.iloc[vidx]
        new = Raw(adata, X=X, var=var)
        if self._varm:
            new.varm = self.varm._view(_RawVarSubset(self, vidx), (vidx,)).copy()
        return new

    def __repr__(self) -> str:
        descr = f"Raw AnnData with n_obs × n_vars = {self.n_obs} × {self.n_vars}"
        for attr in ("var", "varm"):
            keys = list(getattr(self, attr).keys())
            if keys:
                descr += f"\n    {attr}: {str(keys)[1:-1]}"
        return descr

    __str__ = __repr__

    def copy(self) -> Raw:
        """A copy bound to the same AnnData."""
        return Raw(
            self._adata,
            X=None if self.X is None else self.X.copy(),
            var=self.var.copy(),
            varm=self.varm.copy(),
        )

    def to_adata(self) -> AnnData:
        """A full AnnData of raw X/var/varm with the owner's obs, obsm, obsp and uns."""
        from ._anndata import AnnData

        return AnnData(
            X=None if self.X is None else self.X.copy(),
            var=self.var.copy(),
            varm=self.varm.copy(),
            obs=self._adata.obs.copy(),
            obsm=self._adata.obsm.copy(),
            obsp=self._adata.obsp.copy(),
            uns=dict(self._adata.uns).copy(),
        )

    def var_vector(self, k: str, /) -> Any:
        """Values of raw var column ``k``, or of observation ``k`` across raw variables.

        Parameters
        ----------
        k
            A column of ``raw.var`` or a name in ``obs_names``.

        Returns
        -------
        numpy.ndarray
            One value per raw variable.

        Raises
        ------
        KeyError
            ``k`` is neither a column of ``raw.var`` nor an observation name.
        """
        from ._anndata import _get_vector

        return _get_vector(self, k, "var")

    def obs_vector(self, k: str, /) -> np.ndarray:
        """Values of raw variable ``k`` across observations.

        Parameters
        ----------
        k
            A name in ``raw.var_names``.

        Returns
        -------
        numpy.ndarray
            One value per observation.

        Raises
        ------
        KeyError
            ``k`` is not a raw variable.
        """
        idx = self._normalize_indices((slice(None), k))
        a = subset(self.X, (idx[0], _as_slice(idx[1])))
        if sparse.issparse(a):
            a = a.toarray()
        return np.ravel(np.asarray(a))

    def _get_X(self, layer: Any = None) -> Any:
        if layer is not None:
            msg = f"Raw has no layers; got layer={layer!r}."
            raise ValueError(msg)
        return self.X


def _as_slice(i: Any) -> Any:
    if isinstance(i, int | np.integer):
        return slice(i, (i + 1) or None, 1)
    return i


"""The in-memory ``AnnData`` container: construction, views, copies, conversions and repr."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from . import _backing
from ._aligned import (
    AlignedMappingProperty,
    AxisArrays,
    Layers,
    PairwiseArrays,
    _mixed_df_to_array,
    coerce_array,
    non_2d_message,
)
from ._index import normalize_indices, resolve_index, subset
from ._model_frames import (
    as_str_index,
    gen_dataframe,
    make_index_unique,
    prep_dim_index,
)
from ._raw import Raw
from ._settings import settings
from ._views import DictView, ElementRef, as_view
from ._xarray import Dataset2D
from .errors import ImplicitModificationWarning, ShapeMismatchError, user_stacklevel

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["AnnData"]


def _deprecated(old: str, new: str, hint: str) -> None:
    msg = f"The method {old} is deprecated and will be removed in the future. Use {new} instead of {old}. {hint}"
    warnings.warn(msg, FutureWarning, stacklevel=3)


def _as_slice(i: Any, n: int, what: str) -> Any:
    if isinstance(i, int | np.integer):
        if not -n <= i < n:
            msg = f"{what} index `{i}` is out of range. The axis has length {n}."
            raise IndexError(msg)
        i = int(i) + n * (i < 0)
        return slice(i, i + 1, 1)
    return i


def _infer_len(df: Any, m: Any, p: Any, layers: Any, axis: int) -> int | None:
    for elem in (df, m, p):
        if elem is not None and hasattr(elem, "shape"):
            return elem.shape[0]
    for elem, is_layers in ((layers, True), (m, False), (p, False)):
        if isinstance(elem, Mapping):
            for v in elem.values():
                if hasattr(v, "shape"):
                    return v.shape[axis if is_layers else 0]
    if isinstance(df, Mapping) and not isinstance(df, pd.DataFrame):
        for v in df.values():
            if hasattr(v, "__len__"):
                return len(v)
    return None


def _warn_dup(attr: str) -> None:
    names = "Observation" if attr == "obs" else "Variable"
    msg = f"{names} names are not unique. To make them unique, call `.{attr}_names_make_unique`."
    warnings.warn(msg, UserWarning, stacklevel=user_stacklevel())


def _get_vector(adata: Any, k: str, dim: Literal["obs", "var"], layer: str | None = None) -> Any:
    """``obs_vector``/``var_vector``: a column of ``.obs``/``.var`` or a row/column of X or a layer.

    Resolved through :mod:`annstore.acc` as in anndata 0.13.4: a column comes back as its
    backing array (``NumpyExtensionArray``, ``Categorical``, ...), a row or column of X as a 1-d
    array of X's kind (dense for sparse X, a dask array for dask X).
    """
    from .acc import A

    other = "var" if dim == "obs" else "obs"
    in_df = k in getattr(adata, dim).columns
    in_names = k in getattr(adata, f"{other}_names")
    if in_df and in_names:
        msg = f"Key {k} could be found in both .{other}_names and .{dim}.columns"
        raise ValueError(msg)
    if not in_df and not in_names:
        msg = f"Could not find key {k} in .{other}_names or .{dim}.columns."
        raise KeyError(msg)
    if in_df:
        ref = getattr(A, dim)[k]
    else:
        acc = A.layers[layer]
        ref = acc[:, k] if dim == "obs" else acc[k, :]
    return adata[ref]


def _uns_to_memory(x: Any) -> Any:
    """``uns`` with dask arrays (at any depth of nested dicts) computed, as anndata's to_memory."""
    if isinstance(x, dict):
        return {k: _uns_to_memory(v) for k, v in x.items()}
    if isinstance(x, Dataset2D):
        return x.to_memory()
    if type(x).__module__.split(".")[0] == "dask" and hasattr(x, "compute"):
        return x.compute()
    return x


def _unwriteable(adata: AnnData, registry: Any, fmt: str | None) -> bool:
    """``adata.unwriteable()``: walk the elements and ask ``registry`` for a writer of each leaf."""
    from .errors import EncodingNotFoundError
    from .types import SupportsArrayApiBase

    def leaf_ok(value: Any) -> bool:
        try:
            registry.find_writer(value) if fmt is None else registry.find_writer(value, fmt)
        except EncodingNotFoundError:
            return isinstance(value, SupportsArrayApiBase)
        return True

    def ok(value: Any) -> bool:  # noqa: PLR0911
        if value is None:
            return True
        if isinstance(value, AnnData):
            return not _unwriteable(value, registry, fmt)
        if isinstance(value, Raw):
            return all(ok(c) for c in (value.X, value.var, *value.varm.values()))
        if isinstance(value, pd.DataFrame):
            return all(ok(value[c]) for c in value.columns) and ok(value.index)
        if isinstance(value, pd.Series | pd.Index):
            return ok(value._values)
        if isinstance(value, pd.Categorical):
            return ok(value.categories)
        if isinstance(value, Mapping):
            return all(ok(v) for v in value.values())
        return leaf_ok(value)

    for arr in (adata.X, *adata.layers.values()):
        if arr is not None and len(getattr(arr, "shape", (0, 0))) != 2:
            return True
    return not all(
        ok(getattr(adata, attr))
        for attr in ("X", "obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns", "raw")
    )


class _NoBackingFile:
    """``adata.file`` of an AnnData that is not backed: anndata's file manager without a file
    (``close()`` does nothing, ``is_open`` is False)."""

    filename = None
    is_open = False

    def close(self) -> None:
        """Nothing to close."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        msg = "Cannot open backing file if backing not initialized."
        raise ValueError(msg)

    def __repr__(self) -> str:
        return "Backing file manager: no file is set."


_NO_FILE = _NoBackingFile()


def _is_raw_disk_array(x: Any) -> bool:
    """An h5py dataset, a zarr array or a backed sparse dataset (recognised by type, importing nothing)."""
    for c in type(x).__mro__:
        mod = c.__module__.split(".")[0]
        if (mod == "h5py" and c.__name__ == "Dataset") or (mod == "zarr" and c.__name__ == "Array"):
            return True
        if c.__name__ == "BaseCompressedSparseDataset":
            return True
    return False


def _format_bytes(n: float) -> str:
    """``1234`` -> ``'1.23kB'`` (3 significant digits, powers of 1000, as tqdm's format_sizeof)."""
    for unit in ("", "k", "M", "G", "T", "P", "E", "Z"):
        if abs(n) < 999.5:
            if abs(n) < 99.95:
                return f"{n:1.2f}{unit}B" if abs(n) < 9.995 else f"{n:2.1f}{unit}B"
            return f"{n:3.0f}{unit}B"
        n /= 1000
    return f"{n:3.1f}YB"


class AnnData:
    """An annotated data matrix.

    ``X`` (n_obs × n_vars) with observation annotations (``obs``, ``obsm``, ``obsp``),
    variable annotations (``var``, ``varm``, ``varp``), ``layers`` shaped like ``X`` and
    unstructured annotations (``uns``). Indexing (``adata[obs_idx, var_idx]``) returns a lazy,
    copy-on-write view; modifying a view turns it into an independent copy with an
    :class:`~annstore.ImplicitModificationWarning`.

    Parameters
    ----------
    X
        Data matrix: numpy array, scipy sparse CSR/CSC matrix or array, dask array, or a
        DataFrame (whose index and columns become obs_names and var_names).
    obs, var
        DataFrames or mappings of columns, one row per observation / variable.
    uns
        Unstructured annotation (any mutable mapping; kept by reference).
    obsm, varm, obsp, varp, layers
        Mappings of aligned arrays.
    raw
        A :class:`Raw` (or a mapping with ``X``, ``var``, ``varm``).
    shape
        ``(n_obs, n_vars)`` when ``X`` is None.
    filename, filemode
        Backing file (backed mode).
    asview, oidx, vidx
        Internal: build a view of the AnnData passed as ``X``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import annstore as ad
    >>> adata = ad.AnnData(
    ...     np.arange(6, dtype=np.float32).reshape(3, 2),
    ...     obs=pd.DataFrame({"cell_type": ["B", "T", "B"]}, index=["c1", "c2", "c3"]),
    ...     var=pd.DataFrame(index=["g1", "g2"]),
    ... )
    >>> adata
    AnnData object with n_obs × n_vars = 3 × 2
        obs: 'cell_type'
        layers: None (.X)
    >>> b = adata[adata.obs.cell_type == "B"]  # a view; editing it makes a copy
    >>> b.shape
    (2, 2)
    """

    _adata_ref: AnnData | None
    _oidx: Any
    _vidx: Any

    def __init__(
        self,
        X: Any = None,
        obs: Any = None,
        var: Any = None,
        uns: Any = None,
        *,
        obsm: Any = None,
        varm: Any = None,
        layers: Any = None,
        raw: Any = None,
        shape: tuple[int, int] | None = None,
        filename: PathLike[str] | str | None = None,
        filemode: Literal["r", "r+"] | None = None,
        asview: bool = False,
        obsp: Any = None,
        varp: Any = None,
        oidx: Any = None,
        vidx: Any = None,
    ) -> None:
        if asview:
            if not isinstance(X, AnnData):
                msg = f"`X` has to be an AnnData object to build a view; got {type(X)} instead."
                raise ValueError(msg)
            if oidx is None or vidx is None:
                msg = "A view needs both `oidx` and `vidx`."
                raise ValueError(msg)
            self._init_as_view(X, oidx, vidx)
        else:
            self._init_as_actual(
                X=X, obs=obs, var=var, uns=uns, obsm=obsm, varm=varm, varp=varp, obsp=obsp,
                raw=raw, layers=layers, shape=shape, filename=filename, filemode=filemode,
            )

    # ------------------------------------------------------------------ construction

    def _init_as_view(self, adata_ref: AnnData, oidx: Any, vidx: Any) -> None:
        self._is_view = True
        oidx = _as_slice(oidx, adata_ref.n_obs, "Observation")
        vidx = _as_slice(vidx, adata_ref.n_vars, "Variable")
        if adata_ref.is_view:
            assert adata_ref._adata_ref is not None
            root = adata_ref._adata_ref
            oidx = resolve_index(adata_ref._oidx, oidx, root.n_obs)
            vidx = resolve_index(adata_ref._vidx, vidx, root.n_vars)
            adata_ref = root
        self._oidx = oidx
        self._vidx = vidx
        self._adata_ref = adata_ref
        self._filename = adata_ref._filename
        self._filemode = adata_ref._filemode
        self.file = getattr(adata_ref, "file", _NO_FILE)
        obs_sub = subset(adata_ref.obs, (oidx,))
        var_sub = subset(adata_ref.var, (vidx,))
        uns = dict(adata_ref._uns) if type(adata_ref._uns) is dict else adata_ref._uns.copy()
        if settings.remove_unused_categories:
            obs_sub = self._remove_unused_categories(adata_ref.obs, obs_sub, uns)
            var_sub = self._remove_unused_categories(adata_ref.var, var_sub, uns)
        self._obs = as_view(obs_sub, ElementRef(self, "obs"))
        self._var = as_view(var_sub, ElementRef(self, "var"))
        self._uns = uns
        self._raw = adata_ref.raw[self, oidx] if adata_ref._raw is not None else None

    @staticmethod
    def _remove_unused_categories(df_full: pd.DataFrame, df_sub: pd.DataFrame, uns: MutableMapping) -> pd.DataFrame:
        if isinstance(df_sub, Dataset2D):  # lazy categorical arrays drop unused categories on access
            return df_sub
        cat_cols = [k for k in df_full.columns if isinstance(df_full[k].dtype, pd.CategoricalDtype)]
        if not cat_cols:
            return df_sub
        df_sub = df_sub.copy(deep=False)
        for k in cat_cols:
            all_categories = df_full[k].cat.categories
            df_sub[k] = df_sub[k].cat.remove_unused_categories()
            color_key = f"{k}_colors"
            if color_key not in uns:
                continue
            colors = uns[color_key]
            if np.ndim(colors) == 0:
                uns[color_key] = np.array(colors)[(None,)]
            elif len(colors) != len(all_categories):
                del uns[color_key]
            else:
                keep = np.flatnonzero(np.isin(all_categories, df_sub[k].cat.categories))
                uns[color_key] = np.asarray(colors)[keep]
        return df_sub

    def _init_as_actual(
        self,
        X: Any = None,
        *,
        obs: Any = None,
        var: Any = None,
        uns: Any = None,
        obsm: Any = None,
        varm: Any = None,
        varp: Any = None,
        obsp: Any = None,
        raw: Any = None,
        layers: Any = None,
        shape: Any = None,
        filename: Any = None,
        filemode: Any = None,
    ) -> None:
        self._is_view = False
        self._adata_ref = None
        self._oidx = None
        self._vidx = None
        self._filename = None if filename is None else Path(filename)
        self._filemode = filemode
        self.file: Any = _NO_FILE
        x_indices: list[tuple[str, str, pd.Index]] = []

        if isinstance(X, AnnData):
            if any(a is not None for a in (obs, var, uns, obsm, varm, obsp, varp)):
                msg = "If `X` is an AnnData, no further arguments must be provided."
                raise ValueError(msg)
            src = X
            obs, var, uns = src.obs, src.var, src.uns
            obsm, varm, obsp, varp = src.obsm, src.varm, src.obsp, src.varp
            layers, raw = src.layers, src.raw
            self._filename, self._filemode = src._filename, src._filemode
            self.file = getattr(src, "file", _NO_FILE)
            X = None
            if isinstance(uns, DictView):
                uns = deepcopy(dict(uns))
        if layers is not None and None in layers:
            if X is not None and X is not layers[None]:
                msg = "If you provide `layers[None]` and `X`, they must be identical."
                raise ValueError(msg)
            X = layers[None]
        elif isinstance(X, pd.DataFrame):
            if isinstance(X.columns, pd.MultiIndex):
                msg = "MultiIndex columns are not supported in AnnData. Please use a single-level index for X."
                raise ValueError(msg)
            if obs is None:
                obs = pd.DataFrame(index=X.index)
            elif not isinstance(X.index, pd.RangeIndex):
                x_indices.append(("obs", "index", as_str_index(X.index)))
            if var is None:
                var = pd.DataFrame(index=X.columns)
            elif not isinstance(X.columns, pd.RangeIndex):
                x_indices.append(("var", "columns", as_str_index(X.columns)))
            X = _mixed_df_to_array(X, "X")

        if X is not None:
            X = coerce_array(X, name="X")
            if shape is not None:
                msg = "`shape` needs to be `None` if `X` is not `None`."
                raise ValueError(msg)
            if len(X.shape) < 2:
                msg = f"X needs to be 2-dimensional, not {len(X.shape)}-dimensional (shape {tuple(X.shape)})."
                raise ValueError(msg)
            n_obs, n_vars = X.shape[:2]
            source = "X"
        else:
            if shape is not None:
                n_obs, n_vars = shape
            else:
                n_obs = _infer_len(obs, obsm, obsp, layers, 0)
                n_vars = _infer_len(var, varm, varp, layers, 1)
            source = "shape"

        self._obs = gen_dataframe(obs, ("obs_names", "row_names"), source=source, attr="obs", length=n_obs)
        self._var = gen_dataframe(var, ("var_names", "col_names"), source=source, attr="var", length=n_vars)
        for attr, xname, idx in x_indices:
            df = getattr(self, f"_{attr}")
            if isinstance(df.index, pd.RangeIndex):
                df.index = idx
            elif not idx.equals(df.index):
                msg = f"Index of {attr} must match {xname} of X."
                raise ValueError(msg)

        self._uns = OrderedDict()
        self._layers: dict = {}
        self._obsm: dict = {}
        self._varm: dict = {}
        self._obsp: dict = {}
        self._varp: dict = {}
        # an empty mapping is replaced by a fresh OrderedDict, as anndata does (`uns or {}`)
        self.uns = uns if uns else OrderedDict()
        self.obsm = obsm
        self.varm = varm
        self.obsp = obsp
        self.varp = varp
        self._move_adjacency_matrices()
        if settings.check_uniqueness:
            self._check_uniqueness()
        self._clean_up_old_format()
        layers_d = {} if layers is None else {k: v for k, v in dict(layers.items()).items() if k is not None}
        self.layers = {**layers_d, None: None}
        if X is not None:
            self.X = X
            if layers is not None and None in layers:
                # keep the caller's key order, X (the ``None`` layer) included, as anndata does
                order = list(layers.keys())
                for k in order:
                    if k in self._layers:
                        self._layers[k] = self._layers.pop(k)
        if not raw:
            self._raw = None
        elif isinstance(raw, Mapping):
            self._raw = Raw(self, **raw)
        else:
            self._raw = Raw(self, raw.X, raw.var, raw.varm)
        if filename is not None and self.file is _NO_FILE:
            _backing.provider().init_backed(self, filename, filemode)

    def _move_adjacency_matrices(self) -> None:
        """Move old-format ``uns['neighbors']['distances'/'connectivities']`` into ``obsp``.

        Only 2-D numpy arrays and scipy sparse *matrices* move (sparse arrays stay, as in
        anndata 0.13.4); the entry is popped from the (caller's) ``uns['neighbors']`` mapping.
        """
        neighbors = self._uns.get("neighbors") if isinstance(self._uns, Mapping) else None
        if not isinstance(neighbors, MutableMapping):
            return
        for k in ("distances", "connectivities"):
            v = neighbors.get(k)
            if isinstance(v, sparse.spmatrix | np.ndarray) and len(v.shape) == 2:
                msg = (
                    f"Moving element from .uns['neighbors'][{k!r}] to .obsp[{k!r}].\n\n"
                    "This is where adjacency matrices should go now."
                )
                warnings.warn(msg, FutureWarning, stacklevel=4)
                self.obsp[k] = v  # validated: a wrongly shaped matrix raises ShapeMismatchError
                del neighbors[k]

    def _clean_up_old_format(self) -> None:
        """Move pre-0.7 multi-column annotations (``uns['obs_keys_multicol']``) into obsm/varm."""
        uns = self._uns
        for axis, bases in (("obs", ("obs", "smp")), ("var", ("var",))):
            keys: list[Any] = []
            for k in (f"{p}{base}_keys_multicol" for p in ("", "_") for base in bases):
                if uns and k in uns:
                    keys = list(uns[k])
                    del uns[k]
                    break
            df = getattr(self, f"_{axis}")
            store = getattr(self, f"_{axis}m")
            for key in keys:
                cols = [c for c in df.columns if str(c).startswith(key)]
                store[key] = df[cols].to_numpy()
                for c in cols:
                    del df[c]

    def _check_uniqueness(self) -> None:
        for attr in ("obs", "var"):
            idx = getattr(self, f"_{attr}").index
            if (idx if isinstance(idx, pd.MultiIndex) else idx[~idx.isna()]).has_duplicates:
                _warn_dup(attr)

    # ------------------------------------------------------------------ repr & dunders

    def _gen_repr(self, n_obs: int, n_vars: int) -> str:
        backed_at = f" backed at {str(self.filename)!r}" if self.isbacked else ""
        descr = f"AnnData object with n_obs × n_vars = {n_obs} × {n_vars}{backed_at}"
        for attr in ("obs", "var", "uns", "obsm", "varm", "obsp", "varp", "layers"):
            keys = list(getattr(self, attr).keys())
            if keys:
                line = f"\n    {attr}: {str(keys)[1:-1]}"
                if attr == "layers":
                    line = line.replace("None", "None (.X)")
                descr += line
        return descr

    def __repr__(self) -> str:
        prefix = "View of " if self.is_view else ""
        return prefix + self._gen_repr(self.n_obs, self.n_vars)

    def __eq__(self, other: object) -> bool:
        msg = (
            "Equality comparisons are not supported for AnnData objects, "
            "instead compare the desired attributes."
        )
        raise NotImplementedError(msg)

    __hash__ = object.__hash__

    def __len__(self) -> int:
        return self.shape[0]

    def __contains__(self, key: Any) -> bool:
        """Whether the array (or container) an :mod:`annstore.acc` reference names exists.

        ``A.obs["a"] in adata``, ``A.obsm["pca"][3] in adata``, ``A.layers["counts"] in adata``;
        a mapping accessor (``A.obsm``) is in ``adata`` when that mapping has any entry.
        """
        from .acc import AdRef, GraphMapAcc, LayerMapAcc, MapAcc, MultiMapAcc, RefAcc

        if isinstance(key, LayerMapAcc):
            return bool(self.layers)
        if isinstance(key, MultiMapAcc):
            return bool(getattr(self, f"{key.dim}m"))
        if isinstance(key, GraphMapAcc):
            return bool(getattr(self, f"{key.dim}p"))
        if isinstance(key, MapAcc):
            msg = f"Unknown MapAcc subclass {type(key)}."
            raise TypeError(msg)
        if isinstance(key, RefAcc):
            return key.isin(self)
        if isinstance(key, AdRef):
            return key.acc.isin(self, key.idx)
        msg = (
            f"Unexpected key {key!r} is not a valid reference (`anndata.acc.*`); for names use "
            "`key in adata.obs`, `key in adata.var_names`, `key in adata.layers`, ..."
        )
        raise TypeError(msg)

    def __getitem__(self, index: Any) -> Any:
        """A view of the selected observations and variables, or the array an :mod:`annstore.acc` reference names."""
        from .acc import AdRef, MapAcc, RefAcc

        if isinstance(index, AdRef):
            return index.acc.get(self, index.idx)
        if isinstance(index, RefAcc):
            return index.get(self)
        if isinstance(index, MapAcc):
            msg = f"Cannot index with {index} because this is not a path to an array-like structure."
            raise IndexError(msg)
        oidx, vidx = normalize_indices(index, self.obs_names, self.var_names)
        return AnnData(self, oidx=oidx, vidx=vidx, asview=True)

    def __delitem__(self, index: Any) -> None:
        obs, var = normalize_indices(index, self.obs_names, self.var_names)
        if obs == slice(None, None, None):
            self._inplace_subset_var(np.setdiff1d(np.arange(self.n_vars), np.arange(self.n_vars)[var]))
        elif var == slice(None, None, None):
            self._inplace_subset_obs(np.setdiff1d(np.arange(self.n_obs), np.arange(self.n_obs)[obs]))
        else:
            msg = "Can only delete whole observations (adata[idx]) or whole variables (adata[:, idx])."
            raise IndexError(msg)

    def __sizeof__(self, *, show_stratified: bool = False, with_disk: bool = False) -> int:
        """Bytes held by the elements; ``show_stratified`` prints each element's share and
        ``with_disk`` counts backed arrays at their in-memory size."""

        def size(x: Any) -> int:
            if x is None:
                return 0
            if sparse.issparse(x):
                return int(x.data.nbytes + x.indptr.nbytes + x.indices.nbytes)
            if isinstance(x, Mapping):
                return sum(size(v) for v in x.values())
            if isinstance(x, np.ndarray):
                return int(x.nbytes)
            if with_disk and hasattr(x, "format") and hasattr(x, "to_memory"):  # backed sparse
                return size(x.to_memory())
            if with_disk and hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "__array_interface__"):
                return int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize  # a backed dense dataset
            return x.__sizeof__()

        parts: dict[str, int] = {
            "obs": size(self.obs),
            "var": size(self.var),
            "uns": size(dict(self.uns)),
            **{attr: sum(size(v) for v in getattr(self, attr).values()) for attr in ("obsm", "varm", "obsp", "varp", "layers")},
        }
        raw = self.raw
        parts["raw"] = 0 if raw is None else size(raw.X) + size(raw.var) + sum(size(v) for v in raw.varm.values())
        if show_stratified:
            for attr, n in parts.items():
                if n > 0:
                    print(f"Size of {attr}: {_format_bytes(n)}")
        return sum(parts.values())

    # ------------------------------------------------------------------ shape & names

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of data matrix (:attr:`n_obs`, :attr:`n_vars`)."""
        return self.n_obs, self.n_vars

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return len(self.obs_names)

    @property
    def n_vars(self) -> int:
        """Number of variables/features."""
        return len(self.var_names)

    @property
    def is_view(self) -> bool:
        """`True` if this is a view of another AnnData."""
        return self._is_view

    @property
    def isbacked(self) -> bool:
        """`True` if X is read from a backing file."""
        return self._filename is not None and None not in self._root_layers_store()

    def _root_layers_store(self) -> dict:
        return self._adata_ref._layers if self.is_view else self._layers  # type: ignore[union-attr]

    @property
    def filename(self) -> Path | None:
        """The backing file (None for in-memory objects)."""
        return self._filename

    @filename.setter
    def filename(self, filename: PathLike[str] | str | None) -> None:
        filename = None if filename is None else Path(filename)
        if filename == self._filename:
            return
        _backing.provider().set_filename(self, filename)

    @property
    def filemode(self) -> str | None:
        """Open mode of the backing file (``'r'`` or ``'r+'``), None when not backed."""
        return self._filemode

    def _backed_X(self) -> Any:
        return _backing.provider().backed_X(self._adata_ref if self.is_view else self)

    @staticmethod
    def _backed_subset(x: Any, idx: tuple[Any, ...]) -> Any:
        return _backing.provider().subset(x, idx)

    def _backed_raw_X(self) -> Any:
        return _backing.provider().backed_raw_X(self._adata_ref if self.is_view else self)

    @property
    def obs_names(self) -> pd.Index:
        """Names of observations (alias for `.obs.index`)."""
        return self.obs.index

    @obs_names.setter
    def obs_names(self, names: Sequence[str]) -> None:
        self._set_dim_index(prep_dim_index(names, "obs", self.n_obs, self.shape), "obs")

    @property
    def var_names(self) -> pd.Index:
        """Names of variables (alias for `.var.index`)."""
        return self.var.index

    @var_names.setter
    def var_names(self, names: Sequence[str]) -> None:
        self._set_dim_index(prep_dim_index(names, "var", self.n_vars, self.shape), "var")

    def _set_dim_index(self, value: pd.Index, attr: str) -> None:
        if self.is_view:
            self._init_as_actual(self.copy())
        getattr(self, f"_{attr}").index = value
        for v in getattr(self, f"_{attr}m").values():
            if isinstance(v, pd.DataFrame):
                v.index = value

    # ------------------------------------------------------------------ obs / var / uns

    def _set_dim_df(self, value: Any, attr: str) -> None:
        n = self.n_obs if attr == "obs" else self.n_vars
        value = gen_dataframe(
            value, (f"{attr}_names", "row_names" if attr == "obs" else "col_names"),
            source="shape", attr=attr, length=n,
        )
        idx = prep_dim_index(value.index, attr, n, self.shape)
        if self.is_view:
            self._init_as_actual(self.copy())
        setattr(self, f"_{attr}", value)
        self._set_dim_index(idx, attr)
        if isinstance(value, Dataset2D) and not len(value.columns):
            value.columns = value.columns.astype(str)  # warns, as anndata's

    @property
    def obs(self) -> pd.DataFrame:
        """One-dimensional annotation of observations (`pd.DataFrame`)."""
        return self._obs

    @obs.setter
    def obs(self, value: Any) -> None:
        self._set_dim_df(value, "obs")

    @obs.deleter
    def obs(self) -> None:
        self.obs = pd.DataFrame({}, index=self.obs_names)

    @property
    def var(self) -> pd.DataFrame:
        """One-dimensional annotation of variables (`pd.DataFrame`)."""
        return self._var

    @var.setter
    def var(self, value: Any) -> None:
        self._set_dim_df(value, "var")

    @var.deleter
    def var(self) -> None:
        self.var = pd.DataFrame({}, index=self.var_names)

    @property
    def uns(self) -> MutableMapping:
        """Unstructured annotation (a dict; a copy-on-write :class:`DictView` on views)."""
        if self.is_view:
            return DictView(self._uns, view_args=(self, "_uns"))
        return self._uns

    @uns.setter
    def uns(self, value: MutableMapping) -> None:
        if not isinstance(value, MutableMapping):
            msg = f"Only mutable mapping types (e.g. dict) are allowed for `.uns`; got {type(value)} instead."
            raise ValueError(msg)
        if isinstance(value, DictView):
            value = deepcopy(dict(value))
        if self.is_view:
            self._init_as_actual(self.copy())
        self._uns = value

    @uns.deleter
    def uns(self) -> None:
        self.uns = OrderedDict()

    # ------------------------------------------------------------------ aligned mappings

    layers = AlignedMappingProperty(Layers, doc="Arrays shaped like X; X itself is under the key None.")
    obsm = AlignedMappingProperty(AxisArrays, 0, doc="Multi-dimensional annotation of observations.")
    varm = AlignedMappingProperty(AxisArrays, 1, doc="Multi-dimensional annotation of variables.")
    obsp = AlignedMappingProperty(PairwiseArrays, 0, doc="Pairwise annotation of observations.")
    varp = AlignedMappingProperty(PairwiseArrays, 1, doc="Pairwise annotation of variables.")

    # ------------------------------------------------------------------ X and raw

    @property
    def X(self) -> Any:
        """Data matrix of shape :attr:`n_obs` × :attr:`n_vars` (None if absent)."""
        if self.is_view:
            assert self._adata_ref is not None
            if self.isbacked:
                return self._backed_subset(self._backed_X(), (self._oidx, self._vidx))
            ref_X = self._adata_ref._layers.get(None)
            if ref_X is None:
                return None
            return as_view(subset(ref_X, (self._oidx, self._vidx)), ElementRef(self, "X"))
        if self.isbacked:
            return self._backed_X()
        return self._layers.get(None)

    @X.setter
    def X(self, value: Any) -> None:
        if value is not None:
            value = coerce_array(value, name="X", allow_array_like=True)
        if value is not None and np.isscalar(value):
            msg = (
                "The ability to set X with a scalar value will be removed in the future.  "
                "Initializing as an `np.array` with the shape of the current view."
            )
            warnings.warn(msg, FutureWarning, stacklevel=2)
            value = np.full(self.shape, fill_value=value)
        if value is not None and tuple(value.shape[:2]) != self.shape:
            if len(value.shape) <= 2 and int(np.prod(value.shape)) == self.n_obs * self.n_vars and (
                self.n_obs == 1 or self.n_vars == 1
            ):
                msg = "Automatic reshaping when setting X will be removed in the future."
                warnings.warn(msg, FutureWarning, stacklevel=2)
                value = value.reshape(self.shape)
            elif len(value.shape) > 2:
                msg = (
                    f"Cannot set `X` from an array of shape {tuple(value.shape)}: its leading two "
                    f"dimensions {tuple(value.shape[:2])} do not match the AnnData shape {self.shape}. "
                    "Automatic reshaping is only supported for 2-D inputs."
                )
                raise ShapeMismatchError(msg)
            else:
                msg = f"Data matrix has wrong shape {tuple(value.shape)}, need to be {self.shape}."
                raise ShapeMismatchError(msg)
        if (spec_msg := non_2d_message(value, "X")) is not None:
            warnings.warn(spec_msg, UserWarning, stacklevel=2)  # allowed in memory, as in anndata
        if self.is_view:
            msg = "Setting element `.X` of view, initializing view as actual."
            warnings.warn(msg, ImplicitModificationWarning, stacklevel=2)
            self._init_as_actual(self._copy(X=value))
            return
        if value is not None:
            self.layers[None] = value
        else:
            self._layers.pop(None, None)

    @X.deleter
    def X(self) -> None:
        self.X = None

    def _has_X(self) -> bool:
        return (self._adata_ref if self.is_view else self)._layers.get(None) is not None or self.isbacked  # type: ignore[union-attr]

    def _get_X(self, layer: str | None = None) -> Any:
        return self.X if layer is None else self.layers[layer]

    @property
    def raw(self) -> Raw | None:
        """A frozen snapshot of X/var/varm (``adata.raw = adata``), subset by obs in views."""
        return self._raw

    @raw.setter
    def raw(self, value: Any) -> None:
        if value is None:
            del self.raw
            return
        if isinstance(value, Raw):
            raw = Raw(self, X=value.X, var=value.var, varm=value.varm)
        elif isinstance(value, AnnData):
            raw = Raw(self, X=value.X, var=value.var, varm=value.varm)
        else:
            msg = f"Can only init raw attribute with an AnnData object (or a Raw); got {type(value)} instead."
            raise ValueError(msg)
        if self.is_view:
            self._init_as_actual(self.copy())
        self._raw = raw

    @raw.deleter
    def raw(self) -> None:
        if self.is_view:
            self._init_as_actual(self.copy())
        self._raw = None

    # ------------------------------------------------------------------ keys

    def obs_keys(self) -> list[str]:
        """Column names of :attr:`obs` (deprecated in anndata: use ``adata.obs.columns``)."""
        _deprecated("obs_keys", "obs", "(e.g. `k in adata.obs` or `str(adata.obs.columns.tolist())`)")
        return self._obs.keys().tolist()

    def var_keys(self) -> list[str]:
        """Column names of :attr:`var` (deprecated in anndata: use ``adata.var.columns``)."""
        _deprecated("var_keys", "var", "(e.g. `k in adata.var` or `str(adata.var.columns.tolist())`)")
        return self._var.keys().tolist()

    def obsm_keys(self) -> list[str]:
        """Keys of :attr:`obsm` (deprecated in anndata: use ``adata.obsm.keys()``)."""
        _deprecated("obsm_keys", "obsm", "(e.g. `k in adata.obsm` or `adata.obsm.keys() | {'u'}`)")
        return list(self.obsm.keys())

    def varm_keys(self) -> list[str]:
        """Keys of :attr:`varm` (deprecated in anndata: use ``adata.varm.keys()``)."""
        _deprecated("varm_keys", "varm", "(e.g. `k in adata.varm` or `adata.varm.keys() | {'u'}`)")
        return list(self.varm.keys())

    def uns_keys(self) -> list[str]:
        """Sorted keys of :attr:`uns` (deprecated in anndata: use ``sorted(adata.uns)``)."""
        _deprecated("uns_keys", "uns", "(e.g. `k in adata.uns` or `sorted(adata.uns)`)")
        return sorted(self._uns.keys())

    # ------------------------------------------------------------------ copies

    def _copy(self, *, X: Any = "no_set_X") -> AnnData:
        new: dict[str, Any] = {
            "obs": self.obs.copy(),
            "var": self.var.copy(),
            "obsm": self.obsm.copy(),
            "varm": self.varm.copy(),
            "obsp": self.obsp.copy(),
            "varp": self.varp.copy(),
            "layers": self.layers.copy() if not self.isbacked else {k: v.copy() for k, v in self.layers.items() if k is not None},
            "uns": deepcopy(dict(self._uns) if isinstance(self._uns, DictView) else self._uns),
        }
        if not isinstance(X, str):
            new["layers"][None] = X
        if self.raw is not None:
            r = self.raw
            new["raw"] = {"X": None if r.X is None else r.X.copy(), "var": r.var.copy(), "varm": r.varm.copy()}
        return AnnData(**new)

    def _has_raw_disk_array(self, attrs: Sequence[str] = ("obsm", "varm", "obsp", "varp", "layers", "uns")) -> bool:
        """Whether an element (or a value of a mapping element) is an h5py/zarr array or a backed
        sparse dataset held directly (not through backed mode)."""
        root = self._adata_ref if self.is_view else self  # a view's values are subsets of these
        return any(_is_raw_disk_array(v) for attr in attrs for v in getattr(root, f"_{attr}").values())

    def copy(self, filename: PathLike[str] | str | None = None) -> AnnData:
        """A full, independent copy (of a view: a new actual AnnData); on disk if backed.

        Parameters
        ----------
        filename
            Only for a backed AnnData: the path of the new backing file. The data is copied
            there and the copy is opened backed, in the same mode.

        Returns
        -------
        AnnData
            The copy (backed by ``filename`` when this object is backed).

        Raises
        ------
        ValueError
            A backed AnnData copied without ``filename`` (use :meth:`to_memory` to load it).
        NotImplementedError
            ``raw.X`` is still on disk while the AnnData itself is not backed.
        """
        if not self.isbacked:
            if self._has_raw_disk_array():
                msg = (
                    "Copy is not implemented for anndatas which have backing raw h5 (not in backed "
                    "mode) or zarr arrays; call `.to_memory()` to load them."
                )
                raise NotImplementedError(msg)
            return self._copy()
        if filename is None:
            msg = (
                "To copy an AnnData object in backed mode, pass a filename: "
                "`.copy(filename='myfilename.h5ad')`. To load the object into memory, use `.to_memory()`."
            )
            raise ValueError(msg)
        from .io import read_h5ad, write_h5ad

        write_h5ad(filename, self)
        return read_h5ad(filename, backed=self._filemode)

    def to_memory(self, *, copy: bool = False) -> AnnData:
        """An AnnData with every backed or lazy element loaded into memory.

        Backed sparse and dense datasets, dask arrays and lazy dataframes
        (:class:`~annstore.experimental.backed.Dataset2D`) become numpy, scipy and pandas objects;
        in-memory elements are kept as they are.

        Parameters
        ----------
        copy
            Also copy the elements already in memory (the result then shares nothing with this
            object).

        Returns
        -------
        AnnData
            A new in-memory AnnData.
        """

        def load(x: Any) -> Any:
            if x is None:
                return None
            from copy import copy as shallow_copy

            from ._views import _is_awkward

            if _is_awkward(x):  # as anndata: a copy drops an awkward view's parameters
                return shallow_copy(x) if copy else x
            if isinstance(x, np.ndarray):
                return np.array(x) if copy or type(x) is not np.ndarray else x
            if sparse.issparse(x):
                return x.copy() if copy or type(x).__name__.endswith("View") else x
            if isinstance(x, pd.DataFrame):
                return pd.DataFrame(x).copy() if copy or type(x) is not pd.DataFrame else x
            if hasattr(x, "compute"):
                return x.compute()
            if hasattr(x, "to_memory"):
                return x.to_memory()
            if hasattr(x, "shape") and hasattr(x, "dtype"):
                return x[()] if x.shape == () else x[...]
            return x

        new: dict[str, Any] = {
            "X": load(self.X),
            "obs": load(self.obs),
            "var": load(self.var),
            "uns": _uns_to_memory(deepcopy(dict(self.uns)) if copy else dict(self.uns)),
        }
        for attr in ("obsm", "varm", "obsp", "varp", "layers"):
            new[attr] = {k: load(v) for k, v in getattr(self, attr).items() if k is not None}
        if self.raw is not None:
            new["raw"] = {"X": load(self.raw.X), "var": load(self.raw.var), "varm": {k: load(v) for k, v in self.raw.varm.items()}}
        return AnnData(**new)

    # ------------------------------------------------------------------ reshaping

    def _inplace_subset_var(self, index: Any) -> None:
        self._init_as_actual(self[:, index].copy())

    def _inplace_subset_obs(self, index: Any) -> None:
        self._init_as_actual(self[index].copy())

    def transpose(self) -> AnnData:
        """Swap observations and variables (X, layers, obs/var, obsm/varm, obsp/varp); drops raw."""
        if self.is_view:
            msg = (
                "You’re trying to transpose a view of an `AnnData`, which is currently not "
                "implemented. Call `.copy()` before transposing."
            )
            raise ValueError(msg)
        if self.isbacked or self._has_raw_disk_array(("layers",)):
            msg = (
                "Cannot transpose anndata object that has raw zarr arrays or h5py arrays backing X "
                "or layers; call `.to_memory()` first."
            )
            raise ValueError(msg)

        def t(x: Any) -> Any:
            return x.T

        return AnnData(
            layers={k: t(v) for k, v in self.layers.items()},
            obs=self.var, var=self.obs, uns=self._uns,
            obsm=self.varm, varm=self.obsm, obsp=self.varp, varp=self.obsp,
        )

    T = property(transpose)

    # ------------------------------------------------------------------ conversions

    def to_df(self, layer: str | None = None) -> pd.DataFrame:
        """``X`` (or a layer) as a dense DataFrame, indexed by obs_names, with var_names as columns.

        Parameters
        ----------
        layer
            Key of the layer to convert instead of ``X``.

        Returns
        -------
        pandas.DataFrame
            The dense values (a sparse or dask matrix is densified).

        Raises
        ------
        ValueError
            ``X`` is ``None`` and no layer was given.
        KeyError
            ``layer`` is not a key of ``layers``.
        """
        if layer is not None:
            X = self.layers[layer]
        elif not self._has_X():
            msg = "X is None, cannot convert to dataframe."
            raise ValueError(msg)
        else:
            X = self.X
        if sparse.issparse(X):
            X = X.toarray()
        elif hasattr(X, "compute"):
            X = X.compute()
        return pd.DataFrame(np.asarray(X), index=self.obs_names, columns=self.var_names)

    def obs_vector(self, k: str, /, *, layer: str | None = None) -> Any:
        """Values of obs column ``k``, or of variable ``k`` in X (or a layer), per observation.

        Deprecated as in anndata 0.13 (a ``FutureWarning``): use ``adata[A.obs[k]]`` or
        ``adata[A.layers[layer][:, k]]`` with ``from annstore.acc import A``.

        Parameters
        ----------
        k
            A column of ``obs`` or a name in ``var_names``.
        layer
            The layer to read variable ``k`` from (default: ``X``).

        Returns
        -------
        numpy.ndarray or pandas.api.extensions.ExtensionArray
            One value per observation (a categorical column keeps its categories).

        Raises
        ------
        KeyError
            ``k`` is neither a column of ``obs`` nor a name in ``var_names``.
        """
        _deprecated(
            "obs_vector", "anndata.acc.A", "E.g. `vec = adata[A.obs['foo']]` or `vec = adata[A.layers['l']['bar', :]]`"
        )
        return _get_vector(self, k, "obs", layer=layer)

    def var_vector(self, k: str, /, *, layer: str | None = None) -> Any:
        """Values of var column ``k``, or of observation ``k`` in X (or a layer), per variable.

        Deprecated as in anndata 0.13 (a ``FutureWarning``): use ``adata[A.var[k]]`` or
        ``adata[A.layers[layer][k, :]]`` with ``from annstore.acc import A``.

        Parameters
        ----------
        k
            A column of ``var`` or a name in ``obs_names``.
        layer
            The layer to read observation ``k`` from (default: ``X``).

        Returns
        -------
        numpy.ndarray or pandas.api.extensions.ExtensionArray
            One value per variable.

        Raises
        ------
        KeyError
            ``k`` is neither a column of ``var`` nor a name in ``obs_names``.
        """
        _deprecated(
            "var_vector", "anndata.acc.A", "E.g. `vec = adata[A.var['foo']]` or `vec = adata[A.layers['l'][:, 'bar']]`"
        )
        return _get_vector(self, k, "var", layer=layer)

    def rename_categories(self, key: str, categories: Sequence[Any]) -> None:
        """Rename the categories of the categorical annotation ``key``, in place.

        The column is looked up in ``obs``, then in ``var``. Structured arrays of scanpy-style
        records in ``uns`` computed with ``groupby=key`` (for instance rank_genes_groups) have their
        fields renamed as well; one whose fields do not match the old categories is left out with
        a warning.

        Parameters
        ----------
        key
            Name of a categorical column of ``obs`` or ``var``.
        categories
            The new category names, as many as the old ones, in the same order.

        Raises
        ------
        ValueError
            ``key`` is in neither ``obs`` nor ``var``, or ``categories`` is a mapping (only
            list-like categories are supported) or has the wrong length.
        """
        if isinstance(categories, Mapping):
            msg = "Only list-like `categories` is supported."
            raise ValueError(msg)
        if key in self.obs:
            old = self.obs[key].cat.categories.tolist()
            self.obs[key] = self.obs[key].cat.rename_categories(categories)
        elif key in self.var:
            old = self.var[key].cat.categories.tolist()
            self.var[key] = self.var[key].cat.rename_categories(categories)
        else:
            msg = f"{key} is neither in `.obs` nor in `.var`."
            raise ValueError(msg)
        for k1, v1 in self.uns.items():
            if not (isinstance(v1, Mapping) and "params" in v1 and v1["params"].get("groupby") == key):
                continue
            for k2, v2 in v1.items():
                if isinstance(v2, np.ndarray) and v2.dtype.names is not None:
                    if list(v2.dtype.names) == old:
                        self.uns[k1][k2].dtype.names = categories
                    else:
                        warnings.warn(f"Omitting {k1}/{k2} as old categories do not match.", UserWarning, stacklevel=2)

    def strings_to_categoricals(self, df: pd.DataFrame | None = None) -> None:
        """Turn string columns with repeated values into categoricals, in place.

        A column becomes categorical when it has fewer distinct values than rows; its categories
        are sorted naturally (``"c2"`` before ``"c10"``). This is what the writers do with
        ``convert_strings_to_categoricals=True``.

        Parameters
        ----------
        df
            The DataFrame to convert (default: both ``obs`` and ``var``); when given, it is
            converted in place and this AnnData is unchanged.
        """
        from pandas.api.types import infer_dtype

        dfs = [self.obs, self.var] if df is None else [df]
        for frame in dfs:
            for key in [k for k in frame.columns if infer_dtype(frame[k]) == "string"]:
                c = pd.Categorical(frame[key])
                if len(c.categories) >= len(c):
                    continue
                ordered = _natsorted(list(c.categories))
                if list(c.categories) != ordered:
                    c = c.reorder_categories(ordered)
                frame[key] = c

    _sanitize = strings_to_categoricals

    def obs_names_make_unique(self, join: str = "-") -> None:
        """Make ``obs_names`` unique by appending ``join`` and a counter to repeats.

        The first occurrence keeps its name; later ones become ``a-1``, ``a-2``, ... (a candidate
        already present is skipped, with a warning).

        Parameters
        ----------
        join
            The separator between the name and the counter.
        """
        self.obs_names = make_index_unique(self.obs.index, join)

    def var_names_make_unique(self, join: str = "-") -> None:
        """Make ``var_names`` unique by appending ``join`` and a counter to repeats.

        The first occurrence keeps its name; later ones become ``a-1``, ``a-2``, ... (a candidate
        already present is skipped, with a warning).

        Parameters
        ----------
        join
            The separator between the name and the counter.
        """
        self.var_names = make_index_unique(self.var.index, join)

    def chunked_X(self, chunk_size: int | None = None) -> Iterator[tuple[Any, int, int]]:
        """Iterate over ``X`` in chunks of rows.

        Parameters
        ----------
        chunk_size
            Rows per chunk (default: 6000, as anndata; the last chunk may be shorter).

        Yields
        ------
        tuple
            ``(X[start:end], start, end)``; a backed X is read chunk by chunk.
        """
        if chunk_size is None:
            chunk_size = 6000
        n = self.n_obs
        for start in range(0, n, chunk_size):
            end = min(start + chunk_size, n)
            yield self.X[start:end], start, end

    def chunk_X(self, select: int | Sequence[int] | np.ndarray = 1000, *, replace: bool = True) -> np.ndarray:
        """Dense rows of ``X``: a random sample, or the given row positions.

        Parameters
        ----------
        select
            An int: that many rows drawn at random; a sequence or array of ints: those rows.
        replace
            Draw with replacement (only when ``select`` is an int).

        Returns
        -------
        numpy.ndarray
            The selected rows as a dense 2-d array.

        Raises
        ------
        ValueError
            ``select`` is neither an int nor an array-like of positions.
        """
        if isinstance(select, int | np.integer) and not isinstance(select, bool):
            n = min(int(select), self.n_obs)
            choice = np.random.choice(self.n_obs, n, replace)
        elif isinstance(select, np.ndarray | Sequence):
            choice = np.asarray(select)
        else:
            msg = f"select should be int or array; got {type(select)} instead."
            raise ValueError(msg)
        X = self.X
        if self.isbacked:
            uniq, inverse = np.unique(choice, return_inverse=True)
            sel = X[uniq]
            sel = sel.toarray() if sparse.issparse(sel) else np.asarray(sel)
            return sel[inverse]
        sel = X[choice]
        return sel.toarray() if sparse.issparse(sel) else np.asarray(sel)

    # ------------------------------------------------------------------ IO delegation

    def unwriteable(self, *, store_type: Literal["h5", "zarr"] | None = None) -> bool:
        """Whether some element of this object has no on-disk encoding (anndata 0.13.4).

        Parameters
        ----------
        store_type
            ``"h5"`` (h5ad) or ``"zarr"`` to ask about one store type; ``None`` for any.

        Returns
        -------
        bool
            ``True`` if X or a layer is not 2-d, or a value anywhere in obs, var, obsm, varm,
            obsp, varp, layers, uns or raw (nested AnnData objects included) is of a type no
            installed encoding writes (e.g. a tuple in uns, an interval-categorical column).
        """
        from .io import get_registry

        fmt = {"h5": "h5ad", "zarr": "zarr", None: None}[store_type]
        return _unwriteable(self, get_registry(), fmt)

    def write_h5ad(
        self,
        filename: PathLike[str] | str | None = None,
        *,
        convert_strings_to_categoricals: bool = True,
        compression: Any = None,
        compression_opts: Any = None,
        as_dense: Sequence[str] = (),
    ) -> None:
        """Write this AnnData to an ``.h5ad`` file (the annstore-h5ad plugin).

        The file is written to a temporary sibling and renamed into place when complete, so a
        failed write never destroys an existing file.

        Parameters
        ----------
        filename
            Path of the file. ``None``: write back to the backing file of a backed AnnData.
        convert_strings_to_categoricals
            Turn string columns of ``obs`` and ``var`` with repeated values into categoricals
            (see :meth:`strings_to_categoricals`) before writing.
        compression
            HDF5 compression filter of the arrays: ``"gzip"``, ``"lzf"`` or ``None``.
        compression_opts
            Options of the filter (the gzip level, 0-9).
        as_dense
            Sparse elements to write as dense arrays: ``"X"``, ``"raw/X"`` or both.

        Raises
        ------
        ValueError
            ``filename`` is ``None`` and the AnnData is not backed.
        FormatNotInstalledError
            The annstore-h5ad plugin is not installed.

        Examples
        --------
        >>> import numpy as np
        >>> import annstore as ad
        >>> adata = ad.AnnData(np.ones((3, 2), dtype=np.float32))
        >>> adata.write_h5ad("example.h5ad", compression="gzip")  # doctest: +SKIP
        >>> ad.read_h5ad("example.h5ad").shape  # doctest: +SKIP
        (3, 2)
        """
        if filename is None:
            if not self.isbacked:
                msg = "Provide a filename!"
                raise ValueError(msg)
            filename = self.filename
            fmt = getattr(self.file, "format", "h5ad")
            if fmt != "h5ad":  # backed zarr/tiledb: write back in the file's own format
                from .io import write

                _strings_to_categoricals(self, convert_strings_to_categoricals)
                write(self, filename, fmt, as_dense=tuple(as_dense))
                self.file.close()
                return
        from .io import write_h5ad

        write_h5ad(
            Path(filename), self,
            convert_strings_to_categoricals=convert_strings_to_categoricals,
            compression=compression, compression_opts=compression_opts, as_dense=as_dense,
        )
        if self.isbacked:  # as anndata: the backing file is closed (X access reopens it)
            self.file.close()

    write = write_h5ad

    def write_zarr(
        self,
        store: Any,
        *,
        chunks: tuple[int, ...] | None = None,
        convert_strings_to_categoricals: bool = True,
        consolidate_metadata: bool = True,
    ) -> None:
        """Write this AnnData to a zarr store (the annstore-zarr plugin).

        Parameters
        ----------
        store
            A path (a directory, or ``.zarr.zip`` for a zip store), a zarr store object or a
            mapping (for instance an fsspec mapper).
        chunks
            Chunk shape of X (default: chosen by zarr). Sparse arrays are chunked along their
            1-d data arrays.
        convert_strings_to_categoricals
            Turn string columns of ``obs`` and ``var`` with repeated values into categoricals
            before writing.
        consolidate_metadata
            Write consolidated metadata (one read opens the whole store).

        Raises
        ------
        ValueError
            ``chunks`` is a bool instead of a shape.
        FormatNotInstalledError
            The annstore-zarr plugin is not installed.
        """
        if isinstance(chunks, bool):
            msg = (
                "Passing `write_zarr(adata, chunks=True)` is no longer supported. "
                "Please pass `write_zarr(adata)` instead."
            )
            raise ValueError(msg)
        from .io import write_zarr

        write_zarr(
            store, self, chunks=chunks,
            convert_strings_to_categoricals=convert_strings_to_categoricals,
            consolidate_metadata=consolidate_metadata,
        )

    def write_loom(self, filename: PathLike[str] | str, *, write_obsm_varm: bool = False) -> None:
        """Write this AnnData to a ``.loom`` file (the annstore-loom plugin).

        ``X`` becomes the main matrix, ``layers`` the loom layers, ``obs``/``var`` the column and
        row attributes and ``obsp``/``varp`` the loom graphs; ``uns`` and ``raw`` are not stored.

        Parameters
        ----------
        filename
            Path of the file.
        write_obsm_varm
            Also store ``obsm``/``varm`` arrays as column/row attributes (DataFrames are left out,
            with a :class:`~annstore.WriteWarning`).

        Raises
        ------
        FormatNotInstalledError
            The annstore-loom plugin is not installed.
        """
        from . import io

        io.write_loom(filename, self, write_obsm_varm=write_obsm_varm)  # type: ignore[attr-defined]

    def write_csvs(self, dirname: PathLike[str] | str, *, skip_data: bool = True, sep: str = ",") -> None:
        """Write the annotations (and optionally ``X``) as CSV files into a directory.

        ``obs.csv``, ``var.csv``, ``obsm.csv``, ``varm.csv`` (and ``X.csv``) go to ``dirname``,
        ``uns`` entries to ``dirname/uns/``; sparse entries are left out with a warning. Other
        files in the directory are kept.

        Parameters
        ----------
        dirname
            The directory (created if missing).
        skip_data
            Leave ``X`` out (default, as anndata).
        sep
            The field separator.

        Raises
        ------
        FormatNotInstalledError
            The annstore-text plugin is not installed.
        """
        from . import io

        io.write_csvs(dirname, self, skip_data=skip_data, sep=sep)  # type: ignore[attr-defined]


def _strings_to_categoricals(adata: AnnData, convert: bool) -> None:
    """Before a write, as anndata's ``write_h5ad``/``write_zarr``: string columns of obs, var
    (and raw.var) become categoricals, in place on the object being written."""
    if not convert:
        return
    adata.strings_to_categoricals()
    if adata.raw is not None:
        adata.strings_to_categoricals(adata.raw.var)


def _natsorted(values: list[Any]) -> list[Any]:
    """Natural sort (``'a2' < 'a10'``), with the ``natsort`` package as anndata."""
    from natsort import natsorted

    return natsorted(values)

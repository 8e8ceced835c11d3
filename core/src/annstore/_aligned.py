"""Aligned mappings (obsm, varm, obsp, varp, layers): dicts whose values follow AnnData's axes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, MutableMapping
import sys
from copy import copy as _shallow_copy
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from ._index import is_dask_array, subset
from ._views import ElementRef, as_view, view_update
from ._xarray import Dataset2D, is_xr_dataset
from .errors import ExperimentalFeatureWarning, ImplicitModificationWarning, ShapeMismatchError, user_stacklevel

if TYPE_CHECKING:
    from ._anndata import AnnData

__all__ = [
    "AlignedMappingProperty",
    "AxisArrays",
    "AxisArraysView",
    "Layers",
    "LayersView",
    "PairwiseArrays",
    "PairwiseArraysView",
    "coerce_array",
]

_DIMS = ("obs", "var")


def _mixed_df_to_array(df: pd.DataFrame, name: str) -> Any:
    if len(df.columns) and all(isinstance(dt, pd.SparseDtype) for dt in df.dtypes):
        arr = df.sparse.to_coo().tocsr()
    else:
        arr = df.to_numpy()
    if df.dtypes.nunique() > 1:
        msg = f"{name} converted to numpy array with dtype {arr.dtype}"
        warnings.warn(msg, UserWarning, stacklevel=4)
    return arr


def _check_no_multiindex_columns(df: pd.DataFrame, name: str) -> None:
    if isinstance(df.columns, pd.MultiIndex):
        msg = f"MultiIndex columns are not supported in AnnData. Please use a single-level index for {name}."
        raise ValueError(msg)


def coerce_array(value: Any, *, name: str, allow_df: bool = False, allow_array_like: bool = False) -> Any:
    """Check (and where anndata does, convert) a value stored in X, layers, obsm/varm/obsp/varp.

    Accepted as is: numpy arrays, CSR/CSC sparse matrices and arrays, dask arrays, and any other
    object with ``shape`` and ``dtype`` (backed datasets, zarr/h5py arrays). ``np.matrix`` becomes
    an ndarray (with a warning); DataFrames are kept when ``allow_df`` else converted to arrays;
    lists and scalars are converted only when ``allow_array_like``.
    """
    if allow_array_like and np.isscalar(value):
        return value
    if is_xr_dataset(value):
        value = Dataset2D(value)
    if isinstance(value, Dataset2D):
        return value
    if isinstance(value, np.matrix):
        msg = f"{name} should not be a np.matrix, use np.ndarray instead."
        warnings.warn(msg, ImplicitModificationWarning, stacklevel=user_stacklevel())
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return value
    if sparse.issparse(value):
        if value.format in {"csr", "csc"}:
            return value
        kind = "matrices" if isinstance(value, sparse.spmatrix) else "arrays"
        msg = f"Only CSR and CSC {kind} are supported; {name} is a {type(value).__name__}."
        raise ValueError(msg)
    if isinstance(value, pd.DataFrame):
        _check_no_multiindex_columns(value, name)
        return value if allow_df else _mixed_df_to_array(value, name)
    if is_dask_array(value):
        return value
    if (
        not isinstance(value, pd.Series | pd.Index | list | tuple | str | bytes | Mapping)
        and hasattr(value, "shape")
        # class attributes first: a backed dataset's dtype property reads file metadata
        and (hasattr(type(value), "dtype") or hasattr(value, "dtype") or hasattr(value, "__array_namespace__"))  # array API, as anndata
    ):
        return value
    if allow_array_like:
        try:
            return np.array(value)
        except (ValueError, TypeError) as e:
            msg = f"{name} could not be converted to an array (Failed to convert it to an array: {e})."
            raise ValueError(msg) from e
    msg = (
        f"{name} needs to be of one of {np.ndarray}, a scipy CSR/CSC sparse matrix or array, a dask "
        f"array{', a DataFrame' if allow_df else ''} or another array with .shape and .dtype, "
        f"not {type(value)}."
    )
    raise ValueError(msg)


def _is_awkward(x: Any) -> bool:
    ak = sys.modules.get("awkward")  # an awkward array exists only once awkward is imported
    return ak is not None and isinstance(x, ak.Array)


_warned_awkward = False


def _warn_awkward_experimental() -> None:
    global _warned_awkward
    if not _warned_awkward:
        _warned_awkward = True
        msg = (
            "Support for Awkward Arrays is currently experimental. Behavior may change "
            "in the future. Please report any issues you may encounter!"
        )
        warnings.warn(msg, ExperimentalFeatureWarning, stacklevel=5)


def _awkward_axis_len(x: Any, axis: int) -> int | None:
    """Length of an awkward array along ``axis`` (as anndata's ``axis_len``): ``None`` where the
    dimension is variable, the number of fields for a record level; a ``TypeError`` when the
    array has no such axis (strings count as scalars)."""
    if axis < 0:
        msg = "Does not support negative axis"
        raise NotImplementedError(msg)
    if axis == 0:
        return len(x)
    import awkward as ak

    n = _awkward_layout_len(ak.to_layout(x), axis, 1)
    return None if n == -1 else n


def _awkward_layout_len(layout: Any, axis: int, depth: int) -> int:
    """Size of ``layout`` (found at list depth ``depth``) at ``axis``; -1 when variable."""
    if layout.is_unknown or layout.is_numpy:
        shape = layout.shape if layout.is_numpy else (0,)
        numpy_axis = axis - depth + 1
        if not 1 <= numpy_axis < len(shape):
            msg = f"axis={axis} is too deep"
            raise TypeError(msg)
        return int(shape[numpy_axis])
    if layout.is_option or layout.is_indexed:
        return _awkward_layout_len(layout.content, axis, depth)
    if layout.is_union:
        sizes = {_awkward_layout_len(c, axis, depth) for c in layout.contents}
        return sizes.pop() if len(sizes) == 1 else -1
    if layout.is_record:
        if depth == axis:
            return len(layout.fields)
        msg = f"Cannot recurse into record type found at axis={axis}"
        raise TypeError(msg)
    if layout.is_list:
        if layout.parameter("__array__") in {"string", "bytestring"}:
            msg = f"axis={axis} is too deep"
            raise TypeError(msg)
        if depth == axis:
            return int(layout.size) if layout.is_regular else -1
        return _awkward_layout_len(layout.content, axis, depth + 1)
    msg = f"Cannot determine the length of axis={axis} of {type(layout).__name__}"
    raise TypeError(msg)


def _axis_len(x: Any, axis: int) -> int | None:
    if _is_awkward(x):
        return _awkward_axis_len(x, axis)
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) <= axis:
        return None
    return shape[axis]


class AlignedMappingBase(MutableMapping):
    """Shared behaviour of aligned mappings: validation, repr, copy and views."""

    _allow_df: ClassVar[bool] = False
    _view_class: ClassVar[type]
    _actual_class: ClassVar[type]
    is_view: ClassVar[bool]
    _parent: Any

    @property
    def parent(self) -> Any:
        """The AnnData (or Raw) this mapping is aligned to."""
        return self._parent

    @property
    def attrname(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def axes(self) -> tuple[int, ...]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__} with keys: {', '.join(map(repr, self.keys()))}"

    def _ipython_key_completions_(self) -> list[Any]:
        return list(self.keys())

    def _validate_value(self, val: Any, key: Any) -> Any:
        if isinstance(val, np.ndarray) and val.ndim == 1:
            val = val.reshape((val.shape[0], 1))
        name = f"{self.attrname.title().rstrip('s')} {key!r}"
        if not _is_awkward(val):  # awkward arrays have no .shape/.dtype; checked below
            val = coerce_array(val, name=name, allow_df=self._allow_df)
        expected = tuple(self.parent.shape[a] for a in self.axes)
        actual = tuple(_axis_len(val, i) for i in range(len(self.axes)))
        if _is_awkward(val):
            _warn_awkward_experimental()
            ragged = [i for i, n in enumerate(actual) if n is None]
            if ragged:
                i = ragged[0]
                msg = (
                    f"Value passed for key {key!r} is an awkward array of variable length in "
                    f"dimension {_DIMS[self.axes[i]]!r}; {self.attrname} needs a regular "
                    f"dimension there. Try ak.to_regular(array, {i}) first."
                )
                raise ShapeMismatchError(msg)
        if actual != expected:
            dims = tuple(_DIMS[a] for a in self.axes)
            msg = (
                f"Value passed for key {key!r} is of incorrect shape. "
                f"Values of {self.attrname} must match dimensions {dims} of parent. "
                f"Value had shape {actual} while it should have had {expected}."
            )
            raise ShapeMismatchError(msg)
        return val

    def copy(self) -> dict:
        """A plain dict with a copy of every value."""
        return {k: (v if v is None else _shallow_copy(v) if not hasattr(v, "copy") else v.copy()) for k, v in self.items()}

    def to_dict(self) -> dict:
        """A plain dict of the (uncopied) values."""
        return dict(self.items())

    def as_dict(self) -> dict:
        """Alias of :meth:`to_dict` (anndata's deprecated name)."""
        return self.to_dict()

    def _view(self, parent_view: AnnData, subset_idx: tuple[Any, ...]) -> Any:
        return self._view_class(self, parent_view, subset_idx)


class AlignedActual(AlignedMappingBase):
    """An aligned mapping owning its data (a dict stored on the parent)."""

    is_view: ClassVar[bool] = False

    def __init__(self, parent: Any, *, store: MutableMapping, validate: bool = True) -> None:
        self._parent = parent
        self._data = store
        if validate:
            for k, v in list(store.items()):
                if v is not None:
                    store[k] = self._validate_value(v, k)

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        if value is None:
            if key is None:
                self._data.pop(None, None)
            else:
                self._data[key] = None
            return
        self._data[key] = self._validate_value(value, key)

    def __delitem__(self, key: Any) -> None:
        if key is None:
            self._data.pop(None, None)
            return
        if key not in self._data:
            msg = f"{key!r} not found in {self.attrname} (keys: {list(self._data)})"
            raise KeyError(msg)
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class AlignedView(AlignedMappingBase):
    """A lazily subset, copy-on-write view of an aligned mapping of a view's parent."""

    is_view: ClassVar[bool] = True

    def __init__(self, parent_mapping: AlignedMappingBase, parent_view: AnnData, subset_idx: tuple[Any, ...]) -> None:
        self.parent_mapping = parent_mapping
        self._parent = parent_view
        self.subset_idx = subset_idx
        if hasattr(parent_mapping, "_axis"):
            self._axis = parent_mapping._axis

    def __getitem__(self, key: Any) -> Any:
        value = self.parent_mapping[key]
        if value is None:
            return None
        return as_view(subset(value, self.subset_idx), ElementRef(self.parent, self.attrname, (key,)))

    def __setitem__(self, key: Any, value: Any) -> None:
        if value is not None:
            value = self._validate_value(value, key)  # validate before copying anything
        msg = f"Setting element `.{self.attrname}['{key}']` of view, initializing view as actual."
        warnings.warn(msg, ImplicitModificationWarning, stacklevel=2)
        with view_update(self.parent, self.attrname) as new:
            if value is None:
                del new[key]
            else:
                new[key] = value

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            msg = f"{key!r} not found in view of {self.attrname}"
            raise KeyError(msg)
        if not (key is None and self.attrname == "layers"):
            msg = f"Removing element `.{self.attrname}['{key}']` of view, initializing view as actual."
            warnings.warn(msg, ImplicitModificationWarning, stacklevel=2)
        with view_update(self.parent, self.attrname) as new:
            del new[key]

    def __contains__(self, key: object) -> bool:
        return key in self.parent_mapping

    def __iter__(self) -> Iterator[Any]:
        return iter(self.parent_mapping)

    def __len__(self) -> int:
        return len(self.parent_mapping)


# --- obsm / varm -------------------------------------------------------------------------------


class AxisArraysBase(AlignedMappingBase):
    """Mapping of key → array aligned to one axis (obsm, varm); DataFrames are allowed."""

    _allow_df: ClassVar[bool] = True
    _axis: int

    @property
    def attrname(self) -> str:
        return f"{self.dim}m"

    @property
    def axes(self) -> tuple[int, ...]:
        return (self._axis,)

    @property
    def dim(self) -> str:
        """``"obs"`` or ``"var"``."""
        return _DIMS[self._axis]

    @property
    def dim_names(self) -> pd.Index:
        """The names of the aligned axis."""
        return (self.parent.obs_names, self.parent.var_names)[self._axis]

    def _validate_value(self, val: Any, key: Any) -> Any:
        if isinstance(val, pd.DataFrame):
            _check_no_multiindex_columns(val, f"{self.attrname}[{key!r}]")
            names = self.dim_names
            if not val.index.equals(names):
                msg = (
                    f"value.index does not match parent’s {self.dim} names for "
                    f"{self.attrname}[{key!r}]: expected {list(names[:5])}{'...' if len(names) > 5 else ''} "
                    f"({len(names)}); got {list(val.index[:5])}{'...' if len(val.index) > 5 else ''} "
                    f"({len(val.index)})."
                )
                raise ValueError(msg)
            val.index.name = names.name
        return super()._validate_value(val, key)

    def to_df(self) -> pd.DataFrame:
        """Flatten into one DataFrame with columns ``<key>1``, ``<key>2``, ..."""
        df = pd.DataFrame(index=self.dim_names)
        for key in self.keys():
            value = self[key]
            if isinstance(value, pd.DataFrame):
                value = value.to_numpy()
            elif sparse.issparse(value):
                value = value.toarray()
            for i, column in enumerate(np.asarray(value).T):
                df[f"{key}{i + 1}"] = column
        return df


class AxisArrays(AlignedActual, AxisArraysBase):
    """``obsm`` / ``varm`` of an actual AnnData."""

    def __init__(self, parent: Any, *, axis: int, store: MutableMapping, validate: bool = True) -> None:
        if axis not in (0, 1):
            msg = f"Expected axis 0 or 1; got {axis!r} instead."
            raise ValueError(msg)
        self._axis = axis
        super().__init__(parent, store=store, validate=validate)


class AxisArraysView(AlignedView, AxisArraysBase):
    """``obsm`` / ``varm`` of a view."""


AxisArraysBase._view_class = AxisArraysView
AxisArraysBase._actual_class = AxisArrays


# --- layers ------------------------------------------------------------------------------------


class LayersBase(AlignedMappingBase):
    """Mapping of key → array aligned to both axes; ``X`` lives under the key ``None``."""

    attrname: ClassVar[str] = "layers"  # type: ignore[misc]
    axes: ClassVar[tuple[int, ...]] = (0, 1)  # type: ignore[misc]

    def __bool__(self) -> bool:
        return any(k is not None for k in self)

    def _validate_value(self, val: Any, key: Any) -> Any:
        # every explicit set (item, bulk, construction) warns; X (key None) is reported by its setter
        if key is not None and (msg := non_2d_message(val, f"Layer {key!r}")) is not None:
            warnings.warn(msg, UserWarning, stacklevel=4)  # allowed in memory, as in anndata
        return super()._validate_value(val, key)

    def clear(self, *, keep_x: bool | None = None) -> None:  # type: ignore[override]
        """Remove all layers; ``keep_x`` says whether X (key ``None``) is kept (default: kept)."""
        if keep_x is None:
            msg = (
                "`.layers.clear()` currently keeps `.X` (stored under the `None` key), but a "
                "future release may drop it. Pass `keep_x=True` to keep `.X` or `keep_x=False` "
                "to drop it and silence this warning."
            )
            warnings.warn(msg, FutureWarning, stacklevel=2)
            keep_x = True
        for key in [k for k in self if not (keep_x and k is None)]:
            del self[key]


def non_2d_message(value: Any, name: str) -> str | None:
    """anndata's warning text for an X or layer of more than 2 dimensions (``None`` if 2-d)."""
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) <= 2:
        return None
    return (
        f"{name} must be 2-dimensional, but got an array with shape {tuple(shape)} (ndim={len(shape)}). "
        "Storing higher-dimensional arrays in `X` or `layers` violates the AnnData specification, "
        "and cannot be written to disk."
    )


class Layers(AlignedActual, LayersBase):
    """``layers`` of an actual AnnData."""

    @property
    def isbacked(self) -> bool:
        """Whether X is read from the backing file (no in-memory X, a filename set)."""
        return None not in self._data and getattr(self.parent, "_filename", None) is not None

    def __getitem__(self, key: Any) -> Any:
        if key is None and self.isbacked:
            return self.parent._backed_X()
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        if self.isbacked:
            yield None
        yield from self._data

    def __len__(self) -> int:
        return len(self._data) + (1 if self.isbacked else 0)

    def __contains__(self, key: object) -> bool:
        return (key is None and self.isbacked) or key in self._data


class LayersView(AlignedView, LayersBase):
    """``layers`` of a view."""

    @property
    def isbacked(self) -> bool:
        """Whether X is read from the backing file."""
        return bool(getattr(self.parent_mapping, "isbacked", False))


LayersBase._view_class = LayersView
LayersBase._actual_class = Layers


# --- obsp / varp -------------------------------------------------------------------------------


class PairwiseArraysBase(AlignedMappingBase):
    """Mapping of key → square array, both axes aligned to one AnnData axis (obsp, varp)."""

    _axis: int

    @property
    def attrname(self) -> str:
        return f"{self.dim}p"

    @property
    def axes(self) -> tuple[int, ...]:
        return (self._axis, self._axis)

    @property
    def dim(self) -> str:
        """``"obs"`` or ``"var"``."""
        return _DIMS[self._axis]


class PairwiseArrays(AlignedActual, PairwiseArraysBase):
    """``obsp`` / ``varp`` of an actual AnnData."""

    def __init__(self, parent: Any, *, axis: int, store: MutableMapping, validate: bool = True) -> None:
        if axis not in (0, 1):
            msg = f"Expected axis 0 or 1; got {axis!r} instead."
            raise ValueError(msg)
        self._axis = axis
        super().__init__(parent, store=store, validate=validate)


class PairwiseArraysView(AlignedView, PairwiseArraysBase):
    """``obsp`` / ``varp`` of a view."""


PairwiseArraysBase._view_class = PairwiseArraysView
PairwiseArraysBase._actual_class = PairwiseArrays


# --- the descriptor ----------------------------------------------------------------------------


def _to_dict(value: Any) -> dict:
    if value is None:
        return {}
    if isinstance(value, AlignedMappingBase):
        return dict(value.items())
    if type(value) is dict:
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.names is None:
            msg = (
                "Can only convert np.ndarray with compound dtypes to dict, "
                f"passed array had “{value.dtype}”."
            )
            raise TypeError(msg)
        return {k: value[k] for k in value.dtype.names}
    return dict(value)


class AlignedMappingProperty:
    """Descriptor exposing the dict ``_<name>`` of the owner as an aligned mapping."""

    def __init__(self, cls: type, axis: int | None = None, doc: str | None = None) -> None:
        self.cls = cls
        self.axis = axis
        self.name = ""
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def construct(self, obj: Any, *, store: MutableMapping, validate: bool = True) -> Any:
        if self.axis is None:
            return self.cls(obj, store=store, validate=validate)
        return self.cls(obj, axis=self.axis, store=store, validate=validate)

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        if not obj.is_view:
            return self.construct(obj, store=getattr(obj, f"_{self.name}"), validate=False)
        parent = getattr(obj._adata_ref, self.name)
        idxs = (obj._oidx, obj._vidx)
        return parent._view(obj, tuple(idxs[a] for a in parent.axes))

    def __set__(self, obj: Any, value: Any) -> None:
        value = dict(_to_dict(value))
        self.construct(obj, store=value)  # validates and coerces in place
        if obj.is_view:
            obj._init_as_actual(obj.copy())
        if issubclass(self.cls, LayersBase):
            prev = getattr(obj, f"_{self.name}", None)
            if None in value:
                if value[None] is None:
                    del value[None]
            elif prev is not None and prev.get(None) is not None:
                msg = (
                    "Assigning to `.layers` without a `None` key currently preserves `.X` "
                    "(stored under the `None` key), but a future release may drop it. Include "
                    "`.X` explicitly as `{None: adata.X, ...}` to keep it, or `{None: None, ...}` "
                    "to drop it and silence this warning."
                )
                warnings.warn(msg, FutureWarning, stacklevel=2)
                value[None] = prev[None]
        setattr(obj, f"_{self.name}", value)

    def __delete__(self, obj: Any) -> None:
        if issubclass(self.cls, LayersBase):
            x = getattr(obj, f"_{self.name}", {}).get(None)
            if x is not None:
                msg = (
                    "`del adata.layers` currently keeps `.X` (stored under the `None` key), but a "
                    "future release may drop it. Use `adata.layers.clear(keep_x=True)` to keep "
                    "`.X` or `adata.layers.clear(keep_x=False)` to drop it and silence this warning."
                )
                warnings.warn(msg, FutureWarning, stacklevel=2)
                self.__set__(obj, {None: x})
                return
        self.__set__(obj, {})

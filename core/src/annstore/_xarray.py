"""``Dataset2D``: an :class:`xarray.Dataset` that behaves like an obs/var-style DataFrame.

The model keeps xarray datasets (set into obs, var, obsm or varm, or read lazily) wrapped in
:class:`Dataset2D`, which enforces the "dataframe invariants" (one dimension, one coordinate of
the same name) and offers the parts of the DataFrame API the model uses (``index``, ``columns``,
``shape``, ``iloc``, ``copy``, ``to_memory``). xarray is imported only when one is used:
importing this module does not import it.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Dataset2D", "Dataset2DIlocIndexer", "has_dataset2d", "is_dataset2d", "is_xr_dataset", "refuse_dataset2d", "requires_xarray"]

#: Name of the dimension ``read_elem_lazy`` uses when the index is not loaded (``use_range_index``).
DUMMY_RANGE_INDEX_KEY = "_anndata_dummy_range_index"
#: Dummy index names used while concatenating / merging datasets.
DS_CONCAT_DUMMY_INDEX_NAME = "_anndata_concat_index"
DS_MERGE_DUMMY_INDEX_NAME = "_anndata_merge_index"


class Dataset2DIlocIndexer(Protocol):
    """What :attr:`Dataset2D.iloc` returns: positional row selection giving a :class:`Dataset2D`."""

    def __getitem__(self, idx: Any, /) -> Dataset2D: ...


def requires_xarray(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``func`` so that it fails with a clear ``ImportError`` when xarray is missing."""

    # (no PEP 695 type parameters here: annstore supports Python 3.11)
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            import xarray  # noqa: F401
        except ImportError as e:
            msg = "xarray is required to read dataframes lazily. Please install xarray."
            raise ImportError(msg) from e
        return func(*args, **kwargs)

    return wrapper


def _xr() -> Any:
    import xarray

    return xarray


def is_xr_dataset(x: Any) -> bool:
    """Whether ``x`` is an :class:`xarray.Dataset` (without importing xarray)."""
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(x, xr.Dataset)


def is_xr_dataarray(x: Any) -> bool:
    """Whether ``x`` is an :class:`xarray.DataArray` (without importing xarray)."""
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(x, xr.DataArray)


def is_dataset2d(x: Any) -> bool:
    """Whether ``x`` is a :class:`Dataset2D`."""
    return isinstance(x, Dataset2D)


def has_dataset2d(adata: Any) -> bool:
    """Whether obs, var or a value of obsm/varm of ``adata`` is a :class:`Dataset2D`."""
    if any(isinstance(getattr(adata, a), Dataset2D) for a in ("obs", "var")):
        return True
    return any(isinstance(v, Dataset2D) for a in ("obsm", "varm") for v in getattr(adata, a).values())


def refuse_dataset2d(adata: Any) -> None:
    """Raise anndata's ``NotImplementedError`` for a whole-AnnData write holding a ``Dataset2D``."""
    if has_dataset2d(adata):
        msg = (
            "Writing AnnData objects with a Dataset2D not supported yet. "
            "Please use `ds.to_memory` to bring the dataset into memory. "
            "Note that if you have generated this object by concatenating several `AnnData` objects"
            "the original types may be lost."
        )
        raise NotImplementedError(msg)


class Dataset2D(Mapping):
    """An :class:`xarray.Dataset` wrapped to behave like a :class:`pandas.DataFrame` in AnnData.

    It enforces the "dataframe invariants": exactly one dimension and one coordinate of the
    same name (the index). Setting an :class:`xarray.Dataset` into ``obs``, ``var``, ``obsm``
    or ``varm`` wraps it in this class; :func:`annstore.experimental.read_lazy` returns obs
    and var as instances of it.

    Because xarray keeps coordinates in memory, the "true" index (e.g. cell names) may be
    kept as a lazy variable instead (see :attr:`true_index_dim`), with a range index as the
    coordinate.

    Parameters
    ----------
    ds
        The :class:`xarray.Dataset` to wrap.

    Raises
    ------
    TypeError
        If ``ds`` is not an :class:`xarray.Dataset`.
    ValueError
        If ``ds`` has more than one dimension or coordinate, or they differ.
    """

    @staticmethod
    def _validate_shape_invariants(ds: Any) -> None:
        xr = sys.modules.get("xarray")
        if xr is None or not isinstance(ds, xr.Dataset):
            msg = f"Expected an xarray Dataset, found {type(ds)}"
            raise TypeError(msg)
        too_many_coords = len(ds.coords) != 1
        if too_many_coords or len(ds.dims) != 1:
            what, n, rep = (
                ("coordinate", len(ds.coords), ds.coords) if too_many_coords else ("dimension", len(ds.dims), ds.dims)
            )
            msg = f"Dataset should have exactly one {what}, found {n}: {rep}"
            raise ValueError(msg)
        dim, coord = next(iter(ds.dims)), next(iter(ds.coords))
        if dim != coord:
            msg = f"Dataset dimension {dim} does not match coordinate {coord}."
            raise ValueError(msg)

    def __init__(self, ds: Any) -> None:
        Dataset2D._validate_shape_invariants(ds)
        self._ds = ds

    # -------------------------------------------------------------- structure

    @property
    def ds(self) -> Any:
        """The underlying :class:`xarray.Dataset`."""
        return self._ds

    def keys(self) -> list[Hashable]:  # type: ignore[override]
        """The names of the data variables (the columns, plus a lazy true index if any)."""
        return list(iter(self.ds))

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.ds)

    def __len__(self) -> int:
        return len(self.ds)

    def _items(self) -> Iterator[tuple[Hashable, Any]]:
        for col in self:
            yield col, self[col]

    @property
    def is_backed(self) -> bool:
        """Whether the data are backed by a store (set by lazy readers; ``False`` by default)."""
        return self.ds.attrs.get("is_backed", False)

    @is_backed.setter
    def is_backed(self, isbacked: bool) -> None:
        if not isbacked and "is_backed" in self.ds.attrs:
            del self.ds.attrs["is_backed"]
        else:
            self.ds.attrs["is_backed"] = isbacked

    @property
    def index_dim(self) -> str:
        """The name of the lone dimension (and coordinate): the computational index."""
        if len(self.ds.sizes) != 1:
            msg = f"xarray Dataset should not have more than 1 dims, found {len(self.ds.sizes)} {self.ds.sizes}, {self}"
            raise ValueError(msg)
        return next(iter(self.ds.coords.keys()))

    @property
    def true_index_dim(self) -> str:
        """Key of the "true" index: a data variable standing for the index, else :attr:`index_dim`.

        xarray loads coordinates into memory; a lazily read index (cell names over a network,
        say) can instead be kept as a variable, named here, with a range index as coordinate.
        """
        return self.ds.attrs.get("indexing_key", self.index_dim)

    @true_index_dim.setter
    def true_index_dim(self, val: str | None) -> None:
        if val is None or (val == self.index_dim and "indexing_key" in self.ds.attrs):
            self.ds.attrs.pop("indexing_key", None)
        elif val not in self.ds.dims:
            if val not in self.ds.data_vars:
                msg = f"Unknown variable `{val}`."
                raise ValueError(msg)
            self.ds.attrs["indexing_key"] = val

    @property
    def xr_index(self) -> Any:
        """The coordinate of :attr:`index_dim` (an :class:`xarray.DataArray`)."""
        return self.ds[self.index_dim]

    @property
    def index(self) -> pd.Index:
        """The coordinate of :attr:`index_dim` as a :class:`pandas.Index`."""
        return self.ds.indexes[self.index_dim]

    @index.setter
    def index(self, val: Any) -> None:
        xr = _xr()
        index_dim = self.index_dim
        name = getattr(val, "name", None)
        if isinstance(val, pd.Index | xr.DataArray) and name is not None and name != index_dim:
            self._ds = self.ds.swap_dims({index_dim: name}).drop_vars(index_dim)
            if name not in self.ds.coords:
                self.ds.coords[name] = val
            self._validate_shape_invariants(self._ds)
        else:
            self.ds.coords[index_dim] = (index_dim, val)
        if "indexing_key" in self.ds.attrs and name is not None and name == self.ds.attrs["indexing_key"]:
            del self.ds.attrs["indexing_key"]

    @property
    def true_xr_index(self) -> Any:
        """The variable (or coordinate) of :attr:`true_index_dim`."""
        return self.ds[self.true_index_dim]

    @property
    def true_index(self) -> pd.Index:
        """:attr:`true_xr_index` as a :class:`pandas.Index` (reads a lazy index)."""
        xi = self.true_xr_index
        idx = xi.to_index()
        idx.name = xi.name
        return idx

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_columns)``, as :attr:`pandas.DataFrame.shape`."""
        return (self.ds.sizes[self.index_dim], len(self.ds))

    @property
    def iloc(self) -> Dataset2DIlocIndexer:
        """Positional row selection (:meth:`xarray.Dataset.isel`), as :attr:`pandas.DataFrame.iloc`."""
        return _IlocGetter(self.ds, self.index_dim)

    @property
    def columns(self) -> pd.Index:
        """The column names (the data variables except a lazy true index)."""
        cols = set(self.ds.keys())
        key = self.ds.attrs.get("indexing_key", None)
        if key is not None:
            cols.discard(key)
        return pd.Index(cols)

    @columns.setter
    def columns(self, val: Any) -> None:
        if len(self.columns.symmetric_difference(val)) > 0:
            msg = (
                "Trying to rename the keys of the mapping with new names - please use a different "
                "API to rename the keys of the underlying dataset mapping."
            )
            raise ValueError(msg)
        msg = (
            "Renaming or reordering columns on `Dataset2D` has no effect because the underlying "
            "data structure has no apparent ordering on its keys"
        )
        warnings.warn(msg, UserWarning, stacklevel=2)

    @property
    def dtypes(self) -> Mapping[Hashable, Any]:
        """The dtypes of the data variables."""
        return self.ds.dtypes

    # -------------------------------------------------------------- item access

    def __getitem__(self, key: Any) -> Any:
        xr = _xr()
        ret = self.ds.__getitem__(key)
        is_empty = not isinstance(key, tuple) and isinstance(key, Iterable) and not isinstance(key, str) and len(key) == 0
        if is_empty:
            ret.coords[self.index_dim] = self.xr_index
        if isinstance(ret, xr.Dataset):
            as_2d = Dataset2D(ret)
            if not is_empty and self.true_index_dim not in [*as_2d.columns, as_2d.index_dim]:
                as_2d[self.true_index_dim] = self.true_index
            as_2d.is_backed = self.is_backed
            return as_2d
        return ret

    def __setitem__(self, key: Any, value: Any) -> None:  # noqa: PLR0912
        """Set a column (or columns), as on a DataFrame.

        "Standalone" values (arrays, extension arrays) are set along :attr:`index_dim`. Tuples
        ``(dim, values)``, :class:`xarray.DataArray`, :class:`xarray.Variable` and
        :class:`xarray.Dataset` values must have :attr:`index_dim` as their only dimension
        (and coordinate).
        """
        xr = _xr()
        if isinstance(key, Hashable) and key == self.index_dim:
            msg = f"Cannot set the index dimension {self.index_dim} as if it were a variable. Use `ds.index = ...` instead."
            raise KeyError(msg)
        if isinstance(value, tuple):
            if isinstance(value[0], tuple):
                if value[0][0] != self.index_dim:
                    msg = f"Dimension tuple should have only {self.index_dim} as its dimension, found {value[0][0]}"
                    raise ValueError(msg)
                if len(value[0]) > 1:
                    msg = "Dimension tuple is too long."
                    raise ValueError(msg)
            elif value[0] != self.index_dim:
                msg = f"Setting value tuple should have first entry {self.index_dim}, found {value[0]}"
                raise ValueError(msg)
        elif isinstance(value, xr.DataArray | xr.Dataset | xr.Variable):
            typ = type(value).__name__
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dims = list(value.sizes.keys()) if isinstance(value, xr.Dataset) else list(value.dims)
            if isinstance(value, xr.DataArray) and value.name is not None and value.name != key:
                msg = f"{typ} should have name {key}, found {value.name}"
                raise ValueError(msg)
            if len(dims) != 1:
                msg = f"{typ} should have only one dimension, found {len(dims)}"
                raise ValueError(msg)
            if dims[0] != self.index_dim:
                msg = f"{typ} should have dimension {self.index_dim}, found {dims[0]}"
                raise ValueError(msg)
            if not isinstance(value, xr.Variable) and (
                self.index_dim not in value.coords or value.coords[self.index_dim].name != self.index_dim
            ):
                first = next(iter(value.coords.keys()), None)
                found = value.coords[first].name if first is not None else None
                msg = (
                    f"{typ} should have coordinate {self.index_dim} with same name, found "
                    f"{value.coords} with name {found}"
                )
                raise ValueError(msg)
        else:
            value = (self.index_dim, value)
        self.ds.__setitem__(key, value)

    # -------------------------------------------------------------- conversion

    def copy(self, data: Mapping | None = None, *, deep: bool = False) -> Dataset2D:
        """A copy (see :meth:`xarray.Dataset.copy`), keeping the true index and backed flag.

        Parameters
        ----------
        data
            New data for the variables (as in :meth:`xarray.Dataset.copy`).
        deep
            Whether to copy the arrays too.

        Returns
        -------
        The copy.
        """
        as_2d = Dataset2D(self.ds.copy(deep=deep, data=data))
        as_2d.true_index_dim = self.true_index_dim
        as_2d.is_backed = self.is_backed
        return as_2d

    def to_memory(self, *, copy: bool = False) -> pd.DataFrame:
        """Load into a :class:`pandas.DataFrame`.

        The index comes from :attr:`true_index_dim` where that differs from :attr:`index_dim`.

        Parameters
        ----------
        copy
            Unused (for API compatibility).

        Returns
        -------
        The DataFrame.
        """
        index_key = self.ds.attrs.get("indexing_key", None)
        all_columns = {*self.columns, *([] if index_key is None else [index_key])}
        nullable_str = {c for c in all_columns if self[c].attrs.get("is_nullable_string", False)}
        df = self.ds.to_dataframe()
        for col in nullable_str:
            if col == index_key:
                df[col] = df[col].astype(str) if df[col].dtype != object else df[col].map(str)
            else:
                df[col] = df[col].astype("string")
        if index_key is not None and df.index.name != index_key:
            df = df.set_index(index_key)
        if df.index.name in {"_index", DS_CONCAT_DUMMY_INDEX_NAME, DS_MERGE_DUMMY_INDEX_NAME}:
            df.index.name = None
        return df

    def equals(self, b: object) -> bool:
        """Whether ``b`` holds the same data (:meth:`xarray.Dataset.equals`).

        Parameters
        ----------
        b
            Another :class:`Dataset2D` (anything else is not equal).

        Returns
        -------
        bool
        """
        if isinstance(b, Dataset2D):
            b = b.ds
        return bool(self.ds.equals(b))

    def reindex(self, index: pd.Index | None = None, axis: int = 0, fill_value: Any = np.nan) -> Dataset2D:
        """Reindex the rows against ``index``.

        Parameters
        ----------
        index
            The new index.
        axis
            Only ``0`` is supported.
        fill_value
            Value for new rows.

        Returns
        -------
        The reindexed dataset.
        """
        xr = _xr()
        if axis != 0:
            msg = f"Only axis 0 is supported, got axis: {axis}"
            raise ValueError(msg)
        index_dim = self.index_dim
        ext = {col: data for col, data in self._items() if pd.api.types.is_extension_array_dtype(data.dtype)}
        el = self.ds.drop_vars(list(ext.keys()))
        el = el.reindex({index_dim: index}, method=None, fill_value=fill_value)
        for col, data in ext.items():
            el[col] = xr.DataArray.from_series(
                pd.Series(data.data, index=self.index).reindex(
                    index.rename(self.index.name) if index is not None else index, fill_value=fill_value
                )
            )
        return Dataset2D(el)

    def __repr__(self) -> str:
        return f"Dataset2D\n{self.ds!r}"


class _IlocGetter:
    __slots__ = ("_coord", "_ds")

    def __init__(self, ds: Any, coord: str) -> None:
        self._ds = ds
        self._coord = coord

    def __getitem__(self, idx: Any) -> Dataset2D:
        if isinstance(idx, tuple) and len(idx) == 1:
            idx = idx[0]
        if isinstance(idx, np.ndarray) and idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return Dataset2D(self._ds.isel(**{self._coord: idx}))

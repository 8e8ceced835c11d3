"""Lazy xarray backend arrays for categorical and nullable dataframe columns (needs xarray).

Both wrap store arrays (annstore ``ArrayLike`` nodes) and read only what an indexing
operation asks for, through :func:`xarray.core.indexing.explicit_indexing_adapter`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from xarray.backends import BackendArray
from xarray.core.extension_array import PandasExtensionArray
from xarray.core.indexing import IndexingSupport, explicit_indexing_adapter

from .._settings import settings

__all__ = ["CategoricalArray", "MaskedArray", "StoreArrayWrapper"]


def _reopen_column(path: Any, fmt: str | None, elem_name: str) -> Any:
    """Unpickle a lazy column of a file: reopen the file read-only, rebuild the column."""
    from ..io._dispatch import as_node  # noqa: F401 - plugins register node adapters
    from ..io._plugins import open_store_root
    from ._lazy import _lazy_column

    key = (str(path), fmt)
    root = _OPEN_ROOTS.get(key)
    if root is None:
        root = open_store_root(path, format=fmt, mode="r")
        _OPEN_ROOTS[key] = root
    return _lazy_column(root[elem_name], None)


#: Files reopened by unpickled lazy columns (one read-only handle per file and process).
_OPEN_ROOTS: dict[tuple[str, str | None], Any] = {}


class _ReopenByPath:
    """Pickle support: columns of a file reopen it by path (h5py handles do not pickle)."""

    base_path_or_zarr_group: Any
    elem_name: str
    file_format: str | None

    def __reduce__(self) -> Any:
        from pathlib import Path

        if isinstance(self.base_path_or_zarr_group, Path):
            return (_reopen_column, (self.base_path_or_zarr_group, self.file_format, self.elem_name))
        return super().__reduce__()  # type: ignore[misc]


class StoreArrayWrapper(BackendArray):
    """An xarray backend array over one 1-d store array (outer indexing, one vector)."""

    def __init__(self, array: Any) -> None:
        self._array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.chunks = getattr(array, "chunks", None)

    def __getitem__(self, key: Any) -> Any:
        return explicit_indexing_adapter(key, self.shape, IndexingSupport.OUTER_1VECTOR, self._getitem)

    def _getitem(self, key: tuple[Any, ...]) -> Any:
        if not isinstance(key, tuple):
            msg = f"`xr.core.indexing.explicit_indexing_adapter` should have produced a tuple, got {type(key)} instead"
            raise ValueError(msg)
        if len(key) != 1:
            msg = f"Backed arrays currently only supported in 1d, got {len(key)} dims"
            raise ValueError(msg)
        k = key[0]
        if isinstance(k, np.ndarray) and k.dtype.kind in "iu":
            if k.size == 0:
                return np.asarray(self._array[0:0])
            # read the covering range once, then pick (one read, whatever the backend)
            lo, hi = int(k.min()), int(k.max()) + 1
            return np.asarray(self._array[lo:hi])[k - lo]
        if isinstance(k, int | np.integer):
            return np.asarray(self._array[int(k) : int(k) + 1])[0]
        return np.asarray(self._array[k])


class CategoricalArray(_ReopenByPath, BackendArray):
    """A lazy categorical column: codes read on indexing, categories once, on first use.

    The API beyond :class:`xarray.backends.BackendArray` is not guaranteed to stay stable.

    Parameters
    ----------
    codes
        The store array of integer codes.
    categories
        The store node of the categories.
    base_path_or_zarr_group
        Path (or store) the column belongs to.
    elem_name
        Name of the element in the store.
    ordered
        Whether the categories are ordered.
    """

    def __init__(self, codes: Any, categories: Any, base_path_or_zarr_group: Any, elem_name: str, *args: Any, ordered: bool, **kwargs: Any) -> None:
        self._categories = categories
        self._ordered = bool(ordered)
        self._codes = StoreArrayWrapper(codes)
        self.shape = self._codes.shape
        self.base_path_or_zarr_group = base_path_or_zarr_group
        self.file_format = getattr(codes, "format", None)
        self.elem_name = elem_name

    @cached_property
    def categories(self) -> Any:
        """The categories (read from the store once)."""
        from ..io._dispatch import read_elem

        cats = read_elem(self._categories)
        return cats

    def __getitem__(self, key: Any) -> PandasExtensionArray:
        codes = self._codes[key]
        cat = pd.Categorical.from_codes(codes=codes, categories=self.categories, ordered=self._ordered)
        if settings.remove_unused_categories:
            cat = cat.remove_unused_categories()
        return PandasExtensionArray(cat)

    @cached_property
    def dtype(self) -> pd.CategoricalDtype:
        """The :class:`pandas.CategoricalDtype` (reads the categories)."""
        return pd.CategoricalDtype(categories=self.categories, ordered=self._ordered)


_NULLABLE_DTYPES = {"b": pd.BooleanDtype(), "f": None}


def _pandas_nullable_dtype(dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return pd.BooleanDtype()
    if dtype.kind in "iu":
        return pd.api.types.pandas_dtype(f"{'U' if dtype.kind == 'u' else ''}Int{dtype.itemsize * 8}")
    if dtype.kind == "f":
        return pd.api.types.pandas_dtype(f"Float{dtype.itemsize * 8}")
    msg = f"No nullable pandas dtype for {dtype}"
    raise NotImplementedError(msg)


class MaskedArray(_ReopenByPath, BackendArray):
    """A lazy nullable column (integer, boolean or string): values and mask read on indexing.

    The API beyond :class:`xarray.backends.BackendArray` is not guaranteed to stay stable.

    Parameters
    ----------
    values
        The store array of values.
    dtype_str
        ``"nullable-integer"``, ``"nullable-boolean"`` or ``"nullable-string-array"``.
    mask
        The store array of the mask (``True`` where missing).
    base_path_or_zarr_group
        Path (or store) the column belongs to.
    elem_name
        Name of the element in the store.
    """

    def __init__(self, values: Any, dtype_str: str, mask: Any, base_path_or_zarr_group: Any, elem_name: str) -> None:
        self._mask = StoreArrayWrapper(mask)
        self._values = StoreArrayWrapper(values)
        self._dtype_str = dtype_str
        self.shape = self._values.shape
        self.base_path_or_zarr_group = base_path_or_zarr_group
        self.file_format = getattr(values, "format", None)
        self.elem_name = elem_name

    def __getitem__(self, key: Any) -> Any:
        values = self._values[key]
        mask = np.asarray(self._mask[key], dtype=bool)
        if isinstance(self.dtype, np.dtypes.StringDType):
            out = np.asarray(values).astype(self.dtype)
            out[mask] = pd.NA
            return out
        cls = self.dtype.construct_array_type()
        return PandasExtensionArray(cls(np.asarray(values), mask))

    @cached_property
    def dtype(self) -> Any:
        """The pandas masked dtype (or numpy's ``StringDType`` with ``pd.NA`` for strings)."""
        if self._dtype_str == "nullable-string-array":
            return np.dtypes.StringDType(na_object=pd.NA)
        try:
            return _pandas_nullable_dtype(self._values.dtype)
        except NotImplementedError:
            msg = f"Invalid dtype_str {self._dtype_str}"
            raise RuntimeError(msg) from None

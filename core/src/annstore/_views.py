"""Copy-on-write views: array, sparse, DataFrame and dict views of an AnnData view's elements."""

from __future__ import annotations

import sys
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from ._index import is_dask_array
from ._settings import settings
from .errors import ImplicitModificationWarning

if TYPE_CHECKING:
    from ._anndata import AnnData

__all__ = [
    "ArrayView",
    "DataFrameView",
    "DictView",
    "ElementRef",
    "SparseCSCArrayView",
    "SparseCSCMatrixView",
    "SparseCSRArrayView",
    "SparseCSRMatrixView",
    "as_view",
    "view_update",
]


class ElementRef(NamedTuple):
    """Where a viewed element lives: ``getattr(parent, attrname)[keys[0]][keys[1]]...``."""

    parent: AnnData
    attrname: str
    keys: tuple[Any, ...] = ()


def _warn_actualize(what: str) -> None:
    msg = f"Trying to modify attribute `.{what}` of view, initializing view as actual."
    warnings.warn(msg, ImplicitModificationWarning, stacklevel=4)


@contextmanager
def view_update(adata_view: AnnData, attrname: str, keys: tuple[Any, ...] = ()) -> Iterator[Any]:
    """Turn ``adata_view`` into an actual AnnData; yield the (copied) element to modify.

    The view is copied, the caller mutates the yielded container in the copy, and the view
    then takes over the copy's data: the parent is never touched.
    """
    new = adata_view.copy()
    container = getattr(new, attrname)
    for k in keys:
        container = container[k]
    yield container
    adata_view._init_as_actual(new)


def _ref(view_args: Any) -> ElementRef | None:
    if view_args is None or isinstance(view_args, ElementRef):
        return view_args
    return ElementRef(*view_args)


class _SetItemMixin:
    """Intercepts item assignment: a view is actualised before the assignment is applied."""

    _view_args: ElementRef | None

    def __setitem__(self, idx: Any, value: Any) -> None:
        ref = getattr(self, "_view_args", None)
        if ref is None:
            super().__setitem__(idx, value)  # type: ignore[misc]
            return
        _warn_actualize(ref.attrname)
        with view_update(*ref) as container:
            container[idx] = value


class ArrayView(_SetItemMixin, np.ndarray):
    """A numpy array belonging to a view; writing to it actualises the view."""

    def __new__(cls, input_array: Any, view_args: Any = None) -> ArrayView:
        arr = np.asanyarray(input_array).view(cls)
        arr._view_args = _ref(view_args)
        return arr

    def __array_finalize__(self, obj: Any) -> None:
        if obj is not None:
            self._view_args = getattr(obj, "_view_args", None)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        def plain(xs: Any) -> tuple[Any, ...]:
            return tuple(x.view(np.ndarray) if isinstance(x, ArrayView) else x for x in xs)

        if out is not None:
            out = kwargs["out"] = plain(out)
        result = getattr(ufunc, method)(*plain(inputs), **kwargs)
        if out is not None:  # in-place: hand back the plain outputs (``v.X += 1`` stores an ndarray)
            return out[0] if len(out) == 1 else out
        return result

    def __reduce__(self) -> Any:
        return np.array(self).__reduce__()

    def keys(self) -> Any:
        """Field names of a structured array."""
        return self.dtype.names

    def copy(self, order: Any = "C") -> np.ndarray:  # type: ignore[override]
        """A plain (non-view) numpy copy."""
        return np.array(self, order=order)

    def toarray(self) -> np.ndarray:
        """A plain numpy copy (mirrors the sparse API)."""
        return self.copy()


class _SparseViewMixin(_SetItemMixin):
    _plain: ClassVar[type]

    def __init__(self, *args: Any, view_args: Any = None, **kwargs: Any) -> None:
        self._view_args = _ref(view_args)
        super().__init__(*args, **kwargs)

    def copy(self) -> Any:
        """A plain (non-view) sparse copy."""
        return self._plain((self.data.copy(), self.indices.copy(), self.indptr.copy()), shape=self.shape)

    def __reduce__(self) -> Any:
        return self.copy().__reduce__()


class SparseCSRMatrixView(_SparseViewMixin, sparse.csr_matrix):
    """A ``csr_matrix`` belonging to a view."""

    _plain = sparse.csr_matrix


class SparseCSCMatrixView(_SparseViewMixin, sparse.csc_matrix):
    """A ``csc_matrix`` belonging to a view."""

    _plain = sparse.csc_matrix


class SparseCSRArrayView(_SparseViewMixin, sparse.csr_array):
    """A ``csr_array`` belonging to a view."""

    _plain = sparse.csr_array


class SparseCSCArrayView(_SparseViewMixin, sparse.csc_array):
    """A ``csc_array`` belonging to a view."""

    _plain = sparse.csc_array


class DictView(_SetItemMixin, dict):
    """``uns`` of a view: reading is free, any mutation actualises the view first.

    Nested dicts are returned as ``DictView`` too, so nested edits never reach the parent.
    """

    def __init__(self, *args: Any, view_args: Any = None, **kwargs: Any) -> None:
        self._view_args = _ref(view_args)
        super().__init__(*args, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        ref = self._view_args
        if ref is not None and isinstance(value, dict) and not isinstance(value, DictView):
            return DictView(value, view_args=(ref.parent, ref.attrname, (*ref.keys, key)))
        return value

    def _mutate(self, name: str, *args: Any) -> Any:
        ref = self._view_args
        if ref is None:
            return getattr(dict, name)(self, *args)
        _warn_actualize(ref.attrname.lstrip("_"))
        with view_update(*ref) as container:
            result = getattr(container, name)(*args)
        return result

    def __delitem__(self, key: Any) -> None:
        self._mutate("__delitem__", key)

    def pop(self, *args: Any) -> Any:  # type: ignore[override]
        """Remove a key (actualising the view)."""
        return self._mutate("pop", *args)

    def popitem(self) -> Any:
        """Remove an item (actualising the view)."""
        return self._mutate("popitem")

    def clear(self) -> None:
        """Remove all keys (actualising the view)."""
        self._mutate("clear")

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update keys (actualising the view)."""
        self._mutate("update", dict(*args, **kwargs))

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """Set a default (actualising the view only if ``key`` is missing)."""
        if key in self:
            return self[key]
        self._mutate("setdefault", key, default)
        return default

    def copy(self) -> dict:  # type: ignore[override]
        """A shallow, plain copy of the viewed mapping (``dict.copy`` semantics, as anndata)."""
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {deepcopy(k, memo): deepcopy(v, memo) for k, v in dict.items(self)}

    def __reduce__(self) -> Any:
        return dict, (dict(self),)


class DataFrameView(_SetItemMixin, pd.DataFrame):
    """``obs``/``var`` (or a DataFrame in ``obsm``) of a view; mutations actualise the view."""

    _metadata: ClassVar[list[str]] = ["_view_args"]

    def __init__(self, *args: Any, view_args: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_view_args", _ref(view_args))
        super().__init__(*args, **kwargs)

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def __setattr__(self, key: str, value: Any) -> None:
        ref = self.__dict__.get("_view_args")
        if ref is not None and key in {"index", "columns"}:
            msg = (
                f"Trying to modify {key} of attribute `.{ref.attrname}` of view, "
                "initializing view as actual."
            )
            warnings.warn(msg, ImplicitModificationWarning, stacklevel=2)
            with view_update(*ref) as container:
                setattr(container, key, value)
            return
        super().__setattr__(key, value)

    def __delitem__(self, key: Any) -> None:
        ref = self._view_args
        if ref is None:
            super().__delitem__(key)
            return
        _warn_actualize(ref.attrname)
        with view_update(*ref) as container:
            del container[key]

    def _inplace(self, name: str, *args: Any, **kwargs: Any) -> Any:
        ref = self._view_args
        if not kwargs.get("inplace") or ref is None:
            kwargs.pop("inplace", None)
            return getattr(pd.DataFrame(self), name)(*args, **kwargs)
        _warn_actualize(ref.attrname)
        with view_update(*ref) as container:
            getattr(container, name)(*args, **kwargs)
        return None

    def drop(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """``DataFrame.drop``; ``inplace=True`` actualises the view."""
        return self._inplace("drop", *args, **kwargs)

    def rename(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """``DataFrame.rename``; ``inplace=True`` actualises the view."""
        return self._inplace("rename", *args, **kwargs)

    def __reduce__(self) -> Any:
        return pd.DataFrame(self).__reduce__()


def _remove_unused_categories(df: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if cols:
        df = df.copy(deep=False)
        for c in cols:
            df[c] = df[c].cat.remove_unused_categories()
    return df


#: Awkward views keep their reference to the AnnData view in an awkward parameter (awkward
#: arrays are subclassed through ``ak.behavior``, and parameters must be JSON-able): the
#: parameter holds a key into this registry of weak references.
_AWK_PARAM: Final = "_view_args"
_AWK_BEHAVIOR: Final = "AwkwardArrayView"
_awk_parents: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_awk_view_class: type | None = None


def _awkward_view_class() -> type:
    global _awk_view_class
    if _awk_view_class is None:
        import awkward as ak

        class AwkwardArrayView(_SetItemMixin, ak.Array):  # type: ignore[misc]
            """An awkward array of an AnnData view: field assignment actualises the view."""

            @property
            def _view_args(self) -> ElementRef | None:  # type: ignore[override]
                p = self.layout.parameter(_AWK_PARAM)
                if p is None:
                    return None
                key, attrname, keys = p
                parent = _awk_parents.get(key)
                return None if parent is None else ElementRef(parent, attrname, tuple(keys))

            def __copy__(self) -> Any:
                # a plain awkward array without the view's parameters (set to None, as anndata)
                out = ak.with_parameter(self, _AWK_PARAM, None)
                return ak.with_parameter(out, "__list__", None)

        ak.behavior[_AWK_BEHAVIOR] = AwkwardArrayView
        _awk_view_class = AwkwardArrayView
    return _awk_view_class


def _is_awkward(obj: Any) -> bool:
    ak = sys.modules.get("awkward")
    return ak is not None and isinstance(obj, ak.Array)


def _awkward_view(obj: Any, view_args: Any) -> Any:
    import awkward as ak

    cls = _awkward_view_class()
    if isinstance(obj, cls):
        return obj
    if type(obj) is not ak.Array:
        msg = (
            "Cannot create a view of an awkward array with __array__ parameter. "
            "Please open an issue in the AnnData repo and describe your use-case."
        )
        raise NotImplementedError(msg)
    ref = _ref(view_args)
    key = f"target-{id(ref.parent)}"
    _awk_parents[key] = ref.parent
    out = ak.with_parameter(obj, _AWK_PARAM, (key, ref.attrname, list(ref.keys)))
    return ak.with_parameter(out, "__list__", _AWK_BEHAVIOR)


_dask_view_class: type | None = None


def _dask_view(obj: Any, view_args: Any) -> Any:
    """A dask array of an AnnData view: item assignment actualises the view (as anndata's
    ``DaskArrayView``); dask operations on it give plain dask arrays."""
    global _dask_view_class
    if _dask_view_class is None:
        import dask.array as da

        class DaskArrayView(_SetItemMixin, da.Array):
            """A dask array belonging to a view; writing to it actualises the view."""

            def __new__(cls, input_array: Any, view_args: Any = None) -> Any:
                arr = super().__new__(
                    cls, dask=input_array.dask, name=input_array.name, chunks=input_array.chunks,
                    dtype=input_array.dtype, meta=input_array._meta, shape=input_array.shape,
                )
                arr._view_args = _ref(view_args)
                return arr

        _dask_view_class = DaskArrayView
    if isinstance(obj, _dask_view_class):
        return obj
    return _dask_view_class(obj, view_args)


def as_view(obj: Any, view_args: Any) -> Any:
    """Wrap ``obj`` (a subset of an element of a view's parent) in its view class.

    Types without a view class (backed datasets, other array-likes) are returned unchanged:
    they are either immutable or lazy.
    """
    if isinstance(obj, ArrayView | DictView | DataFrameView | _SparseViewMixin):
        return obj
    if isinstance(obj, np.ndarray):
        return ArrayView(obj, view_args=view_args)
    if isinstance(obj, pd.DataFrame):
        if settings.remove_unused_categories:
            obj = _remove_unused_categories(obj)
        return DataFrameView(obj, view_args=view_args)
    if isinstance(obj, sparse.csr_matrix):
        return SparseCSRMatrixView(obj, view_args=view_args)
    if isinstance(obj, sparse.csc_matrix):
        return SparseCSCMatrixView(obj, view_args=view_args)
    if isinstance(obj, sparse.csr_array):
        return SparseCSRArrayView(obj, view_args=view_args)
    if isinstance(obj, sparse.csc_array):
        return SparseCSCArrayView(obj, view_args=view_args)
    if isinstance(obj, dict):
        return DictView(obj, view_args=view_args)
    if _is_awkward(obj):
        return _awkward_view(obj, view_args)
    if is_dask_array(obj):
        return _dask_view(obj, view_args)
    return obj

"""Utilities of ``anndata.utils`` that clients and tests use.

Each function mirrors the behaviour of the anndata name it is called after.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial, singledispatch
from types import UnionType
from typing import Any, Literal, get_args, get_origin

try:
    from typing import TypeAliasType
except ImportError:  # Python 3.11 has no ``type`` statement, hence no aliases to resolve

    class TypeAliasType:  # type: ignore[no-redef]
        pass


import numpy as np
import pandas as pd
from scipy import sparse

from ._model_frames import make_index_unique
from .errors import user_stacklevel

__all__ = [
    "asarray",
    "axis_len",
    "convert_dictionary_to_structured_array",
    "convert_to_dict",
    "deprecation_msg",
    "ensure_df_homogeneous",
    "get_literal_members",
    "get_union_members",
    "import_name",
    "join_english",
    "make_index_unique",
    "warn",
    "warn_names_duplicates",
    "warn_once",
]


def warn(msg: str, category: type[Warning] = UserWarning, *, stacklevel: int | None = None) -> None:
    """:func:`warnings.warn`, attributed to the user's line.

    Parameters
    ----------
    msg
        The message.
    category
        The warning class.
    stacklevel
        As for :func:`warnings.warn`, counted from the caller of this function (2: the caller's
        caller). ``None`` (default): the first line outside annstore and its plugins, whatever
        the call depth, as anndata's warnings are attributed.
    """
    if stacklevel is None:
        warnings.warn(msg, category, stacklevel=user_stacklevel())
    else:
        warnings.warn(msg, category, stacklevel=stacklevel + 1)


def redirect_deprecated(
    name: str, mapping: Mapping[str, str], old_module: str | None = None, *, modules: Mapping[str, Any]
) -> Any:
    """Resolve a name that anndata moved: warn (``FutureWarning``) and return ``<package>.<new path>``.

    Parameters
    ----------
    name
        The old name, looked up in ``mapping`` (old name -> dotted path under the package).
    old_module
        The submodule it was imported from (``None``: the package itself).
    modules
        The caller's modules the new paths start with (``{"io": annstore.io}``): the caller
        imports them, so this module (in the model layer) imports no layer above it.
    """
    old = "anndata" + (f".{old_module}" if old_module else "")
    new_path = mapping.get(name)
    if new_path is None:
        msg = f"module {old} has no attribute {name!r}"
        raise AttributeError(msg)
    msg = f"Importing {name} from `{old}` is deprecated. Import anndata.{new_path} instead."
    warnings.warn(msg, FutureWarning, stacklevel=3)
    head, _, rest = new_path.partition(".")
    obj: Any = modules[head]
    for part in rest.split(".") if rest else ():
        obj = getattr(obj, part)
    return obj


def import_name(full_name: str) -> Any:
    """Import a dotted name: the longest importable module prefix, then attributes.

    Parameters
    ----------
    full_name
        For instance ``"annstore.io.read_h5ad"``.
    """
    from importlib import import_module

    parts = full_name.split(".")
    obj: Any = import_module(parts[0])
    i = 1
    while i < len(parts):
        try:
            obj = import_module(f"{obj.__name__}.{parts[i]}")
        except ModuleNotFoundError:
            break
        i += 1
    for name in parts[i:]:
        try:
            obj = getattr(obj, name)
        except AttributeError as e:
            msg = f"{parts[:i]}, {parts[i:]}, {obj} {name}"
            raise RuntimeError(msg) from e
    return obj


@singledispatch
def asarray(x: Any) -> np.ndarray:
    """Convert ``x`` (numpy, scipy sparse, backed sparse or dense dataset, dask) to a numpy array.

    Parameters
    ----------
    x
        The array-like to convert.

    Returns
    -------
    A dense :class:`numpy.ndarray`.
    """
    if sparse.issparse(x):
        return x.toarray()
    from ._index import is_dask_array

    if is_dask_array(x):  # subclasses too (a view of a dask array)
        return asarray(x.compute())
    mod = type(x).__module__
    if mod.startswith("h5py.") or mod.startswith("zarr."):
        return np.asarray(x[...])
    if hasattr(x, "to_memory") and getattr(x, "format", None) in ("csr", "csc"):
        return asarray(x.to_memory())
    return np.asarray(x)


@singledispatch
def convert_to_dict(obj: Any) -> dict:
    """``obj`` as a dict: a dict as is, a structured array by field, ``None`` as ``{}``.

    Parameters
    ----------
    obj
        A dict, a structured numpy array, ``None``, or anything :class:`dict` accepts.

    Returns
    -------
    dict

    Raises
    ------
    TypeError
        ``obj`` is a numpy array without fields.
    """
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.fields is None:
            msg = (
                "Can only convert np.ndarray with compound dtypes to dict, "
                f"passed array had “{obj.dtype}”."
            )
            raise TypeError(msg)
        return {k: obj[k] for k in obj.dtype.fields}
    return dict(obj)


def axis_len(x: Any, axis: Literal[0, 1]) -> int | None:
    """The size of ``x`` along ``axis``; ``None`` for an awkward array of variable length there.

    Parameters
    ----------
    x
        An array-like element (numpy, scipy sparse, dask, awkward, a DataFrame).
    axis
        0 (rows) or 1 (columns).

    Returns
    -------
    int or None
    """
    if type(x).__module__.startswith("awkward"):
        from ._aligned import _awkward_axis_len

        return _awkward_axis_len(x, axis)
    return x.shape[axis]


def join_english(words: Iterable[str], conjunction: str = "or") -> str:
    """``"a, b, or c"``.

    Parameters
    ----------
    words
        The words, in order.
    conjunction
        The word before the last one.

    Returns
    -------
    str
        ``""`` for no words, the word for one, ``"a or b"`` for two.
    """
    words = list(words)
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]} {conjunction} {words[1]}"
    return ", ".join(words[:-1]) + f", {conjunction} {words[-1]}"


def warn_names_duplicates(attr: str) -> None:
    """Warn that ``obs_names`` / ``var_names`` are not unique, as anndata words it.

    Parameters
    ----------
    attr
        ``"obs"`` or ``"var"``.
    """
    names = "Observation" if attr == "obs" else "Variable"
    msg = f"{names} names are not unique. To make them unique, call `.{attr}_names_make_unique`."
    warn(msg, UserWarning)


def ensure_df_homogeneous(df: pd.DataFrame, name: str) -> np.ndarray | sparse.csr_matrix:
    """A DataFrame as one array (CSR when every column is sparse), warning on mixed dtypes.

    Parameters
    ----------
    df
        The DataFrame (for instance one assigned to ``obsm`` where an array is needed).
    name
        What ``df`` is, for the warning (``"obsm['x']"``).

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
    """
    if len(df.columns) and all(isinstance(dt, pd.SparseDtype) for dt in df.dtypes):
        arr: Any = df.sparse.to_coo().tocsr()
    else:
        arr = df.to_numpy()
    if df.dtypes.nunique() != 1:
        warn(f"{name} converted to numpy array with dtype {arr.dtype}", UserWarning)
    return arr


def convert_dictionary_to_structured_array(source: Mapping[str, Sequence[Any]]) -> np.ndarray:
    """A mapping of 2-d columns as one structured array (strings as ``U``).

    Parameters
    ----------
    source
        Mapping of field names to equally long sequences (or 2-d columns) of values.

    Returns
    -------
    numpy.ndarray
        A structured array with one field per key, one record per row.
    """
    names = list(source.keys())
    try:
        cols = [
            np.asarray(col) if np.array(col[0]).dtype.char not in {"U", "S"} else np.asarray(col).astype("U")
            for col in source.values()
        ]
    except UnicodeEncodeError as e:
        msg = "Currently only support ascii strings. Don’t use “ö” etc. for sample annotation."
        raise ValueError(msg) from e
    dtype_list = [(n, str(c.dtype), (c.shape[1],)) for n, c in zip(names, cols, strict=True)]
    dtype = np.dtype(dtype_list)
    arr = np.zeros((len(cols[0]),), dtype)
    for i, n in enumerate(dtype.names):
        arr[n] = np.array(cols[i], dtype=dtype_list[i][1])
    return arr


def warn_once(msg: str, category: type[Warning]) -> None:
    """Warn, then ignore this message from now on.

    Parameters
    ----------
    msg
        The message.
    category
        The warning class.
    """
    warn(msg, category)
    warnings.filterwarnings("ignore", category=category, message=re.escape(msg))


def deprecation_msg(name: str, new_name: str, add_msg: str | None = None) -> str:
    """``"Use {new_name} instead of {name}."`` (+ ``add_msg``).

    Parameters
    ----------
    name
        The deprecated name.
    new_name
        What to use instead.
    add_msg
        A sentence to append.

    Returns
    -------
    str
    """
    msg = f"Use {new_name} instead of {name}."
    if add_msg is not None:
        msg += f" {add_msg}"
    return msg


def get_union_members(typ: Any, can_get_args: Callable[[object], bool] = lambda _: False) -> tuple[Any, ...]:
    """The members of a (nested) union of types, type aliases resolved.

    Parameters
    ----------
    typ
        A type, a union (``A | B``, ``Union[A, B]``) or a type alias of one.
    can_get_args
        A predicate for other generic forms whose arguments are members too (``Literal``
        for :func:`get_literal_members`).

    Returns
    -------
    tuple
        The members, nested unions flattened.
    """
    while isinstance(typ, TypeAliasType):
        typ = typ.__value__
    if not isinstance(typ, UnionType) and get_origin(typ) is not __import__("typing").Union and not can_get_args(typ):
        return (typ,)
    return tuple(t for sub in get_args(typ) for t in get_union_members(sub, can_get_args))


get_literal_members = partial(get_union_members, can_get_args=lambda x: get_origin(x) is Literal)
"""The values of a (nested) union of ``Literal`` types."""

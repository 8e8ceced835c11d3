"""Equality helpers with readable diffs: ``assert_equal`` for elements, ``assert_adata_equal``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["assert_adata_equal", "assert_equal"]

_STR_KINDS = "OUST"


def _fail(path: str, msg: str) -> None:
    raise AssertionError(f"{path or '<value>'}: {msg}")


def _short(x: Any, n: int = 120) -> str:
    r = repr(x).replace("\n", " ")
    return r if len(r) <= n else r[: n - 3] + "..."


def _is_str_dtype(dt: Any) -> bool:
    return isinstance(dt, pd.StringDtype) or (isinstance(dt, np.dtype) and dt.kind in _STR_KINDS)


def _nan_equal_arrays(a: np.ndarray, b: np.ndarray, path: str) -> None:
    if a.shape != b.shape:
        _fail(path, f"shapes differ: {a.shape} != {b.shape}")
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        eq = (a == b) | (np.isnan(a) & np.isnan(b))
    elif a.dtype.names is not None or b.dtype.names is not None:
        if a.dtype.names != b.dtype.names:
            _fail(path, f"record fields differ: {a.dtype.names} != {b.dtype.names}")
        for name in a.dtype.names or ():
            _nan_equal_arrays(np.asarray(a[name]), np.asarray(b[name]), f"{path}[{name!r}]")
        return
    else:
        eq = np.asarray(a == b)
    if eq.shape != a.shape:
        _fail(path, f"values are not comparable: {_short(a)} vs {_short(b)}")
    if not eq.all():
        bad = np.argwhere(~eq)
        first = tuple(int(i) for i in bad[0])
        _fail(
            path,
            f"{len(bad)} of {a.size} values differ; first at {first}: "
            f"{_short(a[first])} != {_short(b[first])}",
        )


def _assert_array(a: Any, b: Any, path: str, exact: bool) -> None:
    a = np.asarray(a)
    b = np.asarray(b)
    ka, kb = a.dtype.kind, b.dtype.kind
    if ka in _STR_KINDS and kb in _STR_KINDS:
        if ka == "O" or kb == "O":
            _nan_equal_arrays(a.astype(object), b.astype(object), path)
        else:
            _nan_equal_arrays(a, b, path)
        return
    if a.dtype != b.dtype and (exact or ka != kb or a.dtype.names != b.dtype.names):
        _fail(path, f"dtypes differ: {a.dtype} != {b.dtype}")
    _nan_equal_arrays(a, b, path)


def _assert_sparse(a: Any, b: Any, path: str, exact: bool) -> None:
    if not (sparse.issparse(a) and sparse.issparse(b)):
        _fail(path, f"one value is sparse, the other not: {type(a).__name__} vs {type(b).__name__}")
    if a.format != b.format:
        _fail(path, f"sparse formats differ: {a.format} != {b.format}")
    if a.shape != b.shape:
        _fail(path, f"shapes differ: {a.shape} != {b.shape}")
    if a.dtype != b.dtype:
        _fail(path, f"dtypes differ: {a.dtype} != {b.dtype}")
    if exact and isinstance(a, sparse.sparray) != isinstance(b, sparse.sparray):
        _fail(path, f"sparse matrix vs array: {type(a).__name__} != {type(b).__name__}")
    diff = (a != b)
    if diff.nnz:
        _assert_array(a.toarray(), b.toarray(), path, exact)


def _assert_extension(a: Any, b: Any, path: str, exact: bool) -> None:
    if isinstance(a, pd.Categorical) or isinstance(b, pd.Categorical):
        if not (isinstance(a, pd.Categorical) and isinstance(b, pd.Categorical)):
            _fail(path, f"one value is categorical, the other not: {_short(a)} vs {_short(b)}")
        if a.ordered != b.ordered:
            _fail(path, f"ordered differs: {a.ordered} != {b.ordered}")
        _assert_array(
            np.asarray(a.categories, dtype=None if not _is_str_dtype(a.categories.dtype) else object),
            np.asarray(b.categories, dtype=None if not _is_str_dtype(b.categories.dtype) else object),
            f"{path}.categories", exact,
        )
        _assert_array(a.codes, b.codes, f"{path}.codes", exact)
        return
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if not (_is_str_dtype(da) and _is_str_dtype(db)) and str(da) != str(db):
        _fail(path, f"dtypes differ: {da} != {db}")
    if exact and str(da) != str(db):
        _fail(path, f"dtypes differ: {da} != {db}")
    ma, mb = np.asarray(pd.isna(a)), np.asarray(pd.isna(b))
    if ma.shape != mb.shape:
        _fail(path, f"lengths differ: {len(ma)} != {len(mb)}")
    if not (ma == mb).all():
        i = int(np.argmax(ma != mb))
        _fail(path, f"missing values differ; first at {i}: {_short(a[i])} vs {_short(b[i])}")
    va = np.asarray(a, dtype=object)[~ma]
    vb = np.asarray(b, dtype=object)[~mb]
    _nan_equal_arrays(va, vb, path)


def _assert_frame(a: pd.DataFrame, b: pd.DataFrame, path: str, exact: bool) -> None:
    if list(a.columns) != list(b.columns):
        _fail(path, f"columns differ: {list(a.columns)} != {list(b.columns)}")
    if a.shape != b.shape:
        _fail(path, f"shapes differ: {a.shape} != {b.shape}")
    if a.index.name != b.index.name:
        _fail(path, f"index names differ: {a.index.name!r} != {b.index.name!r}")
    assert_equal(a.index._values, b.index._values, path=f"{path}.index", exact=exact)
    for c in a.columns:
        assert_equal(a[c]._values, b[c]._values, path=f"{path}[{c!r}]", exact=exact)


def assert_equal(a: Any, b: Any, *, path: str = "", exact: bool = False) -> None:
    """Assert two stored-element values are equal; the error names the first differing path.

    With ``exact=False`` (default) an ``object`` string array equals a ``str``/``string``
    one and dtypes of the same kind (e.g. ``int32``/``int64`` categories codes) may differ
    only where anndata itself does not preserve them; ``exact=True`` compares dtypes strictly.

    Parameters
    ----------
    a, b
        The values (arrays, sparse matrices, DataFrames, dicts, scalars, AnnData objects).
    path
        Where the values are, for the error message (e.g. ``"uns/a"``).
    exact
        Compare dtypes strictly.
    """
    from .._anndata import AnnData

    if isinstance(a, AnnData) or isinstance(b, AnnData):
        if not (isinstance(a, AnnData) and isinstance(b, AnnData)):
            _fail(path, f"type differs: {type(a).__name__} != {type(b).__name__}")
        assert_adata_equal(a, b, exact=exact, _path=path)
        return
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)):
            _fail(path, f"type differs: {type(a).__name__} != {type(b).__name__}")
        _assert_frame(a, b, path, exact)
        return
    if isinstance(a, pd.Index | pd.Series):
        a = a._values
    if isinstance(b, pd.Index | pd.Series):
        b = b._values
    if sparse.issparse(a) or sparse.issparse(b):
        _assert_sparse(a, b, path, exact)
        return
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
            _fail(path, f"type differs: {type(a).__name__} != {type(b).__name__}")
        ka, kb = set(a), set(b)
        if ka != kb:
            _fail(path, f"keys differ: only left {sorted(ka - kb)!r}, only right {sorted(kb - ka)!r}")
        for k in a:
            assert_equal(a[k], b[k], path=f"{path}[{k!r}]", exact=exact)
        return
    if not exact and isinstance(a, list) != isinstance(b, list):
        # uns lists are stored as arrays, as in anndata
        a = np.asarray(a) if isinstance(a, list) else a
        b = np.asarray(b) if isinstance(b, list) else b
    ext = pd.api.extensions.ExtensionArray
    if isinstance(a, ext) or isinstance(b, ext):
        _assert_extension(a, b, path, exact)
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            _fail(path, f"type differs: {type(a).__name__} {_short(a)} != {type(b).__name__} {_short(b)}")
        _assert_array(a, b, path, exact)
        return
    if a is None or b is None:
        if a is not b:
            _fail(path, f"{_short(a)} != {_short(b)}")
        return
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return
    if isinstance(a, bool) != isinstance(b, bool) or a != b:
        _fail(path, f"{type(a).__name__} {_short(a)} != {type(b).__name__} {_short(b)}")


def assert_adata_equal(a: Any, b: Any, *, exact: bool = False, _path: str = "") -> None:
    """Assert two AnnData objects hold equal data; the error names the first differing element.

    Compares shape, names, X, obs, var, obsm, varm, obsp, varp, layers, uns and raw.

    Parameters
    ----------
    a, b
        The AnnData objects.
    exact
        Compare dtypes strictly (see :func:`assert_equal`).
    """
    p = _path
    if a.shape != b.shape:
        _fail(p or "adata", f"shapes differ: {a.shape} != {b.shape}")
    assert_equal(np.asarray(a.obs_names, dtype=object), np.asarray(b.obs_names, dtype=object),
                 path=f"{p}obs_names")
    assert_equal(np.asarray(a.var_names, dtype=object), np.asarray(b.var_names, dtype=object),
                 path=f"{p}var_names")
    xa, xb = a.X, b.X
    if (xa is None) != (xb is None):
        _fail(f"{p}X", f"{'None' if xa is None else type(xa).__name__} != "
                       f"{'None' if xb is None else type(xb).__name__}")
    if xa is not None:
        assert_equal(_materialise(xa), _materialise(xb), path=f"{p}X", exact=exact)
    assert_equal(a.obs, b.obs, path=f"{p}obs", exact=exact)
    assert_equal(a.var, b.var, path=f"{p}var", exact=exact)
    for name in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
        ma = {k: _materialise(v) for k, v in dict(getattr(a, name)).items()}
        mb = {k: _materialise(v) for k, v in dict(getattr(b, name)).items()}
        assert_equal(ma, mb, path=f"{p}{name}", exact=exact)
    ra, rb = a.raw, b.raw
    if (ra is None) != (rb is None):
        _fail(f"{p}raw", f"{'None' if ra is None else 'Raw'} != {'None' if rb is None else 'Raw'}")
    if ra is not None:
        assert_equal(_materialise(ra.X), _materialise(rb.X), path=f"{p}raw.X", exact=exact)
        assert_equal(ra.var, rb.var, path=f"{p}raw.var", exact=exact)
        assert_equal(dict(ra.varm), dict(rb.varm), path=f"{p}raw.varm", exact=exact)


def _materialise(x: Any) -> Any:
    """Plain numpy/scipy/pandas values from views and array subclasses."""
    if sparse.issparse(x):
        fmt = x.format
        cls = getattr(sparse, f"{fmt}_array" if isinstance(x, sparse.sparray) else f"{fmt}_matrix", None)
        return cls(x) if cls is not None and type(x) is not cls else x
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray and x.dtype.names is None:
        return np.asarray(x)
    if isinstance(x, pd.DataFrame) and type(x) is not pd.DataFrame:
        return pd.DataFrame(x)
    return x

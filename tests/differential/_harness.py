"""Differential-test harness: run anndata-API snippets and summarise results as JSON (any anndata-like lib)."""

from __future__ import annotations

import builtins
import hashlib
import json
import math
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["SNIPPETS", "Rec", "Snippet", "compare", "run_all", "snippet", "summarise"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")

#: Arrays with more elements than this are summarised by a hash, not listed.
MAX_LISTED = 400


@dataclass(frozen=True)
class Snippet:
    """One corpus entry: ``fn(ad, rec)`` records its results into ``rec``.

    ``expected_difference`` explains a deliberate difference from anndata; ``ignore`` then lists
    the summary paths (prefixes, ``/``-separated) that are not compared, and ``error_type_only``
    compares exceptions by builtin-type compatibility only (annstore may reword messages).
    """

    name: str
    fn: Callable[[Any, Rec], None]
    expected_difference: str | None = None
    ignore: tuple[str, ...] = ()
    error_type_only: bool = False


SNIPPETS: dict[str, Snippet] = {}


def snippet(
    fn: Callable | None = None, *, expected_difference: str | None = None,
    ignore: tuple[str, ...] = (), error_type_only: bool = False,
) -> Any:
    """Register a snippet function (``def name(ad, rec): ...``) under its name."""

    def deco(f: Callable) -> Callable:
        if (ignore or error_type_only) and not expected_difference:
            msg = f"snippet {f.__name__}: `ignore`/`error_type_only` need an `expected_difference` note"
            raise ValueError(msg)
        if f.__name__ in SNIPPETS:
            msg = f"duplicate snippet name {f.__name__!r}"
            raise ValueError(msg)
        SNIPPETS[f.__name__] = Snippet(f.__name__, f, expected_difference, tuple(ignore), error_type_only)
        return f

    return deco(fn) if fn is not None else deco


# ----------------------------------------------------------------------------- summaries

_BUILTIN_EXC = {
    c.__name__ for c in vars(builtins).values() if isinstance(c, type) and issubclass(c, BaseException)
}


def _mro_names(cls: type) -> list[str]:
    return [c.__name__ for c in cls.__mro__ if c.__name__ not in {"object", "BaseException"}]


def exc_summary(e: BaseException) -> dict[str, Any]:
    """Type, builtin ancestry and message of an exception."""
    msg = str(e.args[0]) if len(e.args) == 1 else str(e)
    return {
        "error": type(e).__name__,
        "mro": _mro_names(type(e)),
        "builtin": next(c for c in _mro_names(type(e)) if c in _BUILTIN_EXC),
        "message": msg,
    }


def _noise(w: warnings.WarningMessage) -> bool:
    """pandas' own deprecation notices (options, ``inplace=``) that a library's internals trigger.

    They depend on how each library is written, not on the API behaviour under test.
    """
    return w.category.__module__.startswith("pandas") and issubclass(w.category, DeprecationWarning)


def warn_summaries(caught: list[warnings.WarningMessage]) -> list[dict[str, Any]]:
    """Summaries of the caught warnings, pandas option-deprecation noise left out."""
    return [warn_summary(w) for w in caught if not _noise(w)]


def warn_summary(w: warnings.WarningMessage) -> dict[str, Any]:
    """Category (with ancestry) and message of a caught warning."""
    return {"category": w.category.__name__, "mro": _mro_names(w.category), "message": str(w.message)}


def _float(x: float) -> Any:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return round(float(x), 6)


def _values(arr: np.ndarray) -> Any:
    arr = np.asarray(arr)
    if arr.dtype.kind == "f" or arr.dtype.kind == "c":
        arr = arr.real if arr.dtype.kind == "c" else arr
        out: Any = np.vectorize(_float, otypes=[object])(arr).tolist() if arr.size else arr.tolist()
    elif arr.dtype.kind == "O":
        out = [_scalar(v) for v in arr.ravel().tolist()]
    elif arr.dtype.kind in "mM":
        out = arr.astype(str).tolist()
    else:
        out = arr.tolist()
    if arr.size > MAX_LISTED:
        return {"sha1": hashlib.sha1(json.dumps(out, default=str).encode()).hexdigest()}
    return out


def _scalar(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None if v is None else "<NA>"
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return _float(float(v))
    if isinstance(v, str | np.str_):
        return _ADDRESS.sub(" at 0x?", str(v))  # default reprs carry memory addresses
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return summarise(v)


def _is_adata(x: Any) -> bool:
    return type(x).__name__ == "AnnData" and hasattr(x, "obs_names")


def _is_raw(x: Any) -> bool:
    return type(x).__name__ == "Raw" and hasattr(x, "var_names")


def _df(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "type": type(df).__name__,
        "shape": list(df.shape),
        "index": _index(df.index),
        "columns": [_scalar(c) for c in df.columns],
        "columns_dtype": str(df.columns.dtype),
        "dtypes": [str(t) for t in df.dtypes],
        "data": {str(c): _series_values(df.iloc[:, i]) for i, c in enumerate(df.columns)},
    }


def _series_values(s: pd.Series) -> Any:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return {
            "categories": _values(np.asarray(s.cat.categories, dtype=object)),
            "ordered": bool(s.cat.ordered),
            "codes": s.cat.codes.tolist(),
        }
    return _values(np.asarray(s.to_numpy(dtype=object, na_value=None) if s.dtype.kind not in "fiub" else s.to_numpy()))


def _index(idx: pd.Index) -> dict[str, Any]:
    return {"dtype": str(idx.dtype), "name": _scalar(idx.name), "values": _values(np.asarray(idx, dtype=object))}


def _array(a: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(a).__name__, "shape": list(a.shape), "dtype": a.dtype.str}
    if sparse.issparse(a):
        out["format"] = a.format
        dense = a.toarray()
    else:
        dense = np.asarray(a)
    if dense.dtype.names:
        out["fields"] = list(dense.dtype.names)
        out["values"] = {f: _values(dense[f]) for f in dense.dtype.names}
    else:
        out["values"] = _values(dense)
    return out


def adata_summary(a: Any, *, values: bool = True) -> dict[str, Any]:
    """Everything observable about an AnnData (or Raw), as plain JSON."""
    if _is_raw(a):
        return {
            "type": "Raw", "shape": list(a.shape), "obs_names": _values(np.asarray(a.obs_names, dtype=object)),
            "var": _df(a.var), "X": summarise(a.X) if values else None,
            "varm": {str(k): summarise(v) for k, v in a.varm.items()},
        }
    out: dict[str, Any] = {
        "type": type(a).__name__,
        "shape": list(a.shape),
        "is_view": bool(a.is_view),
        "obs": _df(a.obs),
        "var": _df(a.var),
        "X": summarise(a.X) if values else (None if a.X is None else type(a.X).__name__),
        "layers": {str(k): summarise(v) for k, v in a.layers.items()},
        "obsm": {str(k): summarise(v) for k, v in a.obsm.items()},
        "varm": {str(k): summarise(v) for k, v in a.varm.items()},
        "obsp": {str(k): summarise(v) for k, v in a.obsp.items()},
        "varp": {str(k): summarise(v) for k, v in a.varp.items()},
        "uns": summarise(a.uns),
        "raw": None if a.raw is None else adata_summary(a.raw, values=values),
    }
    return out


def summarise(v: Any) -> Any:
    """A JSON-serialisable, comparable summary of any value a snippet produces."""
    if _is_adata(v) or _is_raw(v):
        return adata_summary(v)
    if isinstance(v, BaseException):
        return exc_summary(v)
    if isinstance(v, pd.DataFrame):
        return _df(v)
    if isinstance(v, pd.Series):
        return {"type": "Series", "name": _scalar(v.name), "dtype": str(v.dtype), "index": _index(v.index),
                "values": _series_values(v)}
    if isinstance(v, pd.Index):
        return {"type": type(v).__name__, **_index(v)}
    if isinstance(v, pd.Categorical):
        return {"type": "Categorical", "values": _series_values(pd.Series(v))}
    if isinstance(v, np.ndarray) or sparse.issparse(v):
        return _array(v)
    if isinstance(v, Mapping):
        return {"type": "mapping", "class": type(v).__name__,
                "items": {str(k): summarise(x) for k, x in v.items()}}
    if isinstance(v, list | tuple):
        return [summarise(x) for x in v]
    if isinstance(v, type):
        return {"class": v.__name__}
    if hasattr(v, "shape") and hasattr(v, "dtype") and hasattr(v, "compute"):
        return {"lazy": type(v).__name__, **_array(np.asarray(v.compute()))}
    if v is None or isinstance(v, bool | np.bool_ | int | np.integer | float | np.floating | str | np.str_ | bytes):
        return _scalar(v)
    if v is pd.NA:
        return "<NA>"
    return {"other": type(v).__name__, "repr": repr(v)[:200]}


# ----------------------------------------------------------------------------- recording


class Rec:
    """What a snippet records: ``rec["key"] = value`` (summarised), ``rec.call``, ``rec.err``."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self.out:
            msg = f"key {key!r} recorded twice"
            raise KeyError(msg)
        self.out[key] = summarise(value)

    def call(self, key: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; record its warnings (and its exception, if any) under ``key``."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = fn()
            except Exception as e:
                self.out[key] = {"raised": exc_summary(e), "warnings": warn_summaries(caught)}
                return None
        self.out[key] = {"warnings": warn_summaries(caught)}
        return result


def run_one(sn: Snippet, ad: Any) -> dict[str, Any]:
    """Run one snippet; warnings not caught by ``rec.call`` and a final exception are recorded."""
    rec = Rec()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sn.fn(ad, rec)
        except Exception as e:
            rec.out["__error__"] = exc_summary(e)
    rec.out["__warnings__"] = warn_summaries(caught)
    return rec.out


def run_all(ad: Any, names: list[str] | None = None) -> dict[str, Any]:
    """Run every snippet (or ``names``) with the library ``ad``; name → summary."""
    import snippets  # noqa: F401 - registers the corpus

    return {n: run_one(SNIPPETS[n], ad) for n in (names or list(SNIPPETS))}


# ----------------------------------------------------------------------------- comparison


def _is_exc(x: Any) -> bool:
    return isinstance(x, dict) and "error" in x and "mro" in x and "builtin" in x


def _is_warning_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(w, dict) and "category" in w for w in x)


def compare(ours: Any, theirs: Any, sn: Snippet, path: str = "") -> list[str]:
    """Differences between annstore's summary ``ours`` and anndata's ``theirs``, as messages."""
    if any(path == p or path.startswith(p + "/") for p in sn.ignore):
        return []
    if _is_exc(ours) and _is_exc(theirs):
        diffs = []
        # annstore may raise its own subclass; it must still be caught by anndata's class
        if theirs["error"] not in ours["mro"] and theirs["builtin"] not in ours["mro"]:
            diffs.append(f"{path}: exception {ours['error']} {ours['mro']} is not a {theirs['error']}")
        elif theirs["error"] not in ours["mro"] and not sn.error_type_only:
            diffs.append(f"{path}: exception {ours['error']} vs {theirs['error']}")
        if not sn.error_type_only and ours["message"] != theirs["message"]:
            diffs.append(f"{path}: message {ours['message']!r} vs {theirs['message']!r}")
        return diffs
    if _is_warning_list(ours) and _is_warning_list(theirs) and (ours or theirs):
        a = [(w["category"], w["message"]) for w in ours]
        b = [(w["category"], w["message"]) for w in theirs]
        if a != b:
            return [f"{path}: warnings {a} vs {b}"]
        return []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        diffs = []
        for k in list(theirs) + [k for k in ours if k not in theirs]:
            sub = f"{path}/{k}" if path else k
            if k not in ours or k not in theirs:
                if any(sub == p or sub.startswith(p + "/") for p in sn.ignore):
                    continue
                diffs.append(f"{sub}: only in {'anndata' if k in theirs else 'annstore'}: "
                             f"{json.dumps(theirs.get(k, ours.get(k)), default=str)[:300]}")
                continue
            diffs.extend(compare(ours[k], theirs[k], sn, sub))
        return diffs
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        out = []
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            out.extend(compare(a, b, sn, f"{path}/{i}"))
        return out[:5] if len(out) > 5 else out
    if ours != theirs:
        return [f"{path}: {json.dumps(ours, default=str)[:300]} (annstore) vs {json.dumps(theirs, default=str)[:300]} (anndata)"]
    return []


def main(argv: list[str]) -> None:
    """``python _harness.py MODULE [OUT]``: run the corpus with ``import MODULE as ad``, write JSON."""
    import importlib

    ad = importlib.import_module(argv[1])
    result = run_all(ad)
    text = json.dumps(result, indent=1, sort_keys=True, default=str)
    if len(argv) > 2:
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    # run through the importable module, so snippets register where run_all looks
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import _harness

    _harness.main(sys.argv)

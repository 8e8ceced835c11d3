"""Compat-corpus summaries: what an AnnData reads as, in the corpus's "expected JSON" schema.

A fresh implementation of the summary ``/work/shared/compat/compat_summary.py`` builds and of
the checksum scheme ``compat-checksum-v1`` of ``compat_checksum.py`` (see the corpus README),
plus :func:`diff_summaries`, which compares a summary with an expected one field by field.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "CORPUS",
    "array_sha256",
    "corpus_entries",
    "diff_summaries",
    "expected_for",
    "strings_sha256",
    "summarize_anndata",
    "summarize_backed_ops",
]

CORPUS = Path(os.environ.get("ANNSTORE_COMPAT_CORPUS", "/work/shared/compat"))

HEAD, COL_HEAD, SMALL, MAX_CATS, LONG, LONG_SCALAR = 20, 5, 64, 1000, 256, 4096
_MISSING = b"\xff" * 8

#: Top-level fields describing the producing run or the on-disk layout, not what was read.
RUNTIME_FIELDS = frozenset(
    {"schema", "checksum_scheme", "file", "format", "written_by", "read_by", "read_call",
     "case", "write_call", "storage", "backed", "note"}
)


# ------------------------------------------------------------------------------ checksums


def is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return bool(math.isnan(v))
    return type(v).__name__ in ("NAType", "NaTType")


def _dense(x: Any) -> np.ndarray[Any, Any]:
    if sparse.issparse(x):
        return np.asarray(x.toarray())
    if isinstance(x, pd.Series | pd.api.extensions.ExtensionArray):
        try:
            return np.asarray(x.to_numpy(dtype="float64", na_value=np.nan))
        except (TypeError, ValueError):
            return np.asarray(x.to_numpy())
    return np.asarray(x)


def canonical_f8(x: Any) -> np.ndarray[Any, Any]:
    """Little-endian float64 C-order copy; one NaN bit pattern; no negative zero."""
    a = _dense(x)
    if a.dtype == object:
        a = np.array([np.nan if is_missing(v) else v for v in a.ravel()], dtype="<f8").reshape(a.shape)
    a = np.array(a, dtype="<f8", order="C", copy=True)
    if a.size:
        a[np.isnan(a)] = np.nan
        a += 0.0
    return a


def array_sha256(x: Any) -> str:
    return hashlib.sha256(canonical_f8(x).tobytes()).hexdigest()


def strings_sha256(values: Any) -> str:
    if isinstance(values, np.ndarray):
        values = values.ravel(order="C")
    h = hashlib.sha256()
    for v in values:
        if is_missing(v):
            h.update(_MISSING)
            continue
        if isinstance(v, bytes | np.bytes_):
            v = bytes(v).decode("utf-8")
        b = str(v).encode("utf-8")
        h.update(struct.pack("<Q", len(b)))
        h.update(b)
    return h.hexdigest()


# ------------------------------------------------------------------------------ JSON values


def jsonable(v: Any) -> Any:
    if is_missing(v) and not isinstance(v, float | np.floating):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool | int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, complex):
        return {"re": jsonable(v.real), "im": jsonable(v.imag)}
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v if isinstance(v, str) else str(v)


def _long(v: str) -> dict[str, Any]:
    return {"prefix": v[:32], "length": len(v), "sha256": hashlib.sha256(v.encode()).hexdigest()}


def _sv(v: Any) -> Any:
    if is_missing(v):
        return None
    out = jsonable(v)
    return _long(out) if isinstance(out, str) and len(out) > LONG else out


def _nested(a: np.ndarray[Any, Any], conv: Any = jsonable) -> Any:
    if a.ndim == 0:
        return conv(a[()])
    if a.ndim == 1:
        return [conv(v) for v in a.tolist()]
    return [_nested(a[i], conv) for i in range(a.shape[0])]


def _fsum(x: Any) -> Any:
    f = canonical_f8(x)
    return 0.0 if not f.size else jsonable(float(np.nansum(f)))


# ------------------------------------------------------------------------------ summaries


def index_summary(idx: pd.Index) -> dict[str, Any]:
    vals = list(idx)
    return {
        "name": None if idx.name is None else str(idx.name),
        "length": len(vals),
        "head": [_sv(v) for v in vals[:HEAD]],
        "sha256": strings_sha256(vals),
    }


def _stringlike(a: np.ndarray[Any, Any]) -> bool:
    return a.dtype.kind in "USOT"


def string_array_summary(a: np.ndarray[Any, Any]) -> dict[str, Any]:
    out = {
        "type": "string-array",
        "shape": list(a.shape),
        "dtype": str(a.dtype),
        "sha256": strings_sha256(a),
        "n_missing": sum(1 for v in a.ravel() if is_missing(v)),
    }
    if a.size <= SMALL:
        out["values"] = _nested(a, _sv)
    return out


def recarray_summary(a: np.ndarray[Any, Any]) -> dict[str, Any]:
    fields = []
    for name in a.dtype.names or ():
        col = a[name]
        h = strings_sha256(col) if _stringlike(col) else array_sha256(col)
        fields.append({"name": name, "dtype": str(col.dtype), "sha256": h})
    out: dict[str, Any] = {"type": "rec-array", "shape": list(a.shape), "fields": fields}
    if a.size <= 16:
        out["values"] = [[jsonable(v) for v in row] for row in a.tolist()]
    return out


def array_summary(x: Any) -> dict[str, Any]:
    if sparse.issparse(x):
        return {
            "type": getattr(x, "format", None) or type(x).__name__,
            "shape": [int(s) for s in x.shape],
            "dtype": str(x.dtype),
            "nnz": int(x.nnz),
            "sha256": array_sha256(x),
            "sum": _fsum(x),
        }
    a = np.asarray(x)
    if a.dtype.names:
        return recarray_summary(a)
    numeric_objects = a.dtype == object and a.size and all(
        isinstance(v, int | float | bool | np.number | np.bool_) for v in a.ravel().tolist()
    )
    if not numeric_objects and _stringlike(a):
        return string_array_summary(a)
    out: dict[str, Any] = {
        "type": "dense",
        "shape": [int(s) for s in a.shape],
        "dtype": str(a.dtype),
        "sha256": array_sha256(a),
        "sum": _fsum(a),
    }
    if a.size <= SMALL:
        out["values"] = _nested(a)
    return out


def _column_kind(s: pd.Series) -> str:
    dt = s.dtype
    tname = type(dt).__name__
    if tname == "BooleanDtype":
        return "nullable-bool"
    if tname.endswith("Dtype") and getattr(dt, "kind", "") in ("i", "u") and not isinstance(dt, np.dtype):
        return "nullable-int"
    if tname.startswith("Float") and tname.endswith("Dtype"):
        return "nullable-float"
    if tname == "StringDtype":
        return "string"
    if isinstance(dt, np.dtype):
        if dt.kind == "b":
            return "bool"
        if dt.kind in "iu":
            return "int"
        if dt.kind == "f":
            return "float"
        if dt.kind in "OUT":
            vals = [v for v in s.tolist() if not is_missing(v)]
            return "string" if all(isinstance(v, str | bytes) for v in vals) else "object"
    return "other"


def column_summary(s: pd.Series) -> dict[str, Any]:
    dt = s.dtype
    out: dict[str, Any] = {"dtype": str(dt), "n_missing": int(s.isna().sum())}
    if isinstance(dt, pd.CategoricalDtype):
        cats = s.cat.categories
        cat_list = list(cats)
        out.update(
            kind="categorical",
            ordered=bool(s.cat.ordered),
            n_categories=len(cat_list),
            categories=[_sv(c) for c in cat_list[:MAX_CATS]],
            categories_dtype=str(cats.dtype),
            codes_sha256=array_sha256(np.asarray(s.cat.codes)),
        )
        if len(cat_list) > MAX_CATS:
            out["categories_truncated"] = True
            stringy = cats.dtype.kind in "OUST" or str(cats.dtype) in ("str", "string")
            out["categories_sha256"] = (
                strings_sha256(cat_list) if stringy else array_sha256(np.asarray(cat_list))
            )
    else:
        kind = _column_kind(s)
        out["kind"] = kind
        if kind in ("string", "object"):
            out["sha256"] = strings_sha256(s.tolist())
        elif kind != "other":
            out["sha256"] = array_sha256(
                s.to_numpy(dtype="float64", na_value=np.nan) if not isinstance(dt, np.dtype) else np.asarray(s)
            )
    conv = jsonable if out["kind"] in ("int", "float", "bool") else _sv
    out["head"] = [conv(v) for v in s.tolist()[:COL_HEAD]]
    return out


def dataframe_summary(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "type": "dataframe",
        "shape": [int(df.shape[0]), int(df.shape[1])],
        "columns": [str(c) for c in df.columns],
        "index": index_summary(df.index),
        "dtypes": {str(c): str(df[c].dtype) for c in df.columns},
        "column_info": {str(c): column_summary(df[c]) for c in df.columns},
    }


def _is_awkward(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "awkward"


def _json_clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_clean(x) for x in v]
    return jsonable(v)


def awkward_summary(x: Any) -> dict[str, Any]:
    import awkward as ak

    vals = ak.to_list(x)
    blob = json.dumps(_json_clean(vals), sort_keys=True, separators=(",", ":")).encode()
    return {
        "type": "awkward",
        "length": len(x),
        "typestr": str(ak.type(x)),
        "json_sha256": hashlib.sha256(blob).hexdigest(),
        "values": _json_clean(vals) if len(vals) <= 16 else None,
    }


def _is_mapping(v: Any) -> bool:
    return (
        hasattr(v, "keys")
        and hasattr(v, "__getitem__")
        and not isinstance(v, pd.DataFrame | pd.Series | np.ndarray)
        and not _is_awkward(v)
    )


def summarize_value(v: Any) -> dict[str, Any]:
    if v is None:
        return {"type": "null"}
    if _is_awkward(v):
        return awkward_summary(v)
    if isinstance(v, pd.DataFrame):
        return dataframe_summary(v)
    if sparse.issparse(v):
        return array_summary(v)
    if _is_mapping(v):
        keys = sorted(str(k) for k in v.keys())
        return {"type": "dict", "keys": keys, "items": {k: summarize_value(v[k]) for k in keys}}
    if isinstance(v, str | np.str_):
        v = str(v)
        if len(v) > LONG_SCALAR:
            return {"type": "string", **_long(v)}
        return {"type": "string", "value": v}
    if isinstance(v, bytes | np.bytes_):
        return {"type": "bytes", "value": bytes(v).decode("utf-8", "replace")}
    if isinstance(v, bool | int | float | complex | np.generic):
        return {
            "type": "numeric-scalar",
            "dtype": str(np.asarray(v).dtype),
            "py_type": type(v).__name__,
            "value": jsonable(v),
        }
    if isinstance(v, list | tuple):
        return {"type": "list", "length": len(v), "items": [summarize_value(x) for x in v]}
    if isinstance(v, pd.Categorical):
        return column_summary(pd.Series(v))
    if hasattr(v, "to_numpy") and not isinstance(v, np.ndarray):
        return column_summary(pd.Series(v))
    if isinstance(v, np.ndarray) or hasattr(v, "__array__"):
        a = np.asarray(v)
        if a.ndim == 0 and not a.dtype.names:
            return summarize_value(a[()])
        return array_summary(a)
    return {"type": "other", "py_type": type(v).__name__, "repr": repr(v)[:200]}


def mapping_summary(m: Any) -> dict[str, Any]:
    keys = sorted((k for k in m.keys() if k is not None), key=str)
    return {"keys": [str(k) for k in keys], "items": {str(k): summarize_value(m[k]) for k in keys}}


def raw_summary(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    varm = getattr(raw, "varm", None)
    return {
        "n_obs": int(raw.n_obs),
        "n_vars": int(raw.n_vars),
        "var_names": index_summary(raw.var_names),
        "X": summarize_value(raw.X),
        "var": dataframe_summary(raw.var),
        "varm": mapping_summary(varm) if varm is not None else {"keys": [], "items": {}},
    }


def summarize_anndata(adata: Any) -> dict[str, Any]:
    """The corpus summary of ``adata`` (every field but the runtime ones)."""
    X = adata.X
    return {
        "n_obs": int(adata.n_obs),
        "n_vars": int(adata.n_vars),
        "obs_names": index_summary(adata.obs_names),
        "var_names": index_summary(adata.var_names),
        "X": None if X is None else summarize_value(X),
        "layers": mapping_summary(adata.layers),
        "obs": dataframe_summary(adata.obs),
        "var": dataframe_summary(adata.var),
        "obsm": mapping_summary(adata.obsm),
        "varm": mapping_summary(adata.varm),
        "obsp": mapping_summary(adata.obsp),
        "varp": mapping_summary(adata.varp),
        "uns": {"type": "dict", **mapping_summary(adata.uns)},
        "raw": raw_summary(adata.raw),
    }


# ------------------------------------------------------------------------------ backed ops


def _result_type(x: Any) -> str:
    if sparse.issparse(x):
        return str(getattr(x, "format", type(x).__name__))
    return "dense"


def summarize_backed_ops(X: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply the corpus's backed ops (``rows_slice`` ...) to a backed ``X``; summarise each."""
    out = []
    n_obs = X.shape[0]
    for op in ops:
        kind = op["op"]
        try:
            if kind == "rows_slice":
                r = X[op["start"] : op["stop"]]
            elif kind == "cols_slice":
                r = X[:, op["start"] : op["stop"]]
            elif kind == "rows_list":
                r = X[op["index"]]
            elif kind == "cols_list":
                r = X[:, op["index"]]
            elif kind == "rows_mask_mod3":
                r = X[np.arange(n_obs) % 3 == 0]
            elif kind == "rows_cols_slice":
                (r0, r1), (c0, c1) = op["rows"], op["cols"]
                r = X[r0:r1, c0:c1]
            else:
                msg = f"unknown backed op {kind!r}"
                raise ValueError(msg)
        except Exception as e:  # noqa: BLE001 - recorded, compared by the caller
            out.append({"op": kind, "error": f"{type(e).__name__}: {e}"})
            continue
        out.append(
            {"op": kind, "result_type": _result_type(r), "shape": [int(s) for s in r.shape],
             "sha256": array_sha256(r)}
        )
    return out


# ------------------------------------------------------------------------------ comparison

#: dtype spellings of strings that differ only by runtime (numpy/pandas version, pandas 3 str).
_STRING_DTYPES = ("object", "str", "string", "string[python]", "string[pyarrow]", "StringDType()")


def _stringy_dtype(s: Any) -> bool:
    return isinstance(s, str) and (s in _STRING_DTYPES or s.startswith(("<U", "|S", ">U", "|O")))


def _runtime_equal(path: tuple[str, ...], exp: Any, got: Any) -> bool:
    """Fields that describe the Python runtime, not the file: equal by their meaning."""
    last = path[-1] if path else ""
    if last == "py_type":
        return True
    if last in ("dtype", "categories_dtype") or (len(path) >= 2 and path[-2] == "dtypes"):
        # object vs str vs <U5: string spellings; the column's `kind` carries the meaning.
        return _stringy_dtype(exp) and _stringy_dtype(got)
    return False


def _num_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (type(a) is type(b) and a == b)
    if a == b:
        return True
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-300)


def diff_summaries(
    expected: Any, got: Any, path: tuple[str, ...] = ()
) -> Iterator[str]:
    """Yield one readable line per field where ``got`` differs from ``expected``."""
    where = "/".join(path) or "<root>"
    if _runtime_equal(path, expected, got):
        return
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            yield f"{where}: expected a mapping, got {_short(got)}"
            return
        for k in expected:
            if not path and k in RUNTIME_FIELDS:
                continue
            if k not in got:
                if path and path[-1] == "column_info" or k in ("keys", "items"):
                    yield f"{where}: missing field {k!r}"
                elif not (len(path) >= 1 and path[-1] == "dtypes"):
                    yield f"{where}: missing field {k!r} (expected {_short(expected[k])})"
                continue
            yield from diff_summaries(expected[k], got[k], (*path, str(k)))
        extra = [k for k in got if k not in expected and not (not path and k in RUNTIME_FIELDS)]
        for k in extra:
            yield f"{where}: unexpected field {k!r} = {_short(got[k])}"
        return
    if isinstance(expected, list):
        if not isinstance(got, list):
            yield f"{where}: expected a list of {len(expected)}, got {_short(got)}"
            return
        if len(expected) != len(got):
            yield f"{where}: expected {len(expected)} items {_short(expected)}, got {len(got)} {_short(got)}"
            return
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            yield from diff_summaries(e, g, (*path, str(i)))
        return
    if isinstance(expected, int | float) and isinstance(got, int | float):
        if not _num_equal(expected, got):
            yield f"{where}: expected {expected!r}, got {got!r}"
        return
    if expected != got:
        yield f"{where}: expected {_short(expected)}, got {_short(got)}"


def _short(v: Any, n: int = 120) -> str:
    r = repr(v)
    return r if len(r) <= n else r[: n - 3] + "..."


# ------------------------------------------------------------------------------ corpus


def corpus_entries(formats: tuple[str, ...]) -> list[dict[str, Any]]:
    """MANIFEST.json entries of the given formats (``[]`` when the corpus is absent)."""
    manifest = CORPUS / "MANIFEST.json"
    if not manifest.is_file():
        return []
    files = json.loads(manifest.read_text("utf-8"))["files"]
    return [f for f in files if f["format"] in formats]


def expected_for(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The expected summary for a manifest entry: anndata 0.13.4's reading when recorded."""
    exp = list(entry["expected"])
    newest = [e for e in exp if e.endswith(".expected.0.13.4.json")]
    chosen = newest[0] if newest else next(e for e in exp if e.endswith(".expected.json"))
    return json.loads((CORPUS / chosen).read_text("utf-8"))


# ------------------------------------------------------------------------------ storage layout


def _enc(attrs: Mapping[str, Any]) -> str | None:
    et, ev = attrs.get("encoding-type"), attrs.get("encoding-version")
    et = et.decode() if isinstance(et, bytes) else et
    ev = ev.decode() if isinstance(ev, bytes) else ev
    return None if et is None else f"{et}@{ev}"


def storage_h5(path: Any) -> dict[str, Any]:
    """The corpus's ``storage`` summary of an HDF5 file: every node's kind, dtype, shape, encoding."""
    import h5py

    nodes: dict[str, str] = {}
    filters: set[str] = set()

    def _dt(ds: Any) -> str:
        sd = h5py.check_string_dtype(ds.dtype)
        if sd is not None:
            return f"str({sd.encoding},{'vlen' if sd.length is None else sd.length})"
        if ds.dtype.names:
            return f"compound({','.join(ds.dtype.names)})"
        return str(ds.dtype.str)

    def visit(name: str, obj: Any) -> None:
        enc = _enc({k: obj.attrs[k] for k in ("encoding-type", "encoding-version") if k in obj.attrs})
        if isinstance(obj, h5py.Dataset):
            desc = f"array {_dt(obj)} {'null' if obj.shape is None else list(obj.shape)}"
            if obj.compression:
                filters.add(obj.compression)
            if obj.chunks:
                desc += f" chunks={list(obj.chunks)}"
        else:
            desc = "group"
        nodes[name] = desc + (f" {enc}" if enc else "")

    with h5py.File(path, "r") as f:
        root = _enc({k: f.attrs[k] for k in ("encoding-type", "encoding-version") if k in f.attrs})
        nodes["/"] = "group" + (f" {root}" if root else "")
        f.visititems(visit)
    return {"container": "hdf5", "nodes": dict(sorted(nodes.items())), "filters": sorted(filters)}

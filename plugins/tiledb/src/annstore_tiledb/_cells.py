"""How annstore arrays map onto dense TileDB arrays: dtypes, cell buffers and schemas.

Every array is a dense TileDB array with one attribute, ``data`` (structured numpy dtypes get
one attribute per field); strings use TileDB's variable-length UTF-8 attribute and ``float16``
is stored as ``uint16`` bits. Every dimension has the fixed domain ``[0, CAPACITY)``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import tiledb
from annstore.errors import WriteWarning
from annstore.io import check_str_elements, fit_chunks

__all__ = [
    "CAPACITY", "DATA_ATTR", "array_schema", "blank", "dtype_from_json", "dtype_to_json", "fields",
    "from_cells", "logical_dtype", "to_cells",
]

#: Domain size of every dimension (the largest logical extent an array can grow to).
CAPACITY = 2**40
#: Name of the single TileDB attribute of a non-structured array.
DATA_ATTR = "data"
#: Target uncompressed tile size when no ``chunks`` are given.
TARGET_TILE_BYTES = 1 << 20


def _is_str_kind(dt: np.dtype[Any]) -> bool:
    return dt.kind in "OUT"


def logical_dtype(dt: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype an array reports: strings are ``object``; struct fields keep their dtypes."""
    if dt.names is not None:
        for name in dt.names:
            _check_field_dtype(dt.fields[name][0], name)  # type: ignore[index]
        return dt
    if _is_str_kind(dt):
        return np.dtype(object)
    _check_field_dtype(dt, None)
    return dt


def _check_field_dtype(dt: np.dtype[Any], field: str | None) -> None:
    where = f" (field {field!r})" if field else ""
    if dt.kind == "S":
        msg = f"Byte-string arrays are not supported{where}; decode them to str first."
        raise TypeError(msg)
    if dt.kind == "V" or dt.subdtype is not None:
        msg = f"Expected a numeric, bool or string dtype{where}; got {dt} instead."
        raise TypeError(msg)


def _tiledb_attr_dtype(dt: np.dtype[Any]) -> tuple[Any, bool]:
    """(TileDB attribute dtype, variable-length) for one logical field dtype."""
    if _is_str_kind(dt):
        return str, True
    if dt == np.float16:
        return np.dtype(np.uint16), False
    return dt, False


def _fill_for(dt: np.dtype[Any]) -> Any:
    if _is_str_kind(dt):
        return None
    if dt.kind == "c":
        return None
    if dt == np.float16:
        return np.uint16(0)
    if dt.kind in "mM":
        return None
    return np.zeros((), dtype=dt)[()]


def fields(dt: np.dtype[Any]) -> list[tuple[str, np.dtype[Any]]]:
    if dt.names is not None:
        return [(n, dt.fields[n][0]) for n in dt.names]  # type: ignore[index]
    return [(DATA_ATTR, dt)]


def dtype_to_json(dt: np.dtype[Any]) -> Any:
    if dt.names is not None:
        return [[n, dtype_to_json(dt.fields[n][0])] for n in dt.names]  # type: ignore[index]
    return "object" if dt.kind == "O" else dt.str


def dtype_from_json(v: Any) -> np.dtype[Any]:
    if isinstance(v, list):
        return np.dtype([(str(n), dtype_from_json(d)) for n, d in v])
    return np.dtype(object) if v == "object" else np.dtype(v)


def to_cells(values: np.ndarray, dt: np.dtype[Any], where: str = "") -> dict[str, np.ndarray]:
    """The TileDB attribute buffers for ``values`` (already of the logical shape)."""
    out: dict[str, np.ndarray] = {}
    for name, fdt in fields(dt):
        col = values[name] if dt.names is not None else values
        col = np.asarray(col)
        if _is_str_kind(fdt):
            if col.dtype.kind == "O":
                check_str_elements(col, where)
                buf = np.empty(col.shape, dtype=object)
                buf.reshape(-1)[:] = col.reshape(-1).tolist()
            elif col.dtype.kind in "UT":
                buf = col.astype(object)
            else:
                msg = f"Expected strings for a string array{where}; got dtype {col.dtype} instead."
                raise TypeError(msg)
        elif fdt == np.float16:
            buf = np.ascontiguousarray(col.astype(np.float16)).view(np.uint16)
        else:
            buf = np.ascontiguousarray(col.astype(fdt, copy=False))
        out[name] = buf
    return out


def from_cells(cells: dict[str, np.ndarray], dt: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    """The logical numpy array from TileDB attribute buffers."""
    if dt.names is None:
        return _field_from_cells(cells[DATA_ATTR], dt, shape)
    out = np.empty(shape, dtype=dt)
    for name, fdt in fields(dt):
        out[name] = _field_from_cells(cells[name], fdt, shape)
    return out


def _field_from_cells(buf: np.ndarray, fdt: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    buf = np.asarray(buf).reshape(shape)
    if _is_str_kind(fdt):
        if fdt.kind == "O":
            if buf.dtype.kind != "O":
                buf = buf.astype(object)
            return buf
        return buf.astype(fdt)
    if fdt == np.float16:
        return buf.view(np.float16) if buf.dtype == np.uint16 else buf.astype(np.float16)
    return buf if buf.dtype == fdt else buf.astype(fdt)


def blank(shape: tuple[int, ...], dt: np.dtype[Any]) -> np.ndarray:
    if dt.names is None and dt.kind == "O":
        out = np.empty(shape, dtype=object)
        out[...] = ""
        return out
    return np.zeros(shape, dtype=dt)


def _auto_tiles(shape: tuple[int, ...], dt: np.dtype[Any]) -> tuple[int, ...]:
    item = sum(16 if _is_str_kind(f) else f.itemsize for _, f in fields(dt)) or 1
    tiles = [max(1, int(s)) for s in shape] or [1]
    while math.prod(tiles) * item > TARGET_TILE_BYTES and max(tiles) > 1:
        i = int(np.argmax(tiles))
        tiles[i] = (tiles[i] + 1) // 2
    return tuple(tiles)


_COMPRESSORS = {
    "gzip": "GzipFilter",
    "zstd": "ZstdFilter",
    "lz4": "LZ4Filter",
    "lzf": "LZ4Filter",  # h5py's lzf has no TileDB equivalent; LZ4 is the fast codec here
    "bzip2": "Bzip2Filter",
}


def _filters(opts: dict[str, Any], where: str) -> Any:
    if "filters" in opts and opts["filters"] is not None:
        f = opts["filters"]
        return f if isinstance(f, tiledb.FilterList) else tiledb.FilterList(list(f))
    comp = opts.get("compression")
    if comp is None or comp is False:
        return None
    name = str(comp).lower()
    if name not in _COMPRESSORS:
        warnings.warn(
            f"Unknown compression {comp!r} for {where}; known: {sorted(_COMPRESSORS)}. "
            "Writing it uncompressed instead.",
            WriteWarning,
            stacklevel=5,
        )
        return None
    cls = getattr(tiledb, _COMPRESSORS[name])
    level = opts.get("compression_opts")
    if isinstance(level, int | np.integer) and name in ("gzip", "zstd", "bzip2"):
        return tiledb.FilterList([cls(level=int(level))])
    return tiledb.FilterList([cls()])


def array_schema(shape: tuple[int, ...], dt: np.dtype[Any], opts: dict[str, Any], ctx: Any,
            where: str) -> Any:
    ndim = max(len(shape), 1)
    explicit = fit_chunks(opts.get("chunks", opts.get("tile")), shape, clip=False) if shape else None
    if explicit is not None:
        tiles = tuple(min(t, CAPACITY) for t in explicit)
    else:
        tiles = _auto_tiles(shape, dt) if shape else (1,)
    dims = [
        tiledb.Dim(name=f"__dim_{i}", domain=(0, CAPACITY - 1), tile=tiles[i], dtype=np.int64, ctx=ctx)
        for i in range(ndim)
    ]
    filters = _filters(opts, where)
    attrs = []
    for name, fdt in fields(dt):
        tdt, var = _tiledb_attr_dtype(fdt)
        kw: dict[str, Any] = {"name": name, "dtype": tdt, "var": var, "ctx": ctx}
        if filters is not None:
            kw["filters"] = filters
        fill = _fill_for(fdt)
        if fill is not None:
            kw["fill"] = fill
        attrs.append(tiledb.Attr(**kw))
    return tiledb.ArraySchema(domain=tiledb.Domain(*dims, ctx=ctx), attrs=attrs, sparse=False, ctx=ctx)


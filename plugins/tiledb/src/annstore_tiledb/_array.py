"""TileDB arrays as :class:`~annstore.types.ArrayLike`: a logical shape over a fixed dense domain.

Dense TileDB domains cannot be empty and cannot grow in place, so every dimension has the
fixed domain ``[0, CAPACITY)`` and the *logical* shape lives in the array metadata under
``__annstore__`` (JSON: shape and numpy dtype). Empty arrays write no cells; 0-d arrays use
cell 0 of a one-dimensional array. ``resize`` only rewrites the logical shape (and fills cells
that a previous shrink left behind). Attributes are TileDB metadata (see :func:`encode_attr`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from annstore.errors import InvalidFileError
from annstore.io import ArrayBase, StoreAttrs, StoreNode, bounding_box, outer_put, plain_attr

from ._cells import CAPACITY, DATA_ATTR, blank, dtype_from_json, dtype_to_json, fields, from_cells, to_cells
from ._select import Axis, apply_local, plan_selection
from ._session import Session

__all__ = [
    "META_KEY", "TileDBArray", "TileDBAttrs", "TileDBNode", "decode_attr", "encode_attr", "layout_meta",
]

#: Array metadata key holding the logical shape and numpy dtype (JSON).
META_KEY = "__annstore__"
_LAYOUT_VERSION = 1


def layout_meta(shape: tuple[int, ...], dt: np.dtype[Any]) -> str:
    """The ``META_KEY`` metadata value of an array of logical ``shape`` and ``dt``."""
    return json.dumps({"shape": list(shape), "dtype": dtype_to_json(dt), "layout": _LAYOUT_VERSION})


# ------------------------------------------------------------------------------ attributes


def encode_attr(value: Any) -> Any:
    """The TileDB metadata value for an attribute (native where lossless, else JSON bytes)."""
    if isinstance(value, np.generic) and not isinstance(value, np.str_ | np.bytes_):
        value = value.item()
    if isinstance(value, np.str_):
        value = str(value)
    if isinstance(value, bool):
        return json.dumps(value).encode()
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else json.dumps(value).encode()
    if isinstance(value, float):
        return value
    if (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.size > 0
        and value.dtype.kind in "iufb"
        and value.dtype != np.float16
    ):
        return np.ascontiguousarray(value).copy()
    return json.dumps(plain_attr(value, strict=True)).encode()


def decode_attr(raw: Any) -> Any:
    """Plain Python (or a numeric numpy vector) from a stored metadata value."""
    if isinstance(raw, bytes):
        return json.loads(raw.decode("utf-8"))
    if isinstance(raw, np.ndarray):
        return raw.copy()
    if isinstance(raw, np.generic):
        return raw.item()
    if isinstance(raw, tuple):
        return [decode_attr(x) for x in raw]
    return raw


class TileDBAttrs(StoreAttrs):
    """Attributes of a TileDB group or array, stored as TileDB metadata (of ``node``)."""

    __slots__ = ()
    _reserved = frozenset({META_KEY})

    def encode(self, value: Any) -> Any:
        return encode_attr(value)

    def decode(self, raw: Any) -> Any:
        return decode_attr(raw)

    def _keys(self) -> list[str]:
        n = self._native
        return n._session.meta_keys(n.uri, n._kind)

    def _get(self, key: str) -> Any:
        n = self._native
        return n._session.meta_get(n.uri, n._kind, key)

    def _set(self, items: dict[str, Any]) -> None:
        n = self._native
        n._session.check_writable(f"set attributes of {n.name!r}")
        n._session.meta_set(n.uri, n._kind, items)  # one metadata write

    def __delitem__(self, key: str) -> None:
        n = self._native
        n._session.check_writable(f"delete attribute {key!r} of {n.name!r}")
        super().__delitem__(key)

    def _delete(self, key: str) -> None:
        n = self._native
        n._session.meta_delete(n.uri, n._kind, key)


# ------------------------------------------------------------------------------ nodes


class TileDBNode(StoreNode):
    format = "tiledb"
    store_kind = "TileDB store"
    _kind = ""

    def __init__(self, uri: str, name: str, session: Session) -> None:
        super().__init__(name, session.filename)
        self.uri = uri
        self._session = session

    def _reader(self) -> Any:
        return self._session.reader(self.uri, self._kind)

    @contextmanager
    def _writer(self) -> Iterator[Any]:
        self._session.check_writable(f"modify {self.name!r}")
        with self._session.writer(self.uri, self._kind) as w:
            yield w

    @property
    def attrs(self) -> TileDBAttrs:
        return TileDBAttrs(self, self)

    def _identity(self) -> Any:
        return self.uri


class TileDBArray(TileDBNode, ArrayBase):
    """A TileDB dense array as :class:`~annstore.types.ArrayLike`."""

    _kind = "array"

    def _info(self) -> tuple[tuple[int, ...], np.dtype[Any]]:
        h = self._reader()
        raw = h.meta[META_KEY] if META_KEY in h.meta else None
        if raw is None:
            return self._foreign_info(h)
        try:
            info = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
            shape = tuple(int(s) for s in info["shape"])
            dt = dtype_from_json(info["dtype"])
        except (ValueError, KeyError, TypeError) as e:
            msg = f"Malformed {META_KEY!r} metadata on array {self.name!r} {self._where()}: {raw!r} ({e})."
            raise InvalidFileError(msg, filename=self.filename, path=self.name) from e
        if any(s < 0 or s > CAPACITY for s in shape):
            msg = f"Expected a logical shape within [0, {CAPACITY}] on array {self.name!r} {self._where()}; got {shape}."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        return shape, dt

    def _foreign_info(self, h: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
        """A dense array written by another tool: its non-empty domain is its shape."""
        schema = h.schema
        if schema.sparse:
            msg = f"Expected a dense TileDB array at {self.name!r} {self._where()}; found a sparse one."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        ned = h.nonempty_domain()
        shape = tuple(0 for _ in range(schema.domain.ndim)) if ned is None else tuple(
            int(hi) - int(lo) + 1 for lo, hi in ned
        )
        if ned is not None and any(int(lo) != 0 for lo, _ in ned):
            msg = f"Expected a TileDB array starting at index 0 at {self.name!r} {self._where()}; got non-empty domain {ned}."
            raise InvalidFileError(msg, filename=self.filename, path=self.name)
        attrs = [schema.attr(i) for i in range(schema.nattr)]
        if len(attrs) == 1:
            a = attrs[0]
            dt = np.dtype(object) if a.isvar or a.dtype.kind in "SU" else np.dtype(a.dtype)
            self._attr_names = (a.name,)
            return shape, dt
        dt = np.dtype([(a.name, np.dtype(object) if a.isvar else a.dtype) for a in attrs])
        return shape, dt

    @property
    def shape(self) -> tuple[int, ...]:
        return self._info()[0]

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._info()[1]

    @property
    def native(self) -> Any:
        """The (read-mode) ``tiledb.Array`` handle."""
        return self._reader()

    def _attr_list(self, dt: np.dtype[Any]) -> list[str]:
        names = getattr(self, "_attr_names", None)
        return list(names) if names else [n for n, _ in fields(dt)]

    def _query(self, plan: list[Axis], dt: np.dtype[Any]) -> np.ndarray:
        """Read the ranges of ``plan`` (one query) as the logical dtype."""
        box = tuple(p.size for p in plan) or (1,)
        if math.prod(box) == 0:
            return blank(box, dt)
        h = self._reader()
        names = self._attr_list(dt)
        if all(len(p.ranges) == 1 for p in plan):
            sub = tuple(slice(p.ranges[0][0], p.ranges[0][1]) for p in plan) or (slice(0, 1),)
            res = h.query(attrs=names)[sub]
        else:
            ranges = [[(a, b - 1) for a, b in p.ranges] for p in plan]
            res = h.query(attrs=names).multi_index[tuple(ranges)]
        if names != [n for n, _ in fields(dt)]:
            res = {n: res[m] for (n, _), m in zip(fields(dt), names, strict=True)}
        return from_cells(res, dt, box)

    def __getitem__(self, sel: Any) -> Any:
        shape, dt = self._info()
        if not shape:
            value = self._query([], dt).reshape(())
            if (isinstance(sel, tuple) and not sel) or sel is Ellipsis:
                return value[sel]
            msg = f"Invalid index {sel!r} for the 0-d array {self.name!r}; use () or ..."
            raise IndexError(msg)
        plan = plan_selection(sel, shape, self.name)
        return apply_local(self._query(plan, dt), plan)

    def read_ranges(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Concatenated ``self[a:b]`` for each ``[a, b)`` (1-d arrays; one TileDB query)."""
        shape, dt = self._info()
        pairs = [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if int(b) > int(a)]
        if len(shape) != 1:
            msg = f"read_ranges needs a 1-d array; {self.name!r} has shape {shape}."
            raise ValueError(msg)
        if not pairs:
            return blank((0,), dt)
        lo = min(a for a, _ in pairs)
        hi = max(b for _, b in pairs)
        if lo < 0 or hi > shape[0]:
            msg = f"Range [{lo}, {hi}) is out of bounds for {self.name!r} of length {shape[0]}."
            raise IndexError(msg)
        return self._query([Axis(pairs, slice(None))], dt)

    # -- writing ---------------------------------------------------------------------------

    def _write_box(self, w: Any, box: list[tuple[int, int]], values: np.ndarray, dt: np.dtype[Any]) -> None:
        if any(b <= a for a, b in box) and box:
            return
        cells = to_cells(values, dt, f" {self.name!r}")
        sub = tuple(slice(a, b) for a, b in box) or (slice(0, 1),)
        if dt.names is None and len(cells) == 1:
            w[sub] = cells[DATA_ATTR].reshape(tuple(b - a for a, b in box) or (1,))
        else:
            w[sub] = {k: v.reshape(tuple(b - a for a, b in box) or (1,)) for k, v in cells.items()}

    def __setitem__(self, sel: Any, value: Any) -> None:
        shape, dt = self._info()
        if not shape:
            if not (sel is Ellipsis or (isinstance(sel, tuple) and not sel)):
                msg = f"Invalid index {sel!r} for the 0-d array {self.name!r}; use () or ..."
                raise IndexError(msg)
            v = np.asarray(value, dtype=dt if dt.kind != "O" else None).reshape(())
            with self._writer() as w:
                self._write_box(w, [], v.reshape(()), dt)
            return
        box, local = bounding_box(sel, shape, self.name)
        ranges = [(b, b + 1) if isinstance(b, int) else (b.start, b.stop) for b in box]
        if any(b <= a for a, b in ranges):
            return
        kept = [b.stop - b.start for b in box if isinstance(b, slice)]
        if all(isinstance(s, slice) and s == slice(None) for s in local):
            block = np.broadcast_to(self._coerce(value, dt), kept)
        else:  # stepped or fancy: read the bounding box, assign in memory, write it back
            block = np.array(self[box])
            outer_put(block, local, self._coerce(value, dt))
        with self._writer() as w:
            self._write_box(w, ranges, block.reshape([b - a for a, b in ranges]), dt)

    def _coerce(self, value: Any, dt: np.dtype[Any]) -> np.ndarray:
        if dt.names is None and dt.kind == "O":
            v = np.asarray(value)
            return v if v.dtype.kind == "O" else v.astype(object)
        return np.asarray(value).astype(dt, copy=False) if dt.names is None else np.asarray(value, dtype=dt)

    def _resize(self, new: tuple[int, ...]) -> None:
        """Change the logical shape (same number of dimensions); new cells read as zeros/``""``."""
        old, dt = self._info()
        if len(new) != len(old):
            msg = f"Expected a shape with {len(old)} dimensions to resize {self.name!r}; got {new}."
            raise ValueError(msg)
        if any(s < 0 or s > CAPACITY for s in new):
            msg = f"Expected every dimension within [0, {CAPACITY}] to resize {self.name!r}; got {new}."
            raise ValueError(msg)
        self._session.check_writable(f"resize {self.name!r}")
        stale = self._stale_beyond(old)
        with self._writer() as w:
            if stale:
                # Cells a previous shrink left behind must not reappear: overwrite the new region.
                for k in range(len(new)):
                    if new[k] <= old[k]:
                        continue
                    box = [(0, min(o, n)) for o, n in zip(old[:k], new[:k], strict=True)]
                    box += [(old[k], new[k])] + [(0, n) for n in new[k + 1 :]]
                    if all(b > a for a, b in box):
                        self._write_box(w, box, blank(tuple(b - a for a, b in box), dt), dt)
            w.meta[META_KEY] = layout_meta(new, dt)

    def _stale_beyond(self, shape: tuple[int, ...]) -> bool:
        ned = self._reader().nonempty_domain()
        if ned is None or not shape:
            return False
        return any(int(hi) >= s for (_, hi), s in zip(ned, shape, strict=False))



"""Read plans for selections of TileDB arrays: the ranges of one multi-range query per read."""

from __future__ import annotations

from typing import Any

import numpy as np
from annstore.io import expand_selection, index_array

__all__ = ["Axis", "apply_local", "plan_selection"]


class Axis:
    """The read plan of one axis: ranges to read and the selection to apply afterwards."""

    __slots__ = ("local", "ranges", "scalar")

    def __init__(self, ranges: list[tuple[int, int]], local: Any, scalar: bool = False) -> None:
        self.ranges = ranges  # half-open [start, stop) ranges, in read order
        self.local = local  # slice or index array into the concatenated ranges
        self.scalar = scalar

    @property
    def size(self) -> int:
        return sum(b - a for a, b in self.ranges)

    @property
    def simple(self) -> bool:
        return len(self.ranges) == 1 and isinstance(self.local, slice) and self.local == slice(None)


def _merge_ranges(idx: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Sorted unique runs of ``idx`` and the positions of ``idx`` in their concatenation."""
    uniq, inverse = np.unique(idx, return_inverse=True)
    if uniq.size == 0:
        return [], inverse
    brk = np.flatnonzero(np.diff(uniq) != 1) + 1
    starts = uniq[np.r_[0, brk]]
    stops = uniq[np.r_[brk - 1, uniq.size - 1]] + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)], inverse


def plan_selection(sel: Any, shape: tuple[int, ...], name: str) -> list[Axis]:
    """The read plan of ``sel`` on an array of ``shape`` (one entry per axis)."""
    plan: list[Axis] = []
    for ax, (s, n) in enumerate(zip(expand_selection(sel, len(shape)), shape, strict=True)):
        if isinstance(s, int | np.integer) and not isinstance(s, bool | np.bool_):
            i = int(s)
            if i < 0:
                i += n
            if not 0 <= i < n:
                msg = f"Index {int(s)} is out of bounds for axis {ax} of {name!r} with size {n}"
                raise IndexError(msg)
            plan.append(Axis([(i, i + 1)], slice(None), scalar=True))
        elif isinstance(s, slice):
            start, stop, step = s.indices(n)
            if step == 1:
                plan.append(Axis([(start, max(start, stop))] if stop > start else [], slice(None)))
            elif step > 1:
                if stop <= start:
                    plan.append(Axis([], slice(None)))
                else:
                    plan.append(Axis([(start, stop)], slice(None, None, step)))
            else:
                idx = np.arange(start, stop, step, dtype=np.int64)
                ranges, inv = _merge_ranges(idx)
                plan.append(Axis(ranges, inv))
        elif isinstance(s, np.ndarray | list | tuple | range):
            idx = index_array(s, n, ax, name)
            if idx.size and np.all(np.diff(idx) == 1):
                plan.append(Axis([(int(idx[0]), int(idx[-1]) + 1)], slice(None)))
            else:
                ranges, inv = _merge_ranges(idx)
                plan.append(Axis(ranges, inv))
        else:
            msg = f"Unsupported index {s!r} ({type(s).__name__}) on axis {ax} of {name!r}."
            raise IndexError(msg)
    return plan


def apply_local(block: np.ndarray, plan: list[Axis]) -> np.ndarray:
    out = block
    for ax, p in enumerate(plan):
        if isinstance(p.local, slice):
            if p.local != slice(None):
                out = out[(slice(None),) * ax + (p.local,)]
        else:
            out = np.take(out, p.local, axis=ax)
    squeeze = tuple(ax for ax, p in enumerate(plan) if p.scalar)
    if squeeze:
        out = out.reshape([d for ax, d in enumerate(out.shape) if ax not in squeeze])
        if out.ndim == 0:
            return out[()]
    return out


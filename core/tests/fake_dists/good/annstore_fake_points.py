"""A third-party plugin, known to annstore only through its entry point: a new element type.

``Points`` (x/y coordinates plus a coordinate reference name) is stored as a group holding two
float arrays ``x`` and ``y`` and the attribute ``crs``, encoded as ``points`` v0.1.0; several
concatenate along the observations (``annstore_concat_elems``).
"""

from __future__ import annotations

import numpy as np

from annstore import IOSpec, hookimpl

ANNSTORE_PLUGIN_API = 1

POINTS = IOSpec("points", "0.1.0")


class Points:
    """n points in the plane; aligns to an axis of length n (usable in obsm and uns)."""

    def __init__(self, x, y, crs: str = "EPSG:4326") -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.crs = crs

    dtype = np.dtype("float64")  # array-like enough for AnnData's aligned mappings

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.x), 2)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx):
        if isinstance(idx, tuple):
            idx = idx[0]
        return Points(self.x[idx], self.y[idx], self.crs)

    def copy(self) -> Points:
        return Points(self.x.copy(), self.y.copy(), self.crs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Points)
            and self.crs == other.crs
            and np.array_equal(self.x, other.x)
            and np.array_equal(self.y, other.y)
        )

    __hash__ = None  # type: ignore[assignment]


def write_points(parent, key, value, *, ctx, dataset_kwargs):
    g = parent.create_group(key)
    g.attrs["crs"] = value.crs
    ctx.write_elem(g, "x", value.x, dataset_kwargs=dataset_kwargs)
    ctx.write_elem(g, "y", value.y, dataset_kwargs=dataset_kwargs)


def read_points(node, *, ctx):
    return Points(ctx.read_elem(node["x"]), ctx.read_elem(node["y"]), node.attrs["crs"])


@hookimpl
def annstore_register_encodings(registry):
    registry.register_writer(Points, POINTS, write_points)
    registry.register_reader(POINTS, read_points)


@hookimpl
def annstore_concat_elems(elems, axis):
    """Points of several AnnData objects concatenate along the observations (same crs)."""
    if axis != 0 or not all(isinstance(e, Points) for e in elems):
        return None
    crs = {e.crs for e in elems}
    if len(crs) != 1:
        raise ValueError(f"Cannot concatenate Points of different crs: {sorted(crs)}")
    return Points(np.concatenate([e.x for e in elems]), np.concatenate([e.y for e in elems]),
                  crs.pop())

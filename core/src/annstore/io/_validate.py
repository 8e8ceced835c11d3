"""Checking a store against the anndata on-disk spec (``annstore validate``).

Every problem is reported with its element path; nothing stops at the first one. Metadata checks
(attributes, shapes, lengths) read no array data; with ``read_data`` the sparse index arrays and
categorical codes are checked too, and every top-level element is read once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._dispatch import is_group
from ._plugins import get_registry
from ._spec import IOSpec

__all__ = ["validate_store"]

_RAW_CHILDREN = {"csr_matrix": ("data", "indices", "indptr"), "csc_matrix": ("data", "indices", "indptr")}


def _length(node: Any) -> int | None:
    if not is_group(node):
        return int(node.shape[0]) if node.shape else None
    spec = IOSpec.from_attrs(node.attrs)
    if spec.encoding_type == "categorical" and "codes" in node:
        return int(node["codes"].shape[0])
    if spec.encoding_type.startswith("nullable") and "values" in node:
        return int(node["values"].shape[0])
    if spec.encoding_type in _RAW_CHILDREN and "shape" in node.attrs:
        return int(node.attrs["shape"][0])
    if spec.encoding_type == "dataframe":
        idx = node.attrs.get("_index")
        return _length(node[idx]) if isinstance(idx, str) and idx in node else None
    if spec.encoding_type == "awkward-array" and "length" in node.attrs:
        return int(node.attrs["length"])
    return None


def _shape(node: Any) -> tuple[int, ...] | None:
    if not is_group(node):
        return tuple(int(s) for s in node.shape)
    if "shape" in node.attrs:
        try:
            return tuple(int(s) for s in node.attrs["shape"])
        except (TypeError, ValueError):
            return None
    n = _length(node)
    return None if n is None else (n,)


class _Validator:
    def __init__(self, read_data: bool) -> None:
        self.read_data = read_data
        self.problems: list[tuple[str, str]] = []
        self.registry = get_registry()

    def add(self, path: str, msg: str) -> None:
        self.problems.append((path, msg))

    def node(self, n: Any, *, expect_spec: bool = True) -> None:
        spec = IOSpec.from_attrs(n.attrs)
        if not spec:
            if expect_spec:
                self.add(n.name, "missing 'encoding-type'/'encoding-version' attributes")
            if is_group(n):
                for k in n.keys():
                    self.node(n[k])
            return
        if not self.registry.has_reader(spec, n.format):
            self.add(n.name, f"unknown encoding {spec}")
            return
        check = getattr(self, "check_" + spec.encoding_type.replace("-", "_"), None)
        if check is not None:
            check(n)
        if is_group(n):
            raw = _RAW_CHILDREN.get(spec.encoding_type, ())
            for k in n.keys():
                if k not in raw:
                    self.node(n[k])

    # -- encodings ------------------------------------------------------------------

    def check_anndata(self, g: Any) -> None:
        for k in ("obs", "var"):
            if k not in g:
                self.add(g.name, f"missing required element {k!r}")
        n_obs = _length(g["obs"]) if "obs" in g else None
        n_vars = _length(g["var"]) if "var" in g else None
        if "X" in g:
            self.expect_shape(g["X"], (n_obs, n_vars), "X")
        for key, dims in (("layers", (n_obs, n_vars)), ("obsm", (n_obs,)), ("varm", (n_vars,)),
                          ("obsp", (n_obs, n_obs)), ("varp", (n_vars, n_vars))):
            if key in g and is_group(g[key]):
                for k in g[key].keys():
                    self.expect_shape(g[key][k], dims, f"{key}/{k}")
        if "raw" in g and is_group(g["raw"]) and "X" in g["raw"]:
            raw = g["raw"]
            rv = _length(raw["var"]) if "var" in raw else None
            self.expect_shape(raw["X"], (n_obs, rv), "raw/X")
        if self.read_data:
            from ._dispatch import ReadContext

            for k in g.keys():
                try:
                    ReadContext().read_elem(g[k])
                except Exception as e:  # noqa: BLE001 - every failure is a finding
                    self.add(g[k].name, f"cannot be read: {type(e).__name__}: {e}")

    def check_raw(self, g: Any) -> None:
        if "var" not in g:
            self.add(g.name, "missing required element 'var'")
        n_vars = _length(g["var"]) if "var" in g else None
        if "X" in g:
            self.expect_shape(g["X"], (None, n_vars), "raw/X")
        if "varm" in g and is_group(g["varm"]):
            for k in g["varm"].keys():
                self.expect_shape(g["varm"][k], (n_vars,), f"raw/varm/{k}")

    def expect_shape(self, node: Any, dims: tuple[int | None, ...], label: str) -> None:
        shape = _shape(node)
        if shape is None:
            return
        for i, d in enumerate(dims):
            if d is not None and (len(shape) <= i or shape[i] != d):
                want = ", ".join("?" if x is None else str(x) for x in dims)
                self.add(node.name, f"{label} has shape {shape}; expected ({want}, ...)")
                return

    def check_dataframe(self, g: Any) -> None:
        idx = g.attrs.get("_index")
        if not isinstance(idx, str):
            self.add(g.name, "dataframe without an '_index' attribute")
            return
        if idx not in g:
            self.add(g.name, f"'_index' names {idx!r}, which does not exist")
            return
        n = _length(g[idx])
        order = g.attrs.get("column-order")
        if order is None:
            self.add(g.name, "dataframe without a 'column-order' attribute")
            order = []
        for col in list(order):
            if col not in g:
                self.add(g.name, f"column {col!r} is listed in 'column-order' but missing")
            elif n is not None and _length(g[col]) not in (None, n):
                self.add(g[col].name, f"column has length {_length(g[col])}; the index has {n}")

    def _check_sparse(self, g: Any, major_axis: int) -> None:
        for k in ("data", "indices", "indptr"):
            if k not in g:
                self.add(g.name, f"sparse matrix without {k!r}")
                return
        shape = _shape(g)
        if shape is None or len(shape) != 2 or min(shape) < 0:
            self.add(g.name, f"sparse matrix with invalid 'shape' attribute {g.attrs.get('shape')!r}")
            return
        indptr, data, indices = g["indptr"], g["data"], g["indices"]
        if indptr.shape != (shape[major_axis] + 1,):
            self.add(indptr.name, f"indptr has length {indptr.shape[0]}; shape {shape} needs "
                                  f"{shape[major_axis] + 1}")
            return
        if data.shape != indices.shape:
            self.add(g.name, f"data has {data.shape[0]} entries but indices {indices.shape[0]}")
            return
        if self.read_data:
            ip = np.asarray(indptr[...])
            if ip.size and (ip[0] != 0 or ip[-1] != data.shape[0] or np.any(np.diff(ip) < 0)):
                self.add(indptr.name, "indptr must start at 0, never decrease, and end at nnz "
                                      f"({data.shape[0]})")
            idx = np.asarray(indices[...])
            minor = shape[1 - major_axis]
            if idx.size and (idx.min() < 0 or idx.max() >= minor):
                self.add(indices.name, f"indices outside [0, {minor})")

    def check_csr_matrix(self, g: Any) -> None:
        self._check_sparse(g, 0)

    def check_csc_matrix(self, g: Any) -> None:
        self._check_sparse(g, 1)

    def check_categorical(self, g: Any) -> None:
        for k in ("codes", "categories"):
            if k not in g:
                self.add(g.name, f"categorical without {k!r}")
                return
        if "ordered" not in g.attrs:
            self.add(g.name, "categorical without an 'ordered' attribute")
        if self.read_data and not is_group(g["codes"]) and not is_group(g["categories"]):
            codes = np.asarray(g["codes"][...])
            n_cat = g["categories"].shape[0]
            if codes.size and (codes.min() < -1 or codes.max() >= n_cat):
                self.add(g["codes"].name, f"codes outside [-1, {n_cat})")

    def _check_nullable(self, g: Any) -> None:
        for k in ("values", "mask"):
            if k not in g:
                self.add(g.name, f"nullable array without {k!r}")
                return
        if g["values"].shape != g["mask"].shape:
            self.add(g.name, f"values {g['values'].shape} and mask {g['mask'].shape} differ in shape")

    check_nullable_integer = _check_nullable
    check_nullable_boolean = _check_nullable
    check_nullable_string_array = _check_nullable


def validate_store(root: Any, *, read_data: bool = True) -> list[tuple[str, str]]:
    """Return every spec violation under ``root`` as ``(element path, message)`` pairs."""
    v = _Validator(read_data)
    spec = IOSpec.from_attrs(root.attrs)
    if not spec:
        v.add(root.name, "root has no encoding attributes (legacy pre-0.7 layout, or not an AnnData)")
    elif spec.encoding_type != "anndata":
        v.add(root.name, f"root is encoded as {spec}; expected 'anndata'")
    v.node(root, expect_spec=False)
    return v.problems

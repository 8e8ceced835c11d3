"""Checking a store against the anndata on-disk spec (``annstore validate``).

Every problem is reported once, with its element path and a grade; nothing stops at the first
one. An ``error`` is something anndata (or annstore) cannot read, or reads into wrong data; a
``warning`` is something they read, but that is not what current anndata writes (an element
without encoding attributes, a column the readers ignore).

Every layout anndata itself writes or reads is accepted: the spec written since anndata 0.8, the
0.7 layout (dataframes 0.1.0 with ``__categories``, arrays without encoding attributes) and the
0.5/0.6 one (obs/var as compound datasets, ``raw.X``, ``h5sparse_format`` sparse groups). A file
in a pre-spec layout gets one warning on ``/`` saying so, not one per element.

Metadata checks (attributes, shapes, lengths) read no array data; with ``read_data`` the sparse
index arrays and categorical codes are checked too, and the file is read once the way
:func:`annstore.read` reads it.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, NamedTuple

import numpy as np

from ._dispatch import is_group
from ._plugins import get_registry
from ._spec import IOSpec

__all__ = ["Problem", "validate_store"]

Severity = Literal["error", "warning"]

_SPARSE = {"csr_matrix": 0, "csc_matrix": 1}
_SPARSE_CHILDREN = ("data", "indices", "indptr")
#: what an AnnData root may hold; the dotted names are the 0.5/0.6 layout of ``raw``
_ROOT_KEYS = {"X", "obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns", "raw",
              "raw.X", "raw.var", "raw.varm", "raw.cat"}


class Problem(NamedTuple):
    """One finding of :func:`validate_store`."""

    path: str
    severity: Severity
    message: str


def _attr(node: Any, key: str, default: Any = None) -> Any:
    v = node.attrs.get(key, default)
    return v.decode() if isinstance(v, bytes) else v


def _legacy_sparse_axis(node: Any) -> int | None:
    """0/1 for a pre-0.7 ``h5sparse_format`` sparse group, else None."""
    fmt = _attr(node, "h5sparse_format")
    if fmt is None or not is_group(node):
        return None
    return 0 if str(fmt) == "csr" else 1 if str(fmt) == "csc" else None


def _length(node: Any) -> int | None:
    if not is_group(node):
        return int(node.shape[0]) if node.shape else None
    spec = IOSpec.from_attrs(node.attrs)
    t = spec.encoding_type
    if t == "categorical" and "codes" in node:
        return _length(node["codes"])
    if t.startswith("nullable") and "values" in node:
        return _length(node["values"])
    shape = _shape_attr(node)
    if shape:
        return shape[0]
    if t == "dataframe" or (not t and "_index" in node.attrs):
        idx = _attr(node, "_index")
        return _length(node[idx]) if isinstance(idx, str) and idx in node else None
    if t == "awkward-array" and "length" in node.attrs:
        return int(node.attrs["length"])
    return None


def _shape_attr(node: Any) -> tuple[int, ...] | None:
    for key in ("shape", "h5sparse_shape"):
        if key in node.attrs:
            try:
                return tuple(int(s) for s in np.asarray(node.attrs[key]).ravel())
            except (TypeError, ValueError):
                return None
    return None


def _shape(node: Any) -> tuple[int, ...] | None:
    if not is_group(node):
        return tuple(int(s) for s in node.shape)
    shape = _shape_attr(node)
    if shape is not None:
        return shape
    n = _length(node)
    return None if n is None else (n,)


class _Validator:
    def __init__(self, read_data: bool) -> None:
        self.read_data = read_data
        self.problems: list[Problem] = []
        self.registry = get_registry()
        self.legacy = False  # the root has no encoding attributes (anndata < 0.8)
        self.to_read: list[Any] = []

    # -- bookkeeping ----------------------------------------------------------------

    def add(self, path: str, msg: str, severity: Severity = "error") -> None:
        if Problem(path, severity, msg) not in self.problems:
            self.problems.append(Problem(path, severity, msg))

    def reported(self, path: str) -> bool:
        """Whether an error was already reported at ``path`` or under it."""
        pre = path.rstrip("/") + "/"
        return any(p.severity == "error" and (p.path == path or p.path.startswith(pre))
                   for p in self.problems)

    # -- traversal ------------------------------------------------------------------

    def node(self, n: Any, *, top_missing: bool = True) -> None:
        spec = IOSpec.from_attrs(n.attrs)
        if not spec:
            self.unencoded(n, top_missing=top_missing)
            return
        if not self.registry.has_reader(spec, n.format):
            self.add(n.name, f"unknown encoding {spec.encoding_type!r} version "
                             f"{spec.encoding_version!r}; no installed reader handles it")
            return
        check = getattr(self, "check_" + spec.encoding_type.replace("-", "_"), None)
        if check is not None:
            check(n)
        if is_group(n):
            skip: tuple[str, ...] = _SPARSE_CHILDREN if spec.encoding_type in _SPARSE else ()
            for k in sorted(n.keys()):
                if k not in skip and not (k == "__categories" and spec.encoding_type == "dataframe"):
                    self.node(n[k])

    def unencoded(self, n: Any, *, top_missing: bool) -> None:
        """An element without encoding attributes: anndata reads it (OldFormatWarning)."""
        if top_missing and not self.legacy:
            self.add(n.name, "written without 'encoding-type'/'encoding-version' attributes "
                             "(anndata reads it as a pre-0.8 element)", "warning")
        axis = _legacy_sparse_axis(n)
        if axis is not None:
            self._check_sparse(n, axis)
            return
        if is_group(n):
            if "_index" in n.attrs:  # a 0.7 dataframe written without encoding attributes
                self.check_dataframe(n)
            for k in sorted(n.keys()):
                if k != "__categories":
                    self.node(n[k], top_missing=False)

    # -- encodings ------------------------------------------------------------------

    def check_root(self, g: Any) -> None:
        spec = IOSpec.from_attrs(g.attrs)
        if not spec:
            if "obs" in g or "var" in g or "X" in g:
                self.legacy = True
                self.add(g.name, "written without encoding attributes: the layout of anndata "
                                 "< 0.8, which anndata still reads", "warning")
            else:
                self.add(g.name, "not an AnnData: no encoding attributes and no obs, var or X")
                return
        elif spec.encoding_type != "anndata":
            self.add(g.name, f"root is encoded as {spec.encoding_type!r}; expected 'anndata'")
            return
        self.check_anndata(g)
        for k in sorted(g.keys()):
            if k not in _ROOT_KEYS:
                self.add(g[k].name, "not an AnnData element; readers ignore it", "warning")
                continue
            self.node(g[k])
        if self.read_data:
            if self.legacy:
                self.to_read.append(g)
            else:
                self.to_read.extend(g[k] for k in sorted(g.keys()) if k in _ROOT_KEYS)

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
                for k in sorted(g[key].keys()):
                    self.expect_shape(g[key][k], dims, f"{key}/{k}")
        if "raw" in g and is_group(g["raw"]):
            raw = g["raw"]
            if "var" not in raw:
                self.add(raw.name, "missing required element 'var'")
            rv = _length(raw["var"]) if "var" in raw else None
            if "X" in raw:
                self.expect_shape(raw["X"], (n_obs, rv), "raw/X")
            if "varm" in raw and is_group(raw["varm"]):
                for k in sorted(raw["varm"].keys()):
                    self.expect_shape(raw["varm"][k], (rv,), f"raw/varm/{k}")
        elif "raw.X" in g:  # anndata 0.5/0.6
            rv = _length(g["raw.var"]) if "raw.var" in g else None
            self.expect_shape(g["raw.X"], (n_obs, rv), "raw.X")

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
        idx = _attr(g, "_index")
        if not isinstance(idx, str):
            self.add(g.name, "dataframe without an '_index' attribute")
            return
        if idx not in g:
            self.add(g.name, f"'_index' names {idx!r}, which does not exist")
            return
        n = _length(g[idx])
        stored = g.attrs.get("column-order")
        if stored is None:
            self.add(g.name, "dataframe without a 'column-order' attribute")
            stored = []
        order = [o.decode() if isinstance(o, bytes) else str(o)
                 for o in np.asarray(stored, dtype=object).ravel()]
        for col in order:
            if col not in g:
                self.add(g.name, f"column {col!r} is listed in 'column-order' but missing")
            elif n is not None and _length(g[col]) not in (None, n):
                self.add(g[col].name, f"column has length {_length(g[col])}; the index has {n}")
        for k in sorted(g.keys()):
            if k not in order and k != idx and k != "__categories":
                self.add(g[k].name, "not listed in the dataframe's 'column-order'; readers "
                                    "ignore it", "warning")

    def _check_sparse(self, g: Any, major_axis: int) -> None:
        for k in _SPARSE_CHILDREN:
            if k not in g:
                self.add(g.name, f"sparse matrix without {k!r}")
                return
        shape = _shape_attr(g)
        if shape is None or len(shape) != 2 or min(shape) < 0:
            self.add(g.name, f"sparse matrix with invalid 'shape' attribute {g.attrs.get('shape')!r}")
            return
        if self.reported(g.name):  # its shape was already found wrong
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

    # -- reading --------------------------------------------------------------------

    def read_all(self) -> None:
        """Read what the structural checks passed, the way annstore.read does; one finding each."""
        from ._api import read_anndata_from
        from ._dispatch import ReadContext

        for n in self.to_read:
            if self.reported(n.name):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if n.name == "/" or n.name == "":
                        read_anndata_from(n)
                    else:
                        ReadContext().read_elem(n)
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                self.add(n.name, f"cannot be read: {type(e).__name__}: {e}")


def validate_store(root: Any, *, read_data: bool = True) -> list[Problem]:
    """Return every finding under ``root`` as :class:`Problem` ``(path, severity, message)``.

    ``severity`` is ``"error"`` (readers fail, or read wrong data) or ``"warning"`` (readers
    cope, but the layout is not what current anndata writes). Each problem is reported once.
    """
    v = _Validator(read_data)
    v.check_root(root)
    if read_data:
        v.read_all()
    return v.problems

"""``read_loom``: a loom file (HDF5, genes x cells) into an AnnData (cells x genes), with h5py only.

Loom layout (spec 3.0.0, as loompy writes it; 2.0.1 and older read as well):

``/matrix`` main matrix (genes x cells) · ``/layers/<name>`` more matrices of the same shape ·
``/row_attrs/<name>`` per-gene values (1-D, or 2-D with genes first) · ``/col_attrs/<name>``
per-cell values · ``/row_graphs/<name>/{a,b,w}`` and ``/col_graphs/...`` sparse graphs as
(start vertex, end vertex, weight) vectors · ``/attrs/<name>`` global attributes (3.0.0; older
files keep them as HDF5 attributes of the root). Strings are variable-length UTF-8 (3.0.0) or
fixed-length ASCII with XML character references (older).
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from annstore.errors import InvalidFileError
from annstore.io import check_allocation

if TYPE_CHECKING:
    import h5py
    from annstore import AnnData

__all__ = ["LoomContents", "read_loom_file"]

#: cells per block when converting the on-disk (genes x cells) matrix to csr
_BLOCK = 4096
#: bytes an obs/var name costs in memory (a Python str in an object index)
_PER_NAME = 64


def _blocks_with_data(ds: Any, n_cells: int) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` cell blocks of ``ds`` that hold stored data, in order.

    A chunked dataset whose chunks are not all written reads as its fill value there; when
    that is 0, blocks touching no written chunk are zeros and are not read, so a file declaring
    ``2**30`` cells over a few stored chunks is read in time proportional to what it holds.
    """
    ks: Iterable[int] = range(-(-n_cells // _BLOCK))
    try:
        chunks, fill = ds.chunks, ds.fillvalue
        if chunks is not None and (fill is None or fill == 0) and ds.shape[0]:
            n_chunks = ds.id.get_num_chunks()
            total = -(-ds.shape[0] // chunks[0]) * -(-ds.shape[1] // chunks[1])
            if n_chunks < total:  # some chunks were never written
                found: set[int] = set()
                for i in range(n_chunks):
                    col = int(ds.id.get_chunk_info(i).chunk_offset[1])
                    found.update(range(col // _BLOCK, (min(col + chunks[1], n_cells) - 1) // _BLOCK + 1))
                ks = sorted(found)
    except (AttributeError, TypeError, ValueError, RuntimeError, OSError):
        pass  # no chunk information: read every block
    for k in ks:
        yield k * _BLOCK, min((k + 1) * _BLOCK, n_cells)


class LoomContents:
    """The pieces of a loom file, read with h5py; the file stays open while in use."""

    def __init__(self, f: h5py.File, filename: str) -> None:
        self.f = f
        self.filename = filename
        if "matrix" not in f:
            self._fail("/matrix", "Expected a main matrix '/matrix'; the file has none (is it a loom file?)")
        m = f["matrix"]
        if not hasattr(m, "shape") or len(m.shape) != 2:
            self._fail("/matrix", f"Expected '/matrix' to be a 2-D dataset; got {m!r} instead")
        self.shape: tuple[int, int] = (int(m.shape[0]), int(m.shape[1]))

    def check_budget(self, layers: list[str], *, sparse: bool) -> None:
        """Refuse, before anything is read, a file whose declared sizes need more memory than
        the allocation budget (``settings.max_allocation``): names of every cell and gene, the
        csr ``indptr`` (sparse) or the dense matrices."""
        n_genes, n_cells = self.shape
        need = (n_cells + n_genes) * _PER_NAME
        for name in layers:
            ds = self._layer_ds(name)
            need += (n_cells + 1) * 8 if sparse else n_genes * n_cells * ds.dtype.itemsize
        check_allocation(
            need, self._where("/matrix"),
            f"reading {len(layers)} matrices of {n_genes} genes x {n_cells} cells with their names",
        )

    def _where(self, path: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(name=path, filename=self.filename, format="loom")

    def _fail(self, path: str, msg: str) -> None:
        full = f"{msg} (in loom file {self.filename!r}, element {path!r})."
        raise InvalidFileError(full, filename=self.filename, path=path)

    # ---------------------------------------------------------------- matrices

    def layer_names(self) -> list[str]:
        """``""`` (the main matrix) followed by the names under ``/layers``."""
        names = [""]
        if "layers" in self.f:
            names += list(self.f["layers"].keys())
        return names

    def _layer_ds(self, name: str) -> Any:
        path = "/matrix" if name == "" else f"/layers/{name}"
        ds = self.f[path]
        if tuple(ds.shape) != self.shape:
            self._fail(path, f"Expected shape {self.shape} like '/matrix'; got {tuple(ds.shape)} instead")
        if ds.dtype.kind not in "biuf":
            self._fail(path, f"Expected a numeric matrix; got dtype {ds.dtype} instead")
        return ds

    def layer(self, name: str, *, sparse: bool) -> Any:
        """The layer transposed to cells x genes: csr of float64 (zeros dropped, as loompy's
        ``sparse()`` gives it) or dense in the stored dtype. Sparse reads go block by block."""
        ds = self._layer_ds(name)
        n_genes, n_cells = self.shape
        if not sparse:
            return np.ascontiguousarray(ds[()].T)
        from scipy import sparse as sp

        out_dtype = np.dtype("float64")
        blocks = []
        stored = 0
        path = "/matrix" if name == "" else f"/layers/{name}"
        done = 0
        for start, stop in _blocks_with_data(ds, n_cells):
            if start > done:  # cells without stored chunks: zeros
                blocks.append(sp.csr_matrix((start - done, n_genes), dtype=out_dtype))
            block = ds[:, start:stop].T.astype(out_dtype, copy=False)
            blocks.append(sp.csr_matrix(block))
            done = stop
            stored += blocks[-1].nnz
            check_allocation(stored * 24, self._where(path), f"the {stored} non-zero values read so far")
        if done < n_cells:
            blocks.append(sp.csr_matrix((n_cells - done, n_genes), dtype=out_dtype))
        return sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    # -------------------------------------------------------------- attributes

    def attrs(self, axis: int) -> dict[str, np.ndarray]:
        """Row (0) or column (1) attributes, strings decoded, in stored (alphabetical) order."""
        group = ("row_attrs", "col_attrs")[axis]
        n = self.shape[axis]
        out: dict[str, np.ndarray] = {}
        if group not in self.f:
            return out
        for key, ds in self.f[group].items():
            path = f"/{group}/{key}"
            if not hasattr(ds, "shape") or ds.shape is None or len(ds.shape) == 0:
                self._fail(path, "Expected an attribute array; got a group or scalar instead")
            if ds.shape[0] != n:
                what = ("genes (rows)", "cells (columns)")[axis]
                self._fail(path, f"Expected {n} values, one per {what}; got {ds.shape[0]} instead")
            out[key] = _materialize(ds[()])
        return out

    def graphs(self, axis: int) -> dict[str, Any]:
        """Row (0) or column (1) graphs as csr matrices (n x n)."""
        from scipy import sparse as sp

        group = ("row_graphs", "col_graphs")[axis]
        n = self.shape[axis]
        out: dict[str, Any] = {}
        if group not in self.f:
            return out
        for key, g in self.f[group].items():
            path = f"/{group}/{key}"
            missing = [v for v in ("a", "b", "w") if v not in g]
            if missing:
                self._fail(path, f"Expected vectors 'a', 'b' and 'w'; missing {missing}")
            a, b, w = g["a"][()], g["b"][()], g["w"][()]
            if not (len(a) == len(b) == len(w)):
                self._fail(path, f"Expected a, b and w of equal length; got {len(a)}, {len(b)}, {len(w)}")
            if len(a) and (a.min() < 0 or b.min() < 0 or a.max() >= n or b.max() >= n):
                self._fail(path, f"Expected vertex indices in [0, {n}); got values outside")
            out[key] = sp.coo_matrix((w, (a, b)), shape=(n, n)).tocsr()
        return out

    def global_attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "attrs" in self.f:
            for key, ds in self.f["attrs"].items():
                out[key] = _materialize(ds[()])
        for key, val in self.f.attrs.items():
            if key != "last_modified":
                out.setdefault(key, _materialize(val))
        return out


def _decode(v: Any) -> str:
    if isinstance(v, bytes | np.bytes_):
        v = bytes(v).decode("utf-8", "replace")
    return html.unescape(str(v))


def _materialize(a: Any) -> Any:
    """Stored values as loompy returns them: strings decoded and XML-unescaped into an
    ``object`` array of ``str``; numbers unchanged. Unlike loompy, non-ASCII UTF-8 is kept."""
    arr = np.asarray(a)
    if arr.dtype.kind in "SOU":
        if arr.ndim == 0:
            return _decode(arr[()])
        flat = np.array([_decode(v) for v in arr.ravel()], dtype=object)
        return flat.reshape(arr.shape)
    return arr[()] if arr.ndim == 0 else arr


def _axis_frame(
    values: dict[str, np.ndarray], idx_name: str, mapping: Mapping[str, Iterable[str]], n: int,
    *, filename: str, group: str
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Split attributes into a DataFrame (1-D) and an obsm/varm dict (2-D, or by ``mapping``)."""
    values = dict(values)
    arrays: dict[str, np.ndarray] = {}
    for key, names in mapping.items():
        names = list(names)
        missing = [nm for nm in names if nm not in values]
        if missing:
            msg = (
                f"Expected attributes {names} for {key!r}; missing {missing} (in loom file "
                f"{filename!r}, group '/{group}'; present: {sorted(values)})."
            )
            raise KeyError(msg)
        arrays[key] = np.array([values.pop(nm) for nm in names]).T
    columns: dict[str, Any] = {}
    for key, v in values.items():
        if v.ndim > 1 and v.shape[1] > 1:
            arrays[key] = v
        else:
            columns[key] = v.reshape(len(v)) if v.ndim > 1 else v
    df = pd.DataFrame(columns, index=pd.RangeIndex(n)) if columns else pd.DataFrame(index=pd.RangeIndex(n))
    if idx_name in df.columns:
        df = df.set_index(idx_name, drop=True)
    return df, arrays


def _check_mapping(
    names: Mapping[str, Iterable[str]] | None, mapping: Mapping[str, Iterable[str]], arg: str
) -> Mapping[str, Iterable[str]]:
    if names is None:
        return mapping
    warnings.warn(
        f"Argument {arg}_names has been deprecated in favour of `{arg}_mapping`.",
        FutureWarning,
        stacklevel=4,
    )
    if dict(mapping):
        msg = (
            f"Received values for both `{arg}_names` and `{arg}_mapping`. This is ambiguous, "
            f"only pass `{arg}_mapping`."
        )
        raise ValueError(msg)
    return names


def read_loom_file(
    filename: Any,
    *,
    sparse: bool = True,
    cleanup: bool = False,
    X_name: str = "spliced",
    obs_names: str = "CellID",
    obsm_names: Mapping[str, Iterable[str]] | None = None,
    var_names: str = "Gene",
    varm_names: Mapping[str, Iterable[str]] | None = None,
    dtype: Any = "float32",
    obsm_mapping: Mapping[str, Iterable[str]] | None = None,
    varm_mapping: Mapping[str, Iterable[str]] | None = None,
    **kwargs: Any,
) -> AnnData:
    """Read a ``.loom`` file (anndata's ``read_loom`` results, without loompy).

    Parameters
    ----------
    filename
        The loom file.
    sparse
        Read X and the layers as csr (layers as float64, as loompy gives them) or dense.
    cleanup
        Move obs/var columns holding a single value into ``uns['loom-obs']`` / ``uns['loom-var']``.
    X_name
        Layer to use as X; when the file has no such layer, the main matrix is X. Otherwise
        the main matrix becomes ``layers['matrix']``.
    obs_names, var_names
        Column/row attribute holding the cell/gene names.
    obsm_mapping, varm_mapping
        ``{key: [attr, ...]}``: attributes stacked into one obsm/varm array.
    obsm_names, varm_names
        Deprecated spellings of the mappings.
    dtype
        dtype of X.
    kwargs
        Accepted for signature compatibility (loompy ``connect`` options); only ``mode="r"``
        and ``validate`` are meaningful and both are ignored.

    Beyond anndata: ``/col_graphs`` and ``/row_graphs`` become ``obsp`` / ``varp``.
    """
    import h5py
    from annstore import AnnData
    from annstore_h5ad import confine_file

    obsm_map = _check_mapping(obsm_names, obsm_mapping or {}, "obsm")
    varm_map = _check_mapping(varm_names, varm_mapping or {}, "varm")
    unknown = set(kwargs) - {"mode", "validate", "spec_version"}
    if unknown:
        msg = f"Unexpected keyword arguments for read_loom: {sorted(unknown)}."
        raise TypeError(msg)
    fname = os.fspath(filename)
    try:
        f = h5py.File(fname, "r")
    except FileNotFoundError:
        raise
    except OSError as e:
        if not os.path.exists(fname):
            msg = f"No such file: {fname!r}"
            raise FileNotFoundError(msg) from e
        msg = f"Expected a loom (HDF5) file; h5py could not open {fname!r}: {e}."
        raise InvalidFileError(msg, filename=fname) from e
    with f:
        # Nothing outside the file is read: external/soft links leaving it, external raw
        # storage and virtual datasets are refused (annstore.settings.allow_outside_data).
        confine_file(f)
        lc = LoomContents(f, fname)
        names = lc.layer_names()
        lc.check_budget(names, sparse=sparse)
        if X_name not in names:
            X_name = ""
        X = lc.layer(X_name, sparse=sparse).astype(dtype, copy=False)
        layers: dict[str, Any] = {}
        if X_name != "":
            layers["matrix"] = lc.layer("", sparse=sparse)
        for key in names:
            if key != "":
                layers[key] = lc.layer(key, sparse=sparse)
        n_vars, n_obs = lc.shape
        obs, obsm = _axis_frame(lc.attrs(1), obs_names, obsm_map, n_obs, filename=fname, group="col_attrs")
        var, varm = _axis_frame(lc.attrs(0), var_names, varm_map, n_vars, filename=fname, group="row_attrs")
        obsp = lc.graphs(1)
        varp = lc.graphs(0)
    uns: dict[str, Any] = {}
    if cleanup:
        for df, key in ((obs, "loom-obs"), (var, "loom-var")):
            single = {}
            for col in list(df.columns):
                if len(df[col].unique()) == 1:
                    single[col] = df[col].iloc[0]
                    del df[col]
            if single:
                uns[key] = single
    return AnnData(
        X,
        obs=obs,
        var=var,
        uns=uns,
        layers=layers,
        obsm=obsm or None,
        varm=varm or None,
        obsp=obsp or None,
        varp=varp or None,
    )

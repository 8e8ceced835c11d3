"""AnnData encodings: ``anndata`` 0.1.0 (the top-level layout) and ``raw`` 0.1.0.

On-disk layout
--------------
``anndata`` 0.1.0
    A group (the file's root, or a nested element in ``uns``) with children ``X`` (absent
    when ``X is None``), ``obs`` and ``var`` (dataframes), ``obsm``, ``varm``, ``obsp``,
    ``varp``, ``layers`` and ``uns`` (``dict`` groups, written even when empty) and ``raw``
    (only when set).
``raw`` 0.1.0
    A group with ``X``, ``var`` (dataframe) and ``varm`` (dict).

Reading also accepts the legacy layouts anndata still reads: ``obs``/``var`` as structured
arrays (pre-0.7) with categories in ``uns['<col>_categories']``, and ``raw.X``/``raw.var``/
``raw.varm`` as top-level keys instead of a ``raw`` group.

Options (``ctx.options``): on write, ``as_dense`` (``"X"``, ``"raw/X"``) stores those sparse
matrices densely; on read, ``as_sparse`` (``"X"``, ``"raw/X"``) turns those dense arrays into
``as_sparse_fmt`` (``csr_matrix`` by default; ``csc_matrix`` allowed), ``chunk_size`` rows
(or columns) at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from .._spec import IOSpec
from . import ENCODINGS
from ._common import invalid

if TYPE_CHECKING:
    from ..._anndata import AnnData
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["ANNDATA", "RAW", "read_anndata_root", "write_anndata_into"]

ANNDATA = IOSpec("anndata", "0.1.0")
RAW = IOSpec("raw", "0.1.0")

_MAPPINGS = ("obsm", "varm", "obsp", "varp", "layers", "uns")


def _option_keys(ctx: Any, name: str) -> set[str]:
    v = ctx.options.get(name, ()) or ()
    if isinstance(v, str):
        v = (v,)
    out = set()
    for k in v:
        if k in ("raw.X", ("raw", "X")):
            k = "raw/X"
        if k not in ("X", "raw/X"):
            msg = (
                f"Currently, only `X` and `raw/X` are supported values in `{name}`; "
                f"got {k!r} instead."
            )
            raise NotImplementedError(msg)
        out.add(k)
    return out


def _maybe_dense(x: Any, key: str, dense: set[str]) -> Any:
    if key in dense and (sparse.issparse(x) or hasattr(x, "to_memory")):
        x = x.to_memory() if hasattr(x, "to_memory") and not sparse.issparse(x) else x
        return np.asarray(x.toarray())
    return x


def _dictify(m: Any) -> dict[str, Any]:
    if m is None:
        return {}
    return dict(m.items()) if isinstance(m, Mapping) or hasattr(m, "items") else dict(m)


def _check_2d(adata: Any) -> None:
    layers = _dictify(adata.layers)
    for name, x in [("X", adata.X), *((f"Layer {k!r}", v) for k, v in layers.items() if k is not None)]:
        shape = getattr(x, "shape", ())
        if x is not None and len(shape) > 2:  # anndata's wording
            msg = (
                f"{name} must be 2-dimensional, but got an array with shape {tuple(shape)} "
                f"(ndim={len(shape)}). Storing higher-dimensional arrays in `X` or `layers` violates "
                "the AnnData specification, and cannot be written to disk."
            )
            raise ValueError(msg)
        if x is not None and len(shape) != 2:
            msg = f"Expected a 2-d {name}; got shape {getattr(x, 'shape', None)} instead."
            raise ValueError(msg)


def _check_no_slash_key(attr: str, elem: Mapping[Any, Any]) -> None:
    """Keys of obsm/varm/obsp/varp/layers must not contain ``/`` (anndata's wording)."""
    bad = [k for k in elem if isinstance(k, str) and "/" in k and k != "/"]
    if bad:
        msg = f"Forward slashes are not allowed in keys in {attr}; got {bad[0]!r}."
        raise ValueError(msg)


def write_anndata_into(
    root: GroupLike, adata: AnnData, *, ctx: WriteContext, dataset_kwargs: Mapping[str, Any]
) -> None:
    """Write ``adata``'s elements into the existing group ``root`` and stamp its attributes."""
    dense = _option_keys(ctx, "as_dense")
    if "raw/X" in dense and adata.raw is None:  # anndata's wording
        msg = "Cannot specify writing `raw/X` to dense if it doesn’t exist."
        raise ValueError(msg)
    kw = dict(dataset_kwargs)
    _check_2d(adata)
    for k, v in ANNDATA.to_attrs().items():  # first, as anndata (a partial store is readable)
        if k not in root.attrs:
            root.attrs[k] = v
    X = adata.X
    layers = _dictify(adata.layers)
    if None in layers:  # anndata 0.13 exposes X as layers[None]
        x_layer = layers.pop(None)
        X = x_layer if X is None else X
    if X is not None:
        X = _maybe_dense(X, "X", dense)
        x_kw = kw
        x_chunks = ctx.options.get("x_chunks")
        if x_chunks is not None and isinstance(X, np.ndarray):  # write_zarr(chunks=): dense X only
            x_kw = dict(kw, chunks=tuple(x_chunks))
        ctx.write_elem(root, "X", X, dataset_kwargs=x_kw)
    ctx.write_elem(root, "obs", adata.obs, dataset_kwargs=kw)
    ctx.write_elem(root, "var", adata.var, dataset_kwargs=kw)
    for name in _MAPPINGS:
        value = layers if name == "layers" else _dictify(getattr(adata, name))
        if name != "uns":  # uns keys go through write_elem's own (h5ad-settable) check
            _check_no_slash_key(name, value)
        ctx.write_elem(root, name, value, dataset_kwargs=kw)
    raw = adata.raw
    if raw is not None:
        if "raw/X" in dense:
            g = root.create_group("raw") if "raw" not in root else root["raw"]
            _write_raw_children(g, raw, ctx, kw, dense=True)
            g.attrs.update(RAW.to_attrs())
        else:
            ctx.write_elem(root, "raw", raw, dataset_kwargs=kw)
    root.attrs.update(ANNDATA.to_attrs())


def _register_writers() -> None:
    from ..._anndata import AnnData
    from ..._raw import Raw

    @ENCODINGS.writer(AnnData, ANNDATA)
    def write_anndata(
        parent: GroupLike, key: str, adata: AnnData, *, ctx: WriteContext,
        dataset_kwargs: dict[str, Any],
    ) -> None:
        """Write an AnnData nested in a group (e.g. in ``uns``)."""
        write_anndata_into(parent.create_group(key), adata, ctx=ctx, dataset_kwargs=dataset_kwargs)

    @ENCODINGS.writer(Raw, RAW)
    def write_raw(
        parent: GroupLike, key: str, raw: Raw, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
    ) -> None:
        """Write ``raw``: its X, var and varm."""
        _write_raw_children(parent.create_group(key), raw, ctx, dataset_kwargs, dense=False)


def _write_raw_children(
    g: GroupLike, raw: Any, ctx: WriteContext, kw: dict[str, Any], *, dense: bool
) -> None:
    x = raw.X
    if dense:
        x = _maybe_dense(x, "raw/X", {"raw/X"})
    ctx.write_elem(g, "X", x, dataset_kwargs=kw)
    ctx.write_elem(g, "var", raw.var, dataset_kwargs=kw)
    ctx.write_elem(g, "varm", _dictify(raw.varm), dataset_kwargs=kw)


_register_writers()


# ----------------------------------------------------------------------------------- reading


def _dense_as_sparse(node: Any, ctx: Any) -> Any:
    fmt = ctx.options.get("as_sparse_fmt") or sparse.csr_matrix
    chunk = int(ctx.options.get("chunk_size", 6000) or 6000)
    if fmt not in (sparse.csr_matrix, sparse.csc_matrix):
        msg = "Dense arrays can only be read as csr_matrix or csc_matrix."
        raise NotImplementedError(msg)
    if hasattr(node, "create_group"):  # already sparse on disk
        return ctx.read_elem(node)
    shape = tuple(node.shape)
    if len(shape) != 2:
        raise invalid(node, f"expected a 2-d array to read as sparse; got shape {shape}.")
    axis = 0 if fmt is sparse.csr_matrix else 1
    parts = []
    for start in range(0, max(shape[axis], 1), chunk):
        stop = min(start + chunk, shape[axis])
        sel = (slice(start, stop), slice(None)) if axis == 0 else (slice(None), slice(start, stop))
        parts.append(fmt(np.asarray(node[sel])))
    stack = sparse.vstack if axis == 0 else sparse.hstack
    return fmt(stack(parts, format="csr" if axis == 0 else "csc"))


def _read_x(node: Any, key: str, ctx: Any, as_sparse: set[str]) -> Any:
    if key in as_sparse:
        return _dense_as_sparse(node, ctx)
    return ctx.read_elem(node)


def _read_frame(node: Any, ctx: Any) -> Any:
    import pandas as pd

    from ._legacy import read_legacy_dataframe

    if not hasattr(node, "create_group"):
        return read_legacy_dataframe(node)
    df = ctx.read_elem(node)
    if isinstance(df, dict) and not IOSpec.from_attrs(node.attrs) and _columns_like(df):
        # a group without encoding attributes reads as a dict of its children; anndata makes
        # obs/var of it (e.g. what a failed write of a new zarr store leaves behind)
        df = pd.DataFrame({k: np.asarray(v) for k, v in df.items()})
    if not isinstance(df, pd.DataFrame):
        raise invalid(node, f"expected a dataframe; read a {type(df).__name__} instead.")
    return df


def _columns_like(d: dict[str, Any]) -> bool:
    """Whether the values of ``d`` are 1-d arrays of one length (columns of a dataframe)."""
    lens = set()
    for v in d.values():
        shape = getattr(v, "shape", None)
        if shape is None or len(shape) != 1:
            return False
        lens.add(shape[0])
    return len(lens) <= 1


def _check_matrices(node: Any, value: Any) -> None:
    """Values of layers/obsm/varm/obsp/varp must be matrices: refuse dicts and scalars early.

    Legacy layouts (a structured array for obsm) and extension types (awkward arrays) are left
    to the AnnData constructor.
    """
    if not isinstance(value, dict):
        return
    for k, v in value.items():
        if v is None or isinstance(v, dict | str | bytes | int | float | complex):
            raise invalid(
                node[k],
                f"expected an array, a sparse matrix or a dataframe; read a {type(v).__name__} instead.",
            )


def _check_frame_indices(root: Any, d: dict[str, Any]) -> None:
    """Dataframes in obsm/varm must be indexed like obs/var (names both elements if not)."""
    import pandas as pd

    base = root.name.rstrip("/")
    for m, axis in (("obsm", "obs"), ("varm", "var")):
        frame = d.get(axis)
        if not isinstance(frame, pd.DataFrame) or not isinstance(d.get(m), dict):
            continue
        for k, v in d[m].items():
            if isinstance(v, pd.DataFrame) and len(v.index) == len(frame.index) and not v.index.equals(frame.index):
                raise invalid(
                    root[m][k],
                    f"expected the index of {base + '/' + axis!r} ({list(frame.index[:3])!r}...); "
                    f"got {list(v.index[:3])!r}... instead.",
                )


def _read_raw_dict(root: GroupLike, ctx: ReadContext, as_sparse: set[str]) -> dict[str, Any] | None:
    legacy = [k for k in root.keys() if k.startswith("raw.")]
    if "raw" in root:
        if legacy:
            raise invalid(root, f"found both a 'raw' group and legacy raw elements {legacy!r}.")
        g = _get(root, "raw")
        spec = IOSpec.from_attrs(g.attrs)
        if spec.encoding_type == "null":  # anndata 0.13 writes raw=None as a null element
            return None
        if not hasattr(g, "create_group"):
            raise invalid(g, f"expected a group for encoding {RAW}; found an array.")
        if spec and spec != RAW:
            raise invalid(g, f"expected encoding {RAW} (or none, as legacy files have); got {spec}.")
        raw: dict[str, Any] = {}
        if "X" in g:
            raw["X"] = _read_x(g["X"], "raw/X", ctx, as_sparse)
        if "var" in g:
            raw["var"] = _read_frame(g["var"], ctx)
        if "varm" in g:
            raw["varm"] = ctx.read_elem(g["varm"])
            _check_matrices(g["varm"], raw["varm"])
        return raw
    if not legacy:
        return None
    raw = {}
    if "raw.X" in root:
        raw["X"] = _read_x(root["raw.X"], "raw/X", ctx, as_sparse)
    if "raw.var" in root:
        raw["var"] = _read_frame(root["raw.var"], ctx)
    if "raw.varm" in root:
        raw["varm"] = ctx.read_elem(root["raw.varm"])
    return raw


def _get(group: Any, key: str) -> Any:
    """``group[key]``; a storage-library failure to open it names the child's path."""
    try:
        return group[key]
    except Exception as e:
        from types import SimpleNamespace

        from .._dispatch import join_path, malformed

        if not malformed(e):
            raise
        where = SimpleNamespace(
            name=join_path(group.name, key),
            filename=getattr(group, "filename", None),
            format=getattr(group, "format", "?"),
        )
        raise invalid(where, f"cannot open it: {type(e).__name__}: {e}") from e


def _keys(group: Any) -> list[str]:
    """``group.keys()``; a storage-library failure to list it names the group."""
    try:
        return list(group.keys())
    except Exception as e:
        from .._dispatch import malformed

        if not malformed(e):
            raise
        raise invalid(group, f"cannot list its children: {type(e).__name__}: {e}") from e


def _has(group: Any, key: str) -> bool:
    """``key in group``; a storage-library failure to parse the child names the child's path."""
    try:
        return key in group
    except Exception as e:
        from .._dispatch import malformed

        if not malformed(e):
            raise
        _get(group, key)  # raises InvalidFileError naming the child (or the same error)
        raise


def _n_rows(node: Any) -> int | None:
    """Rows of a stored obs/var dataframe (or legacy structured array), without reading it."""
    from ._dataframe import _elem_len

    if not hasattr(node, "create_group"):
        return int(node.shape[0]) if len(node.shape) == 1 else None
    idx = node.attrs.get("_index")
    idx = idx.decode() if isinstance(idx, bytes) else idx
    if isinstance(idx, str) and idx in node:
        return _elem_len(node[idx])
    return None


def _declared_shape(node: Any) -> tuple[int, ...] | None:
    """Shape of a stored matrix (dense array, sparse group, dataframe) without reading it."""
    from ._sparse import sparse_shape

    if not hasattr(node, "create_group"):
        return tuple(int(s) for s in node.shape)
    enc = IOSpec.from_attrs(node.attrs).encoding_type
    if enc in ("csr_matrix", "csc_matrix"):
        return sparse_shape(node)
    if enc == "dataframe":
        n = _n_rows(node)
        return None if n is None else (n,)
    return None


def check_axes(root: GroupLike, *, raw: bool = False) -> None:
    """Check the stored shapes of X, layers, obsm/varm/obsp/varp against obs/var before reading.

    Nothing is read or allocated: shapes come from array metadata, sparse ``shape`` attributes
    and dataframe index lengths. A mismatch (or a shape no obs/var supports, such as ``10**15``)
    raises :class:`InvalidFileError` naming the element.
    """
    n_obs = _n_rows(_get(root, "obs")) if _has(root, "obs") and not raw else None
    n_var = _n_rows(_get(root, "var")) if _has(root, "var") else None
    base = root.name.rstrip("/")
    src = ", ".join(
        f"{n} from the index of {base + '/' + k!r}"
        for n, k, v in (("n_obs", "obs", n_obs), ("n_vars", "var", n_var))
        if v is not None
    )
    if n_obs is None and _has(root, "X") and not raw:
        return
    checks: list[tuple[Any, tuple[int | None, ...], str]] = []
    axes = {"obs": n_obs, "var": n_var}
    if _has(root, "X"):
        checks.append((_get(root, "X"), (n_obs, n_var) if not raw else (None, n_var), "(n_obs, n_vars)"))
    spec = {"layers": ("obs", "var"), "obsm": ("obs",), "varm": ("var",), "obsp": ("obs", "obs"),
            "varp": ("var", "var")}
    for name, ax in spec.items():
        if raw and name != "varm":
            continue
        if not _has(root, name) or not hasattr(_get(root, name), "create_group"):
            continue
        g = _get(root, name)
        if IOSpec.from_attrs(g.attrs).encoding_type not in ("", "dict"):
            continue
        for k in _keys(g):
            want = tuple(axes[a] for a in ax)
            checks.append((_get(g, k), want, "(" + ", ".join(f"n_{a}s" if a == "var" else f"n_{a}" for a in ax) + ")"))
    for node, want, label in checks:
        got = _declared_shape(node)
        if got is None:
            continue
        if len(got) < len(want):
            raise invalid(node, f"expected at least {len(want)} dimensions {label}; got shape {got}.")
        for w, g_ in zip(want, got, strict=False):
            if w is not None and w != g_:
                shown = tuple(w if w is not None else "?" for w in want)
                raise invalid(
                    node,
                    f"expected shape {label} = {shown} ({src}); got shape {got}.",
                )


def read_anndata_root(root: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read the AnnData stored in ``root`` (current and legacy layouts)."""
    from ...errors import add_note_once
    from .._dispatch import _read_note, malformed

    try:
        try:
            return _read_anndata_root(root, ctx=ctx)
        except Exception as e:
            if not malformed(e, ctx.callback):
                raise
            # Raised by the storage library while listing or opening top-level elements.
            msg = f"reading it as {ANNDATA} failed: {type(e).__name__}: {e}"
            raise invalid(root, msg) from e
    except Exception as e:
        add_note_once(e, _read_note(root, ANNDATA))
        raise


def _read_anndata_root(root: GroupLike, *, ctx: ReadContext) -> AnnData:
    from ..._anndata import AnnData
    from ...errors import AnnstoreError
    from ._legacy import clean_legacy_uns, move_adjacency_matrices

    as_sparse = _option_keys(ctx, "as_sparse")
    check_axes(root)
    if _has(root, "raw") and hasattr(_get(root, "raw"), "create_group"):
        check_axes(_get(root, "raw"), raw=True)
    d: dict[str, Any] = {}
    if _has(root, "X"):
        d["X"] = _read_x(_get(root, "X"), "X", ctx, as_sparse)
    legacy_frames = False
    for k in ("obs", "var"):
        if _has(root, k):
            legacy_frames |= not hasattr(_get(root, k), "create_group")
            d[k] = _read_frame(_get(root, k), ctx)
    for k in _MAPPINGS:
        if _has(root, k):
            d[k] = ctx.read_elem(_get(root, k))
            if k != "uns":
                _check_matrices(root[k], d[k])
    _check_frame_indices(root, d)
    raw = _read_raw_dict(root, ctx, as_sparse)
    if legacy_frames:
        clean_legacy_uns(d)
    move_adjacency_matrices(d)
    if raw is not None:
        d["raw"] = raw
    try:
        return AnnData(**d)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        if isinstance(e, AnnstoreError):
            raise
        raise invalid(root, f"the stored elements do not form an AnnData: {e}") from e


@ENCODINGS.reader(ANNDATA)
def read_anndata(node: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read an AnnData element (the root, or one nested in ``uns``)."""
    return read_anndata_root(node, ctx=ctx)


@ENCODINGS.reader(RAW)
def read_raw(node: GroupLike, *, ctx: ReadContext) -> AnnData:
    """Read ``raw`` as an AnnData of its X, var and varm (anndata's return value)."""
    from ..._anndata import AnnData

    d = {k: ctx.read_elem(node[k]) for k in ("X", "var", "varm") if k in node}
    return AnnData(**d)

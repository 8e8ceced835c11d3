"""Readers for elements without encoding attributes (anndata < 0.7 and other pre-spec layouts).

Layouts handled
---------------
* groups without attributes: read as a ``dict`` of their children;
* groups with ``h5sparse_format`` (``"csr"``/``"csc"``) and ``h5sparse_shape``: sparse matrices
  (the h5sparse layout of anndata < 0.7);
* arrays: numeric arrays as is; byte strings decoded to ``str`` (a 1-element byte-string array
  is a scalar string, as old anndata wrote them); structured arrays with string fields decoded;
  0-d arrays as scalars;
* ``obs``/``var`` stored as one structured array (first field = index), see
  :func:`read_legacy_dataframe`, with categories in ``uns['<col>_categories']`` (applied by
  :func:`clean_legacy_uns`).

Every such read emits :class:`~annstore.errors.OldFormatWarning`, as anndata does.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...errors import OldFormatWarning, user_stacklevel
from ._arrays import decode_strings, decode_structured
from ._common import invalid, read_attr

if TYPE_CHECKING:
    from ...types import ArrayLike, GroupLike
    from .._dispatch import ReadContext

__all__ = ["clean_legacy_uns", "move_adjacency_matrices", "read_legacy_dataframe", "read_unencoded"]


def _warn(node: Any) -> None:
    msg = f"Element {node.name!r} was written without encoding metadata (a pre-0.7 layout)."
    warnings.warn(msg, OldFormatWarning, stacklevel=user_stacklevel())


def read_unencoded(node: GroupLike | ArrayLike, *, ctx: ReadContext) -> Any:
    """Read an element that has no ``encoding-type`` attribute."""
    _warn(node)
    if hasattr(node, "create_group"):
        if "h5sparse_format" in node.attrs:
            return read_h5sparse(node)
        return {k: ctx.read_elem(node[k]) for k in node.keys()}
    return read_plain_array(node)


def read_h5sparse(node: GroupLike) -> Any:
    """A sparse matrix in the legacy h5sparse layout."""
    from ._sparse import build_sparse, sparse_shape

    fmt = read_attr(node, "h5sparse_format")
    if fmt not in ("csr", "csc"):
        raise invalid(node, f"expected attribute 'h5sparse_format' 'csr' or 'csc'; got {fmt!r}.")
    return build_sparse(node, fmt, sparse_shape(node, "h5sparse_shape"))


def read_plain_array(node: ArrayLike) -> Any:
    """An array without encoding attributes, decoded the way anndata's legacy reader does."""
    from ._arrays import refuse_opaque

    refuse_opaque(node)
    value = np.asarray(node[()] if len(node.shape) == 0 else node[...])
    if value.dtype.names is not None:
        return decode_structured(value)
    if value.dtype.kind == "S" or (
        value.dtype.kind == "O" and value.size and isinstance(value.reshape(-1)[0], bytes)
    ):
        value = decode_strings(value)
        if value.ndim == 1 and len(value) == 1:
            return value[0]
    if value.ndim == 0:
        item = value[()]
        return item.decode() if isinstance(item, bytes) else item
    return value


def read_legacy_dataframe(node: ArrayLike) -> pd.DataFrame:
    """A pre-0.7 ``obs``/``var``: one structured array whose first field is the index."""
    _warn(node)
    value = np.asarray(node[...])
    if value.dtype.names is None or len(value.shape) != 1:
        raise invalid(
            node, f"expected a 1-d structured array for a legacy dataframe; got dtype {value.dtype}."
        )
    df = pd.DataFrame(decode_structured(value))
    return df.set_index(df.columns[0])


def clean_legacy_uns(d: dict[str, Any]) -> None:
    """Turn obs/var code columns into categoricals using ``uns['<col>_categories']`` (in place)."""
    uns = d.get("uns")
    if not isinstance(uns, dict):
        return
    used = set()
    for cats_name, cats in list(uns.items()):
        if not cats_name.endswith("_categories"):
            continue
        name = cats_name[: -len("_categories")]
        if isinstance(cats, str | int):
            cats = [cats]
        for key in ("obs", "var"):
            df = d.get(key)
            if not isinstance(df, pd.DataFrame) or name not in df.columns:
                continue
            codes = np.asarray(df[name].values)
            if codes.dtype.kind not in "iu" or not np.all(codes < len(cats)):
                continue
            df[name] = pd.Categorical.from_codes(codes, categories=list(cats))
            used.add(cats_name)
    for k in used:
        del uns[k]


def move_adjacency_matrices(d: dict[str, Any]) -> None:
    """Move 2-d ``uns['neighbors']['distances'|'connectivities']`` to ``obsp`` (in place).

    Files written before anndata 0.7 kept the neighbour graphs in ``uns``; anndata moves them
    on construction, with a :class:`FutureWarning`. Doing it here keeps reads identical
    whatever the AnnData constructor does.
    """
    from scipy import sparse

    uns = d.get("uns")
    n = uns.get("neighbors") if isinstance(uns, dict) else None
    if not isinstance(n, dict):
        return
    obsp = d.setdefault("obsp", {})
    for k in ("distances", "connectivities"):
        v = n.get(k)
        if (sparse.issparse(v) or isinstance(v, np.ndarray)) and len(v.shape) == 2:
            msg = (
                f"Moving element from .uns['neighbors'][{k!r}] to .obsp[{k!r}]. "
                "This is where adjacency matrices should go now."
            )
            warnings.warn(msg, FutureWarning, stacklevel=4)
            obsp[k] = n.pop(k)

"""Checks a backed read makes when it opens a file, before X (and raw.X) are handed out.

Backed X stays on disk, so nothing reads it at open; without these checks a file whose X
declares ``10**12`` rows over a 13-entry ``indptr``, or carries an unknown encoding, would open
"successfully" and fail (or crash scipy) later, far from the cause. What is checked here comes
from metadata only: encoding attributes, the sparse ``shape`` attribute, array shapes and
dtypes, the obs/var index lengths. Values (``indptr``, ``indices``) are checked when first read
(see :mod:`annstore.backed._sparse`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..types import GroupLike

__all__ = ["check_backed_root", "check_backed_x", "construct_backed"]

#: Encodings a backed X may have (an element without encoding attributes is a legacy dense
#: array or an h5sparse group).
_X_ENCODINGS = {"array": False, "csr_matrix": True, "csc_matrix": True}


def check_backed_x(node: Any) -> None:
    """Refuse a stored X (or raw.X) that cannot be backed as it is declared.

    The encoding must be a known version of ``array``, ``csr_matrix`` or ``csc_matrix`` (or none,
    as legacy files have) and match the node kind; a sparse X's ``shape`` attribute and its
    ``data``/``indices``/``indptr`` lengths must agree; a dense X must have a numeric or boolean
    dtype. Raises :class:`~annstore.errors.InvalidFileError` (or
    :class:`~annstore.errors.EncodingNotFoundError`) naming the file and the element.
    """
    from ..errors import add_note_once
    from ..io._dispatch import _read_note, is_group
    from ..io._plugins import get_registry
    from ..io._spec import IOSpec
    from ..io.encodings._arrays import refuse_opaque
    from ..io.encodings._common import invalid
    from ._source import sparse_format_of
    from ._sparse import check_structure

    spec = IOSpec.from_attrs(node.attrs)
    grp = is_group(node)
    try:
        if spec:
            if spec.encoding_type not in _X_ENCODINGS:
                raise invalid(
                    node,
                    f"expected encoding 'array', 'csr_matrix' or 'csc_matrix' for a backed X; "
                    f"got {spec}.",
                )
            get_registry().find_reader(spec, node.format)  # a version this library reads
            if _X_ENCODINGS[spec.encoding_type] != grp:
                kind = "a group" if grp else "an array"
                raise invalid(node, f"expected {'an array' if grp else 'a group'} for encoding {spec}; found {kind}.")
        if grp:
            if sparse_format_of(node) is None:
                raise invalid(node, "expected a sparse matrix (csr_matrix/csc_matrix) group for a backed X.")
            check_structure(node)
        else:
            refuse_opaque(node)
            dt = np.dtype(node.dtype)
            if dt.kind not in "biufc":
                raise invalid(node, f"expected a numeric or boolean dense X; got dtype {dt}.")
            if len(node.shape) != 2:
                raise invalid(node, f"expected a 2-d X; got shape {tuple(node.shape)}.")
    except Exception as e:
        add_note_once(e, _read_note(node, spec))
        raise


def check_backed_root(root: GroupLike) -> Any:
    """Checks of a backed read at open: X and raw.X (:func:`check_backed_x`), the raw group's
    encoding, and the declared shapes of X, layers, obsm/varm/obsp/varp against obs/var (as an
    eager read checks them).

    Returns a stand-in for the root (its ``name``, ``filename`` and ``format``) for
    :func:`construct_backed`, which runs after the file is closed.
    """
    from ..errors import add_note_once
    from ..io._dispatch import _read_note
    from ..io.encodings._anndata import ANNDATA

    try:
        _check_root(root)
    except Exception as e:
        add_note_once(e, _read_note(root, ANNDATA))
        raise
    return _Ref(getattr(root, "filename", None), getattr(root, "format", "?"), root.name)


class _Ref:
    """An element of a closed file, for errors: ``name``, ``filename``, ``format``; ``ref[key]``
    is its child."""

    def __init__(self, filename: Any, format: str, name: str) -> None:
        self.filename = filename
        self.format = format
        self.name = name

    def __getitem__(self, key: str) -> _Ref:
        return _Ref(self.filename, self.format, self.name.rstrip("/") + "/" + key)


def construct_backed(where: Any, cls: Any, d: dict[str, Any], **kwargs: Any) -> Any:
    """``cls(**d, **kwargs)``; elements that do not form an AnnData (as an eager read reports
    it) raise :class:`~annstore.errors.InvalidFileError` naming the file."""
    from ..errors import AnnstoreError
    from ..io.encodings._anndata import _check_frame_indices, _check_matrices
    from ..io.encodings._common import invalid

    for k in ("layers", "obsm", "varm", "obsp", "varp"):
        if k in d:
            _check_matrices(where[k], d[k])  # as an eager read: a dict is no matrix
    _check_frame_indices(where, d)
    try:
        return cls(**d, **kwargs)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        if isinstance(e, AnnstoreError):
            raise
        raise invalid(where, f"the stored elements do not form an AnnData: {e}") from e


def _check_root(root: GroupLike) -> None:
    from ..io._spec import IOSpec
    from ..io.encodings._anndata import RAW, _get, _has, check_axes
    from ..io.encodings._common import invalid

    check_axes(root)
    if _has(root, "X"):
        check_backed_x(_get(root, "X"))
    if _has(root, "raw"):
        g = _get(root, "raw")
        spec = IOSpec.from_attrs(g.attrs)
        if spec.encoding_type == "null":
            return
        if not hasattr(g, "create_group"):
            raise invalid(g, f"expected a group for encoding {RAW}; found an array.")
        if spec and spec != RAW:
            raise invalid(g, f"expected encoding {RAW} (or none, as legacy files have); got {spec}.")
        check_axes(g, raw=True)
        if _has(g, "X"):
            check_backed_x(_get(g, "X"))
    elif _has(root, "raw.X"):
        check_backed_x(_get(root, "raw.X"))

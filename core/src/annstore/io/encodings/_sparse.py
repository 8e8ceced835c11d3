"""Compressed sparse encodings: ``csr_matrix`` 0.1.0 and ``csc_matrix`` 0.1.0.

On-disk layout
--------------
A group with attribute ``shape`` (two non-negative integers) and three 1-d arrays, which carry
no encoding attributes of their own:

``data``
    the stored values (``nnz`` long);
``indices``
    the minor-axis index of each value (``nnz`` long; ``int32`` or ``int64`` as in memory,
    or the smallest unsigned type that fits the minor axis when
    ``settings.write_csr_csc_indices_with_min_possible_dtype`` is on);
``indptr``
    ``shape[0] + 1`` (csr) or ``shape[1] + 1`` (csc) offsets into ``data``.

Both scipy sparse matrices and sparse arrays are written this way; reading returns matrices,
or arrays when ``settings.use_sparse_array_on_read`` is on. ``dataset_kwargs["indptr_dtype"]``
overrides the stored ``indptr`` dtype. Reading checks the shape attribute, the array lengths,
``indptr`` (starts at 0, non-decreasing, ends at ``nnz``) and the index range before building
the matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from ..._limits import check_allocation, check_indices, check_indptr, check_lengths
from ..._settings import settings
from ...errors import AnnstoreError
from .._spec import IOSpec
from . import ENCODINGS
from ._common import child, invalid, read_attr

if TYPE_CHECKING:
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext

__all__ = ["CSC_MATRIX", "CSR_MATRIX", "build_sparse", "check_sparse_node", "sparse_nbytes", "write_sparse"]

CSR_MATRIX = IOSpec("csr_matrix", "0.1.0")
CSC_MATRIX = IOSpec("csc_matrix", "0.1.0")


def _min_index_dtype(n: int) -> np.dtype[Any]:
    for t in (np.uint8, np.uint16, np.uint32):
        if n <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.uint64)


def write_sparse(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> IOSpec:
    """Write a CSR/CSC matrix or array as ``data``/``indices``/``indptr`` arrays."""
    fmt = value.format
    if fmt not in ("csr", "csc"):
        msg = f"Expected a CSR or CSC sparse value for {key!r}; got format {fmt!r} instead."
        raise TypeError(msg)
    kw = dict(dataset_kwargs)
    indptr_dtype = np.dtype(kw.pop("indptr_dtype", value.indptr.dtype))
    ch = kw.get("chunks")
    if not (isinstance(ch, tuple | list) and len(ch) == 1):
        kw.pop("chunks", None)  # 2-d chunk shapes do not apply to the 1-d component arrays
    kw.setdefault("maxshape", (None,))
    g = parent.create_group(key)
    g.attrs["shape"] = [int(s) for s in value.shape]
    indices_dtype = value.indices.dtype
    if settings.write_csr_csc_indices_with_min_possible_dtype:
        indices_dtype = _min_index_dtype(value.shape[1 if fmt == "csr" else 0])
    g.create_array("data", data=np.asarray(value.data), **kw)
    g.create_array("indices", data=np.asarray(value.indices, dtype=indices_dtype), **kw)
    g.create_array("indptr", data=np.asarray(value.indptr, dtype=indptr_dtype), **kw)
    return CSR_MATRIX if fmt == "csr" else CSC_MATRIX


for _t in (sparse.csr_matrix, sparse.csr_array):
    ENCODINGS.writer(_t, CSR_MATRIX)(write_sparse)
for _t in (sparse.csc_matrix, sparse.csc_array):
    ENCODINGS.writer(_t, CSC_MATRIX)(write_sparse)


def sparse_shape(node: GroupLike, attr: str = "shape") -> tuple[int, int]:
    """The checked ``shape`` attribute of a sparse group."""
    shape = read_attr(node, attr)
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise invalid(node, f"expected attribute {attr!r} to be two non-negative integers; got {shape!r}.")
    return int(shape[0]), int(shape[1])


def sparse_nbytes(data: Any, indices: Any, indptr: Any) -> int:
    """Bytes that reading the three arrays of a CSR/CSC matrix allocates (declared sizes)."""
    return sum(
        int(np.prod(a.shape, dtype=np.int64)) * max(np.dtype(a.dtype).itemsize, 1)
        for a in (data, indices, indptr)
    )


def _component(node: GroupLike, key: str) -> Any:
    """Array ``key`` of a sparse group; a storage-library failure to open it (damaged metadata)
    is an :class:`InvalidFileError` naming the child."""
    try:
        return child(node, key, array=True)
    except AnnstoreError:
        raise
    except Exception as e:
        from .._dispatch import malformed
        from ._anndata import _get

        if not malformed(e):
            raise
        _get(node, key)  # raises InvalidFileError naming the child (or the same error)
        raise


def check_sparse_node(node: GroupLike, fmt: str, shape: tuple[int, int]) -> tuple[Any, Any, Any]:
    """The ``data``/``indices``/``indptr`` arrays of ``node``, checked without reading them:
    1-d, lengths consistent with ``shape`` and each other, integer index arrays."""
    dnode, inode, pnode = (_component(node, k) for k in ("data", "indices", "indptr"))
    for name, n in (("data", dnode), ("indices", inode), ("indptr", pnode)):
        if len(n.shape) != 1:
            raise invalid(node, f"expected 1-d {name!r}; got shape {tuple(n.shape)}.")
    check_lengths(node, fmt, shape, int(pnode.shape[0]), int(dnode.shape[0]), int(inode.shape[0]))
    for name, n in (("indices", inode), ("indptr", pnode)):
        if np.dtype(n.dtype).kind not in "iu":
            raise invalid(node, f"expected integer {name!r}; got dtype {np.dtype(n.dtype)}.")
    return dnode, inode, pnode


def build_sparse(node: GroupLike, fmt: str, shape: tuple[int, int]) -> Any:
    """Read and validate ``data``/``indices``/``indptr`` of ``node`` into a scipy object.

    Lengths, dtypes and the allocation budget are checked before anything is read; ``indptr``
    (from 0, non-decreasing, to ``nnz``) before ``data``/``indices``; the index range before
    scipy sees them.
    """
    dnode, inode, pnode = check_sparse_node(node, fmt, shape)
    minor = shape[1] if fmt == "csr" else shape[0]
    nnz = int(dnode.shape[0])
    check_allocation(
        sparse_nbytes(dnode, inode, pnode), node,
        f"reading the {fmt} matrix of shape {shape} with {nnz} stored values",
    )
    indptr = np.asarray(pnode[...])
    check_indptr(indptr, node, nnz=nnz)
    data = np.asarray(dnode[...])
    indices = np.asarray(inode[...])
    check_indices(indices, node, minor=minor)
    if settings.use_sparse_array_on_read:
        cls = sparse.csr_array if fmt == "csr" else sparse.csc_array
    else:
        cls = sparse.csr_matrix if fmt == "csr" else sparse.csc_matrix
    return cls((data, indices, indptr), shape=shape)


@ENCODINGS.reader(CSR_MATRIX)
def read_csr(node: GroupLike, *, ctx: ReadContext) -> Any:
    """Read a CSR matrix (or array, see ``settings.use_sparse_array_on_read``)."""
    return build_sparse(node, "csr", sparse_shape(node))


@ENCODINGS.reader(CSC_MATRIX)
def read_csc(node: GroupLike, *, ctx: ReadContext) -> Any:
    """Read a CSC matrix (or array, see ``settings.use_sparse_array_on_read``)."""
    return build_sparse(node, "csc", sparse_shape(node))

"""Backed access: AnnData objects whose X stays on disk, CSR/CSC datasets, lazy dask reads.

The layers below never import this package; importing it registers it with them:

* with the model: :data:`~annstore.backed._file.FILE_BACKING` as the model's
  :class:`~annstore._backing.BackingProvider` (backed X, raw.X, ``filename``, views);
* with ``annstore.abc``: :class:`CSRDataset` / :class:`CSCDataset` as subclasses of the
  abstract :class:`annstore.abc.CSRDataset` / :class:`annstore.abc.CSCDataset`;
* with io: the public name ``annstore.io.sparse_dataset``, which this layer owns.

Its hook implementations (:mod:`annstore.backed._plugin`: writers, the backed reader) are
added to io's plugin managers by the package facade (:mod:`annstore._wiring`), which also
imports this package on the first backed operation.
"""

from __future__ import annotations

from .. import _backing
from .. import abc as _abc
from ..io import _provide
from ._dense import BackedArray
from ._file import FILE_BACKING, AnnDataFileManager, read_backed
from ._source import GenericSparseSource, SparseSourceBase, merge_touching
from ._sparse import BaseCompressedSparseDataset, CSCDataset, CSRDataset, sparse_dataset

__all__ = [
    "AnnDataFileManager",
    "BackedArray",
    "BaseCompressedSparseDataset",
    "CSCDataset",
    "CSRDataset",
    "GenericSparseSource",
    "SparseSourceBase",
    "merge_touching",
    "read_backed",
    "sparse_dataset",
]

_abc.CSRDataset.register(CSRDataset)
_abc.CSCDataset.register(CSCDataset)
_backing.register_provider(FILE_BACKING)
_provide("sparse_dataset", sparse_dataset)

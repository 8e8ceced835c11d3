"""Backed access: AnnData objects whose X stays on disk, CSR/CSC datasets, lazy dask reads."""

from __future__ import annotations

from ._dense import BackedArray
from ._file import (
    AnnDataFileManager,
    _backed_raw_X,
    _backed_X,
    _init_backed,
    _set_filename,
    read_backed,
)
from ._sparse import BaseCompressedSparseDataset, CSCDataset, CSRDataset, sparse_dataset

__all__ = [
    "AnnDataFileManager",
    "BackedArray",
    "BaseCompressedSparseDataset",
    "CSCDataset",
    "CSRDataset",
    "read_backed",
    "sparse_dataset",
]

"""Backed access: AnnData objects whose X stays on disk, CSR/CSC datasets, lazy dask reads."""

from __future__ import annotations

from ._dense import BackedArray
from ._file import (
    AnnDataFileManager,
    _backed_raw_X,  # noqa: F401 - called by the AnnData model
    _backed_subset,  # noqa: F401 - called by the AnnData model
    _backed_X,  # noqa: F401 - called by the AnnData model
    _init_backed,  # noqa: F401 - called by the AnnData model
    _set_filename,  # noqa: F401 - called by the AnnData model
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

"""Backed access: AnnData objects whose X stays on disk, CSR/CSC datasets, lazy dask reads."""

from __future__ import annotations

from ._sparse import BaseCompressedSparseDataset, CSCDataset, CSRDataset, sparse_dataset

__all__ = [
    "BaseCompressedSparseDataset",
    "CSCDataset",
    "CSRDataset",
    "sparse_dataset",
]

"""HDF5 (``.h5ad``) storage for annstore: the h5py store adapter and the ``h5ad`` format plugin."""

from __future__ import annotations

from ._confine import check_storage, confine_file, confined
from ._store import HDF5_MAGIC, H5Array, H5Group, open_h5_store
from ._sparse import H5SparseSource

__all__ = [
    "HDF5_MAGIC",
    "H5Array",
    "H5Group",
    "H5SparseSource",
    "check_storage",
    "confine_file",
    "confined",
    "open_h5_store",
]

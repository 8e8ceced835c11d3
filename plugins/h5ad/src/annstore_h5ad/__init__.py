"""HDF5 (``.h5ad``) storage for annstore: the h5py store adapter and the ``h5ad`` format plugin."""

from __future__ import annotations

from ._store import HDF5_MAGIC, H5Array, H5Group, open_h5_store
from ._sparse import H5SparseSource

__all__ = ["HDF5_MAGIC", "H5Array", "H5Group", "H5SparseSource", "open_h5_store"]

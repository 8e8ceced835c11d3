"""Abstract public classes (``anndata.abc``): the backed sparse datasets.

``isinstance(x, annstore.abc.CSRDataset)`` holds for every backed CSR matrix, whatever its
storage format. The classes are defined here, in the model layer, as abstract base classes;
the backed layer's implementations (:class:`annstore.backed.CSRDataset`,
:class:`annstore.backed.CSCDataset`) register themselves as their subclasses when
:mod:`annstore.backed` is imported, which happens before any of them can exist.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CSCDataset", "CSRDataset"]


class _AbstractCSDataset(ABC):
    """What every backed compressed sparse matrix offers."""

    #: ``"csr"`` or ``"csc"``: which axis is the compressed (major) one.
    format: ClassVar[Literal["csr", "csc"]]
    #: Shape of the matrix.
    shape: tuple[int, int]
    #: dtype of the stored values.
    dtype: np.dtype[Any]
    #: Name of the storage backend (``"hdf5"``, ``"zarr"``, ...).
    backend: str

    @abstractmethod
    def __getitem__(self, index: Any) -> Any:
        """Read the selected rows/columns (or one element) from storage into memory.

        Parameters
        ----------
        index
            One indexer, or one per axis (slices, integer or boolean arrays, names are not
            accepted here).

        Returns
        -------
        A scipy sparse matrix (a scalar for a single element).
        """

    @abstractmethod
    def to_memory(self) -> Any:
        """Read the whole matrix into memory.

        Returns
        -------
        The scipy sparse matrix (CSR or CSC, as stored).
        """


class CSRDataset(_AbstractCSDataset):
    """A CSR matrix kept in storage, read on indexing (an ``h5py.Dataset`` / ``zarr.Array``
    analogue for sparse matrices)."""

    format = "csr"


class CSCDataset(_AbstractCSDataset):
    """A CSC matrix kept in storage, read on indexing (an ``h5py.Dataset`` / ``zarr.Array``
    analogue for sparse matrices)."""

    format = "csc"

"""Abstract public classes (``anndata.abc``): the backed sparse datasets.

``isinstance(x, annstore.abc.CSRDataset)`` holds for every backed CSR matrix, whatever its
storage format.
"""

from __future__ import annotations

from .backed import CSCDataset, CSRDataset

__all__ = ["CSCDataset", "CSRDataset"]

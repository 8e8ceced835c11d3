"""Built-in hook implementations of the backed layer: writers for dask arrays and backed datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..io._registry import Registry


@hookimpl
def annstore_register_encodings(registry: Registry) -> None:
    """Register block-wise writers for :class:`CSRDataset`/:class:`CSCDataset`/:class:`BackedArray`
    and, when dask is imported, for ``dask.array.Array``."""
    from ._encodings import register

    register(registry)

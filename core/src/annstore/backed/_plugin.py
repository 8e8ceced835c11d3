"""The backed layer's hook implementations, registered like a plugin's.

io imports nothing of the backed layer: the package facade (:mod:`annstore._wiring`) adds this
module to every plugin manager io builds (as a core plugin, next to io's built-in one), and io
reaches backed storage only through these hooks:

* ``annstore_register_encodings``: block-wise writers for :class:`CSRDataset` /
  :class:`CSCDataset` / :class:`BackedArray` and, once dask is imported, ``dask.array.Array``;
* ``annstore_read_backed``: ``read(..., backed="r"|"r+")``, ``read_h5ad(..., backed=...)``,
  ``read_zarr(..., backed=...)``, for every format whose plugin supports backed mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._anndata import AnnData
    from ..io._registry import Registry


@hookimpl
def annstore_register_encodings(registry: Registry) -> None:
    """Register block-wise writers for :class:`CSRDataset`/:class:`CSCDataset`/:class:`BackedArray`
    and, when dask is imported, for ``dask.array.Array``."""
    from ._encodings import register

    register(registry)


@hookimpl
def annstore_read_backed(
    path: Any, format: str, mode: str, storage_options: Mapping[str, Any] | None
) -> AnnData:
    """Read ``path`` with X (and raw.X) left on disk (see :func:`annstore.backed.read_backed`)."""
    from ._file import read_backed

    return read_backed(path, format=format, mode=mode, storage_options=storage_options)

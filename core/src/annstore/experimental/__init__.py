"""Experimental API: backed sparse datasets, lazy (dask) reads, partial reads, AnnCollection/AnnLoader.

``AnnCollection``, ``AnnLoader`` and ``concat_on_disk`` are imported on first access, so a
missing optional dependency (torch for ``AnnLoader``) only fails when that name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from types import MappingProxyType

from .._xarray import Dataset2DIlocIndexer
from ..io import IOSpec, read_dispatched, write_dispatched
from ._lazy_api import read_elem_lazy, read_lazy
from ._partial_api import read_partial

__all__ = [
    "AnnCollection",
    "AnnLoader",
    "Dataset2DIlocIndexer",
    "IOSpec",
    "concat_on_disk",
    "read_dispatched",
    "read_elem_lazy",
    "read_lazy",
    "read_partial",
    "write_dispatched",
]

#: Names anndata moved out of ``experimental`` (old name -> new path under the package); they
#: still resolve, with anndata's ``FutureWarning``.
_DEPRECATED = MappingProxyType({
    "CSRDataset": "abc.CSRDataset",
    "CSCDataset": "abc.CSCDataset",
    "sparse_dataset": "io.sparse_dataset",
    "read_elem": "io.read_elem",
    "write_elem": "io.write_elem",
    "RWAble": "typing.AxisStorable",
    "InMemoryElem": "typing.RWAble",
})

_LAZY = {
    "AnnCollection": "._collection",
    "AnnLoader": "._loader",
    "concat_on_disk": "._concat_on_disk",
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        from .. import abc, io, typing
        from ..utils import redirect_deprecated

        return redirect_deprecated(name, _DEPRECATED, "experimental", modules={"abc": abc, "io": io, "typing": typing})
    mod = _LAZY.get(name)
    if mod is None:
        msg = f"module 'annstore.experimental' has no attribute {name!r}"
        raise AttributeError(msg)
    try:
        module = importlib.import_module(mod, __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}{mod}":
            raise
        msg = f"annstore.experimental.{name} is not available in this installation ({e})."
        raise AttributeError(msg) from e
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

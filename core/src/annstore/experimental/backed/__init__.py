"""Lazy, xarray-backed annotations (anndata's ``anndata.experimental.backed``).

``Dataset2D`` wraps an :class:`xarray.Dataset` as an obs/var-like dataframe;
``CategoricalArray`` and ``MaskedArray`` are the lazy arrays behind categorical and nullable
columns of lazily read dataframes; ``read_lazy`` reads a whole store lazily. xarray is
needed only to use these names: importing this module does not import it.
"""

from __future__ import annotations

from typing import Any

from ..._xarray import Dataset2D
from ...backed._lazy import read_lazy

__all__ = ["CategoricalArray", "Dataset2D", "MaskedArray", "read_lazy"]


def __getattr__(name: str) -> Any:
    if name in {"CategoricalArray", "MaskedArray"}:
        from ...backed import _lazy_arrays

        value = getattr(_lazy_arrays, name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

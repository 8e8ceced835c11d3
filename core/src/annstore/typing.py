"""Public type aliases (``anndata.typing``): what indexes an AnnData and what can be stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["AxisStorable", "Index", "Index1D", "RWAble"]

Index1D: TypeAlias = (
    int | str | np.int64 | slice | np.ndarray | Sequence[int] | Sequence[str] | Sequence[bool]
    | pd.Series | pd.Index | pd.api.extensions.ExtensionArray
    | sparse.csr_matrix | sparse.csc_matrix | sparse.csr_array | sparse.csc_array
)
"""One axis of an index: an int, a name, a slice, a mask, positions or names."""

Index: TypeAlias = Index1D | tuple[Index1D, Index1D] | Any
"""What ``adata[index]`` accepts: one axis, or one per axis."""

AxisStorable: TypeAlias = Any
"""What obsm/varm/layers/... may hold: numpy, scipy sparse, dask, awkward, DataFrames, ..."""

RWAble: TypeAlias = Any
"""What ``write_elem`` can write: AxisStorable, scalars, strings, and mappings of them."""

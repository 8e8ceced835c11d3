"""Shared fixtures for core tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import annstore as ad


@pytest.fixture
def adata() -> ad.AnnData:
    """A 3 × 4 AnnData with obs/var columns, obsm/varm/obsp/layers and uns."""
    a = ad.AnnData(
        np.arange(12, dtype=float).reshape(3, 4),
        obs=pd.DataFrame({"g": pd.Categorical(["a", "b", "a"]), "n": [1, 2, 3]}, index=["c0", "c1", "c2"]),
        var=pd.DataFrame({"kind": ["p", "q", "p", "q"]}, index=["w", "x", "y", "z"]),
        uns={"g_colors": ["red", "blue"], "nested": {"k": 1}},
        obsm={"pca": np.arange(6, dtype=float).reshape(3, 2)},
        varm={"load": np.ones((4, 2))},
        obsp={"dist": np.eye(3)},
        layers={"counts": np.arange(12).reshape(3, 4) * 10},
    )
    return a

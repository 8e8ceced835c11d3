"""Warnings point at the user's line, not at annstore's.

anndata raises its warnings with ``skip_file_prefixes`` (its own files), so a warning names the
line of the caller's code that caused it; annstore's do the same, on Python 3.11 as well. Each
case below triggers one warning from this file and checks that every warning of the expected
category names this file (``w.filename == __file__``), whatever the call depth inside annstore
or a plugin.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad
from annstore import ImplicitModificationWarning, OldFormatWarning, WriteWarning


def _adata(n_obs: int = 4, n_vars: int = 3) -> ad.AnnData:
    return ad.AnnData(
        np.arange(n_obs * n_vars, dtype=float).reshape(n_obs, n_vars),
        obs=pd.DataFrame({"g": list("abab")[:n_obs]}, index=[f"c{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=[f"v{i}" for i in range(n_vars)]),
        obsm={"pca": np.ones((n_obs, 2))},
        layers={"counts": np.ones((n_obs, n_vars))},
        uns={"k": {"nested": 1}},
    )


# ------------------------------------------------------------------ the cases (one line each)


def view_obs_column(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.obs["new"] = 1


def view_var_column(tmp_path: Path) -> None:
    v = _adata()[:, :2]
    v.var["new"] = 1


def view_X(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.X = np.zeros(v.shape)


def view_X_item(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.X[0, 0] = 5


def view_obsm(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.obsm["b"] = np.zeros((2, 1))


def view_layers(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.layers["b"] = np.zeros(v.shape)


def view_uns(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.uns["new"] = 1


def view_obs_index(tmp_path: Path) -> None:
    v = _adata()[:2]
    v.obs.index = ["x", "y"]


def int_index(tmp_path: Path) -> None:
    ad.AnnData(np.zeros((2, 2)), obs=pd.DataFrame(index=[1, 2]))


def np_matrix_obsm(tmp_path: Path) -> None:
    a = _adata()
    a.obsm["m"] = np.matrix(np.ones((4, 2)))


def duplicate_names_init(tmp_path: Path) -> None:
    ad.AnnData(np.zeros((2, 1)), obs=pd.DataFrame(index=["a", "a"]))


def make_unique_collisions(tmp_path: Path) -> None:
    a = ad.AnnData(np.zeros((3, 1)), obs=pd.DataFrame(index=["a", "a", "a-1"]))
    a.obs_names_make_unique()


def deprecated_top_level_reader(tmp_path: Path) -> None:
    ad.read_csv  # noqa: B018


def deprecated_experimental_name(tmp_path: Path) -> None:
    ad.experimental.CSRDataset  # noqa: B018


def deprecated_obs_keys(tmp_path: Path) -> None:
    _adata().obs_keys()


def X_scalar(tmp_path: Path) -> None:
    a = _adata()
    a.X = 1


def layers_clear(tmp_path: Path) -> None:
    _adata().layers.clear()


def deprecated_setting(tmp_path: Path) -> None:
    ad.settings.zarr_write_format  # noqa: B018


def neighbors_in_uns(tmp_path: Path) -> None:
    ad.AnnData(np.zeros((3, 3)), uns={"neighbors": {"distances": sparse.csr_matrix((3, 3))}})


def concat_some_raw(tmp_path: Path) -> None:
    a, b = _adata(), _adata()
    a.raw = a
    ad.concat([a, b])


def concat_some_X_none(tmp_path: Path) -> None:
    a, b = _adata(), _adata()
    b.X = None
    ad.concat([a, b])


def old_format_read(tmp_path: Path) -> None:
    from annstore import io

    with io.open_store(f"memory://{tmp_path.as_posix()}/legacy", format="memory", mode="w") as g:
        g.create_array("X", data=np.ones((2, 2)))
        g.create_array("obs", data=np.array([(b"a",), (b"b",)], dtype=[("index", "S1")]))
        g.create_array("var", data=np.array([(b"x",), (b"y",)], dtype=[("index", "S1")]))
    ad.read(f"memory://{tmp_path.as_posix()}/legacy", format="memory")


def write_csvs_no_X(tmp_path: Path) -> None:
    pytest.importorskip("annstore_text")
    a = _adata()
    a.X = None
    a.write_csvs(tmp_path / "csvs", skip_data=False)


def write_csvs_sparse_uns(tmp_path: Path) -> None:
    pytest.importorskip("annstore_text")
    a = _adata()
    a.uns["sp"] = sparse.csr_matrix((2, 2))
    a.write_csvs(tmp_path / "csvs")


def write_loom_df_in_obsm(tmp_path: Path) -> None:
    pytest.importorskip("annstore_loom")
    a = _adata()
    a.obsm["df"] = pd.DataFrame({"x": range(4)}, index=a.obs_names)
    a.write_loom(tmp_path / "a.loom")


def h5ad_roundtrip_view_edit(tmp_path: Path) -> None:
    pytest.importorskip("annstore_h5ad")
    _adata().write_h5ad(tmp_path / "a.h5ad")
    v = ad.read_h5ad(tmp_path / "a.h5ad")[:2]
    v.obs["new"] = 1


CASES: list[tuple[Callable[[Path], Any], type[Warning]]] = [
    (view_obs_column, ImplicitModificationWarning),
    (view_var_column, ImplicitModificationWarning),
    (view_X, ImplicitModificationWarning),
    (view_X_item, ImplicitModificationWarning),
    (view_obsm, ImplicitModificationWarning),
    (view_layers, ImplicitModificationWarning),
    (view_uns, ImplicitModificationWarning),
    (view_obs_index, ImplicitModificationWarning),
    (int_index, ImplicitModificationWarning),
    (np_matrix_obsm, ImplicitModificationWarning),
    (duplicate_names_init, UserWarning),
    (make_unique_collisions, UserWarning),
    (deprecated_top_level_reader, FutureWarning),
    (deprecated_experimental_name, FutureWarning),
    (deprecated_obs_keys, FutureWarning),
    (X_scalar, FutureWarning),
    (layers_clear, FutureWarning),
    (deprecated_setting, DeprecationWarning),
    (neighbors_in_uns, FutureWarning),
    (concat_some_raw, UserWarning),
    (concat_some_X_none, UserWarning),
    (old_format_read, OldFormatWarning),
    (write_csvs_no_X, WriteWarning),
    (write_csvs_sparse_uns, WriteWarning),
    (write_loom_df_in_obsm, WriteWarning),
    (h5ad_roundtrip_view_edit, ImplicitModificationWarning),
]


@pytest.mark.parametrize(("case", "category"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_warning_points_at_the_callers_line(case: Callable[[Path], Any], category: type[Warning],
                                            tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        case(tmp_path)
    mine = [x for x in w if issubclass(x.category, category)]
    assert mine, f"no {category.__name__} raised (got {[x.category.__name__ for x in w]})"
    elsewhere = [f"{x.category.__name__} at {x.filename}:{x.lineno}: {str(x.message)[:80]}"
                 for x in mine if x.filename != __file__]
    assert not elsewhere, "warnings not attributed to the caller's line:\n  " + "\n  ".join(elsewhere)

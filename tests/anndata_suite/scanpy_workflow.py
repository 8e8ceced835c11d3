"""scanpy's standard workflow, run once on anndata and once on annstore (``install_as_anndata``).

``python scanpy_workflow.py OUT.npz [--annstore]`` runs filter, normalize, log1p, highly
variable genes, PCA, neighbors, UMAP, Leiden, rank_genes_groups, write (h5ad and zarr), read
and concat on a fixed synthetic count matrix, and saves every result into ``OUT.npz``.
``run.py`` runs it in both venvs and compares the two files (:func:`compare`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np


def counts(seed: int = 0, n_obs: int = 400, n_vars: int = 600):
    """Counts with 4 clusters of cells, each expressing its own genes more."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 4, n_obs)
    base = rng.gamma(0.6, 1.0, n_vars)
    lam = np.tile(base, (n_obs, 1))
    for g in range(4):
        lam[groups == g, g * 40:(g + 1) * 40] *= 8
    return rng.poisson(lam).astype(np.float32), groups


def workflow(out: Path, *, annstore: bool) -> None:
    if annstore:
        import annstore

        annstore.install_as_anndata()
    import anndata as ad
    import pandas as pd
    import scanpy as sc
    from scipy import sparse

    if annstore:
        import annstore

        assert ad.AnnData is annstore.AnnData
    X, groups = counts()
    adata = ad.AnnData(
        sparse.csr_matrix(X),
        obs=pd.DataFrame({"batch": pd.Categorical(np.where(groups % 2, "a", "b"))},
                         index=[f"c{i}" for i in range(X.shape[0])]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(X.shape[1])]),
    )
    res: dict[str, np.ndarray] = {}
    sc.pp.filter_cells(adata, min_genes=10)
    sc.pp.filter_genes(adata, min_cells=3)
    res["shape_filtered"] = np.array(adata.shape)
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    res["X_log1p"] = adata.X.toarray()
    sc.pp.highly_variable_genes(adata, n_top_genes=200)
    res["hvg"] = adata.var["highly_variable"].to_numpy()
    res["dispersions_norm"] = adata.var["dispersions_norm"].to_numpy(dtype=float)
    sc.pp.pca(adata, n_comps=20, mask_var="highly_variable", svd_solver="arpack", random_state=0)
    res["X_pca_abs"] = np.abs(adata.obsm["X_pca"])  # the sign of a component is arbitrary
    res["pca_variance"] = adata.uns["pca"]["variance"]
    sc.pp.neighbors(adata, n_neighbors=15, random_state=0)
    res["connectivities"] = adata.obsp["connectivities"].toarray()
    res["distances"] = adata.obsp["distances"].toarray()
    sc.tl.umap(adata, random_state=0)
    res["X_umap"] = adata.obsm["X_umap"]
    sc.tl.leiden(adata, flavor="igraph", n_iterations=2, random_state=0)
    res["leiden"] = adata.obs["leiden"].astype(str).to_numpy()
    sc.tl.rank_genes_groups(adata, "leiden", method="wilcoxon")
    rgg = adata.uns["rank_genes_groups"]
    res["rgg_names"] = np.array([list(r) for r in rgg["names"]]).astype(str)
    res["rgg_scores"] = np.array([list(r) for r in rgg["scores"]], dtype=float)
    with tempfile.TemporaryDirectory() as tmp:
        adata.write_h5ad(Path(tmp) / "a.h5ad")
        back = sc.read_h5ad(Path(tmp) / "a.h5ad")
        adata.write_zarr(Path(tmp) / "a.zarr")
        backz = ad.read_zarr(Path(tmp) / "a.zarr")
        for name, b in [("h5ad", back), ("zarr", backz)]:
            res[f"{name}_X"] = b.X.toarray()
            res[f"{name}_umap"] = b.obsm["X_umap"]
            res[f"{name}_leiden"] = b.obs["leiden"].astype(str).to_numpy()
            res[f"{name}_keys"] = np.array(sorted(b.uns.keys()))
        both = ad.concat([back, backz], label="source", keys=["h5ad", "zarr"], index_unique="-")
        res["concat_shape"] = np.array(both.shape)
        res["concat_obs_names"] = both.obs_names.to_numpy().astype(str)
        res["concat_source"] = both.obs["source"].astype(str).to_numpy()
        res["concat_X"] = both.X.toarray()
    np.savez(out, **{k: np.asarray(v).astype(str) if np.asarray(v).dtype == object else np.asarray(v)
                     for k, v in res.items()})


def compare(a: Path, b: Path, rtol: float = 1e-5, atol: float = 1e-6) -> list[str]:
    """The names of results that differ between two runs (empty when equal)."""
    x, y = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
    diffs = []
    for k in sorted(set(x.files) | set(y.files)):
        if k not in x.files or k not in y.files:
            diffs.append(f"{k}: only in one run")
            continue
        u, v = x[k], y[k]
        if u.shape != v.shape:
            diffs.append(f"{k}: shape {u.shape} vs {v.shape}")
        elif u.dtype.kind in "fc":
            if not np.allclose(u, v, rtol=rtol, atol=atol, equal_nan=True):
                diffs.append(f"{k}: max abs difference {np.nanmax(np.abs(u - v)):.3g}")
        elif not np.array_equal(u, v):
            diffs.append(f"{k}: {int(np.sum(u != v))} values differ")
    return diffs


if __name__ == "__main__":
    workflow(Path(sys.argv[1]), annstore="--annstore" in sys.argv[2:])

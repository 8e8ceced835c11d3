"""The benchmark inputs, generated once per scale: ``python _data.py DATADIR SCALE``.

A 100,000 x 20,000 CSR float32 matrix at 2 % density (both dimensions times ``SCALE``) with
realistic obs (categoricals, ints, floats, barcodes), var and obsm, written by annstore as
``x.h5ad`` (plain), ``x_gzip.h5ad`` and ``x.zarr`` (format 3); four row-parts of it with the
same var (``parts/p{i}.h5ad``); ``x.mtx`` (20k x 4k at 2 %); ``x.csv`` (4,000 x 1,000 dense);
``small.h5ad`` (2,000 x 500). Every file is in anndata's on-disk layout, read alike by both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import io as sio
from scipy import sparse


def csr(n_obs: int, n_vars: int, density: float, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    per_row = max(int(n_vars * density), 1)
    stride = n_vars // per_row
    indices = (rng.integers(0, stride, size=(n_obs, 1)) + np.arange(per_row) * stride).astype(np.int32).ravel()
    data = rng.random(indices.size, dtype=np.float32) + 0.5
    indptr = np.arange(0, (n_obs + 1) * per_row, per_row, dtype=np.int64)
    return sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))


def adata(n_obs: int, n_vars: int, seed: int = 0):  # noqa: ANN201
    import annstore

    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(rng.choice([f"type_{i}" for i in range(20)], n_obs)),
            "batch": pd.Categorical(rng.choice(["b1", "b2", "b3"], n_obs)),
            "n_genes": rng.integers(200, 5000, n_obs),
            "total_counts": rng.random(n_obs, dtype=np.float32) * 1e4,
            "barcode": [f"AAACCTG{i:09d}-1" for i in range(n_obs)],
        },
        index=[f"cell_{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {"gene_symbol": [f"GENE{i}" for i in range(n_vars)], "highly_variable": rng.random(n_vars) < 0.1},
        index=[f"ENSG{i:011d}" for i in range(n_vars)],
    )
    obsm = {"X_pca": rng.random((n_obs, 50), dtype=np.float32)}
    return annstore.AnnData(csr(n_obs, n_vars, 0.02, seed), obs=obs, var=var, obsm=obsm)


def main(out: Path, scale: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    n_obs, n_vars = max(int(100_000 * scale), 200), max(int(20_000 * scale), 100)
    a = adata(n_obs, n_vars)
    a.write_h5ad(out / "x.h5ad")
    a.write_h5ad(out / "x_gzip.h5ad", compression="gzip")
    a.write_zarr(out / "x.zarr")
    (out / "parts").mkdir(exist_ok=True)
    bounds = np.linspace(0, n_obs, 5).astype(int)
    for i in range(4):
        part = a[bounds[i] : bounds[i + 1]].copy()
        part.obs_names = [f"p{i}_{j}" for j in range(part.n_obs)]
        part.write_h5ad(out / "parts" / f"p{i}.h5ad")
    sio.mmwrite(out / "x.mtx", csr(max(int(20_000 * scale), 100), max(int(4_000 * scale), 50), 0.02, 1))
    rng = np.random.default_rng(2)
    m, k = max(int(4_000 * scale), 50), max(int(1_000 * scale), 20)
    pd.DataFrame(rng.random((m, k)).round(4), index=[f"c{i}" for i in range(m)],
                 columns=[f"g{j}" for j in range(k)]).to_csv(out / "x.csv")
    adata(2_000, 500, seed=3).write_h5ad(out / "small.h5ad")


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))

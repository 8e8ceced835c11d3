"""AnnLoader: batch values, order under a seed, worker processes, batch_size=1, backed h5ad inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore as ad

torch = pytest.importorskip("torch")

from annstore.experimental import AnnCollection, AnnLoader  # noqa: E402

N0, N1, NV = 37, 26, 12


def _adatas() -> list[ad.AnnData]:
    rng = np.random.default_rng(7)
    out = []
    for i, n in enumerate((N0, N1)):
        dense = ((rng.random((n, NV)) < 0.3) * rng.integers(1, 50, (n, NV))).astype(np.float32)
        out.append(
            ad.AnnData(
                sparse.csr_matrix(dense),
                obs=pd.DataFrame(
                    {"row": np.arange(n) + 1000 * i, "cat": pd.Categorical(rng.choice(["u", "v"], n))},
                    index=[f"o{i}_{j}" for j in range(n)],
                ),
                var=pd.DataFrame(index=[f"g{k}" for k in range(NV)]),
                obsm={"emb": rng.random((n, 4)).astype(np.float32)},
                layers={"raw": dense.astype(np.int64)},
            )
        )
    return out


@pytest.fixture
def adatas() -> list[ad.AnnData]:
    return _adatas()


@pytest.fixture
def expected(adatas: list[ad.AnnData]) -> ad.AnnData:
    return ad.concat(adatas)


@pytest.fixture
def h5ad_paths(tmp_path: Path, adatas: list[ad.AnnData]) -> list[Path]:
    if "h5ad" not in ad.list_formats():
        pytest.skip("requires annstore-h5ad")
    paths = []
    for i, a in enumerate(adatas):
        p = tmp_path / f"l{i}.h5ad"
        a.write_h5ad(p)
        paths.append(p)
    return paths


def _dense(x: Any) -> np.ndarray:
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def _collect(loader: Any) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Row ids per batch, stacked X and stacked obsm['emb'] over one epoch."""
    rows, xs, embs = [], [], []
    for batch in loader:
        assert isinstance(batch.X, torch.Tensor)
        assert isinstance(batch.obs["row"], torch.Tensor)
        rows.append(batch.obs["row"].numpy())
        xs.append(batch.X.numpy())
        embs.append(batch.obsm["emb"].numpy())
    return rows, np.concatenate(xs), np.concatenate(embs)


def _positions(expected: ad.AnnData, row_ids: np.ndarray) -> np.ndarray:
    lookup = {int(r): i for i, r in enumerate(expected.obs["row"].to_numpy())}
    return np.array([lookup[int(r)] for r in row_ids])


def test_sequential_batches_values(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    loader = AnnLoader(adatas, batch_size=10)
    rows, X, emb = _collect(loader)
    assert [len(r) for r in rows] == [10] * 6 + [3]
    assert len(loader) == 7
    np.testing.assert_array_equal(np.concatenate(rows), expected.obs["row"].to_numpy())
    np.testing.assert_array_equal(X, _dense(expected.X))
    np.testing.assert_array_equal(emb, expected.obsm["emb"])
    batch = next(iter(loader))
    assert batch.X.dtype == torch.float32
    assert not isinstance(batch.obs["cat"], torch.Tensor)  # categoricals stay as they are
    assert isinstance(batch.layers["raw"], torch.Tensor) and batch.layers["raw"].dtype == torch.int64


def test_shuffle_order_follows_seeded_generator(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    n = N0 + N1
    loader = AnnLoader(adatas, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(42))
    rows, X, _ = _collect(loader)
    # the same order torch's own DataLoader draws for a map-style dataset with this generator
    plain = torch.utils.data.DataLoader(range(n), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(42))
    order = torch.cat(list(plain)).numpy()
    got = _positions(expected, np.concatenate(rows))
    np.testing.assert_array_equal(got, order)
    np.testing.assert_array_equal(X, _dense(expected.X)[order])
    again, _, _ = _collect(AnnLoader(adatas, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(42)))
    np.testing.assert_array_equal(np.concatenate(again), np.concatenate(rows))
    other, _, _ = _collect(AnnLoader(adatas, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(43)))
    assert not np.array_equal(np.concatenate(other), np.concatenate(rows))


def test_batch_size_one(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    loader = AnnLoader(adatas, batch_size=1, shuffle=True, generator=torch.Generator().manual_seed(0))
    rows, X, _ = _collect(loader)
    assert all(len(r) == 1 for r in rows) and len(rows) == N0 + N1
    pos = _positions(expected, np.concatenate(rows))
    assert sorted(pos.tolist()) == list(range(N0 + N1))
    np.testing.assert_array_equal(X, _dense(expected.X)[pos])
    assert next(iter(AnnLoader(adatas[0]))).X.shape == (1, NV)  # the default batch_size


def test_drop_last_sampler_and_batch_sampler(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    rows, _, _ = _collect(AnnLoader(adatas, batch_size=10, drop_last=True))
    assert [len(r) for r in rows] == [10] * 6
    picked = [5, 50, 3]
    rows, X, _ = _collect(AnnLoader(adatas, batch_size=2, sampler=picked))
    np.testing.assert_array_equal(_positions(expected, np.concatenate(rows)), picked)
    np.testing.assert_array_equal(X, _dense(expected.X)[picked])
    rows, X, _ = _collect(AnnLoader(adatas, batch_sampler=[[4, 1], [60, 2, 0]]))
    assert [len(r) for r in rows] == [2, 3]
    np.testing.assert_array_equal(X, _dense(expected.X)[[4, 1, 60, 2, 0]])
    with pytest.raises(ValueError, match="exclusive"):
        AnnLoader(adatas, batch_size=2, sampler=picked, shuffle=True)


def test_converters(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    loader = AnnLoader(adatas, batch_size=5, use_default_converter=False)
    b = next(iter(loader))
    assert sparse.issparse(b.X)
    coll = AnnCollection(adatas, convert={"X": lambda x: x * 2, "obs": {"row": lambda r: r - 1000}})
    loader = AnnLoader(coll, batch_size=5)
    b = next(iter(loader))
    np.testing.assert_array_equal(b.X.numpy(), _dense(expected.X[:5]) * 2)
    np.testing.assert_array_equal(b.obs["row"].numpy(), expected.obs["row"].to_numpy()[:5] - 1000)
    assert not isinstance(coll[:2].X, torch.Tensor)  # the collection passed in is not changed
    assert loader.dataset is not coll


def test_collection_kwargs(adatas: list[ad.AnnData]) -> None:
    loader = AnnLoader(adatas, batch_size=4, label="batch", keys=["a", "b"], join_obs="outer")
    b = next(iter(loader))
    assert list(b.obs["batch"]) == ["a"] * 4
    with pytest.raises(TypeError, match="label"):
        AnnLoader(AnnCollection(adatas), label="batch")
    with pytest.raises(TypeError, match="Expected AnnData"):
        AnnLoader(42)


@pytest.mark.parametrize("source", ["memory", "h5ad-backed", "h5ad-paths"])
def test_workers_match_main_process(
    adatas: list[ad.AnnData], expected: ad.AnnData, source: str, request: pytest.FixtureRequest
) -> None:
    if source == "memory":
        items: Any = adatas
    else:
        paths = request.getfixturevalue("h5ad_paths")
        items = paths if source == "h5ad-paths" else [ad.read_h5ad(p, backed="r") for p in paths]
    runs = []
    for workers in (0, 2):
        loader = AnnLoader(
            items, batch_size=9, shuffle=True, generator=torch.Generator().manual_seed(5), num_workers=workers
        )
        runs.append(_collect(loader))
    (r0, x0, e0), (r2, x2, e2) = runs
    np.testing.assert_array_equal(np.concatenate(r0), np.concatenate(r2))
    np.testing.assert_array_equal(x0, x2)
    np.testing.assert_array_equal(e0, e2)
    np.testing.assert_array_equal(x0, _dense(expected.X)[_positions(expected, np.concatenate(r0))])


def _double(x: Any) -> Any:
    return x * 2


def test_worker_batches_names_and_converters(h5ad_paths: list[Path], expected: ad.AnnData) -> None:
    # Worker batches travel as positions + values; names come from the main process's collection,
    # the user's converter runs once (in the worker) and the default converter in the main process.
    coll = AnnCollection([ad.read_h5ad(p, backed="r") for p in h5ad_paths], convert={"obsm": {"emb": _double}})
    loader = AnnLoader(coll, batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(3), num_workers=2)
    seen = []
    for b in loader:
        assert isinstance(b.X, torch.Tensor) and isinstance(b.obsm["emb"], torch.Tensor)
        pos = _positions(expected, b.obs["row"].numpy())
        assert list(b.obs_names) == list(expected.obs_names[pos])
        assert list(b.var_names) == list(expected.var_names)
        np.testing.assert_array_equal(b.X.numpy(), _dense(expected.X)[pos])
        np.testing.assert_array_equal(b.obsm["emb"].numpy(), expected.obsm["emb"][pos] * 2)
        seen.append(pos)
    assert sorted(np.concatenate(seen).tolist()) == list(range(expected.n_obs))


def test_shipped_batch_is_compact(adatas: list[ad.AnnData]) -> None:
    import pickle

    from annstore.experimental._loader import _ship, _unship

    coll = AnnCollection(adatas)
    coll.var_names = pd.Index([f"a_very_long_variable_name_{k}" for k in range(NV)])
    loader = AnnLoader(coll, batch_size=4)
    view = loader.dataset[[5, 40, 2]]
    blob = pickle.dumps(_ship(view))
    assert b"a_very_long_variable_name" not in blob and b"o0_5" not in blob
    back = _unship(pickle.loads(blob), loader.dataset)
    assert list(back.obs_names) == ["o0_5", "o1_3", "o0_2"]
    assert back.var_names is coll.var_names
    np.testing.assert_array_equal(back.X.numpy(), _dense(view.X))
    assert isinstance(back.obs["row"], torch.Tensor)
    cat, cat0 = back.obs["cat"], view.obs["cat"]  # non-numeric: a Series indexed by obs names
    assert isinstance(cat, pd.Series) and list(cat.index) == ["o0_5", "o1_3", "o0_2"]
    pd.testing.assert_series_equal(cat, cat0)


@pytest.mark.parametrize("workers", [0, 2])
def test_sparse_tensors(h5ad_paths: list[Path], expected: ad.AnnData, workers: int) -> None:
    loader = AnnLoader(
        h5ad_paths, batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(4),
        sparse_tensors=True, num_workers=workers,
    )
    seen = 0
    for b in loader:
        x = b.X
        assert x.layout == torch.sparse_csr
        pos = _positions(expected, b.obs["row"].numpy())
        np.testing.assert_array_equal(x.to_dense().numpy(), _dense(expected.X)[pos])
        assert b.layers["raw"].layout == torch.strided  # a dense layer stays dense
        np.testing.assert_array_equal(b.layers["raw"].numpy(), expected.layers["raw"][pos])
        seen += x.shape[0]
    assert seen == expected.n_obs
    with pytest.raises(ValueError, match="use_default_converter"):
        AnnLoader(h5ad_paths, sparse_tensors=True, use_default_converter=False)


def test_loader_over_a_view(adatas: list[ad.AnnData], expected: ad.AnnData) -> None:
    coll = AnnCollection(adatas)
    view = coll[np.arange(20, 55)][:, [1, 4, 7]]
    runs = []
    for workers in (0, 2):
        loader = AnnLoader(view, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0), num_workers=workers)
        runs.append([(list(b.obs_names), list(b.var_names), b.X.numpy().copy()) for b in loader])
    assert view._snapshot is None and view.reference is coll  # the view passed in stays lazy
    assert len(runs[0]) == len(runs[1]) == 5
    for (n0, v0, x0), (n2, v2, x2) in zip(*runs, strict=True):
        assert n0 == n2 and v0 == v2 == ["g1", "g4", "g7"]
        np.testing.assert_array_equal(x0, x2)
        pos = expected.obs_names.get_indexer(n0)
        assert ((pos >= 20) & (pos < 55)).all()
        np.testing.assert_array_equal(x0, _dense(expected.X)[pos][:, [1, 4, 7]])


def test_spawned_workers_reopen_files(h5ad_paths: list[Path], expected: ad.AnnData) -> None:
    loader = AnnLoader(
        [ad.read_h5ad(p, backed="r") for p in h5ad_paths],
        batch_size=16,
        num_workers=1,
        multiprocessing_context="spawn",
    )
    rows, X, _ = _collect(loader)
    np.testing.assert_array_equal(np.concatenate(rows), expected.obs["row"].to_numpy())
    np.testing.assert_array_equal(X, _dense(expected.X))


def test_backed_batches_read_only_their_rows(h5ad_paths: list[Path], adatas: list[ad.AnnData]) -> None:
    loader = AnnLoader(h5ad_paths[:1], batch_size=6, shuffle=True, generator=torch.Generator().manual_seed(1))
    src = loader.dataset._members[0]._elements[None][0]._source
    read_rows: list[int] = []
    orig = src.read_nnz_ranges
    indptr = adatas[0].X.indptr

    def spy(starts: np.ndarray, stops: np.ndarray) -> Any:
        # translate the nnz ranges back into rows: each range covers whole rows
        for a, b in zip(starts, stops, strict=True):
            lo, hi = int(np.searchsorted(indptr, a, side="left")), int(np.searchsorted(indptr, b, side="left"))
            read_rows.extend(range(lo, hi))
        return orig(starts, stops)

    src.read_nnz_ranges = spy
    n_batches = 0
    for batch in loader:
        n_batches += 1
        assert batch.X.shape[0] <= 6
    assert n_batches == -(-N0 // 6)
    # empty rows have zero-length ranges and cannot be seen; all others are read exactly once
    nonempty = [i for i in range(N0) if indptr[i + 1] > indptr[i]]
    assert sorted(r for r in read_rows if r in nonempty) == nonempty


def test_importing_experimental_does_not_import_torch() -> None:
    code = "import sys, annstore.experimental; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

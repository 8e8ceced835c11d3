"""Property tests: concatenating the pieces of an AnnData gives the AnnData back."""

from __future__ import annotations

import itertools

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse


def build(n_obs, n_vars, kind, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 5, size=(n_obs, n_vars)).astype(np.float32)
    if kind != "dense":
        X = getattr(sparse, kind)(X)
    obs = pd.DataFrame(
        {"cat": pd.Categorical(rng.choice(["a", "b", "c"], n_obs), categories=["a", "b", "c"]),
         "num": rng.normal(size=n_obs)},
        index=[f"c{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame({"g": rng.integers(0, 3, n_vars)}, index=[f"g{i}" for i in range(n_vars)])
    return ad.AnnData(
        X, obs=obs, var=var,
        layers={"l": rng.normal(size=(n_obs, n_vars))},
        obsm={"pca": rng.normal(size=(n_obs, 2))},
        varm={"load": rng.normal(size=(n_vars, 2))},
        uns={"k": {"v": 1}},
    )


def dense(x):
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def frames_equal(got, orig):
    # slicing drops unused categories (as in anndata): compare the categorical's values
    assert got.columns.tolist() == orig.columns.tolist()
    other = [c for c in got.columns if c != "cat"]
    pd.testing.assert_frame_equal(got[other], orig[other], check_index_type=False)
    if "cat" in got.columns:
        assert got["cat"].astype(str).tolist() == orig["cat"].astype(str).tolist()
        assert isinstance(got["cat"].dtype, pd.CategoricalDtype)
        assert set(got["cat"].cat.categories) >= set(orig["cat"].astype(str))


def check_equal(r, orig, axis):
    assert r.obs_names.tolist() == orig.obs_names.tolist()
    assert r.var_names.tolist() == orig.var_names.tolist()
    np.testing.assert_array_equal(dense(r.X), dense(orig.X))
    assert type(r.X) is type(orig.X) or sparse.issparse(orig.X)
    np.testing.assert_array_equal(r.layers["l"], orig.layers["l"])
    ann, oann = (r.obs, orig.obs) if axis == 0 else (r.var, orig.var)
    frames_equal(ann, oann)
    m, om = (r.obsm, orig.obsm) if axis == 0 else (r.varm, orig.varm)
    np.testing.assert_array_equal(m["pca" if axis == 0 else "load"], om["pca" if axis == 0 else "load"])
    alt, oalt = (r.var, orig.var) if axis == 0 else (r.obs, orig.obs)
    frames_equal(alt, oalt)
    am, oam = (r.varm, orig.varm) if axis == 0 else (r.obsm, orig.obsm)
    k = "load" if axis == 0 else "pca"
    np.testing.assert_array_equal(am[k], oam[k])
    assert dict(r.uns) == {"k": {"v": 1}}


@settings(max_examples=25, deadline=None)
@given(
    n_obs=st.integers(1, 12),
    n_vars=st.integers(1, 8),
    kind=st.sampled_from(["dense", "csr_matrix", "csc_matrix", "csr_array"]),
    join=st.sampled_from(["inner", "outer"]),
    axis=st.sampled_from([0, 1]),
    data=st.data(),
)
def test_concat_of_splits_is_original(n_obs, n_vars, kind, join, axis, data):
    orig = build(n_obs, n_vars, kind, data.draw(st.integers(0, 2**16)))
    n = orig.shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    bounds = [0, *cuts, n]
    pieces = [
        orig[a:b] if axis == 0 else orig[:, a:b] for a, b in itertools.pairwise(bounds)
    ]
    r = ad.concat(pieces, axis=axis, join=join, merge="same", uns_merge="same")
    check_equal(r, orig, axis)


@settings(max_examples=20, deadline=None)
@given(n_obs=st.integers(2, 10), n_vars=st.integers(2, 8), data=st.data())
def test_outer_join_of_column_subsets(n_obs, n_vars, data):
    # Splitting obs in two and dropping different var subsets: an outer join puts every
    # value back where it was and fills exactly the dropped cells (NaN dense, 0 sparse).
    orig = build(n_obs, n_vars, "dense", data.draw(st.integers(0, 2**16)))
    cut = data.draw(st.integers(1, n_obs - 1))
    keep_a = sorted(set(data.draw(st.lists(st.integers(0, n_vars - 1), min_size=1))))
    keep_b = sorted(set(data.draw(st.lists(st.integers(0, n_vars - 1), min_size=1))))
    a, b = orig[:cut, keep_a], orig[cut:, keep_b]
    r = ad.concat([a, b], join="outer")
    names = sorted(set(a.var_names) | set(b.var_names))
    assert sorted(r.var_names) == names
    full = pd.DataFrame(orig.X, index=orig.obs_names, columns=orig.var_names)
    expected = full.loc[:, list(r.var_names)].to_numpy(dtype=float, copy=True)
    mask = np.zeros_like(expected, dtype=bool)
    mask[:cut] = ~r.var_names.isin(a.var_names)
    mask[cut:] = ~r.var_names.isin(b.var_names)
    expected[mask] = np.nan
    np.testing.assert_array_equal(r.X, expected)
    rs = ad.concat([ad.AnnData(sparse.csr_matrix(a.X), obs=a.obs, var=a.var),
                    ad.AnnData(sparse.csr_matrix(b.X), obs=b.obs, var=b.var)], join="outer")
    np.testing.assert_array_equal(rs.X.toarray(), np.where(mask, 0, expected))
    ri = ad.concat([a, b], join="inner")
    inner = [n for n in a.var_names if n in set(b.var_names)]
    assert ri.var_names.tolist() == inner
    np.testing.assert_array_equal(ri.X, full.loc[:, inner].to_numpy())


@pytest.mark.parametrize("kind", ["dense", "csr_matrix"])
def test_label_round_trip(kind):
    orig = build(9, 4, kind, 1)
    pieces = {"p": orig[:3], "q": orig[3:4], "r": orig[4:]}
    r = ad.concat(pieces, label="batch", index_unique="-")
    assert r.obs["batch"].tolist() == ["p"] * 3 + ["q"] + ["r"] * 5
    assert r.obs_names.tolist() == [f"{n}-{k}" for n, k in zip(orig.obs_names, r.obs["batch"], strict=True)]
    for key, piece in pieces.items():
        sub = r[(r.obs["batch"] == key).to_numpy()]
        np.testing.assert_array_equal(dense(sub.X), dense(piece.X))

"""Partial reads: only the chosen elements, columns and rows are read from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import annstore as ad
import numpy as np
import pandas as pd
import pytest
from annstore.experimental import read_partial
from scipy import sparse


def _adata() -> ad.AnnData:
    rng = np.random.default_rng(0)
    n, m = 400, 300
    x = sparse.random(n, m, density=0.1, format="csr", random_state=1, dtype=np.float32)
    obs = pd.DataFrame(
        {"a": rng.random(n), "b": pd.Categorical(rng.choice(["x", "y"], n)), "c": np.arange(n)},
        index=[f"c{i}" for i in range(n)],
    )
    var = pd.DataFrame({"v": rng.random(m)}, index=[f"g{i}" for i in range(m)])
    return ad.AnnData(
        x, obs=obs, var=var,
        layers={"dense": rng.random((n, m)), "counts": x.copy()},
        obsm={"pca": rng.random((n, 5))}, varm={"load": rng.random((m, 2))},
        obsp={"d": sparse.random(n, n, density=0.01, format="csr", random_state=2)},
        uns={"big": np.arange(1000), "small": "s"},
    )


class _ReadLog:
    """Records which stored arrays of the memory format are read, and how many values."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from annstore.io._memory import MemoryArray

        self.reads: dict[str, int] = {}
        orig = MemoryArray.__getitem__
        log = self

        def getitem(arr: Any, sel: Any) -> Any:
            out = orig(arr, sel)
            log.reads[arr.name] = log.reads.get(arr.name, 0) + int(np.size(out))
            return out

        monkeypatch.setattr(MemoryArray, "__getitem__", getitem)

    def touched(self, prefix: str) -> list[str]:
        return [k for k in self.reads if k == prefix or k.startswith(prefix + "/")]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, ad.AnnData]:
    path = f"memory://partial-{tmp_path.name}"
    mem = _adata()
    ad.write(mem, path, format="memory")
    return path, mem


def test_only_chosen_elements_are_read(stored: tuple[str, ad.AnnData], monkeypatch: pytest.MonkeyPatch) -> None:
    path, mem = stored
    log = _ReadLog(monkeypatch)
    got = read_partial(path, elements=["X", "obsm/pca"], obs_columns=["a"], var_columns=[])
    for untouched in ("/layers", "/obsp", "/varm", "/uns", "/obsm/other", "/obs/b", "/obs/c", "/var/v"):
        assert not log.touched(untouched), f"{untouched} was read: {log.touched(untouched)}"
    assert log.touched("/X") and log.touched("/obsm/pca") and log.touched("/obs/a")
    assert list(got.obs.columns) == ["a"] and list(got.var.columns) == []
    assert [k for k in got.layers.keys() if k is not None] == [] and list(got.obsm.keys()) == ["pca"]
    np.testing.assert_array_equal(got.X.toarray(), mem.X.toarray())
    np.testing.assert_array_equal(got.obsm["pca"], mem.obsm["pca"])
    assert got.obs_names.equals(mem.obs_names)


def test_rows_only_read_their_ranges(stored: tuple[str, ad.AnnData], monkeypatch: pytest.MonkeyPatch) -> None:
    path, mem = stored
    log = _ReadLog(monkeypatch)
    rows = ["c350", "c3", "c200"]
    got = read_partial(path, elements=["X", "layers/counts", "layers/dense", "obsm", "obsp"], obs=rows,
                       var=slice(10, 20), obs_columns=["c"])
    pos = [350, 3, 200]
    np.testing.assert_array_equal(got.X.toarray(), mem.X[pos][:, 10:20].toarray())
    np.testing.assert_array_equal(got.layers["counts"].toarray(), mem.layers["counts"][pos][:, 10:20].toarray())
    np.testing.assert_array_equal(got.layers["dense"], mem.layers["dense"][np.ix_(pos, range(10, 20))])
    np.testing.assert_array_equal(got.obsm["pca"], mem.obsm["pca"][pos])
    np.testing.assert_array_equal(got.obsp["d"].toarray(), mem.obsp["d"][pos][:, pos].toarray())
    assert list(got.obs["c"]) == pos and list(got.obs_names) == rows
    assert list(got.var_names) == [f"g{i}" for i in range(10, 20)]
    # X: only the three rows' stored values, not the matrix
    assert log.reads["/X/data"] == sum(mem.X[p].nnz for p in pos) < mem.X.nnz // 10
    # dense layer: only the bounding box of the selection, far less than the whole layer
    assert log.reads["/layers/dense"] < mem.layers["dense"].size // 2


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
def test_on_disk_formats(tmp_path: Path, fmt: str) -> None:
    if fmt not in ad.list_formats():
        pytest.skip(f"requires annstore-{fmt}")
    mem = _adata()
    path = tmp_path / f"p.{fmt}"
    ad.write(mem, path)
    mask = np.arange(mem.n_obs) % 7 == 0
    got = read_partial(path, elements=["X", "uns/small"], obs=mask, obs_columns=["b"])
    np.testing.assert_array_equal(got.X.toarray(), mem.X[mask].toarray())
    assert got.uns == {"small": "s"}
    assert got.obs["b"].dtype == "category"


def test_errors(stored: tuple[str, ad.AnnData]) -> None:
    path, _ = stored
    with pytest.raises(KeyError, match="Expected elements"):
        read_partial(path, elements=["nope"])
    with pytest.raises(KeyError, match="zzz"):
        read_partial(path, elements=["X"], obs_columns=["zzz"])
    with pytest.raises(KeyError, match="missing"):
        read_partial(path, elements=["layers/missing"])

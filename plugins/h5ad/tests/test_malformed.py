"""Malformed h5ad files raise one clear error naming the file and the element path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from annstore.errors import AnnstoreError
from scipy import sparse


@pytest.fixture
def good(tmp_path: Path) -> Path:
    import annstore
    import annstore.io
    import pandas as pd

    p = tmp_path / "good.h5ad"
    a = annstore.AnnData(
        sparse.random(20, 6, density=0.4, format="csr", dtype="f4", random_state=0),
        obs=pd.DataFrame({"cat": pd.Categorical(list("ab") * 10), "x": np.arange(20.0)},
                         index=[f"c{i}" for i in range(20)]),
        var=pd.DataFrame(index=[f"g{i}" for i in range(6)]),
        obsm={"pca": np.ones((20, 2))},
    )
    a.layers["dense"] = np.zeros((20, 6))
    annstore.io.write_h5ad(p, a)
    return p


def _del_attr(path: str, attr: str) -> Callable[[h5py.File], None]:
    def f(h: h5py.File) -> None:
        del h[path].attrs[attr]
    return f


def _set_attr(path: str, attr: str, value: Any) -> Callable[[h5py.File], None]:
    def f(h: h5py.File) -> None:
        h[path].attrs[attr] = value
    return f


def _replace(path: str, data: Any) -> Callable[[h5py.File], None]:
    def f(h: h5py.File) -> None:
        attrs = dict(h[path].attrs)
        del h[path]
        h[path] = data
        h[path].attrs.update(attrs)
    return f


CASES = [
    pytest.param(_set_attr("X", "encoding-type", "csr_matrixx"), "/X", "csr_matrixx", id="unknown-encoding"),
    pytest.param(_set_attr("X", "encoding-version", "9.9.9"), "/X", "9.9.9", id="future-version"),
    pytest.param(_del_attr("X", "shape"), "/X", "shape", id="sparse-no-shape"),
    pytest.param(_set_attr("X", "shape", np.array([20, 7])), "/X", "", id="sparse-shape-disagrees"),
    pytest.param(_replace("X/indptr", np.arange(5, dtype="i4")), "/X", "indptr", id="sparse-short-indptr"),
    pytest.param(_replace("X/indices", np.zeros(3, dtype="i4")), "/X", "", id="sparse-indices-length"),
    pytest.param(_replace("obs/cat/codes", np.full(20, 7, dtype="i1")), "/obs/cat", "", id="codes-out-of-range"),
    pytest.param(_del_attr("obs", "_index"), "/obs", "_index", id="dataframe-no-index-attr"),
    pytest.param(_set_attr("obs", "column-order", ["x", "missing"]), "/obs", "missing", id="dataframe-missing-column"),
    pytest.param(_replace("obs/x", np.arange(19.0)), "/obs", "", id="column-length"),
    pytest.param(_replace("obsm/pca", np.ones((19, 2))), "/obsm", "", id="obsm-rows-disagree"),
    pytest.param(_replace("layers/dense", np.zeros((20, 5))), "/layers", "", id="layer-shape-disagrees"),
    pytest.param(_del_attr("obs/cat", "encoding-type"), "/obs", "", id="categorical-no-encoding"),
]


@pytest.mark.parametrize(("damage", "elem", "mentions"), CASES)
def test_malformed_raises_one_clear_error(
    good: Path, damage: Callable[[h5py.File], None], elem: str, mentions: str
) -> None:
    import annstore.io

    with h5py.File(good, "r+") as h:
        damage(h)
    with pytest.raises(AnnstoreError) as ei:
        annstore.io.read_h5ad(good)
    e = ei.value
    text = "\n".join([str(e), *getattr(e, "__notes__", [])])
    assert isinstance(e, ValueError | LookupError | KeyError | TypeError)
    assert str(good) in text or good.name in text, text
    assert elem in text, text
    if mentions:
        assert mentions in text, text


def test_not_an_hdf5_file(tmp_path: Path) -> None:
    import annstore.io

    p = tmp_path / "fake.h5ad"
    p.write_bytes(b"\x00" * 1024)
    with pytest.raises(AnnstoreError) as ei:
        annstore.io.read_h5ad(p)
    assert "fake.h5ad" in str(ei.value)


def test_truncated_file(good: Path) -> None:
    import annstore.io

    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises((AnnstoreError, OSError)) as ei:
        annstore.io.read_h5ad(good)
    assert "good.h5ad" in "\n".join([str(ei.value), *getattr(ei.value, "__notes__", [])])


def test_external_link_in_file_is_refused(good: Path, tmp_path: Path) -> None:
    import annstore.io
    from annstore.errors import InvalidFileError

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["secret"] = np.arange(3)
    with h5py.File(good, "r+") as h:
        h["uns"]["leak"] = h5py.ExternalLink(str(other), "/secret")
    with pytest.raises(InvalidFileError) as ei:
        annstore.io.read_h5ad(good)
    assert ei.value.path == "/uns/leak" and "external link" in str(ei.value)
    a = annstore.io.read(good, storage_options={"allow_external_links": True})
    np.testing.assert_array_equal(a.uns["leak"], np.arange(3))

"""Tests of the loom plugin: round trips, loompy interop and validator, reader options, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import annstore
import annstore.io as aio
import h5py
import numpy as np
import pandas as pd
import pytest
from annstore.errors import InvalidFileError, WriteWarning
from annstore_loom import LoomWriteError, read_loom_file, write_loom_file
from annstore_loom._plugin import annstore_guess_format
from scipy import sparse


def _adata(n_obs: int = 30, n_vars: int = 20) -> annstore.AnnData:
    rng = np.random.default_rng(0)
    X = sparse.random(n_obs, n_vars, density=0.3, format="csr", dtype=np.float32, random_state=0)
    obs = pd.DataFrame(
        {
            "ct": pd.Categorical((["a", "b", None] * n_obs)[:n_obs]),
            "n": np.arange(n_obs),
            "flag": ([True, False] * n_obs)[:n_obs],
            "score": rng.normal(size=n_obs).astype(np.float32),
        },
        index=[f"c{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame({"sym": [f"S{i}" for i in range(n_vars)]}, index=[f"g{i}" for i in range(n_vars)])
    return annstore.AnnData(
        X,
        obs=obs,
        var=var,
        layers={"dense": X.toarray() * 2, "ints": (X.toarray() > 0).astype(np.int32)},
        obsm={"X_pca": rng.normal(size=(n_obs, 3))},
        varm={"PCs": rng.normal(size=(n_vars, 3))},
        obsp={"conn": sparse.random(n_obs, n_obs, density=0.1, format="csr", random_state=1)},
        varp={"corr": sparse.random(n_vars, n_vars, density=0.1, format="csr", random_state=2)},
    )


def _read(p: Path, **kw: object) -> annstore.AnnData:
    return aio.read_loom(p, obs_names="obs_names", var_names="var_names", **kw)


# ---------------------------------------------------------------------------------- round trip


def test_roundtrip_everything(tmp_path: Path) -> None:
    a = _adata()
    p = tmp_path / "a.loom"
    a.write_loom(p, write_obsm_varm=True)
    b = _read(p)
    assert b.shape == a.shape
    assert list(b.obs_names) == list(a.obs_names) and list(b.var_names) == list(a.var_names)
    assert b.obs_names.name == "obs_names" and b.var_names.name == "var_names"
    assert b.X.format == "csr" and b.X.dtype == np.float32
    assert (b.X != a.X).nnz == 0
    assert set(b.layers.keys()) - {None} == {"dense", "ints"}
    np.testing.assert_array_equal(b.layers["dense"].toarray(), a.layers["dense"])
    np.testing.assert_array_equal(b.layers["ints"].toarray(), a.layers["ints"])
    assert b.layers["ints"].dtype == np.float64  # loompy's sparse() gives float64
    # obs: categorical -> str ("nan" for missing), bool -> uint8, float32 -> float64
    assert list(b.obs.columns) == ["ct", "flag", "n", "score"]
    assert list(b.obs["ct"][:3]) == ["a", "b", "nan"]
    assert b.obs["flag"].dtype == np.uint8 and list(b.obs["flag"][:2]) == [1, 0]
    assert b.obs["n"].dtype == np.int64
    np.testing.assert_allclose(b.obs["score"], a.obs["score"])
    np.testing.assert_array_equal(b.obsm["X_pca"], a.obsm["X_pca"])
    np.testing.assert_array_equal(b.varm["PCs"], a.varm["PCs"])
    assert (b.obsp["conn"] != a.obsp["conn"]).nnz == 0
    assert (b.varp["corr"] != a.varp["corr"]).nnz == 0


def test_roundtrip_dense_reading(tmp_path: Path) -> None:
    a = _adata()
    p = tmp_path / "a.loom"
    a.write_loom(p)
    b = _read(p, sparse=False, dtype="float64")
    assert isinstance(b.X, np.ndarray) and b.X.dtype == np.float64
    np.testing.assert_array_equal(b.X, a.X.toarray())
    assert b.layers["ints"].dtype == np.int32  # dense layers keep the stored dtype


def test_obsm_left_out_without_flag_warns(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    with pytest.warns(WriteWarning, match="X_pca"):
        _adata().write_loom(p)
    b = _read(p)
    assert len(b.obsm) == 0 and len(b.varm) == 0


def test_index_names_used_as_attribute_names(tmp_path: Path) -> None:
    a = _adata()
    a.obs_names.name = "CellID"
    a.var_names.name = "Gene"
    p = tmp_path / "a.loom"
    a.write_loom(p)
    b = aio.read_loom(p)  # anndata's defaults: CellID / Gene
    assert list(b.obs_names) == list(a.obs_names) and list(b.var_names) == list(a.var_names)


def test_default_names_when_attributes_absent(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    _adata().write_loom(p)
    b = aio.read_loom(p)  # CellID/Gene are not in the file: names become 0..n-1, columns kept
    assert list(b.obs_names[:3]) == ["0", "1", "2"]
    assert "obs_names" in b.obs.columns and "var_names" in b.var.columns


def test_unicode_and_bool_matrix(tmp_path: Path) -> None:
    a = annstore.AnnData(
        np.array([[True, False], [False, True]]),
        obs=pd.DataFrame({"s": ["é", "日本"]}, index=["α", "β"]),  # noqa: RUF001
        var=pd.DataFrame(index=["x", "y"]),
    )
    p = tmp_path / "u.loom"
    a.write_loom(p)
    b = _read(p)
    assert list(b.obs_names) == ["α", "β"] and list(b.obs["s"]) == ["é", "日本"]  # noqa: RUF001
    np.testing.assert_array_equal(b.X.toarray(), [[1, 0], [0, 1]])
    with h5py.File(p) as f:
        assert f["matrix"].dtype == np.uint8


def test_write_replaces_existing_file_atomically(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    p.write_text("old")
    annstore.write(_adata(), p)
    assert h5py.is_hdf5(p)
    assert [x.name for x in tmp_path.iterdir()] == ["a.loom"]


def test_read_by_suffix(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    write_loom_file(_adata(), p)
    assert annstore_guess_format(path=str(p), is_dir=False) == "loom"
    assert annstore_guess_format(path="x.h5ad", is_dir=False) is None
    assert annstore.read(p).shape == (30, 20)


def test_layout_on_disk(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    write_loom_file(_adata(70, 20), p)
    with h5py.File(p) as f:
        assert set(f) == {"attrs", "layers", "row_attrs", "col_attrs", "row_graphs", "col_graphs", "matrix"}
        assert f["matrix"].shape == (20, 70) and f["matrix"].chunks == (20, 64)
        assert f["matrix"].compression == "gzip"
        assert f["attrs/LOOM_SPEC_VERSION"][()] == b"3.0.0"
        assert h5py.check_string_dtype(f["col_attrs/ct"].dtype).encoding == "utf-8"
        assert set(f["col_graphs/conn"]) == {"a", "b", "w"}


# ------------------------------------------------------------------------------------- loompy


def test_loompy_validator_and_connect(tmp_path: Path) -> None:
    loompy = pytest.importorskip("loompy")
    a = _adata()
    p = tmp_path / "a.loom"
    a.write_loom(p, write_obsm_varm=True)
    v = loompy.LoomValidator()
    assert v.validate(str(p)), v.errors
    assert v.errors == [] and v.version == "3.0.0"
    with loompy.connect(str(p), "r") as ds:
        assert ds.shape == (20, 30)
        np.testing.assert_array_equal(ds[:, :], a.X.toarray().T)
        assert set(ds.layers.keys()) == {"", "dense", "ints"}
        np.testing.assert_array_equal(ds.layers["ints"][:, :], a.layers["ints"].T)
        assert list(ds.ca["obs_names"]) == list(a.obs_names)
        assert list(ds.ra["sym"]) == list(a.var["sym"])
        assert ds.ca["X_pca"].shape == (30, 3)
        g = ds.col_graphs["conn"]
        assert (g.tocsr() != a.obsp["conn"]).nnz == 0


def test_read_loompy_written_file(tmp_path: Path) -> None:
    loompy = pytest.importorskip("loompy")
    rng = np.random.default_rng(3)
    main = rng.integers(0, 5, size=(8, 6)).astype(np.float32)
    spliced = rng.integers(0, 5, size=(8, 6)).astype(np.float32)
    p = tmp_path / "lp.loom"
    loompy.create(
        str(p),
        {"": main, "spliced": spliced},
        row_attrs={"Gene": np.array([f"G{i}" for i in range(8)]), "chrom": np.array(["1"] * 8)},
        col_attrs={
            "CellID": np.array([f"C{i}" for i in range(6)]),
            "umap_1": rng.normal(size=6),
            "umap_2": rng.normal(size=6),
            "batch": np.array(["b1"] * 6),
        },
    )
    with loompy.connect(str(p)) as ds:
        ds.col_graphs["knn"] = sparse.coo_matrix(np.eye(6))
    a = aio.read_loom(p, obsm_mapping={"X_umap": ["umap_1", "umap_2"]})
    assert list(a.obs_names) == [f"C{i}" for i in range(6)]
    assert list(a.var_names) == [f"G{i}" for i in range(8)]
    np.testing.assert_array_equal(a.X.toarray(), spliced.T)  # X_name="spliced" by default
    np.testing.assert_array_equal(a.layers["matrix"].toarray(), main.T)
    np.testing.assert_array_equal(a.layers["spliced"].toarray(), spliced.T)
    assert a.obsm["X_umap"].shape == (6, 2) and "umap_1" not in a.obs.columns
    np.testing.assert_array_equal(a.obsp["knn"].toarray(), np.eye(6))
    b = aio.read_loom(p, X_name="nope", cleanup=True)
    np.testing.assert_array_equal(b.X.toarray(), main.T)
    assert "matrix" not in b.layers
    assert b.uns["loom-obs"] == {"batch": "b1"} and b.uns["loom-var"] == {"chrom": "1"}
    assert "batch" not in b.obs.columns


def test_deprecated_names_arguments(tmp_path: Path) -> None:
    p = tmp_path / "a.loom"
    a = _adata()
    a.obs["pc1"] = 1.0
    a.obs["pc2"] = 2.0
    write_loom_file(a, p)
    with pytest.warns(FutureWarning, match="obsm_names"):
        b = read_loom_file(p, obsm_names={"P": ["pc1", "pc2"]})
    assert b.obsm["P"].shape == (30, 2)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="ambiguous"):
        read_loom_file(p, obsm_names={"P": ["pc1"]}, obsm_mapping={"Q": ["pc2"]})
    with pytest.warns(FutureWarning, match="varm_names"):
        read_loom_file(p, varm_names={})
    with pytest.raises(KeyError, match="missing \\['zz'\\]"):
        read_loom_file(p, obsm_mapping={"Z": ["pc1", "zz"]})
    with pytest.raises(TypeError, match="bogus"):
        read_loom_file(p, bogus=1)


# ------------------------------------------------------------------------------------- errors


def test_write_errors(tmp_path: Path) -> None:
    a = _adata()
    a.X = None
    with pytest.raises(LoomWriteError, match="X to be set") as e:
        write_loom_file(a, tmp_path / "x.loom")
    assert isinstance(e.value, ValueError)
    with pytest.raises(LoomWriteError, match="at least one"):
        write_loom_file(annstore.AnnData(np.zeros((0, 3))), tmp_path / "e.loom")
    b = _adata()
    b.obs["a/b"] = 1
    with pytest.raises(LoomWriteError, match="'a/b'"):
        write_loom_file(b, tmp_path / "s.loom")


def _broken(tmp_path: Path, edit: object) -> Path:
    p = tmp_path / "b.loom"
    write_loom_file(_adata(), p)
    with h5py.File(p, "r+") as f:
        edit(f)  # type: ignore[operator]
    return p


@pytest.mark.parametrize(
    ("edit", "pattern", "element"),
    [
        (lambda f: f.__delitem__("matrix"), "Expected a main matrix .*has none", "/matrix"),
        (lambda f: (f.__delitem__("col_attrs/n"), f.create_dataset("col_attrs/n", data=np.arange(3))),
         "Expected 30 values, one per cells.*got 3", "/col_attrs/n"),
        (lambda f: (f.__delitem__("layers/ints"), f.create_dataset("layers/ints", data=np.zeros((2, 2)))),
         r"Expected shape \(20, 30\)", "/layers/ints"),
        (lambda f: f.__delitem__("col_graphs/conn/w"), "missing \\['w'\\]", "/col_graphs/conn"),
        (lambda f: (f.__delitem__("col_graphs/conn/a"),
                    f.create_dataset("col_graphs/conn/a", data=np.full(len(f["col_graphs/conn/b"]), 99))),
         r"vertex indices in \[0, 30\)", "/col_graphs/conn"),
        (lambda f: (f.__delitem__("matrix"), f.create_dataset("matrix", data=np.array(["x"] * 4, dtype="S1"))),
         "2-D dataset", "/matrix"),
    ],
    ids=["no-matrix", "attr-length", "layer-shape", "graph-vector", "graph-index", "matrix-1d"],
)
def test_malformed_files(tmp_path: Path, edit: object, pattern: str, element: str) -> None:
    p = _broken(tmp_path, edit)
    with pytest.raises(InvalidFileError, match=pattern) as e:
        read_loom_file(p)
    assert e.value.path == element and e.value.filename == str(p)
    assert str(p) in str(e.value)


def test_not_hdf5(tmp_path: Path) -> None:
    p = tmp_path / "t.loom"
    p.write_text("plain text")
    with pytest.raises(InvalidFileError, match="loom \\(HDF5\\)"):
        aio.read_loom(p)
    with pytest.raises(FileNotFoundError):
        aio.read_loom(tmp_path / "missing.loom")


def test_no_warning_with_flag(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", WriteWarning)
        _adata().write_loom(tmp_path / "a.loom", write_obsm_varm=True)

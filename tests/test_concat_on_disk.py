"""``annstore.experimental.concat_on_disk``: the file it writes equals ``annstore.concat`` in memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import annstore
import numpy as np
import pandas as pd
import pytest
from annstore.experimental import concat_on_disk
from annstore.testing import assert_adata_equal
from scipy import sparse

from .conftest import skip_unless_format

SUFFIX = {"h5ad": ".h5ad", "zarr": ".zarr"}
POOL = [f"g{i:02d}" for i in range(14)]


@pytest.fixture(autouse=True)
def _needs_plugins() -> None:
    skip_unless_format("h5ad")
    skip_unless_format("zarr")


# ------------------------------------------------------------------ inputs


def _matrix(kind: str, shape: tuple[int, int], rng: np.random.Generator, dtype: Any) -> Any:
    m = sparse.random(shape[0], shape[1], density=0.4, format="csr", random_state=rng)
    m.data = (m.data * 10 + 1).astype(dtype)
    m = m.astype(dtype)
    if kind == "csr":
        return m
    if kind == "csc":
        return m.tocsc()
    return m.toarray()


def make_adata(
    i: int,
    *,
    axis: int = 0,
    x_kind: str = "csr",
    layer_kinds: dict[str, str] | None = None,
    dtype: Any = np.float32,
    n: int | None = None,
    raw: bool = False,
) -> annstore.AnnData:
    """Input ``i``: unique names along ``axis``, a shuffled subset of POOL on the other axis."""
    rng = np.random.default_rng(100 + i)
    n = n if n is not None else 6 + 3 * i
    alt = list(rng.choice(POOL, size=8 + i, replace=False))
    own = [f"c{i}_{j}" for j in range(n)]
    shape = (n, len(alt)) if axis == 0 else (len(alt), n)
    obs_names, var_names = (own, alt) if axis == 0 else (alt, own)
    layer_kinds = {"counts": x_kind} if layer_kinds is None else layer_kinds

    def frame(names: list[str], seed: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        m = len(names)
        return pd.DataFrame(
            {
                "cat": pd.Categorical(r.choice(["a", "b", f"only{i}"], size=m)),
                "num": r.integers(0, 5, size=m),
                "flag": r.integers(0, 2, size=m).astype(bool),
                "const": np.ones(m),
                f"extra{i % 2}": r.normal(size=m),
            },
            index=pd.Index(names),
        )

    obs = frame(obs_names, 1000 + i if axis == 0 else 7)
    var = frame(var_names, 7 if axis == 0 else 1000 + i)
    # the joined axis' annotations agree on shared names, so "same"/"unique" keep something
    alt_frame = var if axis == 0 else obs
    alt_frame["const"] = [float(POOL.index(g)) for g in alt_frame.index]

    def aligned(names: list[str], seed: int) -> dict[str, Any]:
        r = np.random.default_rng(seed)
        m = len(names)
        return {
            "pca": r.normal(size=(m, 3 + i % 2)).astype(np.float32),
            "df": pd.DataFrame({"u": r.normal(size=m), f"v{i % 2}": r.integers(0, 3, m)}, index=pd.Index(names)),
        }

    def pairwise(names: list[str]) -> dict[str, Any]:
        m = len(names)
        return {"dist": sparse.random(m, m, density=0.3, format="csr", random_state=rng)}

    def alt_pairwise(names: list[str]) -> dict[str, Any]:
        # equal on shared names across inputs (so merge="same" can keep it when aligned)
        pos = np.array([POOL.index(g) for g in names])
        full = np.add.outer(np.arange(len(POOL)), np.arange(len(POOL))).astype(float)
        return {"conn": sparse.csr_matrix(full[np.ix_(pos, pos)])}

    def alt_m(names: list[str]) -> dict[str, Any]:
        pos = np.array([POOL.index(g) for g in names], dtype=float)
        return {"loadings": np.stack([pos, pos * 2], axis=1)}

    own_m, own_p = aligned(own, 200 + i), pairwise(own)
    am, ap = alt_m(alt), alt_pairwise(alt)
    uns = {
        "shared": {"a": 1, "b": np.arange(3)},
        "diff": i,
        f"only{i}": "x",
        "nested": {"same": "s", "other": f"o{i}"},
    }
    layers = {k: _matrix(kind, shape, rng, dtype) for k, kind in layer_kinds.items()}
    X = None if x_kind == "none" else _matrix(x_kind, shape, rng, dtype)
    ad = annstore.AnnData(
        X,
        obs=obs,
        var=var,
        obsm=own_m if axis == 0 else am,
        varm=am if axis == 0 else own_m,
        obsp=own_p if axis == 0 else ap,
        varp=ap if axis == 0 else own_p,
        layers=layers,
        uns=uns,
    )
    if raw:
        ad.raw = ad
    return ad


def write_inputs(adatas: list[annstore.AnnData], fmts: list[str], tmp_path: Path) -> list[Path]:
    paths = []
    for i, (ad, fmt) in enumerate(zip(adatas, fmts, strict=True)):
        p = tmp_path / f"in{i}{SUFFIX[fmt]}"
        annstore.write(ad, p)
        paths.append(p)
    return paths


def expected(paths: list[Path], *, axis: int = 0, **kw: Any) -> annstore.AnnData:
    """``annstore.concat`` of the inputs loaded in memory (without raw), CSC along var."""
    loaded = [annstore.read(p) for p in paths]
    for ad in loaded:
        ad.raw = None
    if isinstance(kw.get("keys"), dict):
        loaded = dict(zip(kw.pop("keys"), loaded, strict=True))
    res = annstore.concat(loaded, axis=axis, **kw)
    if axis in (1, "var"):  # anndata's on-disk concat (and ours) store CSC along var
        if sparse.issparse(res.X):
            res.X = res.X.tocsc()
        for k, v in list(res.layers.items()):
            if sparse.issparse(v):
                res.layers[k] = v.tocsc()
    return res


def run(paths: list[Path], out: Path, **kw: Any) -> annstore.AnnData:
    concat_on_disk([str(p) for p in paths], out, **kw)
    return annstore.read(out)


# ------------------------------------------------------------------ equality with concat


@pytest.mark.parametrize("x_kind", ["csr", "csc", "dense"])
@pytest.mark.parametrize("join", ["inner", "outer"])
@pytest.mark.parametrize("axis", [0, 1])
def test_matches_concat(tmp_path: Path, axis: int, join: str, x_kind: str) -> None:
    ads = [make_adata(i, axis=axis, x_kind=x_kind) for i in range(3)]
    fmts = ["h5ad", "zarr", "h5ad"] if x_kind != "csc" else ["zarr", "h5ad", "zarr"]
    paths = write_inputs(ads, fmts, tmp_path)
    out_fmt = "zarr" if x_kind == "dense" else "h5ad"
    out = tmp_path / f"out{SUFFIX[out_fmt]}"
    got = run(paths, out, axis=axis, join=join, max_loaded_elems=40)
    exp = expected(paths, axis=axis, join=join)
    assert_adata_equal(got, exp)
    assert got.n_obs == exp.n_obs and got.layers.keys() == exp.layers.keys()
    assert annstore.io.guess_format(out) == out_fmt
    if x_kind != "dense":
        assert got.X.format == ("csr", "csc")[axis]


@pytest.mark.parametrize("strategy", ["same", "unique", "first", "only"])
def test_merge_strategies(tmp_path: Path, strategy: str) -> None:
    paths = write_inputs([make_adata(i) for i in range(3)], ["h5ad", "zarr", "zarr"], tmp_path)
    for join in ("inner", "outer"):
        out = tmp_path / f"o_{join}.h5ad"
        got = run(paths, out, join=join, merge=strategy, uns_merge=strategy)
        exp = expected(paths, join=join, merge=strategy, uns_merge=strategy)
        assert_adata_equal(got, exp)
    # the strategies keep something (so the comparison is not trivially empty)
    assert len(got.var.columns) + len(got.varm) + len(got.uns) > 0


def test_merge_callable_and_var_axis(tmp_path: Path) -> None:
    def keep_first_key(ms: list[dict[str, Any]]) -> dict[str, Any]:
        return {k: v for k, v in ms[0].items() if k in ("const", "loadings", "conn", "shared")}

    paths = write_inputs([make_adata(i, axis=1) for i in range(2)], ["zarr", "h5ad"], tmp_path)
    got = run(paths, tmp_path / "o.zarr", axis="var", join="outer", merge=keep_first_key, uns_merge=keep_first_key)
    exp = expected(paths, axis="var", join="outer", merge=keep_first_key, uns_merge=keep_first_key)
    assert_adata_equal(got, exp)
    assert "const" in got.obs and "loadings" in got.obsm and "shared" in got.uns


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"label": "batch"}, id="label"),
        pytest.param({"label": "batch", "keys": ["x", "y", "z"]}, id="keys"),
        pytest.param({"index_unique": "-"}, id="index_unique"),
        pytest.param({"index_unique": "_", "keys": ["a", "b", "c"], "label": "src"}, id="all_labels"),
        pytest.param({"join": "outer", "fill_value": -1}, id="fill_int"),
        pytest.param({"join": "outer", "fill_value": 0.5}, id="fill_float"),
        pytest.param({"join": "inner", "fill_value": 3}, id="fill_ignored_inner"),
        pytest.param({"pairwise": True}, id="pairwise"),
        pytest.param({"pairwise": True, "join": "outer"}, id="pairwise_outer"),
    ],
)
def test_options(tmp_path: Path, kw: dict[str, Any]) -> None:
    ads = [make_adata(i, layer_kinds={"counts": "csr", "dense": "dense"}) for i in range(3)]
    paths = write_inputs(ads, ["zarr", "h5ad", "zarr"], tmp_path)
    got = run(paths, tmp_path / "o.h5ad", max_loaded_elems=25, **kw)
    exp = expected(paths, **dict(kw))
    assert_adata_equal(got, exp)
    if kw.get("pairwise"):
        assert "dist" in got.obsp
    if "label" in kw:
        assert list(got.obs[kw["label"]].cat.categories) == list(kw.get("keys", ["0", "1", "2"]))
    if "fill_value" in kw and kw.get("join") == "outer":
        assert (got.layers["dense"] == kw["fill_value"]).any()


def test_dict_input(tmp_path: Path) -> None:
    paths = write_inputs([make_adata(i) for i in range(3)], ["h5ad", "h5ad", "zarr"], tmp_path)
    concat_on_disk({"p": paths[0], "q": paths[1], "r": paths[2]}, tmp_path / "o.zarr", label="k", index_unique="|")
    exp = expected(paths, keys={"p": 0, "q": 1, "r": 2}, label="k", index_unique="|")
    assert_adata_equal(annstore.read(tmp_path / "o.zarr"), exp)


def test_open_groups_as_inputs_and_output(tmp_path: Path) -> None:
    import h5py
    import zarr

    paths = write_inputs([make_adata(i) for i in range(2)], ["h5ad", "zarr"], tmp_path)
    with h5py.File(paths[0], "r") as f, annstore.io.open_store(tmp_path / "o.h5ad", mode="w") as out:
        concat_on_disk([f, zarr.open_group(paths[1], mode="r")], out, join="outer")
    assert_adata_equal(annstore.read(tmp_path / "o.h5ad"), expected(paths, join="outer"))


def test_mixed_matrix_kinds_are_converted(tmp_path: Path) -> None:
    # anndata raises NotImplementedError here; concat converts, and so do we
    kinds = [("csr", "dense"), ("csc", "csr"), ("dense", "dense")]
    for axis in (0, 1):
        d = tmp_path / str(axis)
        d.mkdir()
        ads = [make_adata(i, axis=axis, x_kind=k, layer_kinds={"L": lk}) for i, (k, lk) in enumerate(kinds)]
        paths = write_inputs(ads, ["h5ad", "zarr", "h5ad"], d)
        for join in ("inner", "outer"):
            got = run(paths, d / f"o{join}.h5ad", axis=axis, join=join, max_loaded_elems=10)
            assert_adata_equal(got, expected(paths, axis=axis, join=join))
            assert sparse.issparse(got.X) and sparse.issparse(got.layers["L"])


def test_dtypes_follow_concat(tmp_path: Path) -> None:
    # int dense X outer-joined is filled with NaN: float64, as concat gives
    ads = [make_adata(0, x_kind="dense", dtype=np.int32), make_adata(1, x_kind="dense", dtype=np.int16)]
    paths = write_inputs(ads, ["h5ad", "zarr"], tmp_path)
    got = run(paths, tmp_path / "o.h5ad", join="outer")
    exp = expected(paths, join="outer")
    assert got.X.dtype == exp.X.dtype == np.float64
    assert_adata_equal(got, exp)
    got = run(paths, tmp_path / "o2.h5ad", join="inner")
    assert got.X.dtype == np.int32
    # mixed sparse dtypes upcast as scipy's vstack does
    ads = [make_adata(0, dtype=np.float32), make_adata(1, dtype=np.int64)]
    (tmp_path / "s").mkdir()
    paths = write_inputs(ads, ["zarr", "zarr"], tmp_path / "s")
    got = run(paths, tmp_path / "o3.zarr", join="outer")
    assert_adata_equal(got, expected(paths, join="outer"))
    assert got.X.dtype == np.float64


def test_missing_x_and_layers_outer(tmp_path: Path) -> None:
    ads = [
        make_adata(0, x_kind="csr", layer_kinds={"a": "csr", "b": "dense"}),
        make_adata(1, x_kind="none", layer_kinds={"a": "csr"}),
        make_adata(2, x_kind="csr", layer_kinds={"b": "dense", "c": "csc"}),
    ]
    paths = write_inputs(ads, ["h5ad", "zarr", "h5ad"], tmp_path)
    for join, fv in [("inner", None), ("outer", None), ("outer", 2)]:
        got = run(paths, tmp_path / f"o{join}{fv}.h5ad", join=join, fill_value=fv, max_loaded_elems=30)
        exp = expected(paths, join=join, fill_value=fv)
        assert_adata_equal(got, exp)
        assert {k for k in got.layers if k is not None} == ({"a", "b", "c"} if join == "outer" else set())
        assert (got.X is None) == (join == "inner")


def test_raw_is_dropped_with_a_warning(tmp_path: Path) -> None:
    from annstore.experimental._concat_on_disk import RawDroppedWarning

    paths = write_inputs([make_adata(i, raw=True) for i in range(2)], ["h5ad", "zarr"], tmp_path)
    assert annstore.read(paths[0]).raw is not None
    with pytest.warns(RawDroppedWarning, match="raw"):
        got = run(paths, tmp_path / "o.h5ad")
    assert got.raw is None
    assert_adata_equal(got, expected(paths))


def test_single_input_is_concatenated(tmp_path: Path) -> None:
    paths = write_inputs([make_adata(0)], ["zarr"], tmp_path)
    got = run(paths, tmp_path / "o.h5ad", label="b", index_unique="-")
    assert_adata_equal(got, expected(paths, label="b", index_unique="-"))
    assert got.obs_names[0].endswith("-0")


def test_empty_input_object(tmp_path: Path) -> None:
    ads = [make_adata(0, n=0), make_adata(1), make_adata(2, x_kind="dense", layer_kinds={"counts": "dense"}, n=0)]
    paths = write_inputs(ads, ["h5ad", "zarr", "h5ad"], tmp_path)
    got = run(paths, tmp_path / "o.h5ad", join="outer")
    assert_adata_equal(got, expected(paths, join="outer"))


# ------------------------------------------------------------------ bounded memory


@pytest.mark.parametrize(("kind", "join", "fill"), [("csr", "outer", None), ("csr", "outer", 1.5), ("dense", "outer", None), ("csc", "inner", None)])
def test_slabs_respect_max_loaded_elems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, join: str, fill: Any) -> None:
    from annstore.experimental import _concat_on_disk as mod

    ads = [make_adata(i, x_kind=kind, n=40 + 7 * i, layer_kinds={}) for i in range(3)]
    paths = write_inputs(ads, ["h5ad", "zarr", "h5ad"], tmp_path)
    loaded: list[int] = []
    aligned: list[int] = []
    real_read, real_align = mod._read_slab, mod._Aligner.__call__

    def spy_read(elem: Any, start: int, stop: int) -> Any:
        slab = real_read(elem, start, stop)
        loaded.append(int(slab.nnz) if sparse.issparse(slab) else int(slab.size))
        return slab

    def spy_align(self: Any, slab: Any) -> Any:
        out = real_align(self, slab)
        aligned.append(int(out.nnz) if sparse.issparse(out) else int(np.size(out)))
        return out

    monkeypatch.setattr(mod, "_read_slab", spy_read)
    monkeypatch.setattr(mod._Aligner, "__call__", spy_align)
    limit = 30  # more than any single row (<= 14 values), far less than one input
    got = run(paths, tmp_path / "o.zarr", join=join, fill_value=fill, max_loaded_elems=limit)
    assert_adata_equal(got, expected(paths, join=join, fill_value=fill))
    total = sum(int(sparse.csr_matrix(a.X).nnz) if kind != "dense" else a.X.size for a in ads)
    assert sum(loaded) >= total and len(loaded) > 3 * len(ads)
    assert max(loaded) <= limit, loaded
    assert max(aligned) <= limit, aligned


def test_one_input_file_open_at_a_time_without_chunk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While slabs stream, only the input being read is open, and with no HDF5 chunk cache.

    Each open HDF5 dataset otherwise keeps a chunk cache (8 MiB by default with HDF5 2) and
    each open file its metadata cache: with every input kept open the peak grew ~20 MB per
    input. Open files the caller passes are used as they are and left open.
    """
    import h5py
    from annstore.experimental import _concat_on_disk as mod

    ads = [make_adata(i, n=30 + i, layer_kinds={"counts": "csr"}) for i in range(4)]
    paths = write_inputs(ads, ["h5ad"] * 4, tmp_path)
    inputs = {str(Path(p).resolve()) for p in paths}
    seen: list[tuple[list[str], list[int]]] = []
    real_read = mod._read_slab

    def spy_read(elem: Any, start: int, stop: int) -> Any:
        fids = h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)
        names = [str(Path(f.name.decode()).resolve()) for f in fids]
        caches = [int(f.get_access_plist().get_cache()[2]) for f, n in zip(fids, names, strict=True) if n in inputs]
        seen.append(([n for n in names if n in inputs], caches))
        return real_read(elem, start, stop)

    monkeypatch.setattr(mod, "_read_slab", spy_read)
    got = run(paths, tmp_path / "o.h5ad", join="outer", max_loaded_elems=50)
    assert_adata_equal(got, expected(paths, join="outer"))
    assert len(seen) > 2 * len(paths)
    for open_inputs, caches in seen:
        assert len(open_inputs) == 1, open_inputs
        assert caches == [0], caches
    # every input was streamed (X and counts), in order, one after the other
    order = [o[0] for o, _ in seen]
    assert sorted(set(order)) == sorted(inputs)
    still_open = h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)
    assert not {str(Path(f.name.decode()).resolve()) for f in still_open} & inputs

    # open files passed by the caller stay open (and are read as they are)
    with h5py.File(paths[0], "r") as f0, h5py.File(paths[1], "r") as f1:
        concat_on_disk([f0, f1], tmp_path / "o2.h5ad", join="outer")
        assert f0.id.valid and f1.id.valid
        assert "X" in f0 and "obs" in f1
    assert_adata_equal(annstore.read(tmp_path / "o2.h5ad"), expected(paths[:2], join="outer"))


def test_peak_is_bounded_in_a_subprocess(tmp_path: Path) -> None:
    """The peak traced memory stays far below the size of one input (tracemalloc)."""
    ads = [make_adata(i, n=4000, layer_kinds={}) for i in range(2)]
    paths = write_inputs(ads, ["h5ad", "h5ad"], tmp_path)
    code = textwrap.dedent(
        f"""
        import json, tracemalloc, annstore
        from annstore.experimental import concat_on_disk
        import annstore_h5ad  # plugins imported before tracing starts
        annstore.list_formats()
        tracemalloc.start()
        concat_on_disk({[str(p) for p in paths]!r}, {str(tmp_path / "o.h5ad")!r}, join="outer", max_loaded_elems=2000)
        print(json.dumps(tracemalloc.get_traced_memory()[1]))
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak = json.loads(res.stdout.strip().splitlines()[-1])
    one_input_bytes = ads[1].X.nnz * 8 + 4000 * 14 * 8  # values+indices, obs-sized annotations
    assert peak < one_input_bytes * 4, (peak, one_input_bytes)
    assert_adata_equal(annstore.read(tmp_path / "o.h5ad"), expected(paths, join="outer"))


# ------------------------------------------------------------------ errors, atomicity, progress


def test_missing_input_is_named(tmp_path: Path) -> None:
    from annstore.experimental._concat_on_disk import InputNotFoundError

    paths = write_inputs([make_adata(0)], ["h5ad"], tmp_path)
    missing = tmp_path / "nope.zarr"
    with pytest.raises(FileNotFoundError, match=r"nope\.zarr") as ei:
        concat_on_disk([paths[0], missing], tmp_path / "o.h5ad")
    assert isinstance(ei.value, InputNotFoundError | annstore.errors.AnnstoreError)
    assert not (tmp_path / "o.h5ad").exists()


def test_bad_arguments(tmp_path: Path) -> None:
    paths = write_inputs([make_adata(i) for i in range(2)], ["h5ad", "zarr"], tmp_path)
    with pytest.raises(ValueError, match="No objects"):
        concat_on_disk([], tmp_path / "o.h5ad")
    with pytest.raises(TypeError, match="keys"):
        concat_on_disk({"a": paths[0], "b": paths[1]}, tmp_path / "o.h5ad", keys=["x", "y"])
    with pytest.raises(ValueError, match="axis"):
        concat_on_disk(paths, tmp_path / "o.h5ad", axis=2)
    with pytest.raises(ValueError, match="join"):
        concat_on_disk(paths, tmp_path / "o.h5ad", join="left")
    with pytest.raises(ValueError, match="merge strategy"):
        concat_on_disk(paths, tmp_path / "o.h5ad", merge="bogus")
    with pytest.raises(ValueError, match="max_loaded_elems"):
        concat_on_disk(paths, tmp_path / "o.h5ad", max_loaded_elems=0)
    with pytest.raises(FileNotFoundError, match="parent directory"):
        concat_on_disk(paths, tmp_path / "no" / "o.h5ad")


def test_not_an_anndata_input(tmp_path: Path) -> None:
    p = tmp_path / "x.zarr"
    with annstore.io.open_store(p, mode="w") as g:
        annstore.io.write_elem(g, "a", np.arange(3))
    good = write_inputs([make_adata(0)], ["h5ad"], tmp_path)[0]
    with pytest.raises(annstore.errors.InvalidFileError, match=r"x\.zarr"):
        concat_on_disk([good, p], tmp_path / "o.h5ad")


def test_failure_keeps_previous_output(tmp_path: Path) -> None:
    ads = [make_adata(0), make_adata(1)]
    paths = write_inputs(ads, ["h5ad", "zarr"], tmp_path)
    out = tmp_path / "o.h5ad"
    concat_on_disk(paths, out)
    before = annstore.read(out)
    # second input's X is shorter than its obs: fails mid-write
    with annstore.io.open_store(paths[1], mode="r+") as g:
        del g["X"]
        annstore.io.write_elem(g, "X", sparse.random(3, ads[1].n_vars, density=0.5, format="csr"))
    with pytest.raises(annstore.errors.InvalidFileError, match="entries"):
        concat_on_disk(paths, out)
    assert_adata_equal(annstore.read(out), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in0.h5ad", "in1.zarr", "o.h5ad"]


def test_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the built-in bar
    paths = write_inputs([make_adata(i) for i in range(2)], ["h5ad", "zarr"], tmp_path)
    concat_on_disk(paths, tmp_path / "o.h5ad", progress=True, max_loaded_elems=20)
    err = capsys.readouterr().err
    # not a terminal: one line per layer, no \r frames, rows counted once
    assert "\r" not in err and "100%" in err and "concat_on_disk" in err and "rows/s" in err
    concat_on_disk(paths, tmp_path / "o2.h5ad")
    assert capsys.readouterr().err == ""


def test_cli_concat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from annstore.cli import main

    paths = write_inputs([make_adata(i) for i in range(2)], ["h5ad", "zarr"], tmp_path)
    code = main(["concat", str(paths[0]), str(paths[1]), "-o", str(tmp_path / "o.zarr"), "--join", "outer", "--label", "b", "-q"])
    assert code == 0
    assert_adata_equal(annstore.read(tmp_path / "o.zarr"), expected(paths, join="outer", label="b"))


# ------------------------------------------------------------------ against anndata


def test_same_file_as_anndata_concat_on_disk(tmp_path: Path, anndata_python: str) -> None:
    """anndata reads our output, and its own concat_on_disk gives the same AnnData."""
    ads = [make_adata(i, layer_kinds={"counts": "csr"}) for i in range(3)]
    for ad in ads:
        ad.uns = {}
    # anndata cannot mix h5ad and zarr inputs holding dense arrays (obsm): h5ad only
    paths = write_inputs(ads, ["h5ad", "h5ad", "h5ad"], tmp_path)
    for join in ("inner", "outer"):
        kw = {"join": join, "label": "batch", "index_unique": "-", "merge": "same"}
        ours, theirs = tmp_path / f"ours_{join}.h5ad", tmp_path / f"theirs_{join}.h5ad"
        concat_on_disk(paths, ours, **kw)
        script = textwrap.dedent(
            f"""
            import anndata as ad
            ad.experimental.concat_on_disk({[str(p) for p in paths]!r}, {str(theirs)!r}, **{kw!r})
            a = ad.read_h5ad({str(ours)!r})
            print(a.shape, a.X.format)
            """
        )
        res = subprocess.run([anndata_python, "-c", script], capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
        a, b = annstore.read(ours), annstore.read(theirs)
        if join == "outer":
            # anndata inner-joins obsm even then (concat pads them): compare the rest
            a.obsm, b.obsm = {}, {}
        assert_adata_equal(a, b)
        if join == "inner":  # shared names agree, so "same" keeps them
            assert len(a.var.columns) and len(a.varm) and len(a.varp)

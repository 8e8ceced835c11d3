"""The ``awkward-array`` 0.1.0 encoding: layout, round trips in every store, AnnData use, interop."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annstore as ad
import annstore.io
import numpy as np
import pytest
from annstore.errors import (
    EncodingNotFoundError,
    InvalidFileError,
    ShapeMismatchError,
    UnsupportedValueError,
)

ak = pytest.importorskip("awkward")

pytestmark = pytest.mark.filterwarnings("ignore::annstore.ExperimentalFeatureWarning")

CORPUS = Path(os.environ.get("ANNSTORE_COMPAT_CORPUS", "/work/shared/compat"))
GEN = CORPUS / "gen" / "v0.13.4"


# ------------------------------------------------------------------------------- values


def _values() -> dict[str, Any]:
    return {
        "ragged_ints": ak.Array([[1, 2, 3], [], [4], [5, 6]]),
        "ragged_floats": ak.Array([[1.5], [2.5, 3.5], []]),
        "records_str_lists": ak.Array(
            [
                {"x": 1.0, "tags": ["a", "bé"]},
                {"x": 2.0, "tags": []},
                {"x": -3.5, "tags": ["c"]},
            ]
        ),
        "option_ints": ak.Array([1, None, 3]),
        "option_nested": ak.Array([[1, None], None, [3], []]),
        "option_records": ak.Array([{"a": 1, "b": "x"}, None, {"a": 3, "b": None}]),
        "strings": ak.Array(["alpha", "", "ünï"]),
        "bools": ak.Array([[True, False], [True]]),
        "regular_2d": ak.Array(np.arange(12, dtype=np.int32).reshape(4, 3)),
        "regular_lists": ak.to_regular(ak.Array([[1, 2], [3, 4], [5, 6]]), axis=1),
        "union": ak.Array([1, "two", [3.0]]),
        "empty": ak.Array([]),
        "empty_records": ak.Array([{"x": 1, "y": [1.0]}])[:0],
        "empty_lists": ak.Array([[], [], []]),
        "sliced_unpacked": ak.Array([[1, 2], [3, 4, 5], [6], [7, 8]])[1:3],
    }


VALUES = _values()


def _same(a: Any, b: Any) -> None:
    assert isinstance(b, ak.Array), type(b)
    assert str(ak.type(b)) == str(ak.type(a))
    assert ak.to_list(b) == ak.to_list(a)


# ------------------------------------------------------------------------------- stores

STORES = ["memory", "h5ad", "zarr2", "zarr3"]


def _store_args(kind: str, tmp_path: Path) -> tuple[Any, str, dict[str, Any]]:
    if kind == "memory":
        return f"memory://awk-{tmp_path.name}", "memory", {}
    if kind == "h5ad":
        pytest.importorskip("annstore_h5ad")
        return tmp_path / "t.h5ad", "h5ad", {}
    pytest.importorskip("annstore_zarr")
    return tmp_path / "t.zarr", "zarr", {"zarr_format": int(kind[-1])}


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    yield _store_args(request.param, tmp_path)


def _roundtrip_elem(store: tuple[Any, str, dict[str, Any]], value: Any) -> tuple[Any, dict[str, Any], dict[str, list[Any]]]:
    path, fmt, so = store
    with annstore.io.open_store(path, format=fmt, mode="w", storage_options=so) as root:
        annstore.io.write_elem(root, "awk", value)
    with annstore.io.open_store(path, format=fmt, mode="r", storage_options=so) as root:
        g = root["awk"]
        attrs = {k: g.attrs[k] for k in g.attrs}
        children = {k: [dict(g[k].attrs), g[k].dtype, tuple(g[k].shape)] for k in g.keys()}
        out = annstore.io.read_elem(g)
    return out, attrs, children


@pytest.mark.parametrize("name", list(VALUES))
def test_element_roundtrip(store: tuple[Any, str, dict[str, Any]], name: str) -> None:
    value = VALUES[name]
    out, attrs, children = _roundtrip_elem(store, value)
    _same(value, out)
    # layout: awkward's packed buffers, keyed as awkward names them, each an 'array' element
    form, length, container = ak.to_buffers(ak.to_packed(value))
    assert attrs["encoding-type"] == "awkward-array"
    assert attrs["encoding-version"] == "0.1.0"
    assert int(attrs["length"]) == length == len(value)
    assert attrs["form"] == form.to_json()
    assert sorted(children) == sorted(container)
    for k, buf in container.items():
        assert children[k][0]["encoding-type"] == "array"
        assert children[k][1] == buf.dtype
        assert children[k][2] == buf.shape


def test_unpacked_input_is_written_packed(store: tuple[Any, str, dict[str, Any]]) -> None:
    base = ak.Array([[1, 2], [3, 4, 5], [6], [7, 8]])
    part = base[2:]
    _, _, children = _roundtrip_elem(store, part)
    # only the 3 selected ints (not the 8 of the parent buffer) are stored
    data = [v for k, v in children.items() if k.endswith("-data")]
    assert [d[2] for d in data] == [(3,)]


def test_unsupported_buffer_dtype_is_refused() -> None:
    value = ak.Array(np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[D]"))
    with annstore.io.open_store("memory://awk-dt", format="memory", mode="w") as root:
        with pytest.raises(UnsupportedValueError, match=r"node0-data.*datetime64"):
            annstore.io.write_elem(root, "awk", value)
        assert "awk" not in root


def test_writer_spec_is_awkward() -> None:
    from annstore.io._plugins import get_registry

    assert str(get_registry().spec_of(VALUES["ragged_ints"])) == "'awkward-array' v0.1.0"


# ------------------------------------------------------------------------------- anndata


def _adata(n: int = 5) -> ad.AnnData:
    a = ad.AnnData(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    a.obs_names = [f"c{i}" for i in range(n)]
    a.obsm["ragged"] = ak.Array([[i] * i for i in range(n)])
    a.obsm["records"] = ak.Array([{"x": float(i), "tags": ["t"] * (i % 3)} for i in range(n)])
    a.obsm["dense"] = np.arange(n * 3, dtype=float).reshape(n, 3)
    a.varm["opt"] = ak.Array([1, None])
    a.uns["awk"] = ak.Array([[1.5], [2.5, 3.5], []])
    a.uns["nested"] = {"awk": ak.Array([{"a": 1}, {"a": None}])}
    return a


def test_model_accepts_awkward_in_obsm_varm_uns() -> None:
    a = _adata()
    assert isinstance(a.obsm["ragged"], ak.Array)
    assert isinstance(a.varm["opt"], ak.Array)
    with pytest.raises(ShapeMismatchError):
        a.obsm["wrong"] = ak.Array([[1], [2]])


def test_pairwise_needs_regular_second_axis() -> None:
    a = ad.AnnData(np.zeros((3, 2)))
    with pytest.raises(ShapeMismatchError, match="variable length"):
        a.obsp["p"] = ak.Array([[1, 2, 3], [1], [2]])
    a.obsp["p"] = ak.to_regular(ak.Array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), axis=1)
    assert ak.to_list(a[[0, 2]].obsp["p"]) == [[1, 3], [7, 9]]


@pytest.mark.parametrize(
    "idx",
    [[0, 2, 4], slice(1, 4), np.array([True, False, True, True, False]), ["c3", "c1"]],
    ids=["ints", "slice", "mask", "names"],
)
def test_view_subsets_awkward(idx: Any) -> None:
    a = _adata()
    v = a[idx]
    pos = a.obs_names.get_indexer(v.obs_names)
    assert ak.to_list(v.obsm["ragged"]) == [ak.to_list(a.obsm["ragged"])[i] for i in pos]
    assert ak.to_list(v.obsm["records"]) == [ak.to_list(a.obsm["records"])[i] for i in pos]
    _same(a.uns["awk"], v.uns["awk"])
    c = v.copy()
    assert not c.is_view
    # as in anndata, a view's awkward array carries the view's parameters; a copy drops them
    assert ak.parameters(v.obsm["ragged"])["__list__"] == "AwkwardArrayView"
    assert ak.parameters(c.obsm["ragged"]).get("_view_args") is None
    assert ak.to_list(v.obsm["ragged"]) == ak.to_list(c.obsm["ragged"])
    assert type(c.obsm["ragged"]) is ak.Array


def _file_args(kind: str, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    path, fmt, so = _store_args(kind, tmp_path)
    return path, {"format": fmt, "storage_options": so}


def _check_adata(a: ad.AnnData, b: ad.AnnData) -> None:
    for k in ("ragged", "records"):
        _same(a.obsm[k], b.obsm[k])
    np.testing.assert_array_equal(a.obsm["dense"], b.obsm["dense"])
    _same(a.varm["opt"], b.varm["opt"])
    _same(a.uns["awk"], b.uns["awk"])
    _same(a.uns["nested"]["awk"], b.uns["nested"]["awk"])


@pytest.mark.parametrize("kind", STORES)
def test_anndata_roundtrip(kind: str, tmp_path: Path) -> None:
    a = _adata()
    path, kw = _file_args(kind, tmp_path)
    annstore.io.write(a, path, **kw)
    b = annstore.io.read(path, **kw)
    _check_adata(a, b)


@pytest.mark.parametrize("kind", STORES)
def test_view_write_stores_the_subset(kind: str, tmp_path: Path) -> None:
    a = _adata()
    v = a[[4, 1]]
    path, kw = _file_args(kind, tmp_path)
    annstore.io.write(v, path, **kw)
    b = annstore.io.read(path, **kw)
    assert list(b.obs_names) == ["c4", "c1"]
    assert ak.to_list(b.obsm["ragged"]) == [[4, 4, 4, 4], [1]]
    assert ak.to_list(b.obsm["records"]) == [{"x": 4.0, "tags": ["t"]}, {"x": 1.0, "tags": ["t"]}]


# ------------------------------------------------------------------------------- malformed


def _stored(value: Any) -> Any:
    root_cm = annstore.io.open_store(f"memory://awk-bad-{id(value)}", format="memory", mode="w")
    root = root_cm.__enter__()
    annstore.io.write_elem(root, "awk", value)
    return root


def test_missing_buffer_is_invalid_file() -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    del root["awk"]["node1-data"]
    with pytest.raises(InvalidFileError, match=r"missing \['node1-data'\]") as e:
        annstore.io.read_elem(root["awk"])
    assert e.value.path == "/awk"


def test_bad_form_is_invalid_file() -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    root["awk"].attrs["form"] = '{"class": "NoSuchArray"}'
    with pytest.raises(InvalidFileError, match="not a valid awkward form"):
        annstore.io.read_elem(root["awk"])
    root["awk"].attrs["form"] = "not json"
    with pytest.raises(InvalidFileError, match="not a valid awkward form"):
        annstore.io.read_elem(root["awk"])


@pytest.mark.parametrize("length", [-1, "3", 2.5])
def test_bad_length_is_invalid_file(length: Any) -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    root["awk"].attrs["length"] = length
    with pytest.raises(InvalidFileError, match="'length'"):
        annstore.io.read_elem(root["awk"])


def test_length_beyond_buffers_is_invalid_file() -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    root["awk"].attrs["length"] = 10**12
    with pytest.raises(InvalidFileError, match="do not fit its form"):
        annstore.io.read_elem(root["awk"])


def test_buffer_dtype_mismatch_is_invalid_not_reinterpreted() -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    g = root["awk"]
    del g["node1-data"]
    # same byte size as int64: awkward alone would silently reinterpret the bits
    annstore.io.write_elem(g, "node1-data", np.array([1.0, 2.0, 3.0], dtype=np.float64))
    with pytest.raises(InvalidFileError, match=r"node1-data.*int64.*float64"):
        annstore.io.read_elem(g)
    del g["node1-data"]
    annstore.io.write_elem(g, "node1-data", np.array([1, 2, 3], dtype=np.int64))
    del g["node0-offsets"]
    annstore.io.write_elem(g, "node0-offsets", np.array([0, 2, 3], dtype=np.uint64))
    with pytest.raises(InvalidFileError, match=r"node0-offsets.*int64.*uint64"):
        annstore.io.read_elem(g)


def test_lossless_buffer_upcast_is_accepted() -> None:
    root = _stored(ak.Array([[1, 2], [3]]))
    g = root["awk"]
    del g["node1-data"]
    annstore.io.write_elem(g, "node1-data", np.array([1, 2, 3], dtype=np.int16))
    assert ak.to_list(annstore.io.read_elem(g)) == [[1, 2], [3]]


# ------------------------------------------------------------------------------- laziness


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300,
        check=False,
    )


def test_import_does_not_import_awkward_and_writer_registers_lazily() -> None:
    proc = _run(
        """
        import sys
        import numpy as np
        import annstore, annstore.io
        from annstore.io._plugins import get_registry
        get_registry()  # registry built while awkward is not imported
        assert "awkward" not in sys.modules, "import annstore imported awkward"
        import awkward as ak
        with annstore.io.open_store("memory://lazy", format="memory", mode="w") as root:
            annstore.io.write_elem(root, "x", ak.Array([[1], [2, 3]]))
            print(annstore.io.read_elem(root["x"]).to_list())
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[[1], [2, 3]]"


def test_registry_built_after_awkward_import_has_the_writer() -> None:
    proc = _run(
        """
        import awkward as ak
        import annstore
        from annstore.io._plugins import get_registry
        print(any(t is ak.Array for (t, _, _) in get_registry().writers))
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "True"


def test_reading_without_awkward_says_what_to_install() -> None:
    proc = _run(
        """
        import sys
        import awkward as ak
        import annstore, annstore.io
        with annstore.io.open_store("memory://noawk", format="memory", mode="w") as root:
            annstore.io.write_elem(root, "x", ak.Array([[1], [2, 3]]))
            for m in [m for m in sys.modules if m == "awkward" or m.startswith("awkward.")]:
                del sys.modules[m]
            sys.modules["awkward"] = None  # as if not installed
            from annstore.errors import EncodingNotFoundError
            try:
                annstore.io.read_elem(root["x"])
            except EncodingNotFoundError as e:
                print("OK", e)
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("OK")
    assert "pip install awkward" in proc.stdout
    assert issubclass(EncodingNotFoundError, LookupError)


# ------------------------------------------------------------------------------- compat corpus


def _summary(x: Any) -> dict[str, Any]:
    vals = ak.to_list(x)
    blob = json.dumps(vals, sort_keys=True, separators=(",", ":")).encode()
    return {"length": len(x), "typestr": str(ak.type(x)), "json_sha256": hashlib.sha256(blob).hexdigest()}


@pytest.mark.parametrize("name", ["awkward.h5ad", "awkward_v3.zarr"])
def test_corpus_file_reads_as_expected(name: str) -> None:
    path = GEN / name
    if not path.exists():
        pytest.skip(f"compat corpus not found at {CORPUS}")
    pytest.importorskip("annstore_h5ad" if name.endswith(".h5ad") else "annstore_zarr")
    expected = json.loads((GEN / f"{name}.expected.json").read_text())
    a = annstore.io.read(path)
    checked = 0
    for attr in ("obsm", "uns"):
        items = expected[attr]["items"]
        for k, exp in items.items():
            if exp.get("type") != "awkward":
                continue
            got = getattr(a, attr)[k]
            assert _summary(got) == {f: exp[f] for f in ("length", "typestr", "json_sha256")}, (attr, k)
            if exp.get("values") is not None:
                assert ak.to_list(got) == exp["values"]
            checked += 1
    assert checked == 3


def test_rewrite_of_corpus_arrays_matches_anndata_layout(tmp_path: Path) -> None:
    src = GEN / "awkward.h5ad"
    if not src.exists():
        pytest.skip(f"compat corpus not found at {CORPUS}")
    pytest.importorskip("annstore_h5ad")
    a = annstore.io.read(src)
    out = tmp_path / "rewritten.h5ad"
    annstore.io.write(a, out)
    with annstore.io.open_store(src, mode="r") as theirs, annstore.io.open_store(out, mode="r") as ours:
        for key in ("obsm/awk_ragged", "obsm/awk_records", "uns/awk_uns"):
            t, o = theirs[key], ours[key]
            for attr in ("encoding-type", "encoding-version", "length", "form"):
                assert o.attrs[attr] == t.attrs[attr], (key, attr)
            assert sorted(o.keys()) == sorted(t.keys())
            for k in t.keys():
                np.testing.assert_array_equal(o[k][...], t[k][...])
                assert o[k].dtype == t[k].dtype
                assert o[k].attrs["encoding-type"] == t[k].attrs["encoding-type"]


# ------------------------------------------------------------------------------- anndata 0.13.4

_ORACLE_DUMP = """
import json, sys
import anndata, awkward as ak
path, out = sys.argv[1], sys.argv[2]
a = anndata.read_zarr(path) if path.endswith(".zarr") else anndata.read_h5ad(path)
res = {}
for attr in ("obsm", "varm", "uns"):
    m = getattr(a, attr)
    for k in m:
        v = m[k]
        if isinstance(v, dict):
            v = v.get("awk")
            k = k + "/awk"
        if isinstance(v, ak.Array):
            res[attr + "/" + k] = [str(ak.type(v)), ak.to_list(v)]
json.dump(res, open(out, "w"))
"""

_ORACLE_WRITE = """
import sys, warnings
import numpy as np, anndata, awkward as ak
warnings.simplefilter("ignore")
path = sys.argv[1]
n = 5
a = anndata.AnnData(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
a.obs_names = [f"c{i}" for i in range(n)]
a.obsm["ragged"] = ak.Array([[i] * i for i in range(n)])
a.obsm["records"] = ak.Array([{"x": float(i), "tags": ["t"] * (i % 3)} for i in range(n)])
a.obsm["dense"] = np.arange(n * 3, dtype=float).reshape(n, 3)
a.varm["opt"] = ak.Array([1, None])
a.uns["awk"] = ak.Array([[1.5], [2.5, 3.5], []])
a.uns["nested"] = {"awk": ak.Array([{"a": 1}, {"a": None}])}
if path.endswith(".zarr"):
    anndata.settings.zarr_write_format = int(sys.argv[2])
    a.write_zarr(path)
else:
    a.write_h5ad(path)
"""


def _anndata_python() -> str:
    py = os.environ.get("ANNSTORE_ANNDATA_PYTHON", "")
    if not py:
        pytest.skip("ANNSTORE_ANNDATA_PYTHON is not set (an interpreter with anndata installed)")
    return py


def _oracle(py: str, code: str, *args: str) -> None:
    proc = subprocess.run(
        [py, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0 and "No module named 'awkward'" in proc.stderr:
        pytest.fail(f"{py} has anndata but not awkward: {py} -m pip install awkward")
    assert proc.returncode == 0, f"anndata side failed:\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("kind", ["h5ad", "zarr2", "zarr3"])
def test_anndata_reads_what_annstore_writes(kind: str, tmp_path: Path) -> None:
    py = _anndata_python()
    a = _adata()
    path, kw = _file_args(kind, tmp_path)
    annstore.io.write(a, path, **kw)
    out = tmp_path / "dump.json"
    _oracle(py, _ORACLE_DUMP, str(path), str(out))
    got = json.loads(out.read_text())
    expected = {
        "obsm/ragged": a.obsm["ragged"], "obsm/records": a.obsm["records"],
        "varm/opt": a.varm["opt"], "uns/awk": a.uns["awk"], "uns/nested/awk": a.uns["nested"]["awk"],
    }
    assert sorted(got) == sorted(expected)
    for k, v in expected.items():
        assert got[k] == [str(ak.type(v)), ak.to_list(v)], k


@pytest.mark.parametrize("kind", ["h5ad", "zarr2", "zarr3"])
def test_annstore_reads_what_anndata_writes(kind: str, tmp_path: Path) -> None:
    py = _anndata_python()
    path, kw = _file_args(kind, tmp_path)
    _oracle(py, _ORACLE_WRITE, str(path), kind[-1])
    b = annstore.io.read(path, **kw)
    _check_adata(_adata(), b)

"""Unit tests of the zarr store adapters (format 2 and 3) and the plugin's hooks."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr

from annstore.errors import InvalidFileError
from annstore.types import ArrayLike, GroupLike, IndexSupport
from annstore_zarr import ZarrArray, ZarrGroup, _plugin, adapt_zarr_object, open_zarr_store
from annstore_zarr._sparse import ZarrSparseSource

COMPAT = Path("/work/shared/compat/gen/v0.13.4")

FORMATS = [pytest.param(2, id="v2"), pytest.param(3, id="v3")]


@pytest.fixture(params=FORMATS)
def zfmt(request: pytest.FixtureRequest) -> int:
    return request.param


@pytest.fixture
def root(tmp_path: Path, zfmt: int):
    g = open_zarr_store(tmp_path / "t.zarr", "w", {"zarr_format": zfmt})
    yield g
    g.close()


def _meta(path: Path, zfmt: int) -> dict:
    name = "zarr.json" if zfmt == 3 else ".zarray"
    return json.loads((path / name).read_text())


# ----------------------------------------------------------------------------- protocol


def test_nodes_satisfy_protocol(root: ZarrGroup) -> None:
    a = root.create_array("a", data=np.arange(3))
    assert isinstance(root, GroupLike)
    assert isinstance(a, ArrayLike)
    assert root.name == "/"
    assert a.name == "/a"
    assert root.create_group("g").create_array("b", data=np.ones(2)).name == "/g/b"
    assert root.format == "zarr"
    assert root.filename.endswith("t.zarr")


def test_numeric_roundtrip_and_selection(root: ZarrGroup) -> None:
    x = np.arange(60, dtype="f4").reshape(6, 10)
    a = root.create_array("x", data=x)
    assert a.shape == (6, 10)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a[...], x)
    np.testing.assert_array_equal(a[2:4], x[2:4])
    np.testing.assert_array_equal(a[np.array([0, 3, 5])], x[[0, 3, 5]])
    np.testing.assert_array_equal(a[[1, 2]], x[[1, 2]])
    np.testing.assert_array_equal(a[1:3, np.array([0, 9])], x[1:3][:, [0, 9]])
    np.testing.assert_array_equal(a[x[:, 0] > 20], x[x[:, 0] > 20])
    assert a[1, 2] == x[1, 2]


def test_setitem_and_resize(root: ZarrGroup) -> None:
    a = root.create_array("x", shape=(4, 2), dtype="i8")
    a[...] = np.arange(8).reshape(4, 2)
    a[np.array([0, 3])] = np.array([[9, 9], [7, 7]])
    a.resize((6, 2))
    a[4:] = 1
    np.testing.assert_array_equal(a[...], [[9, 9], [2, 3], [4, 5], [7, 7], [1, 1], [1, 1]])
    a.resize(2) if a.ndim == 1 else a.resize((2, 2))
    assert a.shape == (2, 2)


def test_read_into(root: ZarrGroup) -> None:
    x = np.arange(20, dtype="f8").reshape(5, 4)
    a = root.create_array("x", data=x)
    out = np.zeros((2, 4))
    a.read_into(out, (slice(1, 3),))
    np.testing.assert_array_equal(out, x[1:3])
    out = np.zeros((5, 4), dtype="f4")  # dtype differs: slow path
    a.read_into(out)
    np.testing.assert_array_equal(out, x)
    out = np.zeros((2, 4))
    a.read_into(out, np.array([0, 4]))
    np.testing.assert_array_equal(out, x[[0, 4]])


@pytest.mark.parametrize("as_obj", [False, True], ids=["U", "O"])
def test_strings_native_encoding(root: ZarrGroup, zfmt: int, tmp_path: Path, as_obj: bool) -> None:
    values = np.array(["a", "", "ünïcode", "x" * 300], dtype=object if as_obj else None)
    a = root.create_array("s", data=values)
    assert a.dtype == np.dtype(object)
    got = a[...]
    assert got.dtype == object
    assert all(type(v) is str for v in got)
    assert got.tolist() == values.tolist()
    assert a[np.array([0, 2])].tolist() == ["a", "ünïcode"]
    meta = _meta(tmp_path / "t.zarr" / "s", zfmt)
    if zfmt == 2:
        assert meta["dtype"] == "|O"
        assert meta["filters"] == [{"id": "vlen-utf8"}]
        assert meta["fill_value"] == ""
    else:
        assert meta["data_type"] == "string"


def test_string_array_rejects_non_str(root: ZarrGroup) -> None:
    with pytest.raises(TypeError, match="Expected str elements"):
        root.create_array("s", data=np.array(["a", 1], dtype=object))
    with pytest.raises(TypeError, match="Byte-string"):
        root.create_array("b", data=np.array([b"a"]))


def test_string_set_and_2d(root: ZarrGroup) -> None:
    a = root.create_array("s", data=np.array([["a", "b"], ["c", "d"]]))
    a[0] = np.array(["x", "y"], dtype=object)
    assert a[...].tolist() == [["x", "y"], ["c", "d"]]


def test_zero_d(root: ZarrGroup, zfmt: int, tmp_path: Path) -> None:
    s = root.create_array("s", data=np.array("hello"), chunks=(3,), compression="gzip")
    n = root.create_array("n", data=np.array(3.5), chunks=(3,))
    assert s.shape == () and n.shape == ()
    assert s[()] == "hello" and isinstance(s[()], str)
    assert n[()] == 3.5
    assert n[...] == 3.5
    meta = _meta(tmp_path / "t.zarr" / "s", zfmt)
    if zfmt == 3:
        assert meta["data_type"] == "string"
        assert meta["codecs"][0]["name"] == "vlen-utf8"  # no sharding on scalars
    else:
        assert meta["filters"] == [{"id": "vlen-utf8"}]


def test_null_layout(root: ZarrGroup, zfmt: int, tmp_path: Path) -> None:
    from annstore_zarr._encodings import write_null

    write_null(root, "none", None, ctx=None, dataset_kwargs={"compression": "gzip"})
    a = root["none"]
    assert a.shape == () and a.dtype == np.bool_
    files = sorted(p.name for p in (tmp_path / "t.zarr" / "none").iterdir())
    # as anndata: metadata only, no chunk written
    assert files == (["zarr.json"] if zfmt == 3 else [".zarray", ".zattrs"])


def test_empty_arrays(root: ZarrGroup) -> None:
    a = root.create_array("e", data=np.zeros((0, 3), dtype="f4"))
    s = root.create_array("es", data=np.array([], dtype=object))
    assert a.shape == (0, 3) and a[...].shape == (0, 3)
    assert s.shape == (0,) and s[...].dtype == object and s.dtype == object


def test_structured_arrays(root: ZarrGroup) -> None:
    rec = np.array([("a", 1.0), ("bbb", 2.0)], dtype=[("n", object), ("v", "f8")])
    a = root.create_array("r", data=rec)
    got = a[...]
    assert got.dtype.names == ("n", "v")
    assert got["n"].tolist() == ["a", "bbb"]
    assert got["v"].tolist() == [1.0, 2.0]
    assert a.native.shards is None


def test_attrs_plain_python(root: ZarrGroup) -> None:
    g = root.create_group("g")
    g.attrs["shape"] = (3, np.int64(4))
    g.attrs["column-order"] = np.array(["b", "a"], dtype=object)
    g.attrs["empty"] = []
    g.attrs["ordered"] = np.bool_(True)
    g.attrs.update({"encoding-type": "x", "n": np.float32(1.5)})
    assert dict(g.attrs) == {
        "shape": [3, 4], "column-order": ["b", "a"], "empty": [], "ordered": True,
        "encoding-type": "x", "n": 1.5,
    }
    assert type(g.attrs["ordered"]) is bool
    del g.attrs["empty"]
    assert "empty" not in g.attrs


def test_group_mapping(root: ZarrGroup) -> None:
    g = root.create_group("a")
    g.create_group("b").create_array("c", data=np.arange(2))
    root.create_array("z", data=np.arange(2))
    assert root.keys() == ["a", "z"]
    assert list(root) == ["a", "z"]
    assert "a/b/c" in root and "a/b/x" not in root
    assert root["a/b/c"].name == "/a/b/c"
    assert root["/a/b"].name == "/a/b"
    assert g["/a/b"].name == "/a/b"
    del root["a"]
    assert "a" not in root
    with pytest.raises(KeyError, match="'nope' not found in group '/'"):
        root["nope"]
    with pytest.raises(ValueError, match="already exists"):
        root.create_group("z")
    with pytest.raises(ValueError, match="without '/'"):
        root.create_group("x/y")
    assert root.require_group("q").name == "/q"
    assert root.require_group("q").name == "/q"


# ------------------------------------------------------------------------ storage options


def test_chunks_and_compression(root: ZarrGroup, zfmt: int, tmp_path: Path) -> None:
    a = root.create_array("x", data=np.arange(100.0).reshape(50, 2), chunks=(10, 2),
                          compression="gzip", compression_opts=6)
    assert a.chunks == (10, 2)
    codecs = a.native.compressors
    assert len(codecs) == 1
    assert "gzip" in type(codecs[0]).__name__.lower()
    assert codecs[0].level == 6
    b = root.create_array("y", data=np.arange(10.0), compressor=None, maxshape=(None,))
    assert b.native.compressors == ()
    c = root.create_array("z", data=np.arange(10), chunks=4)
    assert c.chunks == (4,)


def test_default_compressors_match_anndata(root: ZarrGroup, zfmt: int) -> None:
    a = root.create_array("x", data=np.arange(10.0))
    name = type(a.native.compressors[0]).__name__
    assert name == ("Blosc" if zfmt == 2 else "ZstdCodec")


def test_lzf_warns_and_uses_default(root: ZarrGroup) -> None:
    from annstore.errors import WriteWarning

    with pytest.warns(WriteWarning, match="lzf"):
        a = root.create_array("x", data=np.arange(10.0), compression="lzf")
    assert len(a.native.compressors) == 1


def test_sharding_v3_like_anndata(tmp_path: Path) -> None:
    g = open_zarr_store(tmp_path / "s.zarr", "w", {"zarr_format": 3})
    a = g.create_array("x", shape=(100_000, 20_000), dtype="f4")
    # zarr 3's auto shard shape with anndata's 1 GB target (the oracle's choice, checked)
    assert a.chunks == (782, 313)
    assert a.shards == (24242, 9703)
    small = g.create_array("y", data=np.zeros((48, 24), "f4"))
    assert small.shards == (48, 24)
    import annstore

    with annstore.settings.override(auto_shard_zarr_v3=False):
        assert g.create_array("z", data=np.zeros(10)).shards is None
    assert g.create_array("w", data=np.zeros(10), shards=(10,), chunks=(5,)).shards == (10,)
    g.close()


def test_v2_ignores_shards(tmp_path: Path) -> None:
    g = open_zarr_store(tmp_path / "s.zarr", "w", {"zarr_format": 2})
    a = g.create_array("x", data=np.zeros(10), shards=(10,))
    assert a.shards is None
    g.close()


# --------------------------------------------------------------------------- open / close


def test_consolidated_on_close(tmp_path: Path, zfmt: int) -> None:
    p = tmp_path / "c.zarr"
    g = open_zarr_store(p, "w", {"zarr_format": zfmt})
    g.create_group("obs").create_array("a", data=np.arange(3))
    g.close()
    if zfmt == 2:
        assert (p / ".zmetadata").exists()
    else:
        assert "consolidated_metadata" in json.loads((p / "zarr.json").read_text())
    r = open_zarr_store(p, "r")
    assert r.native.metadata.consolidated_metadata is not None
    assert r["obs/a"][...].tolist() == [0, 1, 2]
    r.close()


def test_no_consolidation_when_asked(tmp_path: Path) -> None:
    p = tmp_path / "c.zarr"
    g = open_zarr_store(p, "w", {"zarr_format": 2, "consolidate_metadata": False})
    g.create_group("obs")
    g.close()
    assert not (p / ".zmetadata").exists()


def test_r_plus_keeps_consolidated_metadata_in_sync(tmp_path: Path, zfmt: int) -> None:
    p = tmp_path / "c.zarr"
    g = open_zarr_store(p, "w", {"zarr_format": zfmt})
    g.create_array("a", data=np.arange(3))
    g.close()
    g = open_zarr_store(p, "r+")
    g.create_array("b", data=np.arange(2))
    g.close()
    r = open_zarr_store(p, "r")
    assert r.keys() == ["a", "b"]


def test_write_format_default_from_settings(tmp_path: Path) -> None:
    import annstore

    with annstore.settings.override(zarr_write_format=2):
        g = open_zarr_store(tmp_path / "d.zarr", "w")
        assert g.zarr_format == 2
        g.close()
    g = open_zarr_store(tmp_path / "e.zarr", "w")
    assert g.zarr_format == annstore.settings.zarr_write_format
    g.close()


def test_read_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.zarr"):
        open_zarr_store(tmp_path / "nope.zarr", "r")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(FileNotFoundError, match="Expected a zarr group"):
        open_zarr_store(tmp_path / "empty.zarr", "r")


def test_bad_zarr_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="zarr_format 2 or 3"):
        open_zarr_store(tmp_path / "x.zarr", "w", {"zarr_format": 4})


def test_zip_read_and_write(tmp_path: Path, zfmt: int) -> None:
    p = tmp_path / "t.zarr.zip"
    g = open_zarr_store(p, "w", {"zarr_format": zfmt})
    g.create_group("obs").create_array("s", data=np.array(["a", "b"]))
    g.close()
    assert zipfile.is_zipfile(p)
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".annstore")]
    r = open_zarr_store(p, "r")
    assert r["obs/s"][...].tolist() == ["a", "b"]
    r.close()


def test_store_object_and_group(tmp_path: Path, zfmt: int) -> None:
    store = zarr.storage.MemoryStore()
    g = open_zarr_store(store, "w", {"zarr_format": zfmt})
    g.create_array("a", data=np.arange(3))
    g.close()
    native = zarr.open_group(store, mode="r")
    node = adapt_zarr_object(native)
    assert isinstance(node, ZarrGroup)
    assert node["a"][...].tolist() == [0, 1, 2]
    arr = adapt_zarr_object(native["a"])
    assert isinstance(arr, ZarrArray) and arr.name == "/a"
    assert open_zarr_store(native, "r")["a"].shape == (3,)


def test_fsspec_urls(tmp_path: Path, zfmt: int) -> None:
    pytest.importorskip("fsspec")
    url = f"memory://annstore-test-{zfmt}/t.zarr"
    g = open_zarr_store(url, "w", {"zarr_format": zfmt})
    g.create_array("a", data=np.array(["x", "y"]))
    g.close()
    r = open_zarr_store(url, "r")
    assert r["a"][...].tolist() == ["x", "y"]
    assert r.filename == url
    p = tmp_path / "f.zarr"
    g = open_zarr_store(f"file://{p}", "w", {"zarr_format": zfmt, "auto_mkdir": True})
    g.create_array("b", data=np.arange(4))
    g.close()
    assert open_zarr_store(p, "r")["b"][...].tolist() == [0, 1, 2, 3]


# --------------------------------------------------------------------------- compat corpus


@pytest.mark.skipif(not COMPAT.exists(), reason="compat corpus not present")
@pytest.mark.parametrize("name", ["rich.zarr", "rich_v3.zarr"])
def test_reads_anndata_written_store(name: str) -> None:
    r = open_zarr_store(COMPAT / name, "r")
    assert r.attrs["encoding-type"] == "anndata"
    bc = r["obs/barcode/values"]
    assert bc.dtype == object and all(isinstance(v, str) for v in bc[...])
    assert isinstance(r["uns/scalars/string"][()], str)
    assert r["uns/none_value"].attrs["encoding-type"] == "null"
    assert r["X"].shape == (48, 24)
    assert r["obs"].attrs["column-order"][0] == "cell_type"
    rec = r["uns/rank_genes_groups/names"][...]
    assert rec.dtype.names[0] == "B"


# ------------------------------------------------------------------------------ plugin hooks


def test_format_info() -> None:
    info = _plugin.annstore_format_info()
    assert info.name == "zarr"
    assert info.suffixes == (".zarr", ".zarr.zip")
    assert info.hierarchical and info.supports_backed and info.supports_append
    assert info.package == "annstore-zarr"


def test_guess_format(tmp_path: Path) -> None:
    guess = _plugin.annstore_guess_format
    d = tmp_path / "plain"
    d.mkdir()
    assert guess(path=d, head=b"", is_dir=True) is None
    (d / ".zgroup").write_text('{"zarr_format": 2}')
    assert guess(path=d, head=b"", is_dir=True) == "zarr"
    d3 = tmp_path / "v3"
    d3.mkdir()
    (d3 / "zarr.json").write_text("{}")
    assert guess(path=d3, head=b"", is_dir=True) == "zarr"
    assert guess(path="new.zarr", head=b"", is_dir=False) == "zarr"
    assert guess(path="x.zarr.zip", head=b"", is_dir=False) == "zarr"
    assert guess(path="s3://bucket/x.zarr", head=b"", is_dir=False) == "zarr"
    assert guess(path="https://host/x.zarr/", head=b"", is_dir=False) == "zarr"
    assert guess(path="https://host/x.h5ad", head=b"", is_dir=False) is None
    assert guess(path="x.h5ad", head=b"\x89HDF\r\n\x1a\n", is_dir=False) is None
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(".zgroup", "{}")
    assert guess(path=z, head=z.read_bytes()[:512], is_dir=False) == "zarr"
    other = tmp_path / "b.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    assert guess(path=other, head=other.read_bytes()[:512], is_dir=False) is None
    assert guess(path=zarr.open_group(zarr.storage.MemoryStore(), mode="w"), head=b"",
                 is_dir=False) == "zarr"


def test_open_store_hook(tmp_path: Path) -> None:
    assert _plugin.annstore_open_store(path=tmp_path / "x.h5ad", format="h5ad", mode="w",
                                       storage_options={}) is None
    g = _plugin.annstore_open_store(path=tmp_path / "x.zarr", format="zarr", mode="w",
                                    storage_options={"zarr_format": 2})
    assert isinstance(g, ZarrGroup) and g.zarr_format == 2
    g.close()


def test_adapt_node_hook() -> None:
    assert _plugin.annstore_adapt_node(obj=np.arange(3)) is None
    assert _plugin.annstore_adapt_node(obj={"a": 1}) is None
    g = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    assert isinstance(_plugin.annstore_adapt_node(obj=g), ZarrGroup)


def test_register_encodings_null_override() -> None:
    from annstore.io import IOSpec, Registry

    reg = Registry()
    _plugin.annstore_register_encodings(registry=reg)
    entry = reg.find_writer(None, "zarr")
    assert entry.spec == IOSpec("null", "0.1.0")
    with pytest.raises(LookupError):
        reg.find_writer(None, "h5ad")


# -------------------------------------------------------------------------- backed sparse


def _csr_group(root: ZarrGroup, m):
    g = root.create_group("m")
    g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": m.shape})
    for k in ("data", "indices", "indptr"):
        g.create_array(k, data=getattr(m, k), chunks=(7,))
    return g


def test_sparse_source(root: ZarrGroup) -> None:
    import scipy.sparse as sp

    m = sp.random(40, 30, density=0.2, format="csr", random_state=0, dtype="f4")
    g = _csr_group(root, m)
    src = _plugin.annstore_backed_sparse_source(group=g)
    assert isinstance(src, ZarrSparseSource)
    assert src.format == "csr" and src.shape == (40, 30) and src.dtype == np.float32
    assert src.indexing is IndexSupport.POINTS
    np.testing.assert_array_equal(src.indptr(), m.indptr)
    d, i = src.read_nnz(3, 20)
    np.testing.assert_array_equal(d, m.data[3:20])
    np.testing.assert_array_equal(i, m.indices[3:20])
    rng = np.random.default_rng(0)
    for rows in (np.array([2, 3, 4]), np.array([1, 5, 9]), np.sort(rng.choice(40, 35, replace=False)),
                 np.array([9, 1, 5]), rng.permutation(40)):
        starts, stops = m.indptr[rows], m.indptr[rows + 1]
        d, i = src.read_nnz_ranges(starts, stops)
        np.testing.assert_array_equal(d, np.concatenate([m.data[a:b] for a, b in zip(starts, stops)]))
        np.testing.assert_array_equal(i, np.concatenate([m.indices[a:b] for a, b in zip(starts, stops)]))
    d, i = src.read_nnz_ranges(np.array([], int), np.array([], int))
    assert d.size == 0 and d.dtype == np.float32


def test_sparse_source_declines_and_validates(root: ZarrGroup) -> None:
    import scipy.sparse as sp

    g = root.create_group("d")
    g.attrs["encoding-type"] = "dict"
    assert ZarrSparseSource.from_group(g) is None
    m = sp.random(5, 4, density=0.5, format="csr", random_state=0)
    bad = _csr_group(root, m)
    bad.attrs["shape"] = [6, 4]
    src = ZarrSparseSource.from_group(bad)
    with pytest.raises(InvalidFileError, match="indptr of length 7"):
        src.indptr()


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_longlong_dtypes_are_written_as_fixed_width(tmp_path, zarr_format):
    """np.array(2**64 - 1) has numpy's ulonglong dtype, which zarr's registry does not match."""
    import annstore

    a = annstore.AnnData(np.ones((2, 2)))
    a.uns["big"] = 2**64 - 1
    a.uns["arr"] = np.array([2**63, 1], dtype=np.ulonglong)
    with annstore.settings.override(zarr_write_format=zarr_format):
        a.write_zarr(tmp_path / "u.zarr")
    b = annstore.read_zarr(tmp_path / "u.zarr")
    assert b.uns["big"] == 2**64 - 1
    np.testing.assert_array_equal(b.uns["arr"], [2**63, 1])
    assert b.uns["arr"].dtype == np.uint64

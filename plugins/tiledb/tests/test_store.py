"""TileDB adapter unit tests: layout, attributes, selections, writes, resize, modes, guessing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

tiledb = pytest.importorskip("tiledb")

import annstore  # noqa: E402

if "tiledb" not in annstore.list_formats():
    pytest.skip("requires annstore-tiledb (pip install -e plugins/tiledb)", allow_module_level=True)

import annstore.io  # noqa: E402
from annstore.errors import InvalidFileError, WriteWarning  # noqa: E402
from annstore_tiledb import ReadOnlyStoreError, TileDBArray, TileDBGroup  # noqa: E402
from annstore_tiledb._store import CAPACITY, META_KEY, escape_key  # noqa: E402


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.tiledb"


@pytest.fixture
def root(path: Path) -> Any:
    with annstore.io.open_store(path, format="tiledb", mode="w") as g:
        yield g


def _reopen(path: Path, mode: str = "r") -> Any:
    return annstore.io.open_store(path, format="tiledb", mode=mode)


# ------------------------------------------------------------------------------ layout


def test_layout_is_tiledb_groups_and_dense_arrays(path: Path) -> None:
    with _reopen(path, "w") as root:
        g = root.create_group("sub")
        a = g.create_array("x", data=np.arange(6.0).reshape(2, 3))
        a.attrs["k"] = "v"
    assert isinstance(g, TileDBGroup) and isinstance(a, TileDBArray)
    with tiledb.Group(str(path)) as grp:
        assert [m.name for m in grp] == ["sub"]
    with tiledb.open(str(path / "sub" / "x")) as arr:
        assert arr.meta["k"] == "v"
    assert tiledb.object_type(str(path)) == "group"
    assert tiledb.object_type(str(path / "sub")) == "group"
    assert tiledb.object_type(str(path / "sub" / "x")) == "array"
    with tiledb.open(str(path / "sub" / "x")) as arr:
        assert not arr.schema.sparse
        assert [arr.schema.attr(i).name for i in range(arr.schema.nattr)] == ["data"]
        assert arr.schema.domain.ndim == 2
        assert arr.schema.domain.dim(0).domain == (0, CAPACITY - 1)
    assert a.name == "/sub/x" and g.name == "/sub"
    assert a.filename == str(path)


def test_members_are_relative(path: Path) -> None:
    with _reopen(path, "w") as root:
        root.create_group("g").create_array("a", data=np.arange(3))
    with tiledb.Group(str(path)) as grp:
        assert grp.is_relative("g")
    with tiledb.Group(str(path / "g")) as grp:
        assert grp.is_relative("a")


def test_store_survives_rename(path: Path, tmp_path: Path) -> None:
    with _reopen(path, "w") as root:
        annstore.io.write_elem(root, "d", {"a": np.arange(4), "s": "x", "n": {"m": [1.5]}})
    moved = tmp_path / "moved.tiledb"
    os.rename(path, moved)
    with annstore.io.open_store(moved, format="tiledb", mode="r") as root:
        got = annstore.io.read_elem(root["d"])
    np.testing.assert_array_equal(got["a"], np.arange(4))
    assert got["s"] == "x"
    np.testing.assert_array_equal(got["n"]["m"], [1.5])


@pytest.mark.parametrize(
    "key", ["plain", "__meta", "__group", "_index", "~tilde", "a b", "名前", "emoji 🧬", ".hidden",
            "-dash", "q?x#y%z", "back\\slash", "colon:x"],
)
def test_awkward_keys_roundtrip(root: Any, path: Path, key: str) -> None:
    root.create_group(key).create_array("v", data=np.arange(2))
    root.create_array(key + "_arr", data=np.array(["s"]))
    assert key in root and key + "_arr" in root
    assert sorted(root.keys()) == sorted([key, key + "_arr"])
    np.testing.assert_array_equal(root[key]["v"][...], np.arange(2))
    np.testing.assert_array_equal(root[f"{key}/v"][...], np.arange(2))
    assert root[key].name == "/" + key
    assert not escape_key(key).startswith("__")
    assert "/" not in escape_key(key) and "\\" not in escape_key(key)


def test_escape_key_is_injective() -> None:
    keys = ["a~41", "aA", "~", "~7E", "__x", "~5F_x", "_x", "a b", "a~20b"]
    assert len({escape_key(k) for k in keys}) == len(keys)


def test_delete_removes_member_and_directory(root: Any, path: Path) -> None:
    root.create_group("g").create_array("a", data=np.arange(3))
    del root["g/a"]
    assert "a" not in root["g"]
    assert not (path / "g" / "a").exists()
    del root["g"]
    assert "g" not in root and not (path / "g").exists()
    with pytest.raises(KeyError, match="'g'"):
        del root["g"]
    root.create_group("g")  # the key can be taken again
    assert root.keys() == ["g"]


def test_create_refuses_existing_and_bad_keys(root: Any) -> None:
    root.create_group("g")
    with pytest.raises(ValueError, match="already exists"):
        root.create_array("g", data=np.arange(2))
    with pytest.raises(ValueError, match="without '/'"):
        root.create_group("a/b")
    with pytest.raises(ValueError, match="non-empty"):
        root.create_group("")


def test_missing_key_message(root: Any) -> None:
    root.create_group("g")
    with pytest.raises(KeyError, match=r"'g/nope' not found in group '/'"):
        root["g/nope"]
    assert "g/nope" not in root
    assert 3 not in root


# ------------------------------------------------------------------------------ attributes


ATTR_VALUES = {
    "str": ("hello", "hello"),
    "empty_str": ("", ""),
    "int": (7, 7),
    "np_int": (np.int16(-3), -3),
    "big_int": (2**63 + 7, 2**63 + 7),
    "float": (2.5, 2.5),
    "bool_true": (True, True),
    "np_bool": (np.bool_(False), False),
    "none": (None, None),
    "list_str": (["b", "a"], ["b", "a"]),
    "empty_list": ([], []),
    "tuple": ((1, 2), [1, 2]),
    "dict": ({"k": [1, {"z": None}]}, {"k": [1, {"z": None}]}),
    "str_array": (np.array(["x", "y"]), ["x", "y"]),
    "empty_float_array": (np.array([], dtype=float), []),
    "np_str": (np.str_("s"), "s"),
}


@pytest.mark.parametrize("key", list(ATTR_VALUES))
def test_attr_roundtrip_plain_python(path: Path, key: str) -> None:
    value, expected = ATTR_VALUES[key]
    with _reopen(path, "w") as root:
        root.attrs[key] = value
        root.create_array("a", data=np.arange(2)).attrs[key] = value
    with _reopen(path) as root:
        for node in (root, root["a"]):
            got = node.attrs[key]
            assert got == expected and type(got) is type(expected)
            assert list(node.attrs) == [key]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float64", "float32", "bool"])
def test_numeric_vector_attrs_stay_numpy(path: Path, dtype: str) -> None:
    v = np.array([1, 0, 3]).astype(dtype)
    with _reopen(path, "w") as root:
        root.attrs["v"] = v
        root.attrs["one"] = v[:1]
    with _reopen(path) as root:
        got = root.attrs["v"]
        assert isinstance(got, np.ndarray) and got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, v)
        assert root.attrs["one"].shape == (1,)


def test_attr_update_delete_and_internal_key_hidden(root: Any) -> None:
    a = root.create_array("a", data=np.arange(3))
    assert META_KEY not in a.attrs and len(a.attrs) == 0
    a.attrs.update({"x": 1, "y": "two"})
    assert dict(a.attrs) == {"x": 1, "y": "two"}
    del a.attrs["x"]
    assert dict(a.attrs) == {"y": "two"}
    with pytest.raises(KeyError):
        del a.attrs["x"]
    with pytest.raises(KeyError):
        a.attrs[META_KEY] = "no"
    with pytest.raises(TypeError, match="object"):
        a.attrs["bad"] = object()
    assert a.shape == (3,)  # the internal metadata is intact


def test_rapid_overwrites_read_back_in_order(path: Path) -> None:
    """Writes within one millisecond must not be reordered by TileDB's timestamp resolution."""
    with _reopen(path, "w") as root:
        a = root.create_array("a", data=np.zeros(4, dtype=np.int64))
        for i in range(25):  # cell writes go straight to TileDB
            a[0] = i
            assert a[0] == i
    for i in range(12):  # each close writes metadata and membership changes
        with _reopen(path, "r+") as root:
            root.attrs["v"] = i
            root["a"].attrs["w"] = str(i)
            if "k" in root:
                del root["k"]
            if i % 2:
                root.create_group("k")
            else:
                root.create_array("k", data=np.arange(i + 1))
        with _reopen(path) as root:
            assert root.attrs["v"] == i
            assert root["a"].attrs["w"] == str(i)
            assert isinstance(root["k"], TileDBGroup if i % 2 else TileDBArray)
            assert root.keys() == ["a", "k"]
    with tiledb.Group(str(path), "w") as g:  # a wrapped user object writes through
        node = annstore.io._dispatch.as_node(g)
        for i in range(20):
            node.attrs["z"] = i
            assert node.attrs["z"] == i


# ------------------------------------------------------------------------------ arrays


DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
          "float32", "float64", "complex64", "complex128", "bool", "datetime64[ns]"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_roundtrip(path: Path, dtype: str) -> None:
    v = (np.arange(12) % 5).reshape(3, 4).astype(dtype)
    with _reopen(path, "w") as root:
        root.create_array("a", data=v)
    with _reopen(path) as root:
        a = root["a"]
        assert a.dtype == np.dtype(dtype) and a.shape == (3, 4)
        got = a[...]
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, v)


def test_strings_native_var_length(path: Path) -> None:
    v = np.array(["a", "", "日本語 🧬", "x" * 5000])
    with _reopen(path, "w") as root:
        root.create_array("s", data=v)
        with pytest.raises(TypeError, match="str elements"):
            root.create_array("bad", data=np.array(["a", 1], dtype=object))
        assert "bad" not in root
        with pytest.raises(TypeError, match="Byte-string"):
            root.create_array("b", data=np.array([b"x"]))
    with tiledb.open(str(path / "s")) as arr:
        attr = arr.schema.attr(0)
        assert attr.isvar and attr.dtype.kind == "U"
    with _reopen(path) as root:
        s = root["s"]
        assert s.dtype == object
        got = s[...]
        assert got.dtype == object and all(type(x) is str for x in got)
        assert got.tolist() == v.tolist()
        assert s[[0, 2]].tolist() == ["a", "日本語 🧬"]


def test_zero_d_arrays(root: Any) -> None:
    a = root.create_array("f", data=np.array(2.5))
    s = root.create_array("s", data=np.array("zero-d", dtype=object))
    b = root.create_array("b", data=np.zeros((), dtype=bool))
    assert a.shape == () and s.shape == () and b.shape == ()
    assert a[()] == 2.5 and type(a[()]) is np.float64
    assert s[()] == "zero-d"
    assert a[...].shape == () and a[...].dtype == np.float64
    assert b[()] is np.False_
    a[()] = 4.0
    s[...] = "new"
    assert a[()] == 4.0 and s[()] == "new"
    with pytest.raises(IndexError):
        a[0]
    with pytest.raises(TypeError):
        len(a)


@pytest.mark.parametrize("shape", [(0,), (0, 5), (5, 0), (0, 0), (2, 0, 3)])
def test_empty_arrays(root: Any, shape: tuple[int, ...]) -> None:
    a = root.create_array("a", data=np.zeros(shape, dtype=np.int32))
    s = root.create_array("s", data=np.empty(shape, dtype=object))
    assert a.shape == shape and s.shape == shape
    got = a[...]
    assert got.shape == shape and got.dtype == np.int32
    assert s[...].shape == shape and s[...].dtype == object
    assert a[1:3].shape == np.zeros(shape)[1:3].shape


def test_structured_array(path: Path) -> None:
    v = np.array([(1, 0.5, "a", True), (2, 1.5, "bbb", False)],
                 dtype=[("i", "<i8"), ("f", "<f4"), ("s", "<U3"), ("b", "?")])
    with _reopen(path, "w") as root:
        root.create_array("r", data=v)
    with tiledb.open(str(path / "r")) as arr:
        assert [arr.schema.attr(i).name for i in range(arr.schema.nattr)] == ["i", "f", "s", "b"]
    with _reopen(path) as root:
        got = root["r"][...]
        assert got.dtype == v.dtype
        np.testing.assert_array_equal(got, v)
        np.testing.assert_array_equal(root["r"][1:], v[1:])


def test_create_with_shape_fills_zeros(root: Any) -> None:
    a = root.create_array("a", shape=(3, 2), dtype="int16")
    s = root.create_array("s", shape=(2,), dtype=object)
    f = root.create_array("f", shape=(2,))
    np.testing.assert_array_equal(a[...], np.zeros((3, 2), dtype=np.int16))
    assert s[...].tolist() == ["", ""]
    assert f.dtype == np.float64
    with pytest.raises(TypeError, match="data or shape"):
        root.create_array("x")


# ------------------------------------------------------------------------------ selections


SELECTIONS = [
    (), Ellipsis, 0, -1, slice(None), slice(2, 7), slice(-3, None), slice(1, 9, 3), slice(None, None, -1),
    slice(8, 1, -2), slice(5, 2), np.array([0, 3, 4, 9]), np.array([9, 0, 3, 3]), [2], [],
    np.arange(10) % 3 == 0, (slice(1, 4), 2), (np.array([1, 5, 6]), slice(0, 4)),
    (np.array([1, 5, 6]), np.array([3, 0])), (Ellipsis, 1), (-2, np.array([0, 2])),
    (slice(None), slice(None, None, 2)), np.array([-1, -10]),
]


@pytest.fixture
def dense(root: Any) -> tuple[Any, np.ndarray]:
    v = np.arange(40, dtype=np.float64).reshape(10, 4)
    return root.create_array("d", data=v, chunks=(3, 2)), v


@pytest.mark.parametrize("sel", SELECTIONS, ids=[repr(s)[:40] for s in SELECTIONS])
def test_getitem_matches_numpy(dense: tuple[Any, np.ndarray], sel: Any) -> None:
    a, v = dense
    if isinstance(sel, tuple) and sum(isinstance(s, np.ndarray) for s in sel) == 2:
        expected = v[np.ix_(*sel)]  # orthogonal indexing, as h5py and zarr
    else:
        expected = v[sel]
    got = a[sel]
    np.testing.assert_array_equal(got, expected)
    assert np.shape(got) == np.shape(expected)


def test_read_into(dense: tuple[Any, np.ndarray]) -> None:
    a, v = dense
    out = np.empty((3, 4))
    a.read_into(out, np.s_[2:5])
    np.testing.assert_array_equal(out, v[2:5])
    full = np.empty_like(v)
    a.read_into(full)
    np.testing.assert_array_equal(full, v)


@pytest.mark.parametrize("sel", [11, -11, (0, 4), np.array([10]), np.array([0.5])])
def test_out_of_bounds_index_errors(dense: tuple[Any, np.ndarray], sel: Any) -> None:
    a, _ = dense
    with pytest.raises(IndexError):
        a[sel]


def test_read_ranges_one_query(dense: tuple[Any, np.ndarray], root: Any) -> None:
    a = root.create_array("flat", data=np.arange(100, dtype=np.int32))
    got = a.read_ranges(np.array([5, 50, 20, 99]), np.array([8, 52, 20, 100]))
    np.testing.assert_array_equal(got, np.r_[5:8, 50:52, 99:100])
    with pytest.raises(IndexError):
        a.read_ranges(np.array([99]), np.array([101]))


WRITES = [
    (np.s_[2:5], 7.0), (np.s_[3], np.arange(4.0)), (np.s_[:, 1], -1.0), (np.s_[1:9:3, ::2], 5.0),
    (np.array([8, 0, 4]), np.arange(12.0).reshape(3, 4)), ((np.array([1, 2]), 3), [9.0, 8.0]),
    (np.s_[::-1], np.arange(40.0).reshape(10, 4)), (np.s_[...], 0.0), (np.s_[4:4], 1.0),
]


@pytest.mark.parametrize(("sel", "value"), WRITES, ids=[str(i) for i in range(len(WRITES))])
def test_setitem_matches_numpy(path: Path, sel: Any, value: Any) -> None:
    v = np.arange(40, dtype=np.float64).reshape(10, 4)
    with _reopen(path, "w") as root:
        root.create_array("d", data=v, chunks=(3, 3))
        root["d"][sel] = value
    expected = v.copy()
    expected[sel] = value
    with _reopen(path) as root:
        np.testing.assert_array_equal(root["d"][...], expected)


def test_setitem_strings(root: Any) -> None:
    s = root.create_array("s", data=np.array(["a", "b", "c", "d"], dtype=object))
    s[1:3] = np.array(["X", "Ω"])
    s[np.array([3, 0])] = ["d2", "a2"]
    assert s[...].tolist() == ["a2", "X", "Ω", "d2"]


# ------------------------------------------------------------------------------ resize


def test_resize_grow_and_append(path: Path) -> None:
    with _reopen(path, "w") as root:
        a = root.create_array("a", shape=(0,), dtype=np.int64)
        total = []
        for k in range(1, 6):
            n = a.shape[0]
            a.resize((n + k,))
            a[n : n + k] = np.arange(k) + 10 * k
            total += list(np.arange(k) + 10 * k)
        assert a.shape == (15,)
    with _reopen(path) as root:
        np.testing.assert_array_equal(root["a"][...], total)


def test_resize_shrink_then_grow_reads_zeros(root: Any) -> None:
    a = root.create_array("a", data=np.arange(1, 13, dtype=np.float32).reshape(3, 4))
    a.resize((2, 2))
    np.testing.assert_array_equal(a[...], [[1, 2], [5, 6]])
    a.resize((4, 5))
    expected = np.zeros((4, 5), dtype=np.float32)
    expected[:2, :2] = [[1, 2], [5, 6]]
    np.testing.assert_array_equal(a[...], expected)
    s = root.create_array("s", data=np.array(["a", "b", "c"], dtype=object))
    s.resize(1)
    s.resize((3,))
    assert s[...].tolist() == ["a", "", ""]


def test_resize_errors(root: Any) -> None:
    a = root.create_array("a", data=np.arange(3))
    with pytest.raises(ValueError, match="1 dimensions"):
        a.resize((3, 3))
    with pytest.raises(ValueError, match=str(CAPACITY)):
        a.resize((CAPACITY + 1,))


# ------------------------------------------------------------------------------ storage options


def test_chunks_and_compression_reach_the_schema(root: Any, path: Path) -> None:
    root.create_array("a", data=np.zeros((100, 10)), chunks=(16, 5), compression="gzip",
                      compression_opts=7)
    root.create_array("z", data=np.zeros(10), compression="zstd")
    root.create_array("l", data=np.zeros(10), compression="lzf", shuffle=True, maxshape=(None,))
    with pytest.warns(WriteWarning, match="Unknown compression 'nope'"):
        root.create_array("u", data=np.zeros(10), compression="nope")
    with tiledb.open(str(path / "a")) as arr:
        assert arr.schema.domain.dim(0).tile == 16 and arr.schema.domain.dim(1).tile == 5
        f = arr.schema.attr(0).filters
        assert isinstance(f[0], tiledb.GzipFilter) and f[0].level == 7
    with tiledb.open(str(path / "z")) as arr:
        assert isinstance(arr.schema.attr(0).filters[0], tiledb.ZstdFilter)
    with tiledb.open(str(path / "l")) as arr:
        assert isinstance(arr.schema.attr(0).filters[0], tiledb.LZ4Filter)
    with tiledb.open(str(path / "u")) as arr:
        assert len(arr.schema.attr(0).filters) == 0
    np.testing.assert_array_equal(root["a"][...], np.zeros((100, 10)))


def test_auto_tiles_bounded(root: Any, path: Path) -> None:
    root.create_array("big", shape=(100_000, 300), dtype=np.float64)
    with tiledb.open(str(path / "big")) as arr:
        d = arr.schema.domain
        assert d.dim(0).tile * d.dim(1).tile * 8 <= 1 << 20


# ------------------------------------------------------------------------------ modes and opening


def test_read_only_mode_refuses_writes(path: Path) -> None:
    with _reopen(path, "w") as root:
        root.create_array("a", data=np.arange(3))
    with _reopen(path, "r") as root:
        for op in (
            lambda: root.create_group("g"),
            lambda: root.create_array("b", data=np.arange(2)),
            lambda: root["a"].__setitem__(0, 5),
            lambda: root["a"].resize((5,)),
            lambda: root.attrs.__setitem__("x", 1),
            lambda: root.__delitem__("a"),
        ):
            with pytest.raises(ReadOnlyStoreError, match="read-only") as ei:
                op()
            assert isinstance(ei.value, PermissionError)
        np.testing.assert_array_equal(root["a"][...], np.arange(3))


def test_modes(path: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _reopen(path, "r").__enter__()
    with _reopen(path, "a") as root:  # creates
        root.attrs["x"] = 1
    with _reopen(path, "a") as root:  # keeps
        assert root.attrs["x"] == 1
        root.create_group("g")
    with _reopen(path, "r+") as root:
        assert root.keys() == ["g"]
    with _reopen(path, "w") as root:  # truncates
        assert root.keys() == [] and len(root.attrs) == 0
    plain = tmp_path / "plain.tiledb"
    plain.mkdir()
    with pytest.raises(InvalidFileError, match="Expected a TileDB group"):
        _reopen(plain, "r").__enter__()
    arr_uri = str(tmp_path / "arr.tiledb")
    tiledb.Array.create(arr_uri, tiledb.ArraySchema(
        domain=tiledb.Domain(tiledb.Dim("d", domain=(0, 3), tile=4, dtype=np.int64)),
        attrs=[tiledb.Attr("v", dtype=np.int64)]))
    with pytest.raises(InvalidFileError, match="found a TileDB array"):
        _reopen(Path(arr_uri), "r").__enter__()


def test_foreign_dense_array_is_readable(root: Any, path: Path) -> None:
    """An array written by plain TileDB (no annstore metadata): its non-empty domain is its shape."""
    uri = str(path / "foreign")
    tiledb.Array.create(uri, tiledb.ArraySchema(
        domain=tiledb.Domain(tiledb.Dim("r", domain=(0, 99), tile=10, dtype=np.int64)),
        attrs=[tiledb.Attr("v", dtype=np.float32)]))
    with tiledb.open(uri, "w") as arr:
        arr[0:5] = np.arange(5, dtype=np.float32)
    with tiledb.Group(str(path), "w") as g:
        g.add("foreign", name="foreign", relative=True)
    with _reopen(path) as r:
        a = r["foreign"]
        assert a.shape == (5,) and a.dtype == np.float32
        np.testing.assert_array_equal(a[1:3], [1.0, 2.0])


def test_adapt_native_tiledb_objects(path: Path) -> None:
    with _reopen(path, "w") as root:
        annstore.io.write_elem(root, "d", {"x": np.arange(3), "s": "y"})
    with tiledb.Group(str(path / "d")) as g:
        got = annstore.io.read_elem(g)
    np.testing.assert_array_equal(got["x"], np.arange(3))
    assert got["s"] == "y"
    with tiledb.open(str(path / "d" / "x")) as arr:
        np.testing.assert_array_equal(annstore.io.read_elem(arr), np.arange(3))
    with tiledb.Group(str(path), "w") as g:
        annstore.io.write_elem(g, "new", [1.5, 2.5])
    with _reopen(path) as root:
        np.testing.assert_array_equal(annstore.io.read_elem(root["new"]), [1.5, 2.5])


# ------------------------------------------------------------------------------ guessing


def test_guess_format(path: Path, tmp_path: Path) -> None:
    from annstore.io._guess import guess_format

    with _reopen(path, "w") as root:
        root.create_group("g")
    assert guess_format(path) == "tiledb"
    bare = tmp_path / "no_suffix"
    os.rename(path, bare)
    assert guess_format(bare) == "tiledb"  # a directory holding a TileDB group
    assert guess_format(str(bare) + "/") == "tiledb"
    from annstore.io._plugins import get_plugin_manager

    hook = get_plugin_manager().hook.annstore_guess_format
    # by suffix, even before it exists (as for writes)
    assert hook(path=tmp_path / "new.tiledb", head=b"", is_dir=False) == "tiledb"
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.txt").write_text("x")
    with pytest.raises(annstore.errors.UnknownFormatError):
        guess_format(other)


def test_import_and_unrelated_guess_do_not_import_tiledb(tmp_path: Path) -> None:
    code = (
        "import sys, annstore\n"
        "from annstore.io._guess import guess_format\n"
        "annstore.list_formats()\n"
        f"p = {str(tmp_path / 'x.h5ad')!r}\n"
        "import h5py; h5py.File(p, 'w').close()\n"
        "assert guess_format(p) == 'h5ad'\n"
        "bad = [m for m in sys.modules if m == 'tiledb' or m.startswith('tiledb.')]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_edits_are_written_when_the_root_closes(path: Path) -> None:
    with _reopen(path, "w") as root:
        root.create_group("g").attrs["a"] = 1
    with _reopen(path, "r+") as root:
        root["g"].attrs["a"] = 2
        root["g"].attrs["b"] = [1, "x"]
        del root["g"].attrs["a"]
        root["g"].create_array("new", data=np.arange(3))
        assert dict(root["g"].attrs) == {"b": [1, "x"]}  # visible in the session at once
        assert root["g"].keys() == ["new"]
        with _reopen(path, "r") as other:  # another session sees the store as it was
            assert dict(other["g"].attrs) == {"a": 1} and other["g"].keys() == []
    with _reopen(path, "r") as root:
        assert dict(root["g"].attrs) == {"b": [1, "x"]}
        np.testing.assert_array_equal(root["g/new"][...], np.arange(3))


def test_pending_member_deleted_before_close(path: Path) -> None:
    with _reopen(path, "w") as root:
        g = root.create_group("g")
        g.attrs["x"] = 1
        g.create_group("h").attrs["y"] = 2
        del root["g"]
        root.create_array("g", data=np.arange(2))
    with _reopen(path) as root:
        assert root.keys() == ["g"] and isinstance(root["g"], TileDBArray)
        assert len(root["g"].attrs) == 0
    with tiledb.Group(str(path)) as grp:
        assert [m.name for m in grp] == ["g"]


def test_open_store_refuses_tiledb_array_object(tmp_path: Path) -> None:
    uri = str(tmp_path / "arr")
    tiledb.Array.create(uri, tiledb.ArraySchema(
        domain=tiledb.Domain(tiledb.Dim("d", domain=(0, 3), tile=4, dtype=np.int64)),
        attrs=[tiledb.Attr("v", dtype=np.int64)]))
    with tiledb.open(uri) as arr, pytest.raises(InvalidFileError, match="Expected a TileDB group"):
        annstore.io.open_store(arr, format="tiledb", mode="r").__enter__()

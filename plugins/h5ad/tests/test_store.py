"""The h5py adapter against the store protocol: groups, arrays, attrs, strings, slicing, links."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from annstore.errors import CapabilityError, InvalidFileError
from annstore.types import ArrayLike, GroupLike
from annstore_h5ad._store import HDF5_MAGIC, H5Array, H5Group, adapt, open_h5_store


def test_protocols(root: H5Group) -> None:
    a = root.create_array("a", np.arange(3))
    g = root.create_group("g")
    assert isinstance(root, GroupLike)
    assert isinstance(g, GroupLike)
    assert isinstance(a, ArrayLike)
    assert root.name == "/" and g.name == "/g" and a.name == "/a"
    assert root.format == "h5ad" and a.filename == root.filename
    assert root._annstore_node and a._annstore_node


def test_groups_nesting_and_delete(root: H5Group) -> None:
    g = root.create_group("g")
    g.create_group("h").create_array("x", np.ones(2))
    assert sorted(root.keys()) == ["g"]
    assert "g/h/x" in root and "g/nope" not in root and 3 not in root
    assert isinstance(root["g/h"], H5Group)
    np.testing.assert_array_equal(root["g/h/x"][()], np.ones(2))
    del root["g/h"]
    assert list(g) == []
    with pytest.raises(KeyError, match="'nope' not found in group '/g'"):
        g["nope"]


def test_file_starts_with_magic(h5_path: Path) -> None:
    open_h5_store(h5_path, "w").close()
    assert h5_path.read_bytes()[:8] == HDF5_MAGIC


@pytest.mark.parametrize("shape", [(4,), (2, 3), (0,), ()])
def test_string_arrays_roundtrip(root: H5Group, shape: tuple[int, ...]) -> None:
    n = int(np.prod(shape)) if shape else 1
    vals = np.array([f"s{i}é" for i in range(n)], dtype=str).reshape(shape)
    a = root.create_array("s", vals)
    assert h5py.check_string_dtype(a.h5.dtype).encoding == "utf-8"
    assert h5py.check_string_dtype(a.h5.dtype).length is None
    assert a.dtype == np.dtype(object)
    out = a[()]
    if shape == ():
        assert out == "s0é" and isinstance(out, str)
    else:
        assert out.dtype == object and out.shape == shape
        assert all(isinstance(x, str) for x in out.ravel())
        np.testing.assert_array_equal(out, vals.astype(object))


def test_object_string_array_and_non_str_refused(root: H5Group) -> None:
    a = root.create_array("s", np.array(["a", "bb"], dtype=object))
    assert list(a[:]) == ["a", "bb"]
    with pytest.raises(TypeError, match="Expected str elements"):
        root.create_array("bad", np.array(["a", 1], dtype=object))
    with pytest.raises(TypeError, match="Byte-string"):
        root.create_array("bad2", np.array([b"a"]))


def test_string_setitem(root: H5Group) -> None:
    a = root.create_array("s", shape=(3,), dtype=str)
    a[1:3] = np.array(["x", "yz"])
    assert list(a[()]) == ["", "x", "yz"]


def test_attrs_normalised(root: H5Group) -> None:
    g = root.create_group("g")
    g.attrs["s"] = "text"
    g.attrs["b"] = True
    g.attrs["i"] = np.int64(3)
    g.attrs["f"] = np.float32(1.5)
    g.attrs["empty"] = []
    g.attrs["cols"] = ["a", "b"]
    g.attrs["tup"] = ("x",)
    g.attrs["shape"] = (3, 4)
    g.attrs["vec"] = np.array([1.0, 2.0])
    assert g.attrs["s"] == "text"
    assert g.attrs["b"] is True
    assert g.attrs["i"] == 3 and type(g.attrs["i"]) is int
    assert g.attrs["f"] == 1.5 and type(g.attrs["f"]) is float
    assert g.attrs["empty"] == []
    assert g.attrs["cols"] == ["a", "b"]
    assert g.attrs["tup"] == ["x"]
    assert list(g.attrs["shape"]) == [3, 4]
    assert isinstance(g.attrs["vec"], np.ndarray)
    # HDF5 stores the empty list the way anndata does: an empty float64 array;
    # lists of str as variable-length strings.
    assert g.h5.attrs["empty"].dtype == np.float64
    assert h5py.check_string_dtype(g.h5.attrs.get_id("cols").dtype) is not None
    assert set(g.attrs) == {"s", "b", "i", "f", "empty", "cols", "tup", "shape", "vec"}
    del g.attrs["s"]
    assert "s" not in g.attrs and len(g.attrs) == 8


def test_attrs_written_by_h5py_bytes(root: H5Group) -> None:
    g = root.create_group("g")
    g.h5.attrs["fixed"] = np.bytes_(b"abc")
    g.h5.attrs["arr"] = np.array([b"a", b"b"])
    assert g.attrs["fixed"] == "abc"
    assert g.attrs["arr"] == ["a", "b"]


def test_storage_options(root: H5Group) -> None:
    opts = {"compression": "gzip", "compression_opts": 4, "unknown_option": 1}
    a = root.create_array("a", np.arange(100.0).reshape(10, 10), chunks=(5, 20), **opts)
    assert a.h5.compression == "gzip" and a.h5.compression_opts == 4
    assert a.h5.chunks == (5, 10)  # chunk clipped to the data shape
    s = root.create_array("s", np.float32(1), **opts)  # scalars: no filters
    assert s.h5.compression is None and s.h5.chunks is None and s.shape == ()
    assert s[()] == np.float32(1)
    # empty: filters kept as anndata's files have them, explicit chunks left to h5py
    e = root.create_array("e", np.zeros((0, 3)), chunks=(2, 2), **opts)
    assert e.h5.compression == "gzip" and e.shape == (0, 3) and e.h5.chunks is not None
    e1 = root.create_array("e1", np.zeros(0), **opts)
    assert e1.h5.chunks == (1024,)  # anndata 0.13.4's uns/arrays/empty_float with gzip
    lz = root.create_array("lz", np.arange(10), compression="lzf")
    assert lz.h5.compression == "lzf"


def test_resize_and_maxshape(root: H5Group) -> None:
    a = root.create_array("a", np.arange(4), maxshape=(None,))
    a.resize((6,))
    a[4:6] = [7, 8]
    np.testing.assert_array_equal(a[()], [0, 1, 2, 3, 7, 8])
    e = root.create_array("e", np.zeros(0, dtype="i4"), maxshape=(None,))
    e.resize(2)
    assert e.shape == (2,)
    fixed = root.create_array("f", np.arange(3))
    with pytest.raises(CapabilityError, match="resizable"):
        fixed.resize((5,))


def test_fancy_and_fallback_indexing(root: H5Group) -> None:
    data = np.arange(60).reshape(10, 6)
    a = root.create_array("a", data)
    assert a.supports_fancy
    np.testing.assert_array_equal(a[np.array([1, 4, 7])], data[[1, 4, 7]])
    # Unsorted, repeated, negative, boolean and multi-axis selections fall back in memory.
    np.testing.assert_array_equal(a[np.array([7, 1, 1, -1])], data[[7, 1, 1, -1]])
    mask = np.arange(10) % 3 == 0
    np.testing.assert_array_equal(a[mask], data[mask])
    np.testing.assert_array_equal(a[:, [5, 0]], data[:, [5, 0]])
    np.testing.assert_array_equal(a[2:5, np.array([1, 3])], data[2:5, [1, 3]])
    np.testing.assert_array_equal(a[np.array([0, 9]), np.array([1, 2])], data[[0, 9]][:, [1, 2]])
    np.testing.assert_array_equal(a[np.array([], dtype=int)], data[[]])
    np.testing.assert_array_equal(a[3, [0, 2]], data[3, [0, 2]])
    with pytest.raises(IndexError):
        a[np.array([10])]
    s = root.create_array("s", np.array(list("abcdef")))
    assert list(s[np.array([4, 0])]) == ["e", "a"]


def test_read_into(root: H5Group) -> None:
    data = np.arange(20, dtype="f4")
    a = root.create_array("a", data)
    out = np.empty(20, dtype="f4")
    a.read_into(out)
    np.testing.assert_array_equal(out, data)
    part = np.empty(5, dtype="f4")
    a.read_into(part, np.s_[3:8])
    np.testing.assert_array_equal(part, data[3:8])
    conv = np.empty(5, dtype="f8")  # dtype conversion goes through the slow path
    a.read_into(conv, np.s_[0:5])
    np.testing.assert_array_equal(conv, data[:5])
    fancy = np.empty(2, dtype="f4")
    a.read_into(fancy, np.array([2, 9]))
    np.testing.assert_array_equal(fancy, [2, 9])


def test_recarray_strings(root: H5Group) -> None:
    rec = np.array([("a", 1.5), ("bcd", 2.0)], dtype=[("name", "U3"), ("score", "f8")])
    a = root.create_array("r", rec)
    assert h5py.check_string_dtype(a.h5.dtype["name"]) is not None
    out = a[()]
    assert out.dtype.names == ("name", "score") and out.dtype["name"].kind == "U"
    assert list(out["name"]) == ["a", "bcd"] and list(out["score"]) == [1.5, 2.0]


def test_empty_dataset_is_none(root: H5Group) -> None:
    root.h5.create_dataset("n", data=h5py.Empty("f"))
    n = root["n"]
    assert isinstance(n, H5Array) and n.is_empty and n[()] is None and n.shape == ()


def test_adapt_user_objects(h5_path: Path) -> None:
    with h5py.File(h5_path, "w") as f:
        f.create_dataset("x", data=[1, 2])
        g = adapt(f)
        assert isinstance(g, H5Group) and g.name == "/"
        assert isinstance(adapt(f["x"]), H5Array)
        assert adapt(np.zeros(2)) is None
        g.close()  # not owned: the user's file stays open
        assert f.id.valid


def test_close_owned(h5_path: Path) -> None:
    g = open_h5_store(h5_path, "w")
    f = g.h5
    g.close()
    assert not f.id.valid
    g.close()  # idempotent


def test_not_hdf5(tmp_path: Path) -> None:
    p = tmp_path / "x.h5ad"
    p.write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(InvalidFileError, match="Expected an HDF5 file"):
        open_h5_store(p, "r")


def test_mode_mapping(h5_path: Path) -> None:
    with open_h5_store(h5_path, "w") as g:
        g.create_array("a", np.arange(2))
    with open_h5_store(h5_path, "r") as g:
        assert g.h5.file.mode == "r"
        with pytest.raises((OSError, ValueError, KeyError)):
            g.create_group("new")
    with open_h5_store(h5_path, "a") as g:
        g.create_group("new")
    with open_h5_store(h5_path, "r+") as g:
        assert sorted(g.keys()) == ["a", "new"]
    with pytest.raises(ValueError, match="Expected mode"):
        open_h5_store(h5_path, "x")


class TestLinks:
    @pytest.fixture
    def linked(self, tmp_path: Path) -> Path:
        other = tmp_path / "other.h5"
        with h5py.File(other, "w") as f:
            f.create_dataset("secret", data=[42])
        main = tmp_path / "main.h5ad"
        with h5py.File(main, "w") as f:
            f.create_group("g").create_dataset("x", data=[1])
            f["ext"] = h5py.ExternalLink(str(other), "/secret")
            f["g"]["ext2"] = h5py.ExternalLink(str(other), "/secret")
            f["soft"] = h5py.SoftLink("/g/x")
            f["soft_rel"] = h5py.SoftLink("g/x")
            f["soft_out"] = h5py.SoftLink("/ext")
            f["dangling"] = h5py.SoftLink("/nope")
        return main

    def test_external_link_refused(self, linked: Path) -> None:
        with open_h5_store(linked, "r") as g:
            with pytest.raises(InvalidFileError, match="external link") as ei:
                g["ext"]
            assert ei.value.path == "/ext" and ei.value.filename == str(linked)
            with pytest.raises(InvalidFileError, match="external link"):
                g["g/ext2"]
            with pytest.raises(InvalidFileError, match="external link"):
                g["g"]["ext2"]
            assert isinstance(ValueError(), Exception) and issubclass(InvalidFileError, ValueError)

    def test_soft_links(self, linked: Path) -> None:
        with open_h5_store(linked, "r") as g:
            assert g["soft"][()].tolist() == [1]
            assert g["soft_rel"][()].tolist() == [1]
            with pytest.raises(InvalidFileError, match="external link"):
                g["soft_out"]
            with pytest.raises(InvalidFileError, match="dangling"):
                g["dangling"]

    def test_opt_in(self, linked: Path) -> None:
        with open_h5_store(linked, "r", allow_external_links=True) as g:
            assert g["ext"][()].tolist() == [42]

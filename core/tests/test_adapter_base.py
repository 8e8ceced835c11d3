"""The public store-adapter base (``annstore.io.GroupBase`` & co.): the rules every adapter shares."""

from __future__ import annotations

import numpy as np
import pytest

from annstore.io import bounding_box, expand_selection, fit_chunks, outer_put, outer_take, plain_attr
from annstore.io._memory import MemoryGroup

SELECTIONS = [
    np.s_[2:5], np.s_[3], np.s_[:, 1], np.s_[1:9:3, ::2], np.array([8, 0, 4]), (np.array([1, 2]), 3),
    np.s_[::-1], np.s_[...], np.s_[4:4], (np.array([7, 1, 1, -1]), np.array([3, 0])),
    np.arange(10) % 3 == 0, (Ellipsis, np.array([2, 0])), (-1, slice(None, None, 2)),
]


def _reference(sel: object, shape: tuple[int, ...]) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Outer-indexing positions per axis and the axes an integer drops (what h5py/zarr do)."""
    positions, dropped = [], []
    for ax, (s, n) in enumerate(zip(expand_selection(sel, len(shape)), shape, strict=True)):
        if isinstance(s, int):
            positions.append(np.array([s % n]))
            dropped.append(ax)
        elif isinstance(s, slice):
            positions.append(np.arange(n)[s])
        else:
            a = np.asarray(s)
            positions.append(np.flatnonzero(a) if a.dtype == bool else a % n)
    return np.ix_(*positions), tuple(dropped)


@pytest.mark.parametrize("sel", SELECTIONS, ids=[str(i) for i in range(len(SELECTIONS))])
def test_bounding_box_reads_and_writes_like_outer_indexing(sel: object) -> None:
    data = np.arange(40.0).reshape(10, 4)
    ix, dropped = _reference(sel, data.shape)
    box, local = bounding_box(sel, data.shape)
    assert all(isinstance(b, int) or (isinstance(b, slice) and b.step is None) for b in box)
    np.testing.assert_array_equal(outer_take(data[box], local), data[ix].squeeze(axis=dropped))
    block = data[box].copy()
    outer_put(block, local, -1.0)
    got = data.copy()
    got[box] = block
    want = data.copy()
    want[ix] = -1.0
    np.testing.assert_array_equal(got, want)


def test_bounding_box_refuses_out_of_range() -> None:
    with pytest.raises(IndexError, match="out of bounds"):
        bounding_box((10,), (10, 4))
    with pytest.raises(IndexError, match="boolean mask of length 10"):
        bounding_box(np.ones(3, dtype=bool), (10,))


def test_plain_attr_and_fit_chunks() -> None:
    assert plain_attr((np.int64(1), b"x", np.array(["a", "b"]), {"k": (np.float32(0.5),)})) == [
        1, "x", ["a", "b"], {"k": [0.5]}]
    assert plain_attr(np.arange(3)) == [0, 1, 2]
    assert isinstance(plain_attr(np.arange(3), keep_arrays=True), np.ndarray)
    with pytest.raises(TypeError, match="complex"):
        plain_attr([1j], strict=True)
    assert fit_chunks((None, 50), (10, 20)) == (10, 20)
    assert fit_chunks(5, (10, 0)) == (5, 1)
    assert fit_chunks((50,), (10,), clip=False) == (50,)
    assert fit_chunks((1, 2), (10,)) is None


def test_group_base_rules_through_the_memory_adapter() -> None:
    root = MemoryGroup("/", "mem")
    g = root.create_group("a")
    g.create_array("x", data=np.array(["u", "v"]))
    assert root["a/x"].dtype == object and root["a/x"][...].tolist() == ["u", "v"]
    assert g["/a/x"].name == "/a/x" and "a/x" in root and "a/y" not in root
    with pytest.raises(KeyError, match=r"'a/y/z' not found in group '/' in memory store 'mem' \(no 'a/y'\)"):
        root["a/y/z"]
    with pytest.raises(ValueError, match="already exists"):
        root.create_group("a")
    with pytest.raises(ValueError, match="without '/'"):
        root.create_group("b/c")
    with pytest.raises(TypeError, match="is an array"):
        g.require_group("x")
    assert root.require_group("a") == g
    with pytest.raises(TypeError, match="Expected str elements.*int 1"):
        root.create_array("s", data=np.array(["a", 1], dtype=object))
    with pytest.raises(TypeError, match="Byte-string"):
        root.create_array("b", data=np.array([b"a"]))
    with pytest.raises(ValueError, match="Expected data of shape"):
        root.create_array("d", data=np.arange(3), shape=(4,))
    assert root.create_array("f", data=[1, 2], dtype="f4").dtype == np.float32
    root.attrs["t"] = (1, np.int8(2))
    assert root.attrs["t"] == [1, 2] and type(root.attrs["t"][1]) is int
    with pytest.raises(KeyError, match="Attribute 'nope' not found on '/'"):
        del root.attrs["nope"]
    del root["a/x"]
    assert "x" not in g
    with pytest.raises(KeyError, match="not found"):
        del root["a/x"]

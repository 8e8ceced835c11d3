"""Backed CSR/CSC datasets: selections equal scipy's/numpy's, reads stay bounded, append."""

from __future__ import annotations

from typing import Any

import annstore
import numpy as np
import pytest
from annstore.backed import CSCDataset, CSRDataset, sparse_dataset
from annstore.backed import _sparse as sparse_mod
from annstore.errors import InvalidFileError, ShapeMismatchError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse


def put_sparse(group: Any, key: str, m: Any, *, indptr_dtype: Any = None) -> Any:
    """Write ``m`` as a csr_matrix/csc_matrix element using only the store protocol."""
    g = group.create_group(key)
    g.attrs["encoding-type"] = f"{m.format}_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = list(m.shape)
    g.create_array("data", data=np.asarray(m.data), maxshape=(None,))
    g.create_array("indices", data=np.asarray(m.indices), maxshape=(None,))
    ip = np.asarray(m.indptr) if indptr_dtype is None else np.asarray(m.indptr).astype(indptr_dtype)
    g.create_array("indptr", data=ip, maxshape=(None,))
    return g


# ------------------------------------------------------------------------- strategies


def axis_index(n: int) -> st.SearchStrategy[Any]:
    bound = st.integers(-n - 3, n + 3) | st.none()
    slices = st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, 3, -1, -2, -5]))
    opts: list[st.SearchStrategy[Any]] = [
        slices,
        st.lists(st.booleans(), min_size=n, max_size=n).map(lambda x: np.array(x, dtype=bool)),
    ]
    if n:
        pos = st.integers(-n, n - 1)
        opts += [
            pos,
            st.lists(pos, max_size=2 * n + 2),
            st.lists(pos, max_size=2 * n + 2).map(lambda x: np.array(x, dtype=np.int64)),
        ]
    return st.one_of(*opts)


def positions(idx: Any, n: int) -> np.ndarray:
    if isinstance(idx, int):
        return np.array([idx % n])
    if isinstance(idx, slice):
        return np.arange(n)[idx]
    arr = np.asarray(idx)
    return np.arange(n)[arr if arr.size else arr.astype(np.int64)]


@st.composite
def matrix_and_selection(draw: Any) -> tuple[Any, Any, Any]:
    m = draw(st.integers(0, 12))
    n = draw(st.integers(0, 12))
    density = draw(st.sampled_from([0.0, 0.2, 0.6, 1.0]))
    fmt = draw(st.sampled_from(["csr", "csc"]))
    seed = draw(st.integers(0, 2**16))
    mat = sparse.random(m, n, density=density, format=fmt, random_state=seed, dtype=np.float64)
    row = draw(axis_index(m))
    if draw(st.booleans()):
        return mat, row, None
    return mat, row, draw(axis_index(n))


_counter = iter(range(10**9))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=matrix_and_selection())
def test_selection_matches_in_memory(root: Any, case: tuple[Any, Any, Any]) -> None:
    mat, row, col = case
    g = put_sparse(root, f"m{next(_counter)}", mat)
    ds = sparse_dataset(g)
    assert isinstance(ds, CSRDataset if mat.format == "csr" else CSCDataset)
    assert ds.shape == mat.shape and ds.dtype == mat.dtype and ds.format == mat.format
    dense = mat.toarray()
    sel = row if col is None else (row, col)
    r = positions(row, mat.shape[0])
    c = positions(slice(None) if col is None else col, mat.shape[1])
    got = ds[sel]
    if isinstance(row, int) and isinstance(col, int):
        assert np.ndim(got) == 0
        assert got == dense[row, col]
        return
    assert sparse.issparse(got) and got.format == mat.format
    assert isinstance(got, sparse.spmatrix)
    expected = dense[np.ix_(r, c)]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.toarray(), expected)
    # scipy itself agrees where it supports the selection (outer indexing, one axis at a time)
    np.testing.assert_array_equal(got.toarray(), mat[r][:, c].toarray())


def test_reverse_slice_keeps_every_row(root: Any) -> None:
    mat = sparse.random(7, 4, density=0.5, format="csr", random_state=1)
    ds = sparse_dataset(put_sparse(root, "X", mat))
    got = ds[::-1]
    assert got.shape == (7, 4)  # anndata 0.13.4 drops a row here
    np.testing.assert_array_equal(got.toarray(), mat.toarray()[::-1])


def test_sparse_array_setting(root: Any) -> None:
    mat = sparse.random(5, 4, density=0.5, format="csc", random_state=2)
    ds = sparse_dataset(put_sparse(root, "X", mat))
    with annstore.settings.override(use_sparse_array_on_read=True):
        assert isinstance(ds[1:3], sparse.csc_array)
        assert isinstance(ds.to_memory(), sparse.csc_array)
    assert isinstance(ds.to_memory(), sparse.csc_matrix)


@pytest.mark.parametrize("cache", [True, False])
def test_to_memory_and_no_cache(root: Any, cache: bool) -> None:
    mat = sparse.random(30, 20, density=0.3, format="csr", random_state=3, dtype=np.float32)
    ds = sparse_dataset(put_sparse(root, "X", mat), should_cache_indptr=cache)
    assert (ds.to_memory() != mat).nnz == 0
    np.testing.assert_array_equal(ds[[29, 0, 7]].toarray(), mat[[29, 0, 7]].toarray())


def test_errors(root: Any) -> None:
    mat = sparse.random(4, 3, density=0.5, format="csr", random_state=4)
    ds = sparse_dataset(put_sparse(root, "X", mat))
    with pytest.raises(IndexError, match="out of bounds"):
        ds[4]
    with pytest.raises(IndexError, match="out of bounds"):
        ds[:, [0, 3]]
    with pytest.raises(IndexError, match="Boolean index of length 3"):
        ds[np.array([True, False, True])]
    with pytest.raises(IndexError, match="at most 2 dimensions"):
        ds[0, 0, 0]
    arr = root.create_array("dense", data=np.zeros((2, 2)))
    arr.attrs["encoding-type"] = "array"
    with pytest.raises(InvalidFileError, match="csr_matrix/csc_matrix"):
        sparse_dataset(arr)


# --------------------------------------------------------------------- bounded reads


class _Counting:
    """Records the number of stored values read through a memory array's ``__getitem__``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from annstore.io._memory import MemoryArray

        self.reads: list[int] = []
        orig = MemoryArray.__getitem__
        me = self

        def getitem(arr: Any, sel: Any) -> Any:
            out = orig(arr, sel)
            if arr.name.endswith("/data"):
                me.reads.append(int(np.size(out)))
            return out

        monkeypatch.setattr(MemoryArray, "__getitem__", getitem)


def _memory_matrix(tmp_path: Any, mat: Any) -> Any:
    root = annstore.io.open_store(f"memory://{tmp_path.name}-bounded", format="memory", mode="w")
    with root as g:
        put_sparse(g, "X", mat)
        return sparse_dataset(g["X"])


def test_major_selection_reads_only_its_ranges(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    mat = sparse.random(400, 1000, density=0.1, format="csr", random_state=5)
    ds = _memory_matrix(tmp_path, mat)
    counter = _Counting(monkeypatch)
    rows = [350, 3, 200, 3]
    got = ds[rows]
    np.testing.assert_array_equal(got.toarray(), mat[rows].toarray())
    wanted = sum(mat[r].nnz for r in {350, 3, 200})
    assert sum(counter.reads) == wanted
    # adjacent rows are coalesced into a single read
    counter.reads.clear()
    ds[10:20]
    assert counter.reads == [mat[10:20].nnz]


def test_minor_selection_reads_in_bounded_chunks(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    mat = sparse.random(400, 1000, density=0.1, format="csr", random_state=6)
    ds = _memory_matrix(tmp_path, mat)
    monkeypatch.setattr(sparse_mod, "CHUNK_NNZ", 5000)
    counter = _Counting(monkeypatch)
    got = ds[:, [999, 0, 5]]
    np.testing.assert_array_equal(got.toarray(), mat[:, [999, 0, 5]].toarray())
    assert sum(counter.reads) == mat.nnz
    assert len(counter.reads) > 5
    max_row = int(np.diff(mat.indptr).max())
    assert max(counter.reads) <= 5000 + max_row


# -------------------------------------------------------------------------------- append


@pytest.mark.parametrize("fmt_", ["csr", "csc"])
def test_append(root: Any, fmt_: str) -> None:
    a = sparse.random(6, 5, density=0.4, format=fmt_, random_state=7, dtype=np.float32)
    b = sparse.random(3, 5, density=0.4, format=fmt_, random_state=8, dtype=np.float32)
    if fmt_ == "csc":
        a, b = a.T.tocsc(), b.T.tocsc()
    ds = sparse_dataset(put_sparse(root, "X", a))
    ds.append(b)
    expected = sparse.vstack([a, b]) if fmt_ == "csr" else sparse.hstack([a, b])
    assert ds.shape == expected.shape
    np.testing.assert_array_equal(ds.to_memory().toarray(), expected.toarray())
    np.testing.assert_array_equal(sparse_dataset(root["X"]).to_memory().toarray(), expected.toarray())
    with pytest.raises(ValueError, match="must have same format"):
        ds.append(b.tocoo())
    bad = sparse.random(2, 4, format=fmt_) if fmt_ == "csr" else sparse.random(4, 2, format=fmt_)
    with pytest.raises(ShapeMismatchError):
        ds.append(bad)


def test_append_upgrades_32bit_indptr(root: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a = sparse.random(4, 5, density=0.5, format="csr", random_state=9)
    ds = sparse_dataset(put_sparse(root, "X", a, indptr_dtype=np.int16))
    assert root["X"]["indptr"].dtype == np.int16
    b = sparse.random(200, 5, density=1.0, format="csr", random_state=10)  # nnz > int16 max / ...
    b = sparse.vstack([b] * 40, format="csr")  # 8000 rows x 5 = 40000 > 32767 stored values
    ds.append(b)
    assert root["X"]["indptr"].dtype == np.int64
    np.testing.assert_array_equal(ds.to_memory().toarray(), sparse.vstack([a, b]).toarray())

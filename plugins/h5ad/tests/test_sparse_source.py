"""Tests of H5SparseSource.read_nnz_ranges: the memory-mapped fast path against plain h5py reads."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annstore_h5ad._sparse import H5SparseSource
from annstore_h5ad._store import H5Group, open_h5_store

DTYPES = ["int32", "int64", "float32", "float64", "bool"]


def _values(n: int, dtype: str, seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(n) < 0.5
    return (rng.standard_normal(n) * 1000).astype(dtype)


def _fill(dtype: str) -> Any:
    return True if dtype == "bool" else np.dtype(dtype).type(-7)


def _write_array(
    g: h5py.Group, name: str, values: np.ndarray[Any, Any], chunk: int | None,
    written: list[bool] | None = None, **kw: Any,
) -> None:
    """Write ``values``; with ``written``, only the chunks marked True are written (others unallocated)."""
    if chunk is None:
        g.create_dataset(name, data=values, **kw)
        return
    ds = g.create_dataset(
        name, shape=values.shape, dtype=values.dtype, chunks=(chunk,), maxshape=(None,),
        fillvalue=_fill(values.dtype.name), **kw,
    )
    for k in range(-(-len(values) // chunk)):
        if written is None or written[k]:
            ds[k * chunk : (k + 1) * chunk] = values[k * chunk : (k + 1) * chunk]


def _write_csr(
    path: Path, n: int, *, data_dtype: str = "float32", indices_dtype: str = "int32",
    chunk: int | None = 16, data_written: list[bool] | None = None,
    indices_written: list[bool] | None = None, seed: int = 0, userblock: int = 0, **kw: Any,
) -> None:
    """A 'csr_matrix' group X with ``n`` stored values (rows of the matrix do not matter here)."""
    with h5py.File(path, "w", userblock_size=userblock) if userblock else h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array([1, max(n, 1)], dtype=np.int64)
        g.create_dataset("indptr", data=np.array([0, n], dtype=np.int64))
        _write_array(g, "data", _values(n, data_dtype, seed), chunk, data_written, **kw)
        _write_array(g, "indices", _values(n, indices_dtype, seed + 1), chunk, indices_written, **kw)


def _expected(path: Path, starts: list[int], stops: list[int]) -> tuple[np.ndarray[Any, Any], ...]:
    """Plain h5py: the concatenation of ``ds[start:stop]`` over the ranges, in order."""
    with h5py.File(path, "r") as f:
        out = []
        for name in ("data", "indices"):
            ds = f["X"][name]
            parts = [ds[s:e] for s, e in zip(starts, stops, strict=True)]
            out.append(np.concatenate(parts) if parts else np.empty(0, ds.dtype))
        return tuple(out)


def _source(path: Path, mode: str = "r", **storage_options: Any) -> tuple[H5Group, H5SparseSource]:
    root = open_h5_store(path, mode, **storage_options)
    return root, H5SparseSource(root["X"])


def _check(src: H5SparseSource, path: Path, starts: list[int], stops: list[int]) -> None:
    data, indices = src.read_nnz_ranges(np.array(starts, dtype=np.int64), np.array(stops, dtype=np.int64))
    exp_data, exp_indices = _expected(path, starts, stops)
    # (h5py slicing returns native byte order; the source keeps the stored one)
    assert data.dtype.newbyteorder("=") == exp_data.dtype.newbyteorder("=")
    assert indices.dtype.newbyteorder("=") == exp_indices.dtype.newbyteorder("=")
    np.testing.assert_array_equal(data, exp_data)
    np.testing.assert_array_equal(indices, exp_indices)


@pytest.fixture
def tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


# ----------------------------------------------------------------------- property tests


@st.composite
def _cases(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(0, 400))
    chunk = draw(st.sampled_from([None, None, 1, 2, 3, 7, 16, 64, 1000]))
    n_chunks = -(-n // chunk) if chunk else 0
    partial = chunk is not None and draw(st.booleans())
    data_written = draw(st.lists(st.booleans(), min_size=n_chunks, max_size=n_chunks)) if partial else None
    indices_written = draw(st.lists(st.booleans(), min_size=n_chunks, max_size=n_chunks)) if partial else None
    ranges = draw(
        st.lists(
            st.tuples(st.integers(0, n), st.integers(0, n)).map(lambda t: (min(t), max(t))),
            max_size=12,
        )
    )
    if ranges and draw(st.booleans()):
        ranges = ranges + ranges[: draw(st.integers(1, len(ranges)))]  # duplicates
    if draw(st.booleans()):
        ranges = sorted(ranges)
    if n and draw(st.booleans()):
        ranges.append((0, n))  # a range crossing every chunk
    return {
        "n": n, "chunk": chunk, "data_written": data_written, "indices_written": indices_written,
        "data_dtype": draw(st.sampled_from(DTYPES)), "indices_dtype": draw(st.sampled_from(["int32", "int64"])),
        "ranges": ranges, "seed": draw(st.integers(0, 2**16)),
    }


def _touched(chunk: int, ranges: list[tuple[int, int]]) -> set[int]:
    return {k for s, e in ranges if e > s for k in range(s // chunk, (e - 1) // chunk + 1)}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases())
def test_read_nnz_ranges_matches_h5py(case: dict[str, Any], tmp_dir: Path) -> None:
    path = tmp_dir / f"p{case['seed']}_{case['n']}.h5"
    _write_csr(
        path, case["n"], data_dtype=case["data_dtype"], indices_dtype=case["indices_dtype"],
        chunk=case["chunk"], data_written=case["data_written"],
        indices_written=case["indices_written"], seed=case["seed"],
    )
    ranges = case["ranges"]
    root, src = _source(path)
    try:
        _check(src, path, [s for s, _ in ranges], [e for _, e in ranges])
        # Which path served the read: the map unless a touched chunk is unallocated.
        nonempty = any(e > s for s, e in ranges)
        fast = nonempty
        if case["data_written"] is not None:
            touched = _touched(case["chunk"], ranges)
            fast = nonempty and all(case["data_written"][k] and case["indices_written"][k] for k in touched)
        assert src._mapped_reads == int(fast)
        assert src._h5py_reads == int(nonempty and not fast)
    finally:
        root.close()
        path.unlink()


# ----------------------------------------------------------------------- which path is taken


@pytest.mark.parametrize("chunk", [None, 1, 5, 4096])
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_taken_for_unfiltered_read_only(tmp_dir: Path, chunk: int | None, dtype: str) -> None:
    path = tmp_dir / "x.h5"
    _write_csr(path, 1000, data_dtype=dtype, chunk=chunk)
    starts, stops = [900, 3, 500, 3, 0, 999], [1000, 40, 777, 40, 0, 999]
    root, src = _source(path)
    try:
        _check(src, path, starts, stops)
        _check(src, path, [10], [990])
        assert (src._mapped_reads, src._h5py_reads) == (2, 0)
        assert src._map is not None
    finally:
        root.close()


def test_userblock_offsets(tmp_dir: Path) -> None:
    path = tmp_dir / "ub.h5"
    _write_csr(path, 500, chunk=7, userblock=1024)
    root, src = _source(path)
    try:
        _check(src, path, [400, 0, 13], [500, 100, 14])
        assert src._mapped_reads == 1
    finally:
        root.close()


@pytest.mark.parametrize(
    ("what", "kw", "mode", "storage"),
    [
        ("gzip", {"compression": "gzip"}, "r", {}),
        ("shuffle", {"shuffle": True}, "r", {}),
        ("r+", {}, "r+", {}),
        ("core driver", {}, "r", {"driver": "core"}),
    ],
)
def test_fallback_to_h5py(tmp_dir: Path, what: str, kw: dict[str, Any], mode: str, storage: dict[str, Any]) -> None:
    path = tmp_dir / "f.h5"
    _write_csr(path, 800, chunk=16, **kw)
    root, src = _source(path, mode, **storage)
    try:
        _check(src, path, [700, 3, 200, 3], [800, 50, 420, 50])
        _check(src, path, [0], [800])
        assert (src._mapped_reads, src._h5py_reads) == (0, 2), what
        assert src._map is None
    finally:
        root.close()


def test_big_endian_falls_back(tmp_dir: Path) -> None:
    path = tmp_dir / "be.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": [1, 100]})
        g.create_dataset("indptr", data=np.array([0, 100], dtype=np.int64))
        g.create_dataset("data", data=np.arange(100, dtype=">f8"), chunks=(10,))
        g.create_dataset("indices", data=np.arange(100, dtype="<i4"), chunks=(10,))
    root, src = _source(path)
    try:
        _check(src, path, [50, 0], [95, 20])
        assert (src._mapped_reads, src._h5py_reads) == (0, 1)
    finally:
        root.close()


def test_unallocated_contiguous_reads_fill_value(tmp_dir: Path) -> None:
    path = tmp_dir / "u.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": [1, 50]})
        g.create_dataset("indptr", data=np.array([0, 50], dtype=np.int64))
        g.create_dataset("data", shape=(50,), dtype="f4", fillvalue=2.5)  # never written
        g.create_dataset("indices", data=np.arange(50, dtype="i4"))
    root, src = _source(path)
    try:
        _check(src, path, [10, 0], [20, 5])
        data, _ = src.read_nnz_ranges(np.array([0]), np.array([3]))
        np.testing.assert_array_equal(data, np.full(3, 2.5, dtype="f4"))
        assert src._mapped_reads == 0
    finally:
        root.close()


# ----------------------------------------------------------------------- lifetime


def test_map_closed_with_file_and_source(tmp_dir: Path) -> None:
    path = tmp_dir / "l.h5"
    _write_csr(path, 300, chunk=8)
    root, src = _source(path)
    _check(src, path, [0, 100], [10, 200])
    fmap = src._map
    assert fmap is not None and fmap.bytes is not None
    root.close()
    with pytest.raises(Exception):  # noqa: B017 - h5py's error for a closed file
        src.read_nnz_ranges(np.array([0, 100]), np.array([10, 200]))
    assert src._map is None and fmap.bytes is None and fmap._mm is None

    root, src = _source(path)
    _check(src, path, [0, 100], [10, 200])
    fmap = src._map
    assert fmap is not None
    del src
    gc.collect()
    assert fmap._mm is None  # finalizer closed the map with the source
    root.close()


def test_reopened_file_rebuilds_map(tmp_dir: Path) -> None:
    path = tmp_dir / "r.h5"
    _write_csr(path, 300, chunk=8, seed=1)
    root, src = _source(path)
    _check(src, path, [0, 100], [10, 200])
    root.close()
    _write_csr(path, 300, chunk=32, seed=2)  # a different file at the same path
    root, src = _source(path)
    try:
        _check(src, path, [0, 100], [10, 200])
        assert src._mapped_reads == 1
    finally:
        root.close()


# ----------------------------------------------------------------------- truncated files

_TRUNCATED = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import h5py
    from annstore.errors import InvalidFileError
    from annstore_h5ad._sparse import H5SparseSource
    from annstore_h5ad._store import open_h5_store

    path, keep, when = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    starts, stops = np.array([0, 5000, 20000]), np.array([100, 9000, 30000])
    if when == "before":
        os.truncate(path, keep)
        try:
            root = open_h5_store(path, "r")
            src = H5SparseSource(root["X"])
            src.read_nnz_ranges(starts, stops)
        except (InvalidFileError, OSError) as e:
            print("error", type(e).__name__)
        else:
            print("read", src._mapped_reads)
    else:
        root = open_h5_store(path, "r")
        src = H5SparseSource(root["X"])
        first = src.read_nnz_ranges(starts, stops)
        assert src._mapped_reads == 1
        os.truncate(path, keep)
        try:
            again = src.read_nnz_ranges(starts, stops)
        except (InvalidFileError, OSError) as e:
            print("error", type(e).__name__, src._mapped_reads)
        else:
            same = all(np.array_equal(a, b) for a, b in zip(first, again))
            print("read", same, src._mapped_reads)
    """
)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("keep_fraction", [0.02, 0.5, 0.99])
def test_truncated_file_never_crashes(tmp_dir: Path, when: str, keep_fraction: float) -> None:
    path = tmp_dir / "t.h5"
    _write_csr(path, 40000, chunk=1000)
    keep = max(int(os.path.getsize(path) * keep_fraction), 2048)
    proc = subprocess.run(
        [sys.executable, "-c", _TRUNCATED, str(path), str(keep), when],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    out = proc.stdout.split()
    assert out[0] in ("error", "read"), proc.stdout
    if when == "after":
        # The map is never read past the file's current end: when the requested bytes were cut
        # off, the second read went through h5py; a mapped read saw only bytes still there.
        assert out[-1] == "1" or out == ["read", "True", "2"], proc.stdout
        if keep_fraction <= 0.5:
            assert out[-1] == "1", proc.stdout
    else:
        assert out == ["error", "InvalidFileError"] or out[0] == "read", proc.stdout

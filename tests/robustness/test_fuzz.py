"""Fuzzing: bit flips, truncations and attribute edits of valid h5ad/zarr files.

Every mutated file is read in a reader subprocess with a timeout (``_corrupt.ReaderPool``), so
a segfault or a hang fails the example instead of killing the suite. Only two outcomes are
allowed: a successful read, or a documented error (an ``AnnstoreError``, or an ``OSError``
from the storage library reporting unreadable bytes) that names the file. Bounded to about a
minute in total (``max_examples``; the deadline is off because each read is a subprocess
round trip, guarded by the pool's own timeout).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import annstore

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corrupt

EXAMPLES = 25
COUNT: dict[str, int] = {}
_COMMON: dict[str, Any] = dict(deadline=None, derandomize=True, database=None,
                               suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])
FUZZ = settings(max_examples=EXAMPLES, **_COMMON)
#: Attribute edits copy and rewrite the whole store: fewer examples keep the total near a minute.
FUZZ_ATTRS = settings(max_examples=12, **_COMMON)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="annstore-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pool() -> Iterator[_corrupt.ReaderPool]:
    p = _corrupt.ReaderPool(timeout=60)
    yield p
    p.close()


_BASES: dict[str, Path] = {}


def _base(kind: str, workdir: Path) -> Path:
    fmt = _corrupt.BASES[kind][0]
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")
    if kind not in _BASES:
        d = workdir / f"base-{kind}"
        d.mkdir()
        _BASES[kind] = _corrupt.make_base(kind, d)
    return _BASES[kind]


_WORKING: dict[str, Path] = {}


@contextmanager
def _one_file(kind: str, workdir: Path, file_pick: int) -> Iterator[tuple[Path, Path]]:
    """A working copy of the base store and one of its files, restored after the example."""
    if kind not in _WORKING:
        _WORKING[kind] = _fresh(kind, workdir, name="work")
    path = _WORKING[kind]
    files = _files(path)
    target = files[file_pick % len(files)]
    original = target.read_bytes()
    try:
        yield path, target
    finally:
        target.write_bytes(original)


def _fresh(kind: str, workdir: Path, name: str = "fuzz") -> Path:
    base = _base(kind, workdir)
    dst = workdir / f"{name}{base.suffix}"
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    return _corrupt.copy_store(base, dst)


#: A zarr store's root metadata is parsed by zarr-python when the store is opened; its damage
#: has its own deterministic cases in ``test_corruption.py::test_zarr_root_metadata_damage``,
#: so the fuzzer spends its budget on the elements.
_ROOT_META = {".zattrs", ".zgroup", ".zmetadata", "zarr.json"}


def _files(store: Path) -> list[Path]:
    if store.is_file():
        return [store]
    return sorted(
        p for p in store.rglob("*")
        if p.is_file() and not (p.parent == store and p.name in _ROOT_META)
    )


def _check(pool: _corrupt.ReaderPool, path: Path, kind: str, what: str) -> None:
    COUNT[kind] = COUNT.get(kind, 0) + 1
    out = pool.read(path, _corrupt.BASES[kind][0])
    assert out.status in ("ok", "error"), f"{what}: {out.describe()}"
    if out.status == "ok":
        return
    assert "MemoryError" not in out.exc_types[0], f"{what}: {out.describe()}"
    short = out.exc_types[0].rsplit(".", 1)[-1]
    assert out.is_annstore or short in _corrupt.DOCUMENTED_BUILTINS, f"{what}: {out.describe()}"
    assert path.name in out.text, f"{what}: error does not name the file: {out.text[:500]!r}"


def _flip(data: bytearray, flips: list[tuple[int, int]]) -> None:
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit


KINDS = list(_corrupt.BASES)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 16), file_pick=st.integers(0, 10**6))
def test_bit_flips(kind: str, seed: int, n: int, file_pick: int, workdir: Path,
                   pool: _corrupt.ReaderPool) -> None:
    with _one_file(kind, workdir, file_pick) as (path, target):
        data = bytearray(target.read_bytes())
        if not data:
            return
        rng = random.Random(seed)
        _flip(data, [(rng.randrange(len(data)), rng.randrange(8)) for _ in range(n)])
        target.write_bytes(bytes(data))
        _check(pool, path, kind, f"{n} bit flips in {target.relative_to(path.parent)} (seed {seed})")


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(frac=st.floats(0.0, 1.0), file_pick=st.integers(0, 10**6))
def test_truncation(kind: str, frac: float, file_pick: int, workdir: Path,
                    pool: _corrupt.ReaderPool) -> None:
    with _one_file(kind, workdir, file_pick) as (path, target):
        data = target.read_bytes()
        cut = int(len(data) * frac)
        target.write_bytes(data[:cut])
        _check(pool, path, kind,
               f"{target.relative_to(path.parent)} truncated to {cut} of {len(data)} bytes")


_JUNK = st.one_of(
    st.none(),
    st.integers(-(2**62), 2**62),
    st.sampled_from([10**15, -1, 0, 2**31]),
    st.text(max_size=12),
    st.sampled_from(["array", "csr_matrix", "csc_matrix", "dataframe", "categorical", "dict",
                     "string-array", "nullable-integer", "raw", "anndata", "0.1.0", "0.2.0",
                     "99.0.0", "_index"]),
    st.lists(st.integers(-5, 10**12), max_size=4),
    st.lists(st.text(max_size=6), max_size=4),
    st.booleans(),
    st.floats(allow_nan=True),
)
_KEYS = st.sampled_from(["encoding-type", "encoding-version", "shape", "_index", "column-order",
                         "ordered", "na-value", "h5sparse_format"])


@pytest.mark.parametrize("kind", KINDS)
@FUZZ_ATTRS
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), _KEYS, _JUNK), min_size=1, max_size=4))
def test_attribute_edits(kind: str, edits: list[tuple[int, str, Any]], workdir: Path,
                         pool: _corrupt.ReaderPool) -> None:
    import annstore.io

    path = _fresh(kind, workdir)
    fmt = _corrupt.BASES[kind][0]
    done = []
    with annstore.io.open_store(path, format=fmt, mode="r+") as root:
        nodes = [root, *(n for _, n in _corrupt.walk(root))]
        for pick, key, value in edits:
            node = nodes[pick % len(nodes)]
            try:
                if value is None:
                    if key in node.attrs:
                        del node.attrs[key]
                else:
                    node.attrs[key] = value
            except (TypeError, ValueError, OverflowError):
                continue  # the storage library cannot store this value: not a file we can make
            done.append((node.name, key, value))
    _check(pool, path, kind, f"attribute edits {done!r}")


def test_summary() -> None:
    total = sum(COUNT.values())
    print(f"\n[fuzz] mutated files read: {total} {COUNT}")
    assert total == 0 or total >= 12

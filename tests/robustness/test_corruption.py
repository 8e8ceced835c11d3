"""Corrupt h5ad and zarr (format 2 and 3) files raise annstore errors naming file and element.

Every element kind of a file written by ``annstore.testing.gen_adata`` is corrupted
programmatically (see ``_corrupt.py``: missing/wrong/unknown encoding attributes, future
versions, truncated arrays, inconsistent ``indptr``/``indices``/codes, shape attributes that
disagree with the data or are negative or enormous, arrays declaring 10**12 rows, invalid UTF-8,
a group where an array belongs and the reverse, HDF5 external/soft/dangling/cyclic links, zarr
stores with missing chunks or metadata). Each input is read in a reader subprocess with a
timeout and faulthandler on, so a segfault or a hang fails the case instead of the suite.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corrupt

KINDS = list(_corrupt.BASES)
#: Filled by the parametrised test, printed by the summary test.
TRIED: dict[str, int] = {}


def _skip_unless(kind: str) -> None:
    import annstore

    fmt = _corrupt.BASES[kind][0]
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_corruption_raises_a_documented_error(kind: str, tmp_path: Path) -> None:
    _skip_unless(kind)
    base = _corrupt.make_base(kind, tmp_path)
    cases, results = _corrupt.run_cases(kind, base, tmp_path, workers=2, timeout=90.0)
    TRIED[kind] = len(cases)
    failures = []
    statuses = collections.Counter()
    for case, out in results:
        statuses[out.status] += 1
        path = tmp_path / f"case{cases.index(case)}{_corrupt.SUFFIX[_corrupt.BASES[kind][0]]}"
        why = _corrupt.acceptable(out, path, case)
        if why is not None:
            failures.append(f"{case.id}: {why}")
    print(f"\n[corruption] {kind}: {len(cases)} corrupt inputs, outcomes {dict(statuses)}")
    # The suite must be able to fail: most corrupt inputs are errors, never all successes.
    assert statuses["error"] > 0.8 * len(cases)
    assert not failures, f"{len(failures)} of {len(cases)} corrupt inputs misbehaved:\n" + "\n".join(
        failures[:40]
    )


def test_corruption_cases_cover_every_element_kind(tmp_path: Path) -> None:
    """The generated corruptions target each element kind the brief lists, for each format."""
    _skip_unless("h5ad")
    base = _corrupt.make_base("h5ad", tmp_path)
    inv = _corrupt.inventory(base, "h5ad")
    encs = {e for _, e, *_ in inv}
    assert {"array", "csr_matrix", "csc_matrix", "dataframe", "categorical", "nullable-integer",
            "nullable-boolean", "nullable-string-array", "string-array", "dict", "numeric-scalar",
            "string", "raw"} <= encs
    cases = _corrupt.all_cases("h5ad", base)
    targets = {c.target.split("/")[1] for c in cases}
    assert {"X", "layers", "obs", "var", "uns", "raw", "obsm", "varm", "obsp", "varp"} <= targets
    kinds = {c.id.rsplit(":", 1)[1] for c in cases}
    for needed in ("no-encoding-type", "unknown-encoding", "future-version", "truncated",
                   "indptr-decreasing", "shape-attr-huge", "shape-attr-negative",
                   "huge-declared-shape", "invalid-utf8", "group-for-array", "array-for-group",
                   "external-link", "soft-link-via-external", "dangling-soft-link"):
        assert needed in kinds, needed


def test_zero_corruption_base_reads(tmp_path: Path) -> None:
    """Control: the uncorrupted base files read fine through the same reader subprocess."""
    pool = _corrupt.ReaderPool(timeout=90)
    try:
        for kind in KINDS:
            fmt = _corrupt.BASES[kind][0]
            import annstore

            if fmt not in annstore.list_formats():
                continue
            base = _corrupt.make_base(kind, tmp_path)
            out = pool.read(base, fmt)
            assert out.status == "ok", out.describe()
    finally:
        pool.close()


@pytest.mark.parametrize("kind", ["zarr2", "zarr3"])
@pytest.mark.parametrize("damage", ["garbage", "empty"])
def test_zarr_root_metadata_damage(kind: str, damage: str, tmp_path: Path) -> None:
    _skip_unless(kind)
    base = _corrupt.make_base(kind, tmp_path)
    meta = base / (".zattrs" if kind == "zarr2" else "zarr.json")
    meta.write_bytes(b"{not json\xff" if damage == "garbage" else b"")
    if kind == "zarr2":
        (base / ".zmetadata").unlink()
    pool = _corrupt.ReaderPool(timeout=90)
    try:
        out = pool.read(base, "zarr")
    finally:
        pool.close()
    case = _corrupt.Case("root-meta", kind, "/", lambda p: None)
    assert _corrupt.acceptable(out, base, case) is None, out.describe()


def test_summary() -> None:
    """Print how many corrupt inputs were tried (run with ``-s``)."""
    total = sum(TRIED.values())
    print(f"\n[corruption] total corrupt inputs tried: {total} {TRIED}")
    assert total == 0 or total > 300

"""Differential test: anndata-API snippets give the same results under annstore and anndata 0.13.4.

The corpus (``differential/snippets.py``) runs in-process with ``import annstore as ad``. When
``ANNSTORE_ANNDATA_PYTHON`` names an interpreter with anndata, the same corpus runs there in one
subprocess and every snippet's summary is compared field by field. Independently, each snippet is
compared against ``differential/golden.json``, recorded from anndata 0.13.4, so the comparison
runs even without anndata. ``ANNSTORE_REGEN_GOLDEN=1`` (with the oracle available) rewrites it.

A snippet marked ``expected_difference`` documents a deliberate difference; only the fields it
does not ``ignore`` are compared (and with ``error_type_only``, exceptions only by type: annstore's
exception must still be an instance of anndata's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "differential"
GOLDEN = HERE / "golden.json"
sys.path.insert(0, str(HERE))

import _harness  # noqa: E402
import annstore  # noqa: E402
import snippets  # noqa: E402, F401 - registers the corpus

NAMES = list(_harness.SNIPPETS)


def _oracle_python() -> str | None:
    return os.environ.get("ANNSTORE_ANNDATA_PYTHON") or None


@pytest.fixture(scope="session")
def annstore_results() -> dict[str, Any]:
    """Every snippet's summary under annstore (JSON round-tripped, like the anndata side)."""
    return json.loads(json.dumps(_harness.run_all(annstore), default=str))


@pytest.fixture(scope="session")
def anndata_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every snippet's summary under anndata, from one subprocess for the whole corpus."""
    py = _oracle_python()
    if py is None:
        pytest.skip("ANNSTORE_ANNDATA_PYTHON is not set (an interpreter with anndata installed)")
    out = tmp_path_factory.mktemp("differential") / "anndata.json"
    proc = subprocess.run(
        [py, str(HERE / "_harness.py"), "anndata", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=str(HERE),
    )
    assert proc.returncode == 0, f"anndata side of the corpus failed:\n{proc.stderr[-4000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    if os.environ.get("ANNSTORE_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return result


@pytest.fixture(scope="session")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def _check(name: str, ours: dict[str, Any], theirs: dict[str, Any], source: str) -> None:
    sn = _harness.SNIPPETS[name]
    diffs = _harness.compare(ours, theirs, sn)
    note = f" (expected difference: {sn.expected_difference})" if sn.expected_difference else ""
    assert not diffs, f"snippet {name!r} differs from {source}{note}:\n  " + "\n  ".join(diffs)


@pytest.mark.interop
@pytest.mark.parametrize("name", NAMES)
def test_same_as_anndata(name: str, annstore_results: dict, anndata_results: dict) -> None:
    _check(name, annstore_results[name], anndata_results[name], "live anndata")


@pytest.mark.parametrize("name", NAMES)
def test_same_as_golden(name: str, annstore_results: dict, golden: dict) -> None:
    if name not in golden:
        pytest.fail(
            f"snippet {name!r} has no golden record: rerun with ANNSTORE_REGEN_GOLDEN=1 and "
            "ANNSTORE_ANNDATA_PYTHON set"
        )
    _check(name, annstore_results[name], golden[name], "golden.json (anndata 0.13.4)")


@pytest.mark.interop
def test_golden_matches_live_anndata(golden: dict, anndata_results: dict) -> None:
    """The committed golden file is what anndata produces now (else: regenerate it)."""
    # compared like annstore is (ignored fields may hold environment-dependent text)
    stale = sorted(
        n for n in NAMES
        if n not in golden or _harness.compare(golden[n], anndata_results[n], _harness.SNIPPETS[n])
    )
    assert not stale, f"golden.json is stale for {stale[:10]}: rerun with ANNSTORE_REGEN_GOLDEN=1"


def test_corpus_size_and_notes() -> None:
    """The corpus is large, and every ignored field or loosened comparison carries a note."""
    assert len(NAMES) >= 150
    for sn in _harness.SNIPPETS.values():
        assert bool(sn.ignore or sn.error_type_only) == bool(sn.expected_difference), sn.name


def test_comparison_detects_differences() -> None:
    """The comparator itself fails on a changed value, exception type, message and warning."""
    sn = _harness.Snippet("x", lambda ad, rec: None)
    base = {"a": {"shape": [2, 3]}, "w": {"warnings": [{"category": "UserWarning", "mro": [], "message": "m"}]}}
    assert _harness.compare(base, base, sn) == []
    assert _harness.compare({**base, "a": {"shape": [2, 4]}}, base, sn)
    assert _harness.compare({**base, "w": {"warnings": []}}, base, sn)
    exc = _harness.exc_summary(KeyError("k"))
    assert _harness.compare({"e": _harness.exc_summary(ValueError("k"))}, {"e": exc}, sn)
    assert _harness.compare({"e": _harness.exc_summary(KeyError("other"))}, {"e": exc}, sn)
    loose = _harness.Snippet("y", lambda ad, rec: None, "reworded", (), True)
    assert _harness.compare({"e": _harness.exc_summary(KeyError("other"))}, {"e": exc}, loose) == []
    assert _harness.compare({"e": _harness.exc_summary(ValueError("k"))}, {"e": exc}, loose)

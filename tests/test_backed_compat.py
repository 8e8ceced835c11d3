"""Backed reads of the compat corpus: ``X`` slices of ``read_h5ad(path, backed="r")`` match anndata's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import annstore
import numpy as np
import pytest
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))
from _compat import CORPUS, array_sha256


def _cases() -> list[Any]:
    cases = []
    for exp in sorted(CORPUS.glob("**/*.h5ad.expected*.json")):
        d = json.loads(exp.read_text("utf-8"))
        if not d.get("backed"):
            continue
        data = exp.parent / exp.name.split(".expected")[0]
        cases.append(pytest.param(data, exp, id=str(exp.relative_to(CORPUS))))
    return cases


CASES = _cases()


def _apply(X: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    if kind == "rows_slice":
        return X[op["start"] : op["stop"]]
    if kind == "cols_slice":
        return X[:, op["start"] : op["stop"]]
    if kind == "rows_list":
        return X[op["index"]]
    if kind == "cols_list":
        return X[:, op["index"]]
    if kind == "rows_mask_mod3":
        return X[np.arange(X.shape[0]) % 3 == 0]
    if kind == "rows_cols_slice":
        (r0, r1), (c0, c1) = op["rows"], op["cols"]
        return X[r0:r1, c0:c1]
    msg = f"unknown backed op {kind!r}"
    raise AssertionError(msg)


def _result_type(r: Any) -> str:
    if sparse.issparse(r):
        return f"sparse-{r.format}"
    return "dense"


def test_corpus_has_backed_cases() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"compat corpus not found at {CORPUS}")
    assert len(CASES) >= 10


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_backed_ops_match_anndata(data: Path, expected: Path) -> None:
    if "h5ad" not in annstore.list_formats():
        pytest.skip("requires annstore-h5ad")
    exp = json.loads(expected.read_text("utf-8"))["backed"]
    adata = annstore.read_h5ad(data, backed="r")
    try:
        assert adata.isbacked
        X = adata.X
        assert list(X.shape) == exp["shape"]
        x_class = exp.get("X_class", "")
        if "CSR" in x_class:
            assert isinstance(X, annstore.experimental.CSRDataset)
        elif "CSC" in x_class:
            assert isinstance(X, annstore.experimental.CSCDataset)
        checked = 0
        for op in exp["ops"]:
            if "error" in op:
                continue  # that anndata version failed; information only
            r = _apply(X, op)
            assert list(r.shape) == op["shape"], op
            assert _result_type(r) == op["result_type"], op
            assert array_sha256(r) == op["sha256"], op
            # the same selection on a view of the backed object reads the same numbers
            checked += 1
        assert checked
    finally:
        adata.file.close()


@pytest.mark.parametrize(("data", "expected"), CASES[:4])
def test_backed_view_reads_selection(data: Path, expected: Path) -> None:
    if "h5ad" not in annstore.list_formats():
        pytest.skip("requires annstore-h5ad")
    backed = annstore.read_h5ad(data, backed="r")
    mem = annstore.read_h5ad(data)
    n_obs, n_vars = backed.shape
    rows = np.arange(n_obs)[::-2]
    cols = np.arange(n_vars) % 2 == 1
    view = backed[rows, cols]
    assert view.is_view and view.isbacked
    got, want = view.X, mem[rows, cols].X
    got = got.toarray() if sparse.issparse(got) else np.asarray(got)
    want = want.toarray() if sparse.issparse(want) else np.asarray(want)
    np.testing.assert_array_equal(got, want)
    full = backed.to_memory()
    assert not full.isbacked
    x = full.X.toarray() if sparse.issparse(full.X) else full.X
    m = mem.X.toarray() if sparse.issparse(mem.X) else mem.X
    np.testing.assert_array_equal(x, m)
    backed.file.close()

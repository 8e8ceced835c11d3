"""Merge strategies used by concat (``merge=`` / ``uns_merge=``); expectations from anndata 0.13.4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from annstore._merge import (
    MISSING,
    UnknownMergeStrategyError,
    equal,
    first,
    intersect_keys,
    merge_first,
    merge_only,
    merge_same,
    merge_unique,
    only,
    resolve_merge_strategy,
    union_keys,
    unique_value,
)
from annstore.errors import AnnstoreError
from scipy import sparse


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(np.array([1, 2]), np.array([1.0, 2.0]), False, id="dtype-differs"),
        pytest.param(np.array([1, np.nan]), np.array([1.0, np.nan]), True, id="nan-equal"),
        pytest.param(np.array([1, 2]), np.array([1, 3]), False, id="values-differ"),
        pytest.param(np.array([[1, 2]]), sparse.csr_matrix([[1, 2]]), True, id="dense-vs-sparse"),
        pytest.param(sparse.csr_matrix([[1, 2]]), np.array([[1, 2]]), False, id="sparse-vs-dense"),
        pytest.param(sparse.csr_matrix([[1, 2]]), sparse.csr_matrix([[1.0, 2]]), True, id="sparse"),
        pytest.param(sparse.csr_matrix([[1, 2]]), sparse.csr_matrix([[1, 3]]), False, id="sparse-ne"),
        pytest.param(1, 1.0, True, id="int-float-scalar"),
        pytest.param("a", "a", True, id="str"),
        pytest.param([1, 2], (1, 2), True, id="list-tuple"),
        pytest.param([1, 2], [1, 2, 3], False, id="list-lengths"),
        pytest.param(None, None, True, id="none"),
        pytest.param(float("nan"), float("nan"), False, id="nan-scalar"),
        pytest.param(pd.Series([1, 2]), pd.Series([1.0, 2.0]), False, id="series-dtype"),
        pytest.param(pd.Series([1, 2]), pd.Series([1, 2]), True, id="series"),
        pytest.param(np.array(["a", "b"]), np.array(["a", "b"], dtype=object), True, id="str-arrays"),
    ],
)
def test_equal(a, b, expected):
    assert equal(a, b) is expected


def test_key_orders():
    # union: first appearance; intersection: the order of the *last* mapping (as anndata)
    ds = [{"a": 1, "b": 2, "c": 3}, {"c": 1, "b": 2, "d": 0}]
    assert union_keys(ds) == ["a", "b", "c", "d"]
    assert intersect_keys(ds) == ["c", "b"]
    assert intersect_keys([]) == []


def test_value_choices():
    assert unique_value([1, 1, 1]) == 1
    assert unique_value([1, 2]) is MISSING
    assert first([MISSING, 2, 3]) == 2
    assert first([MISSING]) is MISSING
    assert only([5]) == 5
    assert only([5, 5]) is MISSING
    assert not MISSING
    assert repr(MISSING) == "MISSING"


UNS = [
    {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": np.array([1.0, np.nan]), "s": "x", "only0": 5,
     "arr": np.arange(3)},
    {"a": 1, "b": {"c": 3, "d": [1, 2], "z": 1}, "e": np.array([1.0, np.nan]), "s": "y",
     "arr": np.arange(3.0)},
    {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": np.array([1.0, np.nan]), "s": "x", "arr": np.arange(3),
     "b2": {}},
]


def _plain(d):
    return {k: (_plain(v) if isinstance(v, dict) else v) for k, v in d.items()}


def test_merge_same():
    out = merge_same(UNS)
    assert list(out) == ["a", "b", "e"]
    assert out["a"] == 1
    assert out["b"] == {"d": [1, 2]}
    np.testing.assert_array_equal(out["e"], [1.0, np.nan])


def test_merge_unique():
    out = merge_unique(UNS)
    assert sorted(out) == ["a", "b", "e", "only0"]
    assert out["b"] == {"d": [1, 2], "z": 1}
    assert out["only0"] == 5


def test_merge_first():
    out = merge_first(UNS)
    assert sorted(out) == ["a", "arr", "b", "e", "only0", "s"]  # empty nested "b2" dropped
    assert out["b"] == {"c": 2, "d": [1, 2], "z": 1}
    assert out["s"] == "x"
    assert out["arr"].dtype == np.int64


def test_merge_only():
    assert _plain(merge_only(UNS)) == {"b": {"z": 1}, "only0": 5}


def test_mixed_mapping_and_value():
    # values that are not all mappings are decided on the values themselves
    assert merge_first([{"k": {"x": 1}}, {"k": 1}]) == {"k": {"x": 1}}
    assert merge_unique([{"k": {"x": 1}}, {"k": 1}]) == {}


def test_merge_dataframe_columns():
    # DataFrames are merged column by column (var merging)
    a = pd.DataFrame({"x": [1, 2], "y": [1.0, 2.0]})
    b = pd.DataFrame({"y": [1.0, 2.0], "x": [1, 3]})
    assert list(merge_same([a, b])) == ["y"]
    assert list(merge_first([a, b])) == ["x", "y"]


def test_resolve():
    assert resolve_merge_strategy(None)([{"a": 1}]) == {}
    assert resolve_merge_strategy("same") is merge_same

    def fn(ds):
        return {"n": len(ds)}

    assert resolve_merge_strategy(fn) is fn
    with pytest.raises(UnknownMergeStrategyError, match="bogus") as e:
        resolve_merge_strategy("bogus")  # type: ignore[arg-type]
    assert isinstance(e.value, AnnstoreError)
    assert isinstance(e.value, ValueError)

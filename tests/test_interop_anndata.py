"""Files written by annstore read correctly in anndata 0.13.4, and the reverse.

Runs when ``ANNSTORE_ANNDATA_PYTHON`` names an interpreter with anndata installed (e.g.
``/work/oracle/bin/python``). Each element kind is written by one library, read by the other in a
subprocess, and the value compared through an ``.npz``/JSON exchange built by the same
summary code the compat corpus uses (:mod:`_compat`, which runs under both interpreters).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))
import _compat  # noqa: E402

pytestmark = pytest.mark.interop

TESTS_DIR = str(Path(__file__).parent)


def _elements() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    n = 12
    return {
        "dense_f4": rng.random((n, 3), dtype=np.float32),
        "dense_i8": np.arange(n * 2, dtype=np.int64).reshape(n, 2),
        "bool_arr": np.arange(n) % 2 == 0,
        "str_arr": np.array([f"s{i}é" for i in range(n)], dtype=object),
        "str_2d": np.array([["a", "b"], ["c", "d"]], dtype=object),
        "csr": sparse.random(n, 5, density=0.3, format="csr", dtype=np.float64, random_state=1),
        "csc": sparse.random(n, 5, density=0.3, format="csc", dtype=np.float32, random_state=2),
        "categorical": pd.Categorical(["a", "b", None, "a"] * 3, categories=["b", "a"], ordered=True),
        "nullable_int": pd.array([1, None, 3] * 4, dtype="Int64"),
        "nullable_bool": pd.array([True, None, False] * 4, dtype="boolean"),
        "nullable_str": pd.array(["x", None, "z"] * 4, dtype="string"),
        "dataframe": pd.DataFrame(
            {"c": pd.Categorical(list("abca") * 3), "f": rng.random(n), "i": np.arange(n),
             "s": [f"v{i}" for i in range(n)]},
            index=pd.Index([f"r{i}" for i in range(n)], name="cell"),
        ),
        "empty_df": pd.DataFrame(index=[f"r{i}" for i in range(3)]),
        "int_scalar": 7,
        "float_scalar": 2.5,
        "bool_scalar": True,
        "str_scalar": "hello",
        "none": None,
        "nested": {"a": {"b": np.arange(3), "c": "text"}, "empty": {}},
        "recarray": np.array([("x", 1.5), ("yy", 2.0)], dtype=[("name", "U2"), ("v", "f8")]),
        "empty_arr": np.zeros(0),
    }


ELEMENTS = _elements()


def _anndata_python() -> str:
    import os

    py = os.environ.get("ANNSTORE_ANNDATA_PYTHON", "")
    if not py:
        pytest.skip("ANNSTORE_ANNDATA_PYTHON is not set (an interpreter with anndata installed)")
    return py


def _child(py: str, code: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [py, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"anndata side failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


_READ_ELEMS = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[2])
    import h5py, anndata as ad, _compat
    out = {}
    with h5py.File(sys.argv[1], "r") as f:
        for k in f.keys():
            out[k] = _compat.summarize_value(ad.io.read_elem(f[k]))
    print(json.dumps(out))
"""

_WRITE_ELEMS = """
    import sys, pickle, warnings
    warnings.simplefilter("ignore")
    import h5py, anndata as ad
    with open(sys.argv[2], "rb") as fh:
        values = pickle.load(fh)
    with h5py.File(sys.argv[1], "w") as f:
        for k, v in values.items():
            ad.io.write_elem(f, k, v)
    print("{}")
"""


def _summary(v: Any) -> Any:
    return json.loads(json.dumps(_compat.summarize_value(v)))


def _diff(expected: Any, got: Any) -> list[str]:
    return list(_compat.diff_summaries(expected, got))


@pytest.mark.parametrize("key", list(ELEMENTS))
def test_annstore_writes_anndata_reads(key: str, tmp_path: Path) -> None:
    py = _anndata_python()
    import annstore.io
    import h5py

    p = tmp_path / "elems.h5"
    with h5py.File(p, "w") as f:
        annstore.io.write_elem(f, key, ELEMENTS[key])
    got = _child(py, _READ_ELEMS, str(p), TESTS_DIR)[key]
    assert _diff(_summary(ELEMENTS[key]), got) == []


@pytest.mark.parametrize("key", list(ELEMENTS))
def test_anndata_writes_annstore_reads(key: str, tmp_path: Path) -> None:
    py = _anndata_python()
    import pickle

    import annstore.io
    import h5py

    vals = tmp_path / "vals.pkl"  # our own test values, written by us: trusted
    vals.write_bytes(pickle.dumps({key: ELEMENTS[key]}))
    p = tmp_path / "elems.h5"
    _child(py, _WRITE_ELEMS, str(p), str(vals))
    with h5py.File(p, "r") as f:
        value = annstore.io.read_elem(f[key])
    assert _diff(_summary(ELEMENTS[key]), _summary(value)) == []


_ADATA_READ = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[2])
    import anndata as ad, _compat
    print(json.dumps(_compat.summarize_anndata(ad.read_h5ad(sys.argv[1]))))
"""

_ADATA_ROUNDTRIP = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[3])
    import anndata as ad, _compat
    a = ad.read_h5ad(sys.argv[1])
    a.write_h5ad(sys.argv[2])
    print(json.dumps(_compat.summarize_anndata(a)))
"""


def _rich_adata() -> Any:
    import annstore

    e = ELEMENTS
    n = 12
    a = annstore.AnnData(
        e["dense_f4"][:, :3].repeat(2, axis=1)[:, :5],
        obs=e["dataframe"],
        var=pd.DataFrame({"g": list("abcde")}, index=[f"g{i}" for i in range(5)]),
        uns={"nested": e["nested"], "s": "x", "i": 3, "none": None, "arr": e["str_arr"]},
        obsm={"pca": np.ones((n, 2))},
        layers={"counts": e["csr"]},
    )
    a.obsp["d"] = sparse.identity(n, format="csr")
    a.raw = a
    return a


@pytest.mark.parametrize("compression", [None, "gzip", "lzf"])
def test_whole_file_both_ways(compression: str | None, tmp_path: Path) -> None:
    py = _anndata_python()
    import annstore.io

    a = _rich_adata()
    ours = tmp_path / "ours.h5ad"
    annstore.io.write_h5ad(ours, a, compression=compression)
    theirs = tmp_path / "theirs.h5ad"
    read_by_anndata = _child(py, _ADATA_ROUNDTRIP, str(ours), str(theirs), TESTS_DIR)
    ours_read_by_us = json.loads(json.dumps(_compat.summarize_anndata(annstore.io.read_h5ad(ours))))
    theirs_read_by_us = json.loads(json.dumps(_compat.summarize_anndata(annstore.io.read_h5ad(theirs))))
    assert _diff(read_by_anndata, ours_read_by_us) == []
    assert _diff(read_by_anndata, theirs_read_by_us) == []
    if compression is None:  # anndata rewrote without compression: same layout expected
        assert _compat.storage_h5(ours)["nodes"] == _compat.storage_h5(theirs)["nodes"]
    else:
        assert _compat.storage_h5(ours)["filters"] == [compression]

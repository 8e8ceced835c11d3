"""Core's generic backed sparse source over the memory store (no storage plugin needed)."""

from __future__ import annotations

from typing import Any

import annstore
import numpy as np
import pytest
from annstore.backed import sparse_dataset
from annstore.backed._source import GenericSparseSource, get_sparse_source
from annstore.backed._sparse import _merge_and_read
from annstore.errors import InvalidFileError
from scipy import sparse


@pytest.fixture
def root(request: pytest.FixtureRequest) -> Any:
    with annstore.io.open_store(f"memory://core-backed-{request.node.name}", format="memory", mode="w") as g:
        yield g


def _put(root: Any, m: Any) -> Any:
    g = root.create_group("X")
    g.attrs.update({"encoding-type": f"{m.format}_matrix", "encoding-version": "0.1.0", "shape": list(m.shape)})
    for k in ("data", "indices", "indptr"):
        g.create_array(k, data=getattr(m, k))
    return g


def test_memory_uses_generic_source(root: Any) -> None:
    g = _put(root, sparse.random(5, 4, density=0.5, format="csr", random_state=0))
    assert isinstance(get_sparse_source(g), GenericSparseSource)
    assert sparse_dataset(g).backend == "memory"


def test_merge_and_read_skips_gaps(root: Any) -> None:
    m = sparse.random(1, 20000, density=1.0, format="csr", random_state=1)
    src = GenericSparseSource(_put(root, m))
    starts = np.array([0, 10, 15000, 19990])
    stops = np.array([5, 12, 15003, 20000])
    data, indices = _merge_and_read(src, starts, stops)
    want = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
    np.testing.assert_array_equal(indices, m.indices[want])
    np.testing.assert_array_equal(data, m.data[want])


def test_malformed_groups(root: Any) -> None:
    g = _put(root, sparse.random(5, 4, density=0.5, format="csr", random_state=2))
    del g["indices"]
    with pytest.raises(InvalidFileError, match=r"\['indices'\] are missing"):
        GenericSparseSource(g)
    h = root.create_group("Y")
    h.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": [5, 4]})
    h.create_array("data", data=np.zeros(3))
    h.create_array("indices", data=np.zeros(3, dtype=np.int32))
    h.create_array("indptr", data=np.zeros(4, dtype=np.int64))  # should be 6 long
    with pytest.raises(InvalidFileError, match="indptr of length 6"):
        GenericSparseSource(h)

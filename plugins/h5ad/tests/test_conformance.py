"""annstore's conformance suite on the h5ad format, plus HDF5-specific layout checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from annstore.testing import FormatTests


class TestH5adFormat(FormatTests):
    format_name = "h5ad"

    def test_strings_are_variable_length_utf8(self, root: Any) -> None:
        import annstore.io

        annstore.io.write_elem(root, "s", np.array(["a", "é"]))
        ds = root.h5["s"]
        info = h5py.check_string_dtype(ds.dtype)
        assert info is not None and info.encoding == "utf-8" and info.length is None
        assert ds.attrs["encoding-type"] == "string-array"

    def test_null_is_h5py_empty(self, root: Any) -> None:
        import annstore.io

        annstore.io.write_elem(root, "n", None)
        ds = root.h5["n"]
        assert ds.shape is None and ds.dtype == np.float32
        assert ds.attrs["encoding-type"] == "null"
        assert annstore.io.read_elem(root["n"]) is None

    def test_string_scalar_layout(self, root: Any) -> None:
        import annstore.io

        annstore.io.write_elem(root, "s", "hello")
        ds = root.h5["s"]
        assert ds.shape == () and h5py.check_string_dtype(ds.dtype).length is None
        assert annstore.io.read_elem(root["s"]) == "hello"

    def test_read_elem_accepts_h5py_objects(self, tmp_path: Path) -> None:
        import annstore.io

        p = tmp_path / "x.h5"
        with h5py.File(p, "w") as f:
            annstore.io.write_elem(f, "arr", np.arange(4))
            annstore.io.write_elem(f["/"], "d", {"a": 1})
            np.testing.assert_array_equal(annstore.io.read_elem(f["arr"]), np.arange(4))
            assert annstore.io.read_elem(f["d"]) == {"a": 1}

    @pytest.mark.parametrize("compression", ["gzip", "lzf"])
    def test_compression_reaches_datasets(self, compression: str, tmp_path: Path) -> None:
        import annstore
        import annstore.io
        from scipy import sparse

        a = annstore.AnnData(sparse.random(40, 10, density=0.3, format="csr", dtype="f4"))
        p = tmp_path / "c.h5ad"
        annstore.io.write_h5ad(p, a, compression=compression)
        with h5py.File(p, "r") as f:
            assert f["X/data"].compression == compression
            assert f["X/indptr"].compression == compression

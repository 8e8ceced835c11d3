"""annstore's conformance suite on the tiledb format, plus TileDB-specific layout checks."""

from __future__ import annotations

import pytest

tiledb = pytest.importorskip("tiledb")

import annstore  # noqa: E402

if "tiledb" not in annstore.list_formats():
    pytest.skip("requires annstore-tiledb (pip install -e plugins/tiledb)", allow_module_level=True)

from annstore.testing import FormatTests  # noqa: E402


class TestTileDBFormat(FormatTests):
    format_name = "tiledb"

    def test_strings_are_tiledb_var_length_utf8(self, root: object, tmp_path: object) -> None:
        import numpy as np
        from annstore.io import write_elem

        write_elem(root, "s", np.array(["a", "é"]))
        node = root["s"]  # type: ignore[index]
        attr = node.native.schema.attr(0)
        assert attr.isvar and attr.dtype.kind == "U"
        assert node.attrs["encoding-type"] == "string-array"

    def test_null_is_zero_d_bool(self, root: object) -> None:
        from annstore.io import read_elem, write_elem

        write_elem(root, "n", None)
        node = root["n"]  # type: ignore[index]
        assert node.shape == () and node.dtype == bool
        assert node.attrs["encoding-type"] == "null"
        assert read_elem(node) is None

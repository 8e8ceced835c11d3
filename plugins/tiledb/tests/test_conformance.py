"""annstore's conformance suite on the tiledb format, plus TileDB-specific layout checks."""

from __future__ import annotations

import pytest

pytest.importorskip("tiledb")

from annstore.testing import FormatTests  # noqa: E402


class TestTileDBFormat(FormatTests):
    format_name = "tiledb"

"""The conformance suite on the built-in ``memory`` format (no storage plugin needed)."""

from __future__ import annotations

from annstore.testing import FormatTests


class TestMemoryFormat(FormatTests):
    format_name = "memory"

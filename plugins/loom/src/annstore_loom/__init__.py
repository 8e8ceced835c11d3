"""annstore-loom: read and write ``.loom`` files (loom spec 3.0.0) with h5py, no loompy needed.

Reached through ``annstore.io.read_loom``, ``AnnData.write_loom`` and ``annstore.read(path)``;
the functions here are the same reader and writer, callable directly.
"""

from __future__ import annotations

from ._read import LoomContents, read_loom_file
from ._write import LOOM_SPEC_VERSION, LoomWriteError, write_loom_file

__all__ = ["LOOM_SPEC_VERSION", "LoomContents", "LoomWriteError", "read_loom_file", "write_loom_file"]

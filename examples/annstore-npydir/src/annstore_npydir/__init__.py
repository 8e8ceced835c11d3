"""Example annstore storage plugin: a directory of .npy files and JSON attributes."""

from __future__ import annotations

from ._store import NpyDirArray, NpyDirGroup, open_npydir

__all__ = ["NpyDirArray", "NpyDirGroup", "open_npydir"]

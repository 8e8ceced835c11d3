"""annstore-text: csv, txt/tab/data, xlsx, Matrix Market and umi_tools readers, and write_csvs.

The readers are reached through ``annstore.io.read_csv`` / ``read_text`` / ``read_excel`` /
``read_mtx`` / ``read_umi_tools`` and ``annstore.read(path)``; ``AnnData.write_csvs`` writes.
The functions here are the same readers, callable directly.
"""

from __future__ import annotations

from ._read import (
    read_csv_file,
    read_excel_file,
    read_mtx_file,
    read_text_file,
    read_umi_tools_file,
    text_parts,
)
from ._write import axis_arrays_to_df, write_csvs_dir

__all__ = [
    "axis_arrays_to_df",
    "read_csv_file",
    "read_excel_file",
    "read_mtx_file",
    "read_text_file",
    "read_umi_tools_file",
    "text_parts",
    "write_csvs_dir",
]

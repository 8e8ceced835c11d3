"""Decompression bombs in zarr chunks: a stored chunk must be no larger than any encoder makes it.

zarr reads a chunk's stored bytes whole and decodes them whole (gzip, zstd, blosc): a chunk
of 8 KiB declared size whose stored gzip stream expands to 5 GiB allocates 5 GiB before the
size mismatch is noticed. A well-formed chunk (or shard) is stored in at most its declared
size plus the encoder's small overhead, so a larger stored chunk is refused before zarr reads
it. The chunk's declared size itself is checked against the allocation budget by core.
Local directory stores are checked (file sizes, no chunk is read); other stores, and arrays of
variable-length strings (whose chunks have no size bound), are left to zarr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from annstore.errors import InvalidFileError

__all__ = ["check_chunk_sizes"]

_META = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})


def _bound(n: int) -> int:
    return n + n // 16 + 1024


def check_chunk_sizes(native: Any, store: Any, *, filename: Any, path: str) -> None:
    """Refuse an array of a local store with a chunk file larger than its declared chunk (or
    shard, with its index) can be stored as."""
    root = getattr(store, "root", None)
    if root is None:
        return
    d = Path(root) / path.strip("/")
    if not d.is_dir():
        return
    if np.dtype(native.dtype).kind in "OT":
        # variable-length strings or objects: a well-formed chunk has no size bound (one long
        # string is as large as it is), so there is nothing to compare its stored size with
        return
    shape = native.shards or native.chunks
    itemsize = max(int(np.dtype(native.dtype).itemsize), 1)
    limit = _bound(int(np.prod(shape, dtype=np.int64)) * itemsize)
    if native.shards is not None:
        inner = int(np.prod([s // c for s, c in zip(native.shards, native.chunks, strict=False)]))
        limit += 16 * inner + 4
    for dirpath, _dirs, files in os.walk(d):
        for f in files:
            if f in _META:
                continue
            size = os.stat(os.path.join(dirpath, f)).st_size
            if size > limit:
                rel = os.path.relpath(os.path.join(dirpath, f), d)
                msg = (
                    f"Malformed element {path!r} in zarr file {str(filename)!r}: its stored chunk "
                    f"{rel!r} is {size} bytes, more than a chunk of {tuple(shape)} "
                    f"{native.dtype} ({limit} bytes at most) is stored as; it would decompress "
                    "beyond its declared size (a decompression bomb?)."
                )
                raise InvalidFileError(msg, filename=filename, path=path)

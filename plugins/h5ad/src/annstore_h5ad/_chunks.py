"""Decompression bombs in HDF5 chunks: a stored chunk must be no larger than any encoder makes it.

HDF5 decompresses a filtered chunk whole, and its deflate filter grows the output buffer until
the stream ends, whatever the chunk's declared size: an 8 KiB chunk whose stored stream
expands to 5 GiB allocates 5 GiB (then keeps the first 8 KiB). A well-formed chunk's stored
size is bounded by its declared size plus the encoder's small overhead (deflate stores
incompressible input in raw blocks; shuffle and fletcher32 add at most 4 bytes), so a chunk
stored larger than that bound is refused before HDF5 reads it. With each chunk's stored size
bounded, what one chunk can expand to stays within a fixed multiple of the declared chunk,
whose size core checks against the allocation budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from annstore.errors import InvalidFileError

__all__ = ["check_chunk_sizes", "stored_bound"]

#: Datasets already checked, by (file and object number, stored size).
_CHECKED: set[tuple[Any, ...]] = set()


def stored_bound(n: int) -> int:
    """The largest stored size an encoder produces for a chunk of ``n`` bytes: raw deflate
    blocks cost 5 bytes per 64 KiB, lzf and blosc a few percent at most; generous margin."""
    return n + n // 16 + 1024


def check_chunk_sizes(ds: Any, *, filename: Any, path: str) -> None:
    """Refuse a filtered dataset with a chunk stored larger than :func:`stored_bound` of its
    declared chunk size (checked once per dataset; metadata only, no chunk is decompressed)."""
    if ds.chunks is None or not ds.shape:
        return
    dcpl = ds.id.get_create_plist()
    if not dcpl.get_nfilters():
        return
    key = (hash(ds.id), ds.id.get_storage_size())  # h5py hashes file and object number
    if key in _CHECKED:
        return
    limit = stored_bound(int(np.prod(ds.chunks)) * max(ds.dtype.itemsize, 1))
    worst: list[Any] = []

    def visit(info: Any) -> None:
        if info.size > limit and not worst:
            worst.append(info)

    try:
        if hasattr(ds.id, "chunk_iter"):
            ds.id.chunk_iter(visit)
        else:  # pragma: no cover - HDF5 < 1.12.3
            for i in range(ds.id.get_num_chunks()):
                visit(ds.id.get_chunk_info(i))
                if worst:
                    break
    except (RuntimeError, ValueError, OSError):
        return  # damaged chunk index: HDF5's own error on read names it
    if worst:
        info = worst[0]
        msg = (
            f"Malformed element {path!r} in h5ad file {str(filename)!r}: the chunk at "
            f"{tuple(int(o) for o in info.chunk_offset)} is stored as {info.size} bytes, more than "
            f"a chunk of {ds.chunks} {ds.dtype} ({limit} bytes at most) compresses to; it "
            "would decompress beyond its declared size (a decompression bomb?)."
        )
        raise InvalidFileError(msg, filename=filename, path=path)
    if len(_CHECKED) > 4096:
        _CHECKED.clear()
    _CHECKED.add(key)


"""``.h5ad`` files at URLs (``s3://``, ``gs://``, ``https://``, ...), read through fsspec.

HDF5 reads many small, scattered pieces (superblock, object headers, B-tree nodes) before it
reads data. Read through an fsspec file with a block cache, each piece costs a request only
when its block is not cached yet: a whole small file is one request, and a large one costs
about one request per ``block_size`` bytes actually touched. Writing needs random-access
writes that object stores do not offer, so URLs open read-only.
"""

from __future__ import annotations

from typing import Any

import h5py
from annstore.errors import CapabilityError

from ._store import H5Group

__all__ = ["DEFAULT_BLOCK_SIZE", "is_url", "open_url"]

#: Bytes fetched per request (and cached) when reading an ``.h5ad`` file at a URL.
DEFAULT_BLOCK_SIZE = 4 * 2**20
#: fsspec cache: fixed-size blocks, kept LRU (``maxblocks`` of them), so revisited metadata
#: and neighbouring chunks cost no new request.
DEFAULT_CACHE_TYPE = "blockcache"
#: annstore's own options of a URL read (the others go to the fsspec filesystem).
_FILE_OPTIONS = ("block_size", "cache_type", "cache_options")


def is_url(path: Any) -> bool:
    """Whether ``path`` is a URL string (``scheme://...``) rather than a local path."""
    return isinstance(path, str) and "://" in path and not path.startswith("file://")


class RemoteH5Group(H5Group):
    """The root of an ``.h5ad`` file at a URL: closes the fsspec file with the HDF5 file."""

    def __init__(self, f: h5py.File, fileobj: Any, url: str, *, allow_external_links: bool) -> None:
        super().__init__(f, allow_external_links=allow_external_links, owns_file=True)
        self._fileobj = fileobj
        self.filename = url

    def close(self) -> None:
        """Close the HDF5 file, then the fsspec file under it."""
        super().close()
        try:
            self._fileobj.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def open_url(url: str, mode: str, storage_options: dict[str, Any]) -> RemoteH5Group:
    """Open the ``.h5ad`` file at ``url`` read-only through fsspec, with a block cache.

    Parameters
    ----------
    url
        ``scheme://...`` of the file.
    mode
        Must be ``"r"``.
    storage_options
        Options of the fsspec filesystem (endpoint, credentials, ...), plus ``block_size``
        (bytes per request, default 4 MiB), ``cache_type`` (default ``"blockcache"``) and
        ``cache_options`` of the file, and ``allow_external_links``.

    Raises
    ------
    CapabilityError
        ``mode`` is not ``"r"``: HDF5 cannot be written to an object store in place.
    FileNotFoundError
        Nothing exists at ``url``.
    """
    if mode != "r":
        msg = (
            f"Cannot open {url!r} in mode {mode!r}: .h5ad files at URLs are read-only (HDF5 "
            "writes need random access). Write the file locally and upload it, or write zarr "
            "to the URL."
        )
        raise CapabilityError(msg)
    try:
        import fsspec
    except ImportError as e:
        msg = f"Reading {url!r} needs fsspec: pip install \"annstore-h5ad[urls]\" (and s3fs for s3://)."
        raise ImportError(msg) from e

    so = dict(storage_options)
    allow = bool(so.pop("allow_external_links", False))
    file_kw = {k: so.pop(k) for k in _FILE_OPTIONS if k in so}
    for k in ("driver", "libver", "locking", "rdcc_nbytes", "rdcc_nslots", "chunk_cache_bytes"):
        so.pop(k, None)  # HDF5 file options of local files
    file_kw.setdefault("block_size", DEFAULT_BLOCK_SIZE)
    file_kw.setdefault("cache_type", DEFAULT_CACHE_TYPE)
    fs, path = fsspec.core.url_to_fs(url, **so)
    fileobj = fs.open(path, "rb", **file_kw)
    try:
        f = h5py.File(fileobj, "r")
    except OSError as e:
        fileobj.close()
        from annstore.errors import InvalidFileError

        msg = f"Expected an HDF5 file; {url!r} could not be opened as one: {e}"
        raise InvalidFileError(msg, filename=url, path="/") from e
    return RemoteH5Group(f, fileobj, url, allow_external_links=allow)

"""annstore's storage options as zarr's: compressors, chunks and shards (anndata's choices).

h5py-style ``compression`` / ``compression_opts`` become zarr codecs; format 3 arrays with at
least one dimension are sharded with ``shards="auto"`` and a target shard size of 1 GB (as
anndata, ``annstore.settings.auto_shard_zarr_v3``); structured arrays are never sharded.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import zarr
from annstore.errors import WriteWarning
from annstore.io import fit_chunks

__all__ = ["array_kwargs", "codec_from_h5py", "quiet_unstable", "sharding_context"]

#: anndata's target shard size for ``shards="auto"`` (uncompressed bytes).
TARGET_SHARD_SIZE = 1_000_000_000
#: h5py-style options that mean nothing to zarr and are dropped silently.
_IGNORED = ("maxshape", "shuffle", "fletcher32", "scaleoffset", "track_order")
_PASS_THROUGH = ("chunks", "shards", "filters", "compressors", "fill_value", "order",
                 "dimension_names", "chunk_key_encoding", "serializer", "config")


def array_kwargs(
    shape: tuple[int, ...], dt: np.dtype[Any], so: dict[str, Any], *, zarr_format: int, name: str
) -> dict[str, Any]:
    """The keywords of ``zarr.create_array`` for annstore's (base-normalised) storage options."""
    if not shape:
        return {}
    so = {k: v for k, v in so.items() if k not in _IGNORED}
    kw: dict[str, Any] = {}
    no_shards = "shards" in so and so["shards"] is None  # an explicit ``shards=None``: unsharded
    if "compressor" in so:  # anndata / zarr-2 spelling
        so.setdefault("compressors", so.pop("compressor"))
    if "compression" in so or "compression_opts" in so:
        codec = codec_from_h5py(
            so.pop("compression", None), so.pop("compression_opts", None), zarr_format=zarr_format, name=name
        )
        if codec is not _KEEP_DEFAULT:
            so.setdefault("compressors", codec)
    for k in _PASS_THROUGH:
        if k in so and so[k] is not None or (k == "compressors" and k in so):
            kw[k] = so[k]
    if "chunks" in kw:
        ch = kw["chunks"]
        if ch is True or ch is None:
            kw.pop("chunks")
        elif isinstance(ch, int):
            kw["chunks"] = (ch,) + tuple(shape[1:])
        elif kw.get("shards") is not None:  # explicit shards: the chunks must divide them
            kw["chunks"] = tuple(int(c) for c in ch)
        else:
            kw["chunks"] = fit_chunks(ch, shape)
            if kw["chunks"] is None:
                msg = f"Expected chunks with {len(shape)} dimensions; got {ch!r} instead."
                raise ValueError(msg)
    if zarr_format == 2:
        kw.pop("shards", None)
    elif "shards" not in kw and not no_shards and dt.kind != "V" and _auto_shard():
        kw["shards"] = "auto"
    if dt.kind == "V":
        kw.pop("shards", None)
    return kw

def _auto_shard() -> bool:
    from annstore import settings

    return bool(settings.auto_shard_zarr_v3)

def sharding_context(kw: dict[str, Any]) -> Any:
    """What ``shards="auto"`` needs around ``create_array``: anndata's 1 GB target, no warning."""
    from contextlib import nullcontext

    if kw.get("shards") != "auto" or isinstance(
        zarr.config.get("array.target_shard_size_bytes", None), int
    ):
        return _quiet_autoshard() if kw.get("shards") == "auto" else nullcontext()
    return _quiet_autoshard(set_target=True)

def codec_from_h5py(compression: Any, level: Any, *, zarr_format: int, name: str) -> Any:
    """zarr's compressors for h5py's ``compression`` and ``compression_opts``."""
    v3 = zarr_format == 3
    if compression in (None, False, "none"):
        if compression is None and level is not None:
            compression = "gzip"
        else:
            return None
    if compression == "gzip":
        lvl = 4 if level is None else int(level)
        if v3:
            return [zarr.codecs.GzipCodec(level=lvl)]
        from numcodecs import GZip

        return [GZip(level=lvl)]
    if compression == "zstd":
        lvl = 0 if level is None else int(level)
        if v3:
            return [zarr.codecs.ZstdCodec(level=lvl)]
        from numcodecs import Zstd

        return [Zstd(level=lvl)]
    if compression == "blosc":
        lvl = 5 if level is None else int(level)
        if v3:
            return [zarr.codecs.BloscCodec(cname="lz4", clevel=lvl, shuffle="shuffle")]
        from numcodecs import Blosc

        return [Blosc(cname="lz4", clevel=lvl, shuffle=Blosc.SHUFFLE)]
    warnings.warn(
        f"Compression {compression!r} is not available in zarr; writing {name!r} with "
        "zarr's default compressor instead.",
        WriteWarning,
        stacklevel=5,
    )
    return _KEEP_DEFAULT


_KEEP_DEFAULT = object()


def quiet_unstable(on: bool) -> Any:
    """Silence zarr's warning that structured dtypes have no v3 spec (anndata writes them so)."""
    from contextlib import nullcontext

    if not on:
        return nullcontext()
    cm = warnings.catch_warnings()

    class _Ctx:
        def __enter__(self) -> None:
            cm.__enter__()
            warnings.filterwarnings("ignore", r".*does not have a Zarr V3 specification.*")

        def __exit__(self, *exc: object) -> None:
            cm.__exit__(*exc)

    return _Ctx()


class _quiet_autoshard:  # noqa: N801 - used as a context manager
    """Silence zarr's experimental auto-shard warning; optionally set anndata's 1 GB target."""

    def __init__(self, *, set_target: bool = False) -> None:
        self._set_target = set_target
        self._cfg: Any = None
        self._warn: Any = None

    def __enter__(self) -> None:
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.filterwarnings("ignore", r"Automatic shard shape inference is experimental")
        if self._set_target:
            self._cfg = zarr.config.set({"array.target_shard_size_bytes": TARGET_SHARD_SIZE})
            self._cfg.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._cfg is not None:
            self._cfg.__exit__(*exc)
        self._warn.__exit__(*exc)

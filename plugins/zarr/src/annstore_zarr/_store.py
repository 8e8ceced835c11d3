"""Zarr (format 2 and 3) adapters to annstore's store protocol, and opening of zarr stores.

Layout facts copied from anndata 0.13.4 (checked against files it writes):

* string arrays use zarr-python's ``VariableLengthUTF8`` data type; in format 2 with the
  ``vlen-utf8`` filter and fill value ``""`` (dtype ``|O``), in format 3 the ``string`` data type;
* format 3 arrays with at least one dimension are sharded with ``shards="auto"`` and a target
  shard size of 1 GB (``annstore.settings.auto_shard_zarr_v3``); 0-d arrays and structured
  (rec-array) arrays are never sharded;
* 0-d arrays take no chunking, compression or sharding options;
* the metadata of a written store is consolidated on close (format 2: ``.zmetadata``,
  format 3: inline in the root ``zarr.json``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from annstore.errors import InvalidFileError, WriteWarning

from ._dtypes import ensure_struct_dtype, struct_dtype_for

# Read anndata 0.13.4's v3 rec-arrays (the ``struct`` data type of zarr-python >= 3.2).
ensure_struct_dtype()

if TYPE_CHECKING:
    from annstore.types import OpenMode

__all__ = [
    "ZARR_KEYS",
    "ZarrArray",
    "ZarrGroup",
    "adapt_zarr_object",
    "open_zarr_store",
]

#: Files that mark a directory (or zip archive) as a zarr hierarchy.
ZARR_KEYS = ("zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata")
ZIP_MAGIC = b"PK\x03\x04"
#: anndata's target shard size for ``shards="auto"`` (uncompressed bytes).
TARGET_SHARD_SIZE = 1_000_000_000
_SCALAR_DROP = ("chunks", "shards", "compression", "compression_opts", "compressor",
                "compressors", "filters", "shuffle", "fletcher32", "scaleoffset")
#: h5py-style options that mean nothing to zarr and are dropped silently.
_IGNORED = ("maxshape", "shuffle", "fletcher32", "scaleoffset", "track_order")
_PASS_THROUGH = ("chunks", "shards", "filters", "compressors", "fill_value", "order",
                 "dimension_names", "chunk_key_encoding", "serializer", "config")


# ------------------------------------------------------------------------------ helpers


def _is_string_dtype(dt: Any) -> bool:
    """Whether a numpy/zarr dtype holds variable-length strings."""
    kind = getattr(dt, "kind", None)
    return kind in ("T", "O")


def _vlen_utf8() -> Any:
    from zarr.core.dtype import VariableLengthUTF8

    return VariableLengthUTF8()


def _to_json(value: Any) -> Any:
    """Convert an attribute value to plain JSON-able Python."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUST":
            return [v.decode() if isinstance(v, bytes) else str(v) for v in value.reshape(-1).tolist()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    return value


def _to_object_strings(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` (``U``, ``T`` or ``O`` of ``str``) as an object array of ``str``."""
    if arr.dtype.kind == "O":
        flat = arr.reshape(-1)
        for x in flat:
            if not isinstance(x, str):
                msg = (
                    f"Expected str elements in a string array; got {type(x).__name__} {x!r} "
                    "instead."
                )
                raise TypeError(msg)
        return arr
    return arr.astype(object)


def _fixed_length_record(arr: np.ndarray) -> np.ndarray:
    """Turn the object/str fields of a structured array into fixed-length unicode (as anndata)."""
    fields = []
    changed = False
    for name in arr.dtype.names or ():
        dt = arr.dtype.fields[name][0]
        if dt.kind in ("O", "T"):
            col = np.asarray(arr[name]).astype(str)
            fields.append((name, col.dtype))
            changed = True
        elif dt.kind == "S":
            fields.append((name, np.dtype(f"U{max(dt.itemsize, 1)}")))
            changed = True
        else:
            fields.append((name, dt))
    if not changed:
        return arr
    out = np.empty(arr.shape, dtype=fields)
    for name in arr.dtype.names or ():
        col = arr[name]
        out[name] = col.astype(str) if out.dtype.fields[name][0].kind == "U" else col
    return out


def _has_array(sel: Any) -> bool:
    items = sel if isinstance(sel, tuple) else (sel,)
    return any(isinstance(s, np.ndarray | list) for s in items)


def _norm_selection(sel: Any) -> Any:
    if isinstance(sel, list):
        return np.asarray(sel)
    if isinstance(sel, tuple):
        return tuple(np.asarray(s) if isinstance(s, list) else s for s in sel)
    return sel


class _StoreState:
    """What every node of one opened hierarchy shares: the store, its format and close logic."""

    __slots__ = ("closed", "consolidate", "filename", "finalize", "format", "guard", "mode", "store",
                 "zarr_format")

    def __init__(
        self,
        store: Any,
        *,
        filename: str | None,
        zarr_format: int,
        mode: str,
        consolidate: bool = False,
        finalize: Any = None,
        format: str = "zarr",
    ) -> None:
        self.store = store
        self.format = format  # the annstore format name of every node (see open_zarr_store)
        self.filename = filename
        self.zarr_format = zarr_format
        self.mode = mode
        self.consolidate = consolidate
        self.finalize = finalize
        self.closed = False
        #: raises FileReplacedError once the path names another store (see _guard.py)
        self.guard: Any = None


class ZarrAttrs(MutableMapping[str, Any]):
    """Attributes of a zarr node, written as JSON and read back as plain Python."""

    __slots__ = ("_attrs",)

    def __init__(self, attrs: Any) -> None:
        self._attrs = attrs

    def __getitem__(self, key: str) -> Any:
        return self._attrs[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._attrs[key] = _to_json(value)

    def __delitem__(self, key: str) -> None:
        del self._attrs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._attrs.keys()))

    def __len__(self) -> int:
        return len(self._attrs.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._attrs.keys()

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        """Set several attributes with one metadata write."""
        items = dict(other, **kw)
        self._attrs.update({k: _to_json(v) for k, v in items.items()})

    def asdict(self) -> dict[str, Any]:
        return dict(self._attrs.asdict())

    def __repr__(self) -> str:
        return f"ZarrAttrs({self.asdict()!r})"


class _Node:
    _annstore_node = True

    @property
    def format(self) -> str:
        """The annstore format name: ``"zarr"``, or that of a format built on a zarr ``Store``."""
        return self._state.format

    def __init__(self, native: Any, state: _StoreState) -> None:
        self._native = native
        self._state = state
        path = native.path.strip("/")
        self.name = "/" + path if path else "/"
        self.filename = state.filename

    @property
    def native(self) -> Any:
        """The wrapped zarr-python object."""
        return self._native

    @property
    def attrs(self) -> ZarrAttrs:
        return ZarrAttrs(self._native.attrs)

    @property
    def zarr_format(self) -> int:
        return int(self._native.metadata.zarr_format)

    @property
    def is_consolidated(self) -> bool:
        """Whether this node was opened from consolidated metadata (then it cannot be edited)."""
        return getattr(self._native.metadata, "consolidated_metadata", None) is not None

    def _where(self) -> str:
        return f"in zarr store {self.filename!r}" if self.filename else "in zarr store"


def _is_basic(sel: Any) -> bool:
    items = sel if isinstance(sel, tuple) else (sel,)
    return all(isinstance(s, slice | int | np.integer) or s is Ellipsis for s in items)


class BackedZarrArray(zarr.Array):  # type: ignore[misc]
    """The ``zarr.Array`` of a backed AnnData's X: a plain zarr array whose assignments are
    refused when the value does not fit the selection (zarr itself writes what fits)."""

    def __setitem__(self, selection: Any, value: Any) -> None:
        if _is_basic(selection):
            want = np.broadcast_to(np.empty((), dtype=bool), self.shape)[selection].shape
            got = np.shape(value)
            try:
                np.broadcast_shapes(got, want)
            except ValueError:
                msg = (
                    f"Cannot assign a value of shape {got} to a selection of shape {want} of "
                    f"zarr array {self.path!r}."
                )
                raise ValueError(msg) from None
        guard = getattr(self, "_annstore_guard", None)
        if guard is not None:  # never write into a store another writer put at the path
            guard(self.path)
        super().__setitem__(selection, value)

    def __getitem__(self, selection: Any) -> Any:
        guard = getattr(self, "_annstore_guard", None)
        try:
            out = super().__getitem__(selection)
        except Exception:
            if guard is not None:  # a chunk of another store fails to decode: say why
                guard(self.path)
            raise
        if guard is not None:  # chunks are read by path: were they all of the store opened?
            guard(self.path)
        return out


class ZarrArray(_Node):
    """A zarr array as :class:`~annstore.types.ArrayLike`."""

    supports_fancy = True

    @property
    def backed_array(self) -> BackedZarrArray:
        """This array as a backed AnnData exposes it (``adata.X``): a ``zarr.Array``."""
        arr = BackedZarrArray(self._native._async_array)
        arr._annstore_guard = self._state.guard
        return arr

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self._native.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self) -> np.dtype[Any]:
        dt = self._native.dtype
        return np.dtype(object) if _is_string_dtype(dt) else np.dtype(dt)

    @property
    def is_string(self) -> bool:
        return _is_string_dtype(self._native.dtype)

    @property
    def chunks(self) -> tuple[int, ...]:
        return tuple(self._native.chunks)

    @property
    def nbytes_stored(self) -> int | None:
        """Bytes the array's chunks occupy in the store (``None`` when the store cannot list them)."""
        try:
            return int(self._native.nbytes_stored())
        except Exception:  # noqa: BLE001 - remote or read-only stores may not support listing
            return None

    @property
    def shards(self) -> tuple[int, ...] | None:
        s = self._native.shards
        return None if s is None else tuple(s)

    def __len__(self) -> int:
        if not self.shape:
            msg = "len() of a 0-d array"
            raise TypeError(msg)
        return self.shape[0]

    def _post(self, out: Any) -> Any:
        if self._state.guard is not None:  # chunks are read by path: all of the store opened?
            self._state.guard(self.name)
        if isinstance(out, np.ndarray) and out.dtype.kind == "T":
            return out.astype(object)
        return out

    def _check_chunks(self) -> None:
        """Once per node: no chunk file larger than its declared chunk can be stored as."""
        if not getattr(self, "_chunks_checked", False):
            from ._chunks import check_chunk_sizes

            check_chunk_sizes(self._native, self._state.store, filename=self.filename, path=self.name)
            self._chunks_checked = True

    def __getitem__(self, sel: Any) -> Any:
        sel = _norm_selection(sel)
        self._check_chunks()
        with _quiet_unstable(self._native.dtype.kind == "V"):
            if _has_array(sel):
                return self._post(self._native.get_orthogonal_selection(sel))
            if sel is Ellipsis and not self.shape:
                sel = ()
            return self._post(self._native[sel])

    def __setitem__(self, sel: Any, value: Any) -> None:
        sel = _norm_selection(sel)
        if self.is_string:
            value = np.asarray(value)
            if value.dtype.kind in "OU":
                value = _to_object_strings(value)
        if _has_array(sel):
            self._set_fancy(sel, value)
        else:
            self._native[sel] = value

    def _set_fancy(self, sel: Any, value: Any) -> None:
        # zarr-python 3.1's orthogonal writes through sharded arrays fail; instead read the
        # bounding block, assign in memory, and write the block back with a basic selection.
        items = list(sel) if isinstance(sel, tuple) else [sel]
        if any(s is Ellipsis for s in items):
            i = items.index(Ellipsis)
            items[i : i + 1] = [slice(None)] * (self.ndim - len(items) + 1)
        items += [slice(None)] * (self.ndim - len(items))
        bounds: list[Any] = []
        local: list[np.ndarray] = []
        for s, n in zip(items, self.shape, strict=True):
            if isinstance(s, np.ndarray):
                idx = np.flatnonzero(s) if s.dtype == bool else np.where(s < 0, s + n, s)
                lo, hi = (int(idx.min()), int(idx.max()) + 1) if idx.size else (0, 0)
                bounds.append(slice(lo, hi))
                local.append(idx - lo)
            elif isinstance(s, slice):
                start, stop, step = s.indices(n)
                bounds.append(slice(start, stop))
                local.append(np.arange(0, stop - start, step) if step > 0 else np.arange(0))
            else:
                bounds.append(int(s))
        block = np.array(self._native[tuple(bounds)])
        block[np.ix_(*local)] = value
        self._native[tuple(bounds)] = block

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self[...])
        return out if dtype is None else out.astype(dtype)

    def resize(self, shape: tuple[int, ...] | int) -> None:
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
        self._native.resize(shape)

    def read_into(self, out: np.ndarray, selection: Any = ()) -> None:
        """Read ``self[selection]`` directly into the preallocated ``out`` buffer."""
        sel = _norm_selection(selection)
        self._check_chunks()
        if isinstance(sel, tuple) and sel == () and self.shape:
            sel = Ellipsis
        if (
            not self.is_string
            and not _has_array(sel)
            and out.dtype == self.dtype
            and out.flags.c_contiguous
            and self.shape
        ):
            from zarr.core.buffer.cpu import NDBuffer

            basic = sel if isinstance(sel, tuple) else (sel,)
            self._native.get_basic_selection(basic, out=NDBuffer.from_numpy_array(out))
            return
        out[...] = self[sel]

    def __repr__(self) -> str:
        return f"<ZarrArray {self.name!r} shape={self.shape} dtype={self.dtype} (zarr v{self.zarr_format})>"


class ZarrGroup(_Node):
    """A zarr group as :class:`~annstore.types.GroupLike`."""

    def _wrap(self, native: Any) -> ZarrGroup | ZarrArray:
        if isinstance(native, zarr.Group):
            return ZarrGroup(native, self._state)
        return ZarrArray(native, self._state)

    def keys(self) -> list[str]:
        return sorted(self._native.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def items(self) -> Iterator[tuple[str, ZarrGroup | ZarrArray]]:
        for k, v in sorted(self._native.members(), key=lambda kv: kv[0]):
            yield k, self._wrap(v)

    def __getitem__(self, key: str) -> ZarrGroup | ZarrArray:
        if key in ("/", ""):
            return self
        k = key.strip("/")
        if key.startswith("/") and self.name != "/":
            k = str(Path(key).relative_to(self.name))
        try:
            return self._wrap(self._native[k])
        except KeyError:
            msg = f"{key!r} not found in group {self.name!r} {self._where()}"
            raise KeyError(msg) from None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in ("/", ""):
            return True
        try:
            self._native[key.strip("/")]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: str) -> None:
        k = key.strip("/")
        if k not in self:
            msg = f"{key!r} not found in group {self.name!r} {self._where()}"
            raise KeyError(msg)
        del self._native[k]

    def _check_new(self, name: str) -> None:
        if not name or "/" in name.strip("/"):
            msg = f"Expected a non-empty key without '/'; got {name!r} instead."
            raise ValueError(msg)
        if name in self:
            msg = f"{name!r} already exists in group {self.name!r} {self._where()}"
            raise ValueError(msg)

    def create_group(self, name: str) -> ZarrGroup:
        self._check_new(name)
        return ZarrGroup(self._native.create_group(name), self._state)

    def require_group(self, name: str) -> ZarrGroup:
        if name in self:
            node = self[name]
            if isinstance(node, ZarrGroup):
                return node
            msg = f"{name!r} in group {self.name!r} is an array, expected a group"
            raise TypeError(msg)
        return self.create_group(name)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> ZarrArray:
        """Create an array child (strings in the format's native vlen encoding).

        ``storage_options``: ``chunks``, ``shards``, ``compressors`` / ``compressor``,
        ``filters``, ``fill_value``, ``dimension_names``, and h5py-style ``compression``
        (``"gzip"``, ``"zstd"``, ``"blosc"``, ``None``) with ``compression_opts`` (the
        level). Unknown options are ignored.
        """
        self._check_new(name)
        if data is not None:
            if isinstance(data, ZarrArray):
                data = data[...]
            data = np.asarray(data)
            if shape is None:
                shape = data.shape
            elif tuple(shape) != data.shape:
                msg = f"Expected data of shape {tuple(shape)}; got {data.shape} instead."
                raise ValueError(msg)
        elif shape is None:
            msg = "create_array needs data or shape"
            raise TypeError(msg)
        shape = tuple(int(s) for s in shape)
        dt = np.dtype(dtype) if dtype is not None else (data.dtype if data is not None else np.dtype("f8"))
        if dt.kind in "iu" and type(dt) is not type(np.dtype(dt.str)):
            # numpy's longlong/ulonglong (e.g. np.array(2**64 - 1)) are not matched by zarr's
            # dtype registry; use the equivalent canonical fixed-width dtype
            dt = np.dtype(dt.str)
            if data is not None:
                data = data.astype(dt)
        if dt.kind == "S" or (data is not None and data.dtype.kind == "S" and dtype is None):
            msg = (
                f"Byte-string arrays are not supported (element {name!r} in {self.name!r}); "
                "decode them to str first."
            )
            raise TypeError(msg)
        kw = self._array_kwargs(shape, dt, storage_options)
        is_str = dt.kind in "OUT"
        if is_str:
            kw["dtype"] = _vlen_utf8()
            if self._state.zarr_format == 2:
                from numcodecs import VLenUTF8

                kw["filters"] = [VLenUTF8()]
                kw["fill_value"] = ""
            if data is not None:
                data = _to_object_strings(data)
        elif dt.kind == "V":
            if data is not None:
                data = _fixed_length_record(data)
                dt = data.dtype
            kw["dtype"] = struct_dtype_for(dt) if self._state.zarr_format == 3 else dt
            kw.setdefault("fill_value", np.zeros((), dtype=dt)[()])
            if self._state.zarr_format == 3:
                kw.setdefault("serializer", zarr.codecs.BytesCodec(endian="little"))
        else:
            kw["dtype"] = dt
            if data is not None and data.dtype != dt:
                data = data.astype(dt)
            if not shape and data is not None:
                kw.setdefault("fill_value", None)  # anndata's scalars: no fill value (v2 null)
        with self._sharding_context(kw), _quiet_unstable(dt.kind == "V"):
            arr = self._native.create_array(name, shape=shape, **kw)
            self._fill(arr, shape, data)
        return ZarrArray(arr, self._state)

    @staticmethod
    def _fill(arr: Any, shape: tuple[int, ...], data: Any) -> None:
        if data is not None and (data.size or not shape):
            if shape:
                arr[...] = data
            else:
                arr[()] = data[()] if data.dtype.kind != "O" else np.array(data[()], dtype=object)

    # -- storage options -----------------------------------------------------------------

    def _array_kwargs(self, shape: tuple[int, ...], dt: np.dtype[Any], so: dict[str, Any]) -> dict[str, Any]:
        so = dict(so)
        so.pop("dtype", None)
        for k in _IGNORED:
            so.pop(k, None)
        if not shape:
            for k in _SCALAR_DROP:
                so.pop(k, None)
            return {}
        kw: dict[str, Any] = {}
        no_shards = "shards" in so and so["shards"] is None  # an explicit ``shards=None``: unsharded
        if "compressor" in so:  # anndata / zarr-2 spelling
            so.setdefault("compressors", so.pop("compressor"))
        if "compression" in so or "compression_opts" in so:
            codec = self._codec_from_h5py(so.pop("compression", None), so.pop("compression_opts", None))
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
                kw["chunks"] = tuple(
                    min(int(c), max(int(s), 1)) if c is not None and int(c) > 0 else max(int(s), 1)
                    for c, s in zip(ch, shape, strict=False)
                )
                if len(kw["chunks"]) != len(shape):
                    msg = f"Expected chunks with {len(shape)} dimensions; got {ch!r} instead."
                    raise ValueError(msg)
        if self._state.zarr_format == 2:
            kw.pop("shards", None)
        elif "shards" not in kw and not no_shards and dt.kind != "V" and self._auto_shard():
            kw["shards"] = "auto"
        if dt.kind == "V":
            kw.pop("shards", None)
        return kw

    @staticmethod
    def _auto_shard() -> bool:
        from annstore import settings

        return bool(settings.auto_shard_zarr_v3)

    def _sharding_context(self, kw: dict[str, Any]) -> Any:
        from contextlib import nullcontext

        if kw.get("shards") != "auto" or isinstance(
            zarr.config.get("array.target_shard_size_bytes", None), int
        ):
            return _quiet_autoshard() if kw.get("shards") == "auto" else nullcontext()
        return _quiet_autoshard(set_target=True)

    def _codec_from_h5py(self, compression: Any, level: Any) -> Any:
        v3 = self._state.zarr_format == 3
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
            f"Compression {compression!r} is not available in zarr; writing {self.name!r} with "
            "zarr's default compressor instead.",
            WriteWarning,
            stacklevel=4,
        )
        return _KEEP_DEFAULT

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store; after a write, consolidate metadata first when asked."""
        st = self._state
        if st.closed or self.name != "/":
            return
        st.closed = True
        try:
            if st.mode != "r" and st.consolidate:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=r".*[Cc]onsolidated metadata.*")
                    zarr.consolidate_metadata(st.store, zarr_format=st.zarr_format)
        finally:
            if st.finalize is not None:
                st.finalize()
            else:
                close = getattr(st.store, "close", None)
                if close is not None:
                    close()

    def __enter__(self) -> ZarrGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ZarrGroup {self.name!r} in {self.filename!r} (zarr v{self._state.zarr_format})>"


_KEEP_DEFAULT = object()


def _quiet_unstable(on: bool) -> Any:
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


# ------------------------------------------------------------------------------ opening


def _store_filename(store: Any) -> str | None:
    root = getattr(store, "root", None)
    if root is not None:
        return str(root)
    path = getattr(store, "path", None)
    if isinstance(path, str | os.PathLike):
        return str(path)
    return str(store)


def _is_zip_file(p: Path) -> bool:
    if p.suffix.lower() == ".zip":
        return True
    try:
        with open(p, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def adapt_zarr_object(obj: Any) -> ZarrGroup | ZarrArray | None:
    """Wrap a user's ``zarr.Group`` / ``zarr.Array`` (no consolidation, the user owns it)."""
    if not isinstance(obj, zarr.Group | zarr.Array):
        return None
    st = _StoreState(
        obj.store,
        filename=_store_filename(obj.store),
        zarr_format=int(obj.metadata.zarr_format),
        mode="r" if obj.store.read_only else "r+",
        finalize=lambda: None,
    )
    return ZarrGroup(obj, st) if isinstance(obj, zarr.Group) else ZarrArray(obj, st)


def _open_group(store: Any, mode: str, zarr_format: int | None) -> Any:
    kw: dict[str, Any] = {}
    if mode == "r":
        kw["use_consolidated"] = None
    else:
        kw["use_consolidated"] = False
    if mode in ("w", "a") and zarr_format is not None:
        kw["zarr_format"] = zarr_format
    try:
        return zarr.open_group(store, mode=mode, **kw)  # type: ignore[arg-type]
    except (FileNotFoundError, zarr.errors.GroupNotFoundError) as e:
        msg = (
            f"Expected a zarr group at {_store_filename(store)!r}; found none "
            f"({type(e).__name__}: {e})."
        )
        # zarr's own error (a FileNotFoundError too), as anndata raises
        raise zarr.errors.GroupNotFoundError(msg) from e
    except zarr.errors.ContainsArrayError as e:
        msg = f"Expected a zarr group at {_store_filename(store)!r}; found an array."
        raise InvalidFileError(msg, filename=_store_filename(store), path="/") from e
    except (ValueError, KeyError, TypeError) as e:  # damaged zarr.json/.zattrs/.zgroup/.zmetadata
        msg = f"Malformed zarr metadata in {_store_filename(store)!r}: {type(e).__name__}: {e}"
        raise InvalidFileError(msg, filename=_store_filename(store), path="/") from e


def _was_consolidated(group: Any) -> bool:
    """Whether the store holds consolidated metadata (that r+/a edits must keep in sync)."""
    if getattr(group.metadata, "consolidated_metadata", None) is not None:
        return True
    try:
        fresh = zarr.open_group(group.store, mode="r", use_consolidated=None, path=group.path)
    except Exception:  # noqa: BLE001 - unreadable root: nothing to keep in sync
        return False
    return fresh.metadata.consolidated_metadata is not None


def open_zarr_store(
    path: Any, mode: OpenMode, storage_options: dict[str, Any] | None = None, *,
    format: str = "zarr",
) -> ZarrGroup:
    """Open ``path`` (directory, zip file, URL, zarr ``Store`` or ``Group``) as a root group.

    ``storage_options`` keys ``zarr_format`` (format written in ``"w"`` mode, default
    ``annstore.settings.zarr_write_format``) and ``consolidate_metadata`` (consolidate after
    writing, default ``True``) are annstore's; the others go to fsspec for URLs.

    ``format`` is the annstore format name the nodes report: a plugin whose storage is a
    zarr ``Store`` (a database, an object store) opens it here under its own format name and
    calls :func:`annstore_zarr.register_encodings` for that name; it then gets every
    encoding, chunking, compression and partial reads of this plugin.
    """
    from annstore import settings

    so = dict(storage_options or {})
    zarr_format = so.pop("zarr_format", None)
    consolidate_opt = so.pop("consolidate_metadata", None)
    if mode == "w" and zarr_format is None:
        # bypass the setting's own deprecation warning on reading it, as anndata does
        zarr_format = int(settings.__dict__["zarr_write_format"])
        if zarr_format == 2:
            warnings.warn(
                "zarr v3 will become the only option in 0.14 anndata for `{read,write}_zarr`. "
                "This setting (`anndata.settings.zarr_write_format`) will be removed in 0.14.",
                DeprecationWarning,
                stacklevel=4,
            )
    if zarr_format is not None and int(zarr_format) not in (2, 3):
        msg = f"Expected zarr_format 2 or 3; got {zarr_format!r} instead."
        raise ValueError(msg)
    zarr_format = None if zarr_format is None else int(zarr_format)
    finalize = None
    filename: str | None

    if isinstance(path, zarr.Group):
        node = adapt_zarr_object(path)
        assert isinstance(node, ZarrGroup)
        return node
    if isinstance(path, zarr.abc.store.Store):
        store = path
        filename = _store_filename(store)
    elif isinstance(path, MutableMapping):
        store = path
        filename = None
    elif isinstance(path, str | os.PathLike) and "://" in str(path):
        from zarr.storage import FsspecStore

        filename = str(path)
        store = FsspecStore.from_url(filename, storage_options=so or None, read_only=mode == "r")
    elif isinstance(path, str | os.PathLike):
        p = Path(path)
        filename = str(p)
        if (p.is_file() and _is_zip_file(p)) or (not p.exists() and p.suffix.lower() == ".zip"):
            store, finalize = _open_zip(p, mode, zarr_format)
        else:
            if mode == "r" and not p.exists():
                msg = f"No such file or directory: {filename!r}"
                raise FileNotFoundError(msg)
            from zarr.storage import LocalStore

            from ._confine import local_store

            # An existing store is confined to its root (no symlink out of it is followed).
            store = LocalStore(p) if mode == "w" else local_store(p, read_only=mode == "r")
    else:
        msg = (
            "Expected a path, URL, zarr Store or zarr Group; got "
            f"{type(path).__module__}.{type(path).__qualname__} instead."
        )
        raise TypeError(msg)

    group = _open_group(store, mode, zarr_format)
    fmt = int(group.metadata.zarr_format)
    if mode == "w":
        consolidate = True if consolidate_opt is None else bool(consolidate_opt)
    elif mode in ("r+", "a"):
        consolidate = _was_consolidated(group) if consolidate_opt is None else bool(consolidate_opt)
    else:
        consolidate = False
    st = _StoreState(
        group.store, filename=filename, zarr_format=fmt, mode=mode,
        consolidate=consolidate, finalize=finalize, format=format,
    )
    if finalize is None and mode != "w" and isinstance(path, str | os.PathLike) and "://" not in str(path):
        from ._guard import store_guard

        st.guard = store_guard(path)
    return ZarrGroup(group, st)


def _open_zip(p: Path, mode: str, zarr_format: int | None) -> tuple[Any, Any]:
    """Zip archives: read in place; writes go to a sibling directory packed on close."""
    if mode == "r":
        from ._confine import check_zip_members

        check_zip_members(p)
    from ._zip import open_zip

    return open_zip(p, mode)

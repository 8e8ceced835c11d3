"""Zarr (format 2 and 3) adapters to annstore's store protocol (opening a store: ``_open``).

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

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import zarr

from annstore.io import ArrayBase, GroupBase, StoreAttrs, StoreNode, bounding_box, outer_put

from ._dtypes import (
    ensure_struct_dtype,
    fixed_length_record,
    is_string_dtype,
    struct_dtype_for,
    to_object_strings,
    vlen_utf8,
)
from ._options import array_kwargs, quiet_unstable, sharding_context

# Read anndata 0.13.4's v3 rec-arrays (the ``struct`` data type of zarr-python >= 3.2).
ensure_struct_dtype()

__all__ = [
    "ZARR_KEYS",
    "ZarrArray",
    "ZarrGroup",
]

#: Files that mark a directory (or zip archive) as a zarr hierarchy.
ZARR_KEYS = ("zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata")


# ------------------------------------------------------------------------------ helpers


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


class ZarrAttrs(StoreAttrs):
    """Attributes of a zarr node, written as JSON and read back as plain Python."""

    __slots__ = ()

    def _set(self, items: dict[str, Any]) -> None:
        self._native.update(items)  # one metadata write


class _Node(StoreNode):
    store_kind = "zarr store"

    @property  # type: ignore[override]
    def format(self) -> str:
        """The annstore format name: ``"zarr"``, or that of a format built on a zarr ``Store``."""
        return self._state.format

    def __init__(self, native: Any, state: _StoreState) -> None:
        self._native = native
        self._state = state
        path = native.path.strip("/")
        super().__init__("/" + path if path else "/", state.filename)

    @property
    def native(self) -> Any:
        """The wrapped zarr-python object."""
        return self._native

    @property
    def attrs(self) -> ZarrAttrs:
        return ZarrAttrs(self._native.attrs, self)

    def _identity(self) -> Any:
        return (id(self._state.store), self.name)

    def _repr_extra(self) -> str:
        return f"{super()._repr_extra()} (zarr v{self._state.zarr_format})"

    @property
    def zarr_format(self) -> int:
        return int(self._native.metadata.zarr_format)

    @property
    def is_consolidated(self) -> bool:
        """Whether this node was opened from consolidated metadata (then it cannot be edited)."""
        return getattr(self._native.metadata, "consolidated_metadata", None) is not None


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


class ZarrArray(_Node, ArrayBase):
    """A zarr array as :class:`~annstore.types.ArrayLike`."""

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
    def dtype(self) -> np.dtype[Any]:
        dt = self._native.dtype
        return np.dtype(object) if is_string_dtype(dt) else np.dtype(dt)

    @property
    def is_string(self) -> bool:
        return is_string_dtype(self._native.dtype)

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
        with quiet_unstable(self._native.dtype.kind == "V"):
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
                value = to_object_strings(value)
        if _has_array(sel):
            self._set_fancy(sel, value)
        else:
            self._native[sel] = value

    def _set_fancy(self, sel: Any, value: Any) -> None:
        # zarr-python 3.1's orthogonal writes through sharded arrays fail; instead read the
        # bounding block, assign in memory, and write the block back with a basic selection.
        box, local = bounding_box(sel, self.shape, self.name)
        block = np.array(self._native[box])
        outer_put(block, local, value)
        self._native[box] = block

    def _resize(self, shape: tuple[int, ...]) -> None:
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


class ZarrGroup(_Node, GroupBase):
    """A zarr group as :class:`~annstore.types.GroupLike`."""

    #: ``compressors=None`` / ``compression=None``: uncompressed; ``shards=None``: unsharded.
    keep_none_options = ("compression", "compression_opts", "compressor", "compressors", "shards")

    def _wrap(self, native: Any) -> ZarrGroup | ZarrArray:
        if isinstance(native, zarr.Group):
            return ZarrGroup(native, self._state)
        return ZarrArray(native, self._state)

    def keys(self) -> list[str]:
        return sorted(self._native.keys())

    def items(self) -> Iterator[tuple[str, ZarrGroup | ZarrArray]]:
        for k, v in sorted(self._native.members(), key=lambda kv: kv[0]):
            yield k, self._wrap(v)

    def _lookup(self, key: str) -> ZarrGroup | ZarrArray:
        try:  # zarr resolves nested keys itself
            return self._wrap(self._native[self._relative(key).strip("/")])
        except KeyError:
            raise self._missing(key) from None

    def _remove(self, key: str) -> None:
        del self._native[key]

    def _new_group(self, name: str) -> ZarrGroup:
        return ZarrGroup(self._native.create_group(name), self._state)

    def _new_array(
        self, name: str, data: np.ndarray | None, shape: tuple[int, ...], dt: np.dtype[Any],
        storage_options: dict[str, Any],
    ) -> ZarrArray:
        """Create an array child (strings in the format's native vlen encoding).

        ``storage_options``: ``chunks``, ``shards``, ``compressors`` / ``compressor``,
        ``filters``, ``fill_value``, ``dimension_names``, and h5py-style ``compression``
        (``"gzip"``, ``"zstd"``, ``"blosc"``, ``None``) with ``compression_opts`` (the
        level). Unknown options are ignored.
        """
        if dt.kind in "iu" and type(dt) is not type(np.dtype(dt.str)):
            # numpy's longlong/ulonglong (e.g. np.array(2**64 - 1)) are not matched by zarr's
            # dtype registry; use the equivalent canonical fixed-width dtype
            dt = np.dtype(dt.str)
            if data is not None:
                data = data.astype(dt)
        kw = array_kwargs(shape, dt, storage_options, zarr_format=self._state.zarr_format, name=self.name)
        is_str = dt.kind in "OUT"
        if is_str:
            kw["dtype"] = vlen_utf8()
            if self._state.zarr_format == 2:
                from numcodecs import VLenUTF8

                kw["filters"] = [VLenUTF8()]
                kw["fill_value"] = ""
            if data is not None and data.dtype.kind != "O":
                data = data.astype(object)
        elif dt.kind == "V":
            if data is not None:
                data = fixed_length_record(data)
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
        with sharding_context(kw), quiet_unstable(dt.kind == "V"):
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

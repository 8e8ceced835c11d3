"""h5py adapters to annstore's store protocol: ``H5Group``, ``H5Array`` and their attributes
(value conversions in ``_values``, the shared rules in :mod:`annstore.io`'s adapter base).

Normalised here so encodings never branch on HDF5:

* strings are stored as variable-length UTF-8 (``h5py.string_dtype()``) and read back as
  ``object`` arrays of ``str``; legacy fixed-length byte strings (``|S``) read back as stored; compound (record) arrays get variable-length string fields
  for their ``U``/``O`` fields and read back with ``U`` fields;
* attributes read back as plain Python (``str``, ``int``, ``float``, ``bool``, ``list``), numeric
  vectors as numpy arrays; the empty float array HDF5 stores for an empty list becomes ``[]``;
* storage options (``compression``, ``compression_opts``, ``chunks``, ``maxshape``, ...) go to
  ``create_dataset``, except that scalars get no filters or chunks and empty arrays no
  explicit chunks (h5py picks them, as in anndata's files);
* ``None`` elements are ``h5py.Empty`` datasets;
* external links, soft links whose target cannot be resolved inside the file, and datasets
  whose bytes are stored elsewhere (external raw storage, virtual datasets over other files)
  raise :class:`~annstore.errors.InvalidFileError` unless ``annstore.settings.allow_outside_data``
  or ``allow_external_links`` was given (see ``_confine``).
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
from annstore.errors import CapabilityError, InvalidFileError
from annstore.io import (
    ArrayBase,
    GroupBase,
    StoreAttrs,
    StoreNode,
    bounding_box,
    expand_selection,
    fit_chunks,
    index_array,
    outer_take,
)

from ._confine import OPT_IN, check_storage, outside_data_allowed
from ._values import STR, STRING_DTYPE, from_compound, norm_attr, str_compound, to_attr, to_stored

__all__ = ["FORMAT", "HDF5_MAGIC", "H5Array", "H5Attrs", "H5Group", "adapt", "open_h5_store"]

#: The first eight bytes of every HDF5 file (at offset 0 when there is no user block).
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
FORMAT = "h5ad"

#: The storage options passed on to ``create_dataset``.
_PASSED = ("compression", "compression_opts", "chunks", "shuffle", "fletcher32", "scaleoffset",
           "maxshape", "fillvalue", "track_times")


# --------------------------------------------------------------------------- attributes


class H5Attrs(StoreAttrs):
    """Attributes of an HDF5 object (an ``h5py.AttributeManager``), read back as plain Python."""

    __slots__ = ()

    def encode(self, value: Any) -> Any:
        return to_attr(value)

    def decode(self, raw: Any) -> Any:
        return norm_attr(raw)

    def __contains__(self, k: object) -> bool:
        return k in self._native


# --------------------------------------------------------------------------- nodes


class _Node(StoreNode):
    format = FORMAT
    store_kind = "HDF5 file"

    def __init__(self, obj: Any, *, allow_external_links: bool = False) -> None:
        self._obj = obj
        self._allow_ext = outside_data_allowed(allow_external_links)
        try:
            filename: str | None = obj.file.filename
        except Exception:  # noqa: BLE001 - closed or in-memory file
            filename = None
        super().__init__(obj.name or "/", filename)

    @property
    def attrs(self) -> H5Attrs:
        return H5Attrs(self._obj.attrs, self)

    @property
    def native(self) -> Any:
        """The wrapped h5py object (what read/write callbacks receive, as in anndata)."""
        return self._obj

    h5 = native

    def _identity(self) -> Any:
        return self._obj


def _selection_is_basic(sel: Any) -> bool:
    items = sel if isinstance(sel, tuple) else (sel,)
    return all(
        isinstance(s, slice | int | np.integer) or s is Ellipsis for s in items
    )


class H5Array(_Node, ArrayBase):
    """An h5py dataset as an :class:`~annstore.types.ArrayLike`."""

    #: Sorted, unique integer arrays on axis 0 are read natively (h5py's rule); any other
    #: array selection reads the bounding slice and indexes it in memory.
    supports_fancy = True

    @property
    def backed_array(self) -> Any:
        """This array as a backed AnnData exposes it (``adata.X``): the ``h5py.Dataset``."""
        return self._obj

    def __init__(self, obj: h5py.Dataset, *, allow_external_links: bool = False) -> None:
        super().__init__(obj, allow_external_links=allow_external_links)
        if not self._allow_ext:
            check_storage(obj, filename=self.filename, path=self.name)
        info = h5py.check_string_dtype(obj.dtype)
        # Variable-length strings are text; fixed-length (legacy ``|S``) stay bytes, as stored.
        self._is_str = info is not None and info.length is None
        # UTF-8 text is decoded by numpy's StringDType in C (then boxed as ``str``), much faster
        # than h5py's per-element ``asstr``; ASCII-declared text keeps ``asstr``'s strict decode.
        self._str_native = self._is_str and info.encoding == "utf-8" and STRING_DTYPE is not None
        self._chunks_checked = False

    @property
    def is_empty(self) -> bool:
        """Whether this is an ``h5py.Empty`` dataset (anndata's ``null``)."""
        return self._obj.shape is None

    @property
    def shape(self) -> tuple[int, ...]:
        s = self._obj.shape
        return () if s is None else tuple(int(x) for x in s)

    @property
    def dtype(self) -> np.dtype[Any]:
        dt = self._obj.dtype
        if self._is_str:
            return np.dtype(object)
        if dt.names and any(h5py.check_string_dtype(dt[n]) is not None for n in dt.names):
            return np.dtype([(n, "O" if h5py.check_string_dtype(dt[n]) else dt[n]) for n in dt.names])
        return dt

    @property
    def chunks(self) -> tuple[int, ...] | None:
        return self._obj.chunks

    @property
    def nbytes_stored(self) -> int:
        """Bytes the dataset occupies in the file (after compression); metadata only."""
        return int(self._obj.id.get_storage_size())

    @property
    def compression(self) -> str | None:
        return self._obj.compression

    def _raw(self, sel: Any) -> Any:
        if not self._chunks_checked:  # a filtered chunk stored larger than any encoder makes it
            from ._chunks import check_chunk_sizes

            check_chunk_sizes(self._obj, filename=self.filename, path=self.name)
            self._chunks_checked = True
        if self._str_native:
            out = self._obj.astype(STRING_DTYPE)[sel]
            return out.astype(object) if isinstance(out, np.ndarray) else out
        if self._is_str:
            return self._obj.asstr()[sel]
        ds = self._obj
        whole = sel is Ellipsis or (isinstance(sel, tuple) and not sel)
        if whole and ds.shape and ds.dtype.kind in "biufc" and ds.size:
            # Whole numeric dataset: one read_direct into a fresh buffer (no selection logic).
            buf = np.empty(ds.shape, dtype=ds.dtype)
            ds.read_direct(buf)
            return buf
        out = ds[sel]
        if isinstance(out, np.ndarray) and out.dtype.names:
            out = from_compound(out)
        return out

    def __getitem__(self, sel: Any) -> Any:
        if self.is_empty:
            return None
        if sel is Ellipsis:
            sel = ()
        if _selection_is_basic(sel) or (isinstance(sel, tuple) and not sel):
            return self._raw(sel)
        return self._fancy(sel)

    def _fancy(self, sel: Any) -> Any:
        items = expand_selection(sel, self.ndim)
        # h5py's native rule: one increasing, unique integer list, here restricted to axis 0.
        if [i for i, s in enumerate(items) if not isinstance(s, slice | int | np.integer)] == [0]:
            a = index_array(items[0], self.shape[0], 0, self.name)
            if a.size == 0:
                return self._raw(tuple([slice(0, 0), *items[1:]]))
            if a.size == 1 or bool(np.all(np.diff(a) > 0)):
                return self._raw(tuple([a, *items[1:]]))
        # Fallback: read the bounding box of every array axis, then index in memory.
        box, local = bounding_box(tuple(items), self.shape, self.name)
        return outer_take(self._raw(box), local)

    def __setitem__(self, sel: Any, value: Any) -> None:
        if self._is_str:
            value = np.asarray(value)
            if value.dtype.kind in "UT":
                value = value.astype(object)
        self._obj[sel] = value

    def _resize(self, shape: tuple[int, ...]) -> None:
        try:
            self._obj.resize(shape)
        except TypeError as e:
            msg = (
                f"Expected a resizable (chunked, maxshape) dataset at {self.name!r} in "
                f"{self.filename!r}; it was written with fixed shape {self.shape} ({e})."
            )
            raise CapabilityError(msg) from e

    def read_into(self, out: np.ndarray[Any, Any], selection: Any = ()) -> None:
        """Fill ``out`` with ``self[selection]`` without an intermediate copy where possible."""
        if self._is_str or self.is_empty or not out.flags.c_contiguous or out.dtype != self._obj.dtype:
            out[...] = self[selection]
            return
        if (isinstance(selection, tuple) and not selection) or selection is Ellipsis:
            if out.size:
                self._obj.read_direct(out)
            return
        if _selection_is_basic(selection):
            if out.size:
                self._obj.read_direct(out, source_sel=selection if isinstance(selection, tuple) else (selection,))
            return
        out[...] = self[selection]

    def astype(self, dtype: Any) -> Any:
        return self._obj.astype(dtype)


class H5Group(_Node, GroupBase):
    """An h5py group (or file) as a :class:`~annstore.types.GroupLike`."""

    #: h5py creates the intermediate groups of a nested name (anndata's write_elem relies on it).
    nested_names = True

    def __init__(
        self, obj: h5py.Group, *, allow_external_links: bool = False, owns_file: bool = False
    ) -> None:
        super().__init__(obj, allow_external_links=allow_external_links)
        self._owns = owns_file

    # -- links -------------------------------------------------------------------------

    def _check_links(self, key: str) -> None:
        """Refuse external links and soft links leaving the file along ``key`` (unless allowed)."""
        if self._allow_ext:
            return
        parts = [p for p in key.split("/") if p]
        g = self._obj
        path = self.name.rstrip("/")
        for depth, p in enumerate(parts):
            link = g.get(p, getlink=True)
            path = f"{path}/{p}"
            if link is None:
                return  # let h5py raise its KeyError
            if isinstance(link, h5py.ExternalLink):
                msg = (
                    f"Expected an element stored in {self.filename!r}; {path!r} is an HDF5 "
                    f"external link to {link.path!r} in {link.filename!r}. Links leaving the "
                    f"file are not followed; {OPT_IN}."
                )
                raise InvalidFileError(msg, filename=self.filename, path=path)
            if isinstance(link, h5py.SoftLink):
                _check_soft(self._obj.file, link.path, path, self.filename, set())
            if depth < len(parts) - 1:
                nxt = g.get(p)
                if not isinstance(nxt, h5py.Group):
                    return
                g = nxt

    def _wrap(self, obj: Any) -> H5Group | H5Array:
        if isinstance(obj, h5py.Dataset):
            return H5Array(obj, allow_external_links=self._allow_ext)
        if isinstance(obj, h5py.Group):
            return H5Group(obj, allow_external_links=self._allow_ext)
        msg = f"Expected an HDF5 group or dataset; got {type(obj).__name__} instead."
        raise InvalidFileError(msg, filename=self.filename, path=self.name)

    # -- mapping -----------------------------------------------------------------------

    def keys(self) -> list[str]:
        return list(self._obj.keys())

    def _lookup(self, key: str) -> H5Group | H5Array:
        # h5py resolves nested (and absolute) keys itself; the links along them are checked first
        self._check_links(key)
        try:
            obj = self._obj[key]
        except KeyError:
            raise self._missing(key) from None
        return self._wrap(obj)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            return self._obj.get(key, getlink=True) is not None
        except (KeyError, ValueError):
            return False

    def _remove(self, key: str) -> None:
        del self._obj[key]

    # -- creation ----------------------------------------------------------------------

    def _new_group(self, name: str) -> H5Group:
        return H5Group(self._obj.create_group(name), allow_external_links=self._allow_ext)

    def create_group_large_attrs(self, name: str) -> H5Group:
        """A group whose attributes may exceed HDF5's 64 kB object-header limit (dense
        attribute storage, as anndata creates dataframes of more than 5000 columns)."""
        return H5Group(
            self._obj.create_group(name, track_order=True), allow_external_links=self._allow_ext
        )

    def create_array(self, name: str, data: Any = None, **kw: Any) -> H5Array:  # type: ignore[override]
        if isinstance(data, h5py.Empty):  # anndata's ``null``
            self._check_new(name)
            return H5Array(self._obj.create_dataset(name, data=data))
        return super().create_array(name, data, **kw)  # type: ignore[return-value]

    def _new_array(
        self, name: str, data: np.ndarray[Any, Any] | None, shape: tuple[int, ...],
        dtype: np.dtype[Any], options: dict[str, Any],
    ) -> H5Array:
        kw = _fit_kwargs(options, shape)
        if data is None:
            dt = STR if dtype.kind == "O" else str_compound(dtype) if dtype.names else dtype
            return H5Array(self._obj.create_dataset(name, shape=shape, dtype=dt, **kw))
        return H5Array(self._obj.create_dataset(name, data=to_stored(data), **kw))

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the file if this root owns it (adapters of user objects leave them open)."""
        if self._owns:
            try:
                self._obj.file.close()
            except Exception:  # noqa: BLE001 - already closed
                pass

    def flush(self) -> None:
        self._obj.file.flush()


def _fit_kwargs(options: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """The ``create_dataset`` keywords of the (base-normalised) storage options.

    Empty arrays keep their filters (h5py picks chunks itself, as for anndata's files) but not
    explicit chunks. Explicit chunks are clipped to the shape; a maxshape of the wrong rank is
    dropped.
    """
    kw = {("fillvalue" if k == "fill_value" else k): v for k, v in options.items()}
    kw = {k: v for k, v in kw.items() if k in _PASSED}
    if "maxshape" in kw and len(kw["maxshape"]) != len(shape):
        kw.pop("maxshape")
    if isinstance(kw.get("chunks"), tuple | list | int) and not isinstance(kw["chunks"], bool):
        chunks = None if 0 in shape else fit_chunks(kw["chunks"], shape)
        if chunks is None:
            kw.pop("chunks")
        else:
            kw["chunks"] = chunks
    return kw


def _check_soft(f: h5py.File, target: str, where: str, filename: Any, seen: set[str]) -> None:
    """Check that a soft link's target resolves inside ``f`` without external links."""
    if target in seen:
        msg = f"Expected a soft link resolving to an element; {where!r} is part of a link cycle."
        raise InvalidFileError(msg, filename=filename, path=where)
    seen.add(target)
    if not target.startswith("/"):
        # Relative soft links resolve from the link's parent group.
        parent = where.rsplit("/", 1)[0] or "/"
        target = f"{parent.rstrip('/')}/{target}"
    g: Any = f
    parts = [p for p in target.split("/") if p]
    for i, p in enumerate(parts):
        if not isinstance(g, h5py.Group):
            break
        link = g.get(p, getlink=True)
        if link is None:
            msg = (
                f"Expected the soft link {where!r} to point inside {filename!r}; its target "
                f"{target!r} does not exist (dangling link)."
            )
            raise InvalidFileError(msg, filename=filename, path=where)
        if isinstance(link, h5py.ExternalLink):
            msg = (
                f"Expected an element stored in {filename!r}; the soft link {where!r} leads "
                f"through an external link to {link.path!r} in {link.filename!r}; {OPT_IN}."
            )
            raise InvalidFileError(msg, filename=filename, path=where)
        if isinstance(link, h5py.SoftLink):
            _check_soft(f, link.path, "/" + "/".join(parts[: i + 1]), filename, seen)
        if i < len(parts) - 1:
            g = g.get(p)


# --------------------------------------------------------------------------- entry points


_MODES = {"r": "r", "r+": "r+", "w": "w", "a": "a"}


def open_h5_store(path: Any, mode: str = "r", **storage_options: Any) -> H5Group:
    """Open ``path`` with h5py and return its root group adapter (which owns the file)."""
    allow = bool(storage_options.pop("allow_external_links", False))
    try:
        h5mode = _MODES[mode]
    except KeyError:
        msg = f"Expected mode one of {tuple(_MODES)}; got {mode!r} instead."
        raise ValueError(msg) from None
    file_kw = {k: v for k, v in storage_options.items() if k in ("driver", "libver", "locking", "rdcc_nbytes", "rdcc_nslots")}
    if "chunk_cache_bytes" in storage_options:  # annstore's format-neutral name for the cache
        file_kw.setdefault("rdcc_nbytes", int(storage_options["chunk_cache_bytes"]))
    try:
        f = h5py.File(path, h5mode, **file_kw)
    except OSError as e:
        # h5py reports format problems (bad signature, truncation) as OSError without errno;
        # real OS errors (missing file, permissions, locks) carry one and pass through.
        if mode in ("r", "r+", "a") and _exists(path) and getattr(e, "errno", None) is None:
            msg = f"Expected an HDF5 file; {str(path)!r} could not be opened as one: {e}"
            raise InvalidFileError(msg, filename=str(path), path="/") from e
        raise
    return H5Group(f, allow_external_links=allow, owns_file=True)


def _exists(path: Any) -> bool:
    import os

    return isinstance(path, str | os.PathLike) and os.path.exists(path)


def adapt(obj: Any, *, allow_external_links: bool = False) -> H5Group | H5Array | None:
    """Wrap a user's ``h5py.File``/``Group``/``Dataset``; ``None`` for anything else."""
    if isinstance(obj, h5py.Dataset):
        return H5Array(obj, allow_external_links=allow_external_links)
    if isinstance(obj, h5py.Group):
        return H5Group(obj, allow_external_links=allow_external_links)
    return None

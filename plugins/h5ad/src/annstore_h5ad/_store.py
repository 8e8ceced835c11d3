"""h5py adapters to annstore's store protocol: ``H5Group``, ``H5Array`` and their attributes.

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
* external links, and soft links whose target cannot be resolved inside the file, raise
  :class:`~annstore.errors.InvalidFileError` unless ``allow_external_links`` was given.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import h5py
import numpy as np
import pandas as pd
from annstore.errors import CapabilityError, InvalidFileError

from ._confine import OPT_IN, check_storage, outside_data_allowed

__all__ = ["FORMAT", "HDF5_MAGIC", "H5Array", "H5Attrs", "H5Group", "adapt", "open_h5_store"]

#: The first eight bytes of every HDF5 file (at offset 0 when there is no user block).
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
FORMAT = "h5ad"

_STR = h5py.string_dtype("utf-8")
#: numpy's variable-width string dtype (numpy >= 2), used as a fast decode target for reads.
_STRING_DTYPE: Any = getattr(getattr(np, "dtypes", None), "StringDType", None)
_STRING_DTYPE = _STRING_DTYPE() if _STRING_DTYPE is not None else None
#: h5py writes StringDType arrays as variable-length UTF-8 strings from 3.14 on.
_NPY_STRINGS_WRITE = _STRING_DTYPE is not None and tuple(
    int(x) for x in h5py.__version__.split(".")[:2]
) >= (3, 14)
#: create_dataset keywords that only apply to chunked, non-empty datasets.
_CHUNK_ONLY = ("compression", "compression_opts", "chunks", "shuffle", "fletcher32", "scaleoffset")
_PASSED = (*_CHUNK_ONLY, "maxshape", "fillvalue", "track_times")


# --------------------------------------------------------------------------- values


def _decode(x: Any) -> Any:
    return x.decode("utf-8") if isinstance(x, bytes) else x


def norm_attr(v: Any) -> Any:
    """Return an HDF5 attribute value as plain Python (see the module docstring)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, h5py.Empty):
        return None
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OSU":
            return [str(_decode(x)) for x in v.ravel().tolist()]
        if v.size == 0 and v.ndim == 1:
            return []
        if v.ndim == 0:
            return v.item()
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def to_attr(v: Any) -> Any:
    """Convert a Python attribute value to what h5py stores the way anndata does."""
    if isinstance(v, tuple):
        v = list(v)
    if isinstance(v, list):
        if not v:
            return np.array([], dtype="f8")
        if all(isinstance(x, str) for x in v):
            return np.array(v, dtype=_STR)
        return np.asarray(v)
    if isinstance(v, np.ndarray) and v.dtype.kind == "U":
        return v.astype(_STR)
    return v


def _str_compound(dt: np.dtype[Any]) -> np.dtype[Any]:
    return np.dtype([(n, _STR if dt[n].kind in "UO" else dt[n]) for n in dt.names or ()])


def _to_stored(data: Any, dtype: Any) -> np.ndarray[Any, Any]:
    if isinstance(data, h5py.Empty):
        return data  # type: ignore[return-value]
    arr = np.asarray(data)
    if dtype is not None and np.dtype(dtype).kind not in "OUT" and arr.dtype != np.dtype(dtype):
        arr = arr.astype(dtype)
    kind = arr.dtype.kind
    if kind in "UT":
        return _vlen_strings(arr)
    if kind == "O":
        if arr.size and pd.api.types.infer_dtype(arr.ravel(), skipna=False) == "string":
            return _vlen_strings(arr)  # all str: checked at C speed
        for x in arr.ravel().tolist():
            if not isinstance(x, str):
                msg = (
                    "Expected str elements in a string array; got "
                    f"{type(x).__name__} {x!r} instead."
                )
                raise TypeError(msg)
        return arr.astype(_STR)
    if kind == "S":
        msg = "Byte-string arrays are not supported; decode them to str first."
        raise TypeError(msg)
    if arr.dtype.names and any(arr.dtype[n].kind in "UO" for n in arr.dtype.names):
        out = np.empty(arr.shape, dtype=_str_compound(arr.dtype))
        for n in arr.dtype.names:
            out[n] = arr[n] if arr.dtype[n].kind not in "U" else arr[n].astype(object)
        return out
    return arr


def _vlen_strings(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A non-scalar array of str ready for HDF5 variable-length UTF-8 storage.

    With h5py >= 3.14 a numpy ``StringDType`` array is written to the same HDF5 type
    (variable-length, UTF-8) with the encoding done in C, faster than h5py's per-object
    conversion of an ``object`` array.
    """
    # HDF5 would cut a StringDType string at an embedded NUL; the object path raises h5py's
    # "VLEN strings do not support embedded NULLs" instead, as before.
    if _NPY_STRINGS_WRITE and arr.ndim and arr.size and "\x00" not in "".join(arr.ravel().tolist()):
        return arr.astype(_STRING_DTYPE)
    return arr.astype(_STR)


def _from_compound(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Record arrays with vlen string fields come back with ``U`` fields."""
    names = arr.dtype.names or ()
    if not any(h5py.check_string_dtype(arr.dtype[n]) is not None for n in names):
        return arr
    cols = {}
    for n in names:
        if h5py.check_string_dtype(arr.dtype[n]) is not None:
            cols[n] = np.array([str(_decode(x)) for x in arr[n].ravel().tolist()], dtype=str)
            cols[n] = cols[n].reshape(arr.shape) if cols[n].size else np.zeros(arr.shape, "U1")
        else:
            cols[n] = arr[n]
    out = np.empty(arr.shape, dtype=[(n, cols[n].dtype) for n in names])
    for n in names:
        out[n] = cols[n]
    return out


# --------------------------------------------------------------------------- attributes


class H5Attrs(MutableMapping[str, Any]):
    """Attributes of an HDF5 object, read back as plain Python values."""

    __slots__ = ("_a",)

    def __init__(self, attrs: h5py.AttributeManager) -> None:
        self._a = attrs

    def __getitem__(self, k: str) -> Any:
        return norm_attr(self._a[k])

    def __setitem__(self, k: str, v: Any) -> None:
        self._a[k] = to_attr(v)

    def __delitem__(self, k: str) -> None:
        del self._a[k]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._a.keys()))

    def __len__(self) -> int:
        return len(self._a)

    def __contains__(self, k: object) -> bool:
        return k in self._a

    def __repr__(self) -> str:
        return f"H5Attrs({dict(self)!r})"


# --------------------------------------------------------------------------- nodes


class _Node:
    _annstore_node = True
    format = FORMAT

    def __init__(self, obj: Any, *, allow_external_links: bool = False) -> None:
        self._obj = obj
        self._allow_ext = outside_data_allowed(allow_external_links)
        self.name: str = obj.name or "/"
        try:
            self.filename: str | None = obj.file.filename
        except Exception:  # noqa: BLE001 - closed or in-memory file
            self.filename = None

    @property
    def attrs(self) -> H5Attrs:
        return H5Attrs(self._obj.attrs)

    @property
    def h5(self) -> Any:
        """The wrapped h5py object."""
        return self._obj

    @property
    def native(self) -> Any:
        """The wrapped h5py object (what read/write callbacks receive, as in anndata)."""
        return self._obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Node) and self._obj == other._obj

    def __hash__(self) -> int:
        return hash(self._obj)


def _selection_is_basic(sel: Any) -> bool:
    items = sel if isinstance(sel, tuple) else (sel,)
    return all(
        isinstance(s, slice | int | np.integer) or s is Ellipsis for s in items
    )


def _as_index_array(s: Any, n: int) -> np.ndarray[Any, Any] | None:
    if isinstance(s, slice | int | np.integer) or s is Ellipsis:
        return None
    a = np.asarray(s)
    if a.dtype == bool:
        if a.shape != (n,):
            msg = f"Expected a boolean mask of length {n}; got shape {a.shape} instead."
            raise IndexError(msg)
        return np.flatnonzero(a)
    if a.dtype.kind not in "iu":
        msg = f"Expected slices, integers or integer/boolean arrays; got {a.dtype} instead."
        raise IndexError(msg)
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < -n or a.max() >= n):
        msg = f"Index out of range for axis of length {n}."
        raise IndexError(msg)
    return np.where(a < 0, a + n, a)


class H5Array(_Node):
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
        self._str_native = self._is_str and info.encoding == "utf-8" and _STRING_DTYPE is not None

    @property
    def is_empty(self) -> bool:
        """Whether this is an ``h5py.Empty`` dataset (anndata's ``null``)."""
        return self._obj.shape is None

    @property
    def shape(self) -> tuple[int, ...]:
        s = self._obj.shape
        return () if s is None else tuple(int(x) for x in s)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

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

    def __len__(self) -> int:
        if not self.shape:
            msg = "len() of a scalar dataset"
            raise TypeError(msg)
        return self.shape[0]

    def _raw(self, sel: Any) -> Any:
        if self._str_native:
            out = self._obj.astype(_STRING_DTYPE)[sel]
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
            out = _from_compound(out)
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
        items = list(sel) if isinstance(sel, tuple) else [sel]
        if any(s is Ellipsis for s in items):
            i = items.index(Ellipsis)
            items[i : i + 1] = [slice(None)] * (self.ndim - len(items) + 1)
        items += [slice(None)] * (self.ndim - len(items))
        idx = [_as_index_array(s, n) for s, n in zip(items, self.shape, strict=False)]
        arrays = [i for i, a in enumerate(idx) if a is not None]
        # h5py's native rule: one increasing, unique integer list, here restricted to axis 0.
        if arrays == [0]:
            a = idx[0]
            assert a is not None
            if a.size == 0:
                return self._raw(tuple([slice(0, 0), *items[1:]]))
            if a.size == 1 or bool(np.all(np.diff(a) > 0)):
                return self._raw(tuple([a, *items[1:]]))
        # Fallback: read the bounding box of every array axis, then index in memory.
        box: list[Any] = []
        local: list[Any] = []
        for s, a in zip(items, idx, strict=False):
            if a is None:
                box.append(s)
                local.append(slice(None) if not isinstance(s, int | np.integer) else None)
            elif a.size == 0:
                box.append(slice(0, 0))
                local.append(np.zeros(0, dtype=np.int64))
            else:
                lo, hi = int(a.min()), int(a.max()) + 1
                box.append(slice(lo, hi))
                local.append(a - lo)
        block = self._raw(tuple(box))
        # Integer axes were dropped from ``block``; drop them from ``local`` too.
        local = [s for s in local if s is not None]
        arr_pos = [i for i, s in enumerate(local) if isinstance(s, np.ndarray)]
        if len(arr_pos) <= 1:
            return block[tuple(local)]
        # Several array axes: outer (orthogonal) indexing, one axis at a time, as h5py/zarr do.
        out = block
        for i in arr_pos:
            key: list[Any] = [slice(None)] * out.ndim
            key[i] = local[i]
            out = out[tuple(key)]
        return out

    def __setitem__(self, sel: Any, value: Any) -> None:
        if self._is_str:
            value = np.asarray(value)
            if value.dtype.kind in "UT":
                value = value.astype(object)
        self._obj[sel] = value

    def resize(self, shape: tuple[int, ...] | int) -> None:
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
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

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        a = np.asarray(self[()])
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        return f"<H5Array {self.name!r} shape={self.shape} dtype={self.dtype} file={self.filename!r}>"


class H5Group(_Node):
    """An h5py group (or file) as a :class:`~annstore.types.GroupLike`."""

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

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._obj)

    def __getitem__(self, key: str) -> H5Group | H5Array:
        if key in ("", "/") and self.name == "/":
            return self
        self._check_links(key)
        try:
            obj = self._obj[key]
        except KeyError:
            msg = f"{key!r} not found in group {self.name!r} of {self.filename!r}"
            raise KeyError(msg) from None
        return self._wrap(obj)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            return self._obj.get(key, getlink=True) is not None
        except (KeyError, ValueError):
            return False

    def __delitem__(self, key: str) -> None:
        del self._obj[key]

    def items(self) -> list[tuple[str, H5Group | H5Array]]:
        return [(k, self[k]) for k in self.keys()]

    # -- creation ----------------------------------------------------------------------

    def create_group(self, name: str) -> H5Group:
        return H5Group(self._obj.create_group(name), allow_external_links=self._allow_ext)

    def create_group_large_attrs(self, name: str) -> H5Group:
        """A group whose attributes may exceed HDF5's 64 kB object-header limit (dense
        attribute storage, as anndata creates dataframes of more than 5000 columns)."""
        return H5Group(
            self._obj.create_group(name, track_order=True), allow_external_links=self._allow_ext
        )

    def require_group(self, name: str) -> H5Group:
        return H5Group(self._obj.require_group(name), allow_external_links=self._allow_ext)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> H5Array:
        kw = {k: v for k, v in storage_options.items() if k in _PASSED and v is not None}
        if data is None:
            if shape is None:
                msg = "create_array needs data or shape"
                raise TypeError(msg)
            dt = np.dtype(dtype if dtype is not None else "f8")
            if dt.kind in "OUT":
                dt = _STR
            elif dt.names:
                dt = _str_compound(dt)
            shape = tuple(int(s) for s in shape)
            kw = _fit_kwargs(kw, shape)
            return H5Array(self._obj.create_dataset(name, shape=shape, dtype=dt, **kw))
        stored = _to_stored(data, dtype)
        if isinstance(stored, h5py.Empty):
            return H5Array(self._obj.create_dataset(name, data=stored))
        kw = _fit_kwargs(kw, stored.shape)
        return H5Array(self._obj.create_dataset(name, data=stored, **kw))

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

    def __enter__(self) -> H5Group:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<H5Group {self.name!r} file={self.filename!r}>"


def _fit_kwargs(kw: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """Adapt storage options to a dataset's shape, as anndata's h5py calls end up doing.

    Scalars get no filters, chunks or maxshape (HDF5 cannot chunk them). Empty arrays keep
    their filters (h5py picks chunks itself, as for anndata's files) but not explicit chunks.
    Explicit chunks are clipped to the shape; a maxshape of the wrong rank is dropped.
    """
    kw = dict(kw)
    if not shape:
        return {k: v for k, v in kw.items() if k not in _CHUNK_ONLY and k != "maxshape"}
    if "maxshape" in kw and len(kw["maxshape"]) != len(shape):
        kw.pop("maxshape")
    chunks = kw.get("chunks")
    if isinstance(chunks, tuple | list):
        if len(chunks) != len(shape) or 0 in shape:
            kw.pop("chunks")
        else:
            kw["chunks"] = tuple(
                int(s) if c is None else min(int(c), int(s)) for c, s in zip(chunks, shape, strict=True)
            )
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

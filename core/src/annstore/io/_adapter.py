"""The public base of store adapters: what every hierarchical backend does the same way.

A storage plugin adapts its library's objects to :class:`~annstore.types.GroupLike` and
:class:`~annstore.types.ArrayLike` by subclassing :class:`GroupBase` and :class:`ArrayBase`
(and :class:`StoreAttrs` for attributes). The base classes hold the protocol's shared rules
once: nested keys, error messages that name the store and the key, ``require_group``, the
checks and normalisation of ``create_array`` (data, shape, dtype, string elements, storage
options), attribute values as plain Python, ``read_into``, ``resize`` arguments, equality and
``repr``. A subclass supplies only what its library does differently, through a few
underscore methods (``_child``, ``_remove``, ``_new_group``, ``_new_array`` on groups;
``shape``, ``dtype``, ``__getitem__``, ``__setitem__``, ``_resize`` on arrays).

The helper functions (:func:`plain_attr`, :func:`check_str_elements`, :func:`fit_chunks`,
:func:`expand_selection`, :func:`index_array`, :func:`bounding_box`, :func:`outer_take`,
:func:`outer_put`) are the same rules for adapters that need them outside the base classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "ArrayBase",
    "GroupBase",
    "StoreAttrs",
    "StoreNode",
    "bounding_box",
    "check_str_elements",
    "expand_selection",
    "fit_chunks",
    "index_array",
    "outer_put",
    "outer_take",
    "plain_attr",
]

#: Storage options that cannot apply to a 0-d array (no chunks, filters or growth).
SCALAR_DROP = (
    "chunks", "shards", "compression", "compression_opts", "compressor", "compressors",
    "filters", "shuffle", "fletcher32", "scaleoffset", "maxshape",
)
_STR_KINDS = "OUT"


# ------------------------------------------------------------------------------ values


def plain_attr(value: Any, *, keep_arrays: bool = False, strict: bool = False) -> Any:
    """Return an attribute value as plain Python.

    ``bytes`` and numpy strings become ``str``, numpy scalars Python numbers, tuples lists
    (recursively, as are dict values; dict keys become ``str``), string arrays lists of
    ``str``. Numeric arrays become (nested) lists, or stay arrays with ``keep_arrays`` (0-d
    ones then become Python scalars).

    Parameters
    ----------
    value
        The value read from or about to be written to a store.
    keep_arrays
        Keep numeric numpy arrays as arrays (stores with native numeric vectors).
    strict
        Raise :class:`TypeError` for values JSON cannot hold (complex numbers, objects).

    Examples
    --------
    >>> plain_attr((np.int64(1), b"x", np.array(["a", "b"])))
    [1, 'x', ['a', 'b']]
    """
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUST":
            return [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in value.reshape(-1).tolist()]
        if keep_arrays:
            return value.item() if value.ndim == 0 else value
        return plain_attr(value.tolist(), strict=strict)
    if isinstance(value, np.generic):
        return plain_attr(value.item(), strict=strict)
    if isinstance(value, tuple | list):
        return [plain_attr(x, keep_arrays=keep_arrays, strict=strict) for x in value]
    if isinstance(value, dict):
        return {str(k): plain_attr(v, keep_arrays=keep_arrays, strict=strict) for k, v in value.items()}
    if strict and (isinstance(value, complex) or not (value is None or isinstance(value, str | int | float))):
        msg = (
            "Expected a str, number, bool, list, dict or numpy array attribute; got "
            f"{type(value).__name__} {value!r} instead."
        )
        raise TypeError(msg)
    return value


def check_str_elements(arr: np.ndarray[Any, Any], where: str = "") -> None:
    """Raise :class:`TypeError` unless the ``object`` array ``arr`` holds only ``str``.

    ``where`` (e.g. ``" '/obs/_index'"``) is added to the message.

    Parameters
    ----------
    arr
        An ``object`` array.
    where
        Text naming the element, appended to the message.

    Raises
    ------
    TypeError
        An element is not a ``str``.
    """
    if arr.dtype.kind != "O" or not arr.size:
        return
    import pandas as pd

    if pd.api.types.infer_dtype(arr.reshape(-1), skipna=False) == "string":
        return  # all str: checked at C speed
    for x in arr.reshape(-1).tolist():
        if not isinstance(x, str):
            msg = f"Expected str elements in a string array{where}; got {type(x).__name__} {x!r} instead."
            raise TypeError(msg)


def fit_chunks(chunks: Any, shape: tuple[int, ...], *, clip: bool = True) -> tuple[int, ...] | None:
    """An explicit chunk shape fitted to ``shape``; ``None`` when the ranks differ.

    An ``int`` is the extent of the first axis (the others whole). ``None`` or a non-positive
    extent means the whole axis (at least 1); with ``clip`` extents are cut to the shape.

    Parameters
    ----------
    chunks
        An int, a tuple of extents (``None`` or non-positive entries for whole axes), or ``None``.
    shape
        The array's shape.
    clip
        Cut extents to the shape.

    Returns
    -------
    tuple of int or None
    """
    if isinstance(chunks, int | np.integer) and not isinstance(chunks, bool):
        chunks = (int(chunks), *shape[1:])
    if not isinstance(chunks, tuple | list) or len(chunks) != len(shape):
        return None
    out = []
    for c, s in zip(chunks, shape, strict=True):
        whole = max(int(s), 1)
        if c is None or int(c) <= 0:
            out.append(whole)
        else:
            out.append(min(int(c), whole) if clip else int(c))
    return tuple(out)


# ------------------------------------------------------------------------------ selections


def expand_selection(sel: Any, ndim: int) -> list[Any]:
    """``sel`` as one item per axis: ``...`` expanded, missing trailing axes ``slice(None)``.

    Parameters
    ----------
    sel
        One index or a tuple of them (``...`` allowed once).
    ndim
        The number of axes.

    Returns
    -------
    list

    Raises
    ------
    IndexError
        More indices than axes, or more than one ``...``.
    """
    items = list(sel) if isinstance(sel, tuple) else [sel]
    n_ell = sum(1 for s in items if s is Ellipsis)
    if n_ell > 1:
        msg = "An index can only have a single ellipsis ('...')"
        raise IndexError(msg)
    if n_ell:
        i = next(k for k, s in enumerate(items) if s is Ellipsis)
        items[i : i + 1] = [slice(None)] * (ndim - len(items) + 1)
    if len(items) > ndim:
        msg = f"Too many indices: the array is {ndim}-dimensional, but {len(items)} were indexed"
        raise IndexError(msg)
    return items + [slice(None)] * (ndim - len(items))


def index_array(s: Any, n: int, axis: int = 0, name: str = "") -> np.ndarray[Any, Any]:
    """An integer or boolean index of an axis of length ``n`` as non-negative ``int64`` positions.

    Parameters
    ----------
    s
        A boolean mask or integer positions (negative counted from the end).
    n
        The length of the axis.
    axis
        The axis, for messages.
    name
        The array's path, for messages.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    IndexError
        A position is out of bounds, or a mask has the wrong length.
    """
    where = f" on axis {axis}" + (f" of {name!r}" if name else "")
    a = np.asarray(s)
    if a.dtype == bool:
        if a.shape != (n,):
            msg = f"Expected a boolean mask of length {n}{where}; got shape {a.shape} instead."
            raise IndexError(msg)
        return np.flatnonzero(a)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if a.dtype.kind not in "iu" or a.ndim != 1:
        msg = f"Expected slices, integers or 1-d integer/boolean arrays{where}; got {a.dtype} of shape {a.shape} instead."
        raise IndexError(msg)
    a = a.astype(np.int64, copy=False)
    if a.min() < -n or a.max() >= n:
        msg = f"Index out of range{where} (size {n})."
        raise IndexError(msg)
    return np.where(a < 0, a + n, a)


def bounding_box(sel: Any, shape: tuple[int, ...], name: str = "") -> tuple[tuple[Any, ...], list[Any]]:
    """Split an orthogonal selection into a basic one and what to apply to its result.

    Returns ``(box, local)``: ``box`` holds contiguous slices and integers (what every backend
    reads and writes natively); ``local`` one entry per axis that ``box`` keeps (integer axes
    are dropped): a slice or an index array into the block ``box`` selects. Read with
    :func:`outer_take`, assign with :func:`outer_put`.

    Parameters
    ----------
    sel
        An orthogonal selection: one int, slice, boolean mask or integer array per axis.
    shape
        The shape of the array.
    name
        The array's path, for messages.

    Returns
    -------
    tuple
        ``(box, local)`` as above.

    Raises
    ------
    IndexError
        An index is out of bounds, or a mask has the wrong length.
    TypeError
        An index of an unsupported kind.
    """
    box: list[Any] = []
    local: list[Any] = []
    for ax, (s, n) in enumerate(zip(expand_selection(sel, len(shape)), shape, strict=True)):
        if isinstance(s, int | np.integer) and not isinstance(s, bool | np.bool_):
            i = int(s) + n if int(s) < 0 else int(s)
            if not 0 <= i < n:
                msg = f"Index {int(s)} is out of bounds for axis {ax}" + (f" of {name!r}" if name else "") + f" with size {n}"
                raise IndexError(msg)
            box.append(i)
            continue
        if isinstance(s, slice):
            start, stop, step = s.indices(n)
            if step > 0:
                box.append(slice(start, max(start, stop)))
                local.append(slice(None, None, step) if step != 1 else slice(None))
                continue
            s = np.arange(start, stop, step)
        a = index_array(s, n, ax, name)
        lo, hi = (int(a.min()), int(a.max()) + 1) if a.size else (0, 0)
        box.append(slice(lo, hi))
        local.append(a - lo)
    return tuple(box), local


def outer_take(block: Any, local: list[Any]) -> Any:
    """``block`` indexed by ``local`` one axis at a time (orthogonal indexing, as h5py and zarr).

    Parameters
    ----------
    block
        The block read for the bounding box.
    local
        The ``local`` part of :func:`bounding_box`'s result.

    Returns
    -------
    numpy.ndarray
    """
    arrays = [i for i, s in enumerate(local) if isinstance(s, np.ndarray)]
    if len(arrays) <= 1:
        return block[tuple(local)]
    out = block[tuple(s if isinstance(s, slice) else slice(None) for s in local)]
    for i in arrays:
        key: list[Any] = [slice(None)] * out.ndim
        key[i] = local[i]
        out = out[tuple(key)]
    return out


def outer_put(block: np.ndarray[Any, Any], local: list[Any], value: Any) -> None:
    """Assign ``value`` to the orthogonal selection ``local`` of ``block`` (in place).

    Parameters
    ----------
    block
        The array read for the bounding box (see :func:`bounding_box`), modified in place.
    local
        The ``local`` part of :func:`bounding_box`'s result.
    value
        The values, broadcastable to the selection.
    """
    ix = [np.arange(block.shape[i])[s] if isinstance(s, slice) else s for i, s in enumerate(local)]
    block[np.ix_(*ix)] = value


def _shape_of(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)


def _join(parent: str, key: str) -> str:
    return "/" + key if parent in ("", "/") else f"{parent.rstrip('/')}/{key}"


# ------------------------------------------------------------------------------ attributes


class StoreAttrs(MutableMapping[str, Any]):
    """The attributes of a store node, read back as plain Python values.

    Wraps the library's own attribute mapping (``native``). Override :meth:`encode` and
    :meth:`decode` for the values, and ``_keys``/``_get``/``_set``/``_delete`` when the
    library's mapping is not a plain mutable mapping. :meth:`update` sets several attributes
    with one ``_set`` call (one metadata write where the backend batches).

    Parameters
    ----------
    native
        The storage library's attribute mapping (``h5py`` ``AttributeManager``, zarr attrs).
    node
        The node the attributes belong to (for messages).
    """

    __slots__ = ("_native", "_node")
    #: Attribute names the adapter keeps for itself (hidden, and refused on write).
    _reserved: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, native: Any, node: StoreNode | None = None) -> None:
        self._native = native
        self._node = node

    # -- to override -----------------------------------------------------------------------

    def encode(self, value: Any) -> Any:
        """The stored form of ``value`` (default: plain, JSON-able Python).

        Parameters
        ----------
        value
            A plain Python value: str, number, bool, list, dict, numpy array or scalar.

        Returns
        -------
        object
            What the backend stores.
        """
        return plain_attr(value)

    def decode(self, raw: Any) -> Any:
        """The plain-Python value of a stored ``raw`` value (default: as stored).

        Parameters
        ----------
        raw
            A value as the backend returned it.

        Returns
        -------
        object
        """
        return raw

    def _keys(self) -> list[str]:
        return list(self._native.keys())

    def _get(self, key: str) -> Any:
        return self._native[key]

    def _set(self, items: dict[str, Any]) -> None:
        for k, v in items.items():
            self._native[k] = v

    def _delete(self, key: str) -> None:
        del self._native[key]

    # -- the mapping -----------------------------------------------------------------------

    def _names(self) -> list[str]:
        keys = self._keys()
        return [k for k in keys if k not in self._reserved] if self._reserved else keys

    def _on(self) -> str:
        n = self._node
        return "" if n is None else f" on {n.name!r} {n._where()}"

    def __getitem__(self, key: str) -> Any:
        if key in self._reserved:
            raise KeyError(key)
        return self.decode(self._get(key))

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        """Set several attributes at once.

        Parameters
        ----------
        other
            A mapping or iterable of ``(key, value)`` pairs.
        **kw
            More attributes.
        """
        items = dict(other, **kw)
        for k in items:
            if not isinstance(k, str) or not k or k in self._reserved:
                reserved = f" other than {sorted(self._reserved)}" if self._reserved else ""
                msg = f"Expected a non-empty str attribute name{reserved}; got {k!r}{self._on()}."
                raise KeyError(msg)
        if items:
            self._set({k: self.encode(v) for k, v in items.items()})

    def __delitem__(self, key: str) -> None:
        if key not in self:
            msg = f"Attribute {key!r} not found{self._on()}"
            raise KeyError(msg)
        self._delete(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key not in self._reserved and key in self._names()

    def asdict(self) -> dict[str, Any]:
        """All attributes as a plain ``dict``."""
        return {k: self[k] for k in self}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.asdict()!r})"


# ------------------------------------------------------------------------------ nodes


class StoreNode:
    """What every node of a store adapter has: ``name``, ``filename``, ``format``, ``attrs``.

    Subclasses set the class attributes :attr:`format` (the format name) and
    :attr:`store_kind` (how messages name a store, e.g. ``"zarr store"``), and implement
    :attr:`attrs` and :attr:`native`.

    Parameters
    ----------
    name
        The absolute path of the node inside the store (``"/"`` for the root).
    filename
        The file, directory or URL of the store (``None`` where there is none).
    """

    _annstore_node = True
    #: The format name (``FormatInfo.name``).
    format: ClassVar[str] = ""
    #: How error messages name a store of this format.
    store_kind: ClassVar[str] = "store"

    def __init__(self, name: str, filename: str | None) -> None:
        self.name = name or "/"
        self.filename = filename

    @property
    def attrs(self) -> MutableMapping[str, Any]:
        """The node's attributes (a :class:`StoreAttrs`)."""
        raise NotImplementedError

    @property
    def native(self) -> Any:
        """The storage library's own object (what read/write callbacks receive)."""
        raise NotImplementedError

    def _where(self) -> str:
        return f"in {self.store_kind} {self.filename!r}" if self.filename else f"in {self.store_kind}"

    def _identity(self) -> Any:
        """What makes two nodes the same element (default: file and path)."""
        return (self.filename, self.name)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StoreNode) and other.format == self.format
            and isinstance(other, GroupBase) == isinstance(self, GroupBase)
            and other._identity() == self._identity()
        )

    def __hash__(self) -> int:
        return hash((self.format, self._identity()))

    def _repr_extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self._where()}{self._repr_extra()}>"


class ArrayBase(StoreNode):
    """Base of an :class:`~annstore.types.ArrayLike` adapter.

    Implement ``shape``, ``dtype``, ``__getitem__``, ``__setitem__`` and ``_resize(shape)``;
    override :meth:`read_into` where the library reads into a buffer.

    Parameters
    ----------
    name
        The absolute path of the node inside the store (``"/"`` for the root).
    filename
        The file, directory or URL of the store (``None`` where there is none).
    """

    #: Whether ``__getitem__`` takes sorted integer arrays on the first axis.
    supports_fancy: ClassVar[bool] = True

    @property
    def shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype[Any]:
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            msg = f"len() of the 0-d array {self.name!r}"
            raise TypeError(msg)
        return shape[0]

    def __getitem__(self, selection: Any) -> Any:
        raise NotImplementedError

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        out = np.asarray(self[()] if not self.shape else self[...])
        return out if dtype is None else out.astype(dtype)

    def read_into(self, out: np.ndarray[Any, Any], selection: Any = ()) -> None:
        """Fill the preallocated ``out`` with ``self[selection]``.

        Parameters
        ----------
        out
            A numpy array of the selection's shape and the array's dtype.
        selection
            What to read, as for ``__getitem__`` (default: everything).
        """
        out[...] = self[selection]

    def resize(self, shape: tuple[int, ...] | int) -> None:
        """Change the shape (same number of dimensions; for appending).

        Parameters
        ----------
        shape
            The new shape (an int for a 1-d array).

        Raises
        ------
        NotImplementedError
            The adapter does not implement ``_resize`` (its format cannot append).
        """
        self._resize(_shape_of(shape))

    def _resize(self, shape: tuple[int, ...]) -> None:
        raise NotImplementedError

    def _repr_extra(self) -> str:
        return f" shape={self.shape} dtype={self.dtype}"


class GroupBase(StoreNode):
    """Base of a :class:`~annstore.types.GroupLike` adapter.

    Implement ``keys()``, ``_child(key)`` (one direct child or ``None``), ``_remove(key)``,
    ``_new_group(name)`` and ``_new_array(name, data, shape, dtype, options)``. Nested keys,
    missing-key errors, ``require_group`` and the checks of ``create_array`` are done here.

    Parameters
    ----------
    name
        The absolute path of the node inside the store (``"/"`` for the root).
    filename
        The file, directory or URL of the store (``None`` where there is none).
    """

    #: Storage options whose ``None`` means something (kept; others set to ``None`` are dropped).
    keep_none_options: ClassVar[tuple[str, ...]] = ()
    #: Whether ``create_group``/``create_array`` take nested names (``"a/b"``, as h5py does).
    nested_names: ClassVar[bool] = False

    # -- to implement ----------------------------------------------------------------------

    def keys(self) -> list[str]:
        """The names of the direct children (implemented by each adapter)."""
        raise NotImplementedError

    def _child(self, key: str) -> StoreNode | None:
        raise NotImplementedError

    def _remove(self, key: str) -> None:
        raise NotImplementedError

    def _new_group(self, name: str) -> GroupBase:
        raise NotImplementedError

    def _new_array(
        self, name: str, data: np.ndarray[Any, Any] | None, shape: tuple[int, ...],
        dtype: np.dtype[Any], options: dict[str, Any],
    ) -> ArrayBase:
        raise NotImplementedError

    # -- mapping ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def items(self) -> Iterator[tuple[str, StoreNode]]:
        """``(name, child)`` pairs of the direct children."""
        for k in self.keys():
            yield k, self[k]

    def get(self, key: str, default: Any = None) -> Any:
        """The child ``key`` (a path below this group), or ``default`` when there is none.

        Parameters
        ----------
        key
            The child's name or ``/``-separated path.
        default
            What to return when ``key`` is missing.

        Returns
        -------
        GroupBase, ArrayBase or object
        """
        return self[key] if key in self else default

    def child_path(self, key: str) -> str:
        """The absolute path in the store of the child ``key``.

        Parameters
        ----------
        key
            The child's name.

        Returns
        -------
        str
        """
        return _join(self.name, key)

    def _missing(self, key: str, detail: str = "") -> KeyError:
        return KeyError(f"{key!r} not found in group {self.name!r} {self._where()}{detail}")

    def _relative(self, key: str) -> str:
        """``key`` relative to this group (an absolute key counts from the store's root)."""
        if key.startswith("/") and self.name != "/":
            prefix = self.name.rstrip("/") + "/"
            if not key.startswith(prefix):
                raise self._missing(key, " (an absolute path outside this group)")
            return key[len(prefix) :]
        return key

    def _lookup(self, key: str) -> StoreNode:
        """The node at the (possibly nested) ``key``; :meth:`_missing` if none."""
        node: StoreNode = self
        parts = [p for p in self._relative(key).split("/") if p]
        for i, part in enumerate(parts):
            child = node._child(part) if isinstance(node, GroupBase) else None
            if child is None:
                raise self._missing(key, f" (no {'/'.join(parts[: i + 1])!r})" if i else "")
            node = child
        return node

    def __getitem__(self, key: str) -> Any:
        if key in ("", "/"):
            return self
        return self._lookup(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: str) -> None:
        parts = [p for p in self._relative(key).split("/") if p]
        if not parts:
            msg = f"Cannot delete the group {self.name!r} itself."
            raise KeyError(msg)
        parent = self["/".join(parts[:-1])] if len(parts) > 1 else self
        if not isinstance(parent, GroupBase) or parts[-1] not in parent:
            raise self._missing(key)
        parent._remove(parts[-1])

    # -- creation --------------------------------------------------------------------------

    def _check_new(self, name: str) -> None:
        if not isinstance(name, str) or not name or ("/" in name and not self.nested_names):
            msg = f"Expected a non-empty key without '/'; got {name!r} instead."
            raise ValueError(msg)
        if name in self:
            msg = f"{name!r} already exists in group {self.name!r} {self._where()}"
            raise ValueError(msg)

    def create_group(self, name: str) -> GroupBase:
        """Create the child group ``name`` (``ValueError`` if it exists).

        Parameters
        ----------
        name
            The child's name.

        Returns
        -------
        GroupBase
            The new group.

        Raises
        ------
        ValueError
            A child of that name exists.
        """
        self._check_new(name)
        return self._new_group(name)

    def require_group(self, name: str) -> GroupBase:
        """The child group ``name``, created when missing (``TypeError`` if it is an array).

        Parameters
        ----------
        name
            The child's name or path.

        Returns
        -------
        GroupBase

        Raises
        ------
        TypeError
            The child exists and is an array.
        """
        if name in self:
            node = self[name]
            if isinstance(node, GroupBase):
                return node
            msg = f"{name!r} in group {self.name!r} {self._where()} is an array, expected a group"
            raise TypeError(msg)
        return self.create_group(name)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | int | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> ArrayBase:
        """Create the child array ``name`` from ``data`` or as ``shape`` and ``dtype``.

        Checked here for every backend: ``data`` or ``shape`` given (and agreeing), no byte
        strings, ``str`` elements in ``object`` string arrays; ``data`` is cast to a numeric
        ``dtype``. The backend receives the data (numpy, strings as ``U``/``T``/``O``), the
        shape, the dtype (strings: ``object``) and the storage options of
        :meth:`storage_options_for`.

        Parameters
        ----------
        name
            The child's name or path.
        data
            The values.
        shape, dtype
            Shape and dtype of an empty array when ``data`` is not given; with ``data``, ``shape``
            must agree and ``dtype`` casts.
        **storage_options
            Backend options (``chunks``, ``compression``, ``maxshape``, ``fill_value``, ...).

        Returns
        -------
        ArrayBase
            The new array.

        Raises
        ------
        TypeError
            Neither ``data`` nor ``shape`` given, a byte-string array, or an ``object`` array
            holding something other than ``str``.
        ValueError
            ``shape`` disagrees with the shape of ``data``, or the child exists.
        """
        self._check_new(name)
        path = self.child_path(name)
        if data is None:
            if shape is None:
                msg = f"create_array needs data or shape (creating {path!r})."
                raise TypeError(msg)
            shp = _shape_of(shape)
            dt = np.dtype(dtype if dtype is not None else "f8")
        else:
            if isinstance(data, ArrayBase):
                data = data[()] if not data.shape else data[...]
            data = np.asarray(data)
            if shape is not None and _shape_of(shape) != data.shape:
                msg = f"Expected data of shape {_shape_of(shape)} for {path!r}; got {data.shape} instead."
                raise ValueError(msg)
            if dtype is not None and np.dtype(dtype).kind not in _STR_KINDS and data.dtype != np.dtype(dtype):
                data = data.astype(dtype)
            shp = tuple(int(s) for s in data.shape)
            dt = data.dtype
        if dt.kind == "S":
            msg = f"Byte-string arrays are not supported ({path!r} {self._where()}); decode them to str first."
            raise TypeError(msg)
        if dt.kind in _STR_KINDS:
            dt = np.dtype(object)
            if data is not None:
                check_str_elements(data, f" {path!r}")
        return self._new_array(name, data, shp, dt, self.storage_options_for(shp, storage_options))

    def storage_options_for(self, shape: tuple[int, ...], options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` as the backend receives them.

        ``dtype`` is dropped, as are options set to ``None`` (except
        :attr:`keep_none_options`); ``fillvalue`` (h5py's spelling) becomes ``fill_value``;
        0-d arrays lose the options of :data:`SCALAR_DROP` (chunks, filters, compression,
        ``maxshape``). Fit explicit ``chunks`` to the shape with :func:`fit_chunks`.

        Parameters
        ----------
        shape
            The shape of the array being created.
        options
            The storage options the caller gave.

        Returns
        -------
        dict
        """
        opts = {
            k: v for k, v in options.items()
            if k != "dtype" and (v is not None or k in self.keep_none_options)
        }
        if "fillvalue" in opts:
            fill = opts.pop("fillvalue")
            opts.setdefault("fill_value", fill)
        if not shape:
            for k in SCALAR_DROP:
                opts.pop(k, None)
        return opts

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Release the store (on the root; adapters of a user's objects leave them open)."""

    def __enter__(self) -> GroupBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

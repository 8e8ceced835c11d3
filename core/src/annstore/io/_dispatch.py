"""Read/write dispatch: contexts that recurse through the registry, callbacks, key-path notes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import AnnstoreError, InvalidFileError, add_note_once
from ._spec import IOSpec

if TYPE_CHECKING:
    from ..types import ArrayLike, GroupLike
    from ._registry import Registry

__all__ = [
    "ReadCallback",
    "ReadContext",
    "WriteCallback",
    "WriteContext",
    "as_node",
    "is_group",
    "join_path",
    "read_dispatched",
    "read_elem",
    "write_dispatched",
    "write_elem",
]

ReadCallback = Callable[..., Any]
"""``callback(func, elem_name, elem, *, iospec) -> value`` (anndata's signature)."""
WriteCallback = Callable[..., None]
"""``callback(func, store, elem_name, elem, *, iospec, dataset_kwargs) -> None`` (anndata's)."""


def join_path(parent: str, key: str) -> str:
    return str(PurePosixPath(parent or "/") / key)


def is_group(node: Any) -> bool:
    """Whether a store node is a group (has ``create_group``), as opposed to an array."""
    return hasattr(node, "create_group")


def as_node(obj: Any) -> GroupLike | ArrayLike:
    """Return ``obj`` as a store node, adapting native objects (h5py, zarr) through plugins."""
    if getattr(obj, "_annstore_node", False):
        return obj
    from ._plugins import get_plugin_manager

    pm = get_plugin_manager()
    node = pm.hook.annstore_adapt_node(obj=obj)
    if node is None:
        raise TypeError(_not_a_node(obj, pm))
    return node


def _not_a_node(obj: Any, pm: Any) -> str:
    """Why ``obj`` is not a store node, naming the adapter's plugin when it looks like one."""
    what = f"{type(obj).__module__}.{type(obj).__qualname__}"
    fmt = getattr(obj, "format", None)
    looks_adapted = isinstance(fmt, str) and (hasattr(obj, "create_group") or hasattr(obj, "dtype"))
    if looks_adapted:
        owner = pm.format_owners.get(fmt)
        by = f"plugin {owner!r}" if owner else "a plugin"
        return (
            f"Expected a store node; got {what} (format {fmt!r}, from {by}), a store adapter "
            "whose class lacks the marker `_annstore_node = True`. The plugin must set this "
            "class attribute on its group and array classes."
        )
    asked = sorted(i.plugin_name for i in pm.hook.annstore_adapt_node.get_hookimpls())
    return (
        f"Expected a store node (an annstore group/array, an h5py or zarr object); got {what} "
        f"instead. No installed plugin adapts it (annstore_adapt_node asked: "
        f"{', '.join(asked) or 'none'})."
    )


def native_of(node: Any) -> Any:
    """The storage library's own object behind a store node (``h5py.Group``, ``zarr.Array``).

    This is what anndata hands to read/write callbacks; nodes without one (the in-memory
    format) are their own native object.
    """
    return getattr(node, "native", node)


def _describe(node: Any) -> str:
    fmt = getattr(node, "format", "?")
    fn = getattr(node, "filename", None)
    return f"{fmt} file {_user_path(fn)!r}" if fn is not None else f"{fmt} store"


def _user_path(filename: Any) -> str:
    """``filename`` as the user named it: a whole-file write's temporary sibling
    (``.annstore-tmp-<pid>-<id>-name``) is reported as the file being written."""
    import re

    from ._atomic import TMP_MARK

    text = str(filename)
    head, sep, base = text.rpartition("/")
    m = re.fullmatch(re.escape(TMP_MARK) + r"(?:old-)?\d+-[0-9a-f]{12}-(.+)", base)
    return f"{head}{sep}{m.group(1)}" if m else text


#: Encodings of the anndata spec stored as groups / as arrays; a node of the other kind is a
#: malformed file (checked before the reader runs, so no reader trips over a missing method).
_GROUP_ENCODINGS = frozenset(
    {"anndata", "raw", "dict", "dataframe", "categorical", "csr_matrix", "csc_matrix",
     "nullable-integer", "nullable-boolean", "nullable-string-array", "awkward-array"}
)
_ARRAY_ENCODINGS = frozenset(
    {"array", "string-array", "numeric-scalar", "string", "rec-array", "null"}
)

#: Builtin errors a reader trips over on malformed input (an unexpected node kind, dtype or
#: length deep inside numpy/pandas/scipy). Reported as :class:`InvalidFileError` naming the
#: element, with the original chained as ``__cause__``. MemoryError, OSError and annstore's own
#: errors pass through unchanged.
_MALFORMED_INPUT_ERRORS = (
    AttributeError, IndexError, KeyError, TypeError, ValueError, UnicodeError, OverflowError,
    RuntimeError,  # h5py reports damaged HDF5 structures (heaps, B-trees) as RuntimeError
)


def malformed(e: BaseException, callback: Any = None) -> bool:
    """Whether ``e``, raised while decoding stored data, means the input is malformed.

    annstore's own errors, a user callback's errors and ``NotImplementedError`` (an
    unsupported option, not bad data) are passed through unchanged.
    """
    return (
        isinstance(e, _MALFORMED_INPUT_ERRORS)
        and not isinstance(e, AnnstoreError | NotImplementedError)
        and callback is None
    )


def check_array_size(node: Any, what: str = "") -> None:
    """Refuse to read array ``node`` when its declared shape (or one stored chunk, which the
    storage library decompresses whole) needs more than the allocation budget
    (``settings.max_allocation``, see :mod:`annstore._limits`).

    Called before allocating, so a file declaring a shape of ``10**15`` raises
    :class:`InvalidFileError` instead of ``MemoryError`` (or the OOM killer).
    """
    import math

    import numpy as np

    from .._limits import check_allocation

    shape = tuple(getattr(node, "shape", ()) or ())
    try:
        dims = [int(s) for s in shape]
    except (TypeError, ValueError):
        dims = []
    if any(d < 0 for d in dims):
        msg = f"expected a non-negative shape; got {shape}."
        raise _invalid(node, msg)
    try:
        itemsize = max(int(np.dtype(node.dtype).itemsize), 8 if np.dtype(node.dtype).kind == "O" else 1)
    except TypeError:
        itemsize = 8
    label = f"the array{' ' + what if what else ''}"
    check_allocation(
        math.prod(dims) * itemsize, node, f"reading {label} (declared shape {shape}, dtype {node.dtype})"
    )
    chunks = getattr(node, "chunks", None)
    if isinstance(chunks, tuple) and all(isinstance(c, int | np.integer) for c in chunks):
        check_allocation(
            math.prod(int(c) for c in chunks) * itemsize, node,
            f"one stored chunk of {label} (declared chunk shape {chunks}, dtype {node.dtype})",
        )


def _invalid(node: Any, what: str) -> InvalidFileError:
    from .encodings._common import invalid

    return invalid(node, what)


class _Context:
    """What reading and writing share: the registry, the user's callback, free-form options
    (``as_sparse``, ``as_dense``, ``x_chunks``, ...) for the encodings that honour them."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        callback: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if registry is None:
            from ._plugins import get_registry

            registry = get_registry()
        self.registry = registry
        self.callback = callback
        self.options: Mapping[str, Any] = options or {}
        #: Nodes handed to callbacks as native objects, by ``id`` of the native object: when
        #: the callback passes one back, the node (and the state it shares with its store,
        #: e.g. zarr consolidation) is reused instead of adapting the native object afresh.
        self._nodes: dict[int, Any] = {}

    def _to_native(self, node: Any) -> Any:
        native = native_of(node)
        if self.callback is not None and native is not node:
            self._nodes[id(native)] = node
        return native

    def _node(self, obj: Any) -> Any:
        node = self._nodes.get(id(obj))
        if node is not None and native_of(node) is obj:
            return node
        return as_node(obj)


class ReadContext(_Context):
    """Reads elements recursively; encodings call :meth:`read_elem` for their children.

    ``callback`` is a :data:`ReadCallback` (see :func:`read_dispatched`).
    """

    def read_elem(self, elem: Any) -> Any:
        node = self._node(elem)
        spec = IOSpec.from_attrs(node.attrs)
        if self.callback is None:
            return self._read(node, spec)
        func = _ReadFunc(self, spec)
        try:
            return self.callback(func, node.name, self._to_native(node), iospec=spec)
        except Exception as e:
            add_note_once(e, _read_note(node, spec))
            raise

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Elements being read (file, path, spec): a reader that reads its own element again
        #: would recurse forever; it is stopped at once and named.
        self._active: set[tuple[str, str, IOSpec]] = set()

    def _read(self, node: GroupLike | ArrayLike, spec: IOSpec) -> Any:
        try:
            grp = is_group(node)
            entry = None
            if not spec:
                from .encodings._legacy import read_unencoded

                func: Callable[..., Any] = read_unencoded
                label = "an element without encoding attributes"
            else:
                entry = self.registry.find_reader(spec, node.format)
                func = entry.func
                label = f"encoding {spec}"
                if grp and spec.encoding_type in _ARRAY_ENCODINGS:
                    msg = f"expected an array for encoding {spec}; found a group."
                    raise _invalid(node, msg)
                if not grp and spec.encoding_type in _GROUP_ENCODINGS:
                    msg = f"expected a group for encoding {spec}; found an array."
                    raise _invalid(node, msg)
            if not grp:
                check_array_size(node)
            key = (str(node.filename), node.name, spec)
            if key in self._active and entry is not None:
                raise _reader_error(entry, node, "it read its own element again (endless recursion)")
            self._active.add(key)
            try:
                return func(node, ctx=self)
            except MemoryError as e:
                # Declared sizes were checked against the allocation budget: running out while
                # decoding means stored data claims more than it holds (e.g. a zstd frame
                # declaring 1 TiB of content in a chunk of a few bytes).
                msg = (
                    "decoding it ran out of memory although its declared sizes fit the "
                    "allocation budget: its stored data claims more than it holds (a "
                    "compressed chunk declaring a huge decompressed size?)."
                )
                raise _invalid(node, msg) from e
            except Exception as e:
                if entry is not None and _plugin_bug(entry, e):
                    raise _reader_error(entry, node, f"{type(e).__name__}: {e}") from e
                if not isinstance(e, _MALFORMED_INPUT_ERRORS) or not malformed(e, self.callback):
                    raise  # our own errors are precise; a callback's errors are the user's
                msg = f"reading it as {label} failed: {type(e).__name__}: {e}"
                raise _invalid(node, msg) from e
            finally:
                self._active.discard(key)
        except Exception as e:
            add_note_once(e, _read_note(node, spec))
            raise


def _is_core(owner: str) -> bool:
    return owner == "annstore" or owner.startswith("annstore.")


def _plugin_bug(entry: Any, e: BaseException) -> bool:
    """Whether ``e``, raised by a plugin's reader, is a bug of that reader rather than bad data.

    Core's readers check their input and translate what numpy/pandas raise on bad data. A
    plugin's reader reports malformed input with :class:`InvalidFileError` (or any annstore
    error); a builtin exception raised by the reader's own module (its code, not a library
    it calls), and any ``RecursionError``, is a bug of the reader.
    """
    if _is_core(entry.owner) or isinstance(e, AnnstoreError | MemoryError | OSError):
        return False
    if isinstance(e, RecursionError):
        return True
    import sys

    module = sys.modules.get(getattr(entry.func, "__module__", "") or "")
    source = getattr(module, "__file__", None) or getattr(
        getattr(entry.func, "__code__", None), "co_filename", None
    )
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return source is not None and last is not None and last.tb_frame.f_code.co_filename == source


def _reader_error(entry: Any, node: Any, what: str) -> Exception:
    from ..errors import PluginError

    msg = (
        f"The reader {_func_name(entry.func)} (registered by {entry.owner!r} for encoding "
        f"{entry.spec}) failed on element {node.name!r} of {_describe(node)}: {what}. "
        "This is a bug in the plugin's reader, not a malformed file (a reader reports "
        "malformed input by raising annstore.errors.InvalidFileError)."
    )
    return PluginError(msg, plugin=entry.owner)


class _ReadFunc:
    """The ``func`` handed to read callbacks: reads one element (children go back through the callback)."""

    __slots__ = ("_ctx", "_spec")

    def __init__(self, ctx: ReadContext, spec: IOSpec) -> None:
        self._ctx = ctx
        self._spec = spec

    def __call__(self, elem: Any) -> Any:
        node = self._ctx._node(elem)
        return self._ctx._read(node, IOSpec.from_attrs(node.attrs))


class WriteContext(_Context):
    """Writes elements recursively; encodings call :meth:`write_elem` for their children.

    ``callback`` is a :data:`WriteCallback` (see :func:`write_dispatched`).
    """

    def write_elem(
        self,
        parent: Any,
        key: str,
        value: Any,
        *,
        dataset_kwargs: Mapping[str, Any] = MappingProxyType({}),
    ) -> None:
        group = self._node(parent)
        given = key
        try:
            _check_writable(group)
            key = _relative_key(group, key)
            if self.callback is None:
                self._write(group, key, value, dataset_kwargs=dataset_kwargs, given=given)
                return
            spec = self.registry.spec_of(value, group.format)
        except Exception as e:
            add_note_once(e, _write_note(group, given, None))
            raise
        func = _WriteFunc(self)
        try:
            self.callback(
                func, self._to_native(group), key, value, iospec=spec, dataset_kwargs=dataset_kwargs
            )
        except Exception as e:
            add_note_once(e, _write_note(group, given, spec))
            raise

    def _write(
        self,
        group: GroupLike,
        key: str,
        value: Any,
        *,
        dataset_kwargs: Mapping[str, Any] = MappingProxyType({}),
        given: str | None = None,
    ) -> None:
        entry = None
        try:
            entry = self.registry.find_writer(value, group.format)
            if key == "/":
                self._write_root(group, value, entry, dataset_kwargs)
                return
            if key in group:
                del group[key]
            returned = entry.func(group, key, value, ctx=self, dataset_kwargs=dict(dataset_kwargs))
            spec = returned if isinstance(returned, IOSpec) else entry.spec
            if key not in group:
                raise _writer_created_nothing(entry, spec, join_path(group.name, key))
            group[key].attrs.update(spec.to_attrs())
        except Exception as e:
            add_note_once(e, _write_note(group, key if given is None else given, entry and entry.spec))
            raise

    def _write_root(
        self, group: GroupLike, value: Any, entry: Any, dataset_kwargs: Mapping[str, Any]
    ) -> None:
        """Replace the content of the root group ``group`` with ``value`` (a group encoding)."""
        if group.name != "/":
            msg = f"'/' is not in the subpath of {group.name!r}"
            raise ValueError(msg)
        for k in list(group.keys()):
            del group[k]
        for k in list(group.attrs.keys()):
            del group.attrs[k]
        returned = entry.func(
            _RootParent(group), "/", value, ctx=self, dataset_kwargs=dict(dataset_kwargs)
        )
        spec = returned if isinstance(returned, IOSpec) else entry.spec
        group.attrs.update(spec.to_attrs())


def _func_name(func: Any) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _writer_created_nothing(entry: Any, spec: IOSpec, elem: str) -> Exception:
    from ..errors import PluginError

    msg = (
        f"The writer {_func_name(entry.func)} (registered by {entry.owner!r} for "
        f"{_type_label(entry.type)} as encoding {spec}) returned without creating element "
        f"{elem!r}. A writer must create parent[key] (parent.create_group(key) or "
        "parent.create_array(key, ...)); core then stamps the encoding attributes on it."
    )
    return PluginError(msg, plugin=entry.owner)


def _type_label(t: Any) -> str:
    return t.__name__ if getattr(t, "__module__", "") == "builtins" else f"{t.__module__}.{t.__qualname__}"


class _RootParent:
    """The parent handed to a writer of the root group: its child ``"/"`` is the root itself.

    Writers create their group with ``parent.create_group(key)``; at the root that group exists
    (and was just emptied). Arrays cannot be stored at the root.
    """

    __slots__ = ("_root",)

    def __init__(self, root: GroupLike) -> None:
        self._root = root

    def __getattr__(self, name: str) -> Any:
        return getattr(self._root, name)

    def create_group(self, name: str) -> GroupLike:
        return self._root if name == "/" else self._root.create_group(name)

    def require_group(self, name: str) -> GroupLike:
        return self._root if name == "/" else self._root.require_group(name)  # type: ignore[attr-defined]

    def create_group_large_attrs(self, name: str) -> GroupLike:
        return self._root if name == "/" else self._root.create_group_large_attrs(name)  # type: ignore[attr-defined]

    def create_array(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "/":
            msg = "Cannot write an array to the root group '/'; write it under a key instead."
            raise ValueError(msg)
        return self._root.create_array(name, *args, **kwargs)

    def __getitem__(self, key: str) -> Any:
        return self._root if key == "/" else self._root[key]

    def __contains__(self, key: object) -> bool:
        return key == "/" or key in self._root

    def __delitem__(self, key: str) -> None:
        del self._root[key]

    def keys(self) -> Any:
        return self._root.keys()


def _split_name(name: str) -> tuple[str, str]:
    path, _, key = f"/{str(name).lstrip('/')}".rpartition("/")
    return path or "/", key


def _read_note(node: Any, spec: IOSpec) -> str:
    """anndata's note on a read error (``... reading key 'X' ... from /``), with the encoding and file."""
    path, key = _split_name(node.name)
    enc = f", encoding {spec}" if spec else ""
    return (
        f"Error raised while reading key {key!r} (element {node.name!r}{enc}) of "
        f"{_describe(node)} from {path}"
    )


def _write_note(group: Any, key: str, spec: IOSpec | None) -> str:
    """anndata's note on a write error (``... writing key 'c' ... to /uns/a/b``)."""
    enc = f", encoding {spec}" if spec else ""
    elem = join_path(group.name, key) if key != "/" else "/"
    return (
        f"Error raised while writing key {key!r} (element {elem!r}{enc}) of "
        f"{_describe(group)} to {group.name or '/'}"
    )


def _check_writable(group: Any) -> None:
    if getattr(group, "is_consolidated", False):
        msg = (
            "Cannot overwrite/edit a store with consolidated metadata; open it without "
            "consolidated metadata (e.g. zarr.open_group(store, use_consolidated=False)) to edit it."
        )
        raise ValueError(msg)


class _WriteFunc:
    __slots__ = ("_ctx",)

    def __init__(self, ctx: WriteContext) -> None:
        self._ctx = ctx

    def __call__(
        self,
        store: Any,
        elem_name: str,
        elem: Any,
        *,
        dataset_kwargs: Mapping[str, Any] = MappingProxyType({}),
    ) -> None:
        group = self._ctx._node(store)
        self._ctx._write(
            group, _relative_key(group, elem_name), elem, dataset_kwargs=dataset_kwargs,
            given=elem_name,
        )


def _relative_key(group: GroupLike, key: str) -> str:
    """``key`` relative to ``group``; a key with ``/`` inside is refused (zarr, and h5ad unless
    ``settings.disallow_forward_slash_in_h5ad`` is False, which warns as anndata does)."""
    if key == "/":
        return key
    if key.startswith("/"):
        key = str(PurePosixPath(key).relative_to(group.name or "/"))
    if "/" in key:
        from .._settings import settings

        if group.format != "h5ad" or settings.disallow_forward_slash_in_h5ad:
            msg = (
                f"Forward slashes are not allowed in keys in {type(native_of(group))}; "
                f"got {key!r} instead."
            )
            raise ValueError(msg)
        import warnings

        msg = "Forward slashes will be written differently in a future anndata version"
        warnings.warn(msg, FutureWarning, stacklevel=4)
    return key


# ------------------------------------------------------------------------ public functions


def read_elem(elem: Any) -> Any:
    """Read an element from a store.

    Dispatches on the element's ``encoding-type`` / ``encoding-version`` attributes.

    Parameters
    ----------
    elem
        The stored element: an annstore store node, or a native ``h5py`` / ``zarr`` object.
    """
    return ReadContext().read_elem(elem)


def write_elem(
    store: Any,
    k: str,
    elem: Any,
    *,
    dataset_kwargs: Mapping[str, Any] = MappingProxyType({}),
) -> None:
    """Write an element to a store, encoded as the anndata on-disk spec says.

    Parameters
    ----------
    store
        The group to write into (an annstore group or a native ``h5py`` / ``zarr`` group).
    k
        Key of the element in ``store``. ``"/"`` replaces the root group's content.
    elem
        The value.
    dataset_kwargs
        Storage options for arrays (``compression``, ``chunks``, ...).
    """
    WriteContext().write_elem(store, k, elem, dataset_kwargs=dataset_kwargs)


def read_dispatched(elem: Any, callback: ReadCallback) -> Any:
    """Read ``elem``, calling ``callback(func, elem_name, elem, iospec=...)`` for every element.

    ``func(elem)`` reads one element the default way (its children again go through the
    callback). Same signature as anndata's ``read_dispatched``.

    Parameters
    ----------
    elem
        The stored element to read (an annstore group or array, or an h5py / zarr object).
    callback
        ``callback(func, elem_name, elem, iospec=...)``, called for the element and each of its
        children: ``func`` reads the element the default way, ``elem_name`` is its path, and
        ``iospec`` its :class:`IOSpec`. Return what should stand for that element.

    Returns
    -------
    object
        What the callback returned for ``elem``.
    """
    return ReadContext(callback=callback).read_elem(elem)


def write_dispatched(
    store: Any,
    key: str,
    elem: Any,
    callback: WriteCallback,
    *,
    dataset_kwargs: Mapping[str, Any] = MappingProxyType({}),
) -> None:
    """Write ``elem``, calling ``callback(func, store, elem_name, elem, iospec=..., dataset_kwargs=...)``.

    ``func(store, elem_name, elem, dataset_kwargs=...)`` writes one element the default way.
    Same signature as anndata's ``write_dispatched``.

    Parameters
    ----------
    store
        The group to write into.
    key
        The name of the new element in ``store``.
    elem
        The value to write.
    callback
        ``callback(func, store, elem_name, elem, iospec=..., dataset_kwargs=...)``, called for
        the value and each of its children: ``func`` writes it the default way.
    dataset_kwargs
        Storage options of every array written (``{"compression": "gzip"}``).
    """
    WriteContext(callback=callback).write_elem(store, key, elem, dataset_kwargs=dataset_kwargs)

"""The single encoding registry: readers keyed by (IOSpec, format), writers by (type, dtype kind, format)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import EncodingNotFoundError, PluginConflictError
from ._spec import IOSpec

__all__ = ["ANY_FORMAT", "ReaderFn", "Registry", "WriterFn"]

#: Format key of entries valid for every format.
ANY_FORMAT = "*"

ReaderFn = Callable[..., Any]
"""``reader(node, *, ctx: ReadContext) -> value``"""
WriterFn = Callable[..., "IOSpec | None"]
"""``writer(parent, key, value, *, ctx: WriteContext, dataset_kwargs: dict) -> IOSpec | None``

The writer creates ``parent[key]``; the registry stamps the encoding attributes afterwards
(the registered spec, or the one the writer returned when it depends on the value)."""


@dataclass(frozen=True, slots=True)
class ReaderEntry:
    spec: IOSpec
    format: str
    func: ReaderFn
    owner: str


@dataclass(frozen=True, slots=True)
class WriterEntry:
    type: type
    kind: str | None
    format: str
    spec: IOSpec
    func: WriterFn
    owner: str


def _owner_of(func: Callable[..., Any], owner: str | None) -> str:
    return owner or getattr(func, "__module__", None) or repr(func)


def _same_func(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    # Re-registering the same function (e.g. after refresh_formats()) is not a conflict.
    return a is b or (
        getattr(a, "__module__", None) == getattr(b, "__module__", None)
        and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)
    )


def _type_name(t: type) -> str:
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class Registry:
    """Readers and writers of element encodings.

    Reads dispatch on the element's :class:`IOSpec`, trying the entry for the store's format
    before the generic (``"*"``) one. Writes dispatch on the value's Python type, walking its
    MRO, and for array-likes on the dtype kind first (``kind=None`` matches any kind).
    The public views :attr:`readers` and :attr:`writers` are read-only.
    """

    def __init__(self) -> None:
        self._readers: dict[tuple[IOSpec, str], ReaderEntry] = {}
        self._writers: dict[tuple[type, str | None, str], WriterEntry] = {}
        self._lazy: dict[str, list[Callable[[Registry], None]]] = {}

    def register_lazy(self, module: str, register: Callable[[Registry], None]) -> None:
        """Call ``register(self)`` once, when a value from top-level package ``module`` first
        misses a writer, or right away if ``module`` is already imported.

        Lets writers for optional libraries (dask, awkward) be keyed by their types without
        importing those libraries when the registry is built.

        Parameters
        ----------
        module
            A top-level package name (``"dask"``).
        register
            A function registering that package's writers on the registry it is given.
        """
        import sys

        if module in sys.modules:
            register(self)
        else:
            self._lazy.setdefault(module, []).append(register)

    def snapshot(self) -> tuple[Any, ...]:
        """The registry's content, for :meth:`restore` (a plugin's registration as one transaction)."""
        return dict(self._readers), dict(self._writers), {k: list(v) for k, v in self._lazy.items()}

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Put back the content saved by :meth:`snapshot`, dropping what was registered since.

        Parameters
        ----------
        snapshot
            What :meth:`snapshot` returned.
        """
        readers, writers, lazy = snapshot
        self._readers = dict(readers)
        self._writers = dict(writers)
        self._lazy = {k: list(v) for k, v in lazy.items()}

    # -- registration -------------------------------------------------------------------

    def register_reader(
        self,
        spec: IOSpec,
        func: ReaderFn,
        *,
        format: str = ANY_FORMAT,
        owner: str | None = None,
        replace: bool = False,
    ) -> None:
        """Register ``func`` to read elements encoded as ``spec`` (in ``format``, or any).

        Parameters
        ----------
        spec
            The encoding read.
        func
            ``func(node, ctx)``: reads the stored ``node``; ``ctx`` reads its children.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.
        owner
            Name of the registering plugin, for conflict messages.
        replace
            Replace an existing entry instead of raising.

        Raises
        ------
        PluginConflictError
            Another plugin registered ``spec`` for ``format`` (the message names both).
        """
        key = (spec, format)
        entry = ReaderEntry(spec, format, func, _owner_of(func, owner))
        old = self._readers.get(key)
        if old is not None and not replace and not _same_func(old.func, func):
            msg = (
                f"A reader for {spec} in format {format!r} is already registered by "
                f"{old.owner!r}; {entry.owner!r} tried to register another. "
                "Pass replace=True to override it on purpose."
            )
            raise PluginConflictError(msg)
        self._readers[key] = entry

    def register_writer(
        self,
        typ: type,
        spec: IOSpec,
        func: WriterFn,
        *,
        kinds: str | None = None,
        format: str = ANY_FORMAT,
        owner: str | None = None,
        replace: bool = False,
    ) -> None:
        """Register ``func`` to write values of type ``typ`` (and dtype kinds ``kinds``) as ``spec``.

        Parameters
        ----------
        typ
            The Python type written (subclasses match too, through the MRO).
        spec
            The encoding written.
        func
            ``func(group, key, value, ctx)``: writes ``value`` as ``group[key]``.
        kinds
            Numpy dtype kinds the entry is limited to (``"iu"``: integers), for types whose
            encoding depends on the dtype.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.
        owner
            Name of the registering plugin, for conflict messages.
        replace
            Replace an existing entry instead of raising.

        Raises
        ------
        PluginConflictError
            Another plugin registered ``typ`` (and ``kinds``) for ``format``.
        """
        for kind in (list(kinds) if kinds else [None]):
            key = (typ, kind, format)
            entry = WriterEntry(typ, kind, format, spec, func, _owner_of(func, owner))
            old = self._writers.get(key)
            if old is not None and not replace and not _same_func(old.func, func):
                what = _type_name(typ) + (f" (dtype kind {kind!r})" if kind else "")
                msg = (
                    f"A writer for {what} in format {format!r} is already registered by "
                    f"{old.owner!r} (as {old.spec}); {entry.owner!r} tried to register another "
                    f"(as {spec}). Pass replace=True to override it on purpose."
                )
                raise PluginConflictError(msg)
            self._writers[key] = entry

    def reader(
        self, spec: IOSpec, *, format: str = ANY_FORMAT, replace: bool = False
    ) -> Callable[[ReaderFn], ReaderFn]:
        """Decorator form of :meth:`register_reader`.

        Parameters
        ----------
        spec
            The encoding read.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.
        replace
            Replace an existing entry instead of raising.

        Returns
        -------
        callable
            The decorator; it registers and returns the decorated reader.
        """

        def deco(func: ReaderFn) -> ReaderFn:
            self.register_reader(spec, func, format=format, replace=replace)
            return func

        return deco

    def writer(
        self,
        typ: type,
        spec: IOSpec,
        *,
        kinds: str | None = None,
        format: str = ANY_FORMAT,
        replace: bool = False,
    ) -> Callable[[WriterFn], WriterFn]:
        """Decorator form of :meth:`register_writer`.

        Parameters
        ----------
        typ
            The Python type written.
        spec
            The encoding written.
        kinds
            Numpy dtype kinds the entry is limited to.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.
        replace
            Replace an existing entry instead of raising.

        Returns
        -------
        callable
            The decorator; it registers and returns the decorated writer.
        """

        def deco(func: WriterFn) -> WriterFn:
            self.register_writer(typ, spec, func, kinds=kinds, format=format, replace=replace)
            return func

        return deco

    def update(self, other: Registry) -> None:
        """Register every entry of ``other`` here (conflicts raise as usual).

        Parameters
        ----------
        other
            Another registry.
        """
        for r in other._readers.values():
            self.register_reader(r.spec, r.func, format=r.format, owner=r.owner)
        for w in other._writers.values():
            self.register_writer(
                w.type, w.spec, w.func, kinds=w.kind, format=w.format, owner=w.owner
            )

    # -- lookup -------------------------------------------------------------------------

    @property
    def readers(self) -> Mapping[tuple[IOSpec, str], ReaderEntry]:
        return MappingProxyType(self._readers)

    @property
    def writers(self) -> Mapping[tuple[type, str | None, str], WriterEntry]:
        return MappingProxyType(self._writers)

    def has_reader(self, spec: IOSpec, format: str = ANY_FORMAT) -> bool:
        """Whether a reader for ``spec`` exists in ``format`` (or for every format).

        Parameters
        ----------
        spec
            The encoding.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.

        Returns
        -------
        bool
        """
        return (spec, format) in self._readers or (spec, ANY_FORMAT) in self._readers

    def find_reader(self, spec: IOSpec, format: str = ANY_FORMAT) -> ReaderEntry:
        """Return the reader for ``spec`` in ``format``; raise naming the known versions on a miss.

        Parameters
        ----------
        spec
            The encoding of the stored element.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.

        Returns
        -------
        ReaderEntry
            The entry (its function, spec and owner).

        Raises
        ------
        EncodingNotFoundError
            No reader for ``spec`` (the message names the versions known for its type).
        """
        entry = self._readers.get((spec, format)) or self._readers.get((spec, ANY_FORMAT))
        if entry is not None:
            return entry
        known = sorted(
            {s.encoding_version for (s, f) in self._readers if s.encoding_type == spec.encoding_type}
        )
        if known:
            msg = (
                f"No reader for {spec} in format {format!r} (known versions: {', '.join(known)}). "
                "The file was probably written by a newer library; upgrade annstore and its plugins."
            )
        else:
            types = sorted({s.encoding_type for (s, _) in self._readers})
            msg = (
                f"No reader for encoding {spec} in format {format!r}. Known encodings: "
                f"{', '.join(types)}. A plugin providing it may not be installed."
            )
        raise EncodingNotFoundError(msg)

    def _candidates(self, value: Any) -> Iterator[tuple[type, str | None]]:
        dtype = getattr(value, "dtype", None)
        kind = getattr(dtype, "kind", None) if dtype is not None else None
        for cls in type(value).__mro__:
            if kind is not None:
                yield cls, kind
            yield cls, None

    def find_writer(self, value: Any, format: str = ANY_FORMAT) -> WriterEntry:
        """Return the writer for ``value`` in ``format``; raise naming the writable types on a miss.

        Parameters
        ----------
        value
            The value to write.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.

        Returns
        -------
        WriterEntry

        Raises
        ------
        EncodingNotFoundError
            No writer for the type of ``value`` (the message names the writable types).
        """
        for cls, kind in self._candidates(value):
            entry = self._writers.get((cls, kind, format)) or self._writers.get(
                (cls, kind, ANY_FORMAT)
            )
            if entry is not None:
                return entry
        pending = self._lazy.pop(type(value).__module__.split(".")[0], None)
        if pending:  # the library was imported after the registry was built
            for register in pending:
                register(self)
            return self.find_writer(value, format)
        dtype = getattr(value, "dtype", None)
        what = _type_name(type(value)) + (f" with dtype {dtype}" if dtype is not None else "")
        known = sorted({_type_name(t) for (t, _, _) in self._writers})
        msg = (
            f"No writer for a value of type {what} in format {format!r}. "
            f"Writable types: {', '.join(known)}."
        )
        raise EncodingNotFoundError(msg)

    def spec_of(self, value: Any, format: str = ANY_FORMAT) -> IOSpec:
        """The encoding ``value`` would be written with.

        Parameters
        ----------
        value
            The value.
        format
            The format the entry is for; ``"*"`` (default): every format without an entry of its own.

        Returns
        -------
        IOSpec

        Raises
        ------
        EncodingNotFoundError
            No writer for the type of ``value``.
        """
        return self.find_writer(value, format).spec


class EncodingCollector:
    """Collects reader/writer registrations at import time, to replay on a :class:`Registry`.

    Core's encoding modules decorate their functions with ``ENCODINGS.reader``/``.writer``; the
    built-in plugin's ``annstore_register_encodings`` hook then calls :meth:`register_on`.
    Third-party plugins can use the same pattern or call the registry directly in their hook.
    """

    def __init__(self) -> None:
        self._staged = Registry()

    def reader(self, spec: IOSpec, *, format: str = ANY_FORMAT) -> Callable[[ReaderFn], ReaderFn]:
        return self._staged.reader(spec, format=format)

    def writer(
        self, typ: type, spec: IOSpec, *, kinds: str | None = None, format: str = ANY_FORMAT
    ) -> Callable[[WriterFn], WriterFn]:
        return self._staged.writer(typ, spec, kinds=kinds, format=format)

    def register_on(self, registry: Registry) -> None:
        registry.update(self._staged)


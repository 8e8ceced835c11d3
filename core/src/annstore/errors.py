"""Exceptions and warnings raised by annstore.

Every exception annstore raises on purpose derives from :class:`AnnstoreError` *and* from the
builtin it refines, so ``except ValueError`` code written for anndata keeps working. Every warning
derives from :class:`AnnstoreWarning` (a :class:`UserWarning`).

Messages follow one shape: what was expected, what was found, and where (file and element
path). While reading or writing nested elements the element path is attached once, as a note
(:pep:`678`), e.g. ``while reading '/layers/counts' (encoding 'csr_matrix' v0.1.0) from h5ad
file 'pbmc.h5ad'``.
"""

from __future__ import annotations

import errno
import sys
from types import FrameType
from typing import Any

__all__ = [
    "AnnstoreError",
    "AnnstoreWarning",
    "CapabilityError",
    "ElementWriteError",
    "EncodingNotFoundError",
    "ExperimentalFeatureWarning",
    "FileReplacedError",
    "FormatNotInstalledError",
    "ImplicitModificationWarning",
    "InvalidFileError",
    "OldFormatWarning",
    "PluginConflictError",
    "PluginError",
    "PluginLoadWarning",
    "SettingsError",
    "ShapeMismatchError",
    "TargetExistsError",
    "TargetIsADirectoryError",
    "TargetPermissionError",
    "UnknownFormatError",
    "UnknownSettingError",
    "UnsupportedValueError",
    "WriteTargetError",
    "WriteWarning",
    "add_note_once",
]


class AnnstoreError(Exception):
    """Root of every exception annstore raises on purpose."""


class ShapeMismatchError(AnnstoreError, ValueError):
    """An element's shape does not match the axis it is aligned to."""


class SettingsError(AnnstoreError, ValueError):
    """A value refused by ``annstore.settings`` (a ``ValueError``, as anndata's pydantic ``ValidationError``)."""


class UnknownSettingError(SettingsError, AttributeError):
    """A setting name ``annstore.settings`` does not have (also an ``AttributeError``, so ``hasattr`` works)."""


class UnknownFormatError(AnnstoreError, ValueError):
    """The format of a path could not be determined, or a format name is unknown."""


class FormatNotInstalledError(UnknownFormatError, ImportError):  # type: ignore[misc]
    """A known format was requested whose plugin distribution is not installed.

    Parameters
    ----------
    msg
        The message, ending with the ``pip install`` line.
    format
        The format name (``"loom"``).
    package
        The distribution that provides it (``"annstore-loom"``).
    """

    def __init__(self, msg: str, *, format: str = "", package: str = "") -> None:
        super().__init__(msg)
        self.format = format
        self.package = package


class EncodingNotFoundError(AnnstoreError, LookupError):
    """No reader or writer is registered for an element."""


class PluginConflictError(AnnstoreError, ValueError):
    """Two plugins registered different functions under the same registry key."""


class PluginError(AnnstoreError, RuntimeError):
    """A plugin broke the contract: a hook returned the wrong thing, or its own code failed.

    The message names the plugin (and the reader, writer or hook); ``plugin`` holds its name.

    Parameters
    ----------
    msg
        The message, naming the plugin.
    plugin
        The plugin's name.
    """

    def __init__(self, msg: str, *, plugin: str = "") -> None:
        super().__init__(msg)
        self.plugin = plugin


class ElementWriteError(AnnstoreError, ValueError):
    """A value cannot be written as it is (reserved or duplicate names, disallowed missing values)."""


class UnsupportedValueError(AnnstoreError, TypeError):
    """A value holds objects no encoding stores losslessly (e.g. a mixed-type object column)."""


class CapabilityError(AnnstoreError, NotImplementedError):
    """A format was asked for something it declares it cannot do."""


class InvalidFileError(AnnstoreError, ValueError):
    """A file is malformed: missing or wrong attributes, inconsistent arrays, bad shapes.

    Attributes ``filename`` and ``path`` (the element path inside the file) are kept.

    Parameters
    ----------
    msg
        What was expected and what was found.
    filename
        The file or store.
    path
        The element path inside it (``None``: not known at the raise).
    """

    def __init__(self, msg: str, *, filename: Any = None, path: str | None = None) -> None:
        super().__init__(msg)
        self.filename = filename
        self.path = path


class WriteTargetError(AnnstoreError, OSError):
    """A whole-file write refused its target; nothing was changed.

    ``filename`` is the target as given, ``path`` the element (``"/"``: the whole file).

    Parameters
    ----------
    msg
        The message: what was expected and what was found.
    filename
        The target as the caller gave it.
    path
        The element path (``"/"``: the whole file).
    """

    _errno: int | None = None

    def __init__(self, msg: str, *, filename: Any = None, path: str = "/") -> None:
        super().__init__(msg)
        self.errno = self._errno
        self.filename = filename
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class TargetExistsError(WriteTargetError, FileExistsError):
    """The target is of another kind (a file where a directory store goes) or not a store.

    Parameters
    ----------
    msg
        The message: what was expected and what was found.
    filename
        The target as the caller gave it.
    path
        The element path (``"/"``: the whole file).
    """

    _errno = errno.EEXIST


class TargetIsADirectoryError(WriteTargetError, IsADirectoryError):
    """The target of a single-file write (h5ad, loom, zarr zip) is a directory.

    Parameters
    ----------
    msg
        The message: what was expected and what was found.
    filename
        The target as the caller gave it.
    path
        The element path (``"/"``: the whole file).
    """

    _errno = errno.EISDIR


class TargetPermissionError(WriteTargetError, PermissionError):
    """The target (or its directory) may not be written by this user.

    Parameters
    ----------
    msg
        The message: what was expected and what was found.
    filename
        The target as the caller gave it.
    path
        The element path (``"/"``: the whole file).
    """

    _errno = errno.EACCES


class FileReplacedError(AnnstoreError, OSError):
    """The file or store a reader or backed object opened was replaced by another writer.

    ``filename`` names the file, ``path`` the element being accessed.

    Parameters
    ----------
    msg
        The message.
    filename
        The file or store that was replaced.
    path
        The element being accessed.
    """

    def __init__(self, msg: str, *, filename: Any = None, path: str = "/") -> None:
        super().__init__(msg)
        self.filename = filename
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class AnnstoreWarning(UserWarning):
    """Root of every warning annstore emits."""


class ImplicitModificationWarning(AnnstoreWarning):
    """A view was modified and turned into a copy, or an index was coerced.

    As in anndata, this is a :class:`UserWarning`.
    """


class OldFormatWarning(AnnstoreWarning):
    """A file uses a legacy on-disk layout."""


class WriteWarning(AnnstoreWarning):
    """A value was written in a lossy or non-standard way."""


class PluginLoadWarning(AnnstoreWarning, RuntimeWarning):
    """A plugin failed to load or register; the others are loaded regardless."""


class ExperimentalFeatureWarning(AnnstoreWarning, FutureWarning):
    """An experimental feature was used."""


_NOTE_FLAG = "__annstore_noted__"


def _internal_frame(frame: FrameType) -> bool:
    top = str(frame.f_globals.get("__name__", "")).partition(".")[0]
    # annstore, its plugins (annstore_h5ad, a third party's annstore_npydir, ...) and the
    # machinery calling between them: context managers, decorators, the plugin manager
    return top == "annstore" or top.startswith("annstore_") or top in {"pluggy", "contextlib", "functools"}


def user_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning to the first line outside annstore.

    anndata passes ``skip_file_prefixes`` (its own files) to :func:`warnings.warn`, a Python 3.12
    argument; a fixed ``stacklevel`` cannot do the same, since the depth from the user's call to
    the warning differs between paths (``AnnData(...)``, a property setter, ``concat``, a plugin
    reached through pluggy). This walks the stack instead, past annstore's frames, its plugins'
    and the pluggy / contextlib / functools frames between them. Call it in the frame that calls
    :func:`warnings.warn`: ``warnings.warn(msg, category, stacklevel=user_stacklevel())``
    (plugins: :func:`annstore.utils.warn`). Not part of the public API.

    Returns
    -------
    int
        The value to pass as ``stacklevel``.
    """
    frame: FrameType | None = sys._getframe(1)  # the frame that calls warnings.warn
    level = 1
    while frame is not None and _internal_frame(frame):
        frame = frame.f_back
        level += 1
    return level


def add_note_once(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` unless an inner frame already attached an element path.

    Parameters
    ----------
    exc
        The exception being raised.
    note
        The note (:pep:`678`), e.g. ``while reading '/layers/counts' ... from h5ad file 'x.h5ad'``.
    """
    if getattr(exc, _NOTE_FLAG, False):
        return
    try:
        setattr(exc, _NOTE_FLAG, True)
    except AttributeError:  # pragma: no cover - exotic exception types
        return
    exc.add_note(note)

"""Format guessing: the KNOWN_FORMATS table, magic bytes, and install hints for missing plugins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CapabilityError, FormatNotInstalledError, UnknownFormatError

__all__ = ["KNOWN_FORMATS", "guess_format", "require_capability", "require_format"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class KnownFormat:
    name: str
    suffixes: tuple[str, ...]
    package: str


#: Formats annstore knows of, installed or not, for "pip install ..." hints.
KNOWN_FORMATS: tuple[KnownFormat, ...] = (
    KnownFormat("h5ad", (".h5ad", ".h5", ".hdf5"), "annstore-h5ad"),
    KnownFormat("loom", (".loom",), "annstore-loom"),
    KnownFormat("text", (".csv", ".tsv", ".tab", ".txt", ".data", ".mtx", ".xlsx", ".csv.gz",
                         ".tsv.gz", ".txt.gz", ".mtx.gz", ".tab.gz", ".data.gz", ".csv.bz2",
                         ".tsv.bz2", ".txt.bz2", ".tab.bz2", ".data.bz2", ".mtx.bz2"),
                "annstore-text"),
    KnownFormat("tiledb", (".tiledb",), "annstore-tiledb"),
    KnownFormat("zarr", (".zarr", ".zarr.zip", ".zip"), "annstore-zarr"),
)


def _read_head(path: Any, n: int = 512) -> tuple[bytes, bool]:
    if not isinstance(path, str | os.PathLike):
        return b"", False
    p = Path(path)
    try:
        if p.is_dir():
            return b"", True
        with open(p, "rb") as f:
            return f.read(n), False
    except OSError:
        return b"", False


def _installed() -> dict[str, Any]:
    from ._plugins import get_plugin_manager

    return get_plugin_manager().formats


def _suffix_match(path: Any) -> KnownFormat | None:
    """The format whose suffix ends ``path`` (the longest one wins).

    Suffixes declared in the installed plugins' :class:`~annstore.FormatInfo` come first, then
    the table of known (possibly uninstalled) formats, so a third-party format is found by
    its declared suffix and an uninstalled one still gets its install hint.
    """
    name = str(path).lower().rstrip("/")
    installed = tuple(
        KnownFormat(info.name, tuple(s.lower() for s in info.suffixes), info.package)
        for info in _installed().values()
    )
    best: tuple[int, KnownFormat] | None = None
    for kf in (*installed, *KNOWN_FORMATS):
        for s in kf.suffixes:
            if s and name.endswith(s) and (best is None or len(s) > best[0]):
                best = (len(s), kf)
    return best[1] if best else None


def _declared_match(path: Any, head: bytes) -> str | None:
    """Guess from what installed formats declare: their suffixes, then their magic bytes.

    Used when no plugin's ``annstore_guess_format`` claims ``path``, so a plugin that only
    fills ``FormatInfo.suffixes`` and ``FormatInfo.magic`` is guessed too. Magic bytes decide
    only for a path without a known suffix, and only when one format declares them.
    """
    formats = _installed()
    kf = _suffix_match(path)
    if kf is not None:  # a known suffix: magic bytes do not overrule it (a .loom file is HDF5)
        return kf.name if kf.name in formats else None
    if head:
        hits = [n for n, info in formats.items() if any(m and head.startswith(m) for m in info.magic)]
        if len(hits) == 1:
            return hits[0]
    return None


def guess_format(path: Any) -> str:
    """Name the format of ``path`` by asking every installed plugin (suffix and magic bytes).

    The plugins' ``annstore_guess_format`` hooks are asked first; when none claims ``path``,
    the suffixes and magic bytes the installed formats declare in their ``FormatInfo`` decide.

    Parameters
    ----------
    path
        A local path or URL.

    Returns
    -------
    str
        The format name.

    Raises
    ------
    FileNotFoundError
        ``path`` is a local path that does not exist.
    UnknownFormatError
        No installed plugin recognises it; the message names the plugin to install when a
        known but uninstalled format matches the suffix.
    """
    from ._plugins import get_plugin_manager

    pm = get_plugin_manager()
    if isinstance(path, str | os.PathLike) and "://" not in str(path) and not Path(path).exists():
        msg = f"No such file or directory: {str(path)!r}"
        raise FileNotFoundError(msg)
    head, is_dir = _read_head(path)
    name = pm.hook.annstore_guess_format(path=path, head=head, is_dir=is_dir)
    if name is not None:
        return str(name)
    name = _declared_match(path, head)
    if name is not None:
        return name
    installed = ", ".join(sorted(pm.formats)) or "none"
    msg = f"Could not determine the format of {str(path)!r}. Installed formats: {installed}."
    kf = _suffix_match(path)
    if kf is not None and kf.name not in pm.formats:
        msg += f"\nThe suffix belongs to format {kf.name!r}: pip install {kf.package}"
    raise UnknownFormatError(msg)


def require_format(name: str) -> Any:
    """Return the installed :class:`FormatInfo` for ``name`` or raise one clear line."""
    from ._plugins import get_plugin_manager

    pm = get_plugin_manager()
    info = pm.formats.get(name)
    if info is not None:
        return info
    kf = next((k for k in KNOWN_FORMATS if k.name == name), None)
    if kf is not None:
        msg = f"Format {name!r} needs the {kf.package} plugin: pip install {kf.package}"
        raise FormatNotInstalledError(msg, format=name, package=kf.package)
    msg = f"Unknown format {name!r}. Installed formats: {', '.join(sorted(pm.formats)) or 'none'}."
    raise UnknownFormatError(msg)


#: What each capability flag of :class:`FormatInfo` lets core do, for the refusal message.
_CAPABILITIES = {
    "supports_backed": "backed mode",
    "supports_append": "appending (growing stored arrays with resize)",
}


def require_capability(format: str | None, flag: str, action: str) -> None:
    """Refuse ``action`` with one clear :class:`CapabilityError` when ``format`` lacks ``flag``.

    ``flag`` is a capability field of :class:`FormatInfo` (``"supports_append"``,
    ``"supports_backed"``). Formats no plugin declares (a node adapted from a native object
    of an unregistered library) are not refused: nothing was promised either way.
    """
    info = _installed().get(format) if format is not None else None
    if info is None or getattr(info, flag):
        return
    from ._plugins import owner_of_format

    msg = (
        f"Format {format!r} does not support {_CAPABILITIES[flag]}, which {action} needs "
        f"(its plugin {owner_of_format(format)!r} declares FormatInfo.{flag}=False)."
    )
    raise CapabilityError(msg)

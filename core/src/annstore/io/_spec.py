"""Value objects: ``IOSpec`` (an element's encoding identity) and ``FormatInfo``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FormatInfo", "IOSpec"]


@dataclass(frozen=True, slots=True, order=True)
class IOSpec:
    """Identity of a stored element's encoding (``encoding-type`` + ``encoding-version``).

    Two writers may claim the same ``IOSpec`` only if each one's reader can read the other's
    output.

    Parameters
    ----------
    encoding_type
        The ``encoding-type`` attribute (``"csr_matrix"``, ``"dataframe"``, ...).
    encoding_version
        The ``encoding-version`` attribute (``"0.1.0"``).
    """

    encoding_type: str
    encoding_version: str

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> IOSpec:
        """Read the spec from an element's attributes; missing attributes give ``IOSpec("", "")``.

        Parameters
        ----------
        attrs
            The attributes of a stored element.

        Returns
        -------
        IOSpec
        """
        t = attrs.get("encoding-type", "")
        v = attrs.get("encoding-version", "")
        if isinstance(t, bytes):
            t = t.decode()
        if isinstance(v, bytes):
            v = v.decode()
        return cls(str(t), str(v))

    def to_attrs(self) -> dict[str, str]:
        """The attributes that identify this encoding on disk."""
        return {"encoding-type": self.encoding_type, "encoding-version": self.encoding_version}

    @property
    def type(self) -> str:
        """Alias of :attr:`encoding_type`."""
        return self.encoding_type

    @property
    def version(self) -> str:
        """Alias of :attr:`encoding_version`."""
        return self.encoding_version

    def __bool__(self) -> bool:
        return bool(self.encoding_type)

    def __str__(self) -> str:
        return f"{self.encoding_type!r} v{self.encoding_version}"


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What a format plugin provides, as returned by ``annstore_format_info``.

    Core reads every field.

    Parameters
    ----------
    name
        The format name users pass as ``format=`` and nodes report as ``node.format``.
    description
        One line for ``annstore formats`` and ``list_formats()``.
    suffixes
        File suffixes, lower case with the dot (``(".h5ad", ".h5")``): the longest match
        guesses the format of a path no ``annstore_guess_format`` claims, and picks the
        format of a new file to write. ``FormatTests`` names its stores with the first one.
    hierarchical
        ``True`` when ``annstore_open_store`` gives a store of elements (element IO,
        ``open_store``, backed mode); ``False`` for whole-file formats (``annstore_read_file``/
        ``annstore_write_file``).
    supports_backed
        ``read(path, backed="r"|"r+")`` is refused without it. It promises: the store reopens
        by its path in modes ``"r"`` and ``"r+"`` and stays usable while open; arrays slice
        rows, sorted row indices and columns without loading whole; in ``"r+"`` array
        ``__setitem__`` and element writes persist; ``close()`` releases the store.
    supports_append
        Stored arrays created with ``maxshape=(None, ...)`` grow and shrink with
        ``resize``: ``CSRDataset.append``, ``concat_on_disk`` (its output) and block-wise
        sparse writes of unknown size need it and are refused without it.
    package
        The distribution to install (install hints, ``annstore formats``).
    version
        The plugin's version, shown by ``annstore formats``.
    magic
        Leading bytes of the format's files (``(b"\\x89HDF\\r\\n\\x1a\\n",)``): guess the format
        of a path without a known suffix, when exactly one installed format declares them.
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    hierarchical: bool
    supports_backed: bool = False
    supports_append: bool = False
    package: str = ""
    version: str = ""
    magic: tuple[bytes, ...] = ()

    def __repr__(self) -> str:
        caps = [c for c, on in (("backed", self.supports_backed), ("append", self.supports_append)) if on]
        kind = "hierarchical" if self.hierarchical else "whole-file"
        return (
            f"<{self.name}> {self.description}\n"
            f"  suffixes: {', '.join(self.suffixes) or '-'}; {kind}; "
            f"capabilities: {', '.join(caps) or '-'}; package: {self.package or '-'} {self.version}"
        )

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
    """

    encoding_type: str
    encoding_version: str

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> IOSpec:
        """Read the spec from an element's attributes; missing attributes give ``IOSpec("", "")``."""
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
    """What a format plugin provides, as returned by ``annstore_format_info``."""

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

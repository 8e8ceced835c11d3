"""Checks on untrusted input before anything is allocated: the allocation budget and sparse structure.

Two things every reader shares:

* **The allocation budget** (``settings.max_allocation``): one limit in bytes on any single
  allocation whose size comes from a file (a declared array shape, the number of stored values
  of a sparse matrix, a decompressed stream, a declared cell count). The default (``None``) is
  the memory this machine has available when the check runs (``MemAvailable`` of
  ``/proc/meminfo``, the cgroup limit if lower). Exceeding it is an
  :class:`~annstore.errors.InvalidFileError` naming the file, the element and the sizes.
* **Sparse structure**: ``indptr`` starts at 0, never decreases and ends at ``nnz``; every index
  lies within the minor axis; lengths agree with the declared shape. Checked on every path
  before scipy sees the arrays (scipy trusts them: an index out of range makes ``toarray()``
  write outside its buffer).

Functions here take a ``where`` (any object with ``name``/``filename``/``format`` attributes, e.g.
a store node) so the errors name the element the way every other read error does.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

import numpy as np

from .errors import InvalidFileError

__all__ = [
    "BoundedReader",
    "FileRef",
    "available_memory",
    "check_allocation",
    "check_indices",
    "check_indptr",
    "check_lengths",
    "format_bytes",
    "max_allocation",
    "parse_bytes",
    "too_deep",
]

#: Without an explicit budget, allocations below this size are not checked (no system call).
_SMALL = 64 << 20

_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}


def parse_bytes(s: str) -> int:
    """Parse a byte count such as ``"8GiB"``, ``"500 MB"``, ``"1e9"`` or ``"4096"``.

    Examples
    --------
    >>> parse_bytes("2KiB")
    2048
    """
    text = str(s).strip().lower().replace(" ", "").replace("_", "")
    i = len(text)
    while i and text[i - 1].isalpha():
        i -= 1
    num, unit = text[:i], text[i:]
    try:
        value = float(num) * _UNITS[unit]
    except (KeyError, ValueError):
        msg = f"Expected a number of bytes such as 8GiB, 500MB or 1e9; got {s!r} instead."
        from .errors import SettingsError

        raise SettingsError(msg) from None
    return int(value)


def format_bytes(n: int | float) -> str:
    """``n`` bytes in the largest binary unit that keeps it at least 1 (``"4 TiB"``)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


_avail_cache: tuple[float, int] | None = None


def _cgroup_free() -> int | None:
    """Bytes left under this process's cgroup v2 memory limit, when there is one."""
    try:
        with open("/proc/self/cgroup") as f:
            rel = next((ln.split("::", 1)[1].strip() for ln in f if ln.startswith("0::")), None)
        if rel is None:
            return None
        base = os.path.join("/sys/fs/cgroup", rel.lstrip("/"))
        with open(os.path.join(base, "memory.max")) as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open(os.path.join(base, "memory.current")) as f:
            used = int(f.read().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable``, the cgroup limit if
    lower; physical memory where neither can be read)."""
    global _avail_cache
    now = time.monotonic()
    if _avail_cache is not None and now - _avail_cache[0] < 1.0:
        return _avail_cache[1]
    avail: int | None = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        avail = None
    if avail is None:
        try:
            avail = int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_AVPHYS_PAGES"))
        except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
            avail = 1 << 40
    cg = _cgroup_free()
    if cg is not None:
        avail = min(avail, cg)
    _avail_cache = (now, avail)
    return avail


def max_allocation() -> int:
    """The allocation budget in bytes: ``settings.max_allocation``, or the available memory."""
    from ._settings import settings

    v = settings.max_allocation
    return int(v) if v is not None else available_memory()


def _where(where: Any) -> tuple[Any, str]:
    fn = getattr(where, "filename", None) if where is not None else None
    name = getattr(where, "name", None) if where is not None else None
    return fn, name or "?"


def _error(where: Any, what: str) -> InvalidFileError:
    """An :class:`InvalidFileError` worded as every read error is (element, format, file)."""
    fn, name = _where(where)
    loc = f" in {getattr(where, 'format', '?')} file {str(fn)!r}" if fn else ""
    return InvalidFileError(f"Malformed element {name!r}{loc}: {what}", filename=fn, path=name)


def check_allocation(nbytes: int, where: Any, what: str) -> None:
    """Refuse an allocation of ``nbytes`` (declared by the file) that exceeds the budget.

    Parameters
    ----------
    nbytes
        Bytes the read would allocate.
    where
        The element (a store node, or any object with ``name``/``filename``/``format``).
    what
        What would be allocated and why, e.g. ``"its declared shape (10**12, 8) of float64"``.

    Raises
    ------
    InvalidFileError
        When ``nbytes`` exceeds :func:`max_allocation`, naming the element and both sizes.
    """
    from ._settings import settings

    nbytes = int(nbytes)
    if settings.max_allocation is None and nbytes <= _SMALL:
        return  # far below any machine's memory: no system call on the common path
    limit = max_allocation()
    if nbytes > limit:
        src = (
            f"settings.max_allocation = {format_bytes(limit)}"
            if settings.max_allocation is not None
            else f"the {format_bytes(limit)} of memory available (settings.max_allocation)"
        )
        msg = (
            f"{what} would need {format_bytes(nbytes)} ({nbytes} bytes), more than the allocation "
            f"budget, {src}. The file is corrupt, or read it backed/lazily, or raise the budget."
        )
        raise _error(where, msg)


def check_indptr(
    indptr: np.ndarray,
    where: Any,
    *,
    nnz: int,
    first: bool = True,
    last: bool = True,
) -> None:
    """Check ``indptr`` (or a contiguous piece of it) of a CSR/CSC matrix with ``nnz`` values.

    The values must be integers, non-decreasing and within ``[0, nnz]``; a piece that holds the
    first entry (``first``) must start at 0, one that holds the last (``last``) must end at
    ``nnz``. Raises :class:`InvalidFileError` naming the element.
    """
    if indptr.dtype.kind not in "iu":
        raise _error(where, f"expected integer 'indptr'; got dtype {indptr.dtype}.")
    if indptr.size == 0:
        return
    lo, hi = int(indptr[0]), int(indptr[-1])
    if first and lo != 0:
        raise _error(where, f"expected 'indptr' to start at 0; got {lo}.")
    if last and hi != nnz:
        raise _error(where, f"expected 'indptr' to end at nnz={nnz} (the length of 'data'); got {hi}.")
    if indptr.size > 1:
        d = np.diff(indptr.astype(np.int64, copy=False))
        bad = np.flatnonzero(d < 0)
        if bad.size:
            i = int(bad[0])
            raise _error(
                where,
                f"expected 'indptr' non-decreasing; it falls from {int(indptr[i])} to "
                f"{int(indptr[i + 1])} at position {i + 1} of the part read.",
            )
    mn, mx = int(indptr.min()), int(indptr.max())
    if mn < 0 or mx > nnz:
        raise _error(where, f"expected 'indptr' values in [0, nnz={nnz}]; found {mn if mn < 0 else mx}.")


def check_indices(indices: np.ndarray, where: Any, *, minor: int) -> None:
    """Check that every value of ``indices`` lies in ``[0, minor)`` (one pass: a signed array is
    viewed as unsigned, so negative values compare larger than any valid index)."""
    if indices.dtype.kind not in "iu":
        raise _error(where, f"expected integer 'indices'; got dtype {indices.dtype}.")
    if indices.size == 0:
        return
    u = indices.view(indices.dtype.str.replace("i", "u")) if indices.dtype.kind == "i" else indices
    if int(u.max()) >= minor:
        raise _error(
            where,
            f"expected 'indices' in [0, {minor}) (the minor axis); found values from "
            f"{int(indices.min())} to {int(indices.max())}.",
        )


def check_lengths(
    where: Any, fmt: str, shape: tuple[int, int], n_indptr: int, n_data: int, n_indices: int
) -> None:
    """The declared lengths of a CSR/CSC matrix's arrays must agree with each other and ``shape``."""
    major = shape[0] if fmt == "csr" else shape[1]
    if n_indptr != major + 1:
        raise _error(
            where,
            f"expected 'indptr' of length {major + 1} for a {fmt} matrix of shape {shape}; "
            f"got length {n_indptr}.",
        )
    if n_data != n_indices:
        raise _error(where, f"expected 'data' and 'indices' of equal length; got {n_data} and {n_indices}.")


class BoundedReader(io.RawIOBase):
    """A binary stream that raises once more than ``limit`` bytes were read from ``raw``.

    Wrap a decompressing stream (``gzip.open``, a zip member) in it so that a small file
    expanding to terabytes fails with :class:`InvalidFileError` instead of exhausting memory.

    Parameters
    ----------
    raw
        The stream to read from.
    where
        The element or file named in the error (``name``/``filename`` attributes).
    what
        What is being decompressed (shown in the error).
    limit
        Bytes allowed; :func:`max_allocation` when ``None``.
    """

    def __init__(self, raw: Any, where: Any, what: str, limit: int | None = None) -> None:
        super().__init__()
        self._raw = raw
        self._where = where
        self._what = what
        self._limit = max_allocation() if limit is None else int(limit)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        """Read into ``b`` from the wrapped stream, counting the bytes read.

        Parameters
        ----------
        b
            A writable buffer (``bytearray``, ``memoryview``).

        Returns
        -------
        int
            The number of bytes read (0 at the end of the stream).

        Raises
        ------
        InvalidFileError
            More than ``limit`` bytes have been read in all.
        """
        n = self._raw.readinto(b) if hasattr(self._raw, "readinto") else _readinto(self._raw, b)
        self.count += n or 0
        if self.count > self._limit:
            msg = (
                f"{self._what} decompresses to more than the allocation budget of "
                f"{format_bytes(self._limit)} (settings.max_allocation); stopped after "
                f"{format_bytes(self.count)}. The file is corrupt (a decompression bomb?) or "
                "raise the budget."
            )
            raise _error(self._where, msg)
        return n or 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _readinto(raw: Any, b: Any) -> int:
    data = raw.read(len(b))
    n = len(data)
    b[:n] = data
    return n


class FileRef:
    """A stand-in element for errors about a whole file (``name`` ``'/'``)."""

    def __init__(self, filename: Any, format: str, name: str = "/") -> None:
        self.filename = filename
        self.format = format
        self.name = name


def too_deep(where: Any, e: RecursionError) -> InvalidFileError:
    """The error for metadata nested too deeply to parse (e.g. JSON attributes 100,000 levels
    deep), naming the element instead of surfacing a bare :class:`RecursionError`."""
    return _error(where, f"its metadata is nested too deeply to parse ({e}).")

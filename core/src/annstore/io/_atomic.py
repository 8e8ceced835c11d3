"""Atomic whole-file writes: check the target, write a temporary sibling, rename it into place.

What :func:`atomic_target` guarantees (docs/guarantees.md, section 4):

* the target is checked first: a directory that is not a store (and not empty) is refused, a
  target the user may not write is refused, a symlink is written *through* (its destination
  is replaced, the link stays), and after the write a result of another kind than the target
  (a directory store over a regular file, a single file over a directory) is refused; a
  refused write leaves the target and its directory as they were;
* files are swapped with one ``os.replace``; directory stores with one atomic exchange of the
  two paths (Linux ``renameat2(RENAME_EXCHANGE)``), else with two renames whose half-way state a
  later write repairs;
* every file or directory store written gets a fresh generation token (an extended
  attribute, :mod:`annstore.io._identity`), so readers and backed objects see each replacement;
* when the target's directory is read-only but the target itself is writable, the write falls
  back to rewriting the target in place (see :func:`atomic_target`);
* every temporary is named ``.annstore-tmp-[<kind>-]<pid>-<id>-<name>``; the temporaries of
  writers that died (SIGKILL, power loss) are removed by the next write of the same target.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import re
import shutil
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import TargetExistsError, TargetIsADirectoryError, TargetPermissionError
from ._identity import StorePin, pin_path, read_token, write_token

__all__ = [
    "TMP_MARK",
    "atomic_target",
    "base_name",
    "clean_stale",
    "is_local_path",
    "is_store_dir",
    "temp_sibling",
    "written_here",
]

TMP_MARK = ".annstore-tmp-"
#: ``.annstore-tmp-[<kind>-]<pid>-<id>-<name>``: kind ``old`` (a store moved aside during a
#: swap), ``zip`` (zarr zip staging), ``inplace`` (staging of the in-place fallback), or none.
_TMP_RE = re.compile(
    rf"^{re.escape(TMP_MARK)}(?:(?P<kind>[a-z]+)-)?(?P<pid>\d+)-(?P<id>[0-9a-f]+)-(?P<name>.+)$"
)
#: Entries whose presence makes a directory a store (zarr v2/v3, TileDB, an annstore write).
STORE_MARKERS = ("zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata", "__tiledb_group.tdb", "__group")
#: What this process last wrote at a (resolved) path, pinned: see :func:`written_here`.
_WRITTEN: OrderedDict[str, StorePin] = OrderedDict()
#: How many written paths are remembered (each holds one descriptor).
_WRITTEN_MAX = 32


def is_local_path(path: object) -> bool:
    return isinstance(path, str | os.PathLike) and "://" not in str(path)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def base_name(name: str) -> str:
    """The target name a temporary name stands for (``name`` itself if it is none)."""
    m = _TMP_RE.match(name)
    return m.group("name") if m else name


def temp_sibling(target: str | os.PathLike[str], kind: str = "", directory: Path | None = None) -> Path:
    """A fresh temporary name for ``target`` (in ``directory``, default: beside it).

    The writer's pid is part of the name, so a later write can tell a dead writer's leftovers.
    A temporary of a temporary carries the original target's name, so that cleaning the target
    finds it too.
    """
    target = Path(target)
    tag = f"{kind}-" if kind else ""
    where = target.parent if directory is None else directory
    return where / f"{TMP_MARK}{tag}{os.getpid()}-{uuid.uuid4().hex[:12]}-{base_name(target.name)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _stale(directory: Path, name: str | None) -> Iterator[tuple[Path, str]]:
    """Temporaries of dead writers in ``directory`` (of target ``name``; any target if None)."""
    pattern = f"{glob.escape(TMP_MARK)}*" + (f"-{glob.escape(name)}" if name else "")
    try:
        found = sorted(directory.glob(pattern))
    except OSError:
        return
    for p in found:
        m = _TMP_RE.match(p.name)
        if m is None or (name is not None and m.group("name") != name) or _alive(int(m.group("pid"))):
            continue
        yield p, m.group("kind") or ""


def clean_stale(target: str | os.PathLike[str]) -> None:
    """Remove what writers of ``target`` that died (SIGKILL, power loss) left behind.

    A dead writer's temporaries are deleted: beside ``target``, zarr zip staging folders, the
    in-place fallback's staging (in the temporary directory and inside a directory target).
    If a writer died between the two renames of a directory swap, ``target`` is missing and
    the old store waits under its ``old-`` name: it is renamed back, so nothing is ever lost.
    Leftovers of live writers are not touched.
    """
    target = Path(os.path.realpath(target))
    for p, kind in _stale(target.parent, target.name):
        if kind == "old" and not os.path.lexists(target):
            os.replace(p, target)
        else:
            _remove(p)
    tmpdir = Path(tempfile.gettempdir())
    if tmpdir != target.parent:
        for p, _ in _stale(tmpdir, target.name):
            _remove(p)
    if target.is_dir() and not target.is_symlink():
        for p, _ in _stale(target, None):
            _remove(p)


def is_store_dir(p: Path) -> bool:
    """Whether the directory ``p`` may be replaced by a store: it is one, or it is empty."""
    try:
        with os.scandir(p) as it:
            names = {e.name for e in it}
    except OSError:
        return False
    return not names or any(m in names for m in STORE_MARKERS) or read_token(p) is not None


def written_here(path: str | os.PathLike[str]) -> bool:
    """Whether what ``path`` names now is what this process last wrote there.

    A backed object follows a replacement of its file only when this is true (its own
    ``adata.write()``); a replacement by anyone else is an error (:class:`FileReplacedError`).
    """
    pin = _WRITTEN.get(os.path.realpath(path))
    return pin is not None and pin.matches()


# ------------------------------------------------------------------------ swapping


def _libc_renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux / glibc older than 2.28
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2: Any = _libc_renameat2() if os.name == "posix" else None
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one step; ``False`` where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_dir(tmp: Path, target: Path) -> None:
    """Put the directory ``tmp`` at ``target`` (which may hold an older store)."""
    if not os.path.lexists(target):
        os.replace(tmp, target)
        return
    if _exchange(tmp, target):  # readers see the old or the new store, never none
        _remove(tmp)
        return
    aside = temp_sibling(target, "old")
    os.replace(target, aside)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(aside, target)
        _remove(tmp)
        raise
    _remove(aside)


def _kind_mismatch(result: Path, target: Path, shown: Any) -> Exception | None:
    """The error for a write result of another kind than the existing target, if any."""
    if not os.path.lexists(target):
        return None
    if result.is_dir() and not target.is_dir():
        msg = (
            f"Expected {str(shown)!r} to be a directory store or absent; got a regular file "
            "instead. A directory store does not replace a file: remove it or pick another name."
        )
        return TargetExistsError(msg, filename=shown)
    if not result.is_dir() and target.is_dir():
        msg = (
            f"Expected {str(shown)!r} to be a file or absent; got a directory instead. A "
            "single-file format does not replace a directory: remove it or pick another name."
        )
        return TargetIsADirectoryError(msg, filename=shown)
    return None


def _writable(p: Path, mode: int = os.W_OK) -> bool:
    """Whether this user may write ``p``, by its permission bits: root too is refused a file or
    directory that has no write bit at all (``chmod a-w`` protects it from annstore)."""
    try:
        return os.access(p, mode) and bool(os.stat(p).st_mode & 0o222)
    except OSError:
        return False


def _check_target(target: Path, shown: Any) -> bool:
    """Refuse what may not be replaced; return whether the write must go in place."""
    parent = target.parent
    if target.is_dir() and not is_store_dir(target):
        msg = (
            f"Expected {str(shown)!r} to be absent, a file or a store; got a directory holding "
            "other files (not a store) instead. It is left as it is: remove it or pick another "
            "name."
        )
        raise TargetExistsError(msg, filename=shown)
    exists = os.path.exists(target)
    if exists and not _writable(target):
        msg = f"Expected {str(shown)!r} to be writable; it is read-only for this user. Nothing was written."
        raise TargetPermissionError(msg, filename=shown)
    if _writable(parent, os.W_OK | os.X_OK):
        return False
    if not exists:
        msg = (
            f"Cannot create {str(shown)!r}: its directory {str(parent)!r} is not writable for "
            "this user. Nothing was written."
        )
        raise TargetPermissionError(msg, filename=shown)
    return True


def _record(target: Path) -> None:
    # the pin holds the written file open, so its inode number cannot pass to another file
    old = _WRITTEN.pop(str(target), None)
    if old is not None:
        old.close()
    pin = pin_path(target)
    if pin is None:
        return
    _WRITTEN[str(target)] = pin
    while len(_WRITTEN) > _WRITTEN_MAX:
        _WRITTEN.popitem(last=False)[1].close()


@contextmanager
def atomic_target(
    target: str | os.PathLike[str], *, keep_partial_new: bool = False
) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``target``, on error it is removed.

    Parameters
    ----------
    target
        The path to (re)write. A symlink is written through: its destination is replaced.
    keep_partial_new
        An error raised by the writer's code (an ``Exception`` that is not an ``OSError``)
        while ``target`` does not exist yet moves what was written to ``target``, as
        anndata's in-place writes leave it; an existing ``target`` is never replaced by a
        partial write.

    Raises
    ------
    TargetExistsError
        ``target`` is a directory that is neither a store nor empty (checked before writing),
        or a regular file that a directory store would replace (checked after writing; the
        temporary is removed).
    TargetIsADirectoryError
        A single file would replace the directory ``target``.
    TargetPermissionError
        ``target`` is not writable for this user, or it does not exist and its directory is
        not writable.

    Notes
    -----
    Where the directory of ``target`` is read-only but ``target`` is writable, nothing can be
    created beside it. The write then goes to a temporary in :func:`tempfile.gettempdir` (files)
    or to a staging folder inside ``target`` (directory stores) and is copied over ``target``
    only once complete: a write that fails leaves ``target`` intact, but a crash *during that
    copy* can leave it torn (the same exception as backed ``r+`` edits). Open readers of a file
    rewritten in place are not told (the file stays the same).
    """
    shown = target
    target = Path(os.path.realpath(target))
    clean_stale(target)
    in_place = _check_target(target, shown)
    if in_place:
        yield from _in_place(target, shown)
        return
    tmp = temp_sibling(target)
    existed = os.path.lexists(target)
    try:
        yield tmp
    except BaseException as e:
        keep = keep_partial_new and not existed and isinstance(e, Exception) and not isinstance(e, OSError)
        if keep and os.path.lexists(tmp) and not os.path.lexists(target):
            try:
                os.replace(tmp, target)
            except OSError:
                _remove(tmp)
        else:
            _remove(tmp)
        raise
    if not os.path.lexists(tmp):
        return
    try:
        err = _kind_mismatch(tmp, target, shown)
        if err is not None:
            raise err
        write_token(tmp)
        if tmp.is_dir():
            _swap_dir(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _record(target)


def _in_place(target: Path, shown: Any) -> Iterator[Path]:
    """The fallback of :func:`atomic_target` for a writable target in a read-only directory."""
    if target.is_dir():
        stage = temp_sibling(target, "inplace", directory=target)
    else:
        stage = temp_sibling(target, "inplace", directory=Path(tempfile.gettempdir()))
    try:
        yield stage
        if not os.path.lexists(stage):
            return
        err = _kind_mismatch(stage, target, shown)
        if err is not None:
            raise err
        if stage.is_dir():
            for entry in list(os.scandir(target)):
                if entry.name != stage.name:
                    _remove(Path(entry.path))
            for entry in list(os.scandir(stage)):
                os.replace(entry.path, target / entry.name)
            stage.rmdir()
        else:
            with open(stage, "rb") as src, open(target, "r+b") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.truncate()
                dst.flush()
                os.fsync(dst.fileno())
        write_token(target)  # the same file or directory, a new generation
    finally:
        _remove(stage)
    _record(target)

"""Atomic whole-file writes: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_target", "clean_stale", "is_local_path"]

TMP_MARK = ".annstore-tmp-"


def is_local_path(path: object) -> bool:
    return isinstance(path, str | os.PathLike) and "://" not in str(path)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _tmp_name(target: Path, *, old: bool = False) -> Path:
    # the writer's pid is part of the name, so a later write can tell a dead writer's leftovers
    tag = "old-" if old else ""
    return target.with_name(f"{TMP_MARK}{tag}{os.getpid()}-{uuid.uuid4().hex[:12]}-{target.name}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale(target: str | os.PathLike[str]) -> None:
    """Remove what writers of ``target`` that died (SIGKILL, power loss) left behind.

    A dead writer's temporary sibling is deleted. If it died between the two renames of a
    directory swap, ``target`` is missing and the old store waits under its ``old-`` name: it is
    renamed back, so nothing is ever lost. Leftovers of live writers are not touched.
    """
    target = Path(target)
    pattern = f"{glob.escape(TMP_MARK)}*-{glob.escape(target.name)}"
    for p in sorted(target.parent.glob(pattern)):
        rest = p.name[len(TMP_MARK):]
        old = rest.startswith("old-")
        pid_s = rest[4:].split("-", 1)[0] if old else rest.split("-", 1)[0]
        if not pid_s.isdigit() or _alive(int(pid_s)):
            continue
        if old and not target.exists():
            os.replace(p, target)
        else:
            _remove(p)


@contextmanager
def atomic_target(
    target: str | os.PathLike[str], *, keep_partial_new: bool = False
) -> Iterator[Path]:
    """Yield a temporary sibling path; on success it replaces ``target``, on error it is removed.

    With ``keep_partial_new``, an error raised by the writer's code (an ``Exception`` that is
    not an ``OSError``) while ``target`` does not exist yet moves what was written to
    ``target``, as anndata's in-place writes leave it; an existing ``target`` is never
    replaced by a partial write.

    Files are swapped with one ``os.replace``. Directories (zarr) cannot be replaced in one step
    on POSIX: the old directory is first renamed aside, the new one renamed in, then the old one
    removed, so a reader sees either the old or the new store under ``target`` except in the
    instant between the two renames.
    """
    target = Path(target)
    clean_stale(target)
    tmp = _tmp_name(target)
    existed = target.exists()
    try:
        yield tmp
    except BaseException as e:
        keep = keep_partial_new and not existed and isinstance(e, Exception) and not isinstance(e, OSError)
        if keep and tmp.exists() and not target.exists():
            try:
                os.replace(tmp, target)
            except OSError:
                _remove(tmp)
        else:
            _remove(tmp)
        raise
    if not tmp.exists():
        return
    if tmp.is_dir():
        if target.exists():
            aside = _tmp_name(target, old=True)
            os.replace(target, aside)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(aside, target)
                _remove(tmp)
                raise
            _remove(aside)
        else:
            os.replace(tmp, target)
    else:
        if target.is_dir():
            aside = _tmp_name(target, old=True)
            os.replace(target, aside)
            os.replace(tmp, target)
            _remove(aside)
        else:
            os.replace(tmp, target)

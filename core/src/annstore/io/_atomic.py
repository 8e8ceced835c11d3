"""Atomic whole-file writes: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_target", "is_local_path"]

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


@contextmanager
def atomic_target(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling path; on success it replaces ``target``, on error it is removed.

    Files are swapped with one ``os.replace``. Directories (zarr) cannot be replaced in one step
    on POSIX: the old directory is first renamed aside, the new one renamed in, then the old one
    removed, so a reader sees either the old or the new store under ``target`` except in the
    instant between the two renames.
    """
    target = Path(target)
    tmp = target.with_name(f"{TMP_MARK}{uuid.uuid4().hex[:12]}-{target.name}")
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if not tmp.exists():
        return
    if tmp.is_dir():
        if target.exists():
            aside = target.with_name(f"{TMP_MARK}old-{uuid.uuid4().hex[:12]}-{target.name}")
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
            aside = target.with_name(f"{TMP_MARK}old-{uuid.uuid4().hex[:12]}-{target.name}")
            os.replace(target, aside)
            os.replace(tmp, target)
            _remove(aside)
        else:
            os.replace(tmp, target)

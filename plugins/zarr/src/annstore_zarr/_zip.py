"""Zip zarr stores: read in place; writes go to a staging folder packed into the archive on close.

Every temporary follows annstore's naming of write temporaries,
``.annstore-tmp-zip-<pid>-<id>-<name>`` (``<name>``: the archive's name, or the name of the
target it is a temporary of), so the next write of the same target removes those of writers
that died (``annstore.io`` cleans temporaries of dead pids), and a failure removes them at once.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["open_zip", "staging_name"]

_TMP_MARK = ".annstore-tmp-"
_TMP_RE = re.compile(rf"^{re.escape(_TMP_MARK)}(?:[a-z]+-)?\d+-[0-9a-f]+-(?P<name>.+)$")


def staging_name(p: Path) -> Path:
    """A fresh temporary sibling of the archive ``p`` (named after the target ``p`` stands for)."""
    m = _TMP_RE.match(p.name)
    base = m.group("name") if m else p.name
    return p.with_name(f"{_TMP_MARK}zip-{os.getpid()}-{uuid.uuid4().hex[:12]}-{base}")


def _pack(staging: Path, p: Path) -> None:
    tmp = staging_name(p)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for f in sorted(staging.rglob("*")):
                if f.is_file():
                    zf.write(f, f.relative_to(staging).as_posix())
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_zip(p: Path, mode: str) -> tuple[Any, Callable[[], None]]:
    """Open the zip archive ``p``: the zarr store and the function that closes (and packs) it."""
    from zarr.storage import LocalStore, ZipStore

    if mode == "r":
        zs = ZipStore(p, mode="r")
        return zs, zs.close
    if mode != "w":
        msg = f"Zip zarr stores can be opened with mode 'r' or 'w'; got {mode!r} for {str(p)!r}."
        raise ValueError(msg)
    staging = staging_name(p)
    staging.mkdir()
    store = LocalStore(staging)

    def finalize() -> None:
        try:
            _pack(staging, p)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    return store, finalize

"""A whole-file write refuses what it must not destroy, and writes where it may.

For every single-file and directory format (h5ad, loom, zarr directory, zarr zip), with the
written object in memory ("eager") and backed on another file ("backed"):

* a directory that is not a store (a user's folder with files) is refused before anything is
  written; so is a target of another kind (a directory store over a regular file, a single
  file over a directory store), after writing the temporary, which is removed;
* a target without write permission (``chmod a-w``; root too) is refused;
* a symlink is written through: the link stays a link, its destination gets the new content;
* a writable target in a read-only directory is rewritten in place (nothing can be created
  beside it); creating a new file there is refused;
* every refusal is an ``AnnstoreError`` that also is the builtin anndata raises
  (``FileExistsError``, ``IsADirectoryError``, ``PermissionError``) and names the target, the
  target and its directory are byte-for-byte unchanged, and no case leaves a temporary behind.

Figures: ``pytest tests/robustness/test_write_targets.py -s`` prints ``[write-targets]``.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import annstore
from annstore.errors import (
    AnnstoreError,
    FileReplacedError,
    TargetExistsError,
    TargetIsADirectoryError,
    TargetPermissionError,
)

#: format -> (suffix, is a directory store, writer)
FORMATS: dict[str, tuple[str, bool, Callable[[Path, Any], None]]] = {
    "h5ad": (".h5ad", False, lambda p, a: annstore.io.write_h5ad(p, a)),
    "zarr": (".zarr", True, lambda p, a: annstore.io.write_zarr(p, a)),
    "zarr-zip": (".zarr.zip", False, lambda p, a: annstore.io.write_zarr(p, a)),
    "loom": (".loom", False, lambda p, a: annstore.io.write_loom(p, a)),
}
MODES = ("eager", "backed")
#: Filled by the tests, printed by ``test_summary``.
FIGURES: dict[str, int] = {}


def _plugin(fmt: str) -> str:
    return "zarr" if fmt.startswith("zarr") else fmt


def _need(fmt: str) -> None:
    if _plugin(fmt) not in annstore.list_formats():
        pytest.skip(f"requires annstore-{_plugin(fmt)}")


def _count(name: str) -> None:
    FIGURES[name] = FIGURES.get(name, 0) + 1


def _adata(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return annstore.AnnData(
        rng.random((n, 5), dtype=np.float32),
        obs=pd.DataFrame({"v": np.full(n, seed)}, index=[f"c{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(5)]),
    )


@pytest.fixture
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The object to write: in memory, or backed on an h5ad file of its own."""
    new = _adata(12, seed=7)
    if request.param == "eager":
        yield new
        return
    if "h5ad" not in annstore.list_formats():
        pytest.skip("requires annstore-h5ad")
    src = tmp_path / "source" / "backed.h5ad"
    src.parent.mkdir()
    annstore.io.write_h5ad(src, new)
    backed = annstore.read_h5ad(src, backed="r")
    yield backed
    backed.file.close()


def _write(fmt: str, path: Path, adata: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        FORMATS[fmt][2](path, adata)


def _read_X(path: Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = annstore.read(path)
    return np.asarray(got.X.toarray() if hasattr(got.X, "toarray") else got.X)


def _snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root`` (itself included): kind and bytes."""
    out: dict[str, Any] = {}

    def one(p: Path) -> Any:
        if p.is_symlink():
            return ("link", os.readlink(p))
        if p.is_dir():
            return ("dir", stat.S_IMODE(p.stat().st_mode))
        return ("file", p.read_bytes(), stat.S_IMODE(p.stat().st_mode))

    out["."] = one(root)
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                p = Path(dirpath) / n
                out[str(p.relative_to(root))] = one(p)
    return out


def _temporaries(*dirs: Path) -> list[str]:
    """annstore temporaries under ``dirs`` (recursively), and this process' in the temp directory."""
    found = [str(p) for d in dirs if d.is_dir() for p in d.rglob("*") if ".annstore-" in p.name]
    tmp = Path(tempfile.gettempdir())
    mine = f"-{os.getpid()}-"
    return found + [str(p) for p in tmp.iterdir() if p.name.startswith(".annstore-") and mine in p.name]


def _check_refusal(info: pytest.ExceptionInfo[Any], target: Path, builtin: type) -> None:
    e = info.value
    assert isinstance(e, AnnstoreError) and isinstance(e, builtin), type(e).__mro__
    assert target.name in str(e), str(e)
    assert e.filename is not None and Path(e.filename).name == target.name
    assert e.path == "/"


def _user_dir(target: Path) -> None:
    target.mkdir()
    (target / "notes.txt").write_text("my notes")
    (target / "sub").mkdir()
    (target / "sub" / "data.csv").write_text("a,b\n1,2\n")


@pytest.mark.parametrize("source", MODES, indirect=True)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_directory_that_is_not_a_store_is_refused(fmt: str, source: Any, tmp_path: Path) -> None:
    _need(fmt)
    target = tmp_path / f"mine{FORMATS[fmt][0]}"
    _user_dir(target)
    before = _snapshot(tmp_path / ".")
    with pytest.raises(TargetExistsError) as info:
        _write(fmt, target, source)
    _check_refusal(info, target, FileExistsError)
    assert _snapshot(tmp_path / ".") == before
    assert _temporaries(tmp_path) == []
    _count("not-a-store")


def _other_kind(fmt: str, target: Path) -> type:
    """Create at ``target`` what ``fmt`` must not replace; return the builtin error expected."""
    if FORMATS[fmt][1]:  # a directory store over a regular file (an h5ad file, say)
        target.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
        return FileExistsError
    if "zarr" in annstore.list_formats():  # a zarr directory store, under the file's name
        _write("zarr", target.with_name("store.zarr"), _adata(4, seed=1))
        target.with_name("store.zarr").rename(target)
    else:
        target.mkdir()
    return IsADirectoryError


@pytest.mark.parametrize("source", MODES, indirect=True)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_target_of_another_kind_is_refused(fmt: str, source: Any, tmp_path: Path) -> None:
    _need(fmt)
    target = tmp_path / f"other{FORMATS[fmt][0]}"
    builtin = _other_kind(fmt, target)
    before = _snapshot(tmp_path / ".")
    with pytest.raises((TargetExistsError, TargetIsADirectoryError)) as info:
        _write(fmt, target, source)
    _check_refusal(info, target, builtin)
    assert _snapshot(tmp_path / ".") == before
    assert _temporaries(tmp_path) == []
    _count("other-kind")


def _make_read_only(target: Path) -> None:
    paths = [target] + (list(target.rglob("*")) if target.is_dir() else [])
    for p in paths:
        p.chmod(stat.S_IMODE(p.stat().st_mode) & ~0o222)


def _make_writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            p.chmod(stat.S_IMODE(p.stat().st_mode) | 0o200)


@pytest.mark.parametrize("source", MODES, indirect=True)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_read_only_target_is_refused(fmt: str, source: Any, tmp_path: Path) -> None:
    _need(fmt)
    target = tmp_path / f"ro{FORMATS[fmt][0]}"
    _write(fmt, target, _adata(4, seed=1))
    _make_read_only(target)
    try:
        before = _snapshot(tmp_path / ".")
        with pytest.raises(TargetPermissionError) as info:
            _write(fmt, target, source)
        _check_refusal(info, target, PermissionError)
        assert _snapshot(tmp_path / ".") == before
        assert _temporaries(tmp_path) == []
    finally:
        _make_writable(target)
    _count("read-only")


@pytest.mark.parametrize("source", MODES, indirect=True)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_symlink_is_written_through(fmt: str, source: Any, tmp_path: Path) -> None:
    _need(fmt)
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / f"data{FORMATS[fmt][0]}"
    _write(fmt, real, _adata(4, seed=1))
    link = link_dir / f"link{FORMATS[fmt][0]}"
    link.symlink_to(os.path.relpath(real, link_dir))
    _write(fmt, link, source)
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, link_dir)
    expected = np.asarray(source.X[()] if not isinstance(source.X, np.ndarray) else source.X)
    np.testing.assert_array_equal(_read_X(real), expected)
    np.testing.assert_array_equal(_read_X(link), expected)
    assert sorted(p.name for p in link_dir.iterdir()) == [link.name]
    assert sorted(p.name for p in real_dir.iterdir()) == [real.name]
    assert _temporaries(real_dir, link_dir) == []
    _count("symlink")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "locked"
    d.mkdir()
    yield d
    d.chmod(0o755)


@pytest.mark.parametrize("source", MODES, indirect=True)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_writable_target_in_a_read_only_directory_is_rewritten_in_place(
    fmt: str, source: Any, read_only_dir: Path
) -> None:
    _need(fmt)
    target = read_only_dir / f"data{FORMATS[fmt][0]}"
    _write(fmt, target, _adata(4, seed=1))
    ino = os.stat(target).st_ino
    read_only_dir.chmod(0o555)
    _write(fmt, target, source)
    assert os.stat(target).st_ino == ino  # rewritten in place, not replaced
    expected = np.asarray(source.X[()] if not isinstance(source.X, np.ndarray) else source.X)
    np.testing.assert_array_equal(_read_X(target), expected)
    assert sorted(p.name for p in read_only_dir.iterdir()) == [target.name]
    assert _temporaries(read_only_dir) == []
    _count("read-only-directory")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_failed_in_place_rewrite_keeps_the_target(
    fmt: str, read_only_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails in the read-only-directory fallback leaves the target as it was."""
    _need(fmt)
    target = read_only_dir / f"data{FORMATS[fmt][0]}"
    _write(fmt, target, _adata(4, seed=1))
    read_only_dir.chmod(0o555)
    before = _snapshot(read_only_dir)
    bad = _adata(6, seed=2)
    if fmt == "loom":  # loom writes no obsm: fail after the whole file was written
        import annstore_loom._write as loom_write

        orig = loom_write.write_loom_file

        def write_then_fail(*args: Any, **kw: Any) -> None:
            orig(*args, **kw)
            raise RuntimeError("the writer died after writing")

        monkeypatch.setattr(loom_write, "write_loom_file", write_then_fail)
    else:
        bad.obsm["a/b"] = np.zeros((6, 2))  # refused by the writer, after it started
    with pytest.raises((AnnstoreError, ValueError, RuntimeError)):
        _write(fmt, target, bad)
    assert _snapshot(read_only_dir) == before
    assert _temporaries(read_only_dir) == []
    _count("failed-in-place")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_creating_a_file_in_a_read_only_directory_is_refused(fmt: str, read_only_dir: Path) -> None:
    _need(fmt)
    read_only_dir.chmod(0o555)
    target = read_only_dir / f"new{FORMATS[fmt][0]}"
    with pytest.raises(TargetPermissionError) as info:
        _write(fmt, target, _adata(4, seed=1))
    _check_refusal(info, target, PermissionError)
    assert list(read_only_dir.iterdir()) == []
    assert _temporaries(read_only_dir) == []
    _count("create-in-read-only-directory")


@pytest.mark.parametrize("fmt", ["h5ad", "zarr"])
def test_an_in_place_rewrite_is_seen_by_an_open_backed_object(fmt: str, read_only_dir: Path) -> None:
    """The in-place fallback keeps the file (and its inode): the generation token tells."""
    _need(fmt)
    target = read_only_dir / f"data{FORMATS[fmt][0]}"
    _write(fmt, target, _adata(4, seed=1))
    backed = annstore.read(target, backed="r")
    ino = os.stat(target).st_ino
    read_only_dir.chmod(0o555)
    try:
        import subprocess
        import sys

        code = (
            "import sys, warnings; warnings.simplefilter('ignore'); import numpy as np, annstore; "
            f"annstore.write(annstore.AnnData(np.zeros((9, 5), dtype=np.float32)), sys.argv[1])"
        )
        subprocess.run([sys.executable, "-c", code, str(target)], check=True)
        assert os.stat(target).st_ino == ino  # rewritten in place: same inode
        with pytest.raises(FileReplacedError) as info:
            backed.X[0]
        assert target.name in str(info.value) and info.value.path == "X"
    finally:
        backed.file.close()
    _count("in-place-seen-by-backed")


def test_summary() -> None:
    print(f"\n[write-targets] cases passed per class: {FIGURES}, total {sum(FIGURES.values())}")
    assert FIGURES

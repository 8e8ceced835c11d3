"""The store adapter: directories are groups, ``<name>.npy`` files are arrays.

Layout of a group directory::

    .attrs.json            attributes of the group (JSON object)
    <child>/               a child group
    <child>.npy            a child array (numpy format, never pickled)
    <child>.attrs.json     attributes of that array
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np

from annstore.errors import InvalidFileError

ATTRS = ".attrs.json"


def _to_json(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return list(v)
    return v


class _JsonAttrs(MutableMapping[str, Any]):
    """Attributes persisted to a JSON file on every change."""

    def __init__(self, path: Path, writable: bool) -> None:
        self._path = path
        self._writable = writable

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            msg = f"Invalid attributes file {str(self._path)!r}: {e}"
            raise InvalidFileError(msg, filename=str(self._path)) from e

    def _save(self, d: dict[str, Any]) -> None:
        if not self._writable:
            msg = f"Store is read-only: cannot change attributes in {str(self._path)!r}"
            raise PermissionError(msg)
        self._path.write_text(json.dumps(d, allow_nan=True), encoding="utf-8")

    def __getitem__(self, k: str) -> Any:
        return self._load()[k]

    def __setitem__(self, k: str, v: Any) -> None:
        d = self._load()
        d[k] = _to_json(v)
        self._save(d)

    def update(self, other: Any = (), /, **kw: Any) -> None:  # one write for many keys
        d = self._load()
        for k, v in dict(other, **kw).items():
            d[k] = _to_json(v)
        self._save(d)

    def __delitem__(self, k: str) -> None:
        d = self._load()
        del d[k]
        self._save(d)

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


class NpyDirArray:
    """An array stored as ``<name>.npy``; implements :class:`annstore.types.ArrayLike`."""

    _annstore_node = True
    supports_fancy = True
    format = "npydir"

    def __init__(self, file: Path, name: str, root: Path, writable: bool) -> None:
        self._file = file
        self.name = name
        self.filename = str(root)
        self._writable = writable
        self._attrs = _JsonAttrs(file.with_suffix(ATTRS), writable)

    def _load(self) -> np.ndarray:
        try:
            return np.load(self._file, mmap_mode="r", allow_pickle=False)
        except ValueError as e:
            msg = f"Array {self.name!r} in {self.filename!r} cannot be loaded without pickle: {e}"
            raise InvalidFileError(msg, filename=self.filename, path=self.name) from e

    @staticmethod
    def _out(a: Any) -> Any:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "U":
                return a.astype(object)
            return np.array(a)
        if isinstance(a, np.str_):
            return str(a)
        return a

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._load().shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        dt = self._load().dtype
        return np.dtype(object) if dt.kind == "U" else dt

    @property
    def attrs(self) -> _JsonAttrs:
        return self._attrs

    @property
    def nbytes_stored(self) -> int:
        return self._file.stat().st_size

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, sel: Any) -> Any:
        return self._out(self._load()[sel])

    def __setitem__(self, sel: Any, value: Any) -> None:
        a = np.array(self._load())
        a[sel] = value
        self._save(a)

    def _save(self, a: np.ndarray) -> None:
        if not self._writable:
            msg = f"Store is read-only: cannot write {self.name!r}"
            raise PermissionError(msg)
        np.save(self._file, a, allow_pickle=False)

    def resize(self, shape: tuple[int, ...] | int) -> None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        old = np.array(self._load())
        new = np.zeros(shape, dtype=old.dtype)
        common = tuple(slice(0, min(a, b)) for a, b in zip(shape, old.shape, strict=True))
        new[common] = old[common]
        self._save(new)

    def read_into(self, out: np.ndarray, selection: Any = ()) -> None:
        out[...] = self._load()[selection]


class NpyDirGroup:
    """A group stored as a directory; implements :class:`annstore.types.GroupLike`."""

    _annstore_node = True
    format = "npydir"

    def __init__(self, path: Path, name: str, root: Path, writable: bool) -> None:
        self._path = path
        self.name = name
        self.filename = str(root)
        self._root = root
        self._writable = writable
        self._attrs = _JsonAttrs(path / ATTRS, writable)

    @property
    def attrs(self) -> _JsonAttrs:
        return self._attrs

    def _child_name(self, key: str) -> str:
        return f"{self.name.rstrip('/')}/{key}"

    def keys(self) -> list[str]:
        out = []
        for p in sorted(self._path.iterdir()):
            if p.is_dir():
                out.append(p.name)
            elif p.suffix == ".npy":
                out.append(p.stem)
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __getitem__(self, key: str) -> NpyDirGroup | NpyDirArray:
        parts = [p for p in key.split("/") if p]
        if not parts:
            return self
        node: NpyDirGroup = self
        for i, part in enumerate(parts):
            if (node._path / part).is_dir():
                child: Any = NpyDirGroup(node._path / part, node._child_name(part), self._root,
                                         self._writable)
            elif (node._path / f"{part}.npy").is_file():
                child = NpyDirArray(node._path / f"{part}.npy", node._child_name(part), self._root,
                                    self._writable)
            else:
                msg = f"{key!r} not found in group {self.name!r} of {self.filename!r}"
                raise KeyError(msg)
            if i < len(parts) - 1 and not isinstance(child, NpyDirGroup):
                raise KeyError(key)
            node = child
        return node

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: str) -> None:
        node = self[key]
        if isinstance(node, NpyDirGroup):
            shutil.rmtree(node._path)
        else:
            node._file.unlink()
            node._file.with_suffix(ATTRS).unlink(missing_ok=True)

    def _check_new(self, name: str) -> None:
        if not self._writable:
            msg = f"Store is read-only: cannot create {name!r} in {self.name!r}"
            raise PermissionError(msg)
        if not name or "/" in name or name.startswith("."):
            msg = f"Expected a key without '/' that does not start with '.'; got {name!r} instead."
            raise ValueError(msg)
        if name in self:
            msg = f"{name!r} already exists in group {self.name!r}"
            raise ValueError(msg)

    def create_group(self, name: str) -> NpyDirGroup:
        self._check_new(name)
        (self._path / name).mkdir()
        (self._path / name / ATTRS).write_text("{}", encoding="utf-8")
        return NpyDirGroup(self._path / name, self._child_name(name), self._root, self._writable)

    def create_array(
        self,
        name: str,
        data: Any = None,
        *,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        **storage_options: Any,
    ) -> NpyDirArray:
        self._check_new(name)
        if data is None:
            dt = np.dtype(dtype if dtype is not None else "f8")
            arr = np.zeros(shape or (), dtype="U1" if dt.kind in "OUT" else dt)
        else:
            arr = np.asarray(data)
            if arr.dtype.kind == "O":
                flat = arr.reshape(-1).tolist()
                bad = next((x for x in flat if not isinstance(x, str)), None)
                if bad is not None:
                    msg = f"Expected str elements in a string array; got {type(bad).__name__} {bad!r}"
                    raise TypeError(msg)
                arr = np.array(flat, dtype=str).reshape(arr.shape) if flat else arr.astype("U1")
            elif dtype is not None:
                arr = arr.astype(dtype)
        file = self._path / f"{name}.npy"
        np.save(file, arr, allow_pickle=False)
        file.with_suffix(ATTRS).write_text("{}", encoding="utf-8")
        return NpyDirArray(file, self._child_name(name), self._root, self._writable)

    def close(self) -> None:
        """Nothing is held open."""

    def __repr__(self) -> str:
        return f"<NpyDirGroup {self.name!r} in {self.filename!r}>"


def open_npydir(path: Any, mode: str) -> NpyDirGroup:
    """Open (``r``, ``r+``, ``a``) or create (``w``) an npydir store rooted at ``path``."""
    root = Path(path)
    if mode == "w":
        if root.exists():
            shutil.rmtree(root) if root.is_dir() else root.unlink()
        root.mkdir(parents=True)
        (root / ATTRS).write_text("{}", encoding="utf-8")
    elif mode == "a" and not root.exists():
        root.mkdir(parents=True)
        (root / ATTRS).write_text("{}", encoding="utf-8")
    elif not (root / ATTRS).is_file():
        msg = f"Not an npydir store (no {ATTRS}): {str(root)!r}"
        raise FileNotFoundError(msg)
    return NpyDirGroup(root, "/", root, writable=mode != "r")

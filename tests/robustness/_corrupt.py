"""Corruption helpers: base files, programmatic corruptions, and a crash-proof reader subprocess."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Formats the suites run against: (annstore format name, storage_options for the base write).
BASES: dict[str, tuple[str, dict[str, Any]]] = {
    "h5ad": ("h5ad", {}),
    "zarr2": ("zarr", {"zarr_format": 2}),
    "zarr3": ("zarr", {"zarr_format": 3}),
}
SUFFIX = {"h5ad": ".h5ad", "zarr": ".zarr"}

#: Exceptions from the storage library that are documented as legitimate IO failures
#: (see docs/guarantees.md): an OSError raised while the storage library reads bytes.
DOCUMENTED_BUILTINS = ("OSError",)


def make_base(kind: str, directory: Path) -> Path:
    """Write the reference AnnData (every element kind, raw included) as ``kind`` into ``directory``."""
    import warnings

    import annstore
    from annstore.testing import gen_adata

    fmt, so = BASES[kind]
    path = directory / f"base-{kind}{SUFFIX[fmt]}"
    adata = gen_adata(raw=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        annstore.write(adata, path, format=fmt, storage_options=so or None)
    return path


def copy_store(src: Path, dst: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


def walk(root: Any) -> Iterator[tuple[str, Any]]:
    """Every (path, node) below ``root`` in a stable order."""
    for k in sorted(root.keys()):
        c = root[k]
        yield c.name, c
        if hasattr(c, "create_group"):
            yield from walk(c)


def inventory(path: Path, fmt: str) -> list[tuple[str, str, bool, tuple[int, ...] | None, str]]:
    """(path, encoding-type, is_group, shape, dtype kind) of every element of the store."""
    import annstore.io

    out = []
    with annstore.io.open_store(path, format=fmt, mode="r") as root:
        for p, node in walk(root):
            enc = node.attrs.get("encoding-type", "")
            enc = enc.decode() if isinstance(enc, bytes) else str(enc)
            grp = hasattr(node, "create_group")
            shape = None if grp else tuple(int(s) for s in node.shape)
            kind = "" if grp else np.dtype(node.dtype).kind
            out.append((p, enc, grp, shape, kind))
    return out


# --------------------------------------------------------------------------- corruptions


@dataclass
class Case:
    """One corrupt input: how it was made, the element it targets, and what is acceptable."""

    id: str
    kind: str  # base kind: h5ad / zarr2 / zarr3
    target: str  # element path that was corrupted
    mutate: Callable[[Path], None] = field(repr=False)
    #: The corruption may legitimately read back (e.g. a legacy layout anndata also reads).
    may_succeed: bool = False
    #: Not a failure of ours: (reason) when the case documents a known colleague-owned bug.
    xfail: str | None = None
    #: Other element paths an error may rightly name (e.g. the link a soft link goes through).
    also: tuple[str, ...] = ()


def _parent(p: str) -> str:
    return p.rsplit("/", 1)[0] or "/"


def _edit(fmt: str, fn: Callable[[Any], None]) -> Callable[[Path], None]:
    """A mutation that opens the store ``r+`` through annstore's adapter and calls ``fn(root)``."""

    def run(path: Path) -> None:
        import annstore.io

        with annstore.io.open_store(path, format=fmt, mode="r+") as root:
            fn(root)

    return run


def _replace_array(p: str, data: Any = None, *, keep_attrs: bool = True, **kw: Any) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        parent, key = root[_parent(p)], p.rsplit("/", 1)[1]
        attrs = dict(root[p].attrs) if keep_attrs else {}
        del parent[key]
        if data is None:
            new = parent.create_array(key, **kw)
        else:
            new = parent.create_array(key, data=data, **kw)
        for k, v in attrs.items():
            new.attrs[k] = v
    return fn


def _array_for_group(p: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        parent, key = root[_parent(p)], p.rsplit("/", 1)[1]
        attrs = dict(root[p].attrs)
        del parent[key]
        new = parent.create_array(key, data=np.arange(5, dtype=np.int64))
        for k, v in attrs.items():
            new.attrs[k] = v
    return fn


def _group_for_array(p: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        parent, key = root[_parent(p)], p.rsplit("/", 1)[1]
        attrs = dict(root[p].attrs)
        del parent[key]
        new = parent.create_group(key)
        for k, v in attrs.items():
            new.attrs[k] = v
    return fn


def _set_attr(p: str, key: str, value: Any) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        root[p].attrs[key] = value
    return fn


def _del_attr(p: str, key: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        del root[p].attrs[key]
    return fn


def _del_child(p: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        del root[_parent(p)][p.rsplit("/", 1)[1]]
    return fn


_WRONG_TYPE = {
    "array": "csr_matrix",
    "string-array": "array",
    "csr_matrix": "array",
    "csc_matrix": "categorical",
    "categorical": "dataframe",
    "dataframe": "categorical",
    "nullable-integer": "csr_matrix",
    "nullable-boolean": "categorical",
    "nullable-string-array": "dataframe",
    "dict": "array",
    "raw": "csr_matrix",
    "numeric-scalar": "dataframe",
    "string": "csr_matrix",
    "rec-array": "categorical",
    "null": "csr_matrix",
}

#: Elements whose length is tied to an axis or a sibling (a truncation must be detected).
def _constrained(p: str) -> bool:
    parts = p.strip("/").split("/")
    if parts[0] in ("X", "layers", "obsm", "varm", "obsp", "varp", "obs", "var", "raw"):
        return True
    return any(s in parts for s in ("indptr", "indices", "data", "codes", "mask", "values"))


_REPEATS = ("/var/", "/raw/var/", "/obsm/df/", "/uns/df/", "/uns/nested/a/")


def _redundant(p: str) -> bool:
    """Columns of the other dataframes repeat those of ``obs``: corrupt only their index."""
    return p.startswith(_REPEATS) and "/_index" not in p


def element_cases(kind: str, inv: list[tuple[str, str, bool, Any, str]]) -> list[Case]:
    """The generic corruptions (through the store adapter) of every element in ``inv``."""
    fmt = BASES[kind][0]
    cases: list[Case] = []
    seen: dict[str, int] = {}

    def add(cid: str, target: str, fn: Callable[[Any], None], **kw: Any) -> None:
        cases.append(Case(f"{kind}:{target}:{cid}", kind, target, _edit(fmt, fn), **kw))

    for p, enc, grp, shape, dkind in inv:
        if _redundant(p):
            continue
        seen[enc] = seen.get(enc, 0) + 1
        # Attribute corruptions go through one dispatcher path: two elements of each
        # encoding, plus every top-level element, are enough.
        if enc and (seen[enc] <= 2 or p.count("/") == 1):
            # An element without encoding attributes is read the legacy way (anndata does
            # the same), so it may succeed; everything else below must fail.
            add("no-encoding-type", p, _del_attr(p, "encoding-type"), may_succeed=True)
            add("unknown-encoding", p, _set_attr(p, "encoding-type", "no-such-encoding"))
            add("future-version", p, _set_attr(p, "encoding-version", "99.0.0"))
            add("no-encoding-version", p, _del_attr(p, "encoding-version"))
            if enc in _WRONG_TYPE and p != "/":
                # Strings labelled 'array' are self-describing and read as strings (as in
                # anndata); every other wrong label must fail.
                add(f"wrong-type-{_WRONG_TYPE[enc]}", p,
                    _set_attr(p, "encoding-type", _WRONG_TYPE[enc]), may_succeed=enc == "string-array")
        if grp:
            if enc and enc not in ("dict",):
                add("array-for-group", p, _array_for_group(p))
            if enc in ("csr_matrix", "csc_matrix"):
                major = 0 if enc == "csr_matrix" else 1
                add("shape-attr-huge", p, _set_attr(p, "shape", [10**15, 10**15]))
                add("shape-attr-negative", p, _set_attr(p, "shape", [-1, 8]))
                add("shape-attr-string", p, _set_attr(p, "shape", "12x8"))
                add("shape-attr-3d", p, _set_attr(p, "shape", [2, 3, 4]))
                add("shape-attr-swapped-major", p, _set_attr_fn_shape(p, major))
                add("no-shape-attr", p, _del_attr(p, "shape"))
                for c in ("data", "indices", "indptr"):
                    add(f"missing-{c}", p, _del_child(f"{p}/{c}"))
                add("indptr-decreasing", p, _mutate_values(f"{p}/indptr", "reverse"))
                add("indptr-bad-end", p, _mutate_values(f"{p}/indptr", "bump-last"))
                add("indices-out-of-range", p, _mutate_values(f"{p}/indices", "huge"))
                add("indices-negative", p, _mutate_values(f"{p}/indices", "negative"))
                add("indptr-float", p, _mutate_values(f"{p}/indptr", "float"))
                add("indptr-huge-declared", p, _huge_component(f"{p}/indptr"))
            if enc == "categorical":
                add("codes-out-of-range", p, _mutate_values(f"{p}/codes", "huge"))
                add("codes-below-minus-one", p, _mutate_values(f"{p}/codes", "negative"))
                add("codes-float", p, _mutate_values(f"{p}/codes", "float"))
                add("missing-codes", p, _del_child(f"{p}/codes"))
                add("missing-categories", p, _del_child(f"{p}/categories"))
                add("codes-2d", p, _mutate_values(f"{p}/codes", "2d"))
            if enc.startswith("nullable-"):
                add("missing-mask", p, _del_child(f"{p}/mask"))
                add("missing-values", p, _del_child(f"{p}/values"))
                add("mask-not-bool", p, _mutate_values(f"{p}/mask", "float"))
                add("mask-short", p, _mutate_values(f"{p}/mask", "truncate"))
                if enc == "nullable-string-array":
                    add("bad-na-value", p, _set_attr(p, "na-value", "banana"))
            if enc == "dataframe":
                add("column-order-missing-col", p, _append_column(p, "no_such_column"))
                add("index-missing", p, _set_attr(p, "_index", "no_such_index"))
                add("index-not-str", p, _set_attr(p, "_index", 7))
                add("column-order-not-str", p, _set_attr(p, "column-order", [1, 2]))
                add("no-column-order", p, _del_attr(p, "column-order"))
                add("no-index-attr", p, _del_attr(p, "_index"))
        else:
            if p.rsplit("/", 1)[1] not in ("data", "indices", "indptr") and enc not in ("", "rec-array"):
                add("group-for-array", p, _group_for_array(p))
            if shape and _constrained(p) and shape[0] > 1:
                add("truncated", p, _mutate_values(p, "truncate"))
            if shape and len(shape) >= 1 and (_constrained(p) or p.startswith("/uns")):
                add("huge-declared-shape", p, _huge_component(p))
            if enc == "string-array" and shape:
                add("strings-as-numbers", p, _replace_array(p, np.zeros(shape, dtype=np.float64)),
                    may_succeed=not _constrained(p))
            if dkind in "iuf" and _constrained(p) and enc in ("array", "") and shape:
                if any(s in p for s in ("codes", "mask", "indptr", "indices")):
                    add("numbers-as-strings", p, _replace_array(p, np.full(shape, "x", dtype=object)))
    return cases


def _set_attr_fn_shape(p: str, major: int) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        shape = [int(s) for s in np.asarray(root[p].attrs["shape"]).tolist()]
        shape[major] += 3
        root[p].attrs["shape"] = shape
    return fn


def _append_column(p: str, name: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        cols = root[p].attrs["column-order"]
        cols = [c.decode() if isinstance(c, bytes) else str(c) for c in np.asarray(cols).tolist()] if len(cols) else []
        root[p].attrs["column-order"] = [*cols, name]
    return fn


def _mutate_values(p: str, how: str) -> Callable[[Any], None]:
    def fn(root: Any) -> None:
        node = root[p]
        v = np.asarray(node[...])
        if how == "reverse":
            new = v[::-1].copy()
            if len(new) > 1 and new[0] == new[-1]:
                new[0] = new[-1] + 5
        elif how == "bump-last":
            new = v.copy()
            new[-1] = new[-1] + 1000
        elif how == "huge":
            new = v.copy()
            new[...] = np.iinfo(v.dtype).max if v.dtype.kind in "iu" else 1e30
        elif how == "negative":
            new = v.astype(np.int64)
            if new.size:
                new[0] = -7
        elif how == "float":
            new = v.astype(np.float64) + 0.5
        elif how == "truncate":
            new = v[: max(len(v) // 2, 1) - (1 if len(v) > 1 and len(v) // 2 == len(v) else 0)]
            if len(new) == len(v):
                new = v[:-1]
        elif how == "2d":
            new = np.stack([v, v])
        else:  # pragma: no cover
            raise AssertionError(how)
        _replace_array(p, new)(root)
    return fn


def _huge_component(p: str) -> Callable[[Any], None]:
    """Replace ``p`` by a same-dtype chunked array declaring a first axis of 10**12 (no data)."""

    def fn(root: Any) -> None:
        node = root[p]
        shape = (10**12, *tuple(int(s) for s in node.shape[1:]))
        dt = np.dtype(node.dtype)
        if dt.kind == "O":
            dt = np.dtype(object)
        chunks = tuple(min(s, 1000) or 1 for s in shape)
        _replace_array(p, shape=shape, dtype=dt, chunks=chunks)(root)
    return fn


# ------------------------------------------------------------------ format-specific cases


def h5ad_cases(base_inv: list[Any]) -> list[Case]:
    """Invalid UTF-8, external links, soft links leaving the file, dangling links (h5py)."""
    import h5py

    cases: list[Case] = []

    def h5(cid: str, target: str, fn: Callable[[Any], None], **kw: Any) -> None:
        def run(path: Path) -> None:
            with h5py.File(path, "r+") as f:
                fn(f)
        cases.append(Case(f"h5ad:{target}:{cid}", "h5ad", target, run, **kw))

    def bad_utf8(p: str) -> Callable[[Any], None]:
        def fn(f: Any) -> None:
            attrs = dict(f[p].attrs)
            n = f[p].shape
            del f[p]
            dt = h5py.string_dtype("utf-8")
            vals = np.array([b"ok\xff\xfe" + str(i).encode() for i in range(int(np.prod(n)) or 1)], dtype=object)
            ds = f.create_dataset(p, data=vals.reshape(n) if n else vals[0], dtype=dt)
            for k, v in attrs.items():
                ds.attrs[k] = v
        return fn

    for p, enc, _grp, _shape, _ in base_inv:
        if enc in ("string-array", "string") or (p.endswith("/values") and enc == "string-array"):
            h5("invalid-utf8", p, bad_utf8(p))

    def ext_link(p: str, target_file: str) -> Callable[[Any], None]:
        def fn(f: Any) -> None:
            del f[p]
            f[p] = h5py.ExternalLink(target_file, "/")
        return fn

    def soft_link(p: str, target: str) -> Callable[[Any], None]:
        def fn(f: Any) -> None:
            del f[p]
            f[p] = h5py.SoftLink(target)
        return fn

    def soft_via_ext(p: str, target_file: str) -> Callable[[Any], None]:
        def fn(f: Any) -> None:
            f["/uns/_ext"] = h5py.ExternalLink(target_file, "/")
            del f[p]
            f[p] = h5py.SoftLink("/uns/_ext/X")
        return fn

    for p in ("/X", "/obs", "/layers/counts", "/uns/nested", "/obsm/X_dense", "/raw/X"):
        h5("external-link", p, ext_link(p, "/etc/hostname"))
        h5("external-link-sibling", p, ext_link(p, "other.h5ad"))
        h5("dangling-soft-link", p, soft_link(p, "/nowhere/at/all"))
        h5("soft-link-via-external", p, soft_via_ext(p, "other.h5ad"), also=("/uns/_ext",))
        h5("soft-link-cycle", p, soft_link(p, p))
    return cases


def zarr_cases(kind: str, base_inv: list[Any]) -> list[Case]:
    """Missing chunk files, missing array metadata, invalid JSON metadata, invalid UTF-8 (zarr)."""
    cases: list[Case] = []
    v3 = kind == "zarr3"
    meta_name = "zarr.json" if v3 else ".zarray"

    def fs(cid: str, target: str, fn: Callable[[Path], None], **kw: Any) -> None:
        cases.append(Case(f"{kind}:{target}:{cid}", kind, target, fn, **kw))

    def drop_chunks(p: str) -> Callable[[Path], None]:
        def fn(path: Path) -> None:
            d = path / p.strip("/")
            for f in list(d.rglob("*")):
                if f.is_file() and f.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"):
                    f.unlink()
        return fn

    def drop_meta(p: str) -> Callable[[Path], None]:
        def fn(path: Path) -> None:
            (path / p.strip("/") / meta_name).unlink()
            _drop_consolidated(path, p, v3)
        return fn

    def garbage_meta(p: str) -> Callable[[Path], None]:
        def fn(path: Path) -> None:
            (path / p.strip("/") / meta_name).write_bytes(b"{not json\xff")
            _drop_consolidated(path, None, v3)
        return fn

    for p, _enc, grp, shape, _ in base_inv:
        if grp or not shape or not _constrained(p):
            continue
        # Missing chunks read as the fill value (zarr spec): detected only where the
        # element's consistency checks see it (sparse indptr), so it may read back.
        must = p.endswith("/indptr")
        fs("missing-chunks", p, drop_chunks(p), may_succeed=not must)
    for p in ("/X", "/obs/cat/codes", "/layers/counts/indptr", "/obsm/X_dense", "/raw/X/data",
              "/uns/arr_int"):
        # X, obsm entries and uns entries are optional: without metadata they read as absent.
        fs("missing-array-metadata", p, drop_meta(p),
           may_succeed=p.startswith(("/uns", "/obsm")) or p == "/X")
        fs("garbage-array-metadata", p, garbage_meta(p))
    return cases


def _drop_consolidated(path: Path, p: str | None, v3: bool) -> None:
    """Remove consolidated metadata (all of it, so zarr reads the per-node files)."""
    if v3:
        root = path / "zarr.json"
        meta = json.loads(root.read_text())
        meta.pop("consolidated_metadata", None)
        root.write_text(json.dumps(meta))
    else:
        z = path / ".zmetadata"
        if z.exists():
            z.unlink()


def all_cases(kind: str, base: Path) -> list[Case]:
    fmt = BASES[kind][0]
    inv = inventory(base, fmt)
    cases = element_cases(kind, inv)
    if kind == "h5ad":
        cases += h5ad_cases(inv)
    else:
        cases += zarr_cases(kind, inv)
    return cases


# ----------------------------------------------------------------- crash-proof reader


@dataclass
class Outcome:
    status: str  # "ok" | "error" | "crash" | "hang"
    exc_types: list[str] = field(default_factory=list)
    is_annstore: bool = False
    text: str = ""
    detail: str = ""

    def describe(self) -> str:
        return f"{self.status} {self.exc_types[:1]} {self.text[:600]!r} {self.detail[-800:]}"


_WORKER = r"""
import faulthandler, json, shutil, sys, traceback, warnings
from pathlib import Path
faulthandler.enable()
sys.path.insert(0, HELPER_DIR)
import annstore
from annstore.errors import AnnstoreError
warnings.simplefilter("ignore")
_cases = {}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    path = req["path"]
    try:
        if req.get("op") == "case":
            import _corrupt
            key = (req["kind"], req["base"])
            if key not in _cases:
                _cases[key] = _corrupt.all_cases(req["kind"], Path(req["base"]))
            _corrupt.copy_store(Path(req["base"]), Path(path))
            try:
                _cases[key][req["index"]].mutate(Path(path))
            except BaseException as e:
                print(json.dumps({"status": "mutate-failed", "text": repr(e)}), flush=True)
                continue
        if req.get("op") == "backed" or req.get("backed"):
            a = annstore.read(path, req["format"], backed="r")
            a.to_memory()
            a.file.close()
        else:
            annstore.read(path, req["format"])
        res = {"status": "ok"}
    except BaseException as e:
        chain = [c.__module__ + "." + c.__qualname__ for c in type(e).__mro__]
        text = str(e) + "\n" + "\n".join(getattr(e, "__notes__", []) or [])
        res = {"status": "error", "exc_types": chain, "is_annstore": isinstance(e, AnnstoreError),
               "text": text, "detail": "".join(traceback.format_exception(e))[-3000:]}
    finally:
        if req.get("op") == "case" and req.get("cleanup", True):
            p = Path(path)
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    print(json.dumps(res), flush=True)
""".replace("HELPER_DIR", repr(str(Path(__file__).resolve().parent)))


class ReaderPool:
    """One long-lived reader subprocess, restarted after a crash or a hang (per-read timeout)."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> None:
        env = dict(os.environ, PYTHONFAULTHANDLER="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-c", _WORKER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, bufsize=1,
        )
        line = self._readline(120.0)
        if line is None or "ready" not in line:
            err = self._kill()
            msg = f"reader worker failed to start: {err}"
            raise RuntimeError(msg)

    def _readline(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        return self.proc.stdout.readline()

    def _kill(self) -> str:
        if self.proc is None:
            return ""
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.kill()
        try:
            _, err = p.communicate(timeout=10)
        except Exception:
            err = ""
        return err or ""

    def read(self, path: Path | str, fmt: str, op: str = "read", **extra: Any) -> Outcome:
        """Read ``path`` in the worker (``op="case"``: first make case ``extra['index']`` there)."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        req = {"path": str(path), "format": fmt, "op": op, **extra}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        t0 = time.monotonic()
        line = self._readline(self.timeout)
        if line is None:
            err = self._kill()
            return Outcome("hang", detail=f"no answer after {time.monotonic() - t0:.0f}s; {err}")
        if not line:
            err = self._kill()
            return Outcome("crash", detail=err)
        d = json.loads(line)
        if d["status"] == "mutate-failed":
            msg = f"could not build the corrupt input: {d['text']}"
            raise RuntimeError(msg)
        return Outcome(d["status"], d.get("exc_types", []), d.get("is_annstore", False),
                       d.get("text", ""), d.get("detail", ""))

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:
                pass
            self._kill()


def names_location(out: Outcome, path: Path, target: str, also: tuple[str, ...] = ()) -> bool:
    """Whether the error text names the file and the element (``target`` or a non-root ancestor)."""
    if path.name not in out.text:
        return False
    if target == "/":
        return True  # the root: naming the file is naming the element
    cands = [target, *also]
    p = target
    while p.count("/") > 1:
        p = _parent(p)
        cands.append(p)
    if target.count("/") == 1 or target in ("/",):
        cands.append(target)
    return any(f"'{c}'" in out.text or f"{c!r}" in out.text or f" {c} " in out.text for c in cands)


def acceptable(out: Outcome, path: Path, case: Case) -> str | None:
    """``None`` when ``out`` is an acceptable outcome for ``case``, else why not."""
    if out.status in ("crash", "hang"):
        return f"{out.status}: {out.detail[-800:]}"
    if out.status == "ok":
        return None if case.may_succeed else "read succeeded on a corrupt file"
    if any("MemoryError" in t for t in out.exc_types[:1]):
        return "MemoryError (unchecked allocation)"
    documented = out.is_annstore or (
        out.exc_types and out.exc_types[0].rsplit(".", 1)[-1] in DOCUMENTED_BUILTINS
    )
    if not documented:
        return f"undocumented exception {out.exc_types[:1]}: {out.detail[-1500:]}"
    if not names_location(out, path, case.target, case.also):
        return f"error does not name file and element {case.target!r}: {out.text[:800]!r}"
    return None


def run_cases(kind: str, base: Path, workdir: Path, *, workers: int = 2, timeout: float = 60.0,
              backed: bool = False) -> tuple[list[Case], list[tuple[Case, Outcome]]]:
    """Build and read every corrupt input of ``kind`` in ``workers`` reader subprocesses.

    ``backed``: open each input with ``backed="r"`` and load it with ``to_memory()``.
    Returns all cases and each case with its outcome.
    """
    import threading

    cases = all_cases(kind, base)
    fmt = BASES[kind][0]
    results: list[tuple[Case, Outcome] | None] = [None] * len(cases)
    lock = threading.Lock()
    todo = iter(range(len(cases)))

    def drive() -> None:
        pool = ReaderPool(timeout=timeout)
        try:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                dst = workdir / f"case{i}{SUFFIX[fmt]}"
                out = pool.read(dst, fmt, op="case", kind=kind, base=str(base), index=i,
                                backed=backed)
                results[i] = (cases[i], out)
        finally:
            pool.close()

    threads = [threading.Thread(target=drive) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in results if r is not None]
    if len(done) != len(cases):
        msg = f"only {len(done)} of {len(cases)} corrupt inputs were read"
        raise RuntimeError(msg)
    return cases, done

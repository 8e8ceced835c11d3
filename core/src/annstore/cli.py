"""The ``annstore`` command: info, convert, concat, validate, formats, demo.

Conventions shared by every subcommand: results go to stdout (``--json`` prints one JSON
document ending with a newline); progress bars, warnings and errors go to stderr, each warning
and error as one line (``annstore CMD: warning: ...`` / ``annstore CMD: error: ...``) naming
the file it is about. Progress bars appear only when stderr is a terminal (tqdm's when it is
installed: ``pip install "annstore[progress]"``). Exit codes are listed in :data:`EPILOG`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]

EXIT_OK = 0  #: success (validate: no errors; warnings may have been printed)
EXIT_FAIL = 1  #: the command ran and failed: invalid file, refused or failed conversion
EXIT_USAGE = 2  #: bad command line: unknown option or format, conflicting options
EXIT_UNREADABLE = 3  #: an input does not exist or cannot be read as AnnData
EXIT_INTERRUPTED = 130  #: Ctrl-C

EPILOG = """\
exit status:
  0    success (validate: the file is valid; warnings do not count)
  1    failure: validate found errors, convert refused a lossy conversion, a write failed
  2    usage error: bad option, unknown format name, a target whose format cannot be told
  3    an input is missing or cannot be read as AnnData
  130  interrupted

Results go to stdout; progress, warnings and errors go to stderr. Progress bars are shown
only when stderr is a terminal (tqdm's when installed: pip install "annstore[progress]").
"""


class CLIError(Exception):
    """A user error: printed as one line to stderr, no traceback."""

    def __init__(self, msg: str, code: int = EXIT_FAIL) -> None:
        super().__init__(msg)
        self.code = code


# --------------------------------------------------------------------- messages

_TMP_RE = re.compile(r"\.annstore-tmp-(?:old-)?\d+-[0-9a-f]{12}-")
#: Python-call wording of library messages, as a shell user types it
_SHELL_WORDING = (
    (re.compile(r"\bpass format=\s*"), "pass --format "),
    (re.compile(r"\bformat=(?=[ )'\"]|$)"), "--format"),
    (re.compile(r"\bUse annstore\.read\(\)\."), "Use 'annstore convert'."),
)


def _for_shell(msg: str) -> str:
    """A library message as a shell user reads it: no temporary names, no Python keywords."""
    msg = _TMP_RE.sub("", str(msg))
    for pat, repl in _SHELL_WORDING:
        msg = pat.sub(repl, msg)
    return msg.replace("\n", " ").strip()


def _err(command: str, msg: str, kind: str = "error") -> None:
    print(f"annstore {command}: {kind}: {_for_shell(msg)}", file=sys.stderr)


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Show Python warnings as ``annstore CMD: warning: message`` (no source path), once each."""
    # the same warning about many elements (e.g. OldFormatWarning for every element of an old
    # file) is printed once, and then counted: key = the text without its quoted names
    counts: dict[str, int] = {}

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
             line: Any = None) -> None:
        text = _for_shell(str(message))
        key = re.sub(r"'[^']*'", "'…'", text)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] == 1:
            print(f"annstore {command}: warning: {text}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show  # type: ignore[assignment]
            yield
    finally:
        for key, n in counts.items():
            if n > 1:
                print(f"annstore {command}: warning: ... and {n - 1} more like it: {key}",
                      file=sys.stderr)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=1, default=str) + "\n")


# --------------------------------------------------------------------- progress


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _fmt_duration(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class _Bar:
    """A progress bar on stderr, only when stderr is a terminal; tqdm's when installed.

    ``unit="B"`` counts bytes (scaled: KiB, MiB, ...). The built-in bar redraws at most ten
    times a second and shows the rate and the time left.
    """

    def __init__(self, total: float | None, desc: str, *, unit: str = "B", enabled: bool = True) -> None:
        self.enabled = enabled and _stderr_is_terminal()
        self.total, self.desc, self.unit = total, desc, unit
        self.done = 0.0
        self.t0 = time.monotonic()
        self._last = 0.0
        self._tqdm: Any = None
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._draw(force=True)
            return
        self._tqdm = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B",
                          unit_divisor=1024 if unit == "B" else 1000, file=sys.stderr, leave=False)

    def update(self, n: float) -> None:
        if not self.enabled:
            return
        self.done += n
        if self._tqdm is not None:
            self._tqdm.update(n)
        else:
            self._draw()

    def _amount(self, n: float) -> str:
        if self.unit != "B":
            return f"{n:.0f}"
        return _fmt_bytes(int(n))

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self.t0, 1e-9)
        rate = self.done / elapsed
        if self.total:
            frac = min(self.done / self.total, 1.0)
            width = 24
            bar = "#" * round(frac * width) + "." * (width - round(frac * width))
            left = (self.total - self.done) / rate if rate > 0 else None
            eta = _fmt_duration(left) if left is not None else "?"
            text = (f"{self.desc}: [{bar}] {frac:4.0%} {self._amount(self.done)}/"
                    f"{self._amount(self.total)} [{_fmt_duration(elapsed)}<{eta}, "
                    f"{self._amount(rate)}/s]")
        else:
            text = f"{self.desc}: {self._amount(self.done)} [{_fmt_duration(elapsed)}]"
        sys.stderr.write("\r" + text[: shutil.get_terminal_size((100, 20)).columns - 1] + "\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.close()
        else:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
        self.enabled = False


def _nbytes(v: Any) -> int:
    """A rough size of an element, to weigh it in a write's progress."""
    from scipy import sparse

    if v is None:
        return 0
    if sparse.issparse(v):
        return int(v.data.nbytes + v.indices.nbytes + v.indptr.nbytes)
    if hasattr(v, "memory_usage") and hasattr(v, "columns"):  # DataFrame
        return int(v.memory_usage(index=True, deep=False).sum())
    if isinstance(v, dict):
        return sum(_nbytes(x) for x in v.values()) + 64
    nbytes = getattr(v, "nbytes", None)
    if isinstance(nbytes, int | float):
        return int(nbytes)
    backend = getattr(v, "group", None)
    if backend is not None and "data" in getattr(backend, "keys", lambda: ())():
        try:  # a backed sparse matrix: its stored arrays
            return sum(int(np.prod(backend[k].shape)) * backend[k].dtype.itemsize
                       for k in ("data", "indices", "indptr"))
        except Exception:  # noqa: BLE001 - only an estimate
            pass
    shape, dtype = getattr(v, "shape", None), getattr(v, "dtype", None)
    if shape is not None and dtype is not None:
        try:
            return int(np.prod(shape)) * np.dtype(dtype).itemsize
        except TypeError:
            pass
    return 64


def _units(adata: Any) -> dict[str, int]:
    """Element path -> size, for the elements a write's progress counts."""
    units: dict[str, int] = {"X": _nbytes(adata.X), "obs": _nbytes(adata.obs), "var": _nbytes(adata.var)}
    for name in ("layers", "obsm", "varm", "obsp", "varp"):
        m = getattr(adata, name)
        for k in m.keys():
            if k is not None:
                units[f"{name}/{k}"] = _nbytes(m[k])
    units["uns"] = _nbytes(dict(adata.uns))
    if adata.raw is not None:
        units["raw"] = _nbytes(adata.raw.X) + _nbytes(adata.raw.var)
    return units


# ------------------------------------------------------------------ info helpers


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _walk(node: Any) -> list[dict[str, Any]]:
    """Describe every element under ``node`` from metadata only (no array data is read)."""
    from .io._dispatch import is_group
    from .io._spec import IOSpec

    rows: list[dict[str, Any]] = []

    def visit(n: Any) -> int | None:
        spec = IOSpec.from_attrs(n.attrs)
        enc = f"{spec.encoding_type}@{spec.encoding_version}" if spec else "-"
        row: dict[str, Any] = {"path": n.name, "encoding": enc}
        rows.append(row)
        if is_group(n):
            total: int | None = 0
            for k in sorted(n.keys()):
                size = visit(n[k])
                total = None if size is None or total is None else total + size
            if "shape" in n.attrs:
                row["shape"] = [int(x) for x in n.attrs["shape"]]
            if "data" in n and not is_group(n["data"]):
                row["dtype"] = str(n["data"].dtype)
            row["kind"] = "group"
            row["stored_bytes"] = total
            return total
        row["kind"] = "array"
        row["shape"] = list(n.shape)
        row["dtype"] = "string" if n.dtype.kind == "O" else str(n.dtype)
        size = getattr(n, "nbytes_stored", None)
        row["stored_bytes"] = int(size) if size is not None else None
        return row["stored_bytes"]

    visit(node)
    return rows


def _root_shape(root: Any) -> tuple[int, int] | None:
    from .io._dispatch import is_group

    def axis_len(key: str) -> int | None:
        if key not in root:
            return None
        g = root[key]
        if not is_group(g):
            return int(g.shape[0])  # legacy structured array
        idx = g.attrs.get("_index", "_index")
        if idx in g:
            child = g[idx]
            return int(child.shape[0]) if not is_group(child) else int(child["values"].shape[0])
        return None

    n, m = axis_len("obs"), axis_len("var")
    return (n, m) if n is not None and m is not None else None




# ---------------------------------------------------------------------------- formats


def _format_name(name: str | None) -> str | None:
    """Check a ``--format``/``--src-format`` value: an unknown name is a usage error."""
    if name is None:
        return None
    from .io._guess import require_format

    try:
        require_format(name)
    except Exception as e:  # noqa: BLE001 - UnknownFormatError / FormatNotInstalledError
        raise CLIError(str(e), EXIT_USAGE) from e
    return name


def _input_format(path: Any, given: str | None) -> str:
    """The format of an input: ``given``, or guessed; unreadable input exits 3."""
    from .io._guess import guess_format

    if given is not None:
        return given
    try:
        return guess_format(path)
    except Exception as e:  # noqa: BLE001 - missing file, unknown suffix and content
        raise CLIError(str(e), EXIT_UNREADABLE) from e


def _output_format(path: Any, given: str | None, hint: str = "pass --format") -> str:
    from .io._api import _guess_for_write

    if given is not None:
        return given
    try:
        return _guess_for_write(path)
    except Exception as e:  # noqa: BLE001
        from .io._plugins import list_formats

        msg = str(e)
        if "Could not determine" in msg:
            msg = (f"cannot tell the format to write {str(path)!r} from its suffix; {hint} "
                   f"(installed formats: {', '.join(sorted(list_formats()))})")
        raise CLIError(msg, EXIT_USAGE) from e


@contextlib.contextmanager
def _reading(path: Any) -> Iterator[None]:
    """Failures inside are "cannot read PATH" (exit 3)."""
    try:
        yield
    except CLIError:
        raise
    except Exception as e:  # noqa: BLE001 - anything that stops reading the input
        msg = _for_shell(str(e))
        where = str(path)
        text = f"cannot read the input: {msg}" if where in msg else f"cannot read {where!r}: {msg}"
        raise CLIError(text, EXIT_UNREADABLE) from e


# ---------------------------------------------------------------------------- info


def cmd_info(args: argparse.Namespace) -> int:
    import annstore

    from .io import open_store
    from .io._guess import require_format

    path = args.path
    fmt = _input_format(path, _format_name(args.format))
    info = require_format(fmt)
    if not info.hierarchical:
        with _reading(path):
            adata = annstore.read(path, fmt)
        if args.json:
            _print_json({"path": str(path), "format": fmt, "shape": list(adata.shape),
                         "summary": str(adata)})
        else:
            print(f"{path}: {fmt} file\n{adata}")
        return EXIT_OK
    with _reading(path), open_store(path, format=fmt, mode="r") as root:
        shape = _root_shape(root)
        rows = _walk(root)
    if args.json:
        _print_json({"path": str(path), "format": fmt, "shape": shape, "elements": rows})
        return EXIT_OK
    shape_s = f"{shape[0]} × {shape[1]}" if shape else "unknown"
    print(f"{path}: {fmt}, n_obs × n_vars = {shape_s}")
    w = max(len(r["path"]) for r in rows)
    print(f"{'element':<{w}}  {'encoding':<28} {'dtype':<10} {'shape':<18} {'on disk':>10}")
    for r in rows:
        shp = "×".join(str(s) for s in r.get("shape", [])) or ("()" if r["kind"] == "array" else "")
        print(
            f"{r['path']:<{w}}  {r['encoding']:<28} {r.get('dtype', ''):<10} {shp:<18} "
            f"{_fmt_bytes(r['stored_bytes']):>10}"
        )
    return EXIT_OK


# ------------------------------------------------------------------------- convert


def _not_held(adata: Any, fmt: str, hierarchical: bool) -> list[str]:
    """Elements of ``adata`` that format ``fmt`` cannot store (hierarchical formats hold all)."""
    from scipy import sparse

    if hierarchical:
        return []
    out: list[str] = []
    if fmt == "loom":  # matrices, 1-d annotations, graphs and (with write_obsm_varm) 2-d arrays
        import pandas as pd

        for name in ("obsm", "varm"):
            m = getattr(adata, name)
            out += [f"{name}/{k}" for k in m.keys()
                    if isinstance(m[k], pd.DataFrame) or not hasattr(m[k], "shape")
                    or len(m[k].shape) != 2]
        out += [f"uns/{k}" for k in adata.uns.keys()]
        if adata.raw is not None:
            out.append("raw")
    elif fmt == "text":  # write_csvs: X, obs, var, obsm, varm, tabular uns entries
        from collections.abc import Mapping

        out += [f"layers/{k}" for k in adata.layers.keys() if k is not None]
        out += [f"obsp/{k}" for k in adata.obsp.keys()]
        out += [f"varp/{k}" for k in adata.varp.keys()]
        out += [f"uns/{k}" for k, v in adata.uns.items()
                if sparse.issparse(v) or isinstance(v, Mapping) or hasattr(v, "obs_names")]
        if adata.raw is not None:
            out.append("raw")
    return out


def _drop(adata: Any, paths: Sequence[str]) -> None:
    for p in paths:
        if p == "raw":
            adata.raw = None
            continue
        name, _, key = p.partition("/")
        mapping = getattr(adata, name)
        if key in mapping:
            del mapping[key]


def _allowed(path: str, drop: Sequence[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in drop)


def _write_with_progress(adata: Any, dst: Any, fmt: str, hierarchical: bool,
                         kw: dict[str, Any], bar: _Bar) -> None:
    """``annstore.write``, advancing ``bar`` as each top-level element (each layer, ...) is done."""
    import annstore

    if not (bar.enabled and hierarchical):
        annstore.write(adata, dst, fmt, **kw)
        return
    from .io import open_store
    from .io._atomic import atomic_target, is_local_path
    from .io._dispatch import WriteContext
    from .io.encodings._anndata import write_anndata_into

    units = _units(adata)

    def callback(func: Any, store: Any, key: str, elem: Any, *, iospec: Any,
                 dataset_kwargs: Any) -> None:
        func(store, key, elem, dataset_kwargs=dataset_kwargs)
        parent = str(getattr(store, "name", "/") or "/").strip("/")
        size = units.pop(f"{parent}/{key}" if parent else key, None)
        if size is not None:
            bar.update(size)

    def do(target: Any) -> None:
        with open_store(target, format=fmt, mode="w") as root:
            write_anndata_into(root, adata, ctx=WriteContext(callback=callback),
                               dataset_kwargs=kw.get("dataset_kwargs") or {})

    if is_local_path(dst):
        with atomic_target(dst) as tmp:
            do(tmp)
    else:
        do(dst)


def cmd_convert(args: argparse.Namespace) -> int:
    import annstore

    from .io._guess import require_format

    src, dst = args.src, args.dst
    src_fmt = _input_format(src, _format_name(args.src_format))
    dst_fmt = _output_format(dst, _format_name(args.format))
    out_info = require_format(dst_fmt)
    if args.compression and dst_fmt != "h5ad":
        raise CLIError(f"--compression applies to h5ad targets only; {str(dst)!r} is {dst_fmt}",
                       EXIT_USAGE)
    # Where source and target allow it, X stays on disk and is copied in bounded blocks;
    # whole-file writers (loom, csv) get everything in memory.
    backed = "r" if require_format(src_fmt).supports_backed and out_info.hierarchical else None
    with _reading(src):
        adata = annstore.read(src, src_fmt, backed=backed)
    try:
        lost = _not_held(adata, dst_fmt, out_info.hierarchical)
        drop = list(args.drop or [])
        refused = [p for p in lost if not (args.allow_lossy or _allowed(p, drop))]
        if refused:
            groups = sorted({p.partition("/")[0] for p in refused})
            raise CLIError(
                f"{str(dst)!r}: the {dst_fmt} format cannot hold {', '.join(refused)}; nothing "
                f"written. Pass --drop {','.join(groups)} (or --allow-lossy) to write without them."
            )
        dropped = [p for p in lost] + [p for p in _explicit(adata, drop) if p not in lost]
        _drop(adata, dropped)
        kw: dict[str, Any] = {}
        if args.compression:
            kw["dataset_kwargs"] = {"compression": args.compression}
        if dst_fmt == "loom":
            kw["write_obsm_varm"] = True
        elif dst_fmt == "text":
            kw.update(kind="csvs", skip_data=False)
        bar = _Bar(None if not out_info.hierarchical else sum(_units(adata).values()),
                   f"writing {Path(str(dst)).name}", enabled=not args.quiet)
        try:
            _write_with_progress(adata, dst, dst_fmt, out_info.hierarchical, kw, bar)
        finally:
            bar.close()
    finally:
        if backed:
            adata.file.close()
    if dropped:
        _err("convert", f"{str(dst)!r}: dropped {', '.join(dropped)}", "warning")
    if not args.quiet:
        print(f"wrote {dst} ({adata.n_obs} × {adata.n_vars}, {dst_fmt})")
    return EXIT_OK


def _explicit(adata: Any, drop: Sequence[str]) -> list[str]:
    """The elements ``--drop`` names that ``adata`` holds."""
    out: list[str] = []
    for d in drop:
        d = d.strip("/")
        name, _, key = d.partition("/")
        if name == "raw":
            if adata.raw is not None:
                out.append("raw")
            continue
        if name not in ("layers", "obsm", "varm", "obsp", "varp", "uns"):
            raise CLIError(f"--drop {d}: expected raw, or layers, obsm, varm, obsp, varp, uns, "
                           "optionally followed by /KEY", EXIT_USAGE)
        keys = [k for k in getattr(adata, name).keys() if k is not None]
        out += [f"{name}/{k}" for k in keys if not key or str(k) == key]
    return out


# -------------------------------------------------------------------------- concat


def cmd_concat(args: argparse.Namespace) -> int:
    from .experimental import concat_on_disk

    for p in args.inputs:
        if "://" not in str(p) and not Path(p).exists():
            raise CLIError(f"{str(p)!r}: no such file or directory", EXIT_UNREADABLE)
    _output_format(args.output, None, "use a suffix such as .h5ad or .zarr")
    kw: dict[str, Any] = {
        "axis": args.axis, "join": args.join, "merge": args.merge, "uns_merge": args.uns_merge,
        "label": args.label, "keys": args.keys.split(",") if args.keys else None,
        "index_unique": args.index_unique, "pairwise": args.pairwise,
    }
    if args.fill_value is not None:
        try:
            kw["fill_value"] = float(args.fill_value)
        except ValueError as e:
            raise CLIError(f"--fill-value expects a number; got {args.fill_value!r}", EXIT_USAGE) from e
    concat_on_disk(args.inputs, args.output, progress=not args.quiet and _stderr_is_terminal(), **kw)
    if not args.quiet:
        shape = None
        with contextlib.suppress(Exception):
            from .io import open_store

            with open_store(args.output, mode="r") as root:
                shape = _root_shape(root)
        dims = f" ({shape[0]} × {shape[1]})" if shape else ""
        print(f"wrote {args.output}{dims}")
    return EXIT_OK


# ------------------------------------------------------------------------ validate


def cmd_validate(args: argparse.Namespace) -> int:
    from .io import open_store
    from .io._validate import validate_store

    from .io._guess import require_format

    fmt = _input_format(args.path, _format_name(args.format))
    if not require_format(fmt).hierarchical:
        raise CLIError(f"validate checks stores of the anndata on-disk spec (h5ad, zarr, ...); "
                       f"{str(args.path)!r} is a {fmt} file", EXIT_USAGE)
    with _reading(args.path):
        ctx = open_store(args.path, format=fmt, mode="r")
        root = ctx.__enter__()
    try:
        problems = validate_store(root, read_data=not args.metadata_only)
    finally:
        ctx.__exit__(None, None, None)
    errors = sum(p.severity == "error" for p in problems)
    warns = len(problems) - errors
    if args.json:
        _print_json({"path": str(args.path), "format": fmt, "valid": not errors, "errors": errors,
                     "warnings": warns, "problems": [p._asdict() for p in problems]})
    else:
        for p in problems:
            print(f"{p.path}: {p.severity}: {_for_shell(p.message)}")
        counts = ", ".join(f"{n} {w}{'s' if n != 1 else ''}"
                           for n, w in ((errors, "error"), (warns, "warning")) if n)
        verdict = "invalid" if errors else "valid"
        print(f"{args.path}: {verdict}" + (f" ({counts})" if counts else ""))
    return EXIT_FAIL if errors else EXIT_OK


# ------------------------------------------------------------------------- formats


def cmd_formats(args: argparse.Namespace) -> int:
    import annstore
    from .io._guess import KNOWN_FORMATS

    formats = annstore.list_formats()
    missing = [k for k in KNOWN_FORMATS if k.name not in formats]
    if args.json:
        _print_json({n: {
            "description": f.description, "suffixes": list(f.suffixes), "hierarchical": f.hierarchical,
            "backed": f.supports_backed, "append": f.supports_append, "package": f.package,
            "version": f.version} for n, f in formats.items()})
        return EXIT_OK
    print(f"{'format':<8} {'package':<16} {'version':<8} {'suffixes':<26} capabilities")
    for name, f in formats.items():
        caps = ["hierarchical" if f.hierarchical else "whole-file"]
        caps += [c for c, on in (("backed", f.supports_backed), ("append", f.supports_append)) if on]
        print(f"{name:<8} {f.package or '-':<16} {f.version or '-':<8} "
              f"{', '.join(f.suffixes) or '-':<26} {', '.join(caps)}")
    for k in missing:
        print(f"{k.name:<8} (not installed: pip install {k.package})")
    return EXIT_OK


# ---------------------------------------------------------------------------- demo


def _run_step(argv: list[str]) -> None:
    print(f"\n$ annstore {' '.join(argv)}", flush=True)
    args = build_parser().parse_args(argv)
    rc = int(args.func(args))
    if rc:
        raise CLIError(f"demo: 'annstore {' '.join(argv)}' exited with {rc}")


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on bundled sample data: h5ad -> zarr -> h5ad, info and validate each."""
    from importlib.resources import as_file, files

    import annstore

    formats = annstore.list_formats()
    if "h5ad" not in formats:
        raise CLIError("the demo reads a bundled .h5ad file and needs the h5ad plugin: "
                       "pip install annstore-h5ad")
    via = "zarr" if "zarr" in formats else None
    if via is None:
        _err("demo", "the zarr plugin is not installed (pip install annstore-zarr): the round "
                     "trip runs h5ad -> h5ad (gzip) instead of h5ad -> zarr -> h5ad", "warning")
    with contextlib.ExitStack() as stack:
        if args.outdir:
            out = Path(args.outdir)
            out.mkdir(parents=True, exist_ok=True)
        else:  # removed at the end, whatever happens
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="annstore-demo-")))
        sample = stack.enter_context(as_file(files("annstore") / "data" / "sample.h5ad"))
        _run_step(["info", str(sample)])
        middle = out / ("sample.zarr" if via else "sample_gzip.h5ad")
        _run_step(["convert", str(sample), str(middle)]
                  + ([] if via else ["--compression", "gzip"]))
        back = out / "roundtrip.h5ad"
        _run_step(["convert", str(middle), str(back)])
        for p in (middle, back):
            _run_step(["validate", str(p)])
        a, b = annstore.read(sample), annstore.read(back)
        from .testing import assert_adata_equal

        assert_adata_equal(a, b)
        chain = " -> ".join(["h5ad", via or "h5ad (gzip)", "h5ad"])
        print(f"\nround trip {chain} is lossless: {b.n_obs} × {b.n_vars}\n{b}")
        if args.outdir:
            print(f"files kept in {out}")
    return EXIT_OK


# ---------------------------------------------------------------------------- main


def _sub(sub: Any, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)


_MERGES = ["same", "unique", "first", "only"]


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    p = argparse.ArgumentParser(
        prog="annstore", description="Inspect, convert, concatenate and validate AnnData files "
        "in any installed format.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"annstore {version('annstore-core')}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = _sub(sub, "info", "shape and every element with encoding, dtype, shape, size")
    s.add_argument("path", help="file or store to describe (read from metadata only)")
    s.add_argument("--format", help="its format (default: guessed from suffix and content)")
    s.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    s.set_defaults(func=cmd_info)

    s = _sub(sub, "convert", "convert between any two installed formats (atomic write)",
             "Convert SRC to DST in any two installed formats. DST is written to a hidden "
             "temporary sibling and renamed into place when complete. A target format that "
             "cannot hold every element (loom: uns, raw; csv: layers, obsp, varp, raw) is "
             "refused unless those elements are dropped with --drop or --allow-lossy; what "
             "is dropped is listed on stderr.")
    s.add_argument("src", help="input file or store")
    s.add_argument("dst", help="output path; its suffix gives the format unless --format is given")
    s.add_argument("--format", help="output format (default: from DST's suffix)")
    s.add_argument("--src-format", help="input format (default: guessed)")
    s.add_argument("--compression", choices=["gzip", "lzf"], help="compress arrays (h5ad targets)")
    s.add_argument("--drop", action="append", metavar="ELEM[,ELEM...]",
                   type=lambda v: [x for x in v.split(",") if x], default=None,
                   help="leave these out: raw, layers, obsm, varm, obsp, varp, uns, or one entry "
                        "such as layers/counts (repeatable)")
    s.add_argument("--allow-lossy", action="store_true",
                   help="drop whatever the target format cannot hold, and list it on stderr")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no result line")
    s.set_defaults(func=cmd_convert)

    s = _sub(sub, "concat", "concatenate files on disk into OUT (concat_on_disk)")
    s.add_argument("inputs", nargs="+", metavar="IN", help="input files or stores (h5ad, zarr)")
    s.add_argument("-o", "--output", required=True, metavar="OUT", help="output path (.h5ad or .zarr)")
    s.add_argument("--axis", default="obs", choices=["obs", "var", "0", "1"],
                   help="axis to concatenate along (default: obs)")
    s.add_argument("--join", default="inner", choices=["inner", "outer"],
                   help="keep the intersection (inner, default) or union (outer) of the other axis")
    s.add_argument("--merge", choices=_MERGES, help="how to merge annotations of the other axis")
    s.add_argument("--uns-merge", choices=_MERGES, help="how to merge uns")
    s.add_argument("--label", help="obs (var) column recording which input each row came from")
    s.add_argument("--keys", help="comma-separated names of the inputs, for --label and --index-unique")
    s.add_argument("--index-unique", metavar="SEP",
                   help="make names unique by appending SEP and the input's key")
    s.add_argument("--fill-value", metavar="NUMBER", help="value for missing entries in an outer join")
    s.add_argument("--pairwise", action="store_true", help="also concatenate obsp (varp)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no result line")
    s.set_defaults(func=cmd_concat)

    s = _sub(sub, "validate", "check a file against the anndata on-disk spec",
             "Check a file against the anndata on-disk spec. Every problem is listed once with "
             "its element path and grade: an error (readers fail or read wrong data) or a "
             "warning (readers cope, e.g. a file written by anndata < 0.8). Exit 1 only for "
             "errors.")
    s.add_argument("path", help="file or store to check")
    s.add_argument("--format", help="its format (default: guessed)")
    s.add_argument("--json", action="store_true", help="print one JSON document")
    s.add_argument("--metadata-only", action="store_true",
                   help="check attributes and shapes only; read no array data")
    s.set_defaults(func=cmd_validate)

    s = _sub(sub, "formats", "installed format plugins and their capabilities")
    s.add_argument("--json", action="store_true", help="print one JSON document")
    s.set_defaults(func=cmd_formats)

    s = _sub(sub, "demo", "run the main job on the bundled sample data",
             "Run info, convert and validate on the bundled sample: h5ad -> zarr -> h5ad "
             "(h5ad -> h5ad when zarr is not installed), checked lossless.")
    s.add_argument("--outdir", help="keep the files in this directory (default: a temporary "
                                    "directory, removed at the end)")
    s.set_defaults(func=cmd_demo)
    return p


def _exit_code(e: BaseException) -> int:
    from .errors import InvalidFileError

    # inputs are read inside _reading() (exit 3); what is left failed while writing (exit 1),
    # except an input concat_on_disk found not to be an AnnData
    return EXIT_UNREADABLE if isinstance(e, InvalidFileError) else EXIT_FAIL


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "axis", None) in ("0", "1"):
        args.axis = int(args.axis)
    if getattr(args, "drop", None):
        args.drop = [d for group in args.drop for d in group]
    command = args.command
    try:
        with _one_line_warnings(command):
            return int(args.func(args))
    except BrokenPipeError:  # e.g. `annstore info x.h5ad | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CLIError as e:
        _err(command, str(e))
        return e.code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - one line, no traceback (ANNSTORE_TRACEBACK=1 shows it)
        if os.environ.get("ANNSTORE_TRACEBACK"):
            raise
        notes = " ".join(getattr(e, "__notes__", []))
        msg = str(e) or type(e).__name__
        _err(command, f"{msg} {notes}" if notes else msg)
        return _exit_code(e)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

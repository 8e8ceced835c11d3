"""The ``annstore`` command: info, convert, concat, validate, formats, demo."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2, 2


class CLIError(Exception):
    """A user error: printed as one line to stderr, no traceback."""

    def __init__(self, msg: str, code: int = 1) -> None:
        super().__init__(msg)
        self.code = code


# ---------------------------------------------------------------------------- info


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


def cmd_info(args: argparse.Namespace) -> int:
    import annstore

    from .io import open_store
    from .io._guess import guess_format, require_format

    path = args.path
    fmt = args.format or guess_format(path)
    info = require_format(fmt)
    if not info.hierarchical:
        adata = annstore.read(path, fmt)
        print(f"{path}: {fmt} file\n{adata}")
        return EXIT_OK
    with open_store(path, format=fmt, mode="r") as root:
        shape = _root_shape(root)
        rows = _walk(root)
    if args.json:
        print(json.dumps({"path": str(path), "format": fmt, "shape": shape, "elements": rows}, indent=1))
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


def cmd_convert(args: argparse.Namespace) -> int:
    import annstore

    from .io._guess import guess_format, require_format

    src, dst = args.src, args.dst
    src_fmt = args.src_format or guess_format(src)
    # Where the source supports it, X stays on disk and is copied in bounded blocks.
    backed = "r" if require_format(src_fmt).supports_backed else None
    adata = annstore.read(src, src_fmt, backed=backed)
    try:
        kw: dict[str, Any] = {}
        if args.compression:
            kw["dataset_kwargs"] = {"compression": args.compression}
        annstore.write(adata, dst, args.format, **kw)
    finally:
        if backed:
            adata.file.close()
    if not args.quiet:
        print(f"wrote {dst} ({adata.n_obs} × {adata.n_vars})")
    return EXIT_OK


# -------------------------------------------------------------------------- concat


def cmd_concat(args: argparse.Namespace) -> int:
    kw: dict[str, Any] = {
        "axis": args.axis, "join": args.join, "merge": args.merge, "uns_merge": args.uns_merge,
        "label": args.label, "keys": args.keys.split(",") if args.keys else None,
        "index_unique": args.index_unique, "pairwise": args.pairwise,
    }
    if args.fill_value is not None:
        kw["fill_value"] = float(args.fill_value)
    try:
        from .experimental import concat_on_disk
    except ImportError:  # pragma: no cover - concat_on_disk ships with core
        concat_on_disk = None
    if concat_on_disk is not None:
        concat_on_disk(args.inputs, args.output, progress=not args.quiet, **kw)
    else:  # pragma: no cover
        import annstore

        annstore.write(annstore.concat([annstore.read(p) for p in args.inputs], **kw), args.output)
    if not args.quiet:
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


# ------------------------------------------------------------------------ validate


def cmd_validate(args: argparse.Namespace) -> int:
    from .io import open_store
    from .io._guess import guess_format
    from .io._validate import validate_store

    try:
        fmt = args.format or guess_format(args.path)
        ctx = open_store(args.path, format=fmt, mode="r")
        root = ctx.__enter__()
    except Exception as e:  # noqa: BLE001 - any failure to open means "unreadable"
        print(f"annstore validate: cannot read {args.path!r}: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        problems = validate_store(root, read_data=not args.metadata_only)
    finally:
        ctx.__exit__(None, None, None)
    if args.json:
        print(json.dumps([{"path": p, "problem": m} for p, m in problems], indent=1))
    else:
        for p, m in problems:
            print(f"{p}: {m}")
        print(f"{args.path}: {'valid' if not problems else f'{len(problems)} problem(s)'}",
              file=sys.stderr)
    return EXIT_OK if not problems else EXIT_INVALID


# ------------------------------------------------------------------------- formats


def cmd_formats(args: argparse.Namespace) -> int:
    import annstore
    from .io._guess import KNOWN_FORMATS

    formats = annstore.list_formats()
    if args.json:
        print(json.dumps({n: {
            "description": f.description, "suffixes": list(f.suffixes), "hierarchical": f.hierarchical,
            "backed": f.supports_backed, "append": f.supports_append, "package": f.package,
            "version": f.version} for n, f in formats.items()}, indent=1))
        return EXIT_OK
    print(f"{'format':<8} {'package':<16} {'version':<8} {'suffixes':<26} capabilities")
    for name, f in formats.items():
        caps = ["hierarchical" if f.hierarchical else "whole-file"]
        caps += [c for c, on in (("backed", f.supports_backed), ("append", f.supports_append)) if on]
        print(f"{name:<8} {f.package or '-':<16} {f.version or '-':<8} "
              f"{', '.join(f.suffixes) or '-':<26} {', '.join(caps)}")
    missing = [k for k in KNOWN_FORMATS if k.name not in formats]
    for k in missing:
        print(f"{k.name:<8} (not installed: pip install {k.package})")
    return EXIT_OK


# ---------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on bundled sample data: h5ad -> zarr -> h5ad, info and validate each."""
    from importlib.resources import as_file, files

    import annstore

    out = Path(args.outdir) if args.outdir else Path(tempfile.mkdtemp(prefix="annstore-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    with as_file(files("annstore") / "data" / "sample.h5ad") as sample:
        print(f"$ annstore info {sample}")
        cmd_info(argparse.Namespace(path=sample, format=None, json=False))
        zarr_path = out / "sample.zarr"
        print(f"\n$ annstore convert {sample} {zarr_path}")
        cmd_convert(argparse.Namespace(src=sample, dst=zarr_path, format=None, src_format=None,
                                       compression=None, quiet=False))
        back = out / "roundtrip.h5ad"
        print(f"\n$ annstore convert {zarr_path} {back}")
        cmd_convert(argparse.Namespace(src=zarr_path, dst=back, format=None, src_format=None,
                                       compression=None, quiet=False))
        for p in (zarr_path, back):
            rc = cmd_validate(argparse.Namespace(path=p, format=None, json=False, metadata_only=False))
            if rc:
                raise CLIError(f"demo: {p} failed validation")
        a, b = annstore.read(sample), annstore.read(back)
        from .testing import assert_adata_equal

        assert_adata_equal(a, b)
        print(f"\nround trip h5ad -> zarr -> h5ad is lossless: {b.n_obs} × {b.n_vars}\n{b}")
    return EXIT_OK


# ---------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="annstore", description="Inspect, convert, concatenate and "
                                "validate AnnData files in any installed format.")
    from importlib.metadata import version

    p.add_argument("--version", action="version", version=f"annstore {version('annstore')}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("info", help="shape and every element with encoding, dtype, shape, size")
    s.add_argument("path")
    s.add_argument("--format", help="format name (default: guessed)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("convert", help="convert between any two installed formats (atomic write)")
    s.add_argument("src")
    s.add_argument("dst")
    s.add_argument("--format", help="output format (default: from DST's suffix)")
    s.add_argument("--src-format", help="input format (default: guessed)")
    s.add_argument("--compression", choices=["gzip", "lzf"], help="h5ad compression")
    s.add_argument("-q", "--quiet", action="store_true")
    s.set_defaults(func=cmd_convert)

    s = sub.add_parser("concat", help="concatenate files on disk into OUT")
    s.add_argument("inputs", nargs="+", metavar="IN")
    s.add_argument("-o", "--output", required=True, metavar="OUT")
    s.add_argument("--axis", default="obs", choices=["obs", "var", "0", "1"])
    s.add_argument("--join", default="inner", choices=["inner", "outer"])
    s.add_argument("--merge", choices=["same", "unique", "first", "only"])
    s.add_argument("--uns-merge", choices=["same", "unique", "first", "only"])
    s.add_argument("--label")
    s.add_argument("--keys", help="comma-separated keys, one per input")
    s.add_argument("--index-unique")
    s.add_argument("--fill-value")
    s.add_argument("--pairwise", action="store_true")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_concat)

    s = sub.add_parser("validate", help="check a file against the anndata on-disk spec "
                       "(exit 0 valid, 1 invalid, 2 unreadable)")
    s.add_argument("path")
    s.add_argument("--format")
    s.add_argument("--json", action="store_true")
    s.add_argument("--metadata-only", action="store_true", help="check attributes and shapes only")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("formats", help="installed format plugins and their capabilities")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_formats)

    s = sub.add_parser("demo", help="run the main job on the bundled sample data")
    s.add_argument("--outdir", help="where to write (default: a new temporary directory)")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "axis", None) in ("0", "1"):
        args.axis = int(args.axis)
    from .errors import AnnstoreError

    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `annstore info x.h5ad | head`: the reader went away
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CLIError as e:
        print(f"annstore {args.command}: {e}", file=sys.stderr)
        return e.code
    except (AnnstoreError, OSError, ValueError, KeyError, TypeError) as e:
        notes = "".join(f"\n  {n}" for n in getattr(e, "__notes__", []))
        print(f"annstore {args.command}: error: {e}{notes}", file=sys.stderr)
        return EXIT_UNREADABLE if isinstance(e, OSError) else 1
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Readers for delimited text, Excel, Matrix Market and umi_tools count tables."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from annstore.errors import InvalidFileError
from annstore.io import BoundedReader, check_allocation, max_allocation

if TYPE_CHECKING:
    from annstore import AnnData

__all__ = [
    "read_csv_file",
    "read_excel_file",
    "read_mtx_file",
    "read_text_file",
    "read_umi_tools_file",
    "text_parts",
]


def _anndata(X: Any, obs: pd.DataFrame, var: pd.DataFrame) -> AnnData:
    from annstore import AnnData

    return AnnData(X, obs=obs, var=var)


def _display(filename: Any) -> str:
    if isinstance(filename, str | os.PathLike):
        return os.fspath(filename)
    return getattr(filename, "name", None) or f"<{type(filename).__name__}>"


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _bad(filename: Any, lineno: int | None, msg: str) -> InvalidFileError:
    """One error naming the file (and line, when known)."""
    name = _display(filename)
    where = f"{name!r}" if lineno is None else f"{name!r}, line {lineno}"
    path = None if lineno is None else f"line {lineno}"
    return InvalidFileError(f"{msg} (in {where}).", filename=name, path=path)


# ------------------------------------------------------------------- allocation budget


class _Where:
    """The file (or a line of it) named in allocation-budget errors."""

    format = "text"

    def __init__(self, filename: Any, lineno: int | None = None) -> None:
        self.filename = _display(filename)
        self.name = "/" if lineno is None else f"line {lineno}"


#: Bytes a parsed row costs beyond its values (the numpy array object and list slot).
_ROW_OVERHEAD = 128


def _open_decompressed(path: Path, opener: Any, text: bool = True) -> Any:
    """``opener(path)`` (gzip/bz2, binary) read through a :class:`BoundedReader`: a small file
    that expands past the allocation budget fails instead of exhausting memory."""
    raw = opener(path, "rb")
    bounded = io.BufferedReader(BoundedReader(raw, _Where(path), f"the compressed file {path.name!r}"))
    return io.TextIOWrapper(bounded, encoding="utf-8") if text else bounded


def check_zip_members(filename: Any) -> None:
    """Refuse a zip archive (an ``.xlsx`` workbook) whose members declare more bytes than the
    allocation budget. The declared sizes bound what :mod:`zipfile` decompresses (a member
    that expands beyond its declared size fails its CRC check)."""
    try:
        with zipfile.ZipFile(os.fspath(filename)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip archive: the reader reports it
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    if biggest is None:
        return
    check_allocation(
        biggest.file_size, _Where(filename), f"decompressing the archive member {biggest.filename!r}"
    )
    total = sum(i.file_size for i in infos)
    check_allocation(total, _Where(filename), f"decompressing the {len(infos)} archive members")


# ------------------------------------------------------------------------ delimited text


def _numbered_lines(f: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Non-empty lines without their line break, with their 1-based line number."""
    for lineno, raw in enumerate(f, start=1):
        line = raw.rstrip("\r\n")
        if line:
            yield lineno, line


def _to_row(
    cells: list[str], *, dtype: Any, filename: Any, lineno: int, offset: int
) -> np.ndarray:
    try:
        return np.array(cells, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        for i, c in enumerate(cells):
            try:
                np.array([c], dtype=dtype)
            except (ValueError, TypeError, OverflowError):
                col = i + offset + 1
                msg = f"Expected a number of dtype {np.dtype(dtype).name!r} in column {col}; got {c!r} instead"
                raise _bad(filename, lineno, msg) from None
        raise  # pragma: no cover - the whole row failed but no single cell did


def text_parts(
    f: Iterable[str],
    delimiter: str | None,
    *,
    first_column_names: bool | None,
    dtype: Any,
    filename: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse delimited text the way anndata's ``read_text`` does.

    Returns ``(data, row_names, col_names)``. Leading ``#`` lines are comments; the last
    comment names the columns when no header line does. The first column holds row names
    when it is not numeric (or when ``first_column_names``). Rows whose length differs from
    the first data row, and cells that are not numbers, raise :class:`InvalidFileError` naming
    the file and line.
    """
    comments: list[str] = []
    data: list[np.ndarray] = []
    data_lines: list[int] = []
    col_names: Any = []
    row_names: list[str] = []
    lines = _numbered_lines(f)

    used = [0]  # bytes the parsed rows (and the final matrix) will take
    limit = max_allocation()

    def row(cells: list[str], lineno: int, offset: int) -> None:
        data.append(_to_row(cells, dtype=dtype, filename=filename, lineno=lineno, offset=offset))
        data_lines.append(lineno)
        used[0] += 2 * data[-1].nbytes + _ROW_OVERHEAD
        if used[0] > limit:
            check_allocation(used[0], _Where(filename, lineno), f"the {len(data)} rows parsed up to this line")

    # header, comments and the first content line
    for lineno, line in lines:
        if line.startswith("#"):
            comment = line.lstrip("# ")
            if comment:
                comments.append(comment)
            continue
        if delimiter is not None and delimiter not in line:
            msg = f"Expected the delimiter {delimiter!r} in the first line; got {line[:80]!r} instead"
            raise _bad(filename, lineno, msg)
        cells = line.split(delimiter)
        if not _is_float(cells[-1]):
            col_names = cells
        elif not _is_float(cells[0]) or first_column_names:
            first_column_names = True
            row_names.append(cells[0])
            row(cells[1:], lineno, 1)
        else:
            row(cells, lineno, 0)
        break
    if not col_names:
        if comments:
            col_names = comments[-1].split()
        elif data:
            col_names = np.arange(len(data[0])).astype(str)
        else:
            msg = "Expected a header or data lines; found no content lines"
            raise _bad(filename, None, msg)
    col_names = np.array(col_names, dtype=str)
    if first_column_names is None:
        first_column_names = False
    # the second content line decides whether the first column holds names
    for lineno, line in lines:
        cells = line.split(delimiter)
        if first_column_names or not _is_float(cells[0]):
            first_column_names = True
            row_names.append(cells[0])
            row(cells[1:], lineno, 1)
        else:
            row(cells, lineno, 0)
        break
    # a header of integers: the first line was read as data
    if len(data) > 1 and data[0].size != data[1].size:
        first_column_names = True
        col_names = np.array(data[0]).astype(int).astype(str)
        row_names.append(str(data[1][0].astype(int)))
        data = [data[1][1:]]
        data_lines = [data_lines[1]]
    for lineno, line in lines:
        cells = line.split(delimiter)
        if first_column_names:
            row_names.append(cells[0])
            row(cells[1:], lineno, 1)
        else:
            row(cells, lineno, 0)
        if data[-1].size != data[0].size:
            msg = (
                f"Expected {data[0].size} values per row (as in line {data_lines[0]}); "
                f"got {data[-1].size} instead"
            )
            raise _bad(filename, lineno, msg)
    if not data:
        msg = f"Expected data lines after the header; found none (columns: {[str(c) for c in col_names][:5]})"
        raise _bad(filename, None, msg)
    arr = np.array(data, dtype=dtype)
    if arr.ndim != 2:  # pragma: no cover - guarded by the length check above
        msg = "Expected rows of equal length"
        raise _bad(filename, None, msg)
    if not row_names:
        rows = np.arange(len(arr)).astype(str)
    else:
        rows = np.array([r.strip('"') for r in row_names], dtype=str)
    if col_names.size > arr.shape[1]:
        col_names = col_names[1:]
    cols = np.array([c.strip('"') for c in col_names], dtype=str)
    if cols.size != arr.shape[1]:
        msg = (
            f"Expected {arr.shape[1]} column names (one per data column); got {cols.size} "
            f"instead: {[str(c) for c in cols][:10]}"
        )
        raise _bad(filename, None, msg)
    return arr, rows, cols


def _open_text(filename: Any) -> Any:
    path = Path(filename)
    if path.suffix == ".gz":
        return _open_decompressed(path, gzip.open)
    if path.suffix == ".bz2":
        return _open_decompressed(path, bz2.open)
    return path.open()


def read_text_file(
    filename: Any,
    delimiter: str | None = None,
    *,
    first_column_names: bool | None = None,
    dtype: Any = "float32",
) -> AnnData:
    """Read ``.txt``/``.tab``/``.data``/``.csv`` text (also gzip/bz2 by suffix, or a stream).

    Parameters
    ----------
    filename
        Path, or an iterator of lines (an open text file).
    delimiter
        Cell separator; ``None`` splits at any run of whitespace.
    first_column_names
        Treat the first column as row names (otherwise guessed: non-numeric means names).
    dtype
        Numpy dtype of the data matrix.
    """
    kw = {"first_column_names": first_column_names, "dtype": dtype, "filename": filename}
    if not isinstance(filename, str | bytes | os.PathLike):
        data, rows, cols = text_parts(filename, delimiter, **kw)
    else:
        if isinstance(filename, bytes):
            filename = os.fsdecode(filename)
            kw["filename"] = filename
        try:
            with _open_text(filename) as f:
                data, rows, cols = text_parts(f, delimiter, **kw)
        except (UnicodeDecodeError, gzip.BadGzipFile, OSError, EOFError) as e:
            if isinstance(e, FileNotFoundError):
                raise
            msg = f"Expected a readable text file; reading failed with {type(e).__name__}: {e}"
            raise _bad(filename, None, msg) from e
    return _anndata(data, pd.DataFrame(index=pd.Index(rows)), pd.DataFrame(index=pd.Index(cols)))


def read_csv_file(
    filename: Any,
    delimiter: str | None = ",",
    *,
    first_column_names: bool | None = None,
    dtype: Any = "float32",
) -> AnnData:
    """Read a comma-separated file; :func:`read_text_file` with ``delimiter=","``."""
    return read_text_file(filename, delimiter, first_column_names=first_column_names, dtype=dtype)


# ------------------------------------------------------------------------------ Excel


def read_excel_file(filename: Any, sheet: str | int, dtype: Any = "float32") -> AnnData:
    """Read one sheet of an ``.xlsx`` file: first column row names, first row column names.

    As in anndata, the values keep the types pandas gives them (``dtype`` is accepted for
    signature compatibility and not applied), so a sheet of integers gives an ``object`` X.
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError as e:
        msg = "Reading .xlsx files needs openpyxl: pip install 'annstore-text[excel]'"
        raise ImportError(msg) from e
    check_zip_members(filename)
    try:
        df = pd.read_excel(os.fspath(filename), sheet_name=sheet)
    except FileNotFoundError:
        raise
    except ValueError as e:  # unknown sheet, unreadable workbook
        msg = f"Could not read sheet {sheet!r}: {e}"
        raise _bad(filename, None, msg) from e
    except Exception as e:  # openpyxl raises zipfile/KeyError types for corrupt files
        msg = f"Expected an .xlsx workbook; reading failed with {type(e).__name__}: {e}"
        raise _bad(filename, None, msg) from e
    if df.shape[1] < 1:
        msg = f"Expected a first column of row names in sheet {sheet!r}; the sheet is empty"
        raise _bad(filename, None, msg)
    X = df.to_numpy()[:, 1:]
    first = df.iloc[:, 0]
    rows = pd.Index(_as_str(first), name=first.name)
    cols = pd.Index(_as_str(df.columns[1:]))
    return _anndata(X, pd.DataFrame(index=rows), pd.DataFrame(index=cols))


def _as_str(a: Any) -> Any:
    """String dtype keeping missing values missing (pandas ``str`` under pandas 3)."""
    if getattr(a.array.dtype, "name", "") == "string" or str(a.dtype) == "str":
        return a
    dtype = pd.StringDtype(na_value=a.array.dtype.na_value if hasattr(a.array.dtype, "na_value") else np.nan)
    out = a.astype(dtype)
    return out if pd.options.future.infer_string else out.astype(object)


# ---------------------------------------------------------------------------- Matrix Market


def _mtx_open(filename: Any) -> Any:
    p = Path(filename)
    if p.suffix == ".gz":
        return _open_decompressed(p, gzip.open)
    if p.suffix == ".bz2":
        return _open_decompressed(p, bz2.open)
    return p.open()


def _mtx_header(filename: Any) -> tuple[str, str, tuple[int, ...], int]:
    """Parse and check the banner and size line; returns (format, field, size, size line no)."""
    with _mtx_open(filename) as f:
        banner = f.readline()
        parts = banner.split()
        if len(parts) < 5 or parts[0].lower() != "%%matrixmarket" or parts[1].lower() != "matrix":
            msg = (
                "Expected a Matrix Market banner '%%MatrixMarket matrix <format> <field> "
                f"<symmetry>'; got {banner.strip()[:80]!r} instead"
            )
            raise _bad(filename, 1, msg)
        fmt, field = parts[2].lower(), parts[3].lower()
        if fmt not in ("coordinate", "array"):
            msg = f"Expected format 'coordinate' or 'array'; got {parts[2]!r} instead"
            raise _bad(filename, 1, msg)
        lineno = 1
        for line in f:
            lineno += 1
            s = line.strip()
            if not s or s.startswith("%"):
                continue
            try:
                size = tuple(int(x) for x in s.split())
            except ValueError:
                size = ()
            want = 3 if fmt == "coordinate" else 2
            if len(size) != want or min(size) < 0:
                msg = f"Expected {want} non-negative integers on the size line; got {s[:80]!r} instead"
                raise _bad(filename, lineno, msg)
            return fmt, field, size, lineno
    msg = "Expected a size line after the banner; the file ends there"
    raise _bad(filename, None, msg)


def _mtx_check_coordinate(filename: Any, size: tuple[int, ...], size_line: int) -> None:
    """Check the entries of a coordinate file against its size line, naming the line."""
    n_rows, n_cols, nnz = size
    count = 0
    with _mtx_open(filename) as f:
        for lineno, line in enumerate(f, start=1):
            if lineno <= size_line:
                continue
            s = line.split()
            if not s or s[0].startswith("%"):
                continue
            count += 1
            if count > nnz:
                msg = f"Expected {nnz} entries (size line {size_line}); found more, the first extra one"
                raise _bad(filename, lineno, msg)
            try:
                i, j = int(s[0]), int(s[1])
            except (ValueError, IndexError):
                msg = f"Expected '<row> <col> [value]' with integer indices; got {line.strip()[:80]!r} instead"
                raise _bad(filename, lineno, msg) from None
            if not (1 <= i <= n_rows and 1 <= j <= n_cols):
                msg = (
                    f"Expected 1-based indices within the declared size {n_rows} x {n_cols}; "
                    f"got ({i}, {j}) instead"
                )
                raise _bad(filename, lineno, msg)
    if count != nnz:
        msg = f"Expected {nnz} entries as the size line (line {size_line}) declares; found {count}"
        raise _bad(filename, None, msg)


def read_mtx_file(filename: Any, dtype: Any = "float32") -> AnnData:
    """Read a Matrix Market file (``.mtx``, also ``.mtx.gz``) into a csr X.

    The banner and the size line are checked against the entries before parsing, so a file
    whose header lies about its size raises :class:`InvalidFileError` naming the line.
    """
    from scipy import sparse
    from scipy.io import mmread

    fmt, _field, size, size_line = _mtx_header(filename)
    if fmt == "coordinate":
        # scipy holds (row, col, value) triplets, then the csr copy: ~3 x 8 bytes per entry twice
        check_allocation(size[2] * 48, _Where(filename, size_line), f"reading the {size[2]} declared entries")
        _mtx_check_coordinate(filename, size, size_line)
    else:
        check_allocation(
            size[0] * size[1] * 16, _Where(filename, size_line),
            f"reading the dense {size[0]} x {size[1]} matrix declared",
        )
    try:
        m = mmread(os.fspath(filename), **_mmread_options(mmread))
    except (ValueError, OSError, IndexError, TypeError) as e:
        msg = f"Expected a valid Matrix Market file; scipy.io.mmread failed: {e}"
        raise _bad(filename, None, msg) from e
    if tuple(m.shape) != tuple(size[:2]):
        msg = f"Expected a {size[0]} x {size[1]} matrix as declared; read {m.shape} instead"
        raise _bad(filename, size_line, msg)
    X = sparse.csr_matrix(m.astype(dtype))
    n_obs, n_vars = X.shape
    obs = pd.DataFrame(index=pd.Index(np.arange(n_obs).astype(str)))
    var = pd.DataFrame(index=pd.Index(np.arange(n_vars).astype(str)))
    return _anndata(X, obs, var)


def _mmread_options(mmread: Any) -> dict[str, Any]:
    """scipy >= 1.18 warns unless asked for ``spmatrix`` explicitly (its default changes in 1.20)."""
    import inspect

    try:
        return {"spmatrix": True} if "spmatrix" in inspect.signature(mmread).parameters else {}
    except (TypeError, ValueError):
        return {}


# ------------------------------------------------------------------------------ umi_tools


def read_umi_tools_file(filename: Any, dtype: Any = None) -> AnnData:
    """Read a umi_tools ``count --per-cell`` table (columns ``gene``, ``cell``, ``count``)."""
    from scipy import sparse

    try:
        table = pd.read_table(filename, dtype={"gene": "category", "cell": "category"})
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as e:
        msg = f"Expected a tab-separated umi_tools table; reading failed: {e}"
        raise _bad(filename, None, msg) from e
    missing = [c for c in ("gene", "cell", "count") if c not in table.columns]
    if missing:
        msg = (
            f"Expected columns 'gene', 'cell' and 'count'; got {list(table.columns)} instead "
            f"(missing: {missing})"
        )
        raise _bad(filename, 1, msg)
    counts = table["count"]
    if not pd.api.types.is_numeric_dtype(counts):
        bad = next(
            (i for i, v in enumerate(counts) if not _is_float(str(v))), 0
        )
        msg = f"Expected numeric counts; got {counts.iloc[bad]!r} in column 'count'"
        raise _bad(filename, bad + 2, msg)
    X = sparse.csr_matrix(
        (counts.to_numpy(), (table["cell"].cat.codes.to_numpy(), table["gene"].cat.codes.to_numpy())),
        shape=(len(table["cell"].cat.categories), len(table["gene"].cat.categories)),
        dtype=dtype,
    )
    obs = pd.DataFrame(index=pd.Index(table["cell"].cat.categories, name="cell"))
    var = pd.DataFrame(index=pd.Index(table["gene"].cat.categories, name="gene"))
    return _anndata(X, obs, var)

"""Tests of the text plugin: every reader, every option, every error path, and write_csvs."""

from __future__ import annotations

import bz2
import gzip
import io
import warnings
from pathlib import Path

import annstore
import annstore.io as aio
import numpy as np
import pandas as pd
import pytest
from annstore.errors import CapabilityError, InvalidFileError, WriteWarning
from annstore_text import text_parts
from annstore_text._plugin import annstore_guess_format, kind_from_suffix
from scipy import sparse


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(p, "wt") as f:
            f.write(text)
    elif name.endswith(".bz2"):
        with bz2.open(p, "wt") as f:
            f.write(text)
    else:
        p.write_text(text)
    return p


# --------------------------------------------------------------------------- read_csv / read_text


def test_csv_header_and_row_names(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.csv", ",c1,c2\nr1,1.0,0.0\nr2,3.0,0.0\nr3,5.0,6.0\n")
    a = aio.read_csv(p)
    assert a.shape == (3, 2)
    assert list(a.obs_names) == ["r1", "r2", "r3"]
    assert list(a.var_names) == ["c1", "c2"]
    assert a.X.dtype == np.float32
    np.testing.assert_array_equal(a.X, [[1, 0], [3, 0], [5, 6]])


def test_text_whitespace_delimiter_and_comment_header(tmp_path: Path) -> None:
    text = "# A comment\n#   c1 c2\n\nr1   1.0\t0.0\nr2 3.0 0.0\n"
    a = aio.read_text(_write(tmp_path, "a.txt", text))
    assert list(a.var_names) == ["c1", "c2"]
    assert list(a.obs_names) == ["r1", "r2"]
    np.testing.assert_array_equal(a.X, [[1, 0], [3, 0]])


def test_no_names_at_all(tmp_path: Path) -> None:
    a = aio.read_text(_write(tmp_path, "a.data", "1 2 3\n4 5 6\n"))
    assert list(a.obs_names) == ["0", "1"]
    assert list(a.var_names) == ["0", "1", "2"]
    np.testing.assert_array_equal(a.X, [[1, 2, 3], [4, 5, 6]])


def test_integer_header_row_and_integer_row_names(tmp_path: Path) -> None:
    # anndata reads a header of integers as data first, then notices the length mismatch
    a = aio.read_text(_write(tmp_path, "a.tab", "10 20\n1 5 6\n2 7 8\n"))
    assert list(a.var_names) == ["10", "20"]
    assert list(a.obs_names) == ["1", "2"]
    np.testing.assert_array_equal(a.X, [[5, 6], [7, 8]])


def test_first_column_names_forces_numeric_names(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.csv", "a,b\n1,2,3\n4,5,6\n")
    a = aio.read_csv(p, first_column_names=True)
    assert list(a.obs_names) == ["1", "4"]
    assert list(a.var_names) == ["a", "b"]
    np.testing.assert_array_equal(a.X, [[2, 3], [5, 6]])


def test_header_with_corner_name_is_trimmed_and_quotes_stripped(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.csv", '"gene","x","y"\n"g1",1,2\n"g2",3,4\n')
    a = aio.read_csv(p)
    assert list(a.var_names) == ["x", "y"]
    assert list(a.obs_names) == ["g1", "g2"]


@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_dtype_option(tmp_path: Path, dtype: str) -> None:
    a = aio.read_csv(_write(tmp_path, "a.csv", ",x\nr,3\n"), dtype=dtype)
    assert a.X.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["a.csv.gz", "a.csv.bz2"])
def test_compressed_input(tmp_path: Path, name: str) -> None:
    a = aio.read_csv(_write(tmp_path, name, ",x,y\nr1,1,2\n"))
    np.testing.assert_array_equal(a.X, [[1, 2]])


def test_stream_input() -> None:
    a = aio.read_text(io.StringIO("x y\nr1 1 2\nr2 3 4\n"))
    assert list(a.var_names) == ["x", "y"]
    np.testing.assert_array_equal(a.X, [[1, 2], [3, 4]])


def test_crlf_lines(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(b",x\r\nr1,1\r\nr2,2\r\n")
    a = aio.read_csv(p)
    assert list(a.obs_names) == ["r1", "r2"]


def test_text_parts_directly() -> None:
    data, rows, cols = text_parts(["a\tb", "r\t1\t2"], "\t", first_column_names=None, dtype="float64")
    assert data.tolist() == [[1.0, 2.0]] and rows.tolist() == ["r"] and cols.tolist() == ["a", "b"]


def test_read_by_suffix_through_annstore_read(tmp_path: Path) -> None:
    a = annstore.read(_write(tmp_path, "a.tsv", "x\ty\nr\t1\t2\n"))
    assert list(a.var_names) == ["x", "y"]
    b = annstore.read(_write(tmp_path, "b.csv", ",x\nr,1\n"))
    assert list(b.var_names) == ["x"]


# ------------------------------------------------------------------------------ text errors


def test_ragged_rows_name_the_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.csv", ",x,y\nr1,1,2\nr2,3,4\n\nr3,5\n")
    with pytest.raises(InvalidFileError, match=r"line 5") as e:
        aio.read_csv(p)
    assert "Expected 2 values per row" in str(e.value)
    assert e.value.filename == str(p) and e.value.path == "line 5"
    assert isinstance(e.value, ValueError)


def test_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.csv", ",x,y\nr1,1,2\nr2,3,oops\n")
    with pytest.raises(InvalidFileError, match=r"column 3.*'oops'.*line 3"):
        aio.read_csv(p)


def test_missing_delimiter(tmp_path: Path) -> None:
    with pytest.raises(InvalidFileError, match=r"delimiter ','.*line 1"):
        aio.read_csv(_write(tmp_path, "a.csv", "x y\n1 2\n"))


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidFileError, match="no content lines"):
        aio.read_text(_write(tmp_path, "e.txt", "\n\n"))
    with pytest.raises(InvalidFileError, match=r"found none \(columns: \['only', 'a', 'comment'\]\)"):
        aio.read_text(_write(tmp_path, "c.txt", "# only a comment\n\n"))
    with pytest.raises(InvalidFileError, match="found none"):
        aio.read_csv(_write(tmp_path, "h.csv", "a,b\n"))


def test_header_length_mismatch(tmp_path: Path) -> None:
    with pytest.raises(InvalidFileError, match="Expected 2 column names"):
        aio.read_text(_write(tmp_path, "a.txt", "# a\nr1 1 2\nr2 3 4\n"))


def test_broken_gzip(tmp_path: Path) -> None:
    p = tmp_path / "a.csv.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(InvalidFileError, match="BadGzipFile"):
        aio.read_csv(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        aio.read_csv(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------ mtx


MTX = "%%MatrixMarket matrix coordinate real general\n% comment\n3 4 3\n1 1 1.5\n2 3 2\n3 4 -1\n"


@pytest.mark.parametrize("name", ["m.mtx", "m.mtx.gz"])
def test_mtx(tmp_path: Path, name: str) -> None:
    a = aio.read_mtx(_write(tmp_path, name, MTX))
    assert sparse.issparse(a.X) and a.X.format == "csr" and a.X.dtype == np.float32
    np.testing.assert_array_equal(a.X.toarray(), [[1.5, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, -1]])
    assert list(a.obs_names) == ["0", "1", "2"] and list(a.var_names) == ["0", "1", "2", "3"]


def test_mtx_reads_without_warnings(tmp_path: Path) -> None:
    # scipy >= 1.18 warns when mmread is not told spmatrix=...; anndata asks, so scanpy's
    # read_10x_mtx (warnings as errors) passes on anndata: it must on annstore too.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = aio.read_mtx(_write(tmp_path, "m.mtx", MTX))
    assert a.X.format == "csr"


def test_mtx_dtype_and_array_format(tmp_path: Path) -> None:
    p = _write(tmp_path, "d.mtx", "%%MatrixMarket matrix array integer general\n2 2\n1\n2\n3\n4\n")
    a = aio.read_mtx(p, dtype="int64")
    assert a.X.dtype == np.int64
    np.testing.assert_array_equal(a.X.toarray(), [[1, 3], [2, 4]])


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (MTX.replace("3 4 3", "3 4 5"), r"Expected 5 entries"),
        (MTX.replace("3 4 3", "3 4 2"), r"Expected 2 entries.*line 6"),
        (MTX.replace("3 4 3", "2 4 3"), r"within the declared size 2 x 4; got \(3, 4\).*line 6"),
        (MTX.replace("3 4 3", "3 x 3"), r"size line.*line 3"),
        (MTX.replace("%%MatrixMarket", "%%MatrixMurket"), r"banner.*line 1"),
        (MTX.replace("2 3 2", "2 b 2"), r"integer indices.*line 5"),
        ("%%MatrixMarket matrix coordinate real general\n", "size line after the banner"),
    ],
    ids=["too-few-entries", "too-many-entries", "index-out-of-size", "bad-size-line",
         "bad-banner", "bad-index", "no-size-line"],
)
def test_mtx_lying_or_broken_header(tmp_path: Path, text: str, pattern: str) -> None:
    p = _write(tmp_path, "bad.mtx", text)
    with pytest.raises(InvalidFileError, match=pattern) as e:
        aio.read_mtx(p)
    assert str(p) in str(e.value)


# -------------------------------------------------------------------------------- excel


def test_excel(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    p = tmp_path / "x.xlsx"
    pd.DataFrame({"Cell": ["c1", "c2"], "g1": [1, 2], "g2": [3, 4]}).to_excel(p, sheet_name="S", index=False)
    a = aio.read_excel(p, "S")
    assert list(a.obs_names) == ["c1", "c2"] and a.obs_names.name == "Cell"
    assert list(a.var_names) == ["g1", "g2"]
    np.testing.assert_array_equal(np.asarray(a.X, dtype=float), [[1, 3], [2, 4]])
    b = aio.read_excel(p, 0)
    assert list(b.obs_names) == ["c1", "c2"]
    with pytest.raises(InvalidFileError, match="sheet 'nope'"):
        aio.read_excel(p, "nope")


def test_excel_corrupt(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    p = tmp_path / "bad.xlsx"
    p.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InvalidFileError, match="xlsx"):
        aio.read_excel(p, 0)


# ----------------------------------------------------------------------------- umi_tools


def test_umi_tools(tmp_path: Path) -> None:
    p = _write(tmp_path, "u.tsv.gz", "gene\tcell\tcount\nG2\tAAA\t3\nG1\tAAA\t1\nG1\tCCC\t5\n")
    a = aio.read_umi_tools(p)
    assert list(a.obs_names) == ["AAA", "CCC"] and a.obs_names.name == "cell"
    assert list(a.var_names) == ["G1", "G2"] and a.var_names.name == "gene"
    assert a.X.format == "csr" and a.X.dtype == np.int64
    np.testing.assert_array_equal(a.X.toarray(), [[1, 3], [5, 0]])
    assert aio.read_umi_tools(p, dtype="float32").X.dtype == np.float32


def test_umi_tools_errors(tmp_path: Path) -> None:
    p = _write(tmp_path, "u.tsv", "gene\tcell\tn\nG\tA\t1\n")
    with pytest.raises(InvalidFileError, match=r"missing: \['count'\]"):
        aio.read_umi_tools(p)
    q = _write(tmp_path, "v.tsv", "gene\tcell\tcount\nG\tA\t1\nG\tB\tx\n")
    with pytest.raises(InvalidFileError, match=r"'x'.*line 3"):
        aio.read_umi_tools(q)


# ------------------------------------------------------------------------------ guessing


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "csv"), ("a.CSV.gz", "csv"), ("a.tsv", "text"), ("a.tab.bz2", "text"),
     ("a.txt", "text"), ("a.data", "text"), ("a.mtx.gz", "mtx"), ("a.xlsx", "excel"),
     ("a.h5ad", None), ("a.gz", None), ("a.xlsx.gz", None)],
)
def test_kind_from_suffix(name: str, kind: str | None) -> None:
    assert kind_from_suffix(name) == kind
    assert annstore_guess_format(path=name, is_dir=False) == ("text" if kind else None)


def test_guess_ignores_directories() -> None:
    assert annstore_guess_format(path="x.csv", is_dir=True) is None


def test_read_mtx_by_suffix(tmp_path: Path) -> None:
    a = annstore.read(_write(tmp_path, "m.mtx", MTX))
    assert a.shape == (3, 4)


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind one of"):
        annstore.read(_write(tmp_path, "a.csv", ",x\nr,1\n"), "text", kind="parquet")


# ------------------------------------------------------------------------------ write_csvs


def _small() -> annstore.AnnData:
    X = np.array([[1.0, 0.5], [0.0, 2.0], [3.0, 0.25]], dtype=np.float32)
    obs = pd.DataFrame(
        {"ct": pd.Categorical(["a", "b", "a"]), "n": [1, 2, 3]}, index=["c1", "c2", "c3"]
    )
    var = pd.DataFrame({"sym": ["S1", "S2"]}, index=["g1", "g2"])
    return annstore.AnnData(
        X, obs=obs, var=var, obsm={"X_pca": np.array([[1.5, 2], [3, 4], [5, 6]])},
        uns={"colors": ["red", "blue"], "k": 3, "sp": sparse.csr_matrix(np.eye(2))},
    )


def test_write_csvs_files_and_bytes(tmp_path: Path) -> None:
    a = _small()
    with pytest.warns(WriteWarning, match="sparse"):
        a.write_csvs(tmp_path / "out", skip_data=False)
    d = tmp_path / "out"
    assert sorted(p.relative_to(d).as_posix() for p in d.rglob("*.csv")) == [
        "X.csv", "obs.csv", "obsm.csv", "uns/colors.csv", "uns/k.csv", "var.csv", "varm.csv"
    ]
    assert (d / "obs.csv").read_text() == ",ct,n\nc1,a,1\nc2,b,2\nc3,a,3\n"
    assert (d / "var.csv").read_text() == ",sym\ng1,S1\ng2,S2\n"
    assert (d / "obsm.csv").read_text() == "X_pca1,X_pca2\n1.5,2.0\n3.0,4.0\n5.0,6.0\n"
    assert (d / "varm.csv").read_text() == "\n\n\n"  # pandas' output for a table without columns
    assert (d / "X.csv").read_text() == "1.0,0.5\n0.0,2.0\n3.0,0.25\n"
    assert (d / "uns" / "colors.csv").read_text() == "red\nblue\n"
    assert (d / "uns" / "k.csv").read_text() == "3\n"


def test_write_csvs_skip_data_and_sep(tmp_path: Path) -> None:
    a = _small()
    del a.uns["sp"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.write_csvs(tmp_path / "o2", sep="\t")
    d = tmp_path / "o2"
    assert not (d / "X.csv").exists()
    assert (d / "obs.csv").read_text() == "\tct\tn\nc1\ta\t1\nc2\tb\t2\nc3\ta\t3\n"


def test_write_csvs_keeps_other_files_in_directory(tmp_path: Path) -> None:
    d = tmp_path / "res"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    aio.write_csvs(d, _small())
    assert (d / "obs.csv").exists()
    assert (d / "notes.txt").read_text() == "mine"


def test_write_other_kind_refused(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError, match="csvs"):
        annstore.write(_small(), tmp_path / "x.csv", "text", kind="csv")

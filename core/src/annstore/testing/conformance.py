"""``FormatTests``: the conformance suite every storage plugin subclasses.

A plugin's test module is a few lines::

    from annstore.testing import FormatTests

    class TestH5adFormat(FormatTests):
        format_name = "h5ad"

The suite checks, for a hierarchical format:

* the store protocol itself, in the manner of zarr's ``StoreTests`` (``test_store_*``): nodes
  marked ``_annstore_node`` and reporting the format; exact dtypes reported and returned;
  strings as ``object`` arrays of ``str``; attribute value types (lists stay lists); array
  ``__setitem__`` and ``read_into``; close and reopen in every mode; ``KeyError`` for missing
  keys; nested keys;
* every element encoding of the anndata on-disk spec through ``annstore.io.write_elem``/
  ``read_elem`` on a store opened with ``annstore.io.open_store`` (closing and reopening it
  in between), whole AnnData objects through ``annstore.io.write``/``read``, the
  ``read_dispatched``/``write_dispatched`` callbacks, and the error paths;
* backed mode (``test_backed_*``) when the format's ``FormatInfo`` declares
  ``supports_backed``, and appending (``test_append_*``: ``resize``, ``CSRDataset.append``,
  ``concat_on_disk``) when it declares ``supports_append``; they are skipped otherwise.

Whole-file formats (``hierarchical = False``) run only the AnnData round-trips.
Override :meth:`store_path` or :meth:`open_root` when a format needs special paths or options.
``core/tests/test_format_tests_contract.py`` proves the suite fails on deliberately broken
adapters.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from ._assert import assert_adata_equal, assert_equal
from ._gen import gen_adata
from ._values import ELEMENT_CASES, ElementCase

__all__ = ["FormatTests"]


def _spec(node: Any) -> tuple[str, str]:
    from ..io import IOSpec

    s = IOSpec.from_attrs(node.attrs)
    return s.encoding_type, s.encoding_version


_ADATA_CASES = {
    "dense_X": {"X_type": "dense"},
    "csr_X": {"X_type": "csr"},
    "csc_X": {"X_type": "csc", "X_dtype": np.float64},
    "csr_array_X": {"X_type": "csr_array"},
    "int_X": {"X_type": "dense", "X_dtype": np.int64},
    "no_X": {"X_type": None},
    "with_raw": {"X_type": "csr", "raw": True},
    "empty_obs": {"shape": (0, 6)},
    "empty_vars": {"shape": (7, 0), "X_type": "csr"},
    "empty_both": {"shape": (0, 0), "obsm_types": ()},
    "minimal": {"shape": (3, 2), "obsm_types": (), "layers": False, "uns": False,
                "nullable": False},
}


class FormatTests:
    """Conformance tests for a storage format plugin; subclass and set :attr:`format_name`."""

    #: Name of the format under test (as in ``annstore.list_formats()``).
    format_name: ClassVar[str] = ""
    #: Whether the format has a store of elements (element cases run only then).
    hierarchical: ClassVar[bool] = True

    # ------------------------------------------------------------------ helpers to override

    def store_path(self, tmp_path: Path, name: str = "store") -> Any:
        """Path (or URL) of a fresh store named ``name`` below ``tmp_path``.

        Parameters
        ----------
        tmp_path
            The test's temporary directory.
        name
            The store's name (a suffix of the format is appended).
        """
        if self.format_name == "memory":
            return f"memory://{tmp_path.as_posix()}/{name}"
        from ..io._guess import require_format

        info = require_format(self.format_name)
        suffix = info.suffixes[0] if info.suffixes else ""
        return tmp_path / f"{name}{suffix}"

    @contextmanager
    def open_root(self, tmp_path: Path, mode: str = "w", name: str = "store") -> Iterator[Any]:
        """Open the store ``name`` below ``tmp_path`` and yield its root group.

        Parameters
        ----------
        tmp_path
            The test's temporary directory.
        mode
            ``"r"``, ``"r+"``, ``"w"`` or ``"a"``.
        name
            The store's name (see :meth:`store_path`).
        """
        from ..io import open_store

        with open_store(self.store_path(tmp_path, name), format=self.format_name, mode=mode) as g:
            yield g

    def roundtrip_elem(self, tmp_path: Path, value: Any, key: str = "elem") -> tuple[Any, tuple[str, str]]:
        """Write ``value`` under ``key``, close, reopen read-only; return (read value, spec).

        Parameters
        ----------
        tmp_path
            The test's temporary directory.
        value
            The element to write.
        key
            Its key below the root group.
        """
        from ..io import read_elem, write_elem

        with self.open_root(tmp_path, "w") as root:
            write_elem(root, key, value)
        with self.open_root(tmp_path, "r") as root:
            node = root[key]
            return read_elem(node), _spec(node)

    def roundtrip_adata(self, tmp_path: Path, adata: Any, **options: Any) -> Any:
        """Write ``adata`` with ``annstore.io.write`` and read it back with ``annstore.io.read``.

        Parameters
        ----------
        tmp_path
            The test's temporary directory.
        adata
            The AnnData to write.
        **options
            Passed to ``read``; ``write_options`` (a dict) is passed to ``write``.
        """
        from ..io import read, write

        path = self.store_path(tmp_path, "adata")
        write(adata, path, format=self.format_name, **options.pop("write_options", {}))
        return read(path, format=self.format_name, **options)

    def _require_hierarchical(self) -> None:
        if not self.hierarchical:
            pytest.skip(f"format {self.format_name!r} is whole-file: no element store")

    @pytest.fixture
    def root(self, tmp_path: Path) -> Iterator[Any]:
        """A freshly created, writable root group.

        Parameters
        ----------
        tmp_path
            The test's temporary directory (pytest's fixture).
        """
        self._require_hierarchical()
        with self.open_root(tmp_path, "w") as g:
            yield g

    # ------------------------------------------------------------------ element round-trips

    @pytest.mark.parametrize("case", ELEMENT_CASES, ids=[c.id for c in ELEMENT_CASES])
    def test_element_roundtrip(self, case: ElementCase, tmp_path: Path) -> None:
        from .._settings import settings

        self._require_hierarchical()
        with settings.override(**case.settings):
            got, spec = self.roundtrip_elem(tmp_path, case.make())
        assert spec[0] == case.encoding, f"stored as {spec}, expected {case.encoding!r}"
        assert spec[1], "encoding-version attribute missing"
        assert_equal(got, case.expect(), path=case.id, exact=True)

    @pytest.mark.parametrize("case", ELEMENT_CASES, ids=[c.id for c in ELEMENT_CASES])
    def test_element_nested_in_dict(self, case: ElementCase, tmp_path: Path) -> None:
        from .._settings import settings

        self._require_hierarchical()
        with settings.override(**case.settings):
            got, spec = self.roundtrip_elem(tmp_path, {"level1": {case.id: case.make()}})
        assert spec[0] == "dict"
        assert_equal(got, {"level1": {case.id: case.expect()}}, exact=True)

    def test_dict_keys_and_types_preserved(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        value = {"a": 1, "b": "two", "c": [1.0, 2.0], "d": {"e": None}, "f": {}}
        got, _ = self.roundtrip_elem(tmp_path, value)
        assert set(got) == set(value)
        assert isinstance(got["a"], int) and not isinstance(got["a"], bool)
        assert got["d"] == {"e": None}
        assert got["f"] == {}

    def test_string_array_reads_as_object_str(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        got, _ = self.roundtrip_elem(tmp_path, np.array(["a", "bc"]))
        assert got.dtype == object
        assert all(type(x) is str for x in got)

    def test_categorical_codes_dtype_and_layout(self, root: Any) -> None:
        from ..io import write_elem

        write_elem(root, "cat", pd.Categorical(["a", "b", None]))
        g = root["cat"]
        assert set(g.keys()) == {"codes", "categories"}
        assert _spec(g["codes"]) == ("array", "0.2.0")
        assert _spec(g["categories"]) == ("string-array", "0.2.0")
        assert np.dtype(g["codes"].dtype) == np.int8
        assert list(np.asarray(g["codes"][...])) == [0, 1, -1]
        assert bool(g.attrs["ordered"]) is False

    def test_nullable_layout(self, root: Any) -> None:
        from ..io import write_elem

        write_elem(root, "s", pd.array(["a", None], dtype="string"))
        write_elem(root, "t", pd.array(["a", None], dtype="str"))
        write_elem(root, "i", pd.array([5, None], dtype="Int16"))
        assert str(root["s"].attrs["na-value"]) == "NA"
        assert str(root["t"].attrs["na-value"]) == "NaN"
        assert "na-value" not in root["i"].attrs
        for k in ("s", "t", "i"):
            assert set(root[k].keys()) == {"values", "mask"}
            assert list(np.asarray(root[k]["mask"][...])) == [False, True]
        assert np.dtype(root["i"]["values"].dtype) == np.int16
        assert list(np.asarray(root["i"]["values"][...])) == [5, 0]

    def test_sparse_layout(self, root: Any) -> None:
        from ..io import write_elem

        m = sparse.random(7, 4, density=0.5, format="csc", random_state=0, dtype=np.float32)
        write_elem(root, "m", m)
        g = root["m"]
        assert _spec(g) == ("csc_matrix", "0.1.0")
        assert [int(s) for s in np.asarray(g.attrs["shape"]).tolist()] == [7, 4]
        assert set(g.keys()) == {"data", "indices", "indptr"}
        assert tuple(g["indptr"].shape) == (5,)
        assert tuple(g["data"].shape) == (m.nnz,)
        assert "encoding-type" not in g["data"].attrs

    def test_sparse_min_index_dtype_setting(self, root: Any) -> None:
        from .._settings import settings
        from ..io import read_elem, write_elem

        m = sparse.random(5, 300, density=0.1, format="csr", random_state=0)
        with settings.override(write_csr_csc_indices_with_min_possible_dtype=True):
            write_elem(root, "m", m)
        assert np.dtype(root["m"]["indices"].dtype) == np.uint16
        assert_equal(read_elem(root["m"]), m)

    def test_sparse_indptr_dtype_kwarg(self, root: Any) -> None:
        from ..io import read_elem, write_elem

        m = sparse.csr_matrix(np.eye(4))
        write_elem(root, "m", m, dataset_kwargs={"indptr_dtype": "int64"})
        assert np.dtype(root["m"]["indptr"].dtype) == np.int64
        assert_equal(read_elem(root["m"]), m)

    def test_dataframe_layout(self, root: Any) -> None:
        from ..io import write_elem

        df = pd.DataFrame({"b": [1, 2], "a": ["x", "y"]},
                          index=pd.Index(["r0", "r1"], name="cell", dtype="str"))
        write_elem(root, "df", df)
        g = root["df"]
        assert _spec(g) == ("dataframe", "0.2.0")
        assert str(g.attrs["_index"]) == "cell"
        assert [str(c) for c in list(g.attrs["column-order"])] == ["b", "a"]
        assert set(g.keys()) == {"cell", "a", "b"}
        assert _spec(g["cell"]) == ("nullable-string-array", "0.1.0")

    def test_dataframe_empty_column_order(self, root: Any) -> None:
        from ..io import read_elem, write_elem

        write_elem(root, "df", pd.DataFrame(index=pd.Index(["a"], dtype="str")))
        assert len(list(root["df"].attrs["column-order"])) == 0
        assert read_elem(root["df"]).shape == (1, 0)

    def test_write_elem_overwrites(self, root: Any) -> None:
        from ..io import read_elem, write_elem

        write_elem(root, "x", {"a": 1})
        write_elem(root, "x", np.arange(3))
        assert_equal(read_elem(root["x"]), np.arange(3))

    def test_storage_options_accepted(self, root: Any) -> None:
        from ..io import read_elem, write_elem

        kw = {"compression": "gzip", "compression_opts": 4}
        value = {"a": np.arange(100.0).reshape(10, 10), "s": "scalar", "n": 3,
                 "sp": sparse.csr_matrix(np.eye(5)), "c": pd.Categorical(["a", "b"])}
        write_elem(root, "x", value, dataset_kwargs=kw)
        assert_equal(read_elem(root["x"]), value)

    # ------------------------------------------------------------------ AnnData
    @pytest.mark.parametrize("kwargs", list(_ADATA_CASES.values()), ids=list(_ADATA_CASES))
    def test_adata_roundtrip(self, kwargs: dict[str, Any], tmp_path: Path) -> None:
        adata = gen_adata(**kwargs)
        got = self.roundtrip_adata(tmp_path, adata)
        assert_adata_equal(got, adata)

    def test_adata_view_roundtrip(self, tmp_path: Path) -> None:
        adata = gen_adata((20, 10), X_type="csr", raw=True)
        view = adata[adata.obs["bool"].to_numpy(), [7, 2, 5]]
        got = self.roundtrip_adata(tmp_path, view)
        assert_adata_equal(got, view.copy())

    def test_adata_elem_roundtrip(self, root: Any) -> None:
        from ..io import read_elem, write_elem

        adata = gen_adata((5, 4), X_type="csc", raw=True)
        write_elem(root, "nested", {"ad": adata})
        assert _spec(root["nested/ad"]) == ("anndata", "0.1.0")
        assert _spec(root["nested/ad/raw"]) == ("raw", "0.1.0")
        assert_adata_equal(read_elem(root["nested"])["ad"], adata)

    def test_adata_root_layout(self, root: Any) -> None:
        from ..io import write_elem

        adata = gen_adata((4, 3), X_type=None, obsm_types=(), layers=False, uns=False)
        write_elem(root, "/", adata)
        assert _spec(root) == ("anndata", "0.1.0")
        assert "X" not in root
        for k in ("obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns"):
            assert k in root, k
        assert "raw" not in root
        assert _spec(root["obsm"]) == ("dict", "0.1.0")

    def test_adata_as_dense_and_as_sparse(self, tmp_path: Path) -> None:
        from ..io import open_store

        adata = gen_adata((9, 5), X_type="csr", raw=True)
        path = self.store_path(tmp_path, "adata")
        got = self.roundtrip_adata(
            tmp_path, adata, write_options={"as_dense": ("X", "raw/X")},
            as_sparse=("X", "raw/X"), as_sparse_fmt=sparse.csr_matrix, chunk_size=2,
        )
        with open_store(path, format=self.format_name, mode="r") as root:
            if self.hierarchical:
                assert _spec(root["X"]) == ("array", "0.2.0")
                assert _spec(root["raw/X"]) == ("array", "0.2.0")
        assert_adata_equal(got, adata)

    def test_adata_uns_types(self, tmp_path: Path) -> None:
        adata = gen_adata((3, 2))
        got = self.roundtrip_adata(tmp_path, adata)
        assert got.uns["none"] is None
        assert type(got.uns["int"]) is int
        assert type(got.uns["bool"]) is bool
        assert got.uns["np_uint64"] == 2**63 + 7
        assert isinstance(got.uns["list_str"], np.ndarray)

    # ------------------------------------------------------------------ dispatch callbacks

    def test_read_dispatched_sees_every_element(self, root: Any) -> None:
        from ..io import read_dispatched, write_elem

        adata = gen_adata((4, 3), X_type="csr")
        write_elem(root, "/", adata)
        seen: list[tuple[str, str]] = []

        def cb(func: Any, elem_name: str, elem: Any, *, iospec: Any) -> Any:
            seen.append((elem_name, iospec.encoding_type))
            if elem_name == "/uns":
                return {"replaced": True}
            return func(elem)

        got = read_dispatched(root, cb)
        names = dict(seen)
        assert names["/"] == "anndata"
        assert names["/X"] == "csr_matrix"
        assert names["/obs"] == "dataframe"
        assert names["/obs/cat"] == "categorical"
        assert "/obs/cat/codes" in names
        assert "/uns/nested" not in names  # replaced before recursing
        assert got.uns == {"replaced": True}
        assert_equal(got.X, adata.X)

    def test_write_dispatched_can_skip_and_rewrite(self, root: Any) -> None:
        from ..io import read_elem, write_dispatched

        value = {"keep": np.arange(3), "skip": "x", "double": np.ones(2), "sub": {"a": 1}}
        seen: list[tuple[str, str]] = []

        def cb(func: Any, store: Any, elem_name: str, elem: Any, *, iospec: Any,
               dataset_kwargs: Any) -> None:
            seen.append((elem_name, iospec.encoding_type))
            if elem_name.endswith("skip"):
                return
            if elem_name.endswith("double"):
                elem = elem * 2
            func(store, elem_name, elem, dataset_kwargs=dataset_kwargs)

        write_dispatched(root, "d", value, cb)
        got = read_elem(root["d"])
        assert set(got) == {"keep", "double", "sub"}
        assert_equal(got["double"], np.full(2, 2.0))
        kinds = dict((n.rsplit("/", 1)[-1], t) for n, t in seen)
        assert kinds["d"] == "dict"
        assert kinds["keep"] == "array"
        assert kinds["a"] == "numeric-scalar"

    # ------------------------------------------------------------------ error paths

    def test_unknown_version_names_known_versions(self, root: Any) -> None:
        from ..errors import EncodingNotFoundError
        from ..io import read_elem, write_elem

        write_elem(root, "m", sparse.csr_matrix(np.eye(2)))
        root["m"].attrs["encoding-version"] = "0.9.0"
        with pytest.raises(EncodingNotFoundError, match=r"0\.1\.0") as ei:
            read_elem(root["m"])
        assert "0.9.0" in str(ei.value)

    def test_unknown_encoding_type(self, root: Any) -> None:
        from ..errors import EncodingNotFoundError
        from ..io import read_elem, write_elem

        write_elem(root, "a", np.arange(2))
        root["a"].attrs["encoding-type"] = "no-such-encoding"
        with pytest.raises(EncodingNotFoundError, match="no-such-encoding"):
            read_elem(root["a"])

    def test_missing_encoding_attrs_read_as_legacy(self, root: Any) -> None:
        from ..errors import OldFormatWarning
        from ..io import read_elem

        g = root.create_group("old")
        g.create_array("a", data=np.arange(3))
        g.create_array("s", data=np.array(["x", "y"], dtype=object))
        with pytest.warns(OldFormatWarning):
            got = read_elem(g)
        assert_equal(got, {"a": np.arange(3), "s": np.array(["x", "y"], dtype=object)})

    def test_legacy_h5sparse_group(self, root: Any) -> None:
        from ..errors import OldFormatWarning
        from ..io import read_elem

        m = sparse.random(4, 6, density=0.5, format="csr", random_state=3)
        g = root.create_group("old")
        g.attrs["h5sparse_format"] = "csr"
        g.attrs["h5sparse_shape"] = [4, 6]
        for k in ("data", "indices", "indptr"):
            g.create_array(k, data=getattr(m, k))
        with pytest.warns(OldFormatWarning):
            assert_equal(read_elem(g), m)

    def test_legacy_dataframe_0_1_0(self, root: Any) -> None:
        from ..io import read_elem

        g = root.create_group("df")
        g.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.1.0",
                        "_index": "_index", "column-order": ["c", "n"]})
        g.create_array("_index", data=np.array(["a", "b", "c"], dtype=object))
        g.create_array("c", data=np.array([1, 0, -1], dtype=np.int8))
        g.create_array("n", data=np.arange(3.0))
        cats = g.create_group("__categories")
        cats.create_array("c", data=np.array(["x", "y"], dtype=object))
        g["c"].attrs["categories"] = "/df/__categories/c" if root.name == "/" else "__categories/c"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = read_elem(g)
        assert list(got.columns) == ["c", "n"]
        assert_equal(got["c"]._values, pd.Categorical(["y", "x", None], categories=["x", "y"]))
        assert list(got.index) == ["a", "b", "c"]

    def _write_bad_csr(self, root: Any, **override: Any) -> Any:
        from ..io import write_elem

        write_elem(root, "m", sparse.csr_matrix(np.eye(3)))
        g = root["m"]
        for k, v in override.items():
            if k == "shape":
                g.attrs["shape"] = v
            else:
                del g[k]
                g.create_array(k, data=v)
        return g

    @pytest.mark.parametrize(
        ("override", "match"),
        [
            ({"shape": [5, 3]}, "indptr"),
            ({"indptr": np.array([0, 1, 2], dtype=np.int32)}, "indptr"),
            ({"indices": np.array([0, 1], dtype=np.int32)}, "equal length"),
            ({"indices": np.array([0, 1, 7], dtype=np.int32)}, "indices"),
            ({"indptr": np.array([0, 2, 1, 3], dtype=np.int32)}, "indptr"),
            ({"shape": [3]}, "shape"),
        ],
        ids=["shape_vs_indptr", "short_indptr", "data_indices_len", "index_range",
             "decreasing_indptr", "bad_shape_attr"],
    )
    def test_malformed_sparse_raises(self, root: Any, override: dict[str, Any], match: str) -> None:
        from ..errors import InvalidFileError
        from ..io import read_elem

        g = self._write_bad_csr(root, **override)
        with pytest.raises(InvalidFileError, match=match) as ei:
            read_elem(g)
        assert "/m" in str(ei.value)
        assert ei.value.path is not None and ei.value.path.endswith("/m")

    def test_malformed_categorical_raises(self, root: Any) -> None:
        from ..errors import InvalidFileError
        from ..io import read_elem, write_elem

        write_elem(root, "c", pd.Categorical(["a", "b"]))
        del root["c"]["codes"]
        root["c"].create_array("codes", data=np.array([0, 5], dtype=np.int8))
        with pytest.raises(InvalidFileError, match=r"codes") as ei:
            read_elem(root["c"])
        assert "/c" in str(ei.value)

    def test_malformed_dataframe_raises(self, root: Any) -> None:
        from ..errors import InvalidFileError
        from ..io import read_elem, write_elem

        write_elem(root, "df", pd.DataFrame({"a": [1, 2], "b": [3, 4]},
                                            index=pd.Index(["x", "y"], dtype="str")))
        del root["df"]["b"]
        with pytest.raises(InvalidFileError, match="'b'"):
            read_elem(root["df"])
        root["df"].create_array("b", data=np.arange(5))
        with pytest.raises(InvalidFileError, match="rows"):
            read_elem(root["df"])

    def test_malformed_nullable_raises(self, root: Any) -> None:
        from ..errors import InvalidFileError
        from ..io import read_elem, write_elem

        write_elem(root, "n", pd.array([1, None, 3], dtype="Int64"))
        del root["n"]["mask"]
        root["n"].create_array("mask", data=np.array([True, False]))
        with pytest.raises(InvalidFileError, match="equal length"):
            read_elem(root["n"])

    def test_nested_error_gets_element_path_note(self, root: Any) -> None:
        from ..errors import InvalidFileError
        from ..io import read_elem, write_elem

        write_elem(root, "outer", {"inner": sparse.csr_matrix(np.eye(2))})
        root["outer/inner"].attrs["shape"] = [9, 9]
        with pytest.raises(InvalidFileError) as ei:
            read_elem(root["outer"])
        notes = " ".join(getattr(ei.value, "__notes__", []))
        assert "/outer/inner" in notes

    def test_mixed_object_column_refused_naming_column(self, root: Any) -> None:
        from ..io import write_elem

        df = pd.DataFrame({"ok": [1, 2, 3], "mixed": np.array(["a", 1, None], dtype=object)},
                          index=pd.Index(["r0", "r1", "r2"], dtype="str"))
        with pytest.raises(TypeError, match=r"'mixed'.*int 1.*'r1'"):
            write_elem(root, "df", df)

    def test_object_column_with_missing_is_lossless(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        df = pd.DataFrame({"s": np.array(["a", None, "c"], dtype=object)},
                          index=pd.Index(["r0", "r1", "r2"], dtype="str"))
        got, _ = self.roundtrip_elem(tmp_path, df)
        assert list(pd.isna(got["s"])) == [False, True, False]
        assert got["s"].iloc[2] == "c"

    def test_reserved_and_duplicate_columns_refused(self, root: Any) -> None:
        from ..io import write_elem

        with pytest.raises(ValueError, match="_index"):
            write_elem(root, "df", pd.DataFrame({"_index": [1]}))
        dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
        with pytest.raises(ValueError, match="repeated"):
            write_elem(root, "df2", dup)

    def test_nullable_strings_refused_when_disallowed(self, root: Any) -> None:
        from .._settings import settings
        from ..io import write_elem

        with settings.override(allow_write_nullable_strings=False), pytest.raises(
            ValueError, match="missing"
        ):
            write_elem(root, "s", pd.array(["a", None], dtype="string"))

    def test_unwritable_type_raises(self, root: Any) -> None:
        from ..errors import EncodingNotFoundError
        from ..io import write_elem

        with pytest.raises(EncodingNotFoundError, match="object"):
            write_elem(root, "x", object())
        with pytest.raises(EncodingNotFoundError):
            write_elem(root, "f", pd.array([1.0, None], dtype="Float64"))

    # ------------------------------------------------------------------ the store protocol
    #
    # Store-level checks in the manner of zarr's ``StoreTests``: what an adapter's nodes
    # report and return, independent of the encodings (which tolerate some slack).

    def format_info(self) -> Any:
        """The :class:`~annstore.FormatInfo` of the format under test."""
        from ..io._guess import require_format

        return require_format(self.format_name)

    def _require_flag(self, flag: str) -> None:
        self._require_hierarchical()
        if not getattr(self.format_info(), flag):
            pytest.skip(f"format {self.format_name!r} does not declare FormatInfo.{flag}")

    def test_store_nodes_are_marked_and_named(self, root: Any) -> None:
        g = root.create_group("a")
        sub = g.create_group("b")
        arr = sub.create_array("c", data=np.arange(3))
        for node, name in ((root, "/"), (g, "/a"), (sub, "/a/b"), (arr, "/a/b/c"),
                           (root["a/b"], "/a/b"), (root["a/b/c"], "/a/b/c")):
            assert getattr(type(node), "_annstore_node", False) is True, type(node)
            assert node.format == self.format_name, (name, node.format)
            assert node.name == name
        assert hasattr(root["a"], "create_group") and not hasattr(root["a/b/c"], "create_group")

    @pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                       "uint32", "uint64", "float16", "float32", "float64",
                                       "complex128"])
    def test_store_dtype_exact(self, dtype: str, tmp_path: Path) -> None:
        self._require_hierarchical()
        dt = np.dtype(dtype)
        data = (np.arange(12) % 2 if dt.kind == "b" else np.arange(12)).reshape(3, 4).astype(dt)
        with self.open_root(tmp_path, "w") as root:
            a = root.create_array("x", data=data)
            assert np.dtype(a.dtype) == dt, f"create_array reports {a.dtype}, stored {dt}"
            e = root.create_array("e", shape=(2, 3), dtype=dt)
            assert np.dtype(e.dtype) == dt and tuple(e.shape) == (2, 3)
        with self.open_root(tmp_path, "r") as root:
            a = root["x"]
            assert np.dtype(a.dtype) == dt, f"reopened array reports {a.dtype}, stored {dt}"
            assert tuple(a.shape) == (3, 4)
            for sel in ((), (slice(None),), (slice(1, 3), slice(0, 2))):
                got = a[sel]
                assert isinstance(got, np.ndarray), type(got)
                assert got.dtype == dt, f"a[{sel}] returned {got.dtype}, stored {dt}"
                np.testing.assert_array_equal(got, data[sel])
            assert np.dtype(root["e"].dtype) == dt

    @pytest.mark.parametrize("source", ["U", "O"])
    def test_store_strings_are_object_str(self, source: str, tmp_path: Path) -> None:
        self._require_hierarchical()
        values = ["a", "", "bé", "中文", "x" * 40]
        data = np.array(values, dtype=source)
        with self.open_root(tmp_path, "w") as root:
            a = root.create_array("s", data=data)
            assert np.dtype(a.dtype) == np.dtype(object), f"string array reports dtype {a.dtype}"
            root.create_array("m", data=np.array([["a", "b"], ["c", "d"]], dtype=source))
        with self.open_root(tmp_path, "r") as root:
            a = root["s"]
            assert np.dtype(a.dtype) == np.dtype(object), f"reopened string array reports {a.dtype}"
            for sel, want in (((), values), ((slice(1, 4),), values[1:4])):
                got = a[sel]
                assert isinstance(got, np.ndarray) and got.dtype == np.dtype(object), (
                    f"a[{sel}] returned {type(got).__name__} of dtype {getattr(got, 'dtype', None)}"
                    "; expected an object array of str"
                )
                assert [type(x) for x in got.tolist()] == [str] * len(want)
                assert got.tolist() == want
            m = root["m"][()]
            assert m.dtype == np.dtype(object) and m.shape == (2, 2)
            assert m.tolist() == [["a", "b"], ["c", "d"]]

    def test_store_attribute_types(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        values = {"s": "text", "i": 3, "f": 1.5, "b": True, "n": -7,
                  "ls": ["a", "b"], "le": [], "lt": ("x", "y"), "vi": np.arange(3),
                  "vf": np.array([1.5, 2.0])}
        with self.open_root(tmp_path, "w") as root:
            root.attrs.update(values)
            g = root.create_group("g")
            g.attrs["ls"] = ["c"]
            a = g.create_array("a", data=np.arange(2))
            a.attrs["i"] = 5
        with self.open_root(tmp_path, "r") as root:
            got = dict(root.attrs)
            assert set(got) >= set(values)
            for k in ("s", "i", "f", "b", "n"):
                assert type(got[k]) is type(values[k]), f"attrs[{k!r}] read back as {type(got[k])}"
                assert got[k] == values[k]
            for k, want in (("ls", ["a", "b"]), ("le", []), ("lt", ["x", "y"])):
                assert type(got[k]) is list, (
                    f"attrs[{k!r}] read back as {type(got[k]).__name__}; lists (and tuples) "
                    "must read back as list"
                )
                assert got[k] == want and all(type(x) is str for x in got[k])
            for k in ("vi", "vf"):
                v = got[k]
                assert isinstance(v, list | np.ndarray) and not isinstance(v, tuple), type(v)
                arr = np.asarray(v)
                assert arr.dtype.kind == np.asarray(values[k]).dtype.kind
                np.testing.assert_array_equal(arr, values[k])
            assert root["g"].attrs["ls"] == ["c"] and type(root["g"].attrs["ls"]) is list
            assert type(root["g/a"].attrs["i"]) is int and root["g/a"].attrs["i"] == 5
            assert root.attrs.get("missing", "dflt") == "dflt"
            with pytest.raises(KeyError):
                root.attrs["missing"]

    def test_store_attrs_mutate(self, root: Any) -> None:
        root.attrs["a"] = 1
        root.attrs["a"] = "two"
        assert root.attrs["a"] == "two"
        root.attrs.update({"b": 2, "c": [1.0]})
        del root.attrs["b"]
        assert "b" not in root.attrs and "a" in root.attrs
        assert set(root.attrs.keys()) >= {"a", "c"}

    def test_store_setitem(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        with self.open_root(tmp_path, "w") as root:
            a = root.create_array("a", data=np.zeros((4, 3), dtype=np.float64))
            a[1:3] = np.ones((2, 3))
            a[0, 1:] = [5.0, 6.0]
            a[3] = 9.0
            want = np.zeros((4, 3))
            want[1:3], want[0, 1:], want[3] = 1.0, [5.0, 6.0], 9.0
            np.testing.assert_array_equal(a[()], want)
            b = root.create_array("b", shape=(5,), dtype=np.int32)
            b[:] = np.arange(5, dtype=np.int32)
        with self.open_root(tmp_path, "r+") as root:
            np.testing.assert_array_equal(root["a"][()], want)
            np.testing.assert_array_equal(root["b"][()], np.arange(5))
            root["b"][2:4] = [-1, -2]
        with self.open_root(tmp_path, "r") as root:
            np.testing.assert_array_equal(root["b"][()], [0, 1, -1, -2, 4])
            assert np.dtype(root["b"].dtype) == np.int32

    def test_store_read_into(self, root: Any) -> None:
        data = np.arange(30, dtype=np.float32).reshape(6, 5)
        a = root.create_array("a", data=data)
        out = np.empty((6, 5), dtype=np.float32)
        a.read_into(out)
        np.testing.assert_array_equal(out, data)
        part = np.zeros((2, 5), dtype=np.float32)
        a.read_into(part, (slice(2, 4), slice(None)))
        np.testing.assert_array_equal(part, data[2:4])
        one = np.zeros(3, dtype=np.float32)
        a.read_into(one, (slice(1, 4), 2))
        np.testing.assert_array_equal(one, data[1:4, 2])

    def test_store_fancy_rows(self, root: Any) -> None:
        data = np.arange(20).reshape(10, 2)
        a = root.create_array("a", data=data)
        if not getattr(a, "supports_fancy", False):
            pytest.skip("the adapter's arrays declare no supports_fancy")
        idx = np.array([0, 3, 4, 9])
        np.testing.assert_array_equal(a[idx], data[idx])

    def test_store_close_and_reopen(self, tmp_path: Path) -> None:
        self._require_hierarchical()
        with self.open_root(tmp_path, "w") as root:
            root.create_group("g").create_array("x", data=np.arange(4))
            root.attrs["k"] = "v"
        with self.open_root(tmp_path, "a") as root:
            assert root.attrs["k"] == "v"
            root.create_array("y", data=np.ones(2))
            root["g"].attrs["new"] = 1
        with self.open_root(tmp_path, "r+") as root:
            del root["g/x"]
            root["g"].create_array("x", data=np.arange(3, dtype=np.int16))
        with self.open_root(tmp_path, "r") as root:
            assert set(root.keys()) == {"g", "y"}
            assert list(root) == list(root.keys())
            assert root["g"].attrs["new"] == 1
            assert np.dtype(root["g/x"].dtype) == np.int16
            np.testing.assert_array_equal(root["g/x"][()], np.arange(3))
        with self.open_root(tmp_path, "w") as root:  # "w" truncates
            assert list(root.keys()) == []
            assert "k" not in root.attrs

    def test_store_missing_keys(self, root: Any) -> None:
        g = root.create_group("g")
        g.create_array("x", data=np.arange(2))
        for key in ("nope", "g/nope", "nope/deeper", "g/x/deeper"):
            assert key not in root, key
            with pytest.raises(KeyError):
                root[key]
        with pytest.raises(KeyError):
            del root["nope"]
        with pytest.raises(KeyError):
            root["g"].attrs["nope"]
        assert "x" in g and "g/x" in root

    def test_store_nested_keys(self, root: Any) -> None:
        a = root.create_group("a")
        b = a.create_group("b")
        b.create_array("c", data=np.arange(3))
        assert "a/b/c" in root and "b/c" in a
        np.testing.assert_array_equal(root["a/b/c"][()], np.arange(3))
        np.testing.assert_array_equal(root["a"]["b"]["c"][()], np.arange(3))
        assert set(root["a"].keys()) == {"b"} and set(root["a/b"].keys()) == {"c"}
        del root["a/b/c"]
        assert "a/b/c" not in root and "a/b" in root
        with pytest.raises((ValueError, KeyError, TypeError)):  # a taken name
            root.create_group("a")

    # ------------------------------------------------------------------ backed mode
    #
    # ``FormatInfo.supports_backed = True`` promises: the store reopens by its path in modes
    # "r" and "r+" and stays usable while open; arrays slice without loading whole (rows,
    # sorted row indices, columns); in "r+" ``__setitem__`` and element writes persist; and
    # ``close()`` releases it so the next access reopens it.

    def _backed_adata(self, x_type: str) -> Any:
        from .. import AnnData

        rng = np.random.default_rng(0)
        dense = (rng.random((12, 5)) * (rng.random((12, 5)) < 0.5)).astype(np.float32)
        x = dense if x_type == "dense" else getattr(sparse, f"{x_type}_matrix")(dense)
        obs = pd.DataFrame({"n": np.arange(12)}, index=pd.Index([f"c{i}" for i in range(12)], dtype="str"))
        return AnnData(x, obs=obs), dense

    @pytest.mark.parametrize("x_type", ["dense", "csr", "csc"])
    def test_backed_read(self, x_type: str, tmp_path: Path) -> None:
        from ..io import read, write

        self._require_flag("supports_backed")
        adata, dense = self._backed_adata(x_type)
        path = self.store_path(tmp_path, "backed")
        write(adata, path, format=self.format_name)
        b = read(path, format=self.format_name, backed="r")
        try:
            assert b.isbacked
            rows = [1, 4, 5, 11]

            def arr(x: Any) -> np.ndarray:
                return x.toarray() if sparse.issparse(x) else np.asarray(x)

            np.testing.assert_array_equal(arr(b.X[2:7]), dense[2:7])
            np.testing.assert_array_equal(arr(b[rows].X), dense[rows])
            np.testing.assert_array_equal(arr(b[:, [0, 3]].X), dense[:, [0, 3]])
            assert list(b.obs["n"]) == list(range(12))
            b.file.close()
            np.testing.assert_array_equal(arr(b.X[0:2]), dense[0:2])  # reopens the file
            mem = b.to_memory()
            assert not mem.isbacked
            np.testing.assert_array_equal(arr(mem.X), dense)
        finally:
            b.file.close()

    def test_backed_r_plus_writes_persist(self, tmp_path: Path) -> None:
        from ..io import read, write

        self._require_flag("supports_backed")
        adata, dense = self._backed_adata("dense")
        path = self.store_path(tmp_path, "backed")
        write(adata, path, format=self.format_name)
        b = read(path, format=self.format_name, backed="r+")
        try:
            b.X[0] = 100.0
            b.X[2:4, 1] = [-1.0, -2.0]
        finally:
            b.file.close()
        want = dense.copy()
        want[0], want[2:4, 1] = 100.0, [-1.0, -2.0]
        np.testing.assert_array_equal(np.asarray(read(path, format=self.format_name).X), want)

    # ------------------------------------------------------------------ append
    #
    # ``FormatInfo.supports_append = True`` promises: arrays created with
    # ``maxshape=(None, ...)`` (and optionally ``chunks``) grow and shrink with ``resize``,
    # keeping their values; core's appenders (``CSRDataset.append`` in backed "r+",
    # ``concat_on_disk`` writing its output, block-wise sparse writes) rely on it.

    def test_append_resize(self, tmp_path: Path) -> None:
        self._require_flag("supports_append")
        with self.open_root(tmp_path, "w") as root:
            a = root.create_array("a", shape=(4,), dtype=np.int64, maxshape=(None,), chunks=(2,))
            a[:] = np.arange(4)
            a.resize((10,))
            assert tuple(a.shape) == (10,)
            np.testing.assert_array_equal(a[0:4], np.arange(4))
            a[4:10] = np.arange(4, 10)
            a.resize((7,))
            assert tuple(a.shape) == (7,)
            assert np.dtype(a.dtype) == np.int64
            m = root.create_array("m", data=np.ones((2, 3)), maxshape=(None, 3), chunks=(1, 3))
            m.resize((4, 3))
            m[2:4] = 2.0
        with self.open_root(tmp_path, "r") as root:
            np.testing.assert_array_equal(root["a"][()], np.arange(7))
            np.testing.assert_array_equal(root["m"][()], [[1.0] * 3] * 2 + [[2.0] * 3] * 2)

    def test_append_backed_sparse(self, tmp_path: Path) -> None:
        from ..backed import sparse_dataset
        from ..io import read_elem, write_elem

        self._require_flag("supports_append")
        x = sparse.random(6, 5, density=0.5, format="csr", random_state=2)
        extra = sparse.random(3, 5, density=0.5, format="csr", random_state=3)
        with self.open_root(tmp_path, "w") as root:
            write_elem(root, "X", x)
        with self.open_root(tmp_path, "r+") as root:
            sparse_dataset(root["X"]).append(extra)
        with self.open_root(tmp_path, "r") as root:
            assert_equal(read_elem(root["X"]), sparse.vstack([x, extra]).tocsr())

    def test_append_concat_on_disk(self, tmp_path: Path) -> None:
        from .. import concat
        from ..experimental import concat_on_disk
        from ..io import read, write

        self._require_flag("supports_append")
        parts = [gen_adata((n, 4), X_type="csr", obsm_types=(), layers=False,
                           uns=False, raw=False, nullable=False) for n in (5, 7)]
        for i, p in enumerate(parts):
            p.obs_names = [f"p{i}-{j}" for j in range(p.n_obs)]
        paths = [self.store_path(tmp_path, f"in{i}") for i in range(2)]
        for p, path in zip(parts, paths, strict=True):
            write(p, path, format=self.format_name)
        out = self.store_path(tmp_path, "out")
        concat_on_disk(paths, out)
        got = read(out, format=self.format_name)
        want = concat(parts)
        assert list(got.obs_names) == list(want.obs_names)
        assert_equal(got.X, want.X)

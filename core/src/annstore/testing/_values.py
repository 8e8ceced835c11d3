"""The element cases the conformance suite round-trips: value, expected encoding, expected read-back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["ELEMENT_CASES", "ElementCase"]


@dataclass(frozen=True)
class ElementCase:
    """One round-trip case: ``make()`` builds the value; it is stored as ``encoding``.

    Parameters
    ----------
    id
        The case's name (its test id).
    make
        Builds the value to write.
    encoding
        The ``encoding-type`` it must be stored with.
    expected
        Builds the value it must read back as, when that differs from ``make()``.
    settings
        ``annstore.settings`` overrides in effect while writing and reading.
    """

    id: str
    make: Callable[[], Any]
    encoding: str
    expected: Callable[[], Any] | None = None  #: read-back value when it differs from make()
    settings: dict[str, Any] = field(default_factory=dict)

    def expect(self) -> Any:
        """The value a round trip must read back: ``expected()``, or ``make()`` when that is unset."""
        return self.make() if self.expected is None else self.expected()


def _cat_nan() -> pd.Categorical:
    return pd.Categorical(["a", None, "b", "a"], categories=["a", "b", "unused"])


def _csr_unsorted() -> sparse.csr_matrix:
    m = sparse.csr_matrix(
        (np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1]), np.array([0, 2, 3])), shape=(2, 3)
    )
    return m


_C = ElementCase
ELEMENT_CASES: tuple[ElementCase, ...] = (
    # -------------------------------------------------------------- dense arrays
    *(
        _C(f"array_{dt}", (lambda dt=dt: np.arange(12).reshape(3, 4).astype(dt)), "array")
        for dt in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                   "float16", "float32", "float64", "complex128", "bool")
    ),
    _C("array_1d_nan_inf", lambda: np.array([np.nan, np.inf, -np.inf, 0.0, -0.0]), "array"),
    _C("array_empty_1d", lambda: np.zeros((0,), dtype=np.float64), "array"),
    _C("array_empty_2d", lambda: np.zeros((0, 5), dtype=np.int32), "array"),
    _C("array_0x0", lambda: np.zeros((0, 0), dtype=np.float32), "array"),
    _C("array_3d", lambda: np.arange(24, dtype=np.float64).reshape(2, 3, 4), "array"),
    _C("array_fortran", lambda: np.asfortranarray(np.arange(6.0).reshape(2, 3)), "array"),
    _C("array_noncontiguous", lambda: np.arange(20.0).reshape(4, 5)[::2, 1:4], "array"),
    _C("masked_array_drops_mask", lambda: np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),
       "array", expected=lambda: np.array([1, 2, 3])),
    _C("list_int", lambda: [1, 2, 3], "array", expected=lambda: np.array([1, 2, 3])),
    _C("list_float", lambda: [1.5, 2.0], "array", expected=lambda: np.array([1.5, 2.0])),
    _C("list_mixed_becomes_strings", lambda: [1, "two", 3.0], "string-array",
       expected=lambda: np.array(["1", "two", "3.0"], dtype=object)),
    # -------------------------------------------------------------- strings
    _C("string_array_U", lambda: np.array(["a", "bb", "ccc"]), "string-array",
       expected=lambda: np.array(["a", "bb", "ccc"], dtype=object)),
    _C("string_array_object", lambda: np.array(["x", "", "zz"], dtype=object), "string-array"),
    _C("string_array_unicode", lambda: np.array(["日本語", "émoji 🧬", "Ωμέγα", "кириллица"],
                                                dtype=object), "string-array"),
    _C("string_array_2d", lambda: np.array([["a", "b"], ["c", "d"]], dtype=object), "string-array"),
    _C("string_array_empty", lambda: np.array([], dtype=object), "string-array"),
    _C("string_array_long", lambda: np.array(["x" * 10_000, "y"], dtype=object), "string-array"),
    _C("object_strings_with_missing", lambda: np.array(["a", None, "b"], dtype=object),
       "nullable-string-array",
       expected=lambda: pd.array(["a", None, "b"], dtype=pd.StringDtype(na_value=np.nan))),
    # -------------------------------------------------------------- records
    _C("rec_array", lambda: np.rec.fromarrays(
        [np.array([1, 2]), np.array([0.5, 1.5]), np.array(["a", "bb"])], names=["i", "f", "s"]),
       "rec-array",
       expected=lambda: np.array([(1, 0.5, "a"), (2, 1.5, "bb")],
                                 dtype=[("i", "<i8"), ("f", "<f8"), ("s", "O")])),
    # -------------------------------------------------------------- scalars
    _C("scalar_int", lambda: 7, "numeric-scalar"),
    _C("scalar_negative_int", lambda: -(2**40), "numeric-scalar"),
    _C("scalar_float", lambda: 2.5, "numeric-scalar"),
    _C("scalar_nan", lambda: float("nan"), "numeric-scalar"),
    _C("scalar_neg_inf", lambda: float("-inf"), "numeric-scalar"),
    _C("scalar_bool_true", lambda: True, "numeric-scalar"),
    _C("scalar_bool_false", lambda: np.bool_(False), "numeric-scalar", expected=lambda: False),
    _C("scalar_np_int8", lambda: np.int8(-5), "numeric-scalar", expected=lambda: -5),
    _C("scalar_np_uint64_big", lambda: np.uint64(2**63 + 5), "numeric-scalar",
       expected=lambda: 2**63 + 5),
    _C("scalar_np_float32", lambda: np.float32(1.25), "numeric-scalar", expected=lambda: 1.25),
    _C("scalar_np_float16", lambda: np.float16(0.5), "numeric-scalar", expected=lambda: 0.5),
    _C("scalar_complex", lambda: np.complex128(1 + 2j), "numeric-scalar", expected=lambda: 1 + 2j),
    _C("scalar_0d_array", lambda: np.array(3.0), "numeric-scalar", expected=lambda: 3.0),
    _C("string", lambda: "hello", "string"),
    _C("string_empty", lambda: "", "string"),
    _C("string_unicode", lambda: "ß → 日本 🧬", "string"),
    _C("string_np_str", lambda: np.str_("np"), "string", expected=lambda: "np"),
    _C("string_0d_array", lambda: np.array("zero-d"), "string", expected=lambda: "zero-d"),
    _C("null", lambda: None, "null"),
    # -------------------------------------------------------------- mappings
    _C("dict_empty", lambda: {}, "dict"),
    _C("dict_nested", lambda: {"a": {"b": {"c": np.arange(3), "d": "x"}}, "n": None, "e": {}},
       "dict"),
    _C("dict_mixed", lambda: {"i": 1, "s": "s", "arr": np.ones((2, 2)), "cat": _cat_nan(),
                              "sp": sparse.csr_matrix(np.eye(3))}, "dict"),
    # -------------------------------------------------------------- categoricals
    _C("categorical_str", lambda: pd.Categorical(["a", "b", "a", "c"]), "categorical"),
    _C("categorical_nan_unused", _cat_nan, "categorical"),
    _C("categorical_ordered", lambda: pd.Categorical(
        ["lo", "hi", None, "mid"], categories=["lo", "mid", "hi"], ordered=True), "categorical"),
    _C("categorical_int", lambda: pd.Categorical([3, 1, 3, 2]), "categorical"),
    _C("categorical_float", lambda: pd.Categorical([0.5, 1.5, 0.5]), "categorical"),
    _C("categorical_bool", lambda: pd.Categorical([True, False, True]), "categorical"),
    _C("categorical_all_nan", lambda: pd.Categorical([None, None], categories=["a"]),
       "categorical"),
    _C("categorical_empty", lambda: pd.Categorical([], categories=["a", "b"]), "categorical"),
    _C("categorical_unicode", lambda: pd.Categorical(["日本", "", "🧬", "日本"]), "categorical"),
    _C("categorical_many", lambda: pd.Categorical([f"c{i}" for i in range(300)] * 2),
       "categorical"),
    # -------------------------------------------------------------- nullables
    _C("nullable_int64", lambda: pd.array([1, None, 3], dtype="Int64"), "nullable-integer"),
    _C("nullable_uint8", lambda: pd.array([1, None, 255], dtype="UInt8"), "nullable-integer"),
    _C("nullable_int32_no_na", lambda: pd.array([1, 2], dtype="Int32"), "nullable-integer"),
    _C("nullable_int_empty", lambda: pd.array([], dtype="Int16"), "nullable-integer"),
    _C("nullable_boolean", lambda: pd.array([True, None, False], dtype="boolean"),
       "nullable-boolean"),
    _C("nullable_boolean_all_na", lambda: pd.array([None, None], dtype="boolean"),
       "nullable-boolean"),
    _C("nullable_string_NA", lambda: pd.array(["a", None, "ü"], dtype="string"),
       "nullable-string-array"),
    _C("nullable_str_NaN", lambda: pd.array(["a", None, "日本"], dtype="str"),
       "nullable-string-array"),
    _C("nullable_str_empty", lambda: pd.array([], dtype="str"), "nullable-string-array"),
    _C("legacy_strings_setting", lambda: pd.array(["a", "b"], dtype="str"), "string-array",
       expected=lambda: np.array(["a", "b"], dtype=object),
       settings={"allow_write_nullable_strings": False}),
    # -------------------------------------------------------------- sparse
    *(
        _C(f"{cls}_{dt}", (lambda cls=cls, dt=dt: getattr(sparse, cls)(
            sparse.random(6, 5, density=0.4, format=cls[:3], random_state=1).astype(dt))),
           f"{cls[:3]}_matrix",
           # read back as matrices unless settings.use_sparse_array_on_read
           expected=(lambda cls=cls, dt=dt: getattr(sparse, f"{cls[:3]}_matrix")(
               sparse.random(6, 5, density=0.4, format=cls[:3], random_state=1).astype(dt))))
        for cls in ("csr_matrix", "csc_matrix", "csr_array", "csc_array")
        for dt in ("float32", "float64", "int64", "bool")
    ),
    _C("csr_nnz0", lambda: sparse.csr_matrix((4, 3), dtype=np.float32), "csr_matrix"),
    _C("csc_nnz0", lambda: sparse.csc_matrix((4, 3), dtype=np.float64), "csc_matrix"),
    _C("csr_0x0", lambda: sparse.csr_matrix((0, 0), dtype=np.float32), "csr_matrix"),
    _C("csc_0_rows", lambda: sparse.csc_matrix((0, 4), dtype=np.int16), "csc_matrix"),
    _C("csr_unsorted_indices", _csr_unsorted, "csr_matrix"),
    _C("csr_as_array_setting", lambda: sparse.csr_matrix(np.eye(3)), "csr_matrix",
       expected=lambda: sparse.csr_array(np.eye(3)), settings={"use_sparse_array_on_read": True}),
    # -------------------------------------------------------------- dataframes
    _C("dataframe_mixed", lambda: pd.DataFrame(
        {"i": np.arange(3), "f": [0.5, np.nan, 1.0], "b": [True, False, True],
         "c": pd.Categorical(["x", "y", "x"]), "s": pd.array(["p", "q", None], dtype="str"),
         "n": pd.array([1, None, 2], dtype="Int32")},
        index=pd.Index(["r0", "r1", "r2"], dtype="str")), "dataframe"),
    _C("dataframe_named_index", lambda: pd.DataFrame(
        {"a": [1, 2]}, index=pd.Index(["x", "y"], name="cell_id", dtype="str")), "dataframe"),
    _C("dataframe_no_columns", lambda: pd.DataFrame(index=pd.Index(["a", "b"], dtype="str")),
       "dataframe"),
    _C("dataframe_empty", lambda: pd.DataFrame(
        {"a": np.zeros(0, dtype=np.int64)}, index=pd.Index([], dtype="str")), "dataframe"),
    _C("dataframe_range_index", lambda: pd.DataFrame({"a": [1.0, 2.0]}), "dataframe"),
    _C("dataframe_object_strings", lambda: pd.DataFrame(
        {"o": np.array(["u", "v"], dtype=object)}, index=pd.Index(["a", "b"], dtype=object)),
       "dataframe",
       # pandas 3 infers ``str`` for the index (as anndata 0.13 reads it back)
       expected=lambda: pd.DataFrame({"o": np.array(["u", "v"], dtype=object)},
                                     index=pd.Index(["a", "b"], dtype="str"))),
    _C("dataframe_unicode_columns", lambda: pd.DataFrame(
        {"名前": ["α", "β"], "emoji 🧬": [1, 2]}, index=pd.Index(["ä", "ö"], dtype="str")),
       "dataframe"),
    _C("dataframe_column_order_kept", lambda: pd.DataFrame(
        {"z": [1], "a": [2], "m": [3]}, index=pd.Index(["r"], dtype="str")), "dataframe"),
)

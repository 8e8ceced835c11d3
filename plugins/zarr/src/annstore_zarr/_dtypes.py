"""Zarr data types: strings (``VariableLengthUTF8``), fixed-length records, and the v3 ``struct``
data type as newer zarr-python (and anndata 0.13.4) write it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from annstore.io import check_str_elements

__all__ = [
    "ensure_struct_dtype",
    "fixed_length_record",
    "is_string_dtype",
    "struct_dtype_for",
    "to_object_strings",
    "vlen_utf8",
]

_STRUCT_CLS: Any = None


def _make_struct_cls() -> Any:
    from zarr.core.dtype import get_data_type_from_json
    from zarr.core.dtype.npy.structured import Structured

    @dataclass(frozen=True, kw_only=True)
    class Struct(Structured):  # type: ignore[misc]
        """``{"name": "struct", "configuration": {"fields": [{"name", "data_type"}]}}``.

        Fill values are JSON objects keyed by field name (zarr-python >= 3.2 layout).
        """

        _zarr_v3_name = "struct"  # type: ignore[assignment]

        @classmethod
        def _check_native_dtype(cls, dtype: Any) -> bool:  # type: ignore[override]
            # Never chosen by zarr's dtype inference (that would make structured dtypes
            # ambiguous for every zarr user in the process); built explicitly instead.
            return False

        @classmethod
        def from_structured(cls, dt: np.dtype[Any]) -> Any:
            return cls(fields=Structured.from_native_dtype(dt).fields)

        @classmethod
        def _check_json_v3(cls, data: Any) -> bool:  # type: ignore[override]
            return (
                isinstance(data, dict)
                and data.get("name") == "struct"
                and isinstance(data.get("configuration"), dict)
                and isinstance(data["configuration"].get("fields"), list)
                and all(isinstance(f, dict) and {"name", "data_type"} <= f.keys()
                        for f in data["configuration"]["fields"])
            )

        @classmethod
        def _from_json_v3(cls, data: Any) -> Any:
            from zarr.core.dtype.common import DataTypeValidationError

            if not cls._check_json_v3(data):
                msg = f"Invalid JSON representation of a struct data type: {data!r}"
                raise DataTypeValidationError(msg)
            return cls(fields=tuple(
                (f["name"], get_data_type_from_json(f["data_type"], zarr_format=3))
                for f in data["configuration"]["fields"]
            ))

        def to_json(self, zarr_format: int) -> Any:  # type: ignore[override]
            if zarr_format == 3:
                return {"name": "struct", "configuration": {"fields": [
                    {"name": n, "data_type": dt.to_json(zarr_format=3)} for n, dt in self.fields
                ]}}
            return super().to_json(zarr_format=zarr_format)  # type: ignore[arg-type]

        def from_json_scalar(self, data: Any, *, zarr_format: int) -> Any:  # type: ignore[override]
            if zarr_format == 3 and isinstance(data, dict):
                out = np.zeros((), dtype=self.to_native_dtype())
                for n, dt in self.fields:
                    out[n] = dt.from_json_scalar(data[n], zarr_format=3)
                return out[()]
            return super().from_json_scalar(data, zarr_format=zarr_format)  # type: ignore[arg-type]

        def to_json_scalar(self, data: Any, *, zarr_format: int) -> Any:  # type: ignore[override]
            if zarr_format == 3:
                native = self.to_native_dtype()
                if isinstance(data, np.void | np.ndarray) and data.dtype == native:
                    v = np.asarray(data)[()]
                elif isinstance(data, bytes):
                    v = np.frombuffer(data, dtype=native)[0]
                else:  # zarr's default fill value (0): all fields zero / empty
                    v = np.zeros((), dtype=native)[()]
                return {n: dt.to_json_scalar(v[n], zarr_format=3) for n, dt in self.fields}
            return super().to_json_scalar(data, zarr_format=zarr_format)  # type: ignore[arg-type]

    return Struct


def ensure_struct_dtype() -> Any:
    """Register the v3 ``struct`` data type with zarr-python unless it knows it already."""
    global _STRUCT_CLS  # noqa: PLW0603
    if _STRUCT_CLS is not None:
        return _STRUCT_CLS
    from zarr.core.dtype import data_type_registry

    data_type_registry._lazy_load()  # noqa: SLF001 - populate built-ins before checking
    existing = data_type_registry.contents.get("struct")
    if existing is None:
        existing = _make_struct_cls()
        data_type_registry.register("struct", existing)
    _STRUCT_CLS = existing
    return existing


def struct_dtype_for(dt: np.dtype[Any]) -> Any:
    """The zarr data type to write a numpy structured dtype with in format 3 (as anndata)."""
    cls = ensure_struct_dtype()
    if hasattr(cls, "from_structured"):
        return cls.from_structured(dt)
    return cls.from_native_dtype(dt)  # pragma: no cover - zarr's own struct type


def is_string_dtype(dt: Any) -> bool:
    """Whether a numpy/zarr dtype holds variable-length strings."""
    kind = getattr(dt, "kind", None)
    return kind in ("T", "O")


def vlen_utf8() -> Any:
    from zarr.core.dtype import VariableLengthUTF8

    return VariableLengthUTF8()


def to_object_strings(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` (``U``, ``T`` or ``O`` of ``str``) as an object array of ``str``."""
    check_str_elements(arr)
    return arr if arr.dtype.kind == "O" else arr.astype(object)


def fixed_length_record(arr: np.ndarray) -> np.ndarray:
    """Turn the object/str fields of a structured array into fixed-length unicode (as anndata)."""
    fields = []
    changed = False
    for name in arr.dtype.names or ():
        dt = arr.dtype.fields[name][0]
        if dt.kind in ("O", "T"):
            col = np.asarray(arr[name]).astype(str)
            fields.append((name, col.dtype))
            changed = True
        elif dt.kind == "S":
            fields.append((name, np.dtype(f"U{max(dt.itemsize, 1)}")))
            changed = True
        else:
            fields.append((name, dt))
    if not changed:
        return arr
    out = np.empty(arr.shape, dtype=fields)
    for name in arr.dtype.names or ():
        col = arr[name]
        out[name] = col.astype(str) if out.dtype.fields[name][0].kind == "U" else col
    return out

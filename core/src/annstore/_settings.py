"""Global settings (``annstore.settings``), read from ``ANNSTORE_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Settings", "settings"]


def _parse_bool(s: str) -> bool:
    v = s.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    msg = f"Expected a boolean (1/0, true/false); got {s!r} instead."
    raise ValueError(msg)


def _parse_opt_bool(s: str) -> bool | None:
    return None if s.strip().lower() in {"", "none", "auto"} else _parse_bool(s)


def _parse_zarr_format(s: str) -> int:
    v = int(s)
    if v not in (2, 3):
        msg = f"Expected zarr_write_format 2 or 3; got {s!r} instead."
        raise ValueError(msg)
    return v


@dataclass(frozen=True, slots=True)
class _Option:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str
    check: Callable[[Any], Any] | None = None


_OPTIONS: tuple[_Option, ...] = (
    _Option("remove_unused_categories", True, _parse_bool,
            "Remove unused categories when subsetting categorical columns of a view."),
    _Option("check_uniqueness", True, _parse_bool,
            "Warn when obs_names / var_names are not unique."),
    _Option("copy_on_write_X", True, _parse_bool,
            "Setting X on a view makes a copy (as in anndata)."),
    _Option("allow_write_nullable_strings", None, _parse_opt_bool,
            "Write string columns as nullable-string-array (None: only under pandas >= 3 "
            "string dtypes, as anndata 0.13 does; False: legacy string-array)."),
    _Option("zarr_write_format", 3, _parse_zarr_format, "Zarr format written by write_zarr (2 or 3).",
            lambda v: _parse_zarr_format(str(v))),
    _Option("use_sparse_array_on_read", False, _parse_bool,
            "Read sparse elements as scipy sparse arrays instead of matrices."),
    _Option("min_rows_for_chunked_h5_copy", 1000, int,
            "Rows above which backed h5ad copies are done in chunks."),
    _Option("disallow_forward_slash_in_h5ad", True, _parse_bool,
            "Refuse keys containing '/' when writing h5ad."),
    _Option("write_csr_csc_indices_with_min_possible_dtype", False, _parse_bool,
            "Write sparse indices with the smallest integer dtype that fits."),
    _Option("auto_shard_zarr_v3", True, _parse_opt_bool, "Shard arrays written to zarr v3."),
    _Option("restrict_index_types", True, _parse_bool,
            "Only str indices are allowed for obs_names / var_names."),
)


class Settings:
    """annstore's settings. Each option can be set by assignment, by ``override()`` for a block,
    or by the environment variable ``ANNSTORE_<NAME>`` (upper case) before import."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        self.reset()

    def reset(self, *names: str) -> None:
        """Restore options (all when none is named) to the environment or default value."""
        for opt in _OPTIONS:
            if names and opt.name not in names:
                continue
            env = os.environ.get(f"ANNSTORE_{opt.name.upper()}")
            self._values[opt.name] = opt.default if env is None else opt.parse(env)

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            msg = f"Unknown setting {name!r}; known: {', '.join(o.name for o in _OPTIONS)}."
            raise AttributeError(msg) from None

    def __setattr__(self, name: str, value: Any) -> None:
        opt = next((o for o in _OPTIONS if o.name == name), None)
        if opt is None:
            msg = f"Unknown setting {name!r}; known: {', '.join(o.name for o in _OPTIONS)}."
            raise AttributeError(msg)
        if opt.check is not None:
            value = opt.check(value)
        self._values[name] = value

    @property
    def model_fields_set(self) -> set[str]:
        """The option names (anndata's settings are a pydantic model; its test setup resets these)."""
        return {o.name for o in _OPTIONS}

    def __dir__(self) -> list[str]:
        return [o.name for o in _OPTIONS] + ["override", "reset"]

    @contextmanager
    def override(self, **overrides: Any) -> Iterator[None]:
        """Set options for the duration of a ``with`` block."""
        old = dict(self._values)
        try:
            for k, v in overrides.items():
                setattr(self, k, v)
            yield
        finally:
            self._values.clear()
            self._values.update(old)

    def __repr__(self) -> str:
        return "\n".join(f"{o.name}={self._values[o.name]!r}  # {o.doc}" for o in _OPTIONS)


settings = Settings()

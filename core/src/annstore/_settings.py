"""Global settings (``annstore.settings``), read from ``ANNSTORE_*`` (or ``ANNDATA_*``) environment variables.

The object behaves as anndata 0.13's settings (a scverse-misc ``Settings``): assignment is
validated, ``override(**kw)`` sets options for a ``with`` block, ``reset(*names)`` restores
defaults (and, used as a context manager, puts the old values back on exit),
``model_fields_set`` names the options set explicitly, and reading a deprecated option
(``copy_on_write_X``, ``zarr_write_format``) emits anndata's ``DeprecationWarning``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import SettingsError, UnknownSettingError

__all__ = ["FieldInfo", "Settings", "settings"]

_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def _parse_bool(s: str) -> bool:
    v = s.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    msg = f"Expected a boolean (1/0, true/false); got {s!r} instead."
    raise SettingsError(msg)


def _parse_opt_bool(s: str) -> bool | None:
    return None if s.strip().lower() in {"", "none", "auto", "null"} else _parse_bool(s)


def _parse_zarr_format(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = None
    if v not in (2, 3):
        msg = f"Expected zarr_write_format 2 or 3; got {s!r} instead."
        raise SettingsError(msg)
    return v


def _check_bool(name: str, optional: bool = False) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v is None and optional:
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, int) and v in (0, 1):  # pydantic's lax mode
            return bool(v)
        if isinstance(v, str):
            return _parse_opt_bool(v) if optional else _parse_bool(v)
        msg = f"Expected {name} to be a boolean{' or None' if optional else ''}; got {v!r} instead."
        raise SettingsError(msg)

    return check


def _check_positive_int(name: str) -> Callable[[Any], Any]:
    def check(v: Any) -> int:
        try:
            iv = int(v)
        except (TypeError, ValueError):
            iv = None
        if isinstance(v, bool) or iv is None or iv != v or iv <= 0:
            msg = f"Expected {name} to be an integer greater than 0; got {v!r} instead."
            raise SettingsError(msg)
        return iv

    return check


def _parse_max_allocation(s: str) -> int | None:
    if s.strip().lower() in {"", "none", "auto", "null"}:
        return None
    return _check_max_allocation(s)


def _check_max_allocation(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, str):
        from ._limits import parse_bytes

        v = parse_bytes(v)
    if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v) or v <= 0:
        msg = f"Expected max_allocation to be a positive number of bytes (or None); got {v!r} instead."
        raise SettingsError(msg)
    return int(v)


@dataclass(frozen=True, slots=True)
class _Option:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str
    check: Callable[[Any], Any] | None = None
    deprecated: str | None = None


_OPTIONS: tuple[_Option, ...] = (
    _Option("remove_unused_categories", True, _parse_bool,
            "Remove unused categories when subsetting categorical columns of a view.",
            _check_bool("remove_unused_categories")),
    _Option("check_uniqueness", True, _parse_bool,
            "Warn when obs_names / var_names are not unique.", _check_bool("check_uniqueness")),
    _Option("copy_on_write_X", True, _parse_bool,
            "Setting X on a view makes a copy (as in anndata).", _check_bool("copy_on_write_X"),
            deprecated="This will be removed in 0.14 (deprecated in 0.13) and copy-on-write will be default"),
    _Option("allow_write_nullable_strings", None, _parse_opt_bool,
            "Write string columns as nullable-string-array (None: only under pandas >= 3 "
            "string dtypes, as anndata 0.13 does; False: legacy string-array).",
            _check_bool("allow_write_nullable_strings", optional=True)),
    _Option("zarr_write_format", 3, _parse_zarr_format, "Zarr format written by write_zarr (2 or 3).",
            lambda v: _parse_zarr_format(str(v)) if not isinstance(v, bool) else _parse_zarr_format(repr(v)),
            deprecated="This setting will be removed in 0.14 (deprecated in 0.13) and zarr v3 will be the default"),
    _Option("use_sparse_array_on_read", False, _parse_bool,
            "Read sparse elements as scipy sparse arrays instead of matrices.",
            _check_bool("use_sparse_array_on_read")),
    _Option("min_rows_for_chunked_h5_copy", 1000, int,
            "Rows above which backed h5ad copies are done in chunks.",
            _check_positive_int("min_rows_for_chunked_h5_copy")),
    _Option("disallow_forward_slash_in_h5ad", True, _parse_bool,
            "Refuse keys containing '/' when writing h5ad.", _check_bool("disallow_forward_slash_in_h5ad")),
    _Option("write_csr_csc_indices_with_min_possible_dtype", False, _parse_bool,
            "Write sparse indices with the smallest integer dtype that fits.",
            _check_bool("write_csr_csc_indices_with_min_possible_dtype")),
    _Option("auto_shard_zarr_v3", True, _parse_opt_bool, "Shard arrays written to zarr v3.",
            _check_bool("auto_shard_zarr_v3", optional=True)),
    _Option("restrict_index_types", True, _parse_bool,
            "Only str indices are allowed for obs_names / var_names.", _check_bool("restrict_index_types")),
    _Option("allow_outside_data", False, _parse_bool,
            "Let reads return bytes stored outside the file or store named: HDF5 external "
            "links and soft links leaving the file, external raw storage and virtual datasets "
            "(h5ad, loom, read_hdf), zarr symlinks leaving a local store's root. False (default): "
            "such an element raises InvalidFileError naming the file and the element.",
            _check_bool("allow_outside_data")),
    _Option("max_allocation", None, lambda s: _parse_max_allocation(s),
            "Largest allocation in bytes a read may make from sizes a file declares (array "
            "shapes, stored values, decompressed streams); beyond it the read raises "
            "InvalidFileError. None: the memory available when the read runs. Accepts an int "
            "or a string such as '8GiB'.", lambda v: _check_max_allocation(v)),
)
_BY_NAME: dict[str, _Option] = {o.name: o for o in _OPTIONS}


def _unknown(name: str) -> UnknownSettingError:
    msg = f"Unknown setting {name!r}; known: {', '.join(_BY_NAME)}."
    return UnknownSettingError(msg)


def _env_value(opt: _Option) -> tuple[bool, Any]:
    for prefix in ("ANNSTORE_", "ANNDATA_"):
        env = os.environ.get(f"{prefix}{opt.name.upper()}")
        if env is not None:
            return True, opt.parse(env)
    return False, opt.default


class _ResetContext(AbstractContextManager):
    """What ``reset()`` returns: already applied; on ``__exit__`` the previous values come back."""

    def __init__(self, settings: Settings, previous: dict[str, Any]) -> None:
        self._settings = settings
        self._previous = previous

    def __enter__(self) -> frozenset[str]:
        return frozenset(self._previous)

    def __exit__(self, *_: object) -> None:
        for name, value in self._previous.items():
            setattr(self._settings, name, value)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One option's description (the part of pydantic's ``FieldInfo`` that clients read)."""

    default: Any
    description: str
    deprecated: str | None = None

    def get_default(self) -> Any:
        """The default value."""
        return self.default


class Settings:
    """annstore's settings. Each option can be set by assignment, by ``override()`` for a block,
    or by the environment variable ``ANNSTORE_<NAME>`` (or anndata's ``ANNDATA_<NAME>``, upper
    case) before import."""

    __slots__ = ("__dict__", "_explicit")

    #: Each option's default and description, keyed by name (as pydantic's ``model_fields``).
    model_fields: ClassVar[dict[str, FieldInfo]] = {
        o.name: FieldInfo(o.default, o.doc, o.deprecated) for o in _OPTIONS
    }

    def __init__(self) -> None:
        object.__setattr__(self, "_explicit", set())
        for opt in _OPTIONS:
            from_env, value = _env_value(opt)
            self.__dict__[opt.name] = value
            if from_env:
                self._explicit.add(opt.name)

    def __getattribute__(self, name: str) -> Any:
        opt = _BY_NAME.get(name)
        if opt is not None and opt.deprecated is not None:
            warnings.warn(opt.deprecated, DeprecationWarning, stacklevel=2)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        raise _unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        opt = _BY_NAME.get(name)
        if opt is None:
            raise _unknown(name)
        if opt.check is not None:
            value = opt.check(value)
        self.__dict__[name] = value
        self._explicit.add(name)

    def __delattr__(self, name: str) -> None:
        if name not in _BY_NAME:
            raise _unknown(name)
        self.reset(name)

    @property
    def model_fields_set(self) -> set[str]:
        """The options set explicitly (by assignment or environment), as pydantic's field of that name."""
        return self._explicit

    def __dir__(self) -> list[str]:
        return [*_BY_NAME, "model_fields_set", "override", "reset"]

    def reset(self, *names: str) -> AbstractContextManager[frozenset[str]]:
        """Restore the named options (all when none is named) to their defaults.

        Applied at once; used as a context manager, the previous values are put back on exit.

        Parameters
        ----------
        *names
            The options to reset; none: every option.

        Returns
        -------
        contextlib.AbstractContextManager
            A context manager whose exit puts the previous values back (its value is the set of
            names reset); not using it keeps the reset.

        Raises
        ------
        UnknownSettingError
            A name is not an option (the message lists them).

        Examples
        --------
        >>> import annstore as ad
        >>> with ad.settings.reset("zarr_write_format"):  # doctest: +SKIP
        ...     ...
        """
        for name in names:
            if name not in _BY_NAME:
                raise _unknown(name)
        previous: dict[str, Any] = {}
        for opt in _OPTIONS:
            if names and opt.name not in names:
                continue
            previous[opt.name] = self.__dict__[opt.name]
            self.__dict__[opt.name] = _env_value(opt)[1]
            self._explicit.discard(opt.name)
        return _ResetContext(self, previous)

    @contextmanager
    def override(self, **overrides: Any) -> Iterator[None]:
        """Set options for the duration of a ``with`` block (the previous values come back on exit).

        Parameters
        ----------
        **overrides
            Option names and their values for the block; each is checked as an assignment is.

        Yields
        ------
        None

        Raises
        ------
        UnknownSettingError
            A name is not an option.
        SettingsError
            A value is invalid for its option.

        Examples
        --------
        >>> import annstore as ad
        >>> with ad.settings.override(remove_unused_categories=False):
        ...     ad.settings.remove_unused_categories
        False
        """
        for k in overrides:
            if k not in _BY_NAME:
                raise _unknown(k)
        old = {k: self.__dict__[k] for k in overrides}
        old_explicit = set(self._explicit)
        try:
            for k, v in overrides.items():
                setattr(self, k, v)
            yield
        finally:
            for k, v in reversed(old.items()):
                self.__dict__[k] = v
                if k not in old_explicit:
                    self._explicit.discard(k)

    def __repr__(self) -> str:
        return "\n".join(f"{o.name}={self.__dict__[o.name]!r}  # {o.doc}" for o in _OPTIONS)


settings = Settings()

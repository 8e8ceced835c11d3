"""Parsing references from short strings (``"obsm.pca.0"``) and JSON lists (``["obsm", "pca", 0]``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._refs import AdRef, GraphAcc, GraphMapAcc, LayerAcc, LayerMapAcc, MetaAcc, MultiAcc, MultiMapAcc

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ._refs import AdAcc

__all__ = ["parse", "parse_json", "to_json"]

_FULL = slice(None)
_RE_2D = re.compile(r"([^\[]+)\[([^,]+),\s?([^\]]+)\]")
_RE_MULTI = re.compile(r"([^.]+)\.([\d_]+)")


def _check_vec(spec: object, *, vec: bool | None, actual: bool) -> None:
    """Raise if ``vec`` asks for a vector (or a container) and ``spec`` is the other kind."""
    if vec is not None and vec != actual:
        kind = "a vector/`AdRef`" if actual else "a whole container"
        msg = f"Accessor {spec!r} refers to {kind}, but {vec=} was requested"
        raise ValueError(msg)


# ---------------------------------------------------------------------------- strings


def parse(a: AdAcc[Any], spec: str, *, vec: bool | None = None) -> Any:
    """The reference or accessor that the string ``spec`` names (see :meth:`AdAcc.resolve`)."""
    if spec.startswith("X"):
        do_vec = "[" in spec
        _check_vec(spec, vec=vec, actual=do_vec)

        def get_x(name: str) -> LayerAcc[Any]:
            if name != "X":
                msg = f"Unknown accessor name {name!r}"
                raise ValueError(msg)
            return a.X

        return _parse_2d(get_x, spec) if do_vec else get_x(spec)
    if "." not in spec:
        msg = (
            f"Cannot parse accessor {spec!r} that isn’t period-separated, "
            "e.g. `obs.x` for accessing the 1d array at column `x` of `obs`."
        )
        raise ValueError(msg)
    name, rest = spec.split(".", 1)
    if name not in a.ATTRS:
        msg = f"Unknown accessor {spec!r}. We support '{{{','.join(sorted(a.ATTRS))}}}.*' and `AdRef` instances."
        raise ValueError(msg)
    acc = getattr(a, name)
    if isinstance(acc, LayerMapAcc | GraphMapAcc):
        do_vec = "[" in rest
        _check_vec(spec, vec=vec, actual=do_vec)
        return _parse_2d(acc.__getitem__, rest) if do_vec else acc[rest]
    if isinstance(acc, MetaAcc):
        _check_vec(spec, vec=vec, actual=True)
        return acc[rest]
    if isinstance(acc, MultiMapAcc):
        do_vec = "." in rest
        _check_vec(spec, vec=vec, actual=do_vec)
        if not do_vec:
            return acc[rest]
        if not (m := _RE_MULTI.fullmatch(rest)):
            msg = f"Cannot parse multi accessor {rest!r}: should be `name.i`"
            raise ValueError(msg)
        key, i = m.groups()
        return acc[key][int(i)]
    msg = f"Unhandled accessor {spec!r}. This is a bug!"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


def _parse_2d(get_acc: Callable[[str], Any], spec: str) -> Any:
    """``name[i,:]``, ``name[:,j]`` or ``name[:,:]`` as a reference of ``get_acc(name)``."""
    if not (m := _RE_2D.fullmatch(spec)):
        msg = f"Cannot parse accessor {spec!r}: should be `name[i,:]`/`name[:,j]`"
        raise ValueError(msg)
    name, i, j = m.groups()
    acc = get_acc(name)
    if i == ":" and j == ":":
        idx: tuple[Any, Any] = (_FULL, _FULL)
    elif j == ":":
        idx = (i, _FULL)
    elif i == ":":
        idx = (_FULL, j)
    else:
        msg = f"Unknown indices {i!r}, {j!r}"
        raise ValueError(msg)
    return acc[idx]


# ---------------------------------------------------------------------------- JSON


def _idx_2d_from_json(idx: Sequence[Any]) -> tuple[Any, Any] | None:
    if len(idx) != 2:
        return None
    i, j = idx
    if i is None and j is None:
        return (_FULL, _FULL)
    if i is None and isinstance(j, str):
        return (_FULL, j)
    if isinstance(i, str) and j is None:
        return (i, _FULL)
    return None


def parse_json(a: AdAcc[Any], data: Sequence[str | int | None], *, vec: bool | None = None) -> Any:
    """The reference or accessor that the JSON list ``data`` names (see :meth:`AdAcc.from_json`)."""
    parsed = _parse_json(a, data)
    _check_vec(data, vec=vec, actual=isinstance(parsed, AdRef))
    return parsed


def _parse_json(a: AdAcc[Any], data: Sequence[str | int | None]) -> Any:  # noqa: PLR0911
    if isinstance(data, str | bytes) or not hasattr(data, "__len__"):
        msg = f"Cannot parse {data!r}"
        raise ValueError(msg)
    head, *rest = data if len(data) else (None,)
    if head == "layers" and rest and (rest[0] is None or isinstance(rest[0], str)):
        acc = a.layers[rest[0]]
        if len(rest) == 1:
            return acc
        if (idx := _idx_2d_from_json(rest[1:])) is not None:
            return acc[idx]
    elif head in ("obs", "var") and len(rest) == 1 and (rest[0] is None or isinstance(rest[0], str)):
        meta = getattr(a, head)
        return meta.index if rest[0] is None else meta[rest[0]]
    elif head in ("obsm", "varm") and rest and isinstance(rest[0], str):
        acc = getattr(a, head)[rest[0]]
        if len(rest) == 1:
            return acc
        if len(rest) == 2 and isinstance(rest[1], int):
            return acc[rest[1]]
    elif head in ("obsp", "varp") and rest and isinstance(rest[0], str):
        acc = getattr(a, head)[rest[0]]
        if len(rest) == 1:
            return acc
        if (idx := _idx_2d_from_json(rest[1:])) is not None:
            return acc[idx]
    msg = f"Cannot parse {data!r}"
    raise ValueError(msg)


def _idx_2d_to_json(idx: tuple[Any, Any]) -> list[str | None]:
    return [i if isinstance(i, str) else None for i in idx]


def to_json(ref: Any) -> list[str | int | None]:
    """The JSON list of a reference or whole-container accessor (see :meth:`AdAcc.to_json`)."""
    if isinstance(ref, AdRef):
        acc = ref.acc
        if isinstance(acc, LayerAcc | GraphAcc):
            return [*to_json(acc), *_idx_2d_to_json(ref.idx)]
        if isinstance(acc, MetaAcc):
            return [acc.dim, ref.idx]
        if isinstance(acc, MultiAcc):
            return [*to_json(acc), ref.idx]
    elif isinstance(ref, LayerAcc):
        return ["layers", ref.k]
    elif isinstance(ref, MultiAcc):
        return [f"{ref.dim}m", ref.k]
    elif isinstance(ref, GraphAcc):
        return [f"{ref.dim}p", ref.k]
    msg = f"Unsupported accessor {ref!r}"
    raise TypeError(msg)

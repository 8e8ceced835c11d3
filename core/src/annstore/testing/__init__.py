"""Test helpers for annstore and its plugins: ``FormatTests``, ``gen_adata``, ``assert_adata_equal``.

``FormatTests`` needs pytest; the other helpers do not. Names are imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ELEMENT_CASES",
    "ElementCase",
    "FormatTests",
    "assert_adata_equal",
    "assert_equal",
    "gen_adata",
    "gen_frame",
]

_WHERE = {
    "ELEMENT_CASES": "._values",
    "ElementCase": "._values",
    "FormatTests": ".conformance",
    "assert_adata_equal": "._assert",
    "assert_equal": "._assert",
    "gen_adata": "._gen",
    "gen_frame": "._gen",
}


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        msg = f"module 'annstore.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    return getattr(importlib.import_module(mod, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)

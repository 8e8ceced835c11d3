"""pytest plugin (``pytest11`` entry point): markers and options of annstore's test helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("annstore")
    group.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="annstore: (re)write missing golden files instead of comparing against them.",
    )


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "requires_format(name): skip unless the annstore format plugin is installed"
    )
    config.addinivalue_line("markers", "conformance: a case of annstore.testing.FormatTests")

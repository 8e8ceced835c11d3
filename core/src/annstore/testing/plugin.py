"""pytest plugin (``pytest11`` entry point): markers and options of annstore's test helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["pytest_addoption", "pytest_configure", "pytest_runtest_setup"]


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


def pytest_runtest_setup(item: Any) -> None:
    """``@pytest.mark.requires_format("name", ...)``: skip unless every named format is installed.

    The skip reason names the format and, for a known one, the package to install.
    """
    names = [n for m in item.iter_markers(name="requires_format") for n in m.args]
    if not names:
        return
    import pytest

    from ..errors import UnknownFormatError
    from ..io._guess import require_format

    for name in names:
        try:
            require_format(name)
        except UnknownFormatError as e:  # FormatNotInstalledError too: its message has the hint
            pytest.skip(f"requires the {name!r} format: {e}")

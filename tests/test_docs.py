"""The documentation: the Sphinx site builds without warnings, and the public API is documented.

``test_docs_build`` runs ``sphinx-build -W --keep-going -b html docs <tmp>`` (every warning is an
error: a broken cross-reference, a malformed docstring section, a page left out of the toctree),
so CI, which runs this suite, builds the site. ``test_public_callables_have_parameters`` walks
the public API (the modules of :data:`PUBLIC_MODULES`: their ``__all__``, the classes among them
and those classes' own public methods) and lists every callable with parameters whose docstring
has no numpydoc ``Parameters`` section. The build also checks the CLI page against the
``annstore`` command's parser: every subcommand, option and argument is on it.
"""

from __future__ import annotations

import argparse
import enum
import html
import importlib
import inspect
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The public modules the reference documents (and this test walks).
PUBLIC_MODULES = (
    "annstore",
    "annstore.io",
    "annstore.experimental",
    "annstore.experimental.backed",
    "annstore.backed",
    "annstore.acc",
    "annstore.abc",
    "annstore.types",
    "annstore.typing",
    "annstore.utils",
    "annstore.logging",
    "annstore.testing",
    "annstore.hookspecs",
    "annstore.errors",
)

_PARAMETERS = re.compile(r"^Parameters\n-{3,}\n", re.MULTILINE)


def _ours(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "annstore"


def _public_names(module: types.ModuleType) -> list[str]:
    names = list(getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")])
    if module.__name__ == "annstore.hookspecs":  # the hook specifications are the contract
        names += [n for n in vars(module) if n.startswith("annstore_")]
    return names


def _is_test_method(cls: type, name: str) -> bool:
    # FormatTests' test_* methods are the conformance tests themselves, collected by pytest.
    return name.startswith("test_") and any(c.__name__ == "FormatTests" for c in cls.__mro__)


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods and properties ``cls`` defines or inherits from an annstore class."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _ours(klass):
            continue  # members of object, Exception, Mapping, pandas, ... are documented there
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen or _is_test_method(cls, name):
                continue
            seen.add(name)
            yield name, value


def _has_params(func: Any, *, skip_first: bool) -> bool:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters)
    if skip_first and params:
        params = params[1:]
    return bool(params)


def _class_takes_args(cls: type) -> bool:
    if getattr(cls, "_is_protocol", False) or issubclass(cls, enum.Enum):
        return False  # a Protocol is not instantiated; an Enum's members are its documentation
    for klass in cls.__mro__:
        if "__init__" in vars(klass) or "__new__" in vars(klass):
            if not _ours(klass):
                return False  # the constructor is object's, Exception's, ...: documented there
            break
    return _has_params(cls, skip_first=False)


def public_callables() -> Iterator[tuple[str, Any, bool]]:
    """Yield ``(qualified name, object, takes parameters)`` for every public annstore callable."""
    done: set[int] = set()
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        for name in _public_names(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or id(obj) in done:
                continue
            if not inspect.isclass(obj) and not inspect.isfunction(obj):
                obj = type(obj)  # an instance (``settings``, ``acc.A``): document its class
            if not _ours(obj) or id(obj) in done:
                continue  # pluggy's markers, a logging.Logger, typing aliases
            done.add(id(obj))
            qual = f"{modname}.{name}"
            if inspect.isfunction(obj):
                yield qual, obj, _has_params(obj, skip_first=False)
                continue
            yield qual, obj, _class_takes_args(obj)
            for mname, member in _members(obj):
                if isinstance(member, property):
                    continue  # no parameters; the setter is documented by the getter
                static = isinstance(member, staticmethod)
                func = getattr(member, "__func__", member)
                if inspect.isclass(func) or not callable(func) or id(func) in done:
                    continue
                done.add(id(func))
                yield f"{qual}.{mname}", func, _has_params(func, skip_first=not static)


def _lacks_parameters(obj: Any) -> bool:
    # inspect.getdoc: an override without a docstring shows (and is documented by) its parent's
    return not _PARAMETERS.search(inspect.getdoc(obj) or "")


def test_public_callables_have_parameters() -> None:
    found = list(public_callables())
    assert len(found) > 150, "the walk found too little: has the public API moved?"
    missing = [qual for qual, obj, takes in found if takes and _lacks_parameters(obj)]
    assert not missing, (
        f"{len(missing)} of {sum(t for *_, t in found)} public callables with parameters have no "
        "numpydoc 'Parameters' section:\n  " + "\n  ".join(missing)
    )


def test_public_callables_have_docstrings() -> None:
    undocumented = [qual for qual, obj, _ in public_callables() if not (inspect.getdoc(obj) or "").strip()]
    assert not undocumented, "public callables without a docstring:\n  " + "\n  ".join(undocumented)


def test_docstring_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Examples sections are doctests: those not marked ``+SKIP`` (they need a file) must
    # print what they show.
    import doctest

    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    ran = 0
    for qual, obj, _ in public_callables():
        for test in finder.find(obj, qual):  # in the globals of its module, as python -m doctest
            ran += len(test.examples)
            runner.run(test, out=lambda _: None)
    assert ran > 10, "no Examples sections found"
    assert runner.failures == 0, f"{runner.failures} docstring examples fail; run python -m doctest on them"


#: The API page (docs/api/<page>.rst) that lists each public module's names.
_PAGE_OF = {
    "annstore": "annstore", "annstore.io": "io", "annstore.experimental": "experimental",
    "annstore.experimental.backed": "experimental", "annstore.backed": "abc", "annstore.acc": "acc",
    "annstore.abc": "abc", "annstore.types": "types", "annstore.typing": "types",
    "annstore.utils": "utils", "annstore.logging": "utils", "annstore.testing": "testing",
    "annstore.errors": "errors",
}


def test_reference_lists_every_public_name() -> None:
    # A name added to a module's __all__ must be added to its API page as well (the hook
    # reference is generated from the whole hookspecs module, so it cannot miss one).
    assert set(_PAGE_OF) | {"annstore.hookspecs"} == set(PUBLIC_MODULES)
    missing = []
    for modname, page in _PAGE_OF.items():
        text = (DOCS / "api" / f"{page}.rst").read_text()
        module = importlib.import_module(modname)
        for name in module.__all__:
            if isinstance(getattr(module, name), types.ModuleType):
                continue  # a submodule has its own page
            listed = re.search(rf"^   {re.escape(name)}$", text, re.MULTILINE)  # an autosummary entry
            linked = re.search(rf":\w+:`[~.\w]*\b{re.escape(name)}`", text)  # or a cross-reference
            if not (listed or linked):
                missing.append(f"{modname}.{name} (docs/api/{page}.rst)")
    assert not missing, "public names missing from the API reference:\n  " + "\n  ".join(missing)


def test_walk_sees_a_missing_section() -> None:
    # The check above must be able to fail: a function with parameters and a one-line docstring.
    def f(x: int) -> int:
        """One line."""
        return x

    def g(x: int) -> int:
        """One line.

        Parameters
        ----------
        x
            A number.
        """
        return x

    assert _lacks_parameters(f)
    assert not _lacks_parameters(g)


# ------------------------------------------------------------------------------ the site


def _build(tmp_path: Path) -> Path:
    """Build the HTML site with warnings as errors; return its folder.

    The sources are copied first (with the README, which ``differences.md`` includes), so the
    pages autosummary generates land in ``tmp_path``, not in the checkout.
    """
    src = tmp_path / "src"
    shutil.copytree(DOCS, src / "docs", ignore=shutil.ignore_patterns("_build", "generated"))
    shutil.copy(ROOT / "README.md", src / "README.md")
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(src / "docs"), str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, (
        "sphinx-build -W failed (docs requirements: pip install -r requirements-docs.txt):\n"
        f"{proc.stdout}\n{proc.stderr}"
    )
    return out


def test_docs_build(tmp_path: Path) -> None:
    # One build for every check below (a build is the slow part; under xdist a module-scoped
    # fixture would build once per worker).
    site = _build(tmp_path)
    for page in ("index.html", "api/index.html", "plugins.html", "guarantees.html", "cli.html",
                 "differences.html", "api/hooks.html", "api/settings.html"):
        assert (site / page).is_file(), f"{page} was not built"
    reference = _text(site / "api/generated/annstore.read_h5ad.html")
    assert "Parameters" in reference and "backed" in reference
    assert "Differences from anndata" in _text(site / "differences.html")
    assert "annstore_open_store" in _text(site / "api/hooks.html")
    missing = _cli_page_misses(_text(site / "cli.html"))
    assert not missing, "docs/cli.md does not show:\n  " + "\n  ".join(missing)


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def _parser_options() -> dict[str, set[str]]:
    from annstore.cli import build_parser

    parser = build_parser()
    out: dict[str, set[str]] = {"annstore": {s for a in parser._actions for s in a.option_strings}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[name] = {s for a in sub._actions for s in a.option_strings}
                # positionals as argparse shows them: the metavar, else the dest as is
                out[name] |= {a.metavar or a.dest for a in sub._actions if not a.option_strings}
    return out


def _cli_page_misses(text: str) -> list[str]:
    """Each subcommand's usage, and every option and argument of it, must be on the CLI page."""
    missing = []
    for command, options in _parser_options().items():
        if command != "annstore":
            match = re.search(rf"usage: annstore {command}\b(.*?)exit status:", text, re.DOTALL)
            if match is None:
                missing.append(f"the help of `annstore {command}`")
                continue
            body = match.group(1)
        else:
            body = text
        missing += [f"{command}: {opt}" for opt in sorted(options) if opt not in body]
    return missing


def test_cli_page_check_sees_a_missing_option() -> None:
    # The CLI check above must be able to fail: a page missing one option of `convert`.
    page = "usage: annstore convert SRC DST --format --src-format exit status:"
    assert "convert: --drop" in _cli_page_misses(page)

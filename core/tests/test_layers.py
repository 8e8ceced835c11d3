"""Core's layers import one way (ARCHITECTURE.md, "Layers inside core").

Every module of ``annstore`` is parsed (not imported) and each import it contains is checked
against the layer table below: at module level, inside functions and under ``TYPE_CHECKING``
alike (a lazy import is still a dependency), plus ``importlib.import_module`` calls with a
literal module name.

Layers, lowest first; a module may import its own layer and any layer below it:

========  ==============================================================================
rank      layer: modules
========  ==============================================================================
0         model: ``_anndata _aligned _views _index _raw _merge _concat _model_frames
          _xarray _extensions _backing acc utils types typing abc errors _settings _limits
          logging``
1         hookspecs: ``hookspecs`` (the plugin contract; io implements and calls it)
2         io: ``io`` and everything under it
3         backed: ``backed``
4         experimental: ``experimental``
5         facade: ``annstore/__init__``, ``_alias``, ``_wiring``, ``testing`` (they re-export
          or exercise every layer; ``_wiring`` connects the layers' registration points)
6         cli: ``cli`` (the ``annstore`` command; it uses the facade and ``annstore.testing``)
========  ==============================================================================

Two documented exceptions, both from ARCHITECTURE.md:

* The model may use the **public facade** ``annstore.io``, inside a function only (``from .io
  import write_h5ad``; ``from . import io``): ``AnnData.write_*``, ``copy(filename)`` and
  ``unwriteable`` reach io that way. A private name of it, any submodule of io, or a
  module-level import is still forbidden.
* ``hookspecs`` may name io's types in annotations (an import under ``if TYPE_CHECKING:``):
  the contract documents the :class:`~annstore.io.Registry` and :class:`~annstore.FormatInfo`
  its hooks receive and return, and imports nothing of io when it runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import annstore

PACKAGE = "annstore"
ROOT = Path(annstore.__file__).parent

RANKS = {"model": 0, "hookspecs": 1, "io": 2, "backed": 3, "experimental": 4, "facade": 5, "cli": 6}

#: First component under ``annstore`` -> layer. Anything not listed is an error (a new
#: module must be given a layer here).
LAYERS = {
    **dict.fromkeys(
        ["_anndata", "_aligned", "_views", "_index", "_raw", "_merge", "_concat", "_model_frames",
         "_xarray", "_extensions", "_backing", "acc", "utils", "types", "typing", "abc", "errors",
         "_settings", "_limits", "logging"],
        "model",
    ),
    "hookspecs": "hookspecs",
    "io": "io",
    "backed": "backed",
    "experimental": "experimental",
    **dict.fromkeys(["", "_alias", "_wiring", "testing"], "facade"),
    "cli": "cli",
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside ``annstore``."""
    parts = module.split(".")
    assert parts[0] == PACKAGE, module
    head = parts[1] if len(parts) > 1 else ""
    if head not in LAYERS:
        msg = f"{module} has no layer: add {head!r} to LAYERS in {__file__}"
        raise AssertionError(msg)
    return LAYERS[head]


@dataclass(frozen=True)
class Import:
    """One import found in a module: where, what, and how."""

    module: str
    line: int
    target: str  # the module imported (a submodule when ``from pkg import submodule``)
    names: tuple[str, ...]  # names taken from ``target`` by ``from target import ...``
    in_function: bool
    type_checking: bool


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _is_module(dotted: str, root: Path) -> bool:
    rel = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _absolute(module: str, is_pkg: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Finder(ast.NodeVisitor):
    def __init__(self, module: str, is_pkg: bool, root: Path) -> None:
        self.module, self.is_pkg, self.root = module, is_pkg, root
        self.depth = 0
        self.tc = 0
        self.found: list[Import] = []

    def _add(self, node: ast.AST, target: str, names: tuple[str, ...] = ()) -> None:
        if target == PACKAGE or target.startswith(PACKAGE + "."):
            self.found.append(Import(self.module, node.lineno, target, names, self.depth > 0, self.tc > 0))  # type: ignore[attr-defined]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.tc += 1
            for n in node.body:
                self.visit(n)
            self.tc -= 1
            for n in node.orelse:
                self.visit(n)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _absolute(self.module, self.is_pkg, node.level, node.module)
        plain = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if alias.name != "*" and _is_module(sub, self.root):
                self._add(node, sub)  # ``from . import io``: the submodule itself
            else:
                plain.append(alias.name)
        if plain:
            self._add(node, base, tuple(plain))

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            target = str(node.args[0].value)
            if target.startswith("."):
                level = len(target) - len(target.lstrip("."))
                # relative to the calling package: ``import_module(".x", __name__)`` in a package
                target = _absolute(self.module, self.is_pkg, level, target.lstrip(".") or None)
            self._add(node, target)
        self.generic_visit(node)


def find_imports(source: str, module: str, *, is_package: bool = False, root: Path = ROOT) -> list[Import]:
    """Every ``annstore`` import in ``source`` (the text of ``module``)."""
    finder = _Finder(module, is_package, root)
    finder.visit(ast.parse(source))
    return finder.found


def violation(imp: Import) -> str | None:
    """Why ``imp`` breaks the layer rule, or ``None`` when it is allowed."""
    src, dst = layer_of(imp.module), layer_of(imp.target)
    if RANKS[dst] <= RANKS[src]:
        return None
    if src == "model" and imp.target == f"{PACKAGE}.io":
        private = [n for n in imp.names if n.startswith("_")]
        if imp.in_function and not private:
            return None  # the public io facade, used lazily (AnnData.write_* and friends)
        why = f"private names {private}" if private else "a module-level import"
        return f"model may use only the public annstore.io facade inside a function, not {why}"
    if src == "hookspecs" and dst == "io" and imp.type_checking:
        return None  # annotations of the contract name io's types
    how = "under TYPE_CHECKING" if imp.type_checking else "inside a function" if imp.in_function else "at module level"
    return f"{src} imports {dst} ({how}); {src} may import only {_below(src)}"


def _below(layer: str) -> str:
    return ", ".join(n for n, r in sorted(RANKS.items(), key=lambda kv: kv[1]) if r <= RANKS[layer])


def core_modules(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def all_imports(root: Path = ROOT) -> list[Import]:
    out: list[Import] = []
    for path in core_modules(root):
        out += find_imports(path.read_text(encoding="utf-8"), _module_name(path, root),
                            is_package=_is_package(path), root=root)
    return out


def violations(imports: list[Import]) -> list[str]:
    out = []
    for imp in imports:
        why = violation(imp)
        if why is not None:
            out.append(f"{imp.module}:{imp.line} imports {imp.target}: {why}")
    return out


# ---------------------------------------------------------------------------------- tests


def test_every_module_has_a_layer() -> None:
    modules = [_module_name(p, ROOT) for p in core_modules()]
    assert len(modules) > 50  # the walk found core, not an empty directory
    for m in modules:
        layer_of(m)  # raises naming the module when it has none


def test_no_forbidden_import_in_core() -> None:
    imports = all_imports()
    # the scan sees imports of every kind (guards against a finder that finds nothing)
    assert any(i.in_function for i in imports)
    assert any(i.type_checking for i in imports)
    assert any(not i.in_function and not i.type_checking for i in imports)
    bad = violations(imports)
    assert not bad, "imports against the layer order (ARCHITECTURE.md):\n" + "\n".join(bad)


def test_model_reaches_io_only_through_the_facade() -> None:
    """No model module names an io submodule or a backed module, in any form."""
    for imp in all_imports():
        if layer_of(imp.module) == "model":
            assert not re.match(rf"{PACKAGE}\.(io\.|backed)", imp.target), imp


# -------------------------------------------------- the checker itself fails where it must


def _check(source: str, module: str, *, is_package: bool = False) -> list[str]:
    return violations(find_imports(source, module, is_package=is_package))


@pytest.mark.parametrize(
    ("module", "source"),
    [
        # the edges that existed before the layers were made one-way
        ("annstore._anndata", "def f():\n    from .backed import _init_backed\n"),
        ("annstore._anndata", "def f():\n    from .io._api import _strings_to_categoricals, write\n"),
        ("annstore._index", "def f():\n    from .backed import _backed_subset\n"),
        ("annstore.abc", "from .backed import CSCDataset, CSRDataset\n"),
        ("annstore.io._api", "def f():\n    from ..backed import read_backed\n"),
        ("annstore.io._builtin", "def f():\n    from ..backed._encodings import register\n"),
        ("annstore.io", "def __getattr__(name):\n    from ..backed import sparse_dataset\n"),
        ("annstore.utils", "def f():\n    import annstore\n"),
        # other forms
        ("annstore._views", "import annstore.backed\n"),
        ("annstore._anndata", "from .io import write_h5ad\n"),  # facade, but at module level
        ("annstore._anndata", "def f():\n    from .io import _strings_to_categoricals\n"),
        ("annstore._anndata", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .backed import CSRDataset\n"),
        ("annstore._aligned", "def f():\n    import importlib\n    importlib.import_module('annstore.backed')\n"),
        ("annstore.backed._file", "def f():\n    from ..experimental import AnnCollection\n"),
        ("annstore.io._dispatch", "from .. import cli\n"),
        ("annstore.hookspecs", "def f():\n    from .io._registry import Registry\n"),
        ("annstore.experimental._collection", "def f():\n    from .. import testing\n"),
    ],
)
def test_checker_rejects_forbidden_import(module: str, source: str) -> None:
    bad = _check(source, module, is_package=module == "annstore.io")
    assert len(bad) == 1, bad
    assert bad[0].startswith(f"{module}:")


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("annstore._anndata", "def f():\n    from .io import read_h5ad, write_h5ad\n"),
        ("annstore._anndata", "def f():\n    from . import io\n"),
        ("annstore._anndata", "from ._backing import provider\n"),
        ("annstore.backed._file", "from .._anndata import AnnData\nfrom ..io._dispatch import ReadContext\n"),
        ("annstore.io._plugins", "from .. import hookspecs\n"),
        ("annstore.hookspecs", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .io._registry import Registry\n"),
        ("annstore.cli", "import annstore\nfrom .testing import assert_adata_equal\n"),
        ("annstore", "def f():\n    from .backed import _plugin\n"),
    ],
)
def test_checker_accepts_allowed_import(module: str, source: str) -> None:
    assert _check(source, module, is_package=module == "annstore") == []


def test_checker_finds_imports_on_a_synthetic_tree(tmp_path: Path) -> None:
    """A whole (tiny) package with one bad import in a function: the scan of files catches it."""
    (tmp_path / "io").mkdir()
    (tmp_path / "__init__.py").write_text("from . import io\n")
    (tmp_path / "io" / "__init__.py").write_text("from .._anndata import AnnData\n")
    (tmp_path / "_anndata.py").write_text("class AnnData:\n    def write(self):\n        from .io import _api\n")
    (tmp_path / "io" / "_api.py").write_text("")
    bad = violations(all_imports(tmp_path))
    assert bad == [
        "annstore._anndata:3 imports annstore.io._api: model imports io (inside a function); "
        "model may import only model"
    ]


# ------------------------------------------------- the registration points that replace the edges


class _FakeBacking:
    """A stand-in for the backed layer: records what the model asks of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def init_backed(self, adata: object, filename: object, filemode: object) -> None:
        self.calls.append(("init_backed", (filename, filemode)))

    def set_filename(self, adata: object, filename: object) -> None:
        self.calls.append(("set_filename", filename))

    def backed_X(self, adata: object) -> str:
        self.calls.append(("backed_X", adata))
        return "X on disk"

    def backed_raw_X(self, adata: object) -> None:
        self.calls.append(("backed_raw_X", adata))

    def subset(self, x: object, idx: object) -> str:
        self.calls.append(("subset", idx))
        return "selection"


def test_model_calls_backed_storage_only_through_its_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever provider is registered in the model's slot is what AnnData uses."""
    import numpy as np

    from annstore import _backing

    fake = _FakeBacking()
    monkeypatch.setattr(_backing, "_provider", fake)
    a = annstore.AnnData(np.ones((3, 2)), filename="somewhere.h5ad", filemode="r")
    assert fake.calls == [("init_backed", ("somewhere.h5ad", "r"))]
    a.filename = "elsewhere.h5ad"
    assert fake.calls[-1] == ("set_filename", Path("elsewhere.h5ad"))
    assert a._backed_X() == "X on disk"
    assert fake.calls[-1] == ("backed_X", a)
    assert a._backed_subset(object(), (slice(0, 1),)) == "selection"


def test_backing_provider_is_loaded_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing registered, the loader set by the facade is called; without one, a clear error."""
    from annstore import _backing
    from annstore.backed._file import FILE_BACKING

    monkeypatch.setattr(_backing, "_provider", None)
    loaded = []
    monkeypatch.setattr(_backing, "_loader", lambda: (loaded.append(1), _backing.register_provider(FILE_BACKING)))
    assert _backing.provider() is FILE_BACKING
    assert _backing.provider() is FILE_BACKING
    assert loaded == [1]  # loaded once, then kept
    monkeypatch.setattr(_backing, "_provider", None)
    monkeypatch.setattr(_backing, "_loader", None)
    with pytest.raises(annstore.errors.CapabilityError, match="no loader is set"):
        _backing.provider()


def test_backed_layer_registers_itself_below() -> None:
    """Importing annstore.backed fills the registration points of model and io."""
    import annstore.abc
    import annstore.backed
    import annstore.io
    from annstore import _backing
    from annstore.backed._file import FILE_BACKING

    assert _backing.provider() is FILE_BACKING
    assert annstore.io.sparse_dataset is annstore.backed.sparse_dataset
    with pytest.warns(FutureWarning, match="anndata.io.sparse_dataset"):
        assert annstore.experimental.sparse_dataset is annstore.backed.sparse_dataset
    assert issubclass(annstore.backed.CSRDataset, annstore.abc.CSRDataset)
    assert issubclass(annstore.backed.CSCDataset, annstore.abc.CSCDataset)
    assert not issubclass(annstore.backed.CSRDataset, annstore.abc.CSCDataset)


def test_backed_hooks_are_a_core_plugin_without_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backed layer's writers come through the plugin manager, entry points disabled."""
    from annstore.backed import CSRDataset
    from annstore.io import _plugins

    monkeypatch.setenv(_plugins.DISABLE_ENV, "1")
    _plugins.refresh_formats()
    try:
        pm = _plugins.get_plugin_manager()
        assert pm.get_plugin("annstore.backed") is not None
        assert any(t is CSRDataset for (t, _, _) in pm.registry.writers)
    finally:
        monkeypatch.delenv(_plugins.DISABLE_ENV)
        _plugins.refresh_formats()


def test_backed_read_dispatches_through_the_hook() -> None:
    """``read(..., backed=)`` asks ``annstore_read_backed``; io holds no reference to backed."""
    import numpy as np

    from annstore.hookspecs import hookimpl
    from annstore.io import _plugins

    annstore.write(annstore.AnnData(np.ones((2, 2))), "memory://layers-hook")
    asked = []

    class Claim:
        @hookimpl
        def annstore_read_backed(self, path: object, format: str, mode: str) -> str:
            asked.append((path, format, mode))
            return "answered by a plugin"

    pm = _plugins.get_plugin_manager()
    plugin = Claim()
    pm.register(plugin, name="test-claim")
    try:
        assert annstore.read("memory://layers-hook", backed="r") == "answered by a plugin"
        assert asked == [("memory://layers-hook", "memory", "r")]
    finally:
        pm.unregister(plugin)
    b = annstore.read("memory://layers-hook", backed="r")  # the backed layer's own answer
    assert b.isbacked
    assert np.asarray(b.X[:]).shape == (2, 2)

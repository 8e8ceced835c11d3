"""``annstore.install_as_anndata()``: make ``import anndata`` resolve to annstore.

The idiom of ``pymysql.install_as_MySQLdb()``: an opt-in call, made once before anything imports
anndata, after which ``import anndata``, ``import anndata.io``, ``from anndata.experimental
import AnnCollection`` and every other public anndata module give annstore's objects, so that
scanpy and other anndata clients run on annstore unchanged.

How it works: a finder placed first on :data:`sys.meta_path` answers for the ``anndata``
package and its submodules. ``anndata`` itself is a thin module that forwards every attribute
to :mod:`annstore` (``anndata.AnnData is annstore.AnnData``); ``anndata.<name>`` is the module
``annstore.<name>``. ``anndata.__version__`` reports the anndata release whose API annstore
implements (:data:`ANNDATA_API_VERSION`), because clients compare it to choose code paths.

Private anndata modules (``anndata._core...``) are not part of the contract: they are not
found, except for the few names well-known clients import at module level
(:data:`CLIENT_PRIVATE_NAMES`), which map to annstore's equivalents.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

__all__ = ["ANNDATA_API_VERSION", "CLIENT_PRIVATE_NAMES", "install_as_anndata", "uninstall_as_anndata"]

ANNDATA_API_VERSION = "0.13.4"
"""The anndata release whose public API annstore implements."""

#: Private anndata modules that widely used clients import at module level (scanpy imports
#: ``anndata._core.sparse_dataset.BaseCompressedSparseDataset`` and
#: ``anndata._core.views.ArrayView``), with the annstore objects they resolve to.
CLIENT_PRIVATE_NAMES: dict[str, dict[str, str]] = {
    "anndata._core": {},
    "anndata._core.sparse_dataset": {
        "BaseCompressedSparseDataset": "annstore.backed:BaseCompressedSparseDataset",
        "CSRDataset": "annstore.backed:CSRDataset",
        "CSCDataset": "annstore.backed:CSCDataset",
        "sparse_dataset": "annstore.backed:sparse_dataset",
    },
    "anndata._core.views": {
        "ArrayView": "annstore._views:ArrayView",
        "DataFrameView": "annstore._views:DataFrameView",
        "DictView": "annstore._views:DictView",
    },
    "anndata._core.anndata": {"AnnData": "annstore:AnnData"},
    "anndata._core.raw": {"Raw": "annstore:Raw"},
}

# anndata's public submodules that live under another name in annstore.
_RENAMED = {"anndata.tests": None}


def _resolve(target: str) -> Any:
    mod, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod), attr)


class _AnndataModule(types.ModuleType):
    """The module object ``anndata``: forwards attributes to ``annstore``."""

    def __getattr__(self, name: str) -> Any:
        import annstore

        if name == "__version__":
            return ANNDATA_API_VERSION
        return getattr(annstore, name)

    def __dir__(self) -> list[str]:
        import annstore

        return sorted(set(dir(annstore)) | set(self.__dict__))


class _ClientPrivateModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        table = CLIENT_PRIVATE_NAMES.get(self.__name__, {})
        if name in table:
            value = _resolve(table[name])
            setattr(self, name, value)
            return value
        msg = (
            f"module {self.__name__!r} has no attribute {name!r}: annstore provides only "
            f"anndata's public API under install_as_anndata() (and, for known clients, "
            f"{sorted(table) or 'nothing'} from this private module)"
        )
        raise AttributeError(msg)


class _Loader(importlib.abc.Loader):
    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        self._spec = getattr(self._module, "__spec__", None)
        return self._module

    def exec_module(self, module: types.ModuleType) -> None:
        # importlib set ``__spec__`` to the alias's spec; an annstore module keeps its own.
        if self._spec is not None:
            module.__spec__ = self._spec


class AnndataFinder(importlib.abc.MetaPathFinder):
    """Finds ``anndata`` and ``anndata.*`` in annstore (see the module docstring)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "anndata" and not fullname.startswith("anndata."):
            return None
        module = self._module_for(fullname)
        if module is None:
            return None
        is_pkg = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, _Loader(module), is_package=is_pkg)
        return spec

    def _module_for(self, fullname: str) -> types.ModuleType | None:
        if fullname == "anndata":
            mod = _AnndataModule("anndata", "anndata: annstore under install_as_anndata()")
            mod.__path__ = []  # a package, so that submodules are looked up here
            mod.__annstore__ = True
            return mod
        if fullname in CLIENT_PRIVATE_NAMES:
            mod = _ClientPrivateModule(fullname)
            mod.__path__ = []
            return mod
        rest = fullname[len("anndata."):]
        if any(part.startswith("_") for part in rest.split(".")) or fullname in _RENAMED:
            return None
        try:
            return importlib.import_module(f"annstore.{rest}")
        except ModuleNotFoundError as e:
            if e.name is not None and (e.name == f"annstore.{rest}" or f"annstore.{rest}".startswith(e.name + ".")):
                return None
            raise


_FINDER: AnndataFinder | None = None


def install_as_anndata() -> None:
    """Make ``import anndata`` and its public submodules resolve to annstore.

    Call it once, before anything imports anndata (for instance at the top of a script, or
    in ``sitecustomize``). Afterwards ``import anndata``, ``import scanpy`` and any other
    anndata client use annstore's ``AnnData``, readers, writers and experimental API.

    Raises
    ------
    RuntimeError
        If the real anndata package was already imported in this process (objects of both
        libraries would then mix).

    Examples
    --------
    >>> import annstore
    >>> annstore.install_as_anndata()
    >>> import anndata
    >>> anndata.AnnData is annstore.AnnData
    True
    """
    global _FINDER
    existing = sys.modules.get("anndata")
    if existing is not None and not getattr(existing, "__annstore__", False):
        msg = (
            "install_as_anndata() must run before anndata is imported: the real anndata "
            f"package is already loaded from {getattr(existing, '__file__', '?')!r}."
        )
        raise RuntimeError(msg)
    if _FINDER is None:
        _FINDER = AnndataFinder()
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall_as_anndata() -> None:
    """Undo :func:`install_as_anndata` (the alias modules are removed from ``sys.modules``)."""
    global _FINDER
    if _FINDER is not None and _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == "anndata" or n.startswith("anndata.")]:
        mod = sys.modules[name]
        if name == "anndata" and not getattr(mod, "__annstore__", False):
            continue
        del sys.modules[name]

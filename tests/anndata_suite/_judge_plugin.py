"""pytest plugin for the annstore side of the anndata-suite judge (loaded with ``-p``).

It is copied next to anndata's downloaded tests by ``run.py``; nothing of anndata's is
committed. It does three things, each listed in the report:

1. ``annstore.install_as_anndata()``: ``import anndata`` and its public modules are annstore.
2. anndata's *private* modules (``anndata._*``, ``anndata.compat``) become placeholder
   modules. A name imported from one is a placeholder that raises :class:`PrivateAPIUsed` when
   it is used, so a test that needs anndata's private code is counted apart instead of failing
   or being dropped. Two kinds of names resolve to real objects instead:
   the few private names that ``install_as_anndata()`` supports for known clients
   (``annstore._alias.CLIENT_PRIVATE_NAMES``), and the names of ``anndata.compat`` that are
   only aliases of third-party types (``THIRD_PARTY_ALIASES`` below).
3. ``anndata.tests.helpers`` is anndata's own helpers file with its private imports rewritten
   (``run.py`` does the rewrite and lists each line it changed).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Any, Literal

import annstore

if hasattr(annstore, "install_as_anndata"):
    from annstore._alias import CLIENT_PRIVATE_NAMES

    annstore.install_as_anndata()
else:
    # measuring an annstore from before install_as_anndata() existed: the same alias, from a
    # copy of today's _alias.py placed beside this plugin by the "before" run
    import annstore_alias_backport as _backport

    CLIENT_PRIVATE_NAMES = _backport.CLIENT_PRIVATE_NAMES
    _backport.install_as_anndata()


#: node id of the running test, and the tests that touched a private anndata module while running
_CURRENT: list[str] = []
_TOUCHED: dict[str, str] = {}


def _touch(what: str) -> None:
    if _CURRENT:
        _TOUCHED.setdefault(_CURRENT[-1], what)


class PrivateAPIUsed(Exception):  # noqa: N818 - the report searches for this name
    """A test used a private anndata name that annstore does not provide."""


def _third_party_aliases() -> dict[str, Any]:
    from scipy import sparse

    out: dict[str, Any] = {
        "CSMatrix": sparse.csr_matrix | sparse.csc_matrix,
        "CSArray": sparse.csr_array | sparse.csc_array,
    }
    try:
        from dask.array import Array

        out["DaskArray"] = Array
    except ImportError:
        out["DaskArray"] = type("Array", (), {"__module__": "dask.array"})
    try:
        import xarray

        out.update(XDataArray=xarray.DataArray, XDataset=xarray.Dataset, XVariable=xarray.Variable)
    except ImportError:
        pass
    try:
        import awkward

        out["AwkArray"] = awkward.Array
        out["awkward"] = awkward
    except ImportError:
        pass
    # cupy is not installed here: anndata uses stand-in types of the same names
    for name, mod in [("CupyArray", "cupy"), ("CupySparseMatrix", "cupyx.scipy.sparse"),
                      ("CupyCSRMatrix", "cupyx.scipy.sparse"), ("CupyCSCMatrix", "cupyx.scipy.sparse")]:
        out[name] = type(name, (), {"__module__": mod})
    out["CupyCSMatrix"] = out["CupyCSCMatrix"] | out["CupyCSRMatrix"]

    def has_xp_base(x: Any) -> bool:
        from annstore.types import SupportsArrayApiBase

        return isinstance(x, SupportsArrayApiBase)

    out["has_xp_base"] = has_xp_base
    return out


THIRD_PARTY_ALIASES = _third_party_aliases()

#: Private paths of *public* objects: in anndata 0.13.4 each is the very object a public name
#: gives (``anndata._core.xarray.Dataset2D is anndata.experimental.backed.Dataset2D``), so a test
#: importing it from the private path tests public API; it resolves to annstore's public object.
PUBLIC_ALIASES: dict[str, dict[str, str]] = {
    "anndata._warnings": {w: f"anndata:{w}" for w in (
        "ImplicitModificationWarning", "OldFormatWarning", "ExperimentalFeatureWarning", "WriteWarning")},
    "anndata._core.xarray": {"Dataset2D": "anndata.experimental.backed:Dataset2D"},
    "anndata._settings": {"settings": "anndata:settings"},
    "anndata._io.specs": {"IOSpec": "anndata.experimental:IOSpec"},
    "anndata._io.specs.registry": {"read_elem_lazy": "anndata.experimental:read_elem_lazy"},
    "anndata.experimental.backed._io": {"read_lazy": "anndata.experimental:read_lazy"},
}

_ELEMS = ("obs", "var", "obsm", "varm", "obsp", "varp", "layers", "X", "raw", "uns")

#: Private names that only enumerate *public* option values; anndata's tests build fixture
#: parameters from them at import time, which would otherwise count whole files as private.
#: Each resolves to the documented values (the report lists them).
ENUMERATIONS: dict[str, dict[str, Any]] = {
    # the values of concat(merge=...): None and the four documented strategies
    "anndata._core.merge": {"MERGE_STRATEGIES": dict.fromkeys([None, "same", "unique", "first", "only"])},
    # the names of an AnnData's elements
    "anndata.experimental.backed._io": {"ANNDATA_ELEMS": _ELEMS},
    "anndata._types": {"AnnDataElem": Literal[_ELEMS]},
}


class _PlaceholderMeta(type):
    def _fail(cls, *args: Any, **kwargs: Any) -> Any:
        msg = f"PrivateAPIUsed: {cls.__qualname__} (anndata private API; not provided by annstore)"
        raise PrivateAPIUsed(msg)

    __call__ = _fail
    __instancecheck__ = _fail  # type: ignore[assignment]
    __subclasscheck__ = _fail  # type: ignore[assignment]
    __iter__ = _fail
    __getitem__ = _fail
    __len__ = _fail
    __enter__ = _fail

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        cls._fail()

    def __or__(cls, other: Any) -> Any:
        return cls

    __ror__ = __or__


def _placeholder(qualname: str) -> type:
    return _PlaceholderMeta(qualname, (), {"__qualname__": qualname, "__module__": qualname.rpartition(".")[0]})


class _PrivateModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        table = CLIENT_PRIVATE_NAMES.get(self.__name__, {})
        if not (name in table or name in PUBLIC_ALIASES.get(self.__name__, {})
                or name in ENUMERATIONS.get(self.__name__, {})
                or (self.__name__ == "anndata.compat" and name in THIRD_PARTY_ALIASES)):
            _touch(f"{self.__name__}.{name}")
        sub = f"{self.__name__}.{name}"
        if sub in ENUMERATIONS or sub in CLIENT_PRIVATE_NAMES:  # ``from anndata._core import merge``
            value = importlib.import_module(sub)
        elif name in table:
            mod, _, attr = table[name].partition(":")
            value = getattr(importlib.import_module(mod), attr)
        elif self.__name__ == "anndata.compat" and name in THIRD_PARTY_ALIASES:
            value = THIRD_PARTY_ALIASES[name]
        elif name in ENUMERATIONS.get(self.__name__, {}):
            value = ENUMERATIONS[self.__name__][name]
        elif name in PUBLIC_ALIASES.get(self.__name__, {}):
            mod, _, attr = PUBLIC_ALIASES[self.__name__][name].partition(":")
            value = getattr(importlib.import_module(mod), attr)
        else:
            value = _placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _Loader(importlib.abc.Loader):
    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: Any) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


HELPERS_PATH = os.environ.get("ANNSTORE_JUDGE_HELPERS", "")


class PrivateFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in ("anndata.tests", "anndata.tests.helpers"):
            if fullname == "anndata.tests":
                mod = types.ModuleType(fullname)
                mod.__path__ = []
                return importlib.machinery.ModuleSpec(fullname, _Loader(mod), is_package=True)
            return importlib.util.spec_from_file_location(fullname, HELPERS_PATH)
        parts = fullname.split(".")
        if parts[0] != "anndata" or len(parts) < 2:
            return None
        # private: any component with a leading underscore (anndata._core.merge,
        # anndata.experimental.backed._io), and anndata.compat
        if not (any(p.startswith("_") for p in parts[1:]) or parts[1] == "compat"):
            return None
        mod = _PrivateModule(fullname)
        mod.__path__ = []
        return importlib.machinery.ModuleSpec(fullname, _Loader(mod), is_package=True)


sys.meta_path.insert(0, PrivateFinder())


import pytest  # noqa: E402


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001
    _CURRENT.append(item.nodeid)
    try:
        return (yield)
    finally:
        _CURRENT.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001
    report = yield
    what = _TOUCHED.get(item.nodeid)
    if report.failed and what is not None:
        # the test imported or used a private anndata module while it ran: it is counted apart
        report.longrepr = f"{report.longrepr}\nPrivateAPIUsed: the test touched {what}"
    return report

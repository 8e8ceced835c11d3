"""``annstore.install_as_anndata()``: ``import anndata`` resolves to annstore.

Each test runs in a fresh interpreter, because the alias changes ``sys.modules`` for the process.
(The judge in ``tests/anndata_suite/`` runs scanpy and anndata's own tests through it.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)


def check(code: str) -> str:
    r = run(code)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_anndata_is_annstore():
    out = check("""
        import annstore
        annstore.install_as_anndata()
        import anndata as ad
        assert ad.AnnData is annstore.AnnData
        assert ad.concat is annstore.concat
        assert ad.read_h5ad is annstore.read_h5ad
        assert ad.__version__ == "0.13.4", ad.__version__
        print(type(ad(**{}) if False else ad).__name__)
    """)
    assert out.strip() == "_AnndataModule"


@pytest.mark.parametrize("sub", ["io", "experimental", "utils", "logging", "abc", "typing", "types"])
def test_public_submodules_are_annstore(sub):
    check(f"""
        import annstore, importlib
        annstore.install_as_anndata()
        import anndata.{sub}
        mod = importlib.import_module("anndata.{sub}")
        assert mod is importlib.import_module("annstore.{sub}")
        # the annstore module keeps its own identity
        assert mod.__name__ == "annstore.{sub}" and mod.__spec__.name == "annstore.{sub}"
    """)


def test_from_import_forms():
    check("""
        import annstore
        annstore.install_as_anndata()
        from anndata import AnnData, concat
        from anndata.io import read_elem, write_elem
        from anndata.experimental import read_dispatched, sparse_dataset
        from anndata.utils import make_index_unique
        from anndata.logging import print_memory_usage
        from anndata.abc import CSRDataset
        import pandas as pd
        assert list(make_index_unique(pd.Index(["a", "a"]))) == ["a", "a-1"]
        assert AnnData is annstore.AnnData
    """)


def test_private_modules_not_found_except_client_names():
    check("""
        import annstore
        annstore.install_as_anndata()
        try:
            import anndata._io.specs
        except ModuleNotFoundError as e:
            assert "anndata._io" in str(e)
        else:
            raise AssertionError("private module resolved")
        # scanpy imports these at module level
        from anndata._core.sparse_dataset import BaseCompressedSparseDataset
        from anndata._core.views import ArrayView
        assert BaseCompressedSparseDataset is annstore.backed.BaseCompressedSparseDataset
        import anndata._core.sparse_dataset as sd
        try:
            sd.not_a_name
        except AttributeError as e:
            assert "public API" in str(e)
        else:
            raise AssertionError
    """)


def test_unknown_public_submodule_not_found():
    r = run("""
        import annstore
        annstore.install_as_anndata()
        import anndata.no_such_module
    """)
    assert r.returncode != 0
    assert "ModuleNotFoundError" in r.stderr and "anndata.no_such_module" in r.stderr


def test_refused_after_real_anndata_was_imported():
    r = run("""
        import sys, types
        sys.modules["anndata"] = types.ModuleType("anndata")  # stands for the real package
        import annstore
        annstore.install_as_anndata()
    """)
    assert r.returncode != 0
    assert "must run before anndata is imported" in r.stderr


def test_idempotent_and_uninstall():
    check("""
        import sys, annstore
        from annstore._alias import uninstall_as_anndata
        annstore.install_as_anndata(); annstore.install_as_anndata()
        assert sum(type(f).__name__ == "AnndataFinder" for f in sys.meta_path) == 1
        import anndata
        uninstall_as_anndata()
        assert "anndata" not in sys.modules
        try:
            import anndata
        except ModuleNotFoundError:
            pass
        else:
            assert not getattr(anndata, "__annstore__", False)
    """)


def test_pickle_of_aliased_objects_names_annstore():
    check("""
        import pickle, annstore, numpy as np
        annstore.install_as_anndata()
        import anndata as ad
        a = ad.AnnData(np.ones((2, 2)))
        s = pickle.dumps(a)
        assert b"annstore" in s and b"anndata._core" not in s
        assert pickle.loads(s).shape == (2, 2)
    """)


def test_import_annstore_does_not_alias():
    check("""
        import sys, annstore
        assert not any(type(f).__name__ == "AnndataFinder" for f in sys.meta_path)
        assert "anndata" not in sys.modules
    """)

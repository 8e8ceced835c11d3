"""The example plugin passes annstore's conformance suite unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import annstore
from annstore.testing import FormatTests


class TestNpyDirFormat(FormatTests):
    format_name = "npydir"


def test_strings_are_stored_without_pickle(tmp_path: Path):
    with annstore.io.open_store(tmp_path / "s.npydir", format="npydir", mode="w") as root:
        annstore.write_elem(root, "names", np.array(["a", "bé", "中文"], dtype=object))
    raw = np.load(tmp_path / "s.npydir" / "names.npy", allow_pickle=False)
    assert raw.dtype.kind == "U"
    with annstore.io.open_store(tmp_path / "s.npydir", format="npydir", mode="r") as root:
        out = annstore.read_elem(root["names"])
    assert out.dtype == object and list(out) == ["a", "bé", "中文"]


def test_pickled_array_is_refused(tmp_path: Path):
    with annstore.io.open_store(tmp_path / "p.npydir", format="npydir", mode="w") as root:
        annstore.write_elem(root, "x", np.arange(3))
    np.save(tmp_path / "p.npydir" / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with annstore.io.open_store(tmp_path / "p.npydir", format="npydir", mode="r") as root, \
            pytest.raises(annstore.errors.InvalidFileError, match="without pickle"):
        annstore.read_elem(root["x"])


def test_format_is_guessed_from_suffix_and_directory(tmp_path: Path):
    adata = annstore.AnnData(np.ones((3, 2), dtype=np.float32))
    annstore.write(adata, tmp_path / "a.npydir")
    assert annstore.io.guess_format(tmp_path / "a.npydir") == "npydir"
    renamed = tmp_path / "renamed"
    (tmp_path / "a.npydir").rename(renamed)
    assert annstore.io.guess_format(renamed) == "npydir"
    np.testing.assert_array_equal(annstore.read(renamed).X, adata.X)


def test_roundtrip_through_annstore_convert(tmp_path: Path):
    """The CLI converts the bundled sample h5ad -> npydir -> h5ad without loss."""
    import shutil
    import subprocess
    import sys

    from annstore.testing import assert_adata_equal

    if "h5ad" not in annstore.list_formats():
        pytest.skip("requires annstore-h5ad")
    sample = Path(annstore.__file__).parent / "data" / "sample.h5ad"
    exe = shutil.which("annstore", path=str(Path(sys.executable).parent)) or "annstore"
    npy, back = tmp_path / "s.npydir", tmp_path / "back.h5ad"
    for src, dst in ((sample, npy), (npy, back)):
        res = subprocess.run([exe, "convert", str(src), str(dst)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    assert (npy / "X" / "indptr.npy").is_file()
    res = subprocess.run([exe, "validate", str(npy)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert_adata_equal(annstore.read_h5ad(sample), annstore.read_h5ad(back))

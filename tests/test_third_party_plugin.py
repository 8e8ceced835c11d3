"""A third-party element type, known only through a fake distribution's entry point, round-trips
inside an AnnData's uns and obsm through every installed hierarchical format, with no change to core."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import annstore

FAKE = Path(__file__).parents[1] / "core" / "tests" / "fake_dists" / "good"

HIERARCHICAL = sorted(n for n, f in annstore.list_formats().items() if f.hierarchical)


@pytest.fixture
def points_plugin(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(FAKE))
    annstore.refresh_formats()
    assert "annstore_fake_points" not in sys.modules or True
    annstore.list_formats()  # triggers discovery through the entry point
    mod = sys.modules["annstore_fake_points"]
    yield mod
    monkeypatch.undo()
    sys.modules.pop("annstore_fake_points", None)
    annstore.refresh_formats()


def _target(fmt: str, tmp_path: Path) -> str | Path:
    if fmt == "memory":
        return f"memory://{tmp_path}/points"
    suffix = annstore.list_formats()[fmt].suffixes[0]
    return tmp_path / f"points{suffix}"


@pytest.mark.parametrize("fmt", HIERARCHICAL)
def test_new_element_type_roundtrips_in_uns_and_obsm(points_plugin, fmt: str, tmp_path: Path):
    Points = points_plugin.Points
    n = 5
    adata = annstore.AnnData(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    adata.obsm["spatial"] = Points(np.arange(n) * 1.5, -np.arange(n), crs="EPSG:3857")
    adata.uns["landmarks"] = Points([0.0, 1.0], [2.0, 3.0])
    adata.uns["nested"] = {"more": Points([7.0], [8.0], crs="local")}

    path = _target(fmt, tmp_path)
    annstore.write(adata, path, fmt)
    back = annstore.read(path, fmt)

    assert isinstance(back.obsm["spatial"], Points)
    assert back.obsm["spatial"] == adata.obsm["spatial"]
    assert back.uns["landmarks"] == adata.uns["landmarks"]
    assert back.uns["nested"]["more"] == adata.uns["nested"]["more"]
    with annstore.io.open_store(path, format=fmt, mode="r") as root:
        assert root["obsm/spatial"].attrs["encoding-type"] == "points"
        assert root["obsm/spatial"].attrs["encoding-version"] == "0.1.0"
        assert root["obsm/spatial"].attrs["crs"] == "EPSG:3857"


def test_without_the_plugin_the_element_is_a_clear_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(FAKE))
    annstore.refresh_formats()
    Points = sys.modules.get("annstore_fake_points") or __import__("annstore_fake_points")
    adata = annstore.AnnData(np.zeros((2, 2)))
    adata.uns["p"] = Points.Points([1.0], [2.0])
    path = f"memory://{tmp_path}/miss"
    annstore.write(adata, path, "memory")
    monkeypatch.undo()
    sys.modules.pop("annstore_fake_points", None)
    annstore.refresh_formats()
    with pytest.raises(annstore.errors.EncodingNotFoundError, match=r"'points' v0\.1\.0") as ei:
        annstore.read(path, "memory")
    assert any("/uns/p" in n for n in ei.value.__notes__)


@pytest.mark.parametrize("fmt", HIERARCHICAL)
def test_new_element_type_concatenates_after_a_roundtrip(points_plugin, fmt: str, tmp_path: Path):
    """concat reaches the plugin's annstore_concat_elems hook for its type (obsm along obs)."""
    Points = points_plugin.Points
    parts = []
    for i, n in enumerate((3, 4)):
        a = annstore.AnnData(np.full((n, 2), float(i), dtype=np.float32))
        a.obs_names = [f"p{i}-{j}" for j in range(n)]
        a.obsm["spatial"] = Points(np.arange(n) + 10.0 * i, -np.arange(n) - 10.0 * i, crs="local")
        path = _target(fmt, tmp_path / f"in{i}") if fmt != "memory" else f"memory://{tmp_path}/in{i}"
        if fmt != "memory":
            path.parent.mkdir()
        annstore.write(a, path, fmt)
        parts.append(annstore.read(path, fmt))
    out = annstore.concat(parts, label="batch")
    assert isinstance(out.obsm["spatial"], Points)
    assert out.obsm["spatial"] == Points([0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0],
                                         [0.0, -1.0, -2.0, -10.0, -11.0, -12.0, -13.0], crs="local")
    assert list(out.obs["batch"]) == ["0"] * 3 + ["1"] * 4
    sub = out[out.obs["batch"] == "1"]  # the concatenated element subsets like any other
    assert sub.obsm["spatial"] == parts[1].obsm["spatial"]
    path = _target(fmt, tmp_path) if fmt != "memory" else f"memory://{tmp_path}/out"
    annstore.write(out, path, fmt)
    assert annstore.read(path, fmt).obsm["spatial"] == out.obsm["spatial"]


def test_concat_of_an_unclaimed_type_names_it(points_plugin):
    class Blob:
        shape = (2, 1)
        dtype = np.dtype("f8")

        def __len__(self) -> int:
            return 2

        def __getitem__(self, idx):
            return self

    parts = []
    for i in range(2):
        a = annstore.AnnData(np.zeros((2, 1)))
        a.obs_names = [f"{i}-a", f"{i}-b"]
        a.obsm["b"] = Blob()
        parts.append(a)
    with pytest.raises(annstore.errors.CapabilityError, match=r"Blob.*annstore_concat_elems"):
        annstore.concat(parts)

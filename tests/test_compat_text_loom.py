"""The compat corpus for the whole-file formats: text inputs, loom files and write_csvs output.

Every text and loom file of ``MANIFEST.json`` is read with annstore the way its expected JSON
says anndata read it, summarised with :mod:`_compat`, and compared field by field. Writers are
checked by writing the corpus's rich object (read from its ``.h5ad``) and comparing: loom read
back against anndata's loom expectations, ``write_csvs`` file bytes against ``rich_csvs``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _compat  # noqa: E402
from conftest import skip_unless_format  # noqa: E402

import annstore  # noqa: E402
import annstore.io as aio  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (_compat.CORPUS / "MANIFEST.json").is_file(),
    reason=f"compat corpus not found at {_compat.CORPUS}",
)

TEXT = _compat.corpus_entries(("text",))
LOOM = _compat.corpus_entries(("loom",))
CSVS = _compat.corpus_entries(("csvs",))
LOOM_READ = {"obs_names": "obs_names", "var_names": "gene_id", "sparse": True}

#: how anndata was called on each text input (the expected JSON's ``read_call``)
TEXT_CALLS: dict[str, tuple[str, Any]] = {
    "adata.csv": ("anndata.io.read_csv(path)", lambda p: aio.read_csv(p)),
    "adata-comments.tsv": ("anndata.io.read_text(path, '\\t')", lambda p: aio.read_text(p, "\t")),
    "excel.xlsx": (
        "anndata.io.read_excel(path, 'Sheet1', dtype=int)",
        lambda p: aio.read_excel(p, "Sheet1", dtype=int),
    ),
    "umi_tools.tsv.gz": ("anndata.io.read_umi_tools(path)", lambda p: aio.read_umi_tools(p)),
}


def _assert_matches(expected: dict[str, Any], adata: Any, label: str) -> None:
    diffs = list(_compat.diff_summaries(expected, _compat.summarize_anndata(adata)))
    assert not diffs, f"{label}: {len(diffs)} differences\n" + "\n".join(diffs[:40])


def test_corpus_lists_the_whole_file_formats() -> None:
    assert len(TEXT) == 4 and len(LOOM) >= 4 and len(CSVS) >= 5


@pytest.mark.parametrize("entry", TEXT, ids=[e["path"] for e in TEXT])
def test_text_inputs(entry: dict[str, Any]) -> None:
    skip_unless_format("text")
    name = Path(entry["path"]).name
    if name.endswith(".xlsx"):
        pytest.importorskip("openpyxl")
    expected = _compat.expected_for(entry)
    call, read = TEXT_CALLS[name]
    assert expected["read_call"] == call
    _assert_matches(expected, read(_compat.CORPUS / entry["path"]), entry["path"])


@pytest.mark.parametrize("entry", LOOM, ids=[e["path"] for e in LOOM])
def test_loom_files(entry: dict[str, Any]) -> None:
    skip_unless_format("loom")
    expected = _compat.expected_for(entry)
    assert "obs_names='obs_names'" in expected["read_call"]
    adata = aio.read_loom(_compat.CORPUS / entry["path"], **LOOM_READ)
    _assert_matches(expected, adata, entry["path"])


def _rich_from_h5ad(version: str) -> Any:
    skip_unless_format("h5ad")
    return aio.read_h5ad(_compat.CORPUS / "gen" / version / "rich.h5ad")


@pytest.mark.parametrize("entry", LOOM, ids=[e["path"] for e in LOOM])
def test_loom_writer_matches_anndatas_files(entry: dict[str, Any], tmp_path: Path) -> None:
    """Write the rich object as anndata did (same columns dropped), read back: same summary."""
    skip_unless_format("loom")
    version = Path(entry["path"]).parent.name
    adata = _rich_from_h5ad(version)
    for col in ("n_umi_nullable", "doublet_nullable"):
        if col in adata.obs.columns:
            del adata.obs[col]
    for key in ("annotations", "counts_sparse"):
        if key in adata.obsm:
            del adata.obsm[key]
    if "sparse_loadings" in adata.varm:
        del adata.varm["sparse_loadings"]
    out = tmp_path / "rich.loom"
    adata.write_loom(out, write_obsm_varm=True)
    back = aio.read_loom(out, **LOOM_READ)
    got = _compat.summarize_anndata(back)
    # Beyond anndata: obsp/varp are stored as loom column/row graphs and read back (as csr);
    # anndata's files have none, so compare them with the source instead.
    for attr in ("obsp", "varp"):
        src = getattr(adata, attr)
        assert got[attr]["keys"] == sorted(src.keys())
        for key in src.keys():
            assert got[attr]["items"][key]["sha256"] == _compat.array_sha256(src[key]), (attr, key)
        got[attr] = {"keys": [], "items": {}}
    diffs = list(_compat.diff_summaries(_compat.expected_for(entry), got))
    assert not diffs, f"rewritten {entry['path']}: " + "\n".join(diffs[:40])
    loompy = pytest.importorskip("loompy")
    validator = loompy.LoomValidator()
    assert validator.validate(str(out)), validator.errors


@pytest.mark.parametrize("entry", CSVS, ids=[e["path"] for e in CSVS])
def test_write_csvs_bytes(entry: dict[str, Any], tmp_path: Path) -> None:
    """Write the rich object's CSVs and compare every file anndata wrote, byte for byte.

    ``uns`` entries that are dicts are written by anndata as the ``repr`` of the in-memory
    dict, which depends on the Python types and key order of the object before it was ever
    stored; after a round trip through .h5ad (by anndata too) those differ, so those files are
    compared for presence only. Entries an old anndata dropped from its .h5ad (``None``,
    empty dicts) cannot be rewritten from it.
    """
    skip_unless_format("text")
    version = Path(entry["path"]).parent.name
    expected = json.loads((_compat.CORPUS / entry["expected"][0]).read_text("utf-8"))
    adata = _rich_from_h5ad(version)
    for key in ("counts_sparse",):
        if key in adata.obsm:
            del adata.obsm[key]
    if "sparse_loadings" in adata.varm:
        del adata.varm["sparse_loadings"]
    out = tmp_path / "rich_csvs"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", annstore.WriteWarning)
        adata.write_csvs(out, skip_data=False)
    src_uns = expected["source_object"]["uns"]["items"]
    compared = 0
    for f in expected["files"]:
        rel = f["path"]
        key = rel[len("uns/"):-len(".csv")] if rel.startswith("uns/") else None
        if key is not None and key not in adata.uns:
            continue  # dropped by that anndata's h5ad writer
        path = out / rel
        assert path.is_file(), f"{rel} was not written"
        if key is not None and src_uns.get(key, {}).get("type") == "dict":
            continue
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        assert got == f["sha256"], f"{rel}: bytes differ from anndata {version}'s (first line {f['first_line'][:80]!r})"
        compared += 1
    assert compared >= 8
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.csv")}
    assert written <= {f["path"] for f in expected["files"]}

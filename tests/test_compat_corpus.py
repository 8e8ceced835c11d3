"""Every h5ad and zarr file of the anndata compat corpus reads as anndata 0.13.4 reads it.

For each file listed in ``/work/shared/compat/MANIFEST.json`` the test reads it with annstore,
builds the corpus summary (:mod:`_compat`) and compares it field by field with
``F.expected.0.13.4.json`` (or ``F.expected.json`` for files anndata 0.13.4 wrote or read
itself). Runtime-only fields (``read_by``, ``py_type``, string dtype spellings) are skipped.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _compat  # noqa: E402
from conftest import skip_unless_format  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (_compat.CORPUS / "MANIFEST.json").is_file(),
    reason=f"compat corpus not found at {_compat.CORPUS}",
)

ENTRIES = _compat.corpus_entries(("h5ad", "zarr", "zarr-zip"))
PLUGIN = {"h5ad": "h5ad", "zarr": "zarr", "zarr-zip": "zarr"}


def _id(entry: dict[str, Any]) -> str:
    return entry["path"].removeprefix("gen/")


def _params(entries: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(e, id=_id(e)) for e in entries] or [
        pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason="compat corpus absent"))
    ]


def _needs_awkward(entry: dict[str, Any]) -> bool:
    return entry["case"].startswith("awkward") or "awkward" in Path(entry["path"]).name


def _read(entry: dict[str, Any], **kw: Any) -> Any:
    import annstore

    path = str(_compat.CORPUS / entry["path"])
    if entry["format"] == "h5ad":
        return annstore.read_h5ad(path, **kw)
    return annstore.read_zarr(path, **kw)


def _prepare(entry: dict[str, Any]) -> None:
    skip_unless_format(PLUGIN[entry["format"]])
    if _needs_awkward(entry) and importlib.util.find_spec("awkward") is None:
        pytest.skip("awkward arrays need the optional 'awkward' package")


def _fail_on(diffs: list[str], entry: dict[str, Any]) -> None:
    if diffs:
        shown = "\n  ".join(diffs[:40])
        more = f"\n  ... and {len(diffs) - 40} more" if len(diffs) > 40 else ""
        pytest.fail(f"{entry['path']}: {len(diffs)} field(s) differ from anndata 0.13.4:\n  {shown}{more}")


@pytest.mark.parametrize("entry", _params(ENTRIES))
def test_reads_like_anndata(entry: dict[str, Any]) -> None:
    _prepare(entry)
    expected = _compat.expected_for(entry)
    adata = _read(entry)
    got = _compat.summarize_anndata(adata)
    _fail_on(list(_compat.diff_summaries(expected, got)), entry)


BACKED = [e for e in ENTRIES if "backed" in _compat.expected_for(e)]


def _backed_available() -> bool:
    try:
        from annstore.backed import read_backed  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


@pytest.mark.parametrize("entry", _params(BACKED))
def test_backed_reads_like_anndata(entry: dict[str, Any]) -> None:
    if not _backed_available():
        pytest.skip("backed mode not implemented")
    _prepare(entry)
    expected = _compat.expected_for(entry)["backed"]
    adata = _read(entry, backed="r")
    try:
        X = adata.X
        assert [int(s) for s in X.shape] == expected["shape"]
        got = _compat.summarize_backed_ops(X, expected["ops"])
    finally:
        close = getattr(getattr(adata, "file", None), "close", None)
        if close is not None:
            close()
    diffs = []
    for exp_op, got_op in zip(expected["ops"], got, strict=True):
        if "error" in exp_op:
            continue  # that anndata version failed: information only
        if "error" in got_op:
            diffs.append(f"backed {exp_op['op']}: {got_op['error']}")
            continue
        for field in ("shape", "sha256"):
            if exp_op[field] != got_op[field]:
                diffs.append(f"backed {exp_op['op']}/{field}: expected {exp_op[field]}, got {got_op[field]}")
        if (exp_op["result_type"] == "dense") != (got_op["result_type"] == "dense"):
            diffs.append(
                f"backed {exp_op['op']}/result_type: expected {exp_op['result_type']}, got {got_op['result_type']}"
            )
    _fail_on(diffs, entry)


def test_summary_builder_detects_differences() -> None:
    """The comparison must be able to fail: perturb one field of a real expected summary."""
    if not ENTRIES:
        pytest.skip("compat corpus absent")
    entry = next(e for e in ENTRIES if e["path"].endswith("v0.13.4/rich.h5ad"))
    exp = _compat.expected_for(entry)
    import copy

    got = copy.deepcopy({k: v for k, v in exp.items() if k not in _compat.RUNTIME_FIELDS})
    assert list(_compat.diff_summaries(exp, got)) == []
    got["obs"]["column_info"]["stage"]["ordered"] = False
    got["uns"]["items"]["scalars"]["items"]["uint8"]["value"] = 201
    got["obs"]["column_info"]["cell_type"]["dtype"] = "int64"
    del got["layers"]["items"]["counts"]
    diffs = list(_compat.diff_summaries(exp, got))
    joined = "\n".join(diffs)
    assert "obs/column_info/stage/ordered" in joined
    assert "uns/items/scalars/items/uint8/value" in joined
    assert "obs/column_info/cell_type/dtype" in joined
    assert "layers/items: missing field 'counts'" in joined
    # runtime spellings of string dtypes are not differences
    got2 = copy.deepcopy({k: v for k, v in exp.items() if k not in _compat.RUNTIME_FIELDS})
    got2["obs"]["dtypes"]["barcode"] = "object"
    assert list(_compat.diff_summaries(exp, got2)) == []


def test_checksums_match_reference_definitions() -> None:
    import numpy as np

    assert _compat.array_sha256(np.array([])) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    neg_nan = np.array([-np.nan], dtype="f4")  # another NaN bit pattern
    assert _compat.array_sha256(np.array([-0.0, np.nan])) == _compat.array_sha256(
        np.concatenate([np.array([0.0], dtype="f4"), neg_nan])
    )
    assert _compat.array_sha256(np.array([1.0])) != _compat.array_sha256(np.array([2.0]))
    assert _compat.strings_sha256(["a", None]) != _compat.strings_sha256(["a", ""])
    assert _compat.strings_sha256(np.array([["a", "b"]])) == _compat.strings_sha256(["a", "b"])


# ------------------------------------------------------------------------------ writing

#: anndata 0.13.4's write_h5ad calls, re-done with annstore from what annstore read.
WRITTEN_BY_0134 = [
    e for e in ENTRIES
    if e["format"] == "h5ad" and e["path"].startswith("gen/v0.13.4/")
]


def _write_kwargs(expected: dict[str, Any]) -> dict[str, Any]:
    call = expected["write_call"]
    kw: dict[str, Any] = {}
    if "compression='gzip'" in call:
        kw["compression"] = "gzip"
    if "convert_strings_to_categoricals=False" in call:
        kw["convert_strings_to_categoricals"] = False
    return kw


def _same_node(expected: str, got: str | None) -> bool:
    """Node descriptions agree; a numeric scalar's dtype may not (see below)."""
    if got == expected:
        return True
    # anndata 0.13.4 reads numeric scalars in uns as Python int/float/bool, so what is written
    # back is int64/float64 whatever the original width was (anndata does the same).
    if got is None or not expected.endswith("numeric-scalar@0.2.0"):
        return False
    e, g = expected.split(), got.split()
    return e[0] == g[0] and e[2:] == g[2:]


@pytest.mark.parametrize("entry", _params(WRITTEN_BY_0134))
def test_write_h5ad_layout_like_anndata(entry: dict[str, Any], tmp_path: Path) -> None:
    """Rewriting a 0.13.4 file with annstore gives anndata's layout and the same content."""
    import annstore
    import annstore.io

    _prepare(entry)
    expected = _compat.expected_for(entry)
    adata = _read(entry)
    out = tmp_path / Path(entry["path"]).name
    settings = {}
    if entry["case"] == "rich_legacy_strings" or "legacy_strings" in entry["path"]:
        settings["allow_write_nullable_strings"] = False
    with annstore.settings.override(**settings):
        annstore.io.write_h5ad(out, adata, **_write_kwargs(expected))
    layout = _compat.storage_h5(out)
    diffs = [
        f"storage {k}: expected {v!r}, got {layout['nodes'].get(k)!r}"
        for k, v in expected["storage"]["nodes"].items()
        if not _same_node(v, layout["nodes"].get(k))
    ]
    diffs += [
        f"storage {k}: unexpected node {v!r}"
        for k, v in layout["nodes"].items()
        if k not in expected["storage"]["nodes"]
    ]
    if layout["filters"] != expected["storage"]["filters"]:
        diffs.append(f"filters: expected {expected['storage']['filters']}, got {layout['filters']}")
    again = annstore.read_h5ad(out)
    diffs += list(_compat.diff_summaries(expected, _compat.summarize_anndata(again)))
    _fail_on(diffs, entry)

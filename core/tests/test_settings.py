"""annstore.settings: defaults, environment variables, assignment checks, override()."""

from __future__ import annotations

import subprocess
import sys

import pytest

import annstore


def test_defaults_match_anndata_013():
    s = annstore.settings
    assert s.remove_unused_categories is True
    assert s.check_uniqueness is True
    assert s.allow_write_nullable_strings is None
    assert s.zarr_write_format == 3
    assert s.use_sparse_array_on_read is False


def test_override_restores_on_exit_and_error():
    s = annstore.settings
    with s.override(zarr_write_format=2, check_uniqueness=False):
        assert s.zarr_write_format == 2
        assert s.check_uniqueness is False
    assert s.zarr_write_format == 3
    with pytest.raises(RuntimeError), s.override(zarr_write_format=2):
        raise RuntimeError
    assert s.zarr_write_format == 3


def test_invalid_values_and_names_are_refused():
    s = annstore.settings
    with pytest.raises(ValueError, match="zarr_write_format 2 or 3"):
        s.zarr_write_format = 4
    with pytest.raises(AttributeError, match="Unknown setting 'nope'"):
        s.nope = 1
    with pytest.raises(AttributeError, match="known: remove_unused_categories"):
        _ = s.nope


def test_environment_variables_are_read():
    code = "import annstore; s = annstore.settings; print(s.zarr_write_format, s.check_uniqueness)"
    env = {"ANNSTORE_ZARR_WRITE_FORMAT": "2", "ANNSTORE_CHECK_UNIQUENESS": "false", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]


def test_reset_restores_default():
    s = annstore.settings
    s.zarr_write_format = 2
    try:
        s.reset("zarr_write_format")
        assert s.zarr_write_format == 3
    finally:
        s.reset()


def test_repr_lists_every_option():
    text = repr(annstore.settings)
    for name in ("remove_unused_categories", "zarr_write_format", "restrict_index_types"):
        assert name in text


def test_anndata_settings_semantics():
    """As anndata's scverse-misc settings: deprecated options warn on read, model_fields_set
    names explicit sets, reset() restores on exit when used as a context manager."""
    s = annstore.settings
    with pytest.warns(DeprecationWarning, match="zarr v3 will be the default"):
        _ = s.zarr_write_format
    with pytest.warns(DeprecationWarning, match="copy-on-write will be default"):
        _ = s.copy_on_write_X
    s.reset()
    assert s.model_fields_set == set()
    s.check_uniqueness = False
    try:
        assert s.model_fields_set == {"check_uniqueness"}
        with s.reset("check_uniqueness") as changed:
            assert changed == {"check_uniqueness"}
            assert s.check_uniqueness is True
        assert s.check_uniqueness is False
        with s.override(remove_unused_categories=False):
            s.restrict_index_types = False  # not overridden: kept after the block
        assert s.remove_unused_categories is True
        assert s.restrict_index_types is False
    finally:
        s.reset(*s.model_fields_set)
    assert s.check_uniqueness is True
    assert s.restrict_index_types is True
    with pytest.raises(ValueError, match="greater than 0"):
        s.min_rows_for_chunked_h5_copy = 0
    assert not hasattr(s, "nope")
    assert s.model_fields["check_uniqueness"].get_default() is True

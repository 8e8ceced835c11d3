"""IOSpec value semantics and the registry: precedence, MRO/dtype-kind dispatch, conflicts, misses."""

from __future__ import annotations

import numpy as np
import pytest

from annstore import IOSpec
from annstore.errors import EncodingNotFoundError, PluginConflictError
from annstore.io import Registry


def r_a(node, *, ctx):
    return "a"


def r_b(node, *, ctx):
    return "b"


def w_a(parent, key, value, *, ctx, dataset_kwargs):
    return None


def w_b(parent, key, value, *, ctx, dataset_kwargs):
    return None


def test_iospec_attrs_roundtrip_and_order():
    spec = IOSpec("csr_matrix", "0.1.0")
    assert spec.to_attrs() == {"encoding-type": "csr_matrix", "encoding-version": "0.1.0"}
    assert IOSpec.from_attrs(spec.to_attrs()) == spec
    assert IOSpec.from_attrs({}) == IOSpec("", "")
    assert not IOSpec.from_attrs({})
    assert IOSpec.from_attrs({"encoding-type": b"array", "encoding-version": b"0.2.0"}) == IOSpec(
        "array", "0.2.0"
    )
    assert sorted([IOSpec("b", "1"), IOSpec("a", "2"), IOSpec("a", "1")])[0] == IOSpec("a", "1")
    assert str(spec) == "'csr_matrix' v0.1.0"
    with pytest.raises(AttributeError):
        spec.encoding_type = "x"  # type: ignore[misc]
    assert hash(spec) == hash(IOSpec("csr_matrix", "0.1.0"))


def test_format_specific_reader_wins_over_generic():
    reg = Registry()
    spec = IOSpec("x", "0.1.0")
    reg.register_reader(spec, r_a)
    reg.register_reader(spec, r_b, format="h5ad")
    assert reg.find_reader(spec, "h5ad").func is r_b
    assert reg.find_reader(spec, "zarr").func is r_a


def test_writer_dispatch_walks_mro_and_dtype_kind():
    class Base:
        dtype = np.dtype("f8")

    class Child(Base):
        pass

    reg = Registry()
    reg.register_writer(Base, IOSpec("generic", "1"), w_a)
    reg.register_writer(Base, IOSpec("floaty", "1"), w_b, kinds="f")
    assert reg.find_writer(Child()).spec == IOSpec("floaty", "1")
    Child.dtype = np.dtype("i8")
    assert reg.find_writer(Child()).spec == IOSpec("generic", "1")


def test_registering_same_function_twice_is_idempotent():
    reg = Registry()
    reg.register_reader(IOSpec("x", "1"), r_a)
    reg.register_reader(IOSpec("x", "1"), r_a)
    assert len(reg.readers) == 1


def test_reader_conflict_names_both_owners():
    reg = Registry()
    reg.register_reader(IOSpec("x", "1"), r_a, owner="plugin_one")
    with pytest.raises(PluginConflictError, match=r"'plugin_one'.*'plugin_two'"):
        reg.register_reader(IOSpec("x", "1"), r_b, owner="plugin_two")
    reg.register_reader(IOSpec("x", "1"), r_b, owner="plugin_two", replace=True)
    assert reg.find_reader(IOSpec("x", "1")).func is r_b


def test_writer_conflict_names_both_owners():
    reg = Registry()
    reg.register_writer(np.ndarray, IOSpec("array", "0.2.0"), w_a, owner="core")
    with pytest.raises(PluginConflictError, match=r"numpy\.ndarray.*'core'.*'intruder'"):
        reg.register_writer(np.ndarray, IOSpec("other", "1"), w_b, owner="intruder")


def test_reader_miss_lists_known_versions():
    reg = Registry()
    reg.register_reader(IOSpec("csr_matrix", "0.1.0"), r_a)
    with pytest.raises(EncodingNotFoundError, match=r"'csr_matrix' v0\.3\.0.*known versions: 0\.1\.0"):
        reg.find_reader(IOSpec("csr_matrix", "0.3.0"), "zarr")
    with pytest.raises(LookupError, match=r"Known encodings: csr_matrix"):
        reg.find_reader(IOSpec("mystery", "1"))


def test_writer_miss_names_type_and_alternatives():
    reg = Registry()
    reg.register_writer(np.ndarray, IOSpec("array", "0.2.0"), w_a)
    with pytest.raises(EncodingNotFoundError, match=r"type set.*Writable types: numpy\.ndarray"):
        reg.find_writer({1, 2})


def test_public_views_are_read_only():
    reg = Registry()
    reg.register_reader(IOSpec("x", "1"), r_a)
    with pytest.raises(TypeError):
        reg.readers[(IOSpec("y", "1"), "*")] = None  # type: ignore[index]

"""What core checks of its plugins, and the errors that name a misbehaving plugin.

Each plugin here is loaded through a fake entry point (the real loading path: API check,
registration, encodings, formats). Covered: a store opened for the wrong format or without
the node marker, a writer creating no node, a reader's own bug, format guessing from
``FormatInfo.suffixes``/``magic`` alone, ``supports_append`` enforced, the
``requires_format`` marker.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

import annstore
from annstore import FormatInfo, IOSpec, hookimpl, hookspecs
from annstore.errors import CapabilityError, InvalidFileError, PluginError
from annstore.io import _plugins

pytest_plugins = ["pytester"]

sys.path.insert(0, str(Path(__file__).parent))
from _plugin_helpers import installer  # noqa: E402

API = getattr(hookspecs, "PLUGIN_API_VERSION", 1)


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch):
    """Install plugin objects as if from entry points; rediscover; undo afterwards."""
    yield installer(monkeypatch)
    monkeypatch.undo()
    annstore.refresh_formats()


# ------------------------------------------------------------------ annstore_open_store


class Greedy:
    """Forgets its format check: opens a memory store whatever format is asked for."""

    ANNSTORE_PLUGIN_API = API

    @staticmethod
    @hookimpl(tryfirst=True)
    def annstore_open_store(path: Any, mode: str) -> Any:
        from annstore.io._memory import open_memory_store

        return open_memory_store(path, mode)


def test_store_of_the_wrong_format_is_refused_naming_the_plugin(install, tmp_path: Path):
    install(greedy=Greedy)
    with pytest.raises(PluginError, match=r"'greedy'.*format='h5ad'.*nodes are of format 'memory'") as ei:
        with annstore.io.open_store(tmp_path / "x.h5ad", format="h5ad", mode="w"):
            pass
    assert ei.value.plugin == "greedy"
    assert isinstance(ei.value, RuntimeError)
    # the plugin's own format still opens
    with annstore.io.open_store(f"memory://{tmp_path}/m", format="memory", mode="w") as root:
        assert root.format == "memory"


class _Unmarked:
    format = "unmarked"
    name = "/"
    filename = None
    attrs: dict[str, Any] = {}

    def create_group(self, name: str) -> Any:  # pragma: no cover - never reached
        raise AssertionError

    def close(self) -> None:
        pass


class Unmarked:
    ANNSTORE_PLUGIN_API = API

    @staticmethod
    @hookimpl
    def annstore_format_info() -> FormatInfo:
        return FormatInfo("unmarked", "adapter without the node marker", (".unm",), True)

    @staticmethod
    @hookimpl
    def annstore_open_store(format: str) -> Any:
        return _Unmarked() if format == "unmarked" else None


def test_store_without_node_marker_names_plugin_and_marker(install, tmp_path: Path):
    install(unmarked=Unmarked)
    with pytest.raises(PluginError, match=r"'unmarked'.*_annstore_node = True"):
        with annstore.io.open_store(tmp_path / "a.unm", mode="w"):
            pass
    with pytest.raises(TypeError, match=r"format 'unmarked', from plugin 'unmarked'.*_annstore_node"):
        annstore.io.write_elem(_Unmarked(), "x", 1)


def test_unknown_object_lists_the_adapters_asked():
    with pytest.raises(TypeError, match=r"No installed plugin adapts it \(annstore_adapt_node asked: .*h5ad"):
        annstore.io.read_elem(object())


# ------------------------------------------------------------------ writers and readers


class Thing:
    def __init__(self, v: int) -> None:
        self.v = v


THING = IOSpec("thing", "0.1.0")
LOOP = IOSpec("loopy", "0.1.0")
BUGGY = IOSpec("buggy", "0.1.0")
CAREFUL = IOSpec("careful", "0.1.0")


def write_nothing(parent: Any, key: str, value: Thing, *, ctx: Any, dataset_kwargs: Any) -> None:
    """Forgets to create ``parent[key]``."""


def read_loop(node: Any, *, ctx: Any) -> Any:
    return ctx.read_elem(node)  # reads its own element again: endless recursion


def read_buggy(node: Any, *, ctx: Any) -> Any:
    return node.attrs["value"] + 1  # a str attribute: TypeError in the reader's own code


def read_careful(node: Any, *, ctx: Any) -> Any:
    if "value" not in node.attrs:
        raise InvalidFileError("expected attribute 'value'", path=node.name)
    return node.attrs["value"]


class Elements:
    ANNSTORE_PLUGIN_API = API

    @staticmethod
    @hookimpl
    def annstore_register_encodings(registry: Any) -> None:
        registry.register_writer(Thing, THING, write_nothing)
        registry.register_reader(LOOP, read_loop)
        registry.register_reader(BUGGY, read_buggy)
        registry.register_reader(CAREFUL, read_careful)


def test_writer_creating_no_node_names_writer_and_element(install, tmp_path: Path):
    install(elements=Elements)
    path = tmp_path / "a.h5ad"
    adata = annstore.AnnData(np.zeros((2, 2)))
    adata.uns["t"] = Thing(1)
    if "h5ad" not in annstore.list_formats():
        pytest.skip("requires annstore-h5ad (a whole-file write through a temporary file)")
    with pytest.raises(PluginError) as ei:
        annstore.write(adata, path)
    text = str(ei.value) + " ".join(getattr(ei.value, "__notes__", []))
    assert "write_nothing" in str(ei.value) and "'/uns/t'" in str(ei.value)
    assert "'thing' v0.1.0" in str(ei.value)
    assert ".annstore-tmp" not in text
    assert str(path) in text  # the note names the file being written, not the temporary one


def _elem(root: Any, spec: IOSpec, **attrs: Any) -> Any:
    g = root.create_group("e")
    g.attrs.update({**spec.to_attrs(), **attrs})
    return g


def test_reader_reading_itself_is_a_plugin_error(install, tmp_path: Path):
    install(elements=Elements)
    with annstore.io.open_store(f"memory://{tmp_path}/r", format="memory", mode="w") as root:
        with pytest.raises(PluginError, match=r"read_loop.*'loopy' v0\.1\.0.*'/e'.*read its own element"):
            annstore.io.read_elem(_elem(root, LOOP))


def test_reader_bug_is_a_plugin_error_not_a_malformed_file(install, tmp_path: Path):
    install(elements=Elements)
    with annstore.io.open_store(f"memory://{tmp_path}/r", format="memory", mode="w") as root:
        with pytest.raises(PluginError, match=r"read_buggy.*registered by .*TypeError.*bug in the plugin") as ei:
            annstore.io.read_elem(_elem(root, BUGGY, value="x"))
        assert not isinstance(ei.value, InvalidFileError)
        assert isinstance(ei.value.__cause__, TypeError)


def test_reader_reporting_malformed_input_keeps_invalid_file_error(install, tmp_path: Path):
    install(elements=Elements)
    with annstore.io.open_store(f"memory://{tmp_path}/r", format="memory", mode="w") as root:
        with pytest.raises(InvalidFileError, match="expected attribute 'value'"):
            annstore.io.read_elem(_elem(root, CAREFUL))
        del root["e"]
        assert annstore.io.read_elem(_elem(root, CAREFUL, value=3)) == 3


def test_core_reader_on_malformed_input_is_still_invalid_file(tmp_path: Path):
    with annstore.io.open_store(f"memory://{tmp_path}/r", format="memory", mode="w") as root:
        annstore.io.write_elem(root, "m", sparse.csr_matrix(np.eye(3)))
        root["m"].attrs["shape"] = [9, 9]
        with pytest.raises(InvalidFileError):
            annstore.io.read_elem(root["m"])


# ------------------------------------------------------------------ FormatInfo fields


class DeclaredOnly:
    """A format that declares its suffix and magic bytes and implements no guess hook."""

    ANNSTORE_PLUGIN_API = API

    @staticmethod
    @hookimpl
    def annstore_format_info() -> FormatInfo:
        return FormatInfo("declared", "declared only", (".decl",), False, magic=(b"DECL\x00",))


def test_format_guessed_from_declared_suffix_and_magic(install, tmp_path: Path):
    install(declared=DeclaredOnly)
    by_suffix = tmp_path / "a.decl"
    by_suffix.write_bytes(b"whatever")
    assert annstore.io.guess_format(by_suffix) == "declared"
    by_magic = tmp_path / "noext"
    by_magic.write_bytes(b"DECL\x00rest of file")
    assert annstore.io.guess_format(by_magic) == "declared"
    other = tmp_path / "other"
    other.write_bytes(b"nothing known")
    with pytest.raises(annstore.errors.UnknownFormatError):
        annstore.io.guess_format(other)
    from annstore.io._guess import _suffix_match

    assert _suffix_match(tmp_path / "new.decl").name == "declared"  # writes pick it too


def test_magic_does_not_overrule_a_known_suffix(install, tmp_path: Path):
    class Hdf:
        ANNSTORE_PLUGIN_API = API

        @staticmethod
        @hookimpl
        def annstore_format_info() -> FormatInfo:
            return FormatInfo("hdfish", "HDF5 magic", (), False, magic=(b"\x89HDF\r\n\x1a\n",))

    pm = install(hdfish=Hdf)
    pm.formats.pop("loom", None)
    f = tmp_path / "x.loom"
    f.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 10)
    from annstore.io._guess import _declared_match

    assert _declared_match(f, f.read_bytes()) is None  # a .loom file is not guessed 'hdfish'
    g = tmp_path / "x.bin"
    g.write_bytes(f.read_bytes())
    assert _declared_match(g, g.read_bytes()) == ("hdfish" if "h5ad" not in pm.formats else None)


@pytest.fixture
def memory_without_append(monkeypatch: pytest.MonkeyPatch):
    pm = _plugins.get_plugin_manager()
    monkeypatch.setitem(pm.formats, "memory",
                        dataclasses.replace(pm.formats["memory"], supports_append=False))


def test_append_refused_without_supports_append(memory_without_append, tmp_path: Path):
    from annstore.backed import sparse_dataset

    url = f"memory://{tmp_path}/s"
    with annstore.io.open_store(url, format="memory", mode="w") as root:
        annstore.io.write_elem(root, "X", sparse.csr_matrix(np.eye(3)))
        with pytest.raises(CapabilityError, match=r"'memory' does not support appending.*"
                           r"appending to a sparse dataset.*supports_append=False"):
            sparse_dataset(root["X"]).append(sparse.csr_matrix(np.eye(3)))
        assert root["X/indptr"].shape == (4,)  # nothing was changed


def test_concat_on_disk_refused_without_supports_append(memory_without_append, tmp_path: Path):
    from annstore.experimental import concat_on_disk

    ins = [f"memory://{tmp_path}/in{i}" for i in range(2)]
    for i, u in enumerate(ins):
        a = annstore.AnnData(sparse.csr_matrix(np.eye(2)))
        a.obs_names = [f"{i}a", f"{i}b"]
        annstore.write(a, u)
    with pytest.raises(CapabilityError, match=r"concat_on_disk"):
        concat_on_disk(ins, f"memory://{tmp_path}/out")


def test_every_format_info_field_is_documented():
    text = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text()
    for f in dataclasses.fields(FormatInfo):
        assert f"`{f.name}`" in text, f"FormatInfo.{f.name} is not documented in docs/plugins.md"
    for hook in (n for n in dir(hookspecs) if n.startswith("annstore_")):
        assert f"`{hook}" in text, f"hook {hook} is not documented in docs/plugins.md"


def test_requires_format_marker_skips_without_the_plugin(pytester: pytest.Pytester):
    pytester.makepyfile(test_m="""
        import pytest

        @pytest.mark.requires_format("memory")
        def test_have():
            pass

        @pytest.mark.requires_format("no-such-format")
        def test_missing():
            raise AssertionError("must not run")
    """)
    res = pytester.runpytest_inprocess("-p", "annstore.testing.plugin", "-rs", "-p", "no:randomly")
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*requires the 'no-such-format' format*"])

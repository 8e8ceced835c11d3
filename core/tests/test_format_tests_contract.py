"""``FormatTests`` is a real contract: it fails on each deliberately broken store adapter
(``_broken_adapters``: memory stores whose nodes break one rule of the store protocol) and
passes on the unbroken control. The suite is run programmatically with ``pytester``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import annstore

pytest_plugins = ["pytester"]

sys.path.insert(0, str(Path(__file__).parent))
import _broken_adapters  # noqa: E402
from _plugin_helpers import installer  # noqa: E402

#: For each defect, FormatTests cases that must fail on it (others may fail too).
MUST_FAIL = {
    "strings-as-U": ["test_store_strings_are_object_str"],
    "strings-report-U": ["test_store_strings_are_object_str"],
    "dtype-wrong": ["test_store_dtype_exact[int32]"],
    "attrs-tuples": ["test_store_attribute_types"],
    "resize-raises": ["test_append_resize", "test_append_backed_sparse"],
    "read_into-raises": ["test_store_read_into"],
    "setitem-raises": ["test_store_setitem", "test_backed_r_plus_writes_persist"],
    "missing-not-keyerror": ["test_store_missing_keys"],
}


@pytest.fixture
def broken_formats(monkeypatch: pytest.MonkeyPatch):
    installer(monkeypatch)(broken=_broken_adapters.BrokenPlugin)
    yield
    monkeypatch.undo()
    annstore.refresh_formats()


def _suite(defects: tuple[str, ...]) -> str:
    classes = "\n".join(
        textwrap.dedent(f"""
            class TestBroken_{d.replace("-", "_")}(Base):
                format_name = "broken-{d}"
        """)
        for d in defects
    )
    return textwrap.dedent("""
        from annstore.testing import FormatTests

        class Base(FormatTests):
            __test__ = False

            def store_path(self, tmp_path, name="store"):
                return f"{self.format_name}://{tmp_path.as_posix()}/{name}"
    """) + classes.replace("(Base):\n", "(Base):\n    __test__ = True\n")


def _outcomes(pytester: pytest.Pytester, defects: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    pytester.makepyfile(test_suite=_suite(defects))
    rec = pytester.inline_run("-q", "-p", "no:randomly", "-p", "no:cacheprovider")
    out: dict[str, dict[str, list[str]]] = {d: {"passed": [], "failed": [], "skipped": []} for d in defects}
    for rep in rec.getreports("pytest_runtest_logreport"):
        if rep.when != "call" and not (rep.failed or rep.skipped):
            continue
        _, cls, test = rep.nodeid.split("::", 2)
        defect = next(d for d in defects if cls == f"TestBroken_{d.replace('-', '_')}")
        kind = "failed" if rep.failed else "skipped" if rep.skipped else "passed"
        out[defect][kind].append(test)
    return out


def test_format_tests_pass_on_the_unbroken_control(broken_formats, pytester: pytest.Pytester):
    res = _outcomes(pytester, ("none",))["none"]
    assert res["failed"] == []
    assert len(res["passed"]) > 250
    assert "test_backed_read[csr]" in res["passed"] and "test_append_resize" in res["passed"]


def test_format_tests_fail_on_each_broken_adapter(broken_formats, pytester: pytest.Pytester):
    defects = tuple(MUST_FAIL)
    res = _outcomes(pytester, defects)
    for d in defects:
        failed = {t.split("[", 1)[0] for t in res[d]["failed"]} | set(res[d]["failed"])
        missing = [t for t in MUST_FAIL[d] if t not in failed]
        assert not missing, f"FormatTests did not fail {missing} on the {d!r} adapter"
        assert res[d]["passed"], d  # the rest of the suite still ran

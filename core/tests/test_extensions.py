"""register_anndata_namespace: extension namespaces on AnnData, as in anndata 0.13.4."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import annstore as ad


@pytest.fixture(autouse=True)
def _remove_test_namespaces() -> Iterator[None]:
    before = set(vars(ad.AnnData))
    yield
    for name in set(vars(ad.AnnData)) - before:
        delattr(ad.AnnData, name)


def test_exported_at_top_level() -> None:
    assert "register_anndata_namespace" in ad.__all__
    from annstore import register_anndata_namespace

    assert register_anndata_namespace is ad.register_anndata_namespace


def test_namespace_is_built_once_per_object() -> None:
    built: list[object] = []

    @ad.register_anndata_namespace("counter")
    class Counter:
        def __init__(self, adata: ad.AnnData) -> None:
            built.append(adata)
            self._adata = adata

        def n(self) -> int:
            return self._adata.n_obs

    a, b = ad.AnnData(np.zeros((3, 2))), ad.AnnData(np.zeros((5, 2)))
    assert a.counter is a.counter
    assert a.counter.n() == 3
    assert b.counter.n() == 5
    assert built == [a, b]
    assert ad.AnnData.counter is Counter


def test_override_warns_and_replaces() -> None:
    @ad.register_anndata_namespace("dummy")
    class First:
        def __init__(self, adata: ad.AnnData) -> None:
            pass

    with pytest.warns(UserWarning, match=r"Overriding existing custom namespace 'dummy' \(on 'AnnData'\)"):

        @ad.register_anndata_namespace("dummy")
        class Second:
            def __init__(self, adata: ad.AnnData) -> None:
                pass

    assert isinstance(ad.AnnData(np.zeros((1, 1))).dummy, Second)


@pytest.mark.parametrize("attr", ["X", "obs", "layers", "copy", "write", "obs_vector", "unwriteable", "shape"])
def test_reserved_names_refused(attr: str) -> None:
    with pytest.raises(AttributeError, match=f"cannot override reserved attribute {attr!r}"):

        @ad.register_anndata_namespace(attr)
        class Shadow:
            def __init__(self, adata: ad.AnnData) -> None:
                pass


def _cls_with_init(init: object) -> type:
    return type("NS", (), {"__init__": init})


def _no_param(self) -> None:  # noqa: ANN001
    pass


def _wrong_name(self, notadata: ad.AnnData) -> None:  # noqa: ANN001
    pass


def _wrong_type(self, adata: int) -> None:  # noqa: ANN001
    pass


def _both_wrong(self, info: str) -> None:  # noqa: ANN001
    pass


def _no_annotation(self, adata) -> None:  # noqa: ANN001
    pass


@pytest.mark.parametrize(
    ("init", "exc", "match"),
    [
        (_no_param, TypeError, r"Namespace initializer must accept a AnnData instance as the second parameter\."),
        (_wrong_name, TypeError, r"must be named 'adata', got 'notadata'\."),
        (_wrong_type, TypeError, r"must be annotated as the 'AnnData' class, got 'int'\."),
        (_both_wrong, TypeError, r"must be named 'adata', got 'info'\. And must be annotated as 'AnnData', got 'str'\."),
        (_no_annotation, AttributeError, r"got empty annotation"),
    ],
    ids=["no-param", "wrong-name", "wrong-type", "both-wrong", "no-annotation"],
)
def test_signature_checked(init: object, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        ad.register_anndata_namespace("checked")(_cls_with_init(init))
    assert not hasattr(ad.AnnData, "checked")


def test_extension_namespace_protocol_deprecated_in_types() -> None:
    with pytest.warns(FutureWarning, match=r"Importing ExtensionNamespace from `types` is deprecated"):
        from annstore.types import ExtensionNamespace

    class NS:
        def __init__(self, adata: ad.AnnData) -> None:
            pass

    assert isinstance(NS(ad.AnnData()), ExtensionNamespace)

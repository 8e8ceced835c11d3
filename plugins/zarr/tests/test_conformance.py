"""The annstore conformance suite (``FormatTests``) for zarr format 2 and format 3 stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import annstore
from annstore.testing import FormatTests


class _ZarrFormatTests(FormatTests):
    format_name = "zarr"
    zarr_format: int = 3

    @pytest.fixture(autouse=True)
    def _write_format(self) -> Iterator[None]:
        with annstore.settings.override(zarr_write_format=self.zarr_format):
            yield

    def test_written_in_requested_format(self, root: Any) -> None:
        assert root.zarr_format == self.zarr_format
        root.create_array("s", data=np.array(["a", "b"]))
        assert root["s"].dtype == np.dtype(object)

    def test_scalars_not_chunked_or_sharded(self, root: Any) -> None:
        annstore.io.write_elem(root, "x", 3, dataset_kwargs={"chunks": (2,), "compression": "gzip"})
        assert root["x"].shape == ()
        assert root["x"].native.shards is None


class TestZarrV2(_ZarrFormatTests):
    zarr_format = 2


class TestZarrV3(_ZarrFormatTests):
    zarr_format = 3

    def test_arrays_sharded_like_anndata(self, tmp_path: Path) -> None:
        a = annstore.AnnData(np.ones((48, 24), dtype="f4"))
        p = tmp_path / "s.zarr"
        annstore.write(a, p)
        with annstore.io.open_store(p, mode="r") as root:
            assert root["X"].shards == (48, 24)
            assert root["X"].chunks == (48, 24)

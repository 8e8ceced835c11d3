"""Fixtures of the object-storage tests: a real S3 endpoint on the loopback address.

``s3`` starts moto's S3 server (``moto[server]``) once per session on ``127.0.0.1`` and a
free port; ``bucket`` creates a fresh bucket per test and yields its ``s3://`` URL with the
``storage_options`` (endpoint, key, secret) that reach it. The server counts the requests it
answers (``s3.traffic``) so tests and the docs' table report real request counts.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto.moto_server.werkzeug_app", reason="the S3 tests need moto[server]")
pytest.importorskip("s3fs", reason="the S3 tests need s3fs")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _s3server import S3Server  # noqa: E402

_names = itertools.count()


@dataclass
class Bucket:
    """A bucket on the test endpoint: ``url`` (``s3://name``), ``storage_options``, the server."""

    name: str
    storage_options: dict[str, Any]
    server: S3Server

    @property
    def url(self) -> str:
        return f"s3://{self.name}"

    def fs(self) -> Any:
        """A fresh (uncached) s3fs filesystem on the endpoint."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> Bucket:
    name = f"annstore-test-{next(_names)}"
    s3.create_bucket(name)
    return Bucket(name, s3.storage_options(), s3)

"""A real S3-compatible endpoint on the loopback address (moto's server), counting its traffic.

The server is moto's WSGI application behind werkzeug's threaded server, as moto's own
``ThreadedMotoServer`` runs it, with one WSGI layer in front that counts the HTTP requests
it answers and the bytes of their bodies (in and out). Clients reach it over TCP exactly as
they reach a real S3 service: nothing inside annstore, s3fs or botocore is patched.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["S3Server", "Traffic"]

#: Credentials the server accepts (moto accepts any; these are what the tests pass).
KEY, SECRET, REGION = "annstore-test-key", "annstore-test-secret", "us-east-1"


@dataclass
class Traffic:
    """What the server answered: requests by HTTP method, response and request body bytes."""

    requests: Counter[str] = field(default_factory=Counter)
    bytes_out: int = 0
    bytes_in: int = 0

    @property
    def total(self) -> int:
        """The number of requests of every method."""
        return sum(self.requests.values())

    def reads(self) -> int:
        """GET and HEAD requests (object reads, listings, metadata probes)."""
        return self.requests["GET"] + self.requests["HEAD"]


class _Counting:
    """WSGI middleware: counts each request and the bytes of its request and response bodies."""

    def __init__(self, app: Any, server: S3Server) -> None:
        self.app, self.server = app, server

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = self.app(environ, start_response)
        n = 0
        chunks = []
        for part in body:
            n += len(part)
            chunks.append(part)
        if hasattr(body, "close"):
            body.close()
        with self.server._lock:
            t = self.server.traffic
            t.requests[environ["REQUEST_METHOD"]] += 1
            t.bytes_in += length
            t.bytes_out += n
        return chunks


class S3Server:
    """moto's S3 server on ``127.0.0.1`` (a free port), started in a daemon thread.

    Parameters
    ----------
    host
        Loopback address to listen on.
    port
        Port, ``0`` for a free one.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.traffic = Traffic()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options that reach this server: endpoint and credentials."""
        return {
            "key": KEY,
            "secret": SECRET,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": REGION},
        }

    def start(self) -> S3Server:
        """Start serving; returns ``self`` once the socket listens."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        app = _Counting(DomainDispatcherApplication(create_backend_app), self)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-s3", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and join the server thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset_traffic(self) -> Traffic:
        """Start counting afresh; returns what was counted so far."""
        with self._lock:
            old, self.traffic = self.traffic, Traffic()
        return old

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` through the S3 API (boto3)."""
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=KEY,
            aws_secret_access_key=SECRET, region_name=REGION,
        )
        s3.create_bucket(Bucket=name)

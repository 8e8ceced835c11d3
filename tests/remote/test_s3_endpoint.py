"""The test endpoint itself: a real S3 server reached over TCP, its traffic counted."""

from __future__ import annotations

from typing import Any


def test_endpoint_answers_s3_over_tcp(bucket: Any) -> None:
    fs = bucket.fs()
    bucket.server.reset_traffic()
    fs.pipe(f"{bucket.name}/a/b.bin", b"x" * 1000)
    assert fs.cat(f"{bucket.name}/a/b.bin") == b"x" * 1000
    assert fs.ls(f"{bucket.name}/a", detail=False) == [f"{bucket.name}/a/b.bin"]
    t = bucket.server.reset_traffic()
    assert t.requests["PUT"] >= 1 and t.reads() >= 2
    assert t.bytes_in >= 1000 and t.bytes_out >= 1000

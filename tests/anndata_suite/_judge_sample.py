"""pytest plugin of the judge (both sides): run a fixed, documented sample of a suite.

With ``ANNSTORE_JUDGE_SAMPLE=<p>`` (a percentage), only the tests whose node id hashes
(SHA-1, first 8 hex digits, mod 100) below ``p`` run; the rest are deselected. The selection
depends on the node id alone, so both sides and every run select the same tests.
"""

from __future__ import annotations

import hashlib
import os


def in_sample(nodeid: str, pct: float) -> bool:
    return int(hashlib.sha1(nodeid.encode()).hexdigest()[:8], 16) % 100 < pct


def pytest_collection_modifyitems(session, config, items):  # noqa: ARG001
    pct = os.environ.get("ANNSTORE_JUDGE_SAMPLE", "")
    if not pct:
        return
    keep, drop = [], []
    for item in items:
        (keep if in_sample(item.nodeid, float(pct)) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

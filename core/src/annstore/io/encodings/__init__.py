"""The element encodings of the anndata on-disk spec, written once against the store protocol.

Each module registers its readers and writers on :data:`ENCODINGS`; the built-in plugin replays
them onto the live registry through ``annstore_register_encodings``.
"""

from __future__ import annotations

from .._registry import EncodingCollector

ENCODINGS = EncodingCollector()

# Importing the modules registers their encodings on ENCODINGS.
from . import (  # noqa: E402
    _anndata,  # noqa: F401
    _arrays,  # noqa: F401
    _awkward,  # noqa: F401
    _categorical,  # noqa: F401
    _dataframe,  # noqa: F401
    _mapping,  # noqa: F401
    _nullable,  # noqa: F401
    _scalars,  # noqa: F401
    _sparse,  # noqa: F401
)

__all__ = ["ENCODINGS"]

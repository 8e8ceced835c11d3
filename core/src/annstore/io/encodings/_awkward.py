"""Awkward-array encoding: ``awkward-array`` 0.1.0 (needs the optional ``awkward`` package).

On-disk layout
--------------
``awkward-array`` 0.1.0
    A group with two attributes, ``length`` (the array's outer length, an int) and ``form``
    (the JSON text of the array's awkward form, as ``Form.to_json()`` writes it), and one child
    per buffer of ``ak.to_buffers(ak.to_packed(array))``, named by awkward's buffer key
    (``node0-offsets``, ``node1-data``, ``node0-index``, ...) and written as an ordinary element
    (``array`` 0.2.0). Reading calls ``ak.from_buffers(form, length, buffers)``.

Laziness
--------
``awkward`` is imported only when an awkward element is read or written, never by
``import annstore``. The reader is always registered (reading without awkward installed raises
:class:`~annstore.errors.EncodingNotFoundError` saying ``pip install awkward``). The writer is
keyed by ``awkward.Array``, a type that exists only once awkward is imported, so it is added to
a registry by :func:`register` (when awkward is already imported as the registry is built) or
by :func:`register_writer` (called lazily the first time an awkward value is written).

Reading checks the file before handing buffers to awkward (which reinterprets raw bytes): the
``form`` must parse, every buffer the form needs must be present as an array, and each buffer's
dtype must be the one the form declares (a lossless upcast is accepted).
"""

from __future__ import annotations

import copy
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import EncodingNotFoundError, UnsupportedValueError
from .._spec import IOSpec
from . import ENCODINGS
from ._common import child, invalid, read_attr

if TYPE_CHECKING:
    from ...types import GroupLike
    from .._dispatch import ReadContext, WriteContext
    from .._registry import Registry

__all__ = [
    "AWKWARD",
    "ensure_registered",
    "is_awkward",
    "read_awkward",
    "register",
    "register_writer",
    "write_awkward",
]

AWKWARD = IOSpec("awkward-array", "0.1.0")

_OWNER = "annstore (awkward)"
_INSTALL = "pip install awkward"


def is_awkward(value: Any) -> bool:
    """Whether ``value`` is an awkward array (checked without importing awkward)."""
    ak = sys.modules.get("awkward")  # an awkward array exists only once awkward is imported
    return ak is not None and isinstance(value, ak.Array)


def import_awkward(where: str = "") -> ModuleType:
    """Import ``awkward``, or raise :class:`EncodingNotFoundError` naming what to install."""
    try:
        import awkward
    except ImportError as e:
        place = f" ({where})" if where else ""
        msg = (
            f"Elements encoded as {AWKWARD}{place} need the optional 'awkward' package, "
            f"which is not installed: {_INSTALL}"
        )
        raise EncodingNotFoundError(msg) from e
    return awkward


# ------------------------------------------------------------------------------------ write


def write_awkward(
    parent: GroupLike, key: str, value: Any, *, ctx: WriteContext, dataset_kwargs: dict[str, Any]
) -> None:
    """Write an awkward array as a group of its packed buffers, with ``length`` and ``form``."""
    ak = import_awkward()
    arr = value
    if ak.parameters(arr).get("_view_args") is not None:
        arr = copy.copy(arr)  # an AnnData view's array: written without the view's parameters
    if ak.backend(arr) != "cpu":
        arr = ak.to_backend(arr, "cpu")
    form, length, container = ak.to_buffers(ak.to_packed(arr))
    buffers = {k: np.asarray(v) for k, v in container.items()}
    for k, buf in buffers.items():
        if buf.dtype.kind not in "biuf":
            msg = (
                f"Cannot write awkward array {key!r}: expected numeric or boolean buffers; "
                f"buffer {k!r} has dtype {buf.dtype} (e.g. datetimes are not storable as "
                "anndata arrays). Convert that field first."
            )
            raise UnsupportedValueError(msg)
    g = parent.create_group(key)
    g.attrs["length"] = int(length)
    g.attrs["form"] = form.to_json()
    for k, buf in buffers.items():
        ctx.write_elem(g, k, buf, dataset_kwargs=dataset_kwargs)


# ------------------------------------------------------------------------------------- read


@ENCODINGS.reader(AWKWARD)
def read_awkward(node: GroupLike, *, ctx: ReadContext) -> Any:
    """Read an ``awkward-array`` group back into an ``awkward.Array``."""
    ak = import_awkward(f"element {getattr(node, 'name', '?')!r}")
    form_json = read_attr(node, "form")
    if not isinstance(form_json, str):
        raise invalid(node, f"expected attribute 'form' to be JSON text; got {form_json!r}.")
    length = read_attr(node, "length")
    if isinstance(length, float) and length.is_integer():
        length = int(length)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise invalid(node, f"expected attribute 'length' to be a non-negative int; got {length!r}.")
    try:
        form = ak.forms.from_json(form_json)
        expected: dict[str, np.dtype[Any]] = form.expected_from_buffers()
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        msg = f"attribute 'form' is not a valid awkward form ({type(e).__name__}: {e})."
        raise invalid(node, msg) from e
    missing = [k for k in expected if k not in node]
    if missing:
        msg = (
            f"expected the buffers {sorted(expected)!r} that its form names; "
            f"missing {missing!r} (found {sorted(node.keys())!r})."
        )
        raise invalid(node, msg)
    container: dict[str, np.ndarray] = {}
    for k, dtype in expected.items():
        buf = ctx.read_elem(child(node, k, array=True))
        if not isinstance(buf, np.ndarray) or buf.dtype.kind not in "biuf":
            what = f"dtype {buf.dtype}" if isinstance(buf, np.ndarray) else type(buf).__name__
            raise invalid(node, f"expected buffer {k!r} to be a numeric array; got {what}.")
        if buf.dtype != dtype:
            if not np.can_cast(buf.dtype, dtype, "safe"):
                msg = f"expected buffer {k!r} of dtype {np.dtype(dtype)}; got {buf.dtype}."
                raise invalid(node, msg)
            buf = buf.astype(dtype)
        container[k] = np.ascontiguousarray(buf)
    try:
        return ak.from_buffers(form, length, container)
    except (ValueError, TypeError, IndexError) as e:
        msg = f"its buffers do not fit its form and length {length} ({type(e).__name__}: {e})."
        raise invalid(node, msg) from e


# ------------------------------------------------------------------------------ registration


def register_writer(registry: Registry) -> None:
    """Add the ``awkward.Array`` writer to ``registry`` (imports awkward)."""
    ak = import_awkward()
    registry.register_writer(ak.Array, AWKWARD, write_awkward, owner=_OWNER)


def register(registry: Registry) -> None:
    """Add the awkward writer to ``registry`` if awkward is already imported (never imports it).

    Called when a registry is built; values written later are caught by the lazy path of
    ``Registry.find_writer``, which calls :func:`register_writer`.
    """
    if "awkward" in sys.modules:
        register_writer(registry)


def ensure_registered() -> None:
    """Make sure the live registry can write awkward arrays (imports awkward)."""
    from .._plugins import get_registry

    ak = import_awkward()
    reg = get_registry()
    if not any(t is ak.Array for (t, _, _) in reg.writers):
        register_writer(reg)

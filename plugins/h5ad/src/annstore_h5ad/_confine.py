"""Reads of an HDF5 file stay inside that file.

HDF5 can make an element of one file read bytes of another: an external link, a soft link
that goes through one, a dataset with *external raw storage* (its bytes live in any file
named in its creation property list, ``/etc/passwd`` included), a *virtual dataset* mapping
datasets of other files. A crafted ``.h5ad`` or ``.loom`` would then hand those bytes back as
X or uns. annstore refuses each of them, before any data is read, with one
:class:`~annstore.errors.InvalidFileError` naming the file and the element, unless the
caller opts in with ``annstore.settings.allow_outside_data = True`` (or, per call for h5ad,
the older ``storage_options={"allow_external_links": True}``).

The adapters of :mod:`annstore_h5ad._store` call :func:`check_storage` on every dataset they
wrap and check links on every lookup; readers that use h5py directly (loom, ``read_hdf``)
go through :func:`confine_file` or :func:`confined`.
"""

from __future__ import annotations

from typing import Any

import h5py
from annstore.errors import InvalidFileError
from h5py import h5d

__all__ = ["OPT_IN", "check_storage", "confine_file", "confined", "outside_data_allowed"]

#: How to opt in, for error messages (h5ad also keeps the per-call storage option
#: ``allow_external_links``).
OPT_IN = "set annstore.settings.allow_outside_data = True to read it anyway"


def outside_data_allowed(flag: bool = False) -> bool:
    """Whether reads may leave the file: ``flag`` (a per-call opt-in) or the global setting.

    Parameters
    ----------
    flag
        The caller's own opt-in (``storage_options={"allow_external_links": True}``).
    """
    from annstore import settings

    return bool(flag) or bool(settings.allow_outside_data)


def _names(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def check_storage(ds: h5py.Dataset, *, filename: Any, path: str) -> None:
    """Refuse a dataset whose bytes are stored outside its own file.

    Reads only the dataset's creation properties (no data). A virtual dataset whose sources
    are all in the same file (source file ``"."``) is allowed.

    Parameters
    ----------
    ds
        The dataset.
    filename
        The file it belongs to, for the message.
    path
        Its element path, for the message.

    Raises
    ------
    InvalidFileError
        ``ds`` uses external raw storage, or is a virtual dataset with a source in another file.
    """
    dcpl = ds.id.get_create_plist()
    n_ext = dcpl.get_external_count()
    if n_ext:
        files = sorted({_names(dcpl.get_external(i)[0]) for i in range(n_ext)})
        msg = (
            f"Expected the data of {path!r} to be stored in {str(filename)!r}; it is HDF5 "
            f"external raw storage whose bytes are read from {files}. Data outside the file "
            f"is not read; {OPT_IN}."
        )
        raise InvalidFileError(msg, filename=filename, path=path)
    if dcpl.get_layout() == h5d.VIRTUAL:
        sources = {_names(dcpl.get_virtual_filename(i)) for i in range(dcpl.get_virtual_count())}
        outside = sorted(sources - {"."})
        if outside:
            msg = (
                f"Expected the data of {path!r} to be stored in {str(filename)!r}; it is an HDF5 "
                f"virtual dataset mapping datasets of {outside}. Data outside the file is not "
                f"read; {OPT_IN}."
            )
            raise InvalidFileError(msg, filename=filename, path=path)


def confined(f: h5py.Group, key: str) -> Any:
    """``f[key]`` after checking that neither the links on the way nor its storage leave the file.

    Parameters
    ----------
    f
        An open h5py file or group.
    key
        Path of the element, relative to ``f``.

    Returns
    -------
    The h5py object at ``key``.
    """
    from ._store import H5Group

    return H5Group(f)[key].h5


def confine_file(f: h5py.Group) -> None:
    """Check every element of an HDF5 file (or group) before a reader uses h5py on it directly.

    Walks every link below ``f`` (metadata only): external links, soft links leaving the file
    or dangling, and datasets with external or virtual storage raise. Does nothing under the
    opt-in. Readers that read every element anyway (loom) call this once after opening.

    Parameters
    ----------
    f
        An open h5py file or group.

    Raises
    ------
    InvalidFileError
        The first element that leaves the file, named with the file.
    """
    from ._store import H5Group

    root = H5Group(f)
    if root._allow_ext:
        return
    seen: set[Any] = set()

    def walk(g: H5Group) -> None:
        seen.add(g.h5.id)
        for key in g.keys():
            node = g[key]  # refuses links leaving the file and outside storage
            if isinstance(node, H5Group) and node.h5.id not in seen:
                walk(node)

    walk(root)

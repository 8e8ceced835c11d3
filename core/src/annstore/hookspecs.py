"""The contract between annstore's core and its plugins.

A plugin is a module of functions marked with :data:`hookimpl`, registered under the
entry-point group ``annstore.plugins`` (name = format name, value = the module). Core's own
defaults (the anndata element encodings and the in-memory ``memory`` format) are registered
through the very same hooks.

Rules every hook follows:

* All hook names start with ``annstore_`` and are always called with keyword arguments, so an
  implementation may accept any subset of a spec's parameters.
* ``firstresult`` hooks stop at the first implementation that returns something other than
  ``None``; returning ``None`` means "not mine, ask the next plugin".
* Historic hooks (``annstore_format_info`` excepted) are replayed to plugins registered later,
  so registration order does not matter.

Families: discovery (``annstore_format_info``, ``annstore_guess_format``), store access
(``annstore_open_store``, ``annstore_adapt_node``), element encoding
(``annstore_register_encodings``, ``annstore_concat_elems``), backed access (``annstore_backed_sparse_source``,
``annstore_read_backed``) and
whole-file IO (``annstore_read_file``, ``annstore_write_file``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from ._anndata import AnnData
    from .io._registry import Registry
    from .io._spec import FormatInfo
    from .types import ArrayLike, BackedSparseSource, GroupLike, OpenMode

__all__ = ["PLUGIN_API_VERSION", "PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "annstore"

#: The version of this contract (the hooks, their arguments and the store protocol). A plugin
#: module loaded from an entry point declares the version it was built for as its module
#: attribute ``ANNSTORE_PLUGIN_API``; one that declares another version, or none, is skipped
#: with a :class:`~annstore.errors.PluginLoadWarning` naming it, instead of failing later.
#: Raised only when a change breaks existing plugins.
PLUGIN_API_VERSION = 1
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ------------------------------------------------------------------------------ discovery


@hookspec
def annstore_format_info() -> FormatInfo | list[FormatInfo]:
    """Describe the format(s) this plugin provides.

    Return a :class:`~annstore.FormatInfo` (or a list of them for a plugin providing several
    formats). All results are collected; a format name claimed twice warns and the first
    registered plugin keeps it.

    Core uses every field (see :class:`~annstore.FormatInfo`): ``hierarchical`` (whether
    ``annstore_open_store`` gives a store of elements), ``supports_backed`` (``read(...,
    backed=...)`` is refused without it), ``supports_append`` (``CSRDataset.append``,
    ``concat_on_disk`` output and block-wise sparse writes are refused without it),
    ``suffixes`` and ``magic`` (format guessing when no ``annstore_guess_format`` claims a
    path), ``package`` (install hints and ``annstore formats``) and ``version``.

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by every format plugin.
    """


@hookspec(firstresult=True)
def annstore_guess_format(path: Path | str, head: bytes, is_dir: bool) -> str | None:
    """Name the format of ``path`` from its suffix and its first bytes.

    Return the format name, or ``None`` when the file is not yours.
    Stops at first non-None result. When every implementation returns ``None``, core guesses
    from what the installed formats declare: ``FormatInfo.suffixes`` (the longest match), then
    ``FormatInfo.magic`` (for paths without a known suffix). A plugin whose files are told
    apart by suffix or magic bytes alone needs no implementation of this hook.

    Parameters
    ----------
    path
        The path or URL as given by the user.
    head
        Up to the first 512 bytes of the file (empty for directories and URLs). Core reads them
        once, so plugins need not import their storage library to answer.
    is_dir
        Whether ``path`` is a local directory.

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by every format plugin.
    """


# ---------------------------------------------------------------------------- store access


@hookspec(firstresult=True)
def annstore_open_store(
    path: Path | str, format: str, mode: OpenMode, storage_options: dict[str, Any]
) -> GroupLike | None:
    """Open ``path`` as the root group of a hierarchical store.

    Return the root :class:`~annstore.types.GroupLike` (which must have a ``close()`` method),
    or ``None`` when ``format`` is not the one your plugin provides.
    Stops at first non-None result. Core checks the result: a node without the class
    attribute ``_annstore_node = True``, or whose ``format`` is not ``format`` (a plugin that
    forgot its format check), is closed and refused with
    :class:`~annstore.errors.PluginError` naming the plugin.

    Parameters
    ----------
    path
        Local path or URL, as given by the user (``str`` or :class:`~pathlib.Path`).
    format
        The format name core resolved (explicit or guessed).
    mode
        One of ``"r"``, ``"r+"``, ``"w"``, ``"a"``; core has checked it.
    storage_options
        Backend options (e.g. fsspec options for remote stores, or the zarr format to write);
        may be empty. Format-neutral keys core may pass: ``chunk_cache_bytes`` (per-array read
        cache size; ignore it if you have no cache).

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by hierarchical format plugins (h5ad, zarr, tiledb). Text and loom do not.
    """


@hookspec(firstresult=True)
def annstore_adapt_node(obj: Any) -> GroupLike | ArrayLike | None:
    """Wrap a native storage object (an ``h5py.Group``, a ``zarr.Array``, ...) as a store node.

    Return the adapted node, or ``None`` when ``obj`` is not one of your library's objects
    (check the type by module name before importing anything). Already-adapted nodes never
    reach this hook. Stops at first non-None result.

    Lets users call ``read_elem(h5py_file["obs"])`` exactly as with anndata.

    Parameters
    ----------
    obj
        The object passed to ``read_elem``/``write_elem`` (or a callback) that is not yet a
        store node.

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by hierarchical format plugins.
    """


# ------------------------------------------------------------------------ element encoding


@hookspec(historic=True)
def annstore_register_encodings(registry: Registry) -> None:
    """Register element readers and writers on ``registry``.

    Add readers keyed by :class:`~annstore.IOSpec` (optionally for one format only) and
    writers keyed by Python type and dtype kind. Registering a different function under a key
    that is already taken raises :class:`~annstore.errors.PluginConflictError` naming both
    registrants; core then rolls back everything this implementation registered, skips the
    plugin (none of its hooks is called) and warns once with
    :class:`~annstore.errors.PluginLoadWarning`, as for a plugin that fails to import. The
    return value is ignored.

    A writer must create ``parent[key]``; a reader reports malformed input by raising
    :class:`~annstore.errors.InvalidFileError`. Any other exception raised by a plugin's
    reader's own code (and a reader reading its own element again) is reported as a
    :class:`~annstore.errors.PluginError` naming the reader, not as a malformed file.

    Parameters
    ----------
    registry
        The :class:`~annstore.io.Registry` of the plugin manager being built.

    Notes
    -----
    .. versionadded:: 0.1

    Core registers the whole anndata on-disk spec through this hook. A storage plugin
    overrides an encoding for its own format only where that format truly differs; a third
    party adds new element types.
    """


@hookspec(firstresult=True)
def annstore_concat_elems(elems: list[Any], axis: int, fill_value: Any) -> Any | None:
    """Concatenate elements of a third-party type, for :func:`annstore.concat`.

    Called when ``concat`` meets elements (in ``obsm``, ``varm``, ``layers`` or ``X``) that
    are not numpy, scipy sparse, dask, array-API arrays, DataFrames or awkward arrays.
    Return the concatenated element, or ``None`` when the elements are not of your type
    (dispatch on their Python type: ``isinstance``). Stops at first non-None result; when
    every implementation returns ``None``, concat raises
    :class:`~annstore.errors.CapabilityError` naming the type.

    Parameters
    ----------
    elems
        One element per input AnnData, in order; ``None`` where an input lacks the element (an
        outer join): fill it with ``fill_value`` or raise.
    axis
        The axis of the elements to concatenate along (0 for ``obsm`` when concatenating
        observations).
    fill_value
        The ``fill_value`` given to ``concat`` (``None``: the default).

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by plugins that add an element type (with ``annstore_register_encodings``).
    """


# ------------------------------------------------------------------------ backed access


@hookspec(firstresult=True)
def annstore_backed_sparse_source(group: GroupLike) -> BackedSparseSource | None:
    """Give fast raw access to the ``data``/``indices``/``indptr`` arrays of a stored sparse matrix.

    Return a :class:`~annstore.types.BackedSparseSource`, or ``None`` to let core use its
    generic source built on :class:`~annstore.types.ArrayLike` slicing.
    Stops at first non-None result.

    Parameters
    ----------
    group
        The adapted group of a ``csr_matrix`` / ``csc_matrix`` element.

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by hierarchical backends with a faster path than plain slicing (h5py
    ``read_direct``, batched zarr reads).
    """


@hookspec(firstresult=True)
def annstore_read_backed(
    path: Any, format: str, mode: str, storage_options: dict[str, Any] | None
) -> AnnData | None:
    """Read an AnnData whose X (and raw.X) stay in the file, for ``read(path, backed=mode)``.

    Return the backed AnnData, or ``None`` to let the next implementation answer.
    Stops at first non-None result.

    Parameters
    ----------
    path
        The file or store, as given by the user.
    format
        The file's format; its :class:`~annstore.FormatInfo` has ``supports_backed``.
    mode
        ``"r"`` (read-only) or ``"r+"`` (dense X writable in place).
    storage_options
        Passed on to the store plugin (``None``: none given).

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by core's backed layer (:mod:`annstore.backed`, over ``annstore_open_store``
    of every hierarchical format), so io needs no import of it.
    """


# ------------------------------------------------------------------------- whole-file IO


@hookspec(firstresult=True)
def annstore_read_file(path: Path | str, format: str, options: dict[str, Any]) -> AnnData | None:
    """Read a whole file of a non-hierarchical format into an AnnData.

    Return the AnnData, or ``None`` when ``format`` is not yours.
    Stops at first non-None result.

    Parameters
    ----------
    path
        The file, as given by the user.
    format
        The format name core resolved (explicit or guessed).
    options
        Reader keyword arguments given by the user (e.g. ``delimiter``).

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by whole-file format plugins (loom, text).
    """


@hookspec(firstresult=True)
def annstore_write_file(
    adata: AnnData, path: Path | str, format: str, options: dict[str, Any]
) -> bool | None:
    """Write ``adata`` as a whole file of a non-hierarchical format.

    Return ``True`` once written, or ``None`` when ``format`` is not yours.
    Stops at first non-None result. Core makes the write atomic: ``path`` is a temporary
    sibling of the target that core renames into place after you return.

    Parameters
    ----------
    adata
        The AnnData to write.
    path
        Where to write (core's temporary sibling of the target).
    format
        The format name core resolved (explicit or guessed from the target's suffix).
    options
        Writer keyword arguments given by the user.

    Notes
    -----
    .. versionadded:: 0.1

    Implemented by whole-file format plugins that can write (loom, text's csvs).
    """

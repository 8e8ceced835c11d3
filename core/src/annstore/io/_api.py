"""User-facing IO: ``read``/``write`` by format, ``open_store``, and anndata's ``read_*``/``write_*``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from .._anndata import _strings_to_categoricals
from ..errors import CapabilityError, FileReplacedError, UnknownFormatError
from ._atomic import TMP_MARK, atomic_target, is_local_path
from ._dispatch import ReadContext, WriteContext
from ._guess import _suffix_match, guess_format, require_format
from ._identity import pin_path
from ._plugins import get_plugin_manager, open_store_root

if TYPE_CHECKING:
    from .._anndata import AnnData
    from ..types import GroupLike, OpenMode

__all__ = [
    "open_store",
    "read",
    "read_anndata_from",
    "read_csv",
    "read_excel",
    "read_h5ad",
    "read_hdf",
    "read_loom",
    "read_mtx",
    "read_text",
    "read_umi_tools",
    "read_zarr",
    "write",
    "write_anndata_to",
    "write_csvs",
    "write_h5ad",
    "write_loom",
    "write_zarr",
]

_MODES = ("r", "r+", "w", "a")


@contextmanager
def open_store(
    path: Any,
    *,
    format: str | None = None,
    mode: OpenMode = "r",
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[GroupLike]:
    """Open a hierarchical store and yield its root group; closed on exit.

    Parameters
    ----------
    path
        Local path, URL, or a native store object the format plugin understands.
    format
        Format name; guessed from the suffix and magic bytes when omitted (``w`` mode uses
        the suffix only).
    mode
        ``"r"``, ``"r+"``, ``"w"`` (truncate) or ``"a"``.
    storage_options
        Passed to the plugin (e.g. fsspec options, ``zarr_format``).
    """
    if mode not in _MODES:
        msg = f"Expected mode one of {_MODES}; got {mode!r} instead."
        raise ValueError(msg)
    fmt = format or (_guess_for_write(path) if mode == "w" else guess_format(path))
    info = require_format(fmt)
    if not info.hierarchical:
        msg = f"Format {fmt!r} is not hierarchical; it has no store to open. Use annstore.read()."
        raise CapabilityError(msg)
    root = open_store_root(path, format=fmt, mode=mode, storage_options=dict(storage_options or {}))
    if root is None:
        msg = f"The {fmt!r} plugin did not open {str(path)!r}."
        raise UnknownFormatError(msg)
    try:
        yield root
    finally:
        close = getattr(root, "close", None)
        if close is not None:
            close()


def _guess_for_write(path: Any) -> str:
    pm = get_plugin_manager()
    name = pm.hook.annstore_guess_format(path=path, head=b"", is_dir=False)
    if name is not None:
        return str(name)
    kf = _suffix_match(path)
    if kf is not None:
        require_format(kf.name)  # raises the install hint when missing
        return kf.name
    installed = ", ".join(sorted(pm.formats))
    msg = (
        f"Could not determine the format to write {str(path)!r} from its suffix; pass "
        f"format= (installed formats: {installed})."
    )
    raise UnknownFormatError(msg)


def read_anndata_from(root: GroupLike, **options: Any) -> AnnData:
    """Read the AnnData stored at ``root`` (any anndata layout, legacy ones included)."""
    from .encodings._anndata import read_anndata_root

    return read_anndata_root(root, ctx=ReadContext(options=options))


def write_anndata_to(
    root: GroupLike, adata: AnnData, *, dataset_kwargs: Mapping[str, Any] | None = None, **options: Any
) -> None:
    """Write ``adata`` as the content of the (empty) root group ``root``."""
    from .encodings._anndata import write_anndata_into

    write_anndata_into(root, adata, ctx=WriteContext(options=options), dataset_kwargs=dataset_kwargs or {})


def read(
    path: Any,
    format: str | None = None,
    *,
    backed: Literal["r", "r+"] | bool | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> AnnData:
    """Read an AnnData from any installed format, chosen by ``format`` or guessed.

    Parameters
    ----------
    path
        File, directory or URL.
    format
        Format name (see :func:`annstore.list_formats`); guessed from the suffix and magic
        bytes when omitted.
    backed
        ``"r"`` or ``"r+"`` to keep X on disk (formats with ``supports_backed``).
    storage_options
        Passed to the storage plugin (fsspec options for remote zarr stores).
    options
        Format-specific reader options (``as_sparse`` for h5ad, ``delimiter`` for text, ...).
    """
    if not backed and is_local_path(path):
        return _read_consistent(path, format, storage_options, options)
    return _read_once(path, format, backed, storage_options, options)


#: How often a whole read is retried when the file was replaced while it was being read.
_SWAP_RETRIES = 12


def _swap_in_progress(path: Any) -> bool:
    p = Path(path)
    try:
        return any(p.parent.glob(f"{TMP_MARK}old-*-{p.name}"))
    except OSError:
        return False


def _read_consistent(
    path: Any, format: str | None, storage_options: Any, options: dict[str, Any]
) -> AnnData:
    """Read ``path`` so that a concurrent atomic replacement is never seen half-way.

    What ``path`` names is pinned before the read (:class:`~annstore.io._identity.StorePin`:
    an open descriptor, so its inode number cannot be reused meanwhile, and a directory
    store's generation token). When the path names something else after the read, or the
    read failed while a replacement was under way, the read is repeated, so the result is
    wholly the old or wholly the new content. This matters for directory stores (zarr), whose
    chunks are opened by path one at a time; a file (h5ad) is held open and is consistent
    anyway. A path replaced during every attempt raises :class:`FileReplacedError`.
    """
    for attempt in range(_SWAP_RETRIES):
        pin = pin_path(path)
        try:
            try:
                out = _read_once(path, format, None, storage_options, options)
            except Exception:
                if attempt + 1 < _SWAP_RETRIES and (
                    _swap_in_progress(path) if pin is None else not pin.matches()
                ):
                    time.sleep(min(0.005 * 2**attempt, 0.25))
                    continue
                raise
            if pin is None or pin.matches():
                return out
        finally:
            if pin is not None:
                pin.close()
        time.sleep(min(0.005 * 2**attempt, 0.25))
    msg = (
        f"{str(path)!r} was replaced during each of {_SWAP_RETRIES} attempts to read it; "
        "read it again once its writer is done."
    )
    raise FileReplacedError(msg, filename=str(path))


def _read_once(
    path: Any, format: str | None, backed: Any, storage_options: Any, options: dict[str, Any]
) -> AnnData:
    fmt = format or guess_format(path)
    info = require_format(fmt)
    if backed:
        if not info.supports_backed:
            msg = f"Format {fmt!r} does not support backed mode."
            raise CapabilityError(msg)
        mode = "r+" if backed is True else backed
        res = get_plugin_manager().hook.annstore_read_backed(
            path=path, format=fmt, mode=mode, storage_options=storage_options
        )
        if res is None:
            msg = f"No installed plugin reads {fmt!r} in backed mode (the backed layer, annstore.backed, is not loaded)."
            raise CapabilityError(msg)
        return res
    if info.hierarchical:
        with open_store(path, format=fmt, mode="r", storage_options=storage_options) as root:
            return read_anndata_from(root, **options)
    res = get_plugin_manager().hook.annstore_read_file(path=path, format=fmt, options=options)
    if res is None:
        msg = f"The {fmt!r} plugin could not read {str(path)!r}."
        raise UnknownFormatError(msg)
    return res


def write(
    adata: AnnData,
    path: Any,
    format: str | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    dataset_kwargs: Mapping[str, Any] | None = None,
    atomic: bool = True,
    **options: Any,
) -> None:
    """Write ``adata`` to ``path`` in any installed format, chosen by ``format`` or the suffix.

    Local whole-file writes are atomic: the data goes to a temporary sibling that replaces
    ``path`` only once complete, so a crash never destroys the previous file.

    Parameters
    ----------
    adata
        The AnnData to write.
    path
        Target path (or store / URL for zarr).
    format
        A format name from :func:`annstore.list_formats` (``"h5ad"``, ``"zarr"``, ``"loom"``,
        ...); guessed from the suffix of ``path`` when omitted.
    storage_options
        Options of the fsspec filesystem for a URL target.
    dataset_kwargs
        Storage options of every array (``{"compression": "gzip"}``).
    atomic
        Write to a temporary sibling and rename it into place (default). ``False`` writes in
        place (faster on some remote stores, unsafe on failure).
    **options
        Format-specific options, as the format's own writer takes them (for instance
        ``convert_strings_to_categoricals`` or ``as_dense`` for h5ad).

    Raises
    ------
    UnknownFormatError
        No installed format matches ``format`` or the suffix of ``path``.
    WriteTargetError
        The target cannot be written (a directory where a file goes, no permission); nothing
        was changed.
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).

    Examples
    --------
    >>> import numpy as np
    >>> import annstore as ad
    >>> adata = ad.AnnData(np.ones((3, 2), dtype=np.float32))
    >>> ad.write(adata, "example.zarr")  # the zarr format, from the suffix  # doctest: +SKIP
    """
    from .._xarray import refuse_dataset2d

    refuse_dataset2d(adata)
    fmt = format or _guess_for_write(path)
    info = require_format(fmt)
    pm = get_plugin_manager()
    if info.hierarchical:
        def _do(target: Any) -> None:
            with open_store(target, format=fmt, mode="w", storage_options=storage_options) as root:
                write_anndata_to(root, adata, dataset_kwargs=dataset_kwargs, **options)

        if atomic and is_local_path(path):
            with atomic_target(path, keep_partial_new=True) as tmp:
                _do(tmp)
        else:
            _do(path)
        return

    def _do_file(target: Any) -> None:
        res = pm.hook.annstore_write_file(adata=adata, path=target, format=fmt, options=options)
        if res is None:
            msg = f"Format {fmt!r} cannot write files."
            raise CapabilityError(msg)

    if atomic and is_local_path(path):
        with atomic_target(path) as tmp:
            _do_file(tmp)
    else:
        _do_file(path)


# --------------------------------------------------------------- anndata's format functions


def _compression_kwargs(compression: Any, compression_opts: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if compression is not None:
        kw["compression"] = compression
    if compression_opts is not None:
        kw["compression_opts"] = compression_opts
    return kw




def read_h5ad(
    filename: PathLike[str] | str,
    backed: Literal["r", "r+"] | bool | None = None,
    *,
    as_sparse: Sequence[str] = (),
    as_sparse_fmt: type = None,  # type: ignore[assignment]
    chunk_size: int = 6000,
    storage_options: Mapping[str, Any] | None = None,
) -> AnnData:
    """Read a ``.h5ad`` file into an AnnData (anndata's signature and results).

    Needs the annstore-h5ad plugin (installed with ``pip install annstore``). Reading runs no
    code from the file, and a malformed file raises one
    :class:`~annstore.errors.InvalidFileError` naming the file and the element.

    Parameters
    ----------
    filename
        Path of the file, a URL (``s3://...``, read through fsspec with a block cache, see
        ``storage_options``), or a readable binary file object (``fsspec``'s ``fs.open``).
    backed
        ``"r"`` or ``"r+"`` (``True`` means ``"r+"``): open in backed mode, loading everything
        but ``X`` (and ``raw.X``), which stay on disk and are read on indexing; in ``"r+"``
        mode edits of ``X`` write through to the file. ``None`` or ``False``: read everything
        into memory.
    as_sparse
        Dense elements to read as sparse matrices: ``"X"``, ``"raw/X"`` (read chunk by chunk,
        so a large dense matrix never sits in memory whole).
    as_sparse_fmt
        The sparse class to read them as: :class:`scipy.sparse.csr_matrix` (default) or
        :class:`scipy.sparse.csc_matrix`.
    chunk_size
        Rows read at a time when converting ``as_sparse`` elements.
    storage_options
        For a URL (annstore's extension): options of its fsspec filesystem (endpoint,
        credentials), plus ``block_size`` (bytes fetched per request, default 4 MiB) and
        ``cache_type`` (default ``"blockcache"``). Files at URLs are read-only.

    Returns
    -------
    AnnData
        The file's contents; backed (``adata.isbacked``) when ``backed`` was given.

    Raises
    ------
    FileNotFoundError
        ``filename`` does not exist.
    InvalidFileError
        The file is not an HDF5 file, or an element of it is malformed.
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).

    Examples
    --------
    >>> import annstore as ad
    >>> adata = ad.read_h5ad("pbmc.h5ad")  # doctest: +SKIP
    >>> backed = ad.read_h5ad("pbmc.h5ad", backed="r")  # X stays on disk  # doctest: +SKIP
    >>> backed[:100].to_memory()  # doctest: +SKIP
    """
    if as_sparse_fmt is None:
        from scipy.sparse import csr_matrix

        as_sparse_fmt = csr_matrix
    return read(
        filename, "h5ad", backed=backed, as_sparse=tuple(as_sparse), as_sparse_fmt=as_sparse_fmt,
        chunk_size=chunk_size, storage_options=storage_options,
    )


def write_h5ad(
    filepath: PathLike[str] | str,
    adata: AnnData,
    *,
    convert_strings_to_categoricals: bool = True,
    compression: Literal["gzip", "lzf"] | None = None,
    compression_opts: Any = None,
    as_dense: Sequence[str] = (),
) -> None:
    """Write ``adata`` to a ``.h5ad`` file (anndata's signature and results). Needs annstore-h5ad.

    The file is written to a temporary sibling and renamed into place when complete: a failed
    write never destroys an existing file.

    Parameters
    ----------
    filepath
        Path of the file.
    adata
        The AnnData to write.
    convert_strings_to_categoricals
        Turn string columns of ``obs``/``var`` with repeated values into categoricals first.
    compression
        HDF5 compression filter of the arrays: ``"gzip"``, ``"lzf"`` or ``None``.
    compression_opts
        Options of the filter (the gzip level, 0-9).
    as_dense
        Sparse elements to write dense: ``"X"``, ``"raw/X"``.

    Raises
    ------
    WriteTargetError
        The target cannot be written (it is a directory, or not writable); nothing was changed.
    ElementWriteError
        An element cannot be encoded (the message names it); an existing file is kept.
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).

    Examples
    --------
    >>> import numpy as np
    >>> import annstore as ad
    >>> adata = ad.AnnData(np.ones((3, 2), dtype=np.float32))
    >>> ad.io.write_h5ad("example.h5ad", adata, compression="gzip")  # doctest: +SKIP
    """
    _strings_to_categoricals(adata, convert_strings_to_categoricals)
    write(
        adata, filepath, "h5ad",
        dataset_kwargs=_compression_kwargs(compression, compression_opts),
        as_dense=tuple(as_dense),
    )


def read_hdf(filename: PathLike[str] | str, key: str) -> AnnData:
    """Read a 2-D table stored by pandas/PyTables HDF5 under ``key``. Needs annstore-h5ad.

    Parameters
    ----------
    filename
        Path of the HDF5 file.
    key
        Name of the table in the file.

    Returns
    -------
    AnnData
        ``X`` from the table's values, ``obs_names`` from its index and ``var_names`` from its
        columns.

    Raises
    ------
    KeyError
        The file has no dataset ``key`` (the message lists what it stores).
    ValueError
        ``key`` is empty (the message lists the datasets to choose from).
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    require_format("h5ad")
    res = get_plugin_manager().hook.annstore_read_file(
        path=filename, format="hdf", options={"key": key}
    )
    if res is None:
        msg = "The annstore-h5ad plugin does not provide read_hdf."
        raise CapabilityError(msg)
    return res


def read_zarr(store: Any, *, backed: Literal["r", "r+"] | None = None, storage_options: Mapping[str, Any] | None = None) -> AnnData:
    """Read an AnnData from a zarr store (directory, zip, URL or zarr Group). Needs annstore-zarr.

    ``backed`` is an annstore extension (anndata has no backed zarr).

    Parameters
    ----------
    store
        A path (a directory store, ``.zarr.zip`` for a zip store, or a URL that fsspec
        opens), a zarr store object or mapping, or an open ``zarr.Group``.
    backed
        ``"r"`` or ``"r+"``: open in backed mode (``X`` stays in the store and is read on
        indexing); ``None``: read everything into memory.
    storage_options
        Options of the fsspec filesystem of a URL (``{"anon": True}`` for a public bucket).

    Returns
    -------
    AnnData

    Raises
    ------
    FileNotFoundError
        The store does not exist.
    InvalidFileError
        The store is not an AnnData, or an element of it is malformed.
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return read(store, "zarr", backed=backed, storage_options=storage_options)


def write_zarr(
    store: Any,
    adata: AnnData,
    *,
    chunks: tuple[int, ...] | None = None,
    convert_strings_to_categoricals: bool = True,
    consolidate_metadata: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    **ds_kwargs: Any,
) -> None:
    """Write ``adata`` to a zarr store (anndata's signature and results). Needs annstore-zarr.

    ``ds_kwargs`` (e.g. ``compressor=``) are storage options of every array, as in anndata.

    Parameters
    ----------
    store
        A path (a directory, or ``.zarr.zip`` for a zip store), a URL, a zarr store object or
        mapping, or an open ``zarr.Group``.
    adata
        The AnnData to write.
    chunks
        Chunk shape of ``X``.
    convert_strings_to_categoricals
        Turn string columns of ``obs``/``var`` with repeated values into categoricals first.
    consolidate_metadata
        Write consolidated metadata, so a read opens the store with one request.
    storage_options
        Options of the fsspec filesystem of a URL.
    **ds_kwargs
        Storage options of every array (``compressor=``, ``shards=``, ...).

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    _strings_to_categoricals(adata, convert_strings_to_categoricals)
    so = dict(storage_options or {})
    so.setdefault("consolidate_metadata", consolidate_metadata)
    write(adata, store, "zarr", storage_options=so, dataset_kwargs=ds_kwargs, x_chunks=chunks)


def read_loom(
    filename: PathLike[str] | str,
    *,
    sparse: bool = True,
    cleanup: bool = False,
    X_name: str = "spliced",
    obs_names: str = "CellID",
    obsm_names: Mapping[str, Any] | None = None,
    var_names: str = "Gene",
    varm_names: Mapping[str, Any] | None = None,
    dtype: str = "float32",
    obsm_mapping: Mapping[str, Any] = MappingProxyType({}),
    varm_mapping: Mapping[str, Any] = MappingProxyType({}),
    **kwargs: Any,
) -> AnnData:
    """Read a ``.loom`` file (anndata's signature and results). Needs annstore-loom.

    Parameters
    ----------
    filename
        Path of the ``.loom`` file.
    sparse
        Read the main matrix and the layers as scipy sparse CSR matrices (default) or dense.
    cleanup
        Put column and row attributes with a single value (or numbers in a mapping) in
        ``obsm``/``varm`` when ``obsm_names``/``varm_names`` do not name them.
    X_name
        The layer that becomes ``X`` when the main matrix is absent (``"spliced"``).
    obs_names
        The column attribute holding the observation names.
    obsm_names
        Mapping of obsm keys to lists of column attributes to stack into that obsm array.
    var_names
        The row attribute holding the variable names.
    varm_names
        Mapping of varm keys to lists of row attributes to stack into that varm array.
    dtype
        Numpy dtype of ``X`` and the layers.
    obsm_mapping, varm_mapping
        Deprecated spellings of ``obsm_names`` and ``varm_names`` (as in anndata).
    **kwargs
        Accepted for compatibility with loompy's ``connect`` options (``mode``, ``validate``,
        ``spec_version``), and ignored; any other name raises ``TypeError``.

    Returns
    -------
    AnnData
        ``X`` from the main matrix, ``layers`` from the loom layers, ``obs``/``var`` from the
        column/row attributes, ``obsp``/``varp`` from the loom graphs.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return read(
        filename, "loom", sparse=sparse, cleanup=cleanup, X_name=X_name, obs_names=obs_names,
        obsm_names=obsm_names, var_names=var_names, varm_names=varm_names, dtype=dtype,
        obsm_mapping=obsm_mapping, varm_mapping=varm_mapping, **kwargs,
    )


def write_loom(filename: PathLike[str] | str, adata: AnnData, *, write_obsm_varm: bool = False) -> None:
    """Write ``adata`` to a ``.loom`` file. Needs annstore-loom.

    Parameters
    ----------
    filename
        Path of the file.
    adata
        The AnnData to write.
    write_obsm_varm
        Also store ``obsm``/``varm`` arrays as column/row attributes.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    write(adata, filename, "loom", write_obsm_varm=write_obsm_varm)


def _read_text_kind(kind: str, filename: Any, **options: Any) -> AnnData:
    return read(filename, "text", kind=kind, **options)


def read_csv(
    filename: Any, delimiter: str | None = ",", *, first_column_names: bool | None = None,
    dtype: str = "float32",
) -> AnnData:
    """Read a comma-separated file (anndata's signature and results). Needs annstore-text.

    Parameters
    ----------
    filename
        Path of the file; ``.gz`` and ``.bz2`` files are decompressed while read.
    delimiter
        The field separator.
    first_column_names
        Whether the first column holds the observation names (``None``: guessed, as anndata
        guesses it from the first data row).
    dtype
        Numpy dtype of ``X``.

    Returns
    -------
    AnnData
        ``X`` from the table's values, ``obs_names`` and ``var_names`` from its first column and
        header row when present.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return _read_text_kind("csv", filename, delimiter=delimiter,
                           first_column_names=first_column_names, dtype=dtype)


def read_text(
    filename: Any, delimiter: str | None = None, *, first_column_names: bool | None = None,
    dtype: str = "float32",
) -> AnnData:
    """Read a delimited text file (anndata's signature and results). Needs annstore-text.

    Parameters
    ----------
    filename
        Path of the file; ``.gz`` and ``.bz2`` files are decompressed while read.
    delimiter
        The field separator (``None``: runs of whitespace).
    first_column_names
        Whether the first column holds the observation names (``None``: guessed).
    dtype
        Numpy dtype of ``X``.

    Returns
    -------
    AnnData

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return _read_text_kind("text", filename, delimiter=delimiter,
                           first_column_names=first_column_names, dtype=dtype)


def read_excel(filename: PathLike[str] | str, sheet: str | int, dtype: str = "float32") -> AnnData:
    """Read a sheet of an ``.xlsx`` file. Needs annstore-text (and openpyxl).

    Parameters
    ----------
    filename
        Path of the ``.xlsx`` file.
    sheet
        Name or position of the sheet.
    dtype
        Numpy dtype of ``X``.

    Returns
    -------
    AnnData
        ``X`` from the sheet's values, ``obs_names`` from its first column and ``var_names``
        from its first row.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return _read_text_kind("excel", filename, sheet=sheet, dtype=dtype)


def read_mtx(filename: PathLike[str] | str, dtype: str = "float32") -> AnnData:
    """Read a Matrix Market file (gzip too). Needs annstore-text.

    Parameters
    ----------
    filename
        Path of the ``.mtx`` (or ``.mtx.gz``) file.
    dtype
        Numpy dtype of ``X``.

    Returns
    -------
    AnnData
        ``X`` as a CSR matrix; names are ``"0"``, ``"1"``, ... (the format stores none).

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return _read_text_kind("mtx", filename, dtype=dtype)


def read_umi_tools(filename: PathLike[str] | str, dtype: Any = None) -> AnnData:
    """Read a umi_tools ``count`` table. Needs annstore-text.

    Parameters
    ----------
    filename
        Path of the table written by ``umi_tools count --wide`` (gzip too).
    dtype
        Numpy dtype of ``X`` (default: that of the counts column).

    Returns
    -------
    AnnData
        One observation per cell, one variable per gene, counts as a CSR ``X``.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    return _read_text_kind("umi_tools", filename, dtype=dtype)


def write_csvs(dirname: PathLike[str] | str, adata: AnnData, *, skip_data: bool = True, sep: str = ",") -> None:
    """Write ``adata``'s elements as CSV files into the directory ``dirname``. Needs annstore-text.

    As in anndata, files go into the directory (other files there are kept), so this write is not
    atomic; a ``.csv`` suffix on ``dirname`` is dropped.

    Parameters
    ----------
    dirname
        The directory (created when missing).
    adata
        The AnnData to write.
    skip_data
        Leave ``X`` out (default, as anndata).
    sep
        The field separator.

    Raises
    ------
    FormatNotInstalledError
        The plugin that reads this format is not installed (the message gives the
        ``pip install`` line).
    """
    from pathlib import Path

    dirname = Path(dirname)
    if dirname.suffix == ".csv":
        dirname = dirname.with_suffix("")
    write(adata, dirname, "text", atomic=False, kind="csvs", skip_data=skip_data, sep=sep)

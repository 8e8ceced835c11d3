"""The h5ad plugin's hook implementations (entry point ``annstore.plugins: h5ad``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annstore import FormatInfo, hookimpl

from ._store import FORMAT, HDF5_MAGIC

if TYPE_CHECKING:
    from annstore import AnnData
    from annstore.io import Registry
    from annstore.types import ArrayLike, BackedSparseSource, GroupLike, OpenMode

#: The annstore plugin API this plugin is built for (checked when it is loaded).
ANNSTORE_PLUGIN_API = 1


#: Suffixes claimed for ``.h5ad`` (any HDF5 file is read as one).
SUFFIXES = (".h5ad", ".h5", ".hdf5")
#: Formats of other plugins that are HDF5 files too, by suffix: never claimed here.
_OTHER_HDF5_SUFFIXES = (".loom",)
#: Format name of anndata's ``read_hdf`` (a plain 2-D HDF5 dataset), served by this plugin.
HDF = "hdf"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("annstore-h5ad")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return ""


@hookimpl
def annstore_format_info() -> FormatInfo:
    return FormatInfo(
        name=FORMAT,
        description="HDF5 files in the anndata on-disk layout (via h5py)",
        suffixes=SUFFIXES,
        hierarchical=True,
        supports_backed=True,
        supports_append=True,
        package="annstore-h5ad",
        version=_version(),
        magic=(HDF5_MAGIC,),
    )


@hookimpl
def annstore_guess_format(path: Any, head: bytes, is_dir: bool) -> str | None:
    if is_dir or not isinstance(path, str | Path) and not hasattr(path, "__fspath__"):
        return None
    name = str(path).lower().rstrip("/")
    if name.endswith(_OTHER_HDF5_SUFFIXES):
        return None
    if head:
        return FORMAT if head.startswith(HDF5_MAGIC) else None
    return FORMAT if name.endswith(SUFFIXES) else None


def _is_h5py(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "h5py"


@hookimpl
def annstore_open_store(
    path: Any, format: str, mode: OpenMode, storage_options: dict[str, Any]
) -> GroupLike | None:
    if format != FORMAT:
        return None
    from ._store import adapt, open_h5_store

    opts = dict(storage_options or {})
    if _is_h5py(path):
        node = adapt(path, allow_external_links=bool(opts.get("allow_external_links")))
        if node is None or not hasattr(node, "create_group"):
            msg = f"Expected an h5py File or Group; got {type(path).__name__} instead."
            raise TypeError(msg)
        return node  # type: ignore[return-value]
    from ._remote import is_url, open_url

    if is_url(path):
        return open_url(path, mode, opts)
    return open_h5_store(path, mode, **opts)


@hookimpl
def annstore_adapt_node(obj: Any) -> GroupLike | ArrayLike | None:
    if not _is_h5py(obj):
        return None
    from ._store import adapt

    return adapt(obj)


@hookimpl
def annstore_register_encodings(registry: Registry) -> None:
    from ._encodings import register

    register(registry)


@hookimpl
def annstore_backed_sparse_source(group: GroupLike) -> BackedSparseSource | None:
    if getattr(group, "format", None) != FORMAT:
        return None
    from ._sparse import sparse_source

    return sparse_source(group)


@hookimpl
def annstore_read_file(path: Any, format: str, options: dict[str, Any]) -> AnnData | None:
    if format != HDF:
        return None
    from ._hdf import read_hdf

    return read_hdf(path, options.get("key", ""))

"""``concat_on_disk``: out-of-core concatenation of stored AnnData objects into a new file.

The small parts of each input (``obs``/``var``, ``obsm``/``varm``, ``obsp``/``varp``, ``uns``)
are read into memory and combined by the same helpers :func:`annstore.concat` uses, so every
decision (names, join, fill value, annotation dtypes, merge strategies) comes from one place.
``X`` and ``layers`` are streamed: each input's matrix is read in slabs along the
concatenation axis, each slab is aligned to the joined names of the other axis with the
input's :class:`~annstore._concat.Reindexer`, and appended to the output (sparse matrices
grow their ``data``/``indices``/``indptr`` arrays; dense matrices fill a preallocated array).
No slab holds more than ``max_loaded_elems`` values.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._concat import (
    ConcatArgumentError,
    ConcatError,
    Reindexer,
    check_join,
    check_unique,
    concat_aligned_mappings,
    concat_annotations,
    concat_index,
    concat_pairwise,
    gen_reindexers,
    label_column,
    merge_dataframes,
    merge_indices,
    resolve_axis,
)
from .._merge import intersect_keys, resolve_merge_strategy, union_keys
from ..errors import AnnstoreError, AnnstoreWarning, CapabilityError, InvalidFileError

if TYPE_CHECKING:
    from .._merge import MergeStrategy, StrategyName
    from ..types import ArrayLike, BackedSparseSource, GroupLike

__all__ = ["InputNotFoundError", "concat_on_disk"]

#: Upper bound on the values one slab holds, whatever ``max_loaded_elems`` allows: larger
#: slabs do not make the copy faster (each is read and written as one contiguous range), they
#: only raise the peak memory (a slab costs ~13 bytes per value while it is aligned).
_SLAB_CAP: Final = 1 << 20

#: Chunk length of the 1-d arrays of a written sparse matrix (h5py/zarr chunks).
_ARRAY_CHUNK: Final = 1 << 18

#: Read cache of the files concat_on_disk opens itself (bytes per open array). Slabs
#: are read and written as long contiguous ranges, so a cache only holds copies of chunks
#: already delivered: h5py/HDF5 2's default (8 MiB per dataset) kept 16 MiB per input alive
#: for as long as its ``data``/``indices`` stayed open.
_CHUNK_CACHE_BYTES: Final = 0

_SPARSE_ENCODINGS: Final = {"csr_matrix": "csr", "csc_matrix": "csc", "csr": "csr", "csc": "csc"}


class InputNotFoundError(AnnstoreError, FileNotFoundError):
    """An input of :func:`concat_on_disk` does not exist."""


class RawDroppedWarning(AnnstoreWarning):
    """``concat_on_disk`` does not concatenate ``.raw`` (as anndata); it is left out."""


# ------------------------------------------------------------------ progress


class _Progress:
    """Progress of ``concat_on_disk`` on stderr, one layer (``X``, ``layers/...``) at a time.

    Each layer counts its own rows (``reset``), so rows are never counted once per layer. On a
    terminal: tqdm's bar when installed, else a built-in one with rate and time left. Elsewhere
    (a log file, a pipe) no ``\\r`` frames: one summary line per layer.
    """

    def __init__(self, total: int, *, enabled: bool, desc: str = "concat_on_disk") -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self.enabled = enabled
        self.desc = desc
        self._tqdm: Any = None
        self._last = 0.0
        self._t0 = time.monotonic()
        self._open = False
        try:
            self._tty = bool(sys.stderr.isatty())
        except (AttributeError, ValueError):
            self._tty = False

    def reset(self, total: int, desc: str) -> None:
        """Start counting the ``total`` rows of the next layer."""
        if not self.enabled:
            return
        self._finish()
        self.total, self.desc, self.done = max(int(total), 1), desc, 0
        self._t0 = self._last = time.monotonic()
        self._open = True
        if self._tty:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self._draw(force=True)
            else:
                self._tqdm = tqdm(total=self.total, desc=desc, file=sys.stderr, unit="row")

    def set_description(self, desc: str) -> None:
        self.desc = desc
        if self._tqdm is not None:
            self._tqdm.set_description(desc)

    def update(self, n: int) -> None:
        if not self.enabled:
            return
        self.done = min(self.done + int(n), self.total)
        if self._tqdm is not None:
            self._tqdm.update(int(n))
        elif self._tty:
            self._draw()

    def _stats(self) -> str:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else None

        def hms(t: float) -> str:
            t = int(t)
            return f"{t // 60:02d}:{t % 60:02d}"

        return f"[{hms(elapsed)}<{hms(left) if left is not None else '?'}, {rate:,.0f} rows/s]"

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        frac = self.done / self.total
        width = 30
        filled = round(frac * width)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(
            f"\r{self.desc}: [{bar}] {frac:4.0%} ({self.done}/{self.total} rows) {self._stats()}"
        )
        sys.stderr.flush()

    def _finish(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
            return
        self.done = self.total
        if self._tty:
            self._draw(force=True)
            sys.stderr.write("\n")
        else:
            sys.stderr.write(f"{self.desc}: 100% ({self.total} rows) {self._stats()}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._finish()


# ------------------------------------------------------------------ opening stores


def _describe(x: Any) -> str:
    fn = getattr(x, "filename", None)
    if fn is None and isinstance(x, str | os.PathLike):
        fn = x
    return repr(str(fn)) if fn is not None else repr(x)


def _store_options(fmt: str | None) -> dict[str, Any]:
    """Storage options for a file concat_on_disk opens itself: small chunk caches (the
    format-neutral ``chunk_cache_bytes`` option; backends without a cache ignore it)."""
    return {"chunk_cache_bytes": _CHUNK_CACHE_BYTES}


def _is_key_value_store(x: Any) -> bool:
    """Whether ``x`` is a key-value store (zarr's ``Store``: get/set/list), not a group or path."""
    if isinstance(x, str | os.PathLike) or hasattr(x, "create_group"):
        return False
    return all(callable(getattr(x, m, None)) for m in ("get", "set", "list"))


def _open_input(stack: ExitStack, i: int, f: Any, formats: dict[int, str | None]) -> GroupLike:
    from ..io import open_store
    from ..io._dispatch import as_node
    from ..io._guess import guess_format

    if isinstance(f, str | os.PathLike):
        local = "://" not in str(f)
        if local and not Path(f).exists():
            msg = f"Expected input {i} of concat_on_disk to be an existing file; {str(f)!r} does not exist."
            raise InputNotFoundError(msg)
        if i not in formats:
            formats[i] = guess_format(f) if local else None
        fmt = formats[i]
        root = stack.enter_context(open_store(f, format=fmt, mode="r", storage_options=_store_options(fmt)))
    elif _is_key_value_store(f):
        root = stack.enter_context(open_store(f, format="zarr", mode="r"))
    else:
        root = as_node(f)  # type: ignore[assignment]
    if not hasattr(root, "create_group"):
        msg = f"Expected input {i} of concat_on_disk to be a group; got an array {_describe(f)}."
        raise InvalidFileError(msg, filename=getattr(root, "filename", None), path=root.name)
    enc = root.attrs.get("encoding-type")
    if enc not in (None, "anndata") or "obs" not in root or "var" not in root:
        msg = (
            f"Expected input {i} of concat_on_disk ({_describe(f)}) to hold an AnnData "
            f"(encoding 'anndata' with 'obs' and 'var'); got encoding {enc!r} with "
            f"children {sorted(root.keys())!r} instead."
        )
        raise InvalidFileError(msg, filename=getattr(root, "filename", None), path=root.name)
    return root  # type: ignore[return-value]


class _Inputs:
    """The inputs, each opened only while it is used.

    A path is opened for each pass over it and closed right after, so only one input file is
    open at a time (an open HDF5 file keeps its metadata cache, ~2 MB here). Open groups the
    caller passed are used as they are.
    """

    def __init__(self, files: Sequence[Any]) -> None:
        self.files = list(files)
        self._formats: dict[int, str | None] = {}

    def __len__(self) -> int:
        return len(self.files)

    @contextmanager
    def open(self, i: int) -> Iterator[GroupLike]:
        f = self.files[i]
        with ExitStack() as stack:
            yield _open_input(stack, i, f, self._formats)


def _zarr_write_options() -> dict[str, Any]:
    """The zarr format of a new output, with anndata's warning when it is the deprecated v2."""
    from .._settings import settings

    zarr_format = settings.__dict__["zarr_write_format"]  # not the attribute: that warns too
    if zarr_format == 2:
        warnings.warn(
            "zarr v3 will become the only option in 0.14 anndata for `{read,write}_zarr`. "
            "This setting (`anndata.settings.zarr_write_format`) will be removed in 0.14.",
            DeprecationWarning,
            stacklevel=4,
        )
    return {"zarr_format": zarr_format}


@contextmanager
def _open_output(out_file: Any) -> Iterator[GroupLike]:
    from ..io import open_store
    from ..io._atomic import atomic_target, is_local_path
    from ..io._dispatch import as_node

    if _is_key_value_store(out_file):
        with open_store(out_file, format="zarr", mode="w", storage_options=_zarr_write_options()) as root:
            yield root
        return
    if not isinstance(out_file, str | os.PathLike):
        node = as_node(out_file)
        if not hasattr(node, "create_group"):
            msg = f"Expected the output of concat_on_disk to be a path or a group; got {out_file!r}."
            raise TypeError(msg)
        for k in list(node.keys()):  # type: ignore[union-attr]
            del node[k]  # type: ignore[union-attr]
        yield node  # type: ignore[misc]
        return
    if not is_local_path(out_file):
        with open_store(out_file, mode="w") as root:
            yield root
        return
    out = Path(out_file)
    if not out.parent.exists():
        msg = f"Expected the parent directory of the output {str(out)!r} to exist; it does not."
        raise InputNotFoundError(msg)
    from ..io._guess import _suffix_match

    kf = _suffix_match(out)
    fmt = kf.name if kf else None
    options = _store_options(fmt)
    if fmt == "zarr":
        options.update(_zarr_write_options())
    with atomic_target(out) as tmp, open_store(tmp, format=fmt, mode="w", storage_options=options) as root:
        yield root


# ------------------------------------------------------------------ stored elements


class _Stored:
    """One input's stored matrix (X or a layer), read in slabs along the concatenation axis.

    It outlives the input's open store: :meth:`detach` keeps what was learnt (shape, dtype,
    number of stored values) and drops every open dataset, :meth:`attach` hands it the node
    again when the input is reopened to be streamed.
    """

    def __init__(self, node: GroupLike | ArrayLike, axis: int) -> None:
        self.node: Any = node
        self.filename: str | None = getattr(node, "filename", None)
        self.path: str = getattr(node, "name", "/")
        self.axis = axis
        self._nnz: int | None = None
        self.is_group = hasattr(node, "create_group")
        enc = node.attrs.get("encoding-type", node.attrs.get("h5sparse_format"))
        self.format: str | None = _SPARSE_ENCODINGS.get(str(enc)) if self.is_group else None
        self._source: BackedSparseSource | None = None
        self._dataset: Any = None
        self._indptr: np.ndarray | None = None
        if self.format is not None:
            from ..backed._source import get_sparse_source
            from ..backed._sparse import check_structure

            check_structure(node)  # shape attribute and array lengths agree (metadata only)
            self._source = get_sparse_source(node)  # type: ignore[arg-type]
            self.shape: tuple[int, ...] = tuple(int(s) for s in self._source.shape)
            self.dtype = np.dtype(self._source.dtype)
        elif not self.is_group:
            self.shape = tuple(int(s) for s in node.shape)  # type: ignore[union-attr]
            self.dtype = np.dtype(node.dtype)  # type: ignore[union-attr]
        else:
            self.shape = ()
            self.dtype = np.dtype(object)

    @property
    def streamable(self) -> bool:
        """Sparse matrices and numeric 2-d arrays are streamed; anything else is loaded."""
        if self.format is not None:
            return True
        return not self.is_group and len(self.shape) == 2 and self.dtype.kind in "biufc"

    @property
    def is_sparse(self) -> bool:
        return self.format is not None

    @property
    def length(self) -> int:
        return self.shape[self.axis]

    @property
    def width(self) -> int:
        return self.shape[1 - self.axis]

    @property
    def major(self) -> bool:
        """Whether slabs along the concatenation axis are ranges of the stored major axis."""
        return self.format == ("csr", "csc")[self.axis]

    def indptr(self) -> np.ndarray:
        if self._indptr is None:
            from ..backed._sparse import checked_indptr

            self._indptr = checked_indptr(self._src(), self.node).astype(np.int64, copy=False)
        return self._indptr

    @property
    def nnz(self) -> int:
        if self.format is None:
            return int(np.prod(self.shape))
        if self._nnz is None:
            self._nnz = int(self.indptr()[-1]) if self.indptr().size else 0
        return self._nnz

    def empty(self) -> Any:
        """A zero-length slab (used to find the dtype the in-memory code would give)."""
        shape = [self.width, self.width]
        shape[self.axis] = 0
        if self.format is not None:
            cls = sparse.csr_matrix if self.format == "csr" else sparse.csc_matrix
            return cls(tuple(shape), dtype=self.dtype)
        return np.zeros(tuple(shape), dtype=self.dtype)

    def slabs(self, budget: int, per_item_extra: int) -> Iterator[tuple[int, int]]:
        """``[start, stop)`` ranges along the axis, each loading at most ``budget`` values.

        ``per_item_extra`` is the number of values added per row (column) by the alignment
        (non-zero fill of absent names, or densification).
        """
        n = self.length
        if n == 0:
            return
        if self.major:
            ip = self.indptr()
            cost = ip + np.arange(n + 1, dtype=np.int64) * per_item_extra
            a = 0
            while a < n:
                b = int(np.searchsorted(cost, cost[a] + budget, side="right")) - 1
                b = min(max(b, a + 1), n)
                yield a, b
                a = b
            return
        per_item = max(self.width, per_item_extra, 1)
        step = max(1, budget // per_item)
        for a in range(0, n, step):
            yield a, min(a + step, n)

    def _src(self) -> BackedSparseSource:
        if self._source is None:
            from ..backed._source import get_sparse_source

            self._source = get_sparse_source(self.node)  # type: ignore[arg-type]
        return self._source

    def attach(self, node: GroupLike | ArrayLike) -> None:
        """Read from ``node`` (the same element, its input reopened) from now on."""
        self.node = node

    def detach(self) -> None:
        """Drop the node, the open datasets (and their HDF5 chunk caches) and ``indptr``."""
        if self.format is not None:
            self.nnz  # noqa: B018 -- kept: needed to size the output before streaming
        self.node = None
        self._source = None
        self._dataset = None
        self._indptr = None

    def read(self, start: int, stop: int) -> Any:
        """The slab ``[start, stop)`` along the concatenation axis (numpy or scipy sparse)."""
        if self.major:
            ip = self.indptr()
            lo, hi = int(ip[start]), int(ip[stop])
            data, indices = self._src().read_nnz(lo, hi)
            from ..backed._sparse import check_values

            check_values(self.node, data, indices, hi - lo, self.width)
            ptr = ip[start : stop + 1] - lo
            idx_dt = np.int64 if max(hi - lo, self.width) > np.iinfo(np.int32).max else np.int32
            cls = sparse.csr_matrix if self.format == "csr" else sparse.csc_matrix
            shape = [self.width, self.width]
            shape[self.axis] = stop - start
            return cls(
                (data, indices.astype(idx_dt, copy=False), ptr.astype(idx_dt)),
                shape=tuple(shape),
                copy=False,
            )
        sel: tuple[slice, slice] = (
            (slice(start, stop), slice(None)) if self.axis == 0 else (slice(None), slice(start, stop))
        )
        if self.format is not None:
            # stored in the other orientation: the backed dataset reads it in bounded chunks
            if self._dataset is None:
                from ..backed import sparse_dataset

                self._dataset = sparse_dataset(self.node)
            out = self._dataset[sel]
            return sparse.csr_matrix(out) if out.format == "csr" else sparse.csc_matrix(out)
        return np.asarray(self.node[sel])  # type: ignore[index]


def _read_slab(elem: _Stored, start: int, stop: int) -> Any:
    """Every slab read goes through here (tests spy on it to check the memory bound)."""
    return elem.read(start, stop)


# ------------------------------------------------------------------ streaming one matrix


class _MinorRemap:
    """Fast CSR/CSC alignment of the minor axis for a zero fill (same result as the Reindexer).

    The lookup table has the output's index dtype, so remapping a slab's indices makes one
    array of that dtype and no wider temporary.
    """

    def __init__(self, r: Reindexer) -> None:
        self.n_new = len(r.new_idx)
        self.idx_dt = np.dtype(np.int64 if self.n_new > np.iinfo(np.int32).max else np.int32)
        lookup = np.full(len(r.old_idx), -1, dtype=self.idx_dt)
        lookup[r.old_pos] = r.new_pos
        self.lookup = lookup
        self.monotonic = bool(np.all(np.diff(r.new_pos) > 0))

    def __call__(self, m: Any) -> Any:
        new = self.lookup[m.indices]
        keep = new >= 0
        if keep.all():
            data, indices, indptr = m.data, new, m.indptr
        else:
            data, indices = m.data[keep], new[keep]
            ck = np.zeros(keep.size + 1, dtype=np.int64)
            np.cumsum(keep, out=ck[1:])
            indptr = ck[m.indptr]
        del new, keep
        idx_dt = np.int64 if max(self.n_new, indices.size) > np.iinfo(np.int32).max else np.int32
        shape = (m.shape[0], self.n_new) if m.format == "csr" else (self.n_new, m.shape[1])
        cls = sparse.csr_matrix if m.format == "csr" else sparse.csc_matrix
        out = cls(
            (data, indices.astype(idx_dt, copy=False), indptr.astype(idx_dt, copy=False)),
            shape=shape,
            copy=False,
        )
        if not self.monotonic:
            out.has_sorted_indices = False
            out.sort_indices()
        return out


class _Aligner:
    """Turns one input's slab into the output's slab: sparse conversion, alignment, format."""

    def __init__(
        self, r: Reindexer, *, axis: int, out_sparse: bool, fill_value: Any, missing: bool = False
    ) -> None:
        self.r = r
        self.axis = axis
        self.other = 1 - axis
        self.out_sparse = out_sparse
        self.out_fmt = ("csr", "csc")[axis]
        self.fill_value = fill_value
        self.missing = missing
        n_fill = len(r._fill_positions(fill_value)) if out_sparse else 0
        #: values each row (column) gains through the alignment
        self.extra = n_fill if out_sparse else len(r.new_idx)
        if missing:
            self.extra = len(r.new_idx) if (not out_sparse or fill_value != 0) else 0
        self._fast = (
            out_sparse and not missing and not r.no_change and n_fill == 0 and fill_value is not None
        )
        self._remap: _MinorRemap | None = None

    def __call__(self, slab: Any) -> Any:
        if self.out_sparse and not sparse.issparse(slab):
            slab = sparse.csr_matrix(slab)  # as concat's _as_sparse
        if self._fast and slab.format == self.out_fmt:
            if self._remap is None:
                self._remap = _MinorRemap(self.r)
            return self._remap(slab)
        out = self.r(slab, axis=self.other, fill_value=self.fill_value)
        if self.out_sparse and out.format != self.out_fmt:
            out = out.tocsr() if self.out_fmt == "csr" else out.tocsc()
        return out

    def missing_slab(self, n: int) -> Any:
        """What concat puts for an input lacking the element: a zero-width block, filled."""
        shape = (n, 0) if self.axis == 0 else (0, n)
        block: Any = np.zeros(shape, dtype=bool)
        return self(block)


def _result_dtype(dtypes: Sequence[np.dtype], *, out_sparse: bool) -> np.dtype:
    if out_sparse:
        from scipy.sparse._sputils import upcast

        return np.dtype(upcast(*dtypes))
    return np.result_type(*dtypes)


def _stream_matrix(
    parent: GroupLike,
    key: str,
    elems: Sequence[_Stored | None],
    reindexers: Sequence[Reindexer],
    sizes: Sequence[int],
    *,
    axis: int,
    fill_value: Any,
    budget: int,
    progress: _Progress,
    attached: Callable[[int], AbstractContextManager[_Stored]],
) -> None:
    """Write the concatenation of ``elems`` (``None``: absent from that input) to ``parent[key]``.

    ``attached(i)`` opens input ``i`` and yields ``elems[i]`` readable until it closes.
    """
    present = [e for e in elems if e is not None]
    out_sparse = any(e.is_sparse for e in present)
    if fill_value is None:
        fill_value = 0 if out_sparse else np.nan
    aligners = [
        _Aligner(r, axis=axis, out_sparse=out_sparse, fill_value=fill_value, missing=e is None)
        for e, r in zip(elems, reindexers, strict=True)
    ]
    lengths = list(sizes)
    # the dtype concat would give: apply the same alignment to an empty slab of each input
    probes = [
        al.missing_slab(0) if e is None else al(e.empty())
        for e, al in zip(elems, aligners, strict=True)
    ]
    dtype = _result_dtype([p.dtype for p in probes], out_sparse=out_sparse)
    n_total = sum(lengths)
    n_alt = len(reindexers[0].new_idx)
    out_shape = (n_total, n_alt) if axis == 0 else (n_alt, n_total)

    def slabs(i: int) -> Iterator[Any]:
        e, al = elems[i], aligners[i]
        if e is None:
            step = max(1, budget // max(al.extra, 1))
            for a in range(0, lengths[i], step):
                n = min(step, lengths[i] - a)
                yield n, al.missing_slab(n)
            return
        with attached(i) as e:
            for a, b in e.slabs(budget, al.extra):
                yield b - a, al(_read_slab(e, a, b))

    if not out_sparse:
        arr = parent.create_array(key, shape=out_shape, dtype=dtype)
        off = 0
        for i in range(len(elems)):
            for n, block in slabs(i):
                sel = (slice(off, off + n), slice(None)) if axis == 0 else (slice(None), slice(off, off + n))
                arr[sel] = np.asarray(block, dtype=dtype)
                del block
                off += n
                progress.update(n)
        from ..io._spec import IOSpec

        arr.attrs.update(IOSpec("array", "0.2.0").to_attrs())
        return

    # sparse: the csr/csc group is laid out as the sparse writer does; ``indptr`` is
    # preallocated, ``data``/``indices`` grow geometrically and are trimmed at the end
    from .._settings import settings
    from ..io._spec import IOSpec
    from ..io.encodings._sparse import _min_index_dtype

    nnz_bound = sum(
        (e.nnz if e is not None else 0) + al.extra * n
        for e, al, n in zip(elems, aligners, lengths, strict=True)
    )
    indptr_dtype = np.dtype(np.int64 if nnz_bound >= np.iinfo(np.int32).max else np.int32)
    ind_dt = np.dtype(np.int64 if n_alt > np.iinfo(np.int32).max else np.int32)
    if settings.write_csr_csc_indices_with_min_possible_dtype:
        ind_dt = _min_index_dtype(n_alt)
    chunk = int(min(_ARRAY_CHUNK, max(nnz_bound, 1)))
    g: Any = parent.create_group(key)
    cap = min(nnz_bound, max(chunk, budget))
    data_a = g.create_array("data", shape=(cap,), dtype=dtype, chunks=(chunk,), maxshape=(None,))
    ind_a = g.create_array("indices", shape=(cap,), dtype=ind_dt, chunks=(chunk,), maxshape=(None,))
    ip_a = g.create_array(
        "indptr", shape=(n_total + 1,), dtype=indptr_dtype,
        chunks=(int(min(_ARRAY_CHUNK, n_total + 1)),), maxshape=(None,),
    )
    ip_a[0:1] = np.zeros(1, dtype=indptr_dtype)
    nnz = 0
    major = 0
    for i in range(len(elems)):
        for n, block in slabs(i):
            k = int(block.nnz)
            if k:
                if nnz + k > cap:
                    cap = min(max(nnz + k, 2 * cap), max(nnz_bound, nnz + k))
                    data_a.resize((cap,))
                    ind_a.resize((cap,))
                data_a[nnz : nnz + k] = block.data.astype(dtype, copy=False)
                ind_a[nnz : nnz + k] = block.indices.astype(ind_dt, copy=False)
            ptr = block.indptr[1:].astype(np.int64)
            ptr += nnz
            ip_a[major + 1 : major + n + 1] = ptr.astype(indptr_dtype, copy=False)
            nnz += k
            major += n
            del block, ptr  # free this slab before the next one is read
            progress.update(n)
    if cap != nnz:
        data_a.resize((nnz,))
        ind_a.resize((nnz,))
    g.attrs["shape"] = [int(s) for s in out_shape]
    g.attrs.update((IOSpec("csr_matrix", "0.1.0") if axis == 0 else IOSpec("csc_matrix", "0.1.0")).to_attrs())


# ------------------------------------------------------------------ small elements


def _read(node: Any) -> Any:
    from ..io import read_elem

    return read_elem(node)


def _read_frame(node: Any) -> pd.DataFrame:
    from ..io._dispatch import ReadContext
    from ..io.encodings._anndata import _read_frame as read_frame

    return read_frame(node, ReadContext())


def _child_keys(root: GroupLike, name: str) -> list[str]:
    if name not in root:
        return []
    g = root[name]
    return list(g.keys()) if hasattr(g, "keys") else []


def _read_mapping(root: GroupLike, name: str) -> dict[str, Any]:
    return {k: _read(root[name][k]) for k in _child_keys(root, name)}  # type: ignore[index]


def _has_x(root: GroupLike) -> bool:
    if "X" not in root:
        return False
    return root["X"].attrs.get("encoding-type") != "null"


# ------------------------------------------------------------------ public function


def concat_on_disk(
    in_files: Collection[Any] | Mapping[Any, Any],
    out_file: Any,
    *,
    max_loaded_elems: int = 100_000_000,
    axis: Literal["obs", 0, "var", 1] = 0,
    join: Literal["inner", "outer"] = "inner",
    merge: StrategyName | MergeStrategy | None = None,
    uns_merge: StrategyName | MergeStrategy | None = None,
    label: str | None = None,
    keys: Collection[Any] | None = None,
    index_unique: str | None = None,
    fill_value: Any | None = None,
    pairwise: bool = False,
    progress: bool = False,
) -> None:
    """Concatenate stored AnnData objects into a new file without loading their matrices.

    The result equals :func:`annstore.concat` of the inputs loaded in memory (without
    ``.raw``, see Notes), but ``X`` and ``layers`` are copied slab by slab.

    Parameters
    ----------
    in_files
        Paths of the inputs (``.h5ad`` files and ``.zarr`` stores, in any mix), or open
        groups (annstore, h5py or zarr). With a mapping, its keys are used as ``keys``.
    out_file
        Path of the result; the format follows its suffix (``.h5ad`` or ``.zarr``). A local
        path is written to a temporary sibling and renamed into place when complete. An
        open, writable group is filled in place (its content is replaced).
    max_loaded_elems
        Most values of ``X``/a layer held in memory at once: stored values of sparse
        matrices (plus the values an outer join with a non-zero ``fill_value`` adds), every
        value of dense ones. A single row (column) larger than this is still read whole.
    axis, join, merge, uns_merge, label, keys, index_unique, fill_value, pairwise
        As in :func:`annstore.concat`.
    progress
        Show a progress bar on stderr (tqdm's when installed).

    Raises
    ------
    InputNotFoundError
        An input path (or the output's directory) does not exist.
    InvalidFileError
        An input is not a stored AnnData.
    ConcatError, ConcatArgumentError, DuplicateNamesError
        As :func:`annstore.concat`.

    Notes
    -----
    Differences from anndata 0.13.4's ``concat_on_disk``: ``uns_merge`` is applied (anndata
    accepts it but writes no ``uns``); ``pairwise=True`` concatenates ``obsp``/``varp``
    block-diagonally (anndata raises ``NotImplementedError``); with ``join="outer"``,
    ``layers`` and ``obsm``/``varm`` of the concatenated axis are outer-joined like
    :func:`annstore.concat` does (anndata keeps only keys present in every input, and pads
    nothing); ``X``/layers mixing sparse formats or sparse and dense inputs are converted
    (anndata raises ``NotImplementedError``); a single input is concatenated like several
    (anndata copies the file unchanged, ignoring ``label``/``index_unique``).
    As in anndata, ``.raw`` is dropped (a :class:`RawDroppedWarning` says so), and a sparse
    result is CSR along obs and CSC along var (:func:`annstore.concat` returns CSR for both).

    Examples
    --------
    >>> from annstore.experimental import concat_on_disk
    >>> concat_on_disk(  # doctest: +SKIP
    ...     {"s1": "sample1.h5ad", "s2": "sample2.zarr"}, "all.h5ad",
    ...     label="sample", index_unique="-", max_loaded_elems=10_000_000,
    ... )
    """
    merge_fn = resolve_merge_strategy(merge)
    uns_merge_fn = resolve_merge_strategy(uns_merge)
    if isinstance(in_files, Mapping):
        if keys is not None:
            msg = (
                "Cannot specify categories in both mapping keys and using `keys`; "
                "expected only one of them."
            )
            raise ConcatArgumentError(msg)
        keys = list(in_files.keys())
        files = list(in_files.values())
    elif isinstance(in_files, str | os.PathLike):
        msg = f"Expected a collection of inputs; got a single path {str(in_files)!r}."
        raise ConcatError(msg)
    else:
        files = list(in_files)
    if not files:
        msg = "No objects to concatenate: expected at least one input; got none."
        raise ConcatError(msg)
    if not isinstance(max_loaded_elems, int | np.integer) or max_loaded_elems < 1:
        msg = f"Expected max_loaded_elems to be a positive integer; got {max_loaded_elems!r}."
        raise ConcatError(msg)
    join = check_join(join)
    if isinstance(axis, str) and axis in ("0", "1"):  # as the command line passes it
        axis = int(axis)  # type: ignore[assignment]
    ax, ax_name = resolve_axis(axis)
    _, alt_name = resolve_axis(1 - ax)
    keys = np.arange(len(files)).astype(str) if keys is None else list(keys)
    budget = int(min(max_loaded_elems, _SLAB_CAP))

    _concat_inputs(
        _Inputs(files),
        out_file,
        ax=ax,
        ax_name=ax_name,
        alt_name=alt_name,
        join=join,
        merge_fn=merge_fn,
        uns_merge_fn=uns_merge_fn,
        label=label,
        keys=keys,
        index_unique=index_unique,
        fill_value=fill_value,
        pairwise=pairwise,
        budget=budget,
        progress=progress,
    )


def _concat_inputs(
    inputs: _Inputs,
    out_file: Any,
    *,
    ax: int,
    ax_name: str,
    alt_name: str,
    join: Literal["inner", "outer"],
    merge_fn: Callable[..., Mapping[Any, Any]],
    uns_merge_fn: Callable[..., Mapping[Any, Any]],
    label: str | None,
    keys: Sequence[Any],
    index_unique: str | None,
    fill_value: Any,
    pairwise: bool,
    budget: int,
    progress: bool,
) -> None:
    from .._anndata import AnnData
    from ..io._api import write_anndata_to

    n_in = len(inputs)
    # one pass over the inputs (each opened, read, closed): annotations and what each holds
    frames: dict[str, list[pd.DataFrame]] = {"obs": [], "var": []}
    m_keys_per: list[list[str]] = []
    p_keys_per: list[list[str]] = []
    alt_keys_per: dict[str, list[list[str]]] = {f"{alt_name}m": [], f"{alt_name}p": [], "uns": []}
    layer_keys_per: list[list[Any]] = []  # X is the layer ``None`` (as in concat)
    has_raw = False
    for i in range(n_in):
        with inputs.open(i) as r:
            for name in ("obs", "var"):
                frames[name].append(_read_frame(r[name]))
            m_keys_per.append(_child_keys(r, f"{ax_name}m"))
            p_keys_per.append(_child_keys(r, f"{ax_name}p") if pairwise else [])
            for name, per in alt_keys_per.items():
                per.append(_child_keys(r, name))
            layer_keys_per.append(([None] if _has_x(r) else []) + _child_keys(r, "layers"))
            has_raw = has_raw or "raw" in r or "raw.X" in r

    sizes = [len(df) for df in frames[ax_name]]
    label_col = label_column(sizes, keys)
    index = concat_index([df.index for df in frames[ax_name]], label_col, index_unique)
    alt_indices = [df.index for df in frames[alt_name]]
    check_unique(alt_indices, alt_name)
    alt_index = merge_indices(alt_indices, join)
    reindexers = gen_reindexers(alt_indices, alt_index)

    annot = concat_annotations(frames[ax_name], index, join)
    if label is not None:
        annot[label] = label_col
    alt_annot = merge_dataframes(frames[alt_name], alt_index, merge_fn)
    del frames

    def read_one(name: str, k: str, ks_per: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
        """``{k: value}`` of each input holding ``name/k`` (``{}`` for the others)."""
        out: list[dict[str, Any]] = []
        for i, ks in enumerate(ks_per):
            if k not in ks:
                out.append({})
                continue
            with inputs.open(i) as r:
                out.append({k: _read(r[name][k])})  # type: ignore[index]
        return out

    def read_all(name: str) -> list[dict[str, Any]]:
        """Every child of ``name`` of each input (inputs without any are not opened)."""
        out: list[dict[str, Any]] = []
        for i, ks in enumerate(alt_keys_per[name]):
            if not ks:
                out.append({})
                continue
            with inputs.open(i) as r:
                out.append(_read_mapping(r, name))
        return out

    # obsm (varm along var): loaded one key at a time, combined by concat's own code
    m_keys = intersect_keys(m_keys_per) if join == "inner" else union_keys(m_keys_per)
    axis_m: dict[Any, Any] = {}
    for k in m_keys:
        one = read_one(f"{ax_name}m", k, m_keys_per)
        axis_m.update(concat_aligned_mappings(one, sizes, join, axis=0, index=index, fill_value=fill_value))
    axis_p: dict[Any, Any] = {}
    if pairwise:
        p_keys = intersect_keys(p_keys_per) if join == "inner" else union_keys(p_keys_per)
        for k in p_keys:
            axis_p.update(concat_pairwise(read_one(f"{ax_name}p", k, p_keys_per), sizes, join))

    alt_m = merge_fn(
        [
            {k: r(v, axis=0) for k, v in vals.items()}
            for r, vals in zip(reindexers, read_all(f"{alt_name}m"), strict=True)
        ]
    )
    alt_p = merge_fn(
        [
            {k: r(r(v, axis=0), axis=1) for k, v in vals.items()}
            for r, vals in zip(reindexers, read_all(f"{alt_name}p"), strict=True)
        ]
    )
    uns = uns_merge_fn(read_all("uns"))
    if has_raw:
        warnings.warn(
            "concat_on_disk does not concatenate `.raw` (as anndata's); it is left out of "
            "the result. Use annstore.concat on loaded objects to keep it.",
            RawDroppedWarning,
            stacklevel=3,
        )

    skeleton = AnnData(
        None,
        obs=annot if ax_name == "obs" else alt_annot,
        var=alt_annot if ax_name == "obs" else annot,
        uns=dict(uns),
        obsm=axis_m if ax_name == "obs" else dict(alt_m),
        varm=dict(alt_m) if ax_name == "obs" else axis_m,
        obsp=axis_p if ax_name == "obs" else dict(alt_p),
        varp=dict(alt_p) if ax_name == "obs" else axis_p,
    )
    del axis_m, axis_p, alt_m, alt_p, uns, annot, alt_annot

    layer_keys = intersect_keys(layer_keys_per) if join == "inner" else union_keys(layer_keys_per)

    with _open_output(out_file) as out:
        from ..io._guess import require_capability

        require_capability(out.format, "supports_append", "concat_on_disk (writing its output)")
        write_anndata_to(out, skeleton)
        del skeleton
        n_total = sum(sizes)
        bar = _Progress(n_total, enabled=progress)
        try:
            for i, k in enumerate(layer_keys):
                name = "X" if k is None else f"layers/{k}"
                bar.reset(n_total, f"concat_on_disk {name} ({i + 1}/{len(layer_keys)})")
                parent: Any = out if k is None else out["layers"]
                name = "X" if k is None else str(k)
                _write_layer(
                    parent, name, inputs, k, [k in ks for ks in layer_keys_per], reindexers, sizes,
                    axis=ax, join=join, fill_value=fill_value, budget=budget, progress=bar,
                )
        finally:
            bar.close()


def _layer_node(root: GroupLike, layer: Any) -> Any:
    return root["X"] if layer is None else root["layers"][layer]  # type: ignore[index]


def _write_layer(
    parent: GroupLike,
    key: str,
    inputs: _Inputs,
    layer: Any,
    present: Sequence[bool],
    reindexers: Sequence[Reindexer],
    sizes: Sequence[int],
    *,
    axis: int,
    join: str,
    fill_value: Any,
    budget: int,
    progress: _Progress,
) -> None:
    """Concatenate one layer (``None``: ``X``): streamed when every input is a stored matrix, else loaded."""
    from ..io import write_elem

    # describe each input's matrix (shape, dtype, stored values), keeping nothing open
    elems: list[_Stored | None] = []
    for i, has in enumerate(present):
        if not has:
            elems.append(None)
            continue
        with inputs.open(i) as r:
            e = _Stored(_layer_node(r, layer), axis)
            e.detach()
        elems.append(e)
    stored = [e for e in elems if e is not None]
    for e, n in zip(elems, sizes, strict=True):
        if e is not None and e.streamable and e.length != n:
            msg = (
                f"Expected {key!r} of {e.filename!r} to have {n} entries along axis "
                f"{axis}; got shape {e.shape} instead."
            )
            raise InvalidFileError(msg, filename=e.filename, path=e.path)
    if all(e.streamable for e in stored):
        fv = fill_value if join == "outer" else None
        if fv is None:
            fv = 0 if any(e.is_sparse for e in stored) else np.nan

        @contextmanager
        def attached(i: int) -> Iterator[_Stored]:
            e = elems[i]
            assert e is not None
            with inputs.open(i) as r:
                e.attach(_layer_node(r, layer))
                try:
                    yield e
                finally:
                    e.detach()

        _stream_matrix(
            parent, key, elems, reindexers, sizes,
            axis=axis, fill_value=fv, budget=budget, progress=progress, attached=attached,
        )
        return
    # something concat_on_disk cannot stream (e.g. a dataframe in layers): load it
    values: list[dict[str, Any]] = []
    for i, has in enumerate(present):
        if not has:
            values.append({})
            continue
        with inputs.open(i) as r:
            values.append({key: _read(_layer_node(r, layer))})
    kinds = {type(v[key]).__name__ for v in values if v}
    if any(isinstance(v[key], pd.DataFrame) for v in values if v):
        msg = f"Cannot concatenate {key!r} holding {sorted(kinds)} on disk."
        raise CapabilityError(msg)
    out = concat_aligned_mappings(
        values, sizes, "outer" if join == "outer" else "inner",
        axis=axis, reindexers=reindexers, fill_value=fill_value,
    )
    if key in out:
        write_elem(parent, key, out[key])
    progress.update(sum(sizes))

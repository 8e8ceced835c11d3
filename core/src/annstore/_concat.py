"""``concat``: concatenation of AnnData objects along obs or var, with join/reindex machinery.

The decisions that do not depend on where the data lives (which names the result has along
each axis, where each input's values land, the fill value, the dtype of the annotation
columns) are made by small helpers here, so the on-disk concatenation can reuse them:

* :func:`resolve_axis`, :func:`check_join` normalise the arguments;
* :func:`concat_index` builds the concatenated axis names (``index_unique``),
  :func:`label_column` the categorical batch column;
* :func:`merge_indices` joins the other axis (inner: intersection in first-seen order,
  outer: sorted union, both as :meth:`pandas.Index.intersection` / ``union`` do);
* :class:`Reindexer` maps one input's other-axis names to the joined ones and applies that
  mapping to numpy, scipy sparse, dask arrays and DataFrames with a fill value;
* :func:`default_fill_value`, :func:`unify_dtypes`, :func:`concat_annotations`,
  :func:`merge_dataframes` decide fill values and annotation dtypes.

Behaviour follows anndata 0.13's ``anndata.concat``; the differences are listed in the
docstring of :func:`concat`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd
from natsort import natsorted
from scipy import sparse

from ._merge import (
    MergeStrategy,
    StrategyName,
    intersect_keys,
    resolve_merge_strategy,
    union_keys,
)
from ._xarray import (
    DS_CONCAT_DUMMY_INDEX_NAME,
    DS_MERGE_DUMMY_INDEX_NAME,
    DUMMY_RANGE_INDEX_KEY,
    Dataset2D,
)
from .errors import AnnstoreError, CapabilityError

if TYPE_CHECKING:
    from ._anndata import AnnData

__all__ = [
    "ConcatArgumentError",
    "ConcatError",
    "DuplicateNamesError",
    "Reindexer",
    "check_combinable_cols",
    "check_join",
    "concat",
    "concat_annotations",
    "concat_arrays",
    "concat_index",
    "default_fill_value",
    "gen_reindexers",
    "label_column",
    "merge_dataframes",
    "merge_indices",
    "natsorted",
    "resolve_axis",
    "unify_dtypes",
]

Join = Literal["inner", "outer"]
AxisName = Literal["obs", "var"]


class ConcatError(AnnstoreError, ValueError):
    """The objects given to :func:`concat` cannot be concatenated as asked."""


class DuplicateNamesError(AnnstoreError, pd.errors.InvalidIndexError):
    """Names that have to be unique for a join (columns, or names of the joined axis) repeat.

    Also a :class:`pandas.errors.InvalidIndexError`, which anndata raises in these cases.
    """


class ConcatArgumentError(AnnstoreError, TypeError):
    """Arguments of :func:`concat` contradict each other (mapping input *and* ``keys``)."""


class _DefaultJoin(str):
    """``"inner"``, marked as not passed by the caller (anndata warns about dropped X then)."""

    __slots__ = ()


_DEFAULT_JOIN: Final = _DefaultJoin("inner")


# ------------------------------------------------------------------ small helpers


def _dask_array_type() -> type | None:
    mod = sys.modules.get("dask.array")
    return None if mod is None else mod.Array


def _is_dask(x: Any) -> bool:
    # A dask array can only exist once dask.array was imported: never import it to check.
    t = _dask_array_type()
    return t is not None and isinstance(x, t)


def _is_sparse(x: Any) -> bool:
    return sparse.issparse(x)


def _is_dask_sparse(x: Any) -> bool:
    return _is_dask(x) and sparse.issparse(x._meta)


def _is_awkward(x: Any) -> bool:
    ak = sys.modules.get("awkward")  # an awkward array exists only once awkward is imported
    return ak is not None and isinstance(x, ak.Array)


def resolve_axis(axis: Literal["obs", 0, "var", 1]) -> tuple[Literal[0, 1], AxisName]:
    """Normalise ``axis`` to ``(0, "obs")`` or ``(1, "var")``."""
    if isinstance(axis, str | int | np.integer) and not isinstance(axis, bool):
        if axis in (0, "obs"):
            return 0, "obs"
        if axis in (1, "var"):
            return 1, "var"
    msg = f"`axis` must be either 0, 1, 'obs', or 'var', was {axis}"
    raise ConcatError(msg)


def check_join(join: Any) -> Join:
    """Validate ``join``."""
    if join not in ("inner", "outer"):
        msg = f"Expected join to be 'inner' or 'outer'; got {join!r} instead."
        raise ConcatError(msg)
    return "inner" if join == "inner" else "outer"


# ------------------------------------------------------------------ axis names


def concat_index(
    indices: Sequence[pd.Index], label: pd.Categorical, index_unique: str | None
) -> pd.Index:
    """Names along the concatenated axis: the inputs' names, one after the other.

    With ``index_unique``, each name gets ``f"{index_unique}{key}"`` appended.
    """
    series = pd.concat([idx.to_series() for idx in indices], ignore_index=True)
    if index_unique is not None:
        series = series.str.cat(label.map(str, na_action="ignore"), sep=index_unique)
    return pd.Index(series)


def label_column(sizes: Sequence[int], keys: Sequence[Any]) -> pd.Categorical:
    """The categorical batch column: ``keys[i]`` repeated ``sizes[i]`` times, categories ``keys``."""
    if len(keys) != len(sizes):
        msg = f"Expected one key per object ({len(sizes)}); got {len(keys)} keys instead."
        raise ConcatError(msg)
    categories = pd.Index(keys)
    if categories.has_duplicates:
        dup = categories[categories.duplicated()].unique().tolist()
        msg = f"Expected unique keys to label the objects; got duplicates {dup!r}."
        raise ConcatError(msg)
    codes = np.repeat(np.arange(len(sizes)), np.asarray(sizes, dtype=np.intp))
    return pd.Categorical.from_codes(codes, categories=categories)


def merge_indices(indices: Iterable[pd.Index], join: Join) -> pd.Index:
    """Join the names of the other axis: intersection (inner) or union (outer).

    Uses pandas' own set operations, so the order is pandas': intersection keeps the first
    index's order; union is sorted unless the indices are equal or cannot be compared.
    """
    join = check_join(join)
    if join == "inner":
        return reduce(lambda x, y: x.intersection(y), indices)
    return reduce(lambda x, y: x.union(y), indices)


def check_unique(indices: Sequence[pd.Index], axis_name: str) -> None:
    """Raise :class:`DuplicateNamesError` if any index to be joined has duplicates."""
    for i, idx in enumerate(indices):
        if not idx.is_unique:
            dup = idx[idx.duplicated()].unique().tolist()[:5]
            msg = (
                f"Expected unique {axis_name}_names to join on; object {i} has duplicated "
                f"{axis_name}_names {dup!r}. Call `{axis_name}_names_make_unique()` first."
            )
            raise DuplicateNamesError(msg)


# ------------------------------------------------------------------ reindexing


def default_fill_value(els: Iterable[Any]) -> Any:
    """``0`` when any element is sparse (also dask arrays of sparse chunks), else ``NaN``."""
    if any(_is_sparse(el) or _is_dask_sparse(el) for el in els):
        return 0
    return np.nan


def _np_bool_to_nullable(df: pd.DataFrame) -> pd.DataFrame:
    # Filling numpy bool columns would give object columns (unwritable): use pandas "boolean".
    bool_cols = [c for c, t in df.dtypes.items() if t == np.dtype(bool)]
    if not bool_cols:
        return df
    df = df.copy()
    for c in bool_cols:
        df[c] = pd.array(df[c].to_numpy(), dtype="boolean")
    return df


class Reindexer:
    """Aligns one axis of an element from an input's names (``old_idx``) to joined names (``new_idx``).

    Attributes
    ----------
    old_idx, new_idx
        The input's names and the target names.
    no_change
        Whether the two are equal (elements pass through untouched).
    old_pos, new_pos
        Positions in ``old_idx`` that are kept, and where they land in ``new_idx``.
    idx
        For each position of ``new_idx``, its position in ``old_idx`` (``-1`` if absent).
    """

    def __init__(self, old_idx: pd.Index, new_idx: pd.Index) -> None:
        self.old_idx = old_idx
        self.new_idx = new_idx
        self.no_change = bool(new_idx.equals(old_idx))
        new_pos = new_idx.get_indexer(old_idx)
        keep = new_pos != -1
        self.new_pos: np.ndarray = new_pos[keep]
        self.old_pos: np.ndarray = np.arange(len(old_idx))[keep]
        self._idx: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Reindexer({len(self.old_idx)} -> {len(self.new_idx)}, no_change={self.no_change})"

    @property
    def idx(self) -> np.ndarray:
        if self._idx is None:
            self._idx = self.old_idx.get_indexer(self.new_idx)
        return self._idx

    @property
    def has_missing(self) -> bool:
        """Whether some target names are absent from the input (so filling happens)."""
        return bool((self.idx == -1).any())

    def __call__(self, el: Any, *, axis: int = 1, fill_value: Any = None) -> Any:
        return self.apply(el, axis=axis, fill_value=fill_value)

    def apply(self, el: Any, *, axis: int, fill_value: Any = None) -> Any:
        """Return ``el`` with its ``axis`` aligned to ``new_idx``; absent names get ``fill_value``.

        ``fill_value=None`` means NaN for dense arrays and DataFrames, 0 for sparse ones.
        """
        if _is_awkward(el):
            return self._apply_to_awkward(el, axis=axis)
        if self.no_change and el.shape[axis] == len(self.old_idx):
            return el
        if isinstance(el, pd.DataFrame | Dataset2D):
            return self._apply_to_df(el, axis=axis, fill_value=fill_value)
        if _is_sparse(el):
            return self._apply_to_sparse(el, axis=axis, fill_value=fill_value)
        if _is_dask(el):
            return self._apply_to_dask(el, axis=axis, fill_value=fill_value)
        if hasattr(el, "__array_namespace__"):
            return self._apply_to_array(el, axis=axis, fill_value=fill_value)
        msg = (
            "Expected a numpy, scipy sparse or dask array or a DataFrame to reindex; "
            f"got {type(el).__module__}.{type(el).__qualname__} instead."
        )
        raise ConcatError(msg)

    # -- per type

    def _apply_to_awkward(self, el: Any, *, axis: int) -> Any:
        # axis 1 selects record fields (inner joins); axis 0 moves rows, absent ones None
        if self.no_change:
            return el
        if axis == 1:
            missing = self.new_idx.difference(self.old_idx)
            if len(missing):
                msg = f"Cannot add fields {list(missing)!r} to an awkward array by reindexing."
                raise CapabilityError(msg)
            return el[list(self.new_idx)]
        import awkward as ak

        if len(self.new_idx) > len(self.old_idx):
            el = ak.pad_none(el, 1, axis=0)
        return el[self.idx]

    def _apply_to_df(self, el: Any, *, axis: int, fill_value: Any) -> Any:
        if fill_value is None:
            fill_value = np.nan
        if self.has_missing and isinstance(el, pd.DataFrame):
            el = _np_bool_to_nullable(el)
        return el.reindex(self.new_idx, axis=axis, fill_value=fill_value)

    def _apply_to_array(self, el: Any, *, axis: int, fill_value: Any) -> Any:
        xp = el.__array_namespace__()
        if fill_value is None:
            fill_value = default_fill_value([el])
        fv = xp.asarray(fill_value)
        if el.shape[axis] == 0:
            shape = list(el.shape)
            shape[axis] = len(self.new_idx)
            return xp.full(tuple(shape), fv, dtype=fv.dtype)
        indexer = self.idx
        missing = indexer == -1
        taken = xp.take(el, xp.asarray(np.where(missing, 0, indexer)), axis=axis)
        if not missing.any():
            return taken
        mask_shape = [1] * taken.ndim
        mask_shape[axis] = len(missing)
        return xp.where(xp.asarray(missing.reshape(mask_shape)), fv, taken)

    def _fill_positions(self, fill_value: Any) -> np.ndarray:
        if fill_value != 0:
            return self.new_idx.get_indexer(self.new_idx.difference(self.old_idx))
        return np.array([], dtype=np.intp)

    def _apply_to_sparse(self, el: Any, *, axis: int, fill_value: Any) -> Any:
        is_array = isinstance(el, sparse.sparray)
        if fill_value is None:
            fill_value = default_fill_value([el])
        n_new = len(self.new_idx)
        if el.shape[axis] == 0:
            shape = list(el.shape)
            shape[axis] = n_new
            if fill_value == 0:
                return (sparse.csr_array if is_array else sparse.csr_matrix)(tuple(shape))
            return type(el)(np.broadcast_to(np.asarray(fill_value), tuple(shape)))
        to_fill = self._fill_positions(fill_value)
        dtype = (
            np.promote_types(el.dtype, np.asarray(fill_value).dtype) if len(to_fill) else el.dtype
        )
        coo = sparse.coo_matrix(el)
        lookup = np.full(el.shape[axis], -1, dtype=np.intp)
        lookup[self.old_pos] = self.new_pos
        moved = lookup[coo.col if axis == 1 else coo.row]
        keep = moved >= 0
        other = (coo.row if axis == 1 else coo.col)[keep]
        moved = moved[keep]
        data = coo.data[keep].astype(dtype, copy=False)
        n_other = el.shape[1 - axis]
        if len(to_fill):
            other = np.concatenate([other, np.repeat(np.arange(n_other), len(to_fill))])
            moved = np.concatenate([moved, np.tile(to_fill, n_other)])
            data = np.concatenate([data, np.full(n_other * len(to_fill), fill_value, dtype=dtype)])
        shape = (n_other, n_new) if axis == 1 else (n_new, n_other)
        rc = (other, moved) if axis == 1 else (moved, other)
        cls = sparse.coo_array if is_array else sparse.coo_matrix
        out = cls((data, rc), shape=shape, dtype=dtype)
        return out.tocsr() if el.format == "csr" else out.tocsc()

    def _apply_to_dask(self, el: Any, *, axis: int, fill_value: Any) -> Any:
        import dask.array as da

        if fill_value is None:
            fill_value = default_fill_value([el])
        shape = list(el.shape)
        shape[axis] = len(self.new_idx)
        if _is_dask_sparse(el):
            # Sparse chunks: reindex each chunk whole along ``axis`` (one chunk on that axis).
            if len(el.chunks[axis]) != 1:
                el = el.rechunk({axis: -1})
            chunks = list(el.chunks)
            chunks[axis] = (len(self.new_idx),)
            dtype = (
                np.promote_types(el.dtype, np.asarray(fill_value).dtype)
                if len(self._fill_positions(fill_value))
                else el.dtype
            )

            def _block(block: Any) -> Any:
                return self._apply_to_sparse(block, axis=axis, fill_value=fill_value)

            meta = el._meta.astype(dtype)
            return el.map_blocks(_block, chunks=tuple(chunks), meta=meta, dtype=dtype)
        if el.shape[axis] == 0:
            fv = np.asarray(fill_value)
            return da.full(tuple(shape), fv, dtype=fv.dtype)
        indexer = self.idx
        missing = indexer == -1
        sel: list[Any] = [slice(None)] * el.ndim
        sel[axis] = np.where(missing, 0, indexer)
        taken = el[tuple(sel)]
        if not missing.any():
            return taken
        # Filling keeps the dtype when it can hold the fill (float32 stays float32, as in
        # anndata); integers filled with NaN become float (anndata raises there).
        dtype = np.result_type(el.dtype, fill_value)
        mask_shape = [1] * el.ndim
        mask_shape[axis] = len(missing)
        return da.where(
            missing.reshape(mask_shape), np.asarray(fill_value, dtype=dtype), taken.astype(dtype)
        )


def gen_reindexers(old_indices: Sequence[pd.Index], new_index: pd.Index) -> list[Reindexer]:
    """One :class:`Reindexer` per input, from its names to ``new_index``."""
    return [Reindexer(old, new_index) for old in old_indices]


def _identity(x: Any, **_: Any) -> Any:
    return x


# ------------------------------------------------------------------ dataframes


def _unified_dtype(dtypes: Sequence[Any], *, has_missing: bool) -> Any:
    """Target dtype for one column, or ``None`` to let pandas decide."""
    if any(isinstance(t, pd.CategoricalDtype) for t in dtypes):
        if not all(isinstance(t, pd.CategoricalDtype) for t in dtypes):
            return None
        all_cats = reduce(lambda x, y: x.union(y), (t.categories for t in dtypes))
        if not any(t.ordered for t in dtypes):
            return pd.CategoricalDtype(natsorted(all_cats), ordered=False)
        with_cats = [t for t in dtypes if len(t.categories) > 0]
        if with_cats and all(
            t.ordered
            and len(t.categories) == len(all_cats)
            and bool(np.all(all_cats == t.categories))
            for t in with_cats
        ):
            return with_cats[0]
        return object
    if has_missing and all(pd.api.types.is_bool_dtype(t) for t in dtypes):
        return pd.BooleanDtype()
    return None


def unify_dtypes(dfs: Iterable[pd.DataFrame]) -> list[pd.DataFrame]:
    """Cast columns of ``dfs`` so pandas' concatenation keeps meaningful dtypes.

    Categorical columns get the union of their categories (natural order when unordered;
    kept when every input is ordered alike, else ``object``); boolean columns missing from
    some inputs become pandas' nullable ``boolean``.
    """
    dfs = list(dfs)
    columns: dict[Any, None] = {}
    for df in dfs:
        columns.update(dict.fromkeys(df.columns))
    targets: dict[Any, Any] = {}
    for col in columns:
        present = [df.dtypes[col] for df in dfs if col in df.columns]
        target = _unified_dtype(present, has_missing=len(present) < len(dfs))
        if target is not None:
            targets[col] = target
    if not targets:
        return dfs
    out = []
    for df in dfs:
        df = df.copy(deep=False)
        for col, target in targets.items():
            if col in df.columns:
                df[col] = df[col].astype(target)
        out.append(df)
    return out


def check_combinable_cols(cols: Sequence[pd.Index], join: Join) -> None:
    """Raise :class:`DuplicateNamesError` when repeated column names would reach the result."""
    repeated: set[Any] = set()
    for c in cols:
        repeated.update(c[c.duplicated()])
    if join == "inner":
        problem = [c for c in intersect_keys(cols) if c in repeated]
    else:
        problem = sorted(repeated, key=str)
    if problem:
        msg = (
            "Cannot combine dataframes as some contain duplicated column names, which makes "
            f"the result ambiguous. Expected unique column names; got duplicates {problem!r}."
        )
        raise DuplicateNamesError(msg)


def concat_annotations(
    dfs: Sequence[pd.DataFrame], index: pd.Index, join: Join
) -> pd.DataFrame:
    """Concatenate the annotations (obs or var) along the concatenated axis."""
    cols = [df.columns for df in dfs]
    check_combinable_cols(cols, join)
    try:
        out = pd.concat(unify_dtypes(dfs), join=join, ignore_index=True)
    except pd.errors.InvalidIndexError as e:
        # pandas cannot align frames with repeated column names, even on an inner join
        dup = sorted({str(c) for idx in cols for c in idx[idx.duplicated()]})
        msg = f"Cannot concatenate annotations with duplicated column names; got duplicates {dup!r}."
        raise DuplicateNamesError(msg) from e
    out.index = index
    return out


def merge_dataframes(
    dfs: Sequence[pd.DataFrame], new_index: pd.Index, merge: MergeStrategy
) -> pd.DataFrame:
    """Merge the annotations of the other axis column by column with ``merge``."""
    aligned = [Reindexer(df.index, new_index)(df, axis=0) for df in dfs]
    return pd.DataFrame(merge(aligned), index=new_index)


# ------------------------------------------------------------------ xarray-backed frames


def _lazy_column(col: Any, *, object_dtype: bool) -> Any:
    """A dask array for an extension-dtype column of a :class:`Dataset2D` (lazy or in memory)."""
    import dask.array as da

    if col.attrs.get("elem_name") is None:  # in memory
        return da.from_array(col.values, chunks=-1)
    ext = None
    if object_dtype or col.dtype == "category" or col.dtype == "string":
        dtype = np.dtype(object)
    elif isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and col.dtype.kind in "iub":
        # a nullable integer/boolean column reads as floats with NaN for NA: its blocks are
        # object arrays of values and pd.NA, so that the mask survives (to_memory, astype)
        dtype, ext = np.dtype(object), col.dtype
    else:
        dtype = getattr(col.dtype, "numpy_dtype", col.dtype)
    variable = col.variable
    n = col.shape[0]
    step = max(1, min(1000, n))
    chunks = ((step,) * (n // step) + ((n % step,) if n % step else ()),) if n else ((0,),)

    import uuid
    from functools import partial

    # a module-level task function: the graph pickles (dask.distributed); lazy columns of a
    # file reopen it by path when unpickled
    return da.map_blocks(
        partial(_column_block, variable, dtype, ext), chunks=chunks, meta=np.array([], dtype=dtype),
        dtype=dtype, name=f"annstore-column-{uuid.uuid4().hex}",
    )


def _column_block(variable: Any, dtype: Any, ext: Any = None, block_info: Any = None) -> np.ndarray:
    """Task body of :func:`_lazy_column`: rows ``block_info``'s location of ``variable``."""
    (start, stop), = block_info[None]["array-location"]
    out = np.asarray(variable[start:stop].values)
    if ext is not None:
        return pd.array(out, dtype=ext).to_numpy(dtype=object, na_value=pd.NA)
    try:
        return out.astype(dtype, copy=False)
    except (TypeError, ValueError):  # missing values (pd.NA) of a nullable column: as anndata, unconverted
        return out


def _dask_extension_columns(
    annotations: Iterable[Dataset2D], *, object_dtype: bool = False
) -> list[Dataset2D]:
    """Copies whose extension-dtype columns (categoricals, nullables) are dask arrays."""
    out = []
    for a in annotations:
        ext = {c for c in a.columns if pd.api.types.is_extension_array_dtype(a[c])}
        out.append(
            a.copy(
                data={
                    name: _lazy_column(col, object_dtype=object_dtype) if name in ext else col
                    for name, col in a._items()
                }
            )
        )
    return out


def concat_dataset2d_on_annot_axis(
    annotations: Iterable[Dataset2D],
    join: Join,
    *,
    force_lazy: bool,
    concat_indices: pd.Index | None = None,
) -> Dataset2D:
    """Concatenate :class:`Dataset2D` objects along their rows, as ``pd.concat(ignore_index=True)``.

    Each one's rows are put on a range coordinate first, so that nothing is loaded and the
    true index (possibly a lazy variable) is carried along; the result is indexed by
    ``concat_indices`` when given, else by the concatenated true indices. Backed data, or
    ``force_lazy``, make extension-dtype columns dask arrays.
    """
    import xarray as xr

    annotations = list(annotations)
    have_backed = any(a.is_backed for a in annotations)
    if have_backed or force_lazy:
        annotations = _dask_extension_columns(annotations)
    else:
        annotations = unify_dtypes(annotations)
    moved = []
    for a in annotations:
        old_key = a.index_dim
        is_fake_index = old_key != a.true_index_dim
        ds = a.ds.copy()
        ds.coords[DS_CONCAT_DUMMY_INDEX_NAME] = (old_key, pd.RangeIndex(a.shape[0]))
        ds = ds.swap_dims({old_key: DS_CONCAT_DUMMY_INDEX_NAME})
        old_coord = ds.coords[old_key]
        del ds.coords[old_key]
        ds[old_key] = old_coord
        b = Dataset2D(ds)
        if not is_fake_index:
            b.true_index_dim = old_key
        moved.append(b)
    ds_concat = xr.concat([b.ds for b in moved], join=join, dim=DS_CONCAT_DUMMY_INDEX_NAME)
    ds_concat.attrs.pop("indexing_key", None)
    as_2d = Dataset2D(ds_concat)
    as_2d.is_backed = have_backed
    if concat_indices is not None:
        concat_indices = concat_indices.copy()
        concat_indices.name = DS_CONCAT_DUMMY_INDEX_NAME
        as_2d.index = concat_indices
        ds_concat = as_2d.ds
    else:
        n = ds_concat.sizes[DS_CONCAT_DUMMY_INDEX_NAME]
        ds_concat.coords[DS_CONCAT_DUMMY_INDEX_NAME] = pd.RangeIndex(n)
    ds_concat = ds_concat.drop_dims([d for d in ds_concat.dims if d != DS_CONCAT_DUMMY_INDEX_NAME])
    if concat_indices is None:
        true_index = xr.concat([b.true_xr_index for b in moved], dim=DS_CONCAT_DUMMY_INDEX_NAME)
        true_index.coords[DS_CONCAT_DUMMY_INDEX_NAME] = ds_concat.coords[DS_CONCAT_DUMMY_INDEX_NAME]
        ds_concat.coords[DS_CONCAT_DUMMY_INDEX_NAME] = true_index
    for key in {b.true_index_dim for b in moved if b.true_index_dim != b.index_dim}:
        del ds_concat[key]
    if DUMMY_RANGE_INDEX_KEY in ds_concat:
        del ds_concat[DUMMY_RANGE_INDEX_KEY]
    return Dataset2D(ds_concat)


def _axis_names(adata: Any, attr: str) -> pd.Index:
    """``obs_names``/``var_names``; for a :class:`Dataset2D` annotation its true (stored) index, as anndata."""
    annot = getattr(adata, attr)
    return annot.true_index if isinstance(annot, Dataset2D) else getattr(adata, f"{attr}_names")


def merge_dataset2d(annotations: Sequence[Dataset2D], join: Join) -> Dataset2D:
    """The other axis' annotation when every input's is a :class:`Dataset2D`: an xarray merge.

    As anndata, the merge strategy is not applied here: xarray's merge keeps the first value
    of each column (all extension-dtype columns as object dtype dask arrays).
    """
    import xarray as xr

    with_dask = _dask_extension_columns(annotations, object_dtype=True)
    for a in with_dask:
        if a.true_index_dim != a.index_dim:
            a.index = a.true_index
    renamed = [a.ds.rename({a.true_index_dim: DS_MERGE_DUMMY_INDEX_NAME}) for a in with_dask]
    return Dataset2D(xr.merge(renamed, join=join, compat="override"))


# ------------------------------------------------------------------ arrays


class _MissingBlock:
    """Stand-in for an element absent from one input in an outer join."""

    __slots__ = ("n", "off")

    def __init__(self, n: int, off: int = 0) -> None:
        self.n = n
        self.off = off


def _as_sparse(x: Any, *, use_sparse_array: bool) -> Any:
    if _is_sparse(x):
        return x
    if _is_dask(x):
        x = x.compute()
        if _is_sparse(x):
            return x
    return (sparse.csr_array if use_sparse_array else sparse.csr_matrix)(x)


def _materialise_missing(
    arrays: Sequence[Any], reindexers: Sequence[Callable[..., Any]], axis: int, fill_value: Any
) -> tuple[list[Any], list[Callable[..., Any]]]:
    """Replace :class:`_MissingBlock` stand-ins by arrays that reindex to the right fill."""
    present = [a for a in arrays if not isinstance(a, _MissingBlock)]
    any_dask = any(_is_dask(a) for a in present)
    out_arrays, out_reindexers = [], []
    for a, r in zip(arrays, reindexers, strict=True):
        if isinstance(a, _MissingBlock):
            if any_dask:
                import dask.array as da

                fill = default_fill_value(present) if fill_value is None else fill_value
                n_out = len(r.new_idx) if isinstance(r, Reindexer) else a.off
                shape = (a.n, n_out) if axis == 0 else (n_out, a.n)
                a, r = da.full(shape, fill), _identity
            else:
                # zero-width along the reindexed axis: the reindexer fills it entirely
                a = np.zeros((a.n, 0) if axis == 0 else (0, a.n), dtype=bool)
        out_arrays.append(a)
        out_reindexers.append(r)
    return out_arrays, out_reindexers


#: Concatenates elements of types core does not know (third-party element types): set by
#: :mod:`annstore._wiring` to ask the plugins' ``annstore_concat_elems`` hook, so the model
#: needs no import of the plugin layer. ``func(elems, axis=, fill_value=)`` returns the
#: result or ``None`` when no plugin takes the elements.
_foreign_concat: Callable[..., Any] | None = None


def set_foreign_concat(func: Callable[..., Any] | None) -> None:
    """Set how :func:`concat_arrays` concatenates elements of types core does not know."""
    global _foreign_concat
    _foreign_concat = func


def _is_foreign(a: Any) -> bool:
    return not (
        isinstance(a, np.ndarray) or _is_sparse(a) or _is_dask(a) or hasattr(a, "__array_namespace__")
    )


def _concat_foreign(arrays: Sequence[Any], *, axis: int, fill_value: Any) -> Any:
    """Concatenate third-party elements through the ``annstore_concat_elems`` hook."""
    elems = [None if isinstance(a, _MissingBlock) else a for a in arrays]
    out = None if _foreign_concat is None else _foreign_concat(elems, axis=axis, fill_value=fill_value)
    if out is None:
        kinds = sorted({f"{type(a).__module__}.{type(a).__qualname__}" for a in elems if a is not None})
        msg = (
            f"Cannot concatenate elements of type {', '.join(kinds)}: no installed plugin's "
            "annstore_concat_elems hook accepts them (the plugin providing this element "
            "type can implement it)."
        )
        raise CapabilityError(msg)
    return out


def concat_arrays(
    arrays: Sequence[Any],
    reindexers: Sequence[Callable[..., Any]],
    *,
    axis: int = 0,
    index: pd.Index | None = None,
    fill_value: Any = None,
    force_lazy: bool = False,
) -> Any:
    """Concatenate ``arrays`` along ``axis`` after aligning each with its reindexer.

    Sparse inputs make the result sparse (CSR; a scipy sparse *array* if any input is one);
    dask inputs make it a dask array; DataFrames are concatenated with :func:`unify_dtypes`
    and given ``index``.
    """
    present = [a for a in arrays if not isinstance(a, _MissingBlock)]
    if fill_value is None:
        fill_value = default_fill_value(present)
    if any(isinstance(a, Dataset2D) for a in present):
        if any(isinstance(a, pd.DataFrame) for a in present):
            arrays = [a.to_memory() if isinstance(a, Dataset2D) else a for a in arrays]
        elif not all(isinstance(a, Dataset2D) for a in arrays):
            others = [
                np.ndarray if isinstance(a, _MissingBlock) else type(a)
                for a in arrays
                if not isinstance(a, Dataset2D)
            ]
            msg = f"Cannot concatenate a Dataset2D with other array types {others}."
            raise ValueError(msg)
        else:
            return concat_dataset2d_on_annot_axis(arrays, "outer", force_lazy=force_lazy)
    if any(isinstance(a, pd.DataFrame) for a in arrays):
        if not all(isinstance(a, pd.DataFrame | _MissingBlock) for a in arrays):
            kinds = sorted({type(a).__name__ for a in present})
            msg = f"Cannot concatenate a DataFrame with other array types; got {kinds}."
            raise CapabilityError(msg)
        parts = [
            pd.DataFrame(index=range(a.n)) if isinstance(a, _MissingBlock) else f(a)
            for f, a in zip(reindexers, arrays, strict=True)
        ]
        df = pd.concat(unify_dtypes(parts), axis=axis, ignore_index=True)
        if index is not None:
            df.index = index
        return df
    if any(_is_awkward(a) for a in present):
        import awkward as ak

        if not all(_is_awkward(a) or 0 in a.shape for a in present):
            raise NotImplementedError(_AWK_MIX_MSG)
        return ak.concatenate(
            [f(a) for f, a in zip(reindexers, arrays, strict=True)], axis=axis
        )
    if any(_is_foreign(a) for a in present):
        return _concat_foreign(arrays, axis=axis, fill_value=fill_value)
    arrays, reindexers = _materialise_missing(arrays, reindexers, axis, fill_value)
    other = 1 - axis
    if any(_is_sparse(a) for a in arrays):
        use_array = any(isinstance(a, sparse.sparray) for a in arrays)
        stack = sparse.vstack if axis == 0 else sparse.hstack
        blocks = [
            f(_as_sparse(a, use_sparse_array=use_array), axis=other, fill_value=fill_value)
            for f, a in zip(reindexers, arrays, strict=True)
        ]
        return stack(blocks, format="csr")
    blocks = [
        f(a, axis=other, fill_value=fill_value) for f, a in zip(reindexers, arrays, strict=True)
    ]
    if any(_is_dask(b) for b in blocks):
        import dask.array as da

        return da.concatenate(blocks, axis=axis)
    if all(isinstance(b, np.ndarray) for b in blocks):
        return np.concatenate(blocks, axis=axis)
    namespaces = {b.__array_namespace__() for b in blocks if hasattr(b, "__array_namespace__")}
    if len(namespaces) > 1 or not all(hasattr(b, "__array_namespace__") for b in blocks):
        kinds = sorted({type(b).__qualname__ for b in blocks})
        msg = f"Cannot concatenate arrays from different array libraries; got {kinds}."
        raise CapabilityError(msg)
    (xp,) = namespaces
    return xp.concat(blocks, axis=axis)


_AWK_MIX_MSG: Final = "Cannot concatenate an AwkwardArray with other array types."

_AWK_OUTER_MSG: Final = (
    "Outer joins on awkward.Arrays will have different return values in the future. "
    "For details, and to offer input, please see:\n\n\t"
    "https://github.com/scverse/anndata/issues/898"
)


def _check_awkward_only(els: Sequence[Any]) -> bool:
    """Whether the present elements are awkward arrays; raise if awkward mixes with others."""
    present = [el for el in els if not isinstance(el, _MissingBlock)]
    if not any(_is_awkward(el) for el in present):
        return False
    if not all(_is_awkward(el) for el in present):
        raise NotImplementedError(_AWK_MIX_MSG)
    return True


def _inner_reindexers(els: Sequence[Any]) -> list[Reindexer]:
    if all(isinstance(el, pd.DataFrame) for el in els):
        common = reduce(lambda x, y: x.intersection(y), (el.columns for el in els))
        return [Reindexer(el.columns, common) for el in els]
    if _check_awkward_only(els):
        fields = pd.Index(intersect_keys([el.fields for el in els]), dtype=object)
        return [Reindexer(pd.Index(el.fields, dtype=object), fields) for el in els]
    width = min(el.shape[1] for el in els)
    return [Reindexer(pd.RangeIndex(el.shape[1]), pd.RangeIndex(width)) for el in els]


def _outer_reindexers(els: Sequence[Any]) -> list[Callable[..., Any]]:
    present = [el for el in els if not isinstance(el, _MissingBlock)]
    if all(isinstance(el, pd.DataFrame) for el in present):
        return [_identity for _ in els]
    if _check_awkward_only(els):
        from .errors import ExperimentalFeatureWarning

        warnings.warn(_AWK_OUTER_MSG, ExperimentalFeatureWarning, stacklevel=4)
        return [_awkward_missing if isinstance(el, _MissingBlock) else _identity for el in els]
    width = max(el.shape[1] for el in present)
    return [
        Reindexer(
            pd.RangeIndex(0 if isinstance(el, _MissingBlock) else el.shape[1]),
            pd.RangeIndex(width),
        )
        for el in els
    ]


def _awkward_missing(block: _MissingBlock, **_: Any) -> Any:
    import awkward as ak

    return ak.pad_none(ak.Array([]), block.n, 0)


def concat_aligned_mappings(
    mappings: Sequence[Mapping[Any, Any]],
    sizes: Sequence[int],
    join: Join,
    *,
    axis: int,
    reindexers: Sequence[Reindexer] | None = None,
    index: pd.Index | None = None,
    fill_value: Any = None,
    force_lazy: bool = False,
) -> dict[Any, Any]:
    """Concatenate mappings of aligned elements (layers, obsm/varm) key by key.

    Inner joins keep the keys present in every input; outer joins keep all keys and fill
    the inputs lacking one. Without ``reindexers`` (obsm/varm), the second axis of the
    elements is aligned by column names for DataFrames and by position otherwise (inner:
    truncated to the narrowest, outer: padded to the widest).
    """
    out: dict[Any, Any] = {}
    keys = intersect_keys(mappings) if join == "inner" else union_keys(mappings)
    for k in keys:
        els = [
            m[k] if k in m else _MissingBlock(n) for m, n in zip(mappings, sizes, strict=True)
        ]
        if reindexers is not None:
            cur: Sequence[Callable[..., Any]] = reindexers
        elif join == "inner":
            cur = _inner_reindexers(els)
        else:
            cur = _outer_reindexers(els)
        out[k] = concat_arrays(
            els,
            cur,
            axis=axis,
            index=index,
            fill_value=fill_value if join == "outer" else None,
            force_lazy=force_lazy,
        )
    return out


def _dask_block_diag(mats: Sequence[Any]) -> Any:
    import dask.array as da

    rows: list[list[Any]] = []
    for i, x in enumerate(mats):
        row = []
        for j, y in enumerate(mats):
            if i == j:
                row.append(x if isinstance(x._meta, sparse.csr_matrix) else x.map_blocks(sparse.csr_matrix))
            else:
                row.append(da.from_array(sparse.csr_matrix((x.shape[0], y.shape[1]))))
        rows.append(row)
    return da.block(rows)


def concat_pairwise(
    mappings: Sequence[Mapping[Any, Any]], sizes: Sequence[int], join: Join
) -> dict[Any, Any]:
    """Block-diagonal concatenation of pairwise elements (obsp/varp) as CSR matrices."""
    any_array = any(isinstance(v, sparse.sparray) for m in mappings for v in m.values())
    empty_cls = sparse.csr_array if any_array else sparse.csr_matrix
    keys = intersect_keys(mappings) if join == "inner" else union_keys(mappings)
    out: dict[Any, Any] = {}
    for k in keys:
        els = [m[k] if k in m else empty_cls((s, s), dtype=bool) for m, s in zip(mappings, sizes, strict=True)]
        if all(_is_dask(el) for el in els):
            out[k] = _dask_block_diag(els)
            continue
        els = [el.compute() if _is_dask(el) else el for el in els]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            diag = sparse.block_diag(els, format="csr")
        out[k] = sparse.csr_matrix(diag) if isinstance(diag, sparse.sparray) else diag
    return out


# ------------------------------------------------------------------ concat


def _mapping_of(adata: Any, name: str) -> Mapping[Any, Any]:
    m = getattr(adata, name)
    return {} if m is None else m


def _layers_with_x(adata: Any) -> dict[Any, Any]:
    # anndata 0.13 treats X as the layer ``None``: concatenated with the same rules, and kept
    # at its place among the layers (key order decides the result's layer order, as in anndata)
    out: dict[Any, Any] = {}
    layers = _mapping_of(adata, "layers")
    keys = list(layers.keys())
    if None not in keys and adata.X is not None:
        keys.append(None)
    for k in keys:
        v = adata.X if k is None else layers[k]
        if v is not None:
            out[k] = v
    return out


def concat(
    adatas: Collection[AnnData] | Mapping[Any, AnnData],
    *,
    axis: Literal["obs", 0, "var", 1] = "obs",
    join: Join = _DEFAULT_JOIN,
    merge: StrategyName | MergeStrategy | None = None,
    uns_merge: StrategyName | MergeStrategy | None = None,
    label: str | None = None,
    keys: Collection[Any] | None = None,
    index_unique: str | None = None,
    fill_value: Any = None,
    pairwise: bool = False,
    force_lazy: bool = False,
) -> AnnData:
    """Concatenate AnnData objects along an axis.

    Parameters
    ----------
    adatas
        The objects to concatenate. With a mapping, its keys are used as ``keys``.
    axis
        The axis to concatenate along: ``"obs"``/``0`` or ``"var"``/``1``.
    join
        How to align the other axis: ``"inner"`` keeps the names present in every object,
        ``"outer"`` all names, filling the gaps.
    merge
        How elements not aligned to the concatenated axis (the other axis' annotation
        columns, ``varm``/``varp`` when concatenating along obs) are chosen: ``None`` keeps
        none, ``"same"`` those equal in every object, ``"unique"`` those with one possible
        value, ``"first"`` the first seen, ``"only"`` those in exactly one object, or a
        callable taking the list of (reindexed) mappings and returning one.
    uns_merge
        The same strategies, applied recursively to ``uns``.
    label
        Column of the concatenated axis' annotation receiving the categorical batch keys.
    keys
        One name per object (default ``"0"``, ``"1"``, ...), used for ``label`` and
        ``index_unique``.
    index_unique
        If not ``None``, make names unique as ``f"{name}{index_unique}{key}"``.
    fill_value
        Fill for names absent from an object in an outer join. Default: 0 for sparse
        results, NaN for dense arrays and DataFrames.
    pairwise
        Keep ``obsp`` (``varp``) of the concatenated axis as block-diagonal matrices;
        otherwise they are dropped.
    force_lazy
        With xarray-backed (:class:`Dataset2D`) annotations, concatenate their
        extension-dtype columns lazily (as dask arrays) even when all are in memory.

    Returns
    -------
    AnnData
        A new object; ``raw`` is concatenated when every object has one.

    Raises
    ------
    ConcatError
        Bad ``axis``/``join``/``keys``, or no objects.
    DuplicateNamesError
        Duplicated names on the joined axis, or duplicated annotation columns.

    Notes
    -----
    Awkward arrays in obsm/varm are concatenated as in anndata (inner joins keep the record
    fields present everywhere; outer joins fill absent inputs with ``None`` rows, with an
    ``ExperimentalFeatureWarning``), and so are xarray-backed (:class:`Dataset2D`) annotations
    and elements. Differences from anndata 0.13.4: dask arrays of integers outer-joined with
    NaN fill are promoted to float (anndata fails when computing); cupy arrays are not
    supported; duplicated names on the joined axis or duplicated annotation columns raise
    :class:`DuplicateNamesError` (a :class:`pandas.errors.InvalidIndexError`) naming them; bad
    ``keys`` raise :class:`ConcatError` (a :class:`ValueError`); an unknown strategy name
    raises an error that is both a ``ValueError`` and anndata's ``KeyError``; filling sparse
    matrices with a non-zero value emits no ``SparseEfficiencyWarning``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import annstore as ad
    >>> a = ad.AnnData(np.ones((2, 2)), obs=pd.DataFrame(index=["a1", "a2"]),
    ...                var=pd.DataFrame(index=["g1", "g2"]))
    >>> b = ad.AnnData(np.zeros((1, 2)), obs=pd.DataFrame(index=["b1"]),
    ...                var=pd.DataFrame(index=["g2", "g3"]))
    >>> ad.concat([a, b]).var_names.tolist()  # inner join: the shared variables
    ['g2']
    >>> c = ad.concat({"a": a, "b": b}, join="outer", label="batch")
    >>> c.shape, c.obs["batch"].tolist()
    ((3, 3), ['a', 'a', 'b'])
    """
    from ._anndata import AnnData

    merge_fn = resolve_merge_strategy(merge)
    uns_merge_fn = resolve_merge_strategy(uns_merge)

    if isinstance(adatas, Mapping):
        if keys is not None:
            msg = (
                "Cannot specify categories in both mapping keys and using `keys`; "
                "expected only one of them."
            )
            raise ConcatArgumentError(msg)
        keys = list(adatas.keys())
        objs = list(adatas.values())
    else:
        objs = list(adatas)
    if not objs:
        msg = "No objects to concatenate: expected at least one AnnData; got none."
        raise ConcatError(msg)

    explicit_join = join is not _DEFAULT_JOIN
    join = check_join(str(join))
    if not explicit_join:
        n_x = sum(a.X is not None for a in objs)
        if 0 < n_x < len(objs):
            warnings.warn(
                # anndata 0.13.4's wording, missing spaces included
                "Some Xs are None and non-explicit join found - Xs will be dropped, which "
                "matches the behavior of `layers`.This warning will be removed in the next "
                "minor release, 0.14.To silence this warning pass in an explicit `join` parameter.",
                UserWarning,
                stacklevel=2,
            )

    keys = np.arange(len(objs)).astype(str) if keys is None else list(keys)
    ax, ax_name = resolve_axis(axis)
    _, alt_name = resolve_axis(1 - ax)

    sizes = [a.shape[ax] for a in objs]
    label_col = label_column(sizes, keys)
    index = concat_index([_axis_names(a, ax_name) for a in objs], label_col, index_unique)

    alt_indices = [_axis_names(a, alt_name) for a in objs]
    check_unique(alt_indices, alt_name)
    alt_index = merge_indices(alt_indices, join)
    reindexers = gen_reindexers(alt_indices, alt_index)

    # annotation of the concatenated axis
    annots = [getattr(a, ax_name) for a in objs]
    if any(isinstance(a, pd.DataFrame) for a in annots):
        annots = [a.to_memory() if isinstance(a, Dataset2D) else a for a in annots]
        annot = concat_annotations(annots, index, join)
    else:  # all xarray-backed: concatenated as xarray (lazily with force_lazy or backed data)
        check_combinable_cols([a.columns for a in annots], join)
        annot = concat_dataset2d_on_annot_axis(
            annots, join, force_lazy=force_lazy, concat_indices=index
        )
    if label is not None:
        annot[label] = label_col

    # annotation of the other axis
    alt_annots = [getattr(a, alt_name) for a in objs]
    if any(isinstance(a, pd.DataFrame) for a in alt_annots):
        alt_annots = [a.to_memory() if isinstance(a, Dataset2D) else a for a in alt_annots]
        alt_annot = merge_dataframes(alt_annots, alt_index, merge_fn)
    else:
        alt_annot = merge_dataset2d(alt_annots, join)

    layers = concat_aligned_mappings(
        [_layers_with_x(a) for a in objs],
        sizes,
        join,
        axis=ax,
        reindexers=reindexers,
        fill_value=fill_value,
    )
    # X travels as layers[None] (anndata 0.13's model), keeping its place among the layers
    axis_m = concat_aligned_mappings(
        [_mapping_of(a, f"{ax_name}m") for a in objs],
        sizes,
        join,
        axis=0,
        index=index,
        fill_value=fill_value,
        force_lazy=force_lazy,
    )
    axis_p = (
        concat_pairwise([_mapping_of(a, f"{ax_name}p") for a in objs], sizes, join)
        if pairwise
        else {}
    )
    alt_m = merge_fn(
        [
            {k: r(v, axis=0) for k, v in _mapping_of(a, f"{alt_name}m").items()}
            for r, a in zip(reindexers, objs, strict=True)
        ]
    )
    alt_p = merge_fn(
        [
            {k: r(r(v, axis=0), axis=1) for k, v in _mapping_of(a, f"{alt_name}p").items()}
            for r, a in zip(reindexers, objs, strict=True)
        ]
    )
    uns = uns_merge_fn([_mapping_of(a, "uns") for a in objs])

    raw = None
    has_raw = [a.raw is not None for a in objs]
    if all(has_raw):
        raw = concat(
            [
                AnnData(
                    X=a.raw.X,
                    obs=pd.DataFrame(index=a.obs_names),
                    var=a.raw.var,
                    varm=dict(_mapping_of(a.raw, "varm")),
                )
                for a in objs
            ],
            axis=ax,
            join=join,
            label=label,
            keys=keys,
            index_unique=index_unique,
            fill_value=fill_value,
        )
    elif any(has_raw):
        warnings.warn(
            "Only some AnnData objects have `.raw` attribute, not concatenating `.raw` "
            "attributes.",
            UserWarning,
            stacklevel=2,
        )

    parts: dict[str, Any] = {
        ax_name: annot,
        alt_name: alt_annot,
        f"{ax_name}m": axis_m,
        f"{alt_name}m": dict(alt_m),
        f"{ax_name}p": axis_p,
        f"{alt_name}p": dict(alt_p),
    }
    return AnnData(
        None,
        obs=parts["obs"],
        var=parts["var"],
        uns=dict(uns),
        obsm=parts["obsm"],
        varm=parts["varm"],
        layers=layers,
        raw=raw,
        obsp=parts["obsp"],
        varp=parts["varp"],
    )

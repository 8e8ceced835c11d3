"""``BackedArray``: a dense stored array read (and, in ``r+``, written) by outer selection."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._sparse import _normalize_axis, backend_name

__all__ = ["BackedArray"]



def _expand(index: Any, ndim: int) -> tuple[Any, ...]:
    if not isinstance(index, tuple):
        index = (index,)
    if any(i is Ellipsis for i in index):
        at = next(k for k, i in enumerate(index) if i is Ellipsis)
        fill = (slice(None),) * (ndim - len(index) + 1)
        index = index[:at] + fill + index[at + 1 :]
    if len(index) > ndim:
        msg = f"Expected an index of at most {ndim} dimensions; got {len(index)}."
        raise IndexError(msg)
    return tuple(index) + (slice(None),) * (ndim - len(index))


class BackedArray:
    """A dense array kept in a file (``adata.X`` of a backed AnnData with dense X).

    Indexing is *outer* (like AnnData's): each axis takes an int, a slice of any step, a
    boolean mask or integer positions (unsorted, repeated, negative); only the bounding box
    of the selection is read. In ``r+`` mode, assignment writes through to the file.

    Parameters
    ----------
    node
        The adapted array node of the store.
    native
        The storage library's own array (``h5py.Dataset``, ``zarr.Array``), when the node
        wraps one; default: ``node``.
    """

    def __init__(self, node: Any, native: Any = None) -> None:
        self._node = node
        self._native = node if native is None else native

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._node.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._node.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def attrs(self) -> Any:
        return self._node.attrs

    @property
    def backend(self) -> str:
        return backend_name(getattr(self._node, "format", ""))

    @property
    def name(self) -> str:
        return str(self._node.name)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        fn = getattr(self._node, "filename", None)
        return f"BackedArray: backend {self.backend}, shape {self.shape}, dtype {self.dtype}, element {self.name!r} in {str(fn)!r}"

    def _plan(self, index: Any) -> tuple[tuple[slice, ...], tuple[Any, ...], list[bool]]:
        """Bounding slices to read, the in-memory selection on the read block, scalar axes."""
        idx = _expand(index, self.ndim)
        read: list[slice] = []
        local: list[Any] = []
        scalar: list[bool] = []
        for ax, (i, n) in enumerate(zip(idx, self.shape, strict=True)):
            if isinstance(i, slice) and (i.step is None or i.step == 1):
                a, b, _ = i.indices(n)
                read.append(slice(a, max(a, b)))
                local.append(slice(None))
                scalar.append(False)
                continue
            kind, v = _normalize_axis(i, n, ax)
            if kind == "int":
                read.append(slice(v, v + 1))
                local.append(np.array([0]))
                scalar.append(True)
                continue
            if v.size == 0:
                read.append(slice(0, 0))
                local.append(v)
            else:
                lo, hi = int(v.min()), int(v.max()) + 1
                read.append(slice(lo, hi))
                local.append(v - lo)
            scalar.append(False)
        return tuple(read), tuple(local), scalar

    def __getitem__(self, index: Any) -> Any:
        read, local, scalar = self._plan(index)
        block = np.asarray(self._node[read])
        if all(isinstance(s, slice) for s in local):
            out = block
        else:
            out = block[np.ix_(*[np.arange(block.shape[k])[s] if isinstance(s, slice) else s for k, s in enumerate(local)])]
        squeeze = tuple(k for k, s in enumerate(scalar) if s)
        if squeeze:
            out = out.reshape([d for k, d in enumerate(out.shape) if k not in squeeze])
            if out.ndim == 0:
                return out[()]
        return out

    def __setitem__(self, index: Any, value: Any) -> None:
        read, local, scalar = self._plan(index)
        sizes = [
            (r.stop - r.start) if isinstance(s, slice) else len(s)
            for r, s in zip(read, local, strict=True)
        ]
        squeezed = [n for n, sc in zip(sizes, scalar, strict=True) if not sc]
        v = np.broadcast_to(np.asarray(value, dtype=self.dtype), squeezed).reshape(sizes)
        if all(isinstance(s, slice) for s in local):
            self._node[read] = v
            return
        block = np.asarray(self._node[read])
        sel = np.ix_(*[np.arange(block.shape[k])[s] if isinstance(s, slice) else s for k, s in enumerate(local)])
        block[sel] = v
        self._node[read] = block

    def to_memory(self) -> np.ndarray:
        """The whole array in memory."""
        return np.asarray(self._node[tuple(slice(None) for _ in self.shape)])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.to_memory()
        return out if dtype is None else out.astype(dtype)

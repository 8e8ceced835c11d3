"""``read_hdf``: a 2-D dataset of a plain HDF5 file (plus ``row_names``/``col_names``) as AnnData."""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
import pandas as pd
from annstore.errors import InvalidFileError

from ._confine import confined

__all__ = ["read_hdf"]


def _names(ds: h5py.Dataset, n: int, which: str, filename: Any) -> pd.Index:
    vals = ds[()]
    arr = np.asarray(vals).ravel()
    if arr.shape[0] != n:
        msg = (
            f"Expected {which} of length {n} (the matrix's {'rows' if which == 'row_names' else 'columns'}); "
            f"got {arr.shape[0]} instead."
        )
        raise InvalidFileError(msg, filename=str(filename), path=f"/{which}")
    return pd.Index([x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in arr.tolist()])


def read_hdf(filename: Any, key: str) -> Any:
    """Read the dataset ``key`` of an HDF5 file as X, as anndata's ``read_hdf`` does.

    ``row_names`` and ``col_names`` datasets at the file's root, when present, become
    ``obs_names`` and ``var_names`` (decoded to ``str``).

    Raises
    ------
    ValueError
        ``key`` is empty; the message lists the datasets the file stores.
    KeyError
        ``key`` is not in the file.
    """
    from annstore import AnnData

    with h5py.File(filename, "r") as f:
        keys = list(f)
        if key == "":
            msg = (
                f"The file {filename} stores the following sheets:\n{keys}\n"
                "Call read/read_hdf5 with one of them."
            )
            raise ValueError(msg)
        if key not in f:
            msg = f"Expected a dataset {key!r} in {str(filename)!r}; the file stores {keys}."
            raise KeyError(msg)
        node = confined(f, key)
        if not isinstance(node, h5py.Dataset):
            msg = f"Expected {key!r} in {str(filename)!r} to be a dataset; got a group instead."
            raise InvalidFileError(msg, filename=str(filename), path=f"/{key}")
        X = node[()]
        if X.ndim != 2:
            msg = f"Expected a 2-D dataset at {key!r}; got shape {X.shape} instead."
            raise InvalidFileError(msg, filename=str(filename), path=f"/{key}")
        obs = var = None
        if "row_names" in keys:
            obs = pd.DataFrame(index=_names(confined(f, "row_names"), X.shape[0], "row_names", filename))
        if "col_names" in keys:
            var = pd.DataFrame(index=_names(confined(f, "col_names"), X.shape[1], "col_names", filename))
    return AnnData(X, obs=obs, var=var)

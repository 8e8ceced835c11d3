"""``gen_adata``: a rich, deterministic AnnData covering every element encoding."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["gen_adata", "gen_frame"]

XType = Literal["dense", "csr", "csc", "csr_array", "csc_array"] | None


def _matrix(rng: np.random.Generator, shape: tuple[int, int], kind: XType, dtype: Any) -> Any:
    dense = rng.random(shape)
    dense[dense < 0.6] = 0
    dense = (dense * 10).astype(dtype)
    if kind is None:
        return None
    if kind == "dense":
        return dense
    return getattr(sparse, kind if kind.endswith("_array") else f"{kind}_matrix")(dense)


def gen_frame(
    n: int, prefix: str, *, seed: int = 0, nullable: bool = True, index_name: str | None = None
) -> pd.DataFrame:
    """A dataframe of ``n`` rows with one column per supported column type.

    Parameters
    ----------
    n
        Number of rows.
    prefix
        Prefix of the row names (``f"{prefix}{i}"``).
    seed
        Seed of the random values.
    nullable
        Include pandas nullable columns (``Int64``, ``boolean``, ``string``).
    index_name
        Name of the index.
    """
    rng = np.random.default_rng(seed)
    letters = np.array(["a", "b", "c", "ü", "日本"], dtype=object)
    cols: dict[str, Any] = {
        "cat": pd.Categorical(rng.choice(letters[:3], n) if n else []),
        "cat_ordered": pd.Categorical(
            rng.choice(["lo", "mid", "hi"], n) if n else [], categories=["lo", "mid", "hi"],
            ordered=True,
        ),
        "cat_int": pd.Categorical(rng.integers(0, 3, n)),
        "int64": rng.integers(-100, 100, n).astype(np.int64),
        "uint8": rng.integers(0, 255, n).astype(np.uint8),
        "float32": rng.random(n).astype(np.float32),
        "float64_nan": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
        "bool": rng.random(n) < 0.5,
        "str": pd.array([f"{prefix}_s{i}" for i in range(n)], dtype="str"),
    }
    if n:
        cat_nan = pd.Categorical(rng.choice(["x", "y"], n))
        cat_nan[0] = np.nan
        cols["cat_nan"] = cat_nan
    if nullable:
        ints = pd.array(rng.integers(0, 50, n), dtype="Int64")
        bools = pd.array(rng.random(n) < 0.5, dtype="boolean")
        strings = pd.array([f"t{i}" for i in range(n)], dtype="string")
        if n:
            ints[0] = pd.NA
            bools[-1] = pd.NA
            strings[n // 2] = pd.NA
        cols.update({"nullable_int": ints, "nullable_bool": bools, "nullable_string": strings})
    idx = pd.Index([f"{prefix}{i}" for i in range(n)], dtype="str", name=index_name)
    return pd.DataFrame(cols, index=idx)


def gen_adata(
    shape: tuple[int, int] = (12, 8),
    *,
    X_type: XType = "dense",
    X_dtype: Any = np.float32,
    obsm_types: tuple[str, ...] = ("dense", "csr", "df"),
    layers: bool = True,
    uns: bool = True,
    raw: bool = False,
    nullable: bool = True,
    seed: int = 0,
) -> Any:
    """A deterministic AnnData exercising every element encoding, like anndata's test helper.

    Parameters
    ----------
    shape
        ``(n_obs, n_vars)``; zero sizes are allowed.
    X_type
        ``"dense"``, ``"csr"``, ``"csc"``, ``"csr_array"``, ``"csc_array"`` or ``None`` (no X).
    X_dtype
        dtype of X and the layers.
    obsm_types
        Which kinds of values to put in obsm/varm (``"dense"``, ``"csr"``, ``"df"``).
    layers, uns, raw
        Whether to fill layers, uns (scalars, strings, arrays, nested dicts, a dataframe, a
        sparse matrix, ``None``) and raw.
    nullable
        Whether obs/var get pandas nullable columns (Int64, boolean, string with NA).
    """
    from .._anndata import AnnData

    n_obs, n_vars = shape
    rng = np.random.default_rng(seed)
    obs = gen_frame(n_obs, "cell", seed=seed, nullable=nullable)
    var = gen_frame(n_vars, "gene", seed=seed + 1, nullable=nullable, index_name="gene_id")
    obsm: dict[str, Any] = {}
    varm: dict[str, Any] = {}
    for t in obsm_types:
        if t == "dense":
            obsm["X_dense"] = rng.random((n_obs, 3))
            varm["V_dense"] = rng.random((n_vars, 2)).astype(np.float32)
        elif t == "csr":
            obsm["X_csr"] = _matrix(rng, (n_obs, 4), "csr", np.float64)
            varm["V_csc"] = _matrix(rng, (n_vars, 3), "csc", np.float32)
        elif t == "df":
            obsm["df"] = gen_frame(n_obs, "cell", seed=seed + 2, nullable=False)
    d: dict[str, Any] = {
        "X": _matrix(rng, shape, X_type, X_dtype),
        "obs": obs,
        "var": var,
        "obsm": obsm,
        "varm": varm,
        "obsp": {"conn": _matrix(rng, (n_obs, n_obs), "csr", np.float32),
                 "dense": rng.random((n_obs, n_obs))},
        "varp": {"corr": _matrix(rng, (n_vars, n_vars), "csc", np.float64)},
    }
    if X_type is None:
        d["shape"] = shape
    if layers:
        d["layers"] = {
            "counts": _matrix(rng, shape, "csr", np.int32),
            "dense": _matrix(rng, shape, "dense", np.float64),
        }
    if uns:
        d["uns"] = {
            "int": 3, "float": 2.5, "bool": True, "str": "héllo", "empty_str": "",
            "np_int8": np.int8(-4), "np_uint64": np.uint64(2**63 + 7), "np_float32": np.float32(1.5),
            "arr_int": np.arange(5, dtype=np.int32), "arr_2d": rng.random((2, 3)),
            "arr_str": np.array(["x", "yy", "zzz"]), "arr_empty": np.zeros((0,)),
            "arr_bool": np.array([True, False]),
            "list_str": ["a", "b"], "nested": {"a": {"b": {"c": np.arange(3), "s": "deep"}}},
            "empty_dict": {}, "none": None,
            "df": pd.DataFrame({"v": np.arange(3)}, index=pd.Index(["r0", "r1", "r2"], dtype="str")),
            "sparse": sparse.random(5, 4, density=0.3, format="csr", random_state=seed),
            "cat_colors": np.array(["#ff0000", "#00ff00", "#0000ff"]),
            "rec": np.rec.fromarrays([np.arange(3), np.array(["p", "q", "r"])], names=["i", "s"]),
        }
    ad = AnnData(**d)
    if raw:
        rvar = gen_frame(n_vars + 2, "rgene", seed=seed + 3, nullable=False)
        ad_raw = AnnData(
            X=_matrix(rng, (n_obs, n_vars + 2), "csr", np.float32), var=rvar,
            varm={"rv": rng.random((n_vars + 2, 2))},
        )
        ad = AnnData(**d, raw=ad_raw)
    return ad

"""Reading never returns bytes from outside the file or store it was asked to read.

Each case crafts a file whose element, when followed, reads bytes of *another* file: a "secret"
placed next to the victim (HDF5 external raw storage, a virtual dataset over another file,
external links, soft links leaving the file or dangling, loom variants of those, zarr chunk
files and directories that are symlinks out of the store, zip members named ``../x`` or
``/x``). Every reader must refuse the element with one ``InvalidFileError`` naming the file and
the element, and the secret's bytes must appear nowhere (not in a result, not in the message).
With the opt-in (``annstore.settings.allow_outside_data``) the same files read, and return
the secret: proof that each case is a real leak and not a file that fails for another reason.

Figures (``-s`` prints them): ``[outside-data]`` lines give the cases and read paths tried.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import annstore
from annstore.errors import AnnstoreError, InvalidFileError

N_OBS, N_VARS = 4, 5
#: What the victim's elements hold; the secret never looks like it.
GOOD = np.arange(N_OBS * N_VARS, dtype="f4").reshape(N_OBS, N_VARS)
#: The outside file's text: what must never come back.
SECRET_TEXT = b"root:x:0:0:root:/root:/bin/bash\nTOPSECRET-TOPSECRET-TOPSECRET\n" * 8
#: The outside HDF5/zarr data's value: what must never come back.
SECRET_VALUE = np.float32(1234.5)


def _need(fmt: str) -> None:
    if fmt not in annstore.list_formats():
        pytest.skip(f"requires annstore-{fmt}")


def _adata(x: Any = None) -> annstore.AnnData:
    return annstore.AnnData(
        X=GOOD.copy() if x is None else x,
        obs=pd.DataFrame(index=[f"c{i}" for i in range(N_OBS)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(N_VARS)]),
        layers={"counts": GOOD.copy()},
        uns={"note": np.arange(3, dtype="f4")},
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every victim file/store, holding the secrets."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_bytes(SECRET_TEXT)
    with h5py.File(d / "secret.h5", "w") as f:
        f["secret"] = np.full((N_OBS, N_VARS), SECRET_VALUE, dtype="f4")
        f["secret_1d"] = np.full(64, SECRET_VALUE, dtype="f4")
    return d


def _leaked(values: Any) -> bool:
    """Whether ``values`` (any array-like or text) carries the secret."""
    if values is None:
        return False
    if isinstance(values, bytes | str):
        b = values.encode() if isinstance(values, str) else values
        return any(m in b for m in (b"TOPSECRET", b"/bin/bash", b"root:x:0", b"1234.5"))
    if isinstance(values, pd.DataFrame):
        return any(_leaked(values[c].to_numpy()) for c in values.columns) or _leaked(values.index.to_numpy())
    if sparse.issparse(values):
        values = values.toarray()
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        if bool(np.any(arr == SECRET_VALUE)) or b"TOPSECRET" in arr.tobytes():
            return True
        # the secret text read as 4-byte numbers (in any order: loom transposes, csr reorders)
        return arr.dtype.itemsize == 4 and bool(np.isin(arr.ravel().view("u4"), _SECRET_WORDS).any())
    return _leaked(repr(arr.tolist()))


_SECRET_WORDS = np.frombuffer(SECRET_TEXT[: len(SECRET_TEXT) // 4 * 4], dtype="u4")


def _everything(adata: annstore.AnnData) -> Iterator[Any]:
    """Every array an AnnData holds (X, layers, obsm, uns values), materialised."""
    if adata.X is not None:
        yield adata.X[...] if hasattr(adata.X, "shape") and not isinstance(adata.X, np.ndarray) else adata.X
    for v in adata.layers.values():
        yield v
    for v in adata.obsm.values():
        yield v
    for v in adata.uns.values():
        yield v
    yield adata.obs
    yield adata.var


def _text(e: BaseException) -> str:
    return "\n".join([str(e), *getattr(e, "__notes__", [])])


def _assert_refused(ei: pytest.ExceptionInfo[BaseException], victim: Path, element: str) -> None:
    e = ei.value
    text = _text(e)
    assert isinstance(e, InvalidFileError), f"{type(e).__name__}: {text}"
    assert victim.name in text, text
    assert element in text or (getattr(e, "path", None) or "").startswith(element), text
    assert not _leaked(text), text


# --------------------------------------------------------------------------- HDF5 cases
#
# Each builder turns a freshly written victim .h5ad into a hostile one and returns the element
# path that reaches outside. ``kind`` tells which read paths apply (a dataset can be passed
# to read_elem/read_elem_lazy directly; every case is read from the root).


def _replace(f: h5py.File, path: str) -> tuple[h5py.Group, str, dict[str, Any]]:
    """Remove ``path`` from ``f``: its parent group, its name and its attributes."""
    parent, name = path.rsplit("/", 1)
    g = f[parent or "/"]
    attrs = dict(g[name].attrs) if name in g else {}
    del g[name]
    return g, name, attrs


def _external_storage(path: str, shape: tuple[int, ...]) -> Callable[[h5py.File, Path], str]:
    def build(f: h5py.File, outside: Path) -> str:
        g, name, attrs = _replace(f, path)
        nbytes = int(np.prod(shape)) * 4
        ds = g.create_dataset(name, shape=shape, dtype="f4", external=[(str(outside / "secret.txt"), 0, nbytes)])
        ds.attrs.update(attrs or {"encoding-type": "array", "encoding-version": "0.2.0"})
        return path

    return build


def _virtual(path: str, shape: tuple[int, ...]) -> Callable[[h5py.File, Path], str]:
    def build(f: h5py.File, outside: Path) -> str:
        g, name, attrs = _replace(f, path)
        layout = h5py.VirtualLayout(shape=shape, dtype="f4")
        if len(shape) == 2:
            src = h5py.VirtualSource(str(outside / "secret.h5"), "secret", shape=(N_OBS, N_VARS))
        else:
            src = h5py.VirtualSource(str(outside / "secret.h5"), "secret_1d", shape=(64,))[: shape[0]]
        layout[...] = src
        ds = g.create_virtual_dataset(name, layout)
        ds.attrs.update(attrs or {"encoding-type": "array", "encoding-version": "0.2.0"})
        return path

    return build


def _external_link(path: str, target: str) -> Callable[[h5py.File, Path], str]:
    def build(f: h5py.File, outside: Path) -> str:
        with h5py.File(outside / "other.h5ad", "w") as o:
            o.create_dataset("X", data=np.full((N_OBS, N_VARS), SECRET_VALUE, dtype="f4"))
            o["X"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
            lg = o.create_group("layers")
            lg.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
            lg.create_dataset("counts", data=np.full((N_OBS, N_VARS), SECRET_VALUE, dtype="f4"))
            lg["counts"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        g, name, _ = _replace(f, path)
        g[name] = h5py.ExternalLink(str(outside / "other.h5ad"), target)
        return path

    return build


def _soft_link(path: str, target: str, via_external: bool = False) -> Callable[[h5py.File, Path], str]:
    def build(f: h5py.File, outside: Path) -> str:
        if via_external:
            f["uns"]["_ext"] = h5py.ExternalLink(str(outside / "secret.h5"), "/")
        g, name, _ = _replace(f, path)
        g[name] = h5py.SoftLink(target)
        return path

    return build


SHAPE = (N_OBS, N_VARS)
NNZ = N_OBS * N_VARS  # the sparse victim's X is full (every value non-zero but the first)

#: name -> (builder, X is sparse, element is a dataset that can be passed on its own)
H5_CASES: dict[str, tuple[Callable[[h5py.File, Path], str], bool, bool]] = {
    "external-storage-X": (_external_storage("/X", SHAPE), False, True),
    "external-storage-layer": (_external_storage("/layers/counts", SHAPE), False, True),
    "external-storage-uns": (_external_storage("/uns/note", (3,)), False, True),
    "external-storage-sparse-data": (_external_storage("/X/data", (NNZ - 1,)), True, True),
    "external-storage-obs-index": (None, False, False),  # built below (strings are not f4)
    "virtual-X": (_virtual("/X", SHAPE), False, True),
    "virtual-layer": (_virtual("/layers/counts", SHAPE), False, True),
    "virtual-uns": (_virtual("/uns/note", (3,)), False, True),
    "virtual-sparse-data": (_virtual("/X/data", (NNZ - 1,)), True, True),
    "external-link-X": (_external_link("/X", "/X"), False, False),
    "external-link-group": (_external_link("/layers", "/layers"), False, False),
    "soft-link-dangling": (_soft_link("/layers/counts", "/nowhere/counts"), False, False),
    "soft-link-via-external": (_soft_link("/X", "/uns/_ext/secret", via_external=True), False, False),
}


def _obs_index_external(f: h5py.File, outside: Path) -> str:
    """The obs index as fixed-length byte strings stored in the secret file."""
    g, name, _ = _replace(f, "/obs/_index")
    ds = g.create_dataset(name, shape=(N_OBS,), dtype="S8", external=[(str(outside / "secret.txt"), 0, 8 * N_OBS)])
    ds.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})
    return "/obs/_index"


H5_CASES["external-storage-obs-index"] = (_obs_index_external, False, True)


def _victim_h5ad(tmp_path: Path, outside: Path, case: str) -> tuple[Path, str]:
    _need("h5ad")
    build, is_sparse, _ = H5_CASES[case]
    x = sparse.csr_matrix(GOOD) if is_sparse else None
    victim = tmp_path / "victim.h5ad"
    _adata(x).write_h5ad(victim)
    with h5py.File(victim, "r+") as f:
        element = build(f, outside)
    return victim, element


def _read_backed(mode: str) -> Callable[[Path], Any]:
    def read(p: Path) -> Any:
        a = annstore.read_h5ad(p, backed=mode)
        try:
            return list(_everything(a.to_memory()))
        finally:
            a.file.close()

    return read


def _read_elem_root(p: Path) -> Any:
    with h5py.File(p, "r") as f:
        return list(_everything(annstore.io.read_elem(f)))


def _read_lazy(p: Path) -> Any:
    a = annstore.experimental.read_lazy(p)
    return list(_everything(a.to_memory()))


def _validate_cli(p: Path) -> Any:
    from annstore.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["validate", str(p)])
    text = out.getvalue()
    assert not _leaked(text), text
    if code != 0:
        raise InvalidFileError(text, filename=str(p))
    return text


H5_READERS: dict[str, Callable[[Path], Any]] = {
    "read_h5ad": lambda p: list(_everything(annstore.read_h5ad(p))),
    "backed-r": _read_backed("r"),
    "backed-r+": _read_backed("r+"),
    "read_elem": _read_elem_root,
    "read_lazy": _read_lazy,
    "validate-cli": _validate_cli,
}

@pytest.mark.parametrize("reader", list(H5_READERS))
@pytest.mark.parametrize("case", list(H5_CASES))
def test_h5ad_outside_data_is_refused(tmp_path: Path, outside: Path, case: str, reader: str) -> None:
    victim, element = _victim_h5ad(tmp_path, outside, case)
    with pytest.raises(AnnstoreError) as ei:
        result = H5_READERS[reader](victim)
        # reaching here is the failure: say whether the secret actually came back
        pytest.fail(f"read succeeded; secret leaked: {any(_leaked(v) for v in result)}")
    if reader == "validate-cli":
        assert element in str(ei.value), str(ei.value)
        assert not _leaked(str(ei.value))
    else:
        _assert_refused(ei, victim, element)


@pytest.mark.parametrize("case", [c for c, (_, _, ds) in H5_CASES.items() if ds])
@pytest.mark.parametrize("how", ["read_elem", "read_elem_lazy"])
def test_h5py_dataset_with_outside_storage_is_refused(
    tmp_path: Path, outside: Path, case: str, how: str
) -> None:
    """A user's own h5py dataset handed to read_elem / read_elem_lazy is checked too."""
    victim, element = _victim_h5ad(tmp_path, outside, case)
    with h5py.File(victim, "r") as f, pytest.raises(AnnstoreError) as ei:
        if how == "read_elem":
            out = annstore.io.read_elem(f[element])
        else:
            out = annstore.experimental.read_elem_lazy(f[element])
            out = out.compute() if hasattr(out, "compute") else out
        pytest.fail(f"read succeeded; secret leaked: {_leaked(out)}")
    _assert_refused(ei, victim, element)


@pytest.mark.parametrize("case", ["external-storage-X", "virtual-X", "external-link-X", "soft-link-via-external"])
def test_read_hdf_refuses_outside_data(tmp_path: Path, outside: Path, case: str) -> None:
    victim, element = _victim_h5ad(tmp_path, outside, case)
    with pytest.raises(AnnstoreError) as ei:
        a = annstore.io.read_hdf(victim, "X")
        pytest.fail(f"read succeeded; secret leaked: {_leaked(a.X)}")
    _assert_refused(ei, victim, element)


def test_info_cli_refuses_outside_data(tmp_path: Path, outside: Path) -> None:
    from annstore.cli import main

    victim, _ = _victim_h5ad(tmp_path, outside, "external-link-group")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["info", str(victim)])
    assert code != 0 and "/layers" in out.getvalue() and not _leaked(out.getvalue()), out.getvalue()


@pytest.mark.parametrize(
    "case", ["external-storage-X", "external-storage-sparse-data", "virtual-X", "external-link-X", "soft-link-via-external"]
)
def test_opt_in_reads_outside_data(tmp_path: Path, outside: Path, case: str) -> None:
    """With the opt-in the crafted file reads, and the secret comes back: each case is a real leak."""
    victim, _ = _victim_h5ad(tmp_path, outside, case)
    with annstore.settings.override(allow_outside_data=True):
        eager = annstore.read_h5ad(victim)
        backed = annstore.read_h5ad(victim, backed="r")
        try:
            backed_x = backed.X[...] if not sparse.issparse(backed.X) else backed.X
            backed_x = backed_x.to_memory() if hasattr(backed_x, "to_memory") else backed_x
        finally:
            backed.file.close()
    assert _leaked(eager.X) and _leaked(backed_x)
    # outside the block the default comes back
    with pytest.raises(InvalidFileError):
        annstore.read_h5ad(victim)


def test_old_storage_option_is_the_same_opt_in(tmp_path: Path, outside: Path) -> None:
    """``storage_options={"allow_external_links": True}`` (the old spelling) covers storage too."""
    for case in ("external-storage-X", "virtual-X", "external-link-X"):
        (tmp_path / case).mkdir()
        victim, _ = _victim_h5ad(tmp_path / case, outside, case)
        a = annstore.read(victim, storage_options={"allow_external_links": True})
        assert _leaked(a.X), case


def test_virtual_dataset_inside_the_file_reads(tmp_path: Path) -> None:
    """A virtual dataset whose sources are in the same file ('.') reads nothing outside: allowed."""
    _need("h5ad")
    victim = tmp_path / "victim.h5ad"
    _adata().write_h5ad(victim)
    with h5py.File(victim, "r+") as f:
        layout = h5py.VirtualLayout(shape=SHAPE, dtype="f4")
        layout[...] = h5py.VirtualSource(".", "layers/counts", shape=SHAPE)
        attrs = dict(f["X"].attrs)
        del f["X"]
        f.create_virtual_dataset("X", layout)
        f["X"].attrs.update(attrs)
    np.testing.assert_array_equal(annstore.read_h5ad(victim).X, GOOD)


# --------------------------------------------------------------------------- loom


def _loom_victim(tmp_path: Path, outside: Path, case: str) -> tuple[Path, str]:
    _need("loom")
    victim = tmp_path / "victim.loom"
    a = _adata()
    a.obs["n"] = np.arange(N_OBS, dtype="f4")
    a.write_loom(victim)
    with h5py.File(victim, "r+") as f:
        n_genes, n_cells = f["matrix"].shape
        if case == "external-storage-matrix":
            del f["matrix"]
            f.create_dataset("matrix", shape=(n_genes, n_cells), dtype="f4",
                             external=[(str(outside / "secret.txt"), 0, n_genes * n_cells * 4)])
            return victim, "/matrix"
        if case == "virtual-matrix":
            del f["matrix"]
            f.create_virtual_dataset("matrix", _vds_2d(outside, n_genes, n_cells))
            return victim, "/matrix"
        if case == "external-storage-col-attr":
            del f["col_attrs/n"]
            f["col_attrs"].create_dataset("n", shape=(n_cells,), dtype="f4",
                                          external=[(str(outside / "secret.txt"), 0, n_cells * 4)])
            return victim, "/col_attrs/n"
        if case == "external-link-layer":
            with h5py.File(outside / "secret_m.h5", "w") as o:
                o["m"] = np.full((n_genes, n_cells), SECRET_VALUE, dtype="f4")
            f["layers"]["leak"] = h5py.ExternalLink(str(outside / "secret_m.h5"), "/m")
            return victim, "/layers/leak"
        if case == "external-link-row-attrs":
            with h5py.File(outside / "secret_r.h5", "w") as o:
                o["var_names"] = np.array([b"TOPSECRET"] * n_genes)
            del f["row_attrs/var_names"]
            f["row_attrs"]["var_names"] = h5py.ExternalLink(str(outside / "secret_r.h5"), "/var_names")
            return victim, "/row_attrs/var_names"
        if case == "soft-link-dangling":
            f["layers"]["gone"] = h5py.SoftLink("/nowhere")
            return victim, "/layers/gone"
    raise AssertionError(case)


def _vds_2d(outside: Path, n_genes: int, n_cells: int) -> h5py.VirtualLayout:
    with h5py.File(outside / "secret_m.h5", "a") as o:
        if "m" not in o:
            o["m"] = np.full((n_genes, n_cells), SECRET_VALUE, dtype="f4")
    layout = h5py.VirtualLayout(shape=(n_genes, n_cells), dtype="f4")
    layout[...] = h5py.VirtualSource(str(outside / "secret_m.h5"), "m", shape=(n_genes, n_cells))
    return layout


LOOM_CASES = [
    "external-storage-matrix", "virtual-matrix", "external-storage-col-attr",
    "external-link-layer", "external-link-row-attrs", "soft-link-dangling",
]


@pytest.mark.parametrize("reader", ["read_loom", "read"])
@pytest.mark.parametrize("case", LOOM_CASES)
def test_loom_outside_data_is_refused(tmp_path: Path, outside: Path, case: str, reader: str) -> None:
    victim, element = _loom_victim(tmp_path, outside, case)
    read = annstore.io.read_loom if reader == "read_loom" else annstore.read
    with pytest.raises(AnnstoreError) as ei:
        a = read(victim)
        pytest.fail(f"read succeeded; secret leaked: {any(_leaked(v) for v in _everything(a))}")
    _assert_refused(ei, victim, element)


@pytest.mark.parametrize("case", [c for c in LOOM_CASES if c != "soft-link-dangling"])
def test_loom_opt_in_reads_outside_data(tmp_path: Path, outside: Path, case: str) -> None:
    victim, _ = _loom_victim(tmp_path, outside, case)
    with annstore.settings.override(allow_outside_data=True):
        a = annstore.io.read_loom(victim)
    assert any(_leaked(v) for v in _everything(a))


# --------------------------------------------------------------------------- zarr


def _chunk_file(store: Path, array: str) -> Path:
    """The one chunk (or shard) file of a small array (zarr v2 or v3)."""
    files = [p for p in (store / array).rglob("*") if p.is_file() and not p.name.startswith((".z", "zarr.json"))]
    assert len(files) == 1, files
    return files[0]


def _zarr_pair(tmp_path: Path, outside: Path, zarr_format: int) -> tuple[Path, Path]:
    """A victim store and, outside it, a store with the same layout holding the secret."""
    _need("zarr")
    victim = tmp_path / "victim.zarr"
    secret = outside / "secret.zarr"
    with annstore.settings.override(auto_shard_zarr_v3=False):
        _write_zarr(_adata(), victim, zarr_format)
        s = _adata(np.full(SHAPE, SECRET_VALUE, dtype="f4"))
        s.layers["counts"] = np.full(SHAPE, SECRET_VALUE, dtype="f4")
        s.uns["note"] = np.full(3, SECRET_VALUE, dtype="f4")
        _write_zarr(s, secret, zarr_format)
    return victim, secret


def _write_zarr(adata: annstore.AnnData, path: Path, zarr_format: int) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with annstore.settings.override(zarr_write_format=zarr_format):
            adata.write_zarr(path)


def _symlink(link: Path, target: Path) -> None:
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    else:
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())


def _zarr_victim(tmp_path: Path, outside: Path, case: str) -> tuple[Path, str]:
    fmt = 3 if case.startswith("v3") else 2
    victim, secret = _zarr_pair(tmp_path, outside, fmt)
    kind = case.split("-", 1)[1]
    if kind == "chunk-file":
        link = _chunk_file(victim, "X")
        _symlink(link, _chunk_file(secret, "X"))
        return victim, "X/" + link.relative_to(victim / "X").as_posix()
    if kind == "chunk-dir":  # v3: X/c holds the chunks
        _symlink(victim / "X" / "c", secret / "X" / "c")
        return victim, "X/c"
    if kind == "array-dir":
        _symlink(victim / "layers" / "counts", secret / "layers" / "counts")
        return victim, "layers/counts"
    if kind == "group-dir":
        _symlink(victim / "uns", secret / "uns")
        return victim, "uns"
    if kind == "deep-chunk-file":
        link = _chunk_file(victim, "uns/note")
        _symlink(link, _chunk_file(secret, "uns/note"))
        return victim, "uns/note"
    raise AssertionError(case)


ZARR_CASES = ["v3-chunk-file", "v3-chunk-dir", "v3-array-dir", "v3-group-dir", "v3-deep-chunk-file",
              "v2-chunk-file", "v2-array-dir", "v2-group-dir"]


def _zarr_backed(p: Path) -> Any:
    a = annstore.read_zarr(p, backed="r")
    return list(_everything(a.to_memory()))


ZARR_READERS: dict[str, Callable[[Path], Any]] = {
    "read_zarr": lambda p: list(_everything(annstore.read_zarr(p))),
    "backed-r": _zarr_backed,
    "read_lazy": _read_lazy,
}


@pytest.mark.parametrize("reader", list(ZARR_READERS))
@pytest.mark.parametrize("case", ZARR_CASES)
def test_zarr_symlink_out_of_store_is_refused(tmp_path: Path, outside: Path, case: str, reader: str) -> None:
    victim, key = _zarr_victim(tmp_path, outside, case)
    with pytest.raises(AnnstoreError) as ei:
        result = ZARR_READERS[reader](victim)
        pytest.fail(f"read succeeded; secret leaked: {any(_leaked(v) for v in result)}")
    e = ei.value
    text = _text(e)
    assert isinstance(e, InvalidFileError), text
    assert victim.name in text and key.split("/")[0] in text and "symlink" in text, text
    assert not _leaked(text)


@pytest.mark.parametrize("case", ["v3-chunk-file", "v3-array-dir", "v2-chunk-file"])
def test_zarr_opt_in_follows_symlinks(tmp_path: Path, outside: Path, case: str) -> None:
    victim, _ = _zarr_victim(tmp_path, outside, case)
    with annstore.settings.override(allow_outside_data=True):
        a = annstore.read_zarr(victim)
    assert any(_leaked(v) for v in _everything(a))


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_symlink_inside_the_store_reads(tmp_path: Path, outside: Path, fmt: int) -> None:
    """A symlink that stays inside the store root is followed (nothing leaves the store)."""
    victim, _ = _zarr_pair(tmp_path, outside, fmt)
    link = victim / "layers" / "counts"
    shutil.rmtree(link)
    link.symlink_to(Path("..") / "X", target_is_directory=True)
    a = annstore.read_zarr(victim)
    np.testing.assert_array_equal(a.layers["counts"], GOOD)


@pytest.mark.parametrize("member", ["../evil/zarr.json", "/abs/zarr.json", "X/../../evil"])
def test_zip_member_traversal_is_refused(tmp_path: Path, outside: Path, member: str) -> None:
    _need("zarr")
    store = tmp_path / "victim.zarr"
    _write_zarr(_adata(), store, 3)
    zpath = tmp_path / "victim.zarr.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in sorted(store.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(store).as_posix())
        zf.writestr(member, b'{"zarr_format": 3, "node_type": "group"}')
    with pytest.raises(InvalidFileError) as ei:
        annstore.read_zarr(zpath)
    assert zpath.name in str(ei.value) and member in str(ei.value), str(ei.value)


def test_outside_data_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the case counts (``-s``)."""
    n_h5 = len(H5_CASES) * len(H5_READERS)
    n_ds = sum(ds for _, _, ds in H5_CASES.values()) * 2
    with capsys.disabled():
        print(
            f"\n[outside-data] h5ad {len(H5_CASES)} cases x {len(H5_READERS)} readers = {n_h5}, "
            f"h5py datasets {n_ds}, read_hdf 4, loom {len(LOOM_CASES)} x 2, zarr {len(ZARR_CASES)} x "
            f"{len(ZARR_READERS)} = {len(ZARR_CASES) * len(ZARR_READERS)}, zip members 3"
        )

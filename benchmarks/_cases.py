"""The benchmark cases: for each, what annstore, anndata and the floor run.

annstore and anndata run the *same* ``op`` code (the library is bound to ``ad`` by each one's
untimed ``setup``), so both get identical arguments. The floor is a true lower bound of the
work: the raw storage-library calls that any implementation must at least make, into
preallocated buffers, with no per-row Python:

* reads: every array of the file read with h5py ``read_direct`` (zarr: zarr's own decode) into
  buffers allocated beforehand; strings as h5py/zarr return them, not decoded further;
* writes: every array written with h5py/zarr with the source file's chunks and filters;
* backed rows: one contiguous read of as many ``data`` and ``indices`` elements as the rows
  selected hold (the cheapest read of that many bytes; indptr read beforehand, as both
  libraries cache it); backed slices: exactly the ranges selected;
* concat: ``scipy.sparse.vstack`` of the parts' X (concat must do at least that);
  concat_on_disk: each part's data/indices read and appended to the output with h5py;
* read_mtx: ``scipy.io.mmread``; read_csv: pandas' C parser; import: ``import h5py`` and one
  dataset read.

``DATA`` is the folder of inputs made by ``_data.py``, ``OUT`` an empty folder for outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CASES", "Case", "Impl"]


@dataclass(frozen=True)
class Impl:
    setup: str
    op: str


@dataclass(frozen=True)
class Case:
    description: str
    inputs: tuple[str, ...]
    impls: dict[str, Impl]
    args: dict = field(default_factory=dict)


# Setup leaves each library ready as a long-running process has it: imported, h5py and zarr
# imported, and (annstore) its format plugins loaded, which it otherwise does on first IO.
ANNSTORE = "import annstore as ad, h5py, zarr\nad.list_formats()\n"
ANNDATA = "import anndata as ad, h5py, zarr\n"

_H5_LEAVES = """
import h5py, numpy as np
def leaves(f):
    out = []
    f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return out
"""
_H5_READ_FLOOR = _H5_LEAVES + """
f = h5py.File(DATA / ARGS["file"], "r")
names = leaves(f)
bufs = {}
for n in names:
    d = f[n]
    if d.dtype.kind in "biuf":
        bufs[n] = np.empty(d.shape, d.dtype)
"""
_H5_READ_FLOOR_OP = """
for n in names:
    d = f[n]
    if n in bufs:
        if d.size:
            d.read_direct(bufs[n])
    else:
        bufs[n] = d[()]
CHECK = len(bufs)
"""
_H5_WRITE_FLOOR = _H5_LEAVES + """
src = h5py.File(DATA / ARGS["file"], "r")
arrays = {n: (src[n][()], src[n].chunks, src[n].compression, src[n].compression_opts, src[n].dtype)
          for n in leaves(src)}
"""
_H5_WRITE_FLOOR_OP = """
with h5py.File(OUT / "w.h5", "w") as g:
    for n, (a, chunks, comp, opts, dt) in arrays.items():
        g.create_dataset(n, data=a, dtype=dt, chunks=chunks if np.ndim(a) else None,
                         compression=comp if np.ndim(a) else None, compression_opts=opts if np.ndim(a) else None)
CHECK = len(arrays)
"""
_ZARR_LEAVES = """
import zarr, numpy as np
def leaves(g, prefix=""):
    out = []
    for k, v in g.members():
        p = f"{prefix}{k}"
        out += leaves(v, p + "/") if isinstance(v, zarr.Group) else [p]
    return out
"""


def _read(file: str, backed: str = "") -> str:
    return f'A = ad.read_h5ad(DATA / "{file}"{backed})\nCHECK = int(A.n_obs)\n'


CASES: dict[str, Case] = {
    "read_h5ad": Case(
        "read_h5ad of the 100k x 20k CSR 2 % file (obs, var, obsm), no compression",
        ("x.h5ad",),
        {
            "annstore": Impl(ANNSTORE, _read("x.h5ad")),
            "anndata": Impl(ANNDATA, _read("x.h5ad")),
            "floor": Impl(_H5_READ_FLOOR, _H5_READ_FLOOR_OP),
        },
        {"file": "x.h5ad"},
    ),
    "read_h5ad_gzip": Case(
        "read_h5ad of the same data written with compression='gzip'",
        ("x_gzip.h5ad",),
        {
            "annstore": Impl(ANNSTORE, _read("x_gzip.h5ad")),
            "anndata": Impl(ANNDATA, _read("x_gzip.h5ad")),
            "floor": Impl(_H5_READ_FLOOR, _H5_READ_FLOOR_OP),
        },
        {"file": "x_gzip.h5ad"},
    ),
    "write_h5ad": Case(
        "write_h5ad of that AnnData (read beforehand by the same library), defaults",
        ("x.h5ad",),
        {
            "annstore": Impl(ANNSTORE + _read("x.h5ad"), 'A.write_h5ad(OUT / "w.h5ad")\n'),
            "anndata": Impl(ANNDATA + _read("x.h5ad"), 'A.write_h5ad(OUT / "w.h5ad")\n'),
            "floor": Impl(_H5_WRITE_FLOOR, _H5_WRITE_FLOOR_OP),
        },
        {"file": "x.h5ad"},
    ),
    "write_h5ad_gzip": Case(
        "write_h5ad(compression='gzip') of that AnnData",
        ("x.h5ad", "x_gzip.h5ad"),
        {
            "annstore": Impl(ANNSTORE + _read("x.h5ad"), 'A.write_h5ad(OUT / "w.h5ad", compression="gzip")\n'),
            "anndata": Impl(ANNDATA + _read("x.h5ad"), 'A.write_h5ad(OUT / "w.h5ad", compression="gzip")\n'),
            "floor": Impl(_H5_WRITE_FLOOR, _H5_WRITE_FLOOR_OP),
        },
        {"file": "x_gzip.h5ad"},
    ),
    "read_zarr": Case(
        "read_zarr of the same data as a zarr (format 3) store",
        ("x.zarr",),
        {
            "annstore": Impl(ANNSTORE, 'A = ad.read_zarr(DATA / "x.zarr")\nCHECK = int(A.n_obs)\n'),
            "anndata": Impl(ANNDATA, 'A = ad.read_zarr(DATA / "x.zarr")\nCHECK = int(A.n_obs)\n'),
            "floor": Impl(
                _ZARR_LEAVES + 'g = zarr.open_group(DATA / "x.zarr", mode="r")\nnames = leaves(g)\n',
                "bufs = {n: g[n][...] for n in names}\nCHECK = len(bufs)\n",
            ),
        },
    ),
    "write_zarr": Case(
        "write_zarr of that AnnData (zarr format 3, the default of both)",
        ("x.h5ad", "x.zarr"),
        {
            "annstore": Impl(ANNSTORE + _read("x.h5ad"), 'A.write_zarr(OUT / "w.zarr")\n'),
            "anndata": Impl(ANNDATA + _read("x.h5ad"), 'A.write_zarr(OUT / "w.zarr")\n'),
            "floor": Impl(
                _ZARR_LEAVES + 'src = zarr.open_group(DATA / "x.zarr", mode="r")\n'
                "arrays = {n: (src[n][...], src[n]) for n in leaves(src)}\n",
                'out = zarr.open_group(OUT / "w.zarr", mode="w")\n'
                "for n, (a, s) in arrays.items():\n"
                "    z = out.create_array(n, shape=s.shape, dtype=s.dtype, chunks=s.chunks, shards=s.shards,"
                " compressors=s.compressors, filters=s.filters, serializer=s.serializer)\n"
                "    z[...] = a\n"
                "CHECK = len(arrays)\n",
            ),
        },
    ),
    "backed_rows": Case(
        "backed='r': 20 selections of 2,000 sorted random rows of X",
        ("x.h5ad",),
        {
            **{
                lib: Impl(
                    imp + 'B = ad.read_h5ad(DATA / "x.h5ad", backed="r")\n'
                    "import numpy as np\nrng = np.random.default_rng(0)\n"
                    "K = min(2000, B.n_obs // 10)\n"
                    "SEL = [np.sort(rng.choice(B.n_obs, K, replace=False)) for _ in range(20)]\n"
                    "B.X[SEL[0][:1]]\n",  # opens the dataset and caches indptr, as the floor does
                    "CHECK = 0\nfor s in SEL:\n    CHECK += int(B.X[s].nnz)\n",
                )
                for lib, imp in (("annstore", ANNSTORE), ("anndata", ANNDATA))
            },
            "floor": Impl(
                'import h5py, numpy as np\nf = h5py.File(DATA / "x.h5ad", "r")\n'
                'indptr = f["X/indptr"][()]\nn = len(indptr) - 1\nrng = np.random.default_rng(0)\n'
                "K = min(2000, n // 10)\n"
                "SEL = [np.sort(rng.choice(n, K, replace=False)) for _ in range(20)]\n"
                "need = [int((indptr[s + 1] - indptr[s]).sum()) for s in SEL]\n"
                'D, I = f["X/data"], f["X/indices"]\n'
                "bd, bi = np.empty(max(need), D.dtype), np.empty(max(need), I.dtype)\n",
                "CHECK = 0\nfor k in need:\n"
                "    D.read_direct(bd, np.s_[0:k], np.s_[0:k]); I.read_direct(bi, np.s_[0:k], np.s_[0:k])\n"
                "    CHECK += k\n",
            ),
        },
    ),
    "backed_slices": Case(
        "backed='r': 20 slices of 2,000 consecutive rows of X",
        ("x.h5ad",),
        {
            **{
                lib: Impl(
                    imp + 'B = ad.read_h5ad(DATA / "x.h5ad", backed="r")\n'
                    "import numpy as np\nrng = np.random.default_rng(1)\n"
                    "K = min(2000, B.n_obs // 10)\n"
                    "SEL = [slice(int(a), int(a) + K) for a in rng.integers(0, B.n_obs - K, 20)]\n"
                    "B.X[0:1]\n",
                    "CHECK = 0\nfor s in SEL:\n    CHECK += int(B.X[s].nnz)\n",
                )
                for lib, imp in (("annstore", ANNSTORE), ("anndata", ANNDATA))
            },
            "floor": Impl(
                'import h5py, numpy as np\nf = h5py.File(DATA / "x.h5ad", "r")\n'
                'indptr = f["X/indptr"][()]\nrng = np.random.default_rng(1)\n'
                "K = min(2000, (len(indptr) - 1) // 10)\n"
                "SEL = [slice(int(a), int(a) + K) for a in rng.integers(0, len(indptr) - 1 - K, 20)]\n"
                'D, I = f["X/data"], f["X/indices"]\n'
                "rng_ = [(int(indptr[s.start]), int(indptr[s.stop])) for s in SEL]\n"
                "bd = np.empty(max(b - a for a, b in rng_), D.dtype); bi = np.empty(bd.size, I.dtype)\n",
                "CHECK = 0\nfor a, b in rng_:\n"
                "    D.read_direct(bd, np.s_[a:b], np.s_[0:b - a]); I.read_direct(bi, np.s_[a:b], np.s_[0:b - a])\n"
                "    CHECK += b - a\n",
            ),
        },
    ),
    "concat_memory": Case(
        "concat of 4 in-memory parts of 25k x 20k CSR (join='outer')",
        ("parts",),
        {
            **{
                lib: Impl(
                    imp + 'parts = [ad.read_h5ad(DATA / "parts" / f"p{i}.h5ad") for i in range(4)]\n',
                    'C = ad.concat(parts, join="outer")\nCHECK = int(C.n_obs)\n',
                )
                for lib, imp in (("annstore", ANNSTORE), ("anndata", ANNDATA))
            },
            "floor": Impl(
                "import h5py, numpy as np\nfrom scipy import sparse\nXs = []\n"
                "for i in range(4):\n"
                '    with h5py.File(DATA / "parts" / f"p{i}.h5ad", "r") as f:\n'
                '        g = f["X"]\n'
                '        Xs.append(sparse.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]),'
                ' shape=tuple(g.attrs["shape"])))\n',
                'C = sparse.vstack(Xs, format="csr")\nCHECK = int(C.shape[0])\n',
            ),
        },
    ),
    "concat_on_disk": Case(
        "experimental.concat_on_disk of the 4 part files into one h5ad (join='outer')",
        ("parts",),
        {
            **{
                lib: Impl(
                    imp + 'paths = [str(DATA / "parts" / f"p{i}.h5ad") for i in range(4)]\n',
                    'ad.experimental.concat_on_disk(paths, str(OUT / "c.h5ad"), join="outer")\n',
                )
                for lib, imp in (("annstore", ANNSTORE), ("anndata", ANNDATA))
            },
            "floor": Impl(
                'import h5py, numpy as np\npaths = [DATA / "parts" / f"p{i}.h5ad" for i in range(4)]\n',
                'with h5py.File(OUT / "c.h5", "w") as out:\n'
                "    srcs = [h5py.File(p, 'r') for p in paths]\n"
                "    nnz = sum(s['X/data'].shape[0] for s in srcs)\n"
                "    d = out.create_dataset('data', (nnz,), srcs[0]['X/data'].dtype)\n"
                "    ix = out.create_dataset('indices', (nnz,), srcs[0]['X/indices'].dtype)\n"
                "    at = 0\n"
                "    for s in srcs:\n"
                "        k = s['X/data'].shape[0]\n"
                "        d[at:at + k] = s['X/data'][()]; ix[at:at + k] = s['X/indices'][()]; at += k\n"
                "    CHECK = at\n",
            ),
        },
    ),
    "read_mtx": Case(
        "io.read_mtx of a 20k x 4k Matrix Market file at 2 %",
        ("x.mtx",),
        {
            "annstore": Impl(ANNSTORE, 'A = ad.io.read_mtx(DATA / "x.mtx")\nCHECK = int(A.n_obs)\n'),
            "anndata": Impl(ANNDATA, 'A = ad.io.read_mtx(DATA / "x.mtx")\nCHECK = int(A.n_obs)\n'),
            "floor": Impl("from scipy.io import mmread\n", 'M = mmread(DATA / "x.mtx")\nCHECK = int(M.shape[0])\n'),
        },
    ),
    "read_csv": Case(
        "io.read_csv of a 4,000 x 1,000 dense csv with a header and row names",
        ("x.csv",),
        {
            "annstore": Impl(ANNSTORE, 'A = ad.io.read_csv(DATA / "x.csv", first_column_names=True)\nCHECK = int(A.n_obs)\n'),
            "anndata": Impl(ANNDATA, 'A = ad.io.read_csv(DATA / "x.csv", first_column_names=True)\nCHECK = int(A.n_obs)\n'),
            "floor": Impl(
                "import numpy as np, pandas as pd\n",
                'M = pd.read_csv(DATA / "x.csv", index_col=0).to_numpy(np.float32)\nCHECK = int(M.shape[0])\n',
            ),
        },
    ),
    "import_first_read": Case(  # nothing in setup: the import is what is measured
        "import the library and read a small h5ad (2,000 x 500) in a fresh process",
        ("small.h5ad",),
        {
            "annstore": Impl("", 'import annstore as ad\nA = ad.read_h5ad(DATA / "small.h5ad")\nCHECK = int(A.n_obs)\n'),
            "anndata": Impl("", 'import anndata as ad\nA = ad.read_h5ad(DATA / "small.h5ad")\nCHECK = int(A.n_obs)\n'),
            "floor": Impl("", 'import h5py\nf = h5py.File(DATA / "small.h5ad", "r")\nx = f["X/data"][()]\nCHECK = 2000\n'),
        },
    ),
}

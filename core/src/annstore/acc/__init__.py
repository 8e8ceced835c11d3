"""Accessors: references to 1-d and 2-d arrays of an AnnData object (anndata's ``anndata.acc``).

:data:`A` builds references the way you would index an AnnData object; ``adata[ref]`` gets the
array and ``ref in adata`` checks that it exists::

    from annstore.acc import A

    adata[A.obs["cell_type"]]        # the column's values (a pandas ExtensionArray)
    adata[A.X[:, "gene-1"]]          # one variable across observations, as a 1-d array
    adata[A.layers["counts"]["cell-1", :]]
    adata[A.obsm["pca"][:, 0]]       # or A.obsm["pca"][0]
    adata[A.obsp["distances"]["cell-1", :]]
    adata[A.obsm["pca"]]             # a whole container, one level up
    A.obsm["pca"][5] in adata        # False if obsm["pca"] has 5 columns or fewer

References print as the code that builds them, compare equal to their short string form
(``A.obs["a"] == "obs.a"``), hash, and serialise to JSON lists (:meth:`AdAcc.to_json`,
:meth:`AdAcc.from_json`, the schema is ``acc-schema-v1.json`` in this package);
:meth:`AdAcc.resolve` parses the short strings.
"""

from __future__ import annotations

from ._refs import (
    NO_IDX,
    A,
    AdAcc,
    AdRef,
    GraphAcc,
    GraphMapAcc,
    Idx2D,
    LayerAcc,
    LayerMapAcc,
    MapAcc,
    MetaAcc,
    MultiAcc,
    MultiMapAcc,
    RefAcc,
)

__all__ = [
    "NO_IDX",
    "A",
    "AdAcc",
    "AdRef",
    "GraphAcc",
    "GraphMapAcc",
    "Idx2D",
    "LayerAcc",
    "LayerMapAcc",
    "MapAcc",
    "MetaAcc",
    "MultiAcc",
    "MultiMapAcc",
    "RefAcc",
]

for _cls in (AdAcc, AdRef, GraphAcc, GraphMapAcc, LayerAcc, LayerMapAcc, MapAcc, MetaAcc, MultiAcc, MultiMapAcc, RefAcc):
    _cls.__module__ = __name__
del _cls

"""Connect core's layers: the one place that names a layer from below it (run by ``import annstore``).

The layers import one way (ARCHITECTURE.md: ``cli -> experimental -> backed -> io -> model``).
A lower layer that needs something an upper layer implements offers a registration point
instead of importing upward:

* the model's backing slot (:mod:`annstore._backing`): the backed layer registers its
  :class:`~annstore._backing.BackingProvider` when imported; the loader set here imports it on
  the first backed operation;
* io's core plugins (:func:`annstore.io._builtin.add_core_plugin`): the backed layer's hook
  implementations (its writers for backed datasets and dask arrays, the backed reader) are
  registered in every plugin manager io builds, as the built-in ones are, whatever
  ``ANNSTORE_DISABLE_PLUGIN_AUTOLOAD`` says; building one imports the backed layer, which also
  provides the ``annstore.io`` names it owns (``sparse_dataset``);
* the model's concatenation of third-party element types
  (:func:`annstore._concat.set_foreign_concat`): it asks the plugins'
  ``annstore_concat_elems`` hook.

This module belongs to the package facade, above every layer (see ``core/tests/test_layers.py``),
and imports the backed layer only inside the loader, so ``import annstore`` stays light.
"""

from __future__ import annotations

from types import ModuleType

from . import _backing, _concat
from .io import _builtin, _plugins

__all__: list[str] = []


def _backed_plugin() -> ModuleType:
    """Import the backed layer (it registers its backing provider) and return its hook module."""
    from .backed import _plugin

    return _plugin


_backing.set_provider_loader(_backed_plugin)
_concat.set_foreign_concat(_plugins.concat_elems)  # concat of third-party element types
_builtin.add_core_plugin("annstore.backed", _backed_plugin)

"""A plugin with a misspelt hook name."""
from annstore import hookimpl

ANNSTORE_PLUGIN_API = 1


@hookimpl
def annstore_gues_format(path):  # misspelt on purpose
    return None

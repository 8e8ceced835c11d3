"""A plugin with a misspelt hook name."""
from annstore import hookimpl


@hookimpl
def annstore_gues_format(path):  # misspelt on purpose
    return None

"""Repository-wide pytest configuration: annstore's pytest plugin, opted in.

annstore registers no ``pytest11`` entry point (it would load into every pytest run of every
project with annstore installed); test suites that want its markers and options, like this
repository's and a plugin author's, name it here.
"""

pytest_plugins = ["annstore.testing.plugin"]

"""Sphinx configuration of annstore's documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (warnings are errors;
``tests/test_docs.py`` runs exactly this). Requirements: ``requirements-docs.txt``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))

project = "annstore"
author = "The annstore developers"
copyright = "the annstore developers, BSD-3-Clause"  # noqa: A001 - Sphinx's name
try:
    release = version("annstore-core")
except PackageNotFoundError:  # building from a checkout without an install
    release = "unknown"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # numpydoc-style docstrings, rendered as anndata and scanpy render theirs
    "sphinx.ext.napoleon",
    "annstore_docs",  # docs/_ext: the CLI reference and the settings table, from the code
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
default_role = "literal"

# -- autodoc / autosummary --------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "groupwise"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
autoclass_content = "class"

# -- napoleon (numpy style only) ---------------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_include_init_with_doc = False
napoleon_use_rtype = False  # the return type goes with the description, as in anndata's docs
napoleon_use_param = True
napoleon_use_ivar = True

# -- MyST: the markdown guides -----------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"annstore {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "AnnData with pluggable storage formats",
    "fixed_sidebar": True,
    "show_relbar_bottom": True,
}

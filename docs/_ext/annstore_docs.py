"""Pages generated from the code, so they cannot drift from it.

``annstore-cli``
    The ``--help`` of the ``annstore`` command and of each subcommand, from
    :func:`annstore.cli.build_parser` (what a shell user sees, option by option).
``annstore-settings``
    A table of every option of :data:`annstore.settings`: name, default, environment variable,
    description and deprecation.

And :class:`RepositoryPaths`: a guide's links to the repository outside ``docs/``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


class CLIDirective(Directive):
    """One section per subcommand, with its help as the shell prints it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from annstore.cli import build_parser

        os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal width
        parser = build_parser()
        out: list[nodes.Node] = [nodes.literal_block(text=parser.format_help())]
        for name, sub in _subparsers(parser).items():
            section = nodes.section(ids=[f"annstore-{name}"], names=[f"annstore {name}"])
            section += nodes.title(text=f"annstore {name}")
            section += nodes.paragraph(text=sub.description or "")
            section += nodes.literal_block(text=sub.format_help())
            out.append(section)
        return out


class SettingsDirective(Directive):
    """The options of ``annstore.settings`` as a table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from annstore import settings

        rows = [
            "* - option", "  - default", "  - environment", "  - meaning",
        ]
        for name, field in type(settings).model_fields.items():
            note = f" *Deprecated:* {field.deprecated}." if field.deprecated else ""
            rows += [
                f"* - ``{name}``", f"  - ``{field.default!r}``",
                f"  - ``ANNSTORE_{name.upper()}``", f"  - {field.description}{note}",
            ]
        text = [".. list-table::", "   :header-rows: 1", "   :widths: 25 10 25 40", ""]
        text += ["   " + r for r in rows]
        container = nodes.container()
        self.state.nested_parse(StringList(text), self.content_offset, container)
        return list(container.children)


class RepositoryPaths(SphinxPostTransform):
    """A guide's link to a repository path outside ``docs/`` (``../examples/x``, which works on
    the repository's web view) keeps its text and loses the link: the site does not hold the path."""

    default_priority = 5  # before MyST resolves (and warns about) its references

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "")
            if node.get("refdomain") is None and node.get("reftype") == "myst" and target.startswith("../"):
                node.replace_self(node.children or [nodes.literal(text=target.removeprefix("../"))])


def setup(app: Any) -> dict[str, Any]:
    app.add_post_transform(RepositoryPaths)
    app.add_directive("annstore-cli", CLIDirective)
    app.add_directive("annstore-settings", SettingsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

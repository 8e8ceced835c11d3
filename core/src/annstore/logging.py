"""Logging and memory-usage helpers (``anndata.logging``'s public names).

``anndata_logger`` is the logger named ``"anndata"`` (scanpy and other clients attach to it):
its messages go to stderr and do not propagate to the root logger, as in anndata.
"""

from __future__ import annotations

import logging
import os

__all__ = ["anndata_logger", "format_memory_usage", "get_logger", "get_memory_usage", "print_memory_usage"]

_previous_memory_usage: float | None = None

anndata_logger = logging.getLogger("anndata")
if not anndata_logger.handlers:
    anndata_logger.propagate = False
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _handler.setLevel("INFO")
    anndata_logger.addHandler(_handler)


def get_logger(name: str) -> logging.Logger:
    """A child logger that delegates to :data:`anndata_logger` instead of the root logger.

    Parameters
    ----------
    name
        The logger's name.

    Returns
    -------
    The logger.
    """
    return anndata_logger.manager.getLogger(name)


def get_memory_usage() -> tuple[float, float]:
    """The resident memory of this process in GB, and its change since the previous call.

    Returns
    -------
    ``(current, difference)`` in GB. Needs ``psutil``.
    """
    import psutil

    global _previous_memory_usage
    mem = psutil.Process(os.getpid()).memory_info()[0] / 2**30
    diff = mem if _previous_memory_usage is None else mem - _previous_memory_usage
    _previous_memory_usage = mem
    return mem, diff


def format_memory_usage(mem_usage: tuple[float, float], msg: str = "", *, newline: bool = False) -> str:
    """Format the result of :func:`get_memory_usage` as anndata does.

    Parameters
    ----------
    mem_usage
        ``(current, difference)`` in GB.
    msg
        A message to put before the figures.
    newline
        Start with a newline.

    Returns
    -------
    The formatted line.
    """
    nl = "\n" if newline else ""
    more = " \n... " if msg != "" else ""
    mem, diff = mem_usage
    return f"{nl}{msg}{more}Memory usage: current {mem:.2f} GB, difference {diff:+.2f} GB"


def print_memory_usage(msg: str = "", *, newline: bool = False) -> None:
    """Print the memory usage of this process (see :func:`format_memory_usage`).

    Parameters
    ----------
    msg
        A message to print before the figures.
    newline
        Start with a newline.
    """
    print(format_memory_usage(get_memory_usage(), msg, newline=newline))

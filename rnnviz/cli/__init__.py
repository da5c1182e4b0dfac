"""The ``rnnviz`` command line (``main``) and its commands."""

from rnnviz.cli import main

__all__ = ["main"]

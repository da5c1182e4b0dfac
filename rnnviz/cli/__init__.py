"""The ``rnnviz`` command line (``main``) and its commands."""

from rnnviz.cli.command import main

__all__ = ["main"]

"""Layer 13, the command line: the ``portside`` root group and :func:`main` (:mod:`~portside.cli.main`), one
module per command group (:mod:`~portside.cli.course`, :mod:`~portside.cli.images`, :mod:`~portside.cli.tools`,
:mod:`~portside.cli.labs`, :mod:`~portside.cli.scan`, :mod:`~portside.cli.verify`,
:mod:`~portside.cli.advisories` with :mod:`~portside.cli.trivydb`), and what they share
(:mod:`~portside.cli.common`)."""

from .main import main

__all__ = ["main"]

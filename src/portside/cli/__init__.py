"""Layer 10, the command line: ``portside`` (:mod:`~portside.cli.main`), with ``scan``/``advisories``
(:mod:`~portside.cli.scan`), ``verify`` (:mod:`~portside.cli.verify`) and ``advisories trivy-db``
(:mod:`~portside.cli.trivydb`)."""

from .main import main

__all__ = ["main"]

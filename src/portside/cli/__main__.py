"""``python -m portside.cli``: the same as the ``portside`` command."""

from .main import main

main()

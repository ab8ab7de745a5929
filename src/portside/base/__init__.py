"""Layer 1, the base: the state folder and namespaces, labels, subprocesses, tables, Debian's archive, Jupyter niceties.

Nothing here knows about images or registries; every other layer may import it.
"""

"""Layer 1, the base: the state folder and namespaces, labels, subprocesses, tables, Debian's archive, Jupyter niceties
(the error display, JupyterLab's news question answered), where the course runs (Binder).

Nothing here knows about images or registries; every other layer may import it.
"""

"""Where the course is running, when that changes what a learner can do: on Binder there is no Docker engine.

BinderHub starts each session's server with ``BINDER_REPO_URL``, ``BINDER_LAUNCH_HOST``, ``BINDER_REQUEST`` and
their kin in its environment (binderhub's launcher, ``get_env``; docs/facts.md). A Binder container may not run a
Docker engine, so the lessons can only be read there, with their stored outputs.
"""

from __future__ import annotations

import os

__all__ = ["BINDER_HINT", "on_binder"]

_BINDER_VARIABLES = ("BINDER_REPO_URL", "BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_PERSISTENT_REQUEST")

#: what to do instead, said wherever the missing engine is reported on Binder
BINDER_HINT = ("This is Binder, which gives no Docker engine: read the lessons with their stored outputs here (every "
               "cell's output is the one a real run printed). To run them, open the repository in GitHub Codespaces "
               "or another dev container host (.devcontainer/ brings an engine), or on your own machine: `make start`.")


def on_binder() -> bool:
    """True inside a Binder session."""
    return any(os.environ.get(name) for name in _BINDER_VARIABLES)

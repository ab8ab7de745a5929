"""Where the course keeps its own files.

Everything lives under one state folder: ``$PORTSIDE_HOME`` if set, else
``.portside/`` in the project checkout, else ``~/.portside``. The course's Docker
client configuration lives there too, so the learner's own ``~/.docker`` is never
read or written.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

__all__ = ["docker_config_dir", "isolate_docker_config", "project_root", "state_dir"]


@cache
def project_root() -> Path | None:
    """The checkout this package was installed from (editable install), if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file() and 'name = "portside"' in pyproject.read_text(encoding="utf-8"):
            return parent
    return None


def state_dir(*parts: str) -> Path:
    """A folder inside the course state folder, created on first use."""
    env = os.environ.get("PORTSIDE_HOME")
    if env:
        base = Path(env)
    else:
        root = project_root()
        base = root / ".portside" if root else Path.home() / ".portside"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def docker_config_dir() -> Path:
    """The course's own Docker client config folder (``DOCKER_CONFIG``)."""
    path = state_dir("docker-config")
    config = path / "config.json"
    if not config.exists():
        config.write_text("{}\n", encoding="utf-8")
        config.chmod(0o600)
    return path


def isolate_docker_config() -> Path:
    """Point this process (and the CLIs it starts) at the course's Docker config.

    docker-py, the docker CLI, cosign and syft all read ``DOCKER_CONFIG``; setting it
    keeps every login the course makes away from the learner's ``~/.docker/config.json``.
    """
    path = docker_config_dir()
    os.environ["DOCKER_CONFIG"] = str(path)
    return path

"""Where the course keeps its own files.

Everything lives under one state folder: ``$PORTSIDE_HOME`` if set, else
``.portside/`` in the project checkout, else ``~/.portside``. The course's Docker
client configuration lives there too, so the learner's own ``~/.docker`` is never
read or written.

Two kinds of things live there. Caches that any number of runs may share (tools,
wheels, Debian packages, build folders) sit at the top. What belongs to *one* run —
the Docker client configuration with its saved logins, and each lab's passwords and
facts — sits under :func:`run_dir`, which is the top folder for a learner and
``runs/NAMESPACE/`` when ``PORTSIDE_NAMESPACE`` is set. The test suite sets it (one
namespace per test process), so a developer's run and CI's can share one machine
without logging each other out or taking over each other's labs.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from portside.errors import SetupError

__all__ = ["NAMESPACE_ENV", "docker_config_dir", "isolate_docker_config", "namespace", "project_root", "run_dir",
           "state_dir"]

#: the environment variable that gives a run its own namespace (unset or empty: the learner's own)
NAMESPACE_ENV = "PORTSIDE_NAMESPACE"
_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,47}")


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


def namespace() -> str:
    """This run's namespace: ``""`` for a learner, else the value of ``PORTSIDE_NAMESPACE``.

    It becomes part of folder names, container names and label values, so it is limited
    to lower-case letters, digits, ``.``, ``_`` and ``-`` (48 at most).
    """
    value = os.environ.get(NAMESPACE_ENV, "").strip()
    if value and not _NAMESPACE.fullmatch(value):
        raise SetupError(f"{NAMESPACE_ENV}={value!r} is not a usable namespace.",
                         hint="Use up to 48 lower-case letters, digits, '.', '_' or '-', starting with a letter "
                              f"or digit (e.g. {NAMESPACE_ENV}=ci-42), or unset it.")
    return value


def run_dir(*parts: str) -> Path:
    """A folder that belongs to this run's namespace (see the module docstring), created on first use."""
    ns = namespace()
    return state_dir("runs", ns, *parts) if ns else state_dir(*parts)


def docker_config_dir() -> Path:
    """The course's own Docker client config folder (``DOCKER_CONFIG``), one per namespace.

    The folder comes with an empty ``config.json`` readable by its owner only. That file
    is created here, with the folder, rather than by :mod:`portside.oci.credentials` (which
    reads and writes everything in it): the docker CLI, docker-py, cosign and syft are
    pointed at this folder without ever importing credentials (and ``base`` may not
    import ``oci``), and a file that exists from the start keeps its owner-only mode
    whichever tool writes the first password into it.
    """
    path = run_dir("docker-config")
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

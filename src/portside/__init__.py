"""Portside: the harness behind a hands-on course on container registries and image distribution.

The names most lessons need are importable from here; heavier modules (the registry
fixture, which imports testcontainers) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from portside.base.notebook import install_error_handler
from portside.errors import (
    EngineUnavailable,
    ImageUnavailable,
    InvalidReference,
    PortInUse,
    PortsideError,
    RegistryAuthError,
    RegistryError,
    RegistryUnreachable,
    ToolError,
    ToolMissing,
)

__version__ = "0.1.0"

_LAZY = {
    "Registry": "portside.registry",
    "RegistryClient": "portside.oci.registry_client",
    "doctor": "portside.setup.doctor",
    "cleanup": "portside.setup.cleanup",
    "leftovers": "portside.setup.cleanup",
    "docker_login": "portside.registry",
    "docker_logout": "portside.registry",
    "Manifest": "portside.oci.registry_client",
    "parse_reference": "portside.oci.reference",
}
# ``portside.engine.client()``, ``portside.paths.docker_config_dir()``…: the modules lessons reach through
# the package, by their short names (each lives in its layer's folder; ARCHITECTURE.md)
_SUBMODULES = {
    "advisories": "portside.security.advisories", "cli": "portside.cli", "credentials": "portside.oci.credentials",
    "engine": "portside.engine", "images": "portside.setup.images", "labels": "portside.base.labels",
    "labs": "portside.labs", "paths": "portside.base.paths", "quiz": "portside.lessons.quiz",
    "reference": "portside.oci.reference", "registry": "portside.registry",
    "registry_client": "portside.oci.registry_client", "sample_app": "portside.lessons.sample_app",
    "scan": "portside.security.scan", "signing": "portside.security.signing", "tls": "portside.oci.tls",
    "tools": "portside.tools", "transfer": "portside.engine.transfer", "trivydb": "portside.security.trivydb",
}

__all__ = [
    "EngineUnavailable",
    "ImageUnavailable",
    "InvalidReference",
    "Manifest",
    "PortInUse",
    "PortsideError",
    "Registry",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryUnreachable",
    "ToolError",
    "ToolMissing",
    "__version__",
    "cleanup",
    "docker_login",
    "docker_logout",
    "doctor",
    "install_error_handler",
    "leftovers",
    "parse_reference",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        attribute = "parse" if name == "parse_reference" else name
        return getattr(import_module(_LAZY[name]), attribute)
    if name in _SUBMODULES:
        return import_module(_SUBMODULES[name])
    raise AttributeError(f"module 'portside' has no attribute {name!r}")


def _shell_engine() -> None:
    """In Jupyter, let ``!docker …`` lines talk to the engine the course uses: its own, when it runs."""
    import os

    from portside.engine.provided import SOCKET, link_buildx, link_cli

    if "DOCKER_HOST" not in os.environ and SOCKET.exists():
        os.environ["DOCKER_HOST"] = f"unix://{SOCKET}"
    link_buildx()  # `!docker buildx …` under the course's own DOCKER_CONFIG, before any harness call
    link_cli()


if install_error_handler():  # in Jupyter, a PortsideError shows as its message, not a traceback
    _shell_engine()

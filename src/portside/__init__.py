"""Portside: the harness behind a hands-on course on container registries and image distribution.

The names most lessons need are importable from here; heavier modules (the registry
fixture, which imports testcontainers) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
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
from .notebook import install_error_handler

__version__ = "0.1.0"

_LAZY = {
    "Registry": "portside.registry",
    "RegistryClient": "portside.registry_client",
    "doctor": "portside.doctor",
    "cleanup": "portside.cleanup",
    "leftovers": "portside.cleanup",
    "docker_login": "portside.registry",
    "docker_logout": "portside.registry",
    "Manifest": "portside.registry_client",
    "parse_reference": "portside.reference",
}
_SUBMODULES = {"advisories", "engine", "images", "labels", "labs", "quiz", "reference", "registry", "registry_client",
               "sample_app", "scan", "signing", "tools", "transfer", "trivydb", "tls", "paths"}

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
        return import_module(f"portside.{name}")
    raise AttributeError(f"module 'portside' has no attribute {name!r}")


install_error_handler()  # in Jupyter, a PortsideError shows as its message, not a traceback

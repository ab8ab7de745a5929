"""Portside: the harness behind a hands-on course on container registries and image distribution."""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "EngineUnavailable",
    "ImageUnavailable",
    "InvalidReference",
    "PortInUse",
    "PortsideError",
    "RegistryAuthError",
    "RegistryError",
    "RegistryUnreachable",
    "ToolError",
    "ToolMissing",
    "__version__",
]

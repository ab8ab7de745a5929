"""Every error Portside raises on purpose.

Each message says what failed, where, and what to do next. Code that catches a
library exception (docker-py, requests, oras, testcontainers) turns it into one
of these, so a learner sees one clear sentence instead of a deep traceback.
"""

from __future__ import annotations

__all__ = [
    "EngineUnavailable",
    "ImageUnavailable",
    "InvalidReference",
    "PortInUse",
    "PortsideError",
    "RegistryAuthError",
    "RegistryError",
    "RegistryUnreachable",
    "SetupError",
    "ToolError",
    "ToolMissing",
]


class PortsideError(Exception):
    """Base class: a failure the learner can act on. ``str(err)`` is the whole message."""

    #: a one-line next step, appended to the message
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        if hint is not None:
            self.hint = hint
        self.message = message
        super().__init__(f"{message}\n→ {self.hint}" if self.hint else message)


class SetupError(PortsideError):
    """Setting up the course (packages, folders, downloads) failed."""


class EngineUnavailable(PortsideError):
    """No Docker engine answered."""

    hint = (
        "Start Docker Desktop (or your Docker Engine / Colima / Podman socket), or on Debian/Ubuntu "
        "run `make setup` as root to install and start one; then run `portside doctor`."
    )


class ImageUnavailable(PortsideError):
    """A course image is neither present, nor pullable, nor buildable here."""


class ToolMissing(PortsideError):
    """An optional command-line tool (cosign, syft, trivy) is not installed."""


class ToolError(PortsideError):
    """A command-line tool ran and failed. Carries the command and the tail of its stderr."""

    def __init__(self, message: str, *, command: list[str], returncode: int | None, stderr: str = "",
                 hint: str | None = None) -> None:
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        full = f"{message}\n  command: {' '.join(command)}"
        if tail:
            full += "\n  " + tail.replace("\n", "\n  ")
        super().__init__(full, hint=hint)


class InvalidReference(PortsideError):
    """An image reference that does not parse."""

    hint = "A reference looks like [HOST[:PORT]/]NAMESPACE/REPO[:TAG][@sha256:DIGEST], all lower case."


class RegistryError(PortsideError):
    """The registry answered with an error."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class RegistryUnreachable(RegistryError):
    """Nothing answered at the registry's address."""

    hint = "Check the address and port, and that the registry is running (`portside doctor` lists course registries)."


class RegistryAuthError(RegistryError):
    """The registry refused the credentials (401) or the action (403)."""

    hint = "Check the user name and password (they are case-sensitive), then log in again."


class PortInUse(PortsideError):
    """A host port the course wanted is taken."""

    hint = "Pick another port, or leave `port` unset and let the course choose a free one."

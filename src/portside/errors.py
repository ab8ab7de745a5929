"""Every error Portside raises on purpose, by kind.

Each message says what failed, where, and what to do next. Code that catches a
library exception (docker-py, requests, oras, a CLI tool) turns it into one of these,
so a learner sees one clear sentence instead of a deep traceback, and a caller can
catch one kind (``except RegistryAuthError``) without matching on text::

    PortsideError
    ├── UsageError            a value the course cannot use (InvalidReference)
    ├── SetupError            packages, folders, downloads (ImageUnavailable)
    ├── EngineError           the Docker engine refused or failed (EngineUnavailable, BuildError)
    ├── RegistryError         a registry answered with an error (RegistryUnreachable, RegistryAuthError)
    ├── PortInUse             a host port the course wanted is taken
    ├── ToolMissing           an optional CLI tool is not installed
    ├── ToolError             a CLI tool ran and failed (VerificationFailed)
    ├── ScanError             scanning, advisories, the Trivy database
    ├── SigningError          keys, signatures, attestations
    └── LabError              labs: not started, broken notebooks (LabNotRunning, MarkerError)
"""

from __future__ import annotations

__all__ = [
    "BuildError",
    "EngineError",
    "EngineUnavailable",
    "ImageUnavailable",
    "InvalidReference",
    "LabError",
    "LabNotRunning",
    "MarkerError",
    "PortInUse",
    "PortsideError",
    "RegistryAuthError",
    "RegistryError",
    "RegistryUnreachable",
    "ScanError",
    "SetupError",
    "SigningError",
    "ToolError",
    "ToolMissing",
    "UsageError",
    "VerificationFailed",
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


class UsageError(PortsideError):
    """A value the course cannot use: a malformed version, file, name or option. The message says which."""


class SetupError(PortsideError):
    """Setting up the course (packages, folders, downloads) failed."""


class EngineError(PortsideError):
    """The Docker engine refused an action or failed it (tag, build, create a network…)."""


class BuildError(EngineError):
    """An image build failed; the message carries the builder's own last lines."""


class EngineUnavailable(EngineError):
    """No Docker engine answered."""

    hint = (
        "Start Docker Desktop (or your Docker Engine / Colima / Podman socket), or on Debian/Ubuntu "
        "run `make setup` as root to install and start one; then run `portside doctor`."
    )


class ImageUnavailable(SetupError):
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


class InvalidReference(UsageError):
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


class VerificationFailed(ToolError):
    """cosign ran and found no signature (or attestation) that the given key verifies."""

    hint = ("The image is unsigned, was signed with another key, or the tag now points at different "
            "content. Check the public key and verify by digest (REF@sha256:…).")


class ScanError(PortsideError):
    """Scanning failed: an unreadable SBOM or report, an advisory source, the gate's allow-list, the Trivy DB."""


class SigningError(PortsideError):
    """A key, signature or attestation that cannot be used as given (the message says which and why)."""


class LabError(PortsideError):
    """A lab cannot do what was asked (a task that does not exist, a user it does not have…)."""


class LabNotRunning(LabError):
    """A lab was asked for that has not been started on this machine."""


class MarkerError(LabError):
    """A source notebook's BEGIN/END markers do not pair up."""

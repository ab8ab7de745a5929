"""Every error Portside raises on purpose, by kind.

Each message says what failed, where, and what to do next. Code that catches a
library exception (docker-py, requests, oras, a CLI tool) turns it into one of these,
so a learner sees one clear sentence instead of a deep traceback, and a caller can
catch one kind (``except RegistryAuthError``) without matching on text::

    PortsideError
    ├── UsageError            a value the course cannot use (InvalidReference)
    ├── SetupError            packages, folders, downloads (ImageUnavailable, HashMismatch)
    ├── EngineError           the Docker engine refused or failed (EngineUnavailable, BuildError)
    ├── RegistryError         a registry answered with an error (RegistryUnreachable, RegistryAuthError)
    ├── PortInUse             a host port the course wanted is taken
    ├── ToolMissing           an optional CLI tool is not installed
    ├── ToolError             a CLI tool ran and failed (VerificationFailed)
    ├── ScanError             scanning, advisories, the Trivy database
    ├── SigningError          keys, signatures, attestations
    └── LabError              labs: not started, broken notebooks (LabNotRunning, MarkerError)

Three foreign sources are translated here, each in one function, the way docker-py's
own ``errors.create_api_error_from_http_exception`` picks its error class from a
status code and the engine's explanation:

* :func:`engine_error`: the Docker engine (a docker-py ``APIError``, an ``error`` line
  of a push/pull stream, or ``docker login``'s stderr) → PortInUse, RegistryAuthError,
  RegistryUnreachable, ImageUnavailable, RegistryError or EngineError;
* :func:`http_error` and :func:`status_error`: requests/oras (a failed request, or an
  answer with an error status) → RegistryError and its kinds;
* a CLI's exit code and stderr: :func:`portside.tools._runner.tool_error` → ToolError
  (VerificationFailed when a verifier found no matching signature).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import requests

__all__ = [
    "BuildError",
    "EngineCase",
    "EngineError",
    "EngineUnavailable",
    "HashMismatch",
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
    "RoomError",
    "RoomNotRunning",
    "ScanError",
    "SetupError",
    "SigningError",
    "ToolError",
    "ToolMissing",
    "UsageError",
    "VerificationFailed",
    "build_error",
    "engine_case",
    "engine_detail",
    "engine_error",
    "http_error",
    "registry_error_text",
    "status_error",
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


class HashMismatch(SetupError):
    """A downloaded or cached file is not the one the course pinned (its sha256 differs)."""

    hint = ("Do not use that file. Something between the package index and this machine changed it (a proxy, "
            "a mirror, or a release replaced behind its version). Retry later or from another network; if it "
            "persists, install the tool by hand from a source you trust and tell the course maintainers.")


class EngineError(PortsideError):
    """The Docker engine refused an action or failed it (tag, build, create a network…).

    ``status`` is the engine's HTTP status code when it answered with one (409: a name in use).
    """

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


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


class RoomError(PortsideError):
    """The workshop room cannot do what was asked: its registry or token service is down, a learner is unknown…"""


class RoomNotRunning(RoomError):
    """No workshop room is up on this machine (in this run's namespace)."""

    hint = "Start one: `portside workshop up --learners N` (the instructor does this once for the room)."


# -- the Docker engine ----------------------------------------------------------------------------------
#: what an engine error means, read from its status code and its own words (see :func:`engine_case`)
EngineCase = Literal["port-in-use", "conflict", "unauthorized", "plain-http", "unreachable", "no-local-image",
                     "not-found", "token-service", "upload-lost", "other"]

_ENGINE_WORDS: tuple[tuple[EngineCase, tuple[str, ...]], ...] = (
    ("port-in-use", ("address already in use", "port is already allocated")),
    ("unauthorized", ("unauthorized", "authentication required", "no basic auth credentials", "denied",
                      "access to the resource is denied", "incorrect username or password",
                      "wrong user name or password")),  # the last: a workshop room's token service
    ("plain-http", ("server gave http response to https client",)),
    ("unreachable", ("connection refused", "no such host", "i/o timeout")),
    ("no-local-image", ("does not exist locally", "no such image")),
    ("not-found", ("manifest unknown", "not found")),
    ("upload-lost", ("blob upload invalid", "blob upload unknown")),
)
#: the engine could not fetch a token (it names the realm it tried) because nothing answered there
_TOKEN_FETCH = ("failed to fetch oauth token", "failed to fetch anonymous token", "failed to authorize")
_REALM = re.compile(r'(?:Post|Get) "(?P<url>https?://[^"?]+)')

_PLAIN_HTTP_HINT = ("The engine only uses plain HTTP for 'insecure registries': loopback (localhost, 127.0.0.0/8) "
                    "and those listed under insecure-registries in daemon.json. Use localhost:PORT, not another "
                    "name or IP, or give the registry a TLS certificate.")


def engine_detail(error: BaseException | str) -> str:
    """The engine's own words: a docker-py ``APIError``'s explanation, else the text itself."""
    if isinstance(error, str):
        return error
    return str(getattr(error, "explanation", None) or error)


def _engine_status(error: BaseException | str) -> int | None:
    status = None if isinstance(error, str) else getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def engine_case(error: BaseException | str) -> EngineCase:
    """Which case an engine error is: by its status code (401, 409), then by the engine's own messages."""
    status = _engine_status(error)
    lower = engine_detail(error).lower()
    if any(s in lower for s in _ENGINE_WORDS[0][1]):
        return "port-in-use"
    if any(s in lower for s in _TOKEN_FETCH) and any(s in lower for s in _ENGINE_WORDS[3][1]):
        return "token-service"
    if status == 409:
        return "conflict"
    if status == 401:
        return "unauthorized"
    for case, words in _ENGINE_WORDS[1:]:
        if any(s in lower for s in words):
            return case
    return "other"


def engine_error(error: BaseException | str, action: str, target: str, *, registry: str | None = None,
                 instead: Mapping[EngineCase, PortsideError] | None = None) -> PortsideError:
    """Translate a Docker engine failure into the Portside error that says what to do.

    ``error`` is a docker-py ``APIError`` (or any ``DockerException``), the ``error``
    text of a push/pull stream, or a CLI's stderr from the engine (``docker login``).
    The message reads ``{action} {target} failed: …`` (``"Push to", "localhost:5000/a:1"``);
    ``registry`` is the registry the action talks to (push, pull, login): it names
    where nothing answered, and a failure of no known case is then a
    :class:`RegistryError` rather than an :class:`EngineError`. A caller with its own
    wording for a case passes that error in ``instead`` (``{"other": BuildError(…)}``).
    """
    case = engine_case(error)
    if instead and case in instead:
        return instead[case]
    detail = engine_detail(error)
    status = _engine_status(error)
    where = registry or "the registry"
    if case == "port-in-use":
        return PortInUse(f"{action} {target} failed: a host port it needs is already in use ({detail}).")
    if case == "conflict":
        return EngineError(f"{action} {target} failed: {detail}", status=409,
                           hint="Choose another name, or remove the old one (`portside cleanup`).")
    if case == "token-service":
        found = _REALM.search(detail)
        realm = found["url"] if found else "its token service"
        return RegistryAuthError(
            f"{action} {target} failed: the registry answered, but the token service it sends you to ({realm}) "
            f"did not, so no token could be fetched ({detail}).", status=401,
            hint="Nothing was pushed. In a workshop room the token service is the instructor's: tell them "
                 "(`portside workshop status` shows it); a client that still holds a token keeps working.")
    if case == "upload-lost":
        return RegistryError(
            f"{action} {target} failed: the registry dropped the upload part-way ({detail}).",
            hint="It may have restarted or run out of storage space; nothing half-written is tagged. Push again; "
                 "if it fails the same way, the registry's storage may be full (in a workshop room, tell the "
                 "instructor).")
    if case == "unauthorized" and "insufficient_scope" in detail.lower():
        return RegistryAuthError(
            f"{action} {target} denied: you are logged in, but your account may not do this there ({detail}).",
            status=403, hint="Your token does not grant this action on this repository. In a workshop room you "
                             "push and pull under your own namespace (learner-NN/…) and pull course/…; check the "
                             "name, or log in as the account that owns it.")
    if case == "unauthorized":
        return RegistryAuthError(
            f"{action} {target} refused: not logged in, or the credentials are wrong ({detail}).", status=401,
            hint=f"Log in with docker_login({where!r}, user, password), or pass username= and password=.")
    if case == "plain-http":
        return RegistryError(
            f"{action} {target} failed: the engine spoke HTTPS, the registry answered plain HTTP ({detail}).",
            hint=_PLAIN_HTTP_HINT)
    if case == "unreachable":
        return RegistryUnreachable(f"{action} {target} failed: nothing answered at {where} ({detail}).")
    if case == "no-local-image":
        return ImageUnavailable(f"{action} {target} failed: there is no local image with that name.",
                                hint="Tag an existing image first: transfer.tag('busybox:1.35', reference).")
    if case == "not-found":
        return RegistryError(f"{action} {target} failed: the registry has no such image ({detail}).",
                             status=404, hint="Check the repository and tag (client.tags(repository)).")
    if registry is not None:
        return RegistryError(f"{action} {target} failed: {detail}", status=status)
    return EngineError(f"{action} {target} failed: {detail}", status=status)


# -- requests / oras ------------------------------------------------------------------------------------
def build_error(tag: str, error: BaseException, log: Sequence[str]) -> BuildError:
    """Translate a failed ``docker buildx build`` (python-on-whales' ``DockerException``) into a BuildError.

    BuildKit names the failing step in ``ERROR:`` lines of its log; the CLI's stderr has them too. The
    message keeps the last three of those, so a learner sees which step failed and why.
    """
    errors = [line for line in log if " ERROR" in line or line.startswith(("ERROR", "error:"))]
    stderr = [line for line in str(getattr(error, "stderr", "") or "").strip().splitlines() if line.strip()]
    picked = errors[-3:] or stderr[-3:] or list(log[-3:]) or [str(error)]
    return BuildError(f"docker buildx build -t {tag} failed: {' | '.join(part.strip() for part in picked)}",
                      hint="Read the failing step above; fix the Dockerfile or the context and build again.")


def registry_error_text(response: requests.Response) -> str:
    """The registry's own error message (``{"errors": [{"code", "message"}]}``), if it sent one."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return response.reason or ""
    parts = []
    for e in errors:
        if isinstance(e, dict):
            text = f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            cause = _cause(e.get("detail"))
            parts.append(f"{text} ({cause})" if cause and cause not in text else text)
    return "; ".join(dict.fromkeys(parts)) or response.reason or ""


def _cause(detail: object) -> str:
    """registry:2's ``detail``: a sentence, or a storage driver's error whose ``Enclosed.Err`` is an errno."""
    import os

    if isinstance(detail, str):
        return detail
    enclosed = detail.get("Enclosed") if isinstance(detail, dict) else None
    if isinstance(enclosed, dict) and isinstance(enclosed.get("Err"), int):
        return f"{enclosed.get('Op', 'io')} {enclosed.get('Path', '')}: {os.strerror(enclosed['Err']).lower()}"
    return ""


def _ssl_reason(error: BaseException) -> str:
    text = str(error)
    for marker in ("certificate verify failed: ", "SSLError("):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.split(" (_ssl.c")[0].strip("\"')( ") or "TLS handshake failed"


def _broke_off(error: BaseException) -> bool:
    """The connection was made, then lost before the answer (reset, closed, a broken pipe): not refused."""
    import urllib3

    reason = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.ProtocolError)


def http_error(error: requests.RequestException, url: str, *, method: str = "GET", path: str = "",
               ca_file: Path | str | None = None) -> RegistryError:
    """Translate a request to the registry at ``url`` that got no usable answer.

    A certificate that does not verify → :class:`RegistryError` with the CA hint;
    a refused connection or a timeout → :class:`RegistryUnreachable`; a connection
    that broke off mid-way → :class:`RegistryError`.
    """
    import requests

    if isinstance(error, requests.exceptions.SSLError):
        hint = ("Pass the course CA: RegistryClient(url, ca_file=registry.ca_file) "
                "(curl: --cacert FILE; Go tools: SSL_CERT_FILE from registry.tool_env()).")
        if ca_file:
            hint = f"The CA file {ca_file} did not vouch for this server: is it the registry's own CA?"
        return RegistryError(f"The TLS certificate of {url} could not be verified ({_ssl_reason(error)}).",
                             hint=hint)
    if isinstance(error, requests.exceptions.ConnectionError) and _broke_off(error):
        return RegistryError(f"{method} {path} at {url} broke off: the registry closed the connection before it "
                             "answered (it may have restarted).",
                             hint="Try again. An upload that broke off is never visible as a tag; layers that were "
                                  "complete are kept, so the retry skips them.")
    if isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        what = "timed out" if isinstance(error, requests.exceptions.Timeout) else "connection refused"
        return RegistryUnreachable(f"Nothing answered at {url} ({what}).")
    return RegistryError(f"{method} {path} at {url} broke off: {error}",
                         hint="The registry may have restarted or lost data; try again.")


def status_error(response: requests.Response, url: str, *, what: str | None = None,
                 who: str | None = None) -> RegistryError:
    """Translate an answer with an error status from the registry at ``url``.

    401 → :class:`RegistryAuthError` (``who``: whose credentials were sent, e.g.
    ``"user 'alice'"``; None when none were), 403 → :class:`RegistryAuthError`
    (not allowed), any other status → :class:`RegistryError` with ``status`` set.
    ``what`` names the request in the message (default: its method and path).
    """
    method = response.request.method if response.request is not None else "GET"
    path = urlsplit(response.url).path
    detail = registry_error_text(response)
    if response.status_code == 403:
        return RegistryAuthError(f"{url} denied {method} {path}: {detail}.", status=403,
                                 hint="This user may not do that here (check the registry's access rules).")
    if response.status_code >= 500 and "no space left on device" in detail.lower():
        return RegistryError(
            f"{url} is out of storage space: {what or f'{method} {path}'} failed (no space left on device).",
            status=response.status_code,
            hint="Nothing half-written is tagged, but a failed upload's bytes stay until they are removed, so every "
                 "push fails until space is freed: delete unused images and garbage-collect, remove unfinished "
                 "uploads (a workshop room: `portside workshop purge-uploads`), or give the registry more storage.")
    if response.status_code == 401 and 'error="insufficient_scope"' in response.headers.get("Www-Authenticate", ""):
        return RegistryAuthError(
            f"{url} denied {method} {path}: the token {'of ' + who + ' ' if who else ''}does not grant it "
            "(401 insufficient_scope).", status=401,
            hint="The token service gave a token without this action on this repository: the account may not do "
                 "it there. In a workshop room, work under your own namespace (learner-NN/…).")
    if response.status_code == 401 and who is None:
        return RegistryAuthError(
            f"{url} requires a login ({method} {path} answered 401 Unauthorized).", status=401,
            hint="Pass username= and password=, or log in first with docker_login(address, user, password).")
    if response.status_code == 401:
        return RegistryAuthError(f"{url} refused the credentials of {who} (401 Unauthorized).", status=401)
    return RegistryError(f"{what or f'{method} {path}'} at {url} failed: {response.status_code} {detail}.",
                         status=response.status_code)

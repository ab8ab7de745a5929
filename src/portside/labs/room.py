"""A lab run in a workshop room: the room registry, under the learner's own namespace, instead of a registry of its own.

``portside lab reset 00-first-push --room localhost:40123 --user learner-07`` (or
``portside.labs.start("00-first-push", room="localhost:40123", user="learner-07")``) links the lab to the
room. The link is the lab's ``registry.json`` (``{"room": ADDRESS, "account": …, "realm": …}``) and its
``credentials.json`` (the account's password, mode 0600): the same two files a lab with its own
registry keeps, so every other part of the lab works unchanged. The lab's endpoint then carries the
namespace (:attr:`portside.oci.endpoint.Endpoint.namespace`): ``lab.ref("learner/hello", "1.0")`` is
``ROOM/learner-07/learner/hello:1.0`` and the checkers read ``learner-07/learner/hello``.

The room is the instructor's: a reset empties only the lab's repositories in the learner's namespace,
and closing the lab leaves the room (its local names and saved login go; what was pushed stays for the
instructor's board until ``portside workshop down``). Each check is also reported to the room's token service
(``PUT /progress/SLUG``, with the learner's credentials), which is how the instructor's board knows who
is stuck where and how many hints they used. The token service's address is the *realm* the room
registry's own challenge names, so nothing but the registry's address needs to be typed in.

Environment variables, for a terminal or a whole room's set-up: ``PORTSIDE_ROOM`` (the address),
``PORTSIDE_ROOM_USER``, ``PORTSIDE_ROOM_PASSWORD`` (or ``PORTSIDE_ROOM_PASSWORD_FILE``), ``PORTSIDE_ROOM_CA``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from portside.errors import LabError, RegistryError, RoomError, http_error
from portside.oci import credentials
from portside.oci.endpoint import Endpoint
from portside.registry.local_images import remove_local_names

if TYPE_CHECKING:
    from portside.labs.context import LabContext, LabState
    from portside.labs.model import Lab
    from portside.labs.report import CheckReport

__all__ = ["ROOM_ENV", "RoomLink", "answers", "clear", "link", "report", "room_from_env", "unlink"]

ROOM_ENV, USER_ENV, PASSWORD_ENV, PASSWORD_FILE_ENV, CA_ENV = (
    "PORTSIDE_ROOM", "PORTSIDE_ROOM_USER", "PORTSIDE_ROOM_PASSWORD", "PORTSIDE_ROOM_PASSWORD_FILE", "PORTSIDE_ROOM_CA")
_TIMEOUT = 30.0


@dataclass(frozen=True)
class RoomLink:
    """Where a lab's room is and who the learner is there (read from the lab's ``registry.json``)."""

    address: str
    account: str
    tls: bool
    realm: str
    ca_file: Path | None = None
    #: the account whose credentials read the namespace, when not the learner's own (the instructor's board)
    reader: str | None = None

    @property
    def host(self) -> str:
        return self.address.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def progress_url(self) -> str:
        return self.realm.rsplit("/", 1)[0] + "/progress"

    def endpoint(self, password: str | None) -> Endpoint:
        """The room registry under the learner's namespace, as the learner (or as :attr:`reader`)."""
        return Endpoint(self.host, self.port, tls=self.tls, ca_file=self.ca_file,
                        username=self.reader or self.account, password=password, namespace=self.account)

    @classmethod
    def saved(cls, data: Mapping[str, Any]) -> RoomLink | None:
        if not data.get("room"):
            return None
        ca = data.get("ca_file")
        return cls(str(data["room"]), str(data["account"]), bool(data.get("tls")), str(data.get("realm", "")),
                   Path(ca) if ca else None)

    def as_json(self) -> dict[str, Any]:
        return {"room": self.address, "account": self.account, "tls": self.tls, "realm": self.realm,
                "ca_file": str(self.ca_file) if self.ca_file else None}


def answers(room: RoomLink) -> bool:
    """Whether the room registry answers at all (any HTTP status counts)."""
    try:
        requests.get(f"{'https' if room.tls else 'http'}://{room.address}/v2/", timeout=_TIMEOUT,
                     verify=str(room.ca_file) if room.ca_file else True)
    except requests.RequestException:
        return False
    return True


def room_from_env() -> tuple[str | None, str | None, str | None, str | None]:
    """``(address, user, password, ca_file)`` from the ``PORTSIDE_ROOM*`` variables (each may be None)."""
    password = os.environ.get(PASSWORD_ENV)
    password_file = os.environ.get(PASSWORD_FILE_ENV)
    if password is None and password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise RoomError(f"{PASSWORD_FILE_ENV}={password_file} cannot be read ({err.strerror}).") from None
    return os.environ.get(ROOM_ENV) or None, os.environ.get(USER_ENV) or None, password, os.environ.get(CA_ENV)


def _address(value: str) -> tuple[str, bool | None]:
    """``host:port`` and the scheme's TLS choice (None: not said) from an address or URL."""
    text = value.strip().rstrip("/")
    tls: bool | None = None
    if text.startswith(("http://", "https://")):
        tls = text.startswith("https://")
        text = text.split("://", 1)[1]
    if ":" not in text or not text.rsplit(":", 1)[1].isdigit():
        raise RoomError(f"{value!r} is not a room registry address.",
                        hint="Give HOST:PORT as the instructor's sheet says, e.g. --room localhost:40123.")
    return text, tls


def _challenge(url: str, ca_file: Path | None) -> tuple[str, str]:
    """The realm and service the room registry's ``WWW-Authenticate`` challenge names."""
    try:
        response = requests.get(f"{url}/v2/", timeout=_TIMEOUT, verify=str(ca_file) if ca_file else True)
    except requests.RequestException as err:
        raise http_error(err, url, path="/v2/", ca_file=ca_file) from None
    challenge = response.headers.get("Www-Authenticate", "")
    if response.status_code != 401 or not challenge.lower().startswith("bearer "):
        raise RoomError(f"{url} is not a workshop room: it does not ask for a token (HTTP {response.status_code}).",
                        hint="Check the address on the instructor's sheet.")
    fields = requests.utils.parse_dict_header(challenge[len("bearer "):])  # type: ignore[no-untyped-call]
    realm = fields.get("realm")
    if not realm:
        raise RoomError(f"{url} challenges for a token but names no realm.")
    return str(realm), str(fields.get("service") or "")


def link(lab: Lab, state: LabState, address: str, account: str | None, password: str | None,
         ca_file: str | Path | None = None) -> RoomLink:
    """Link ``lab`` to the room at ``address`` as ``account``: check the password, then record the link."""
    if not lab.room:
        raise LabError(f"Lab {lab.slug} does not run in a workshop room: it needs a registry of its own.",
                       hint="Run it without --room (it starts its own registry).")
    if not account or password is None:
        raise RoomError("Joining a room needs your account and password from the instructor's sheet.",
                        hint=f"Pass --user learner-NN and type the password when asked, or set {USER_ENV} and "
                             f"{PASSWORD_ENV} (or {PASSWORD_FILE_ENV}).")
    hostport, scheme_tls = _address(address)
    ca = Path(ca_file) if ca_file else None
    tls = scheme_tls if scheme_tls is not None else ca is not None
    url = f"{'https' if tls else 'http'}://{hostport}"
    realm, service = _challenge(url, ca)
    found = RoomLink(hostport, account, tls, realm, ca)
    try:  # the password is checked by the token service: a token for the learner's own namespace
        token = requests.get(realm, params={"service": service, "scope": f"repository:{account}/probe:pull"},
                             auth=(account, password), timeout=_TIMEOUT, verify=str(ca) if ca else True)
    except requests.RequestException as err:
        raise RoomError(f"The room's token service at {realm} did not answer ({type(err).__name__}).",
                        hint="Tell the instructor: the room's token service may be down.") from None
    if token.status_code == 401:
        raise RoomError(f"The room refused the password of {account!r}.",
                        hint="Copy it again from your sheet (it is case-sensitive).")
    if token.status_code != 200:
        raise RoomError(f"The room's token service answered {token.status_code}: {token.text[:200]}")
    state.credentials = {account: password}
    state.registry = found.as_json()
    return found


def clear(ctx: LabContext, room: RoomLink) -> None:
    """Empty the lab's repositories in the learner's namespace, and drop the local names and login for them."""
    client = ctx.client()
    for repository in ctx.lab.repositories:
        for tag in client.tags(repository):
            digest = client.digest(repository, tag)
            if digest is None:
                continue
            try:
                client.delete_manifest(repository, digest)
            except RegistryError as err:
                if err.status != 404:  # two tags on one manifest: the first delete took both
                    raise
    remove_local_names(room.port, namespace=room.account, host=room.host)
    credentials.forget(room.address)


def unlink(state: LabState) -> None:
    """Forget the room (the lab's state folder goes; the room keeps what was pushed)."""
    shutil.rmtree(state.folder, ignore_errors=True)


def report(ctx: LabContext, room: RoomLink, checked: CheckReport, hints: Mapping[int, Mapping[str, int]]) -> str:
    """Tell the room's board about a check (best effort: a room that does not answer costs a note, not the check)."""
    body = {
        "lab": ctx.lab.slug,
        "tasks": [{"number": t.number, "passed": t.passed,
                   "failing": [r.name for r in t.results if not r.passed],
                   "hints": sum(hints.get(t.number, {}).values())} for t in checked.tasks],
    }
    try:
        response = requests.put(f"{room.progress_url}/{ctx.lab.slug}", json=body, timeout=10,
                                auth=(room.account, ctx.password or ""),
                                verify=str(room.ca_file) if room.ca_file else True)
    except requests.RequestException as err:
        return f"(the room's board did not get this check: {type(err).__name__})"
    return "" if response.status_code == 200 else f"(the room's board refused this check: HTTP {response.status_code})"

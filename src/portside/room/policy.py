"""Who may do what in the room: scopes asked for, actions granted.

A client asks the token service for a *scope*, ``repository:learner-07/app:pull,push``: a resource type,
its name and the actions wanted (``registry:catalog:*`` lists repositories). The service grants the
intersection of what was asked and what the account may do, and the registry then allows exactly that.
A scope that is not granted is not an error at the token service: the token simply lacks it, and the
registry answers the request with 401 ``insufficient_scope`` (the token specification, "Requesting a
Token").

The room's rules:

=================  =========================================  ===============================
account            ``learner-NN/…`` (its own namespace)        ``course/…``    anything else
=================  =========================================  ===============================
``learner-NN``     pull, push, delete                          pull            nothing
``instructor``     everything, and ``registry:catalog:*``      everything      everything
anonymous          nothing                                     pull            nothing
=================  =========================================  ===============================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from portside.errors import UsageError

__all__ = ["COURSE_NAMESPACE", "INSTRUCTOR", "Scope", "grant", "learner_name", "parse_scopes"]

#: the namespace the shared course images live under (pull only for learners)
COURSE_NAMESPACE = "course"
#: the account that may do everything
INSTRUCTOR = "instructor"
_REPOSITORY_ACTIONS = ("pull", "push", "delete")
_LEARNER = re.compile(r"^learner-\d{2,3}$")
#: ``type[(class)]:name:actions``; a name may start with ``host:port/``
_SCOPE = re.compile(r"^(?P<type>[a-z]+)(?:\([a-z0-9]+\))?:"
                    r"(?P<name>[^:\s]+(?::\d+)?(?:/[^:\s]+)*):(?P<actions>[a-z*,]*)$")


def learner_name(number: int) -> str:
    """``learner-07``: the account (and namespace) of learner ``number``."""
    return f"learner-{number:02d}"


@dataclass(frozen=True)
class Scope:
    """One asked-for scope: ``type:name:actions``."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """The scopes of ``scope=`` parameters (each may hold several, space-separated); a malformed one is refused."""
    scopes = []
    for value in values:
        for item in value.split():
            match = _SCOPE.match(item)
            if not match:
                raise UsageError(f"{item!r} is not a scope.",
                                 hint="A scope looks like repository:NAMESPACE/REPO:pull,push or registry:catalog:*.")
            actions = tuple(a for a in match["actions"].split(",") if a)
            scopes.append(Scope(match["type"], match["name"], actions))
    return scopes


def _allowed(account: str | None, scope: Scope) -> set[str]:
    if account == INSTRUCTOR:
        return set(scope.actions)
    if scope.type != "repository":
        return set()
    namespace = scope.name.split("/", 1)[0]
    if namespace == COURSE_NAMESPACE and "/" in scope.name:
        return {"pull"}
    if account is not None and _LEARNER.match(account) and namespace == account and "/" in scope.name:
        return set(_REPOSITORY_ACTIONS)
    return set()


def grant(account: str | None, scopes: Iterable[Scope]) -> list[dict[str, object]]:
    """The token's ``access`` claim: each asked-for resource with the actions ``account`` may take (maybe none)."""
    access: list[dict[str, object]] = []
    for scope in scopes:
        granted = [action for action in scope.actions if action in _allowed(account, scope)]
        access.append({"type": scope.type, "name": scope.name, "actions": granted})
    return access

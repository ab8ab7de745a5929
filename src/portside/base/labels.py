"""The labels that mark everything the course creates, and the one query that finds it all."""

from __future__ import annotations

import os
import uuid

from portside.base.paths import namespace

__all__ = ["COURSE", "KIND", "NAMESPACE", "SESSION", "STANDIN", "course_filter", "course_labels", "in_namespace",
           "session_id"]

COURSE = "org.portside.course"
KIND = "org.portside.kind"
SESSION = "org.portside.session"
STANDIN = "org.portside.standin"
#: on resources that belong to one run's namespace (see :func:`portside.base.paths.namespace`); absent for a learner
NAMESPACE = "org.portside.namespace"

_SESSION = os.environ.get("PORTSIDE_SESSION") or uuid.uuid4().hex[:12]


def session_id() -> str:
    """An id shared by everything this Python process creates."""
    return _SESSION


def course_labels(kind: str, **extra: str) -> dict[str, str]:
    """Labels for a container, network or volume the course creates (and its namespace's, in a namespaced run)."""
    ns = namespace()
    return {COURSE: "true", KIND: kind, SESSION: _SESSION, **({NAMESPACE: ns} if ns else {}),
            **{f"org.portside.{k}": v for k, v in extra.items()}}


def in_namespace(labels: dict[str, str] | None) -> bool:
    """True when a resource with ``labels`` belongs to this run's namespace (for a learner: carries none)."""
    return (labels or {}).get(NAMESPACE, "") == namespace()


def course_filter(session: str | None = None) -> dict[str, list[str]]:
    """A docker-py ``filters`` dict matching course resources (of one session, if given)."""
    labels = [f"{COURSE}=true"]
    if session:
        labels.append(f"{SESSION}={session}")
    return {"label": labels}

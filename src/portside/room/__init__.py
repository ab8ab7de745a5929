"""Layer 7, the room registry of a workshop: one ``registry:2`` in token-authentication mode for a class.

* :mod:`~portside.room.room` — up, down, status; the room's addresses and each account's endpoint;
* :mod:`~portside.room.settings` — ``room.json``, the one record of a running room;
* :mod:`~portside.room.tokens` — the signing key (a token CA and its signing certificate) and the JWTs it signs;
* :mod:`~portside.room.policy` — scopes asked for, actions granted (a namespace per learner, ``course/`` for all);
* :mod:`~portside.room.accounts` — the learners' and the instructor's accounts and password hashes;
* :mod:`~portside.room.service` — the token service, a WSGI application (``/token``, ``/progress``, ``/healthz``);
* :mod:`~portside.room.server` — that application served by cheroot, as its own process;
* :mod:`~portside.room.sheet` — the printable credentials sheet and one file per learner;
* :mod:`~portside.room.seed` — the course images pushed into the room under ``course/``.
"""

from portside.room.room import Room, RoomStatus, current, down, up

__all__ = ["Room", "RoomStatus", "current", "down", "up"]

"""Users files (htpasswd): the one place their lines are written, and read back without showing a hash.

* :func:`htpasswd_line` writes one ``user:hash`` line in a format the Apache ``htpasswd``
  tool knows. registry:2 accepts **bcrypt only**; the others exist so a lesson can show
  what happens with them.
* :func:`htpasswd` writes the file a course registry starts with (bcrypt, one line per user).
* :func:`describe_htpasswd` and :func:`hash_scheme` say which format a line uses.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Literal

import bcrypt

from portside.base.proc import run
from portside.errors import RegistryError

__all__ = ["THROWAWAY_BCRYPT_ROUNDS", "HashScheme", "describe_htpasswd", "hash_scheme", "htpasswd", "htpasswd_line"]

HashScheme = Literal["bcrypt", "sha1", "apr1"]

#: bcrypt cost of the course's own registries (lessons, labs, tests). registry:2 runs a full bcrypt
#: comparison for every request that carries a password: 50-85 ms per request at cost 10, ~3 ms at
#: cost 5 (benchmarks/registry_auth.py), and a push or a lab check makes dozens of requests. The
#: work factor is there to slow down offline guessing of *low-entropy* passwords from a stolen
#: htpasswd file, which does not apply to these users: their passwords are random (16+ characters
#: from ``secrets``, beyond guessing at any speed), they live for seconds to minutes, and the
#: registry listens on 127.0.0.1 only and is removed, file and all, when it stops. A registry
#: people really use should keep cost >= 10 (``htpasswd(users, rounds=12)``; ``htpasswd -B -C 12``).
#: registry:2 accepts any valid bcrypt hash (cost 4 to 31).
THROWAWAY_BCRYPT_ROUNDS = 5


def htpasswd_line(user: str, password: str, scheme: HashScheme = "bcrypt", *, rounds: int = 10,
                  prefix: Literal["2a", "2b"] = "2b") -> str:
    """One ``user:hash`` line of an htpasswd file (with its newline).

    * ``bcrypt`` (``$2y$``/``$2a$``/``$2b$``, cost ``rounds``): salted and deliberately
      slow — what ``htpasswd -B`` writes and the only format registry:2 accepts;
    * ``sha1`` (``{SHA}``): one unsalted SHA-1, base64-encoded — ``htpasswd -s``;
    * ``apr1`` (``$apr1$``): Apache's salted MD5 — ``htpasswd -m``, the Apache tool's
      default. Computed with ``openssl passwd -apr1`` (the password goes on stdin).
    """
    if not user or any(c in user for c in ":\n\r"):
        raise RegistryError(f"Invalid user name {user!r}: it needs no ':' and no newline.")
    if scheme == "bcrypt":
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds, prefix=prefix.encode())).decode()
    elif scheme == "sha1":
        hashed = "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    elif scheme == "apr1":
        hashed = run(["openssl", "passwd", "-apr1", "-stdin"], input=password, timeout=30,
                     what="openssl passwd -apr1").stdout.strip()
    else:
        raise RegistryError(f"Unknown hash scheme {scheme!r}: use bcrypt, sha1 or apr1.")
    return f"{user}:{hashed}\n"


def htpasswd(users: Mapping[str, str], *, rounds: int = THROWAWAY_BCRYPT_ROUNDS) -> bytes:
    """An htpasswd file: one ``user:bcrypt-hash`` line per user (the only hash registry:2 accepts).

    The default cost suits the course's throwaway registries only (see :data:`THROWAWAY_BCRYPT_ROUNDS`).
    """
    for user, password in users.items():
        if not user or any(c in user for c in ":\n\r") or not password:
            raise RegistryError(f"Invalid registry user {user!r}: names need no ':' or newline, and a password.")
    lines = (htpasswd_line(user, password, rounds=rounds, prefix="2a") for user, password in users.items())
    return "".join(lines).encode()


_SCHEMES = (("$2a$", "bcrypt"), ("$2b$", "bcrypt"), ("$2y$", "bcrypt"), ("{SHA}", "SHA-1"),
            ("$apr1$", "MD5 (apr1)"), ("$1$", "MD5-crypt"), ("$5$", "SHA-256-crypt"), ("$6$", "SHA-512-crypt"))


def hash_scheme(hashed: str) -> str:
    """The name of the hash format of one htpasswd hash, from its prefix."""
    for prefix, name in _SCHEMES:
        if hashed.startswith(prefix):
            return name
    return "crypt or plain text"


def describe_htpasswd(content: str | bytes) -> list[str]:
    """``user: format (prefix)`` for each line of an htpasswd file — the hashes themselves stay hidden."""
    text = content.decode() if isinstance(content, bytes) else content
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        user, _, hashed = line.partition(":")
        prefix = next((p for p, _ in _SCHEMES if hashed.startswith(p)), "")
        cost = f", cost {hashed.split('$')[2]}" if hash_scheme(hashed) == "bcrypt" else ""
        lines.append(f"{user}: {hash_scheme(hashed)}" + (f" ({prefix}…{cost})" if prefix else ""))
    return lines

"""Run a managed tool through :func:`portside.base.proc.run`, with the course's environment and no leaked secrets.

Passwords reach cosign through ``COSIGN_PASSWORD`` (never the command line) and
registry passwords through ``--registry-password``. Any :class:`ToolError` raised
here shows the command with every secret replaced by ``***`` — also in its stderr
tail and in the exception's ``command`` attribute — and is raised ``from None`` so
no unredacted exception hangs off it.

:func:`tool_error` is the one translator of a CLI's failure (exit code and stderr) into
a Portside error: a :class:`ToolError`, or a :class:`VerificationFailed` when a verifier
(cosign) says no signature or attestation matched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from portside.base.paths import docker_config_dir
from portside.base.proc import Result, run
from portside.errors import ToolError, VerificationFailed
from portside.tools.install import path

__all__ = ["REDACTED", "redact", "redact_argv", "run_tool", "tool_env", "tool_error"]

REDACTED = "***"

#: options whose value is a secret, whatever the tool
_SECRET_OPTIONS = ("--registry-password", "--registry-token", "--password", "--token")

#: what cosign says when it ran fine but no signature (or attestation) verifies with the key
_NOT_VERIFIED = ("no matching signatures", "no signatures found", "no matching attestations",
                 "invalid signature", "verification error", "none of the attestations matched")


def redact_argv(argv: Sequence[str], secrets: Iterable[str] = ()) -> list[str]:
    """``argv`` with the values of password/token options and any of ``secrets`` replaced by ``***``."""
    values = [s for s in secrets if s]
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        option, eq, _ = arg.partition("=")
        if option in _SECRET_OPTIONS:
            if eq:
                out.append(f"{option}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact(arg, values))
    return out


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each (non-empty) secret replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment additions for every tool: the course's ``DOCKER_CONFIG``, then ``extra``."""
    return {"DOCKER_CONFIG": os.environ.get("DOCKER_CONFIG") or str(docker_config_dir()), **(extra or {})}


def run_tool(
    name: str,
    args: Sequence[str | Path],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    what: str | None = None,
    hint: str | None = None,
    cwd: str | Path | None = None,
    check: bool = True,
    input_: str = "",
) -> Result:
    """Run tool ``name`` (resolved lazily with :func:`path`) and return its redacted :class:`Result`.

    Standard input is ``input_`` (empty by default), so a tool that unexpectedly
    prompts gets end-of-file at once instead of waiting for a timeout.
    """
    hidden = [s for s in secrets if s]
    argv = [path(name), *(str(a) for a in args)]
    shown = redact_argv(argv, hidden)
    label = what or f"{name} {args[0] if args else ''}".strip()
    try:
        result = run(argv, timeout=timeout, env=tool_env(env), cwd=cwd, check=False, what=label, hint=hint,
                     input=input_)
    except ToolError as exc:  # with check=False only a timeout raises: rebuild it without the secrets
        raise ToolError(f"{label} did not finish within {timeout:.0f} s.", command=shown, returncode=None,
                        stderr=redact(exc.stderr, hidden), hint=hint) from None
    clean = Result(shown, result.returncode, redact(result.stdout, hidden), redact(result.stderr, hidden))
    if check and not clean.ok:
        raise tool_error(clean, label, hint=hint)
    return clean


def tool_error(result: Result, label: str, *, hint: str | None = None, verifying: bool = False) -> ToolError:
    """Translate a failed run: ``{label} failed (exit N).`` with the command and the tail of its stderr.

    ``verifying``: the run checked a signature, so "no matching signatures" and the like
    become :class:`VerificationFailed` (the tool worked; the image is not signed by that key).
    """
    message = result.stderr or result.stdout
    kind = ToolError
    if verifying and any(s in message.lower() for s in _NOT_VERIFIED):
        kind = VerificationFailed
    return kind(f"{label} failed (exit {result.returncode}).", command=list(result.command),
                returncode=result.returncode, stderr=message, hint=hint)

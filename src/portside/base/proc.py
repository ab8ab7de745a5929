"""One way to run an external command: with a timeout, output captured, failures as ToolError."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from portside.errors import ToolError, ToolMissing

__all__ = ["Result", "alive", "run", "terminate", "which"]


@dataclass(frozen=True)
class Result:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def which(name: str, *extra_dirs: Path) -> str | None:
    """Find a command on PATH, then in the given folders."""
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def run(
    command: Sequence[str | Path],
    *,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    cwd: str | Path | None = None,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
) -> Result:
    """Run ``command``; raise :class:`ToolError` (command + stderr tail) if it fails and ``check``."""
    argv = [str(part) for part in command]
    full_env = {**os.environ, **(env or {})}
    text_input = input.decode() if isinstance(input, bytes) else input
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=full_env, input=text_input, cwd=cwd,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"`{argv[0]}` is not installed or not on PATH.",
                          hint=hint or "Run `portside tools ensure` (or `make setup`).") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{what or argv[0]} did not finish within {timeout:.0f} s.", command=argv,
                        returncode=None, stderr=str(exc.stderr or ""), hint=hint) from exc
    result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise ToolError(f"{what or Path(argv[0]).name} failed (exit {proc.returncode}).", command=argv,
                        returncode=proc.returncode, stderr=proc.stderr or proc.stdout, hint=hint)
    return result


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs; reaps it first if it is an exited child of this process."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def terminate(pid: int, *, timeout: float = 30) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds for it to exit, then SIGKILL it; False if it was not running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        alive(pid)
    return True

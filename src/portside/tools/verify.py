"""Check downloads against the hashes the course pinned: pip's hash-checking mode, and sha256 of files.

:func:`pip_download` writes a one-line requirements file carrying ``--hash=sha256:…``
for each accepted file and runs ``pip download --require-hashes``: pip itself refuses
any file whose hash is not listed, and the result is checked once more here. A
mismatch is a :class:`HashMismatch` that says what failed and what to do.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from portside.base.proc import run
from portside.errors import HashMismatch, SetupError, ToolError

__all__ = ["HashMismatch", "Verified", "check_file", "pip_download", "pip_download_all", "sha256_file"]


@dataclass(frozen=True)
class Verified:
    """A file whose sha256 was checked against the pins."""

    path: Path
    sha256: str


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, allowed: Iterable[str], *, what: str, hint: str | None = None) -> str:
    """Return the sha256 of ``path``; raise :class:`HashMismatch` if it is not one of ``allowed``."""
    allowed = {h.lower() for h in allowed}
    actual = sha256_file(path)
    if actual not in allowed:
        raise HashMismatch(
            f"{path.name} does not match the sha256 the course pinned for {what}: it is sha256:{actual}, "
            f"expected {' or '.join(f'sha256:{h}' for h in sorted(allowed))}.", hint=hint)
    return actual


_PIP_MISMATCH = "DO NOT MATCH THE HASHES"
_PIP_GOT = re.compile(r"Got\s+([0-9a-f]{64})")
_PIP_WHICH = re.compile(r"^\s+(\S+==\S+) from ", re.MULTILINE)


def pip_download(requirement: str, hashes: Sequence[str], dest: Path, *, pip_args: Sequence[str] = (),
                 timeout: float = 1800, hint: str = "", mismatch_hint: str | None = None) -> Verified:
    """Download the one wheel of ``requirement`` (``name==version``) into ``dest`` in pip's hash-checking mode.

    ``hashes`` are the sha256 of every acceptable wheel file (one per platform);
    ``pip_args`` are extra pip options (``--platform …``, ``--no-index --find-links …``).
    Returns the wheel and its sha256. Raises :class:`HashMismatch` when pip (or the
    re-check here) finds a file that is not pinned, :class:`ToolError` for any other pip failure.
    """
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.whl"))
    pip_download_all({requirement: hashes}, dest, pip_args=pip_args, timeout=timeout, hint=hint,
                     mismatch_hint=mismatch_hint)
    wheels = sorted(set(dest.glob("*.whl")) - before) or sorted(
        p for p in dest.glob("*.whl") if sha256_file(p) in set(hashes))
    if not wheels:
        raise SetupError(f"pip downloaded no wheel for {requirement}.",
                         hint="That release may have no wheel for this platform; install it by hand.")
    return Verified(wheels[0], check_file(wheels[0], hashes, what=requirement, hint=mismatch_hint))


def pip_download_all(pinned: Mapping[str, Sequence[str]], dest: Path, *, pip_args: Sequence[str] = (),
                     timeout: float = 1800, hint: str = "", mismatch_hint: str | None = None) -> None:
    """``pip download --no-deps --require-hashes`` of several ``name==version`` → sha256 list, in one call.

    Each name may appear once (pip refuses two versions of one package in one call).
    Raises :class:`HashMismatch` when pip finds a file whose sha256 is not listed.
    """
    missing = [requirement for requirement, hashes in pinned.items() if not hashes]
    if missing:
        raise SetupError(f"The course has no sha256 pinned for {', '.join(missing)}, so it will not download it.",
                         hint="Add the hash of each reviewed wheel to the course's pins, then run again.")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portside-pins-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("".join(requirement + "".join(f" \\\n    --hash=sha256:{h}" for h in hashes) + "\n"
                                        for requirement, hashes in pinned.items()), encoding="utf-8")
        names = ", ".join(pinned)
        try:
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
                 "--disable-pip-version-check", "--quiet", "--require-hashes", *pip_args,
                 "--dest", str(dest), "-r", str(requirements)],
                timeout=timeout, what=f"pip download {names} (hash-checking mode)", hint=hint or None)
        except ToolError as exc:
            if _PIP_MISMATCH not in exc.stderr:
                raise
            got = _PIP_GOT.findall(exc.stderr)
            which = _PIP_WHICH.findall(exc.stderr)
            requirement = which[0] if which else names
            allowed = pinned.get(requirement, [h for hashes in pinned.values() for h in hashes])
            raise HashMismatch(
                f"pip refused the file it downloaded for {requirement}: its sha256 is "
                f"{'sha256:' + got[0] if got else 'unknown'}, which is not one the course pinned "
                f"({', '.join('sha256:' + h[:12] + '…' for h in allowed)}).", hint=mismatch_hint) from None

"""Lesson 06's helpers: build contexts for the size comparison, and a plain-text bar chart.

:func:`app_context` packs the demo app (``pyapp``, its ``fixed`` pins) with a Dockerfile you
choose, so one lesson can build the same application single-stage and multi-stage and compare
the two images. The context carries ``app.py``, a ``requirements.txt`` whose every pin has the
``--hash`` of its wheel (pip's hash-checking mode), and those wheels in ``wheels/``: the builds
need no network (build them with ``network="none"``).

:func:`bars` draws one line per value, so a notebook shows a chart without a plotting library.

:func:`static_busybox` fetches Debian bookworm's static busybox (package ``busybox-static``) for
any CPU architecture, so a multi-platform ``FROM scratch`` image can hold a real program for each
platform; :func:`engine_arch` and :func:`foreign_arch` say which of them this engine can run.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from portside import engine
from portside.base import debian
from portside.base.paths import state_dir
from portside.errors import SetupError, UsageError
from portside.lessons import sample_app
from portside.tools.verify import sha256_file

__all__ = ["app_context", "bars", "engine_arch", "foreign_arch", "static_busybox", "wheels_for"]

_MTIME = 1_700_000_000  # fixed file times: only the bytes decide a COPY layer


def wheels_for(requirements: Path) -> list[Path]:
    """The cached wheel of each pin of ``requirements`` (downloads missing ones first, once)."""
    folder = sample_app.ensure_wheels(requirements)
    index: dict[tuple[str, str], Path] = {}
    for wheel in folder.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        index[(str(name), str(version))] = wheel
    found = []
    for pin in sample_app.pins(requirements):
        match = index.get((str(canonicalize_name(pin.name)), pin.version))
        if match is None:
            raise SetupError(f"The wheel for {pin} is not in {folder}.",
                             hint="Run `portside setup` (or portside.sample_app.ensure_wheels()) once while online.")
        found.append(match)
    return found


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), _MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def app_context(dockerfile: str, variant: sample_app.Variant = "fixed") -> bytes:
    """A build context (tar bytes): ``dockerfile``, pyapp's ``app.py``, hash-pinned requirements and their wheels."""
    if "FROM" not in dockerfile.upper():
        raise UsageError("That Dockerfile has no FROM line.", hint="Start it with FROM python:3.11-slim-bookworm.")
    requirements = sample_app.requirements_file(variant)
    wheels = wheels_for(requirements)
    pins = sample_app.pins(requirements)
    lines = [f"{pin} --hash=sha256:{sha256_file(wheel)}" for pin, wheel in zip(pins, wheels, strict=True)]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, "Dockerfile", dockerfile.encode())
        _add(tar, "app.py", (sample_app.app_dir() / "app.py").read_bytes())
        _add(tar, "requirements.txt", ("\n".join(lines) + "\n").encode())
        for wheel in sorted(wheels):
            _add(tar, f"wheels/{wheel.name}", wheel.read_bytes())
    return buffer.getvalue()


def bars(values: Mapping[str, float], *, unit: str = "", width: int = 40, digits: int = 1) -> str:
    """A horizontal text bar chart: one line per value, the longest bar ``width`` characters."""
    if not values:
        raise UsageError("Nothing to chart.", hint="Pass at least one label and value.")
    if any(v < 0 for v in values.values()):
        raise UsageError("A bar chart of sizes or times takes no negative value.", hint="Check the values passed.")
    longest = max(values.values()) or 1.0
    label_width = max(len(label) for label in values)
    lines = []
    for label, value in values.items():
        length = round(width * value / longest)
        bar = "█" * length if length or not value else "▏"
        lines.append(f"{label:<{label_width}}  {bar} {value:.{digits}f}{' ' + unit if unit else ''}")
    return "\n".join(lines)


#: the kernel's name for a CPU (``uname -m``, the engine's ``Architecture``) → the OCI/Debian name
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def engine_arch() -> str:
    """The CPU architecture of the engine's machine by its OCI name (``amd64``, ``arm64``)."""
    machine = str(engine.client().info().get("Architecture", ""))
    if machine not in _ARCHITECTURES:
        raise SetupError(f"The engine runs on a {machine or 'unknown'} CPU; lesson 06 knows amd64 and arm64 only.")
    return _ARCHITECTURES[machine]


def foreign_arch() -> str:
    """The other one of ``amd64`` and ``arm64``: a platform whose programs this engine's CPU cannot run."""
    return "arm64" if engine_arch() == "amd64" else "amd64"


def static_busybox(arch: str) -> Path:
    """Debian bookworm's statically linked busybox for ``arch`` (``amd64``, ``arm64``…): the path of the binary.

    The package comes from Debian's archive through the course's private apt state (signed index, checked
    hashes) and is kept in the course state folder, so only the first call downloads anything.
    """
    folder = state_dir("busybox-static", arch)
    binary = folder / "bin" / "busybox"
    if not binary.is_file():
        deb = debian.download(["busybox-static"], suite="bookworm", dest=state_dir("debs", f"bookworm-{arch}"),
                              arch=arch)[0]
        debian.extract(deb, folder)
    if not binary.is_file():
        raise SetupError(f"Debian's busybox-static for {arch} holds no bin/busybox (unpacked in {folder}).")
    return binary

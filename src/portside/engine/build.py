"""Build images the way learners do: BuildKit through ``docker buildx build`` (python-on-whales drives the CLI).

docker-py's ``images.build`` only ever reaches the engine's legacy builder, which Docker replaced with
BuildKit in Engine 23.0: no ``RUN --mount=type=secret|cache``, no multi-platform images, no attestations.
So every course build goes through the docker CLI and its buildx plugin, exactly as ``docker build`` does
on a learner's machine; python-on-whales is a typed wrapper of that CLI.

A build takes a context folder, or an in-memory tar of one (unpacked into a temporary folder), and
returns the local image with BuildKit's log (``--progress=plain``).
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from portside.base.paths import docker_config_dir, isolate_docker_config
from portside.engine import provided
from portside.engine.daemon import client
from portside.errors import ToolMissing, build_error

__all__ = ["BuildResult", "CacheImport", "build", "buildx", "log_cache_imports", "log_steps"]

#: BuildKit's plain log: ``#7 [2/3] RUN pip install …`` opens a step, ``#7 DONE 1.2s`` / ``#7 CACHED`` ends it
_STEP = re.compile(r"^#(?P<n>\d+) \[(?P<stage>[^\]]+)\] (?P<text>.+)$")
_CACHED = re.compile(r"^#(?P<n>\d+) CACHED$")
#: ``--cache-from``: ``#3 importing cache manifest from REF``, then ``#3 DONE 0.1s`` or ``#3 ERROR: …``
_IMPORT = re.compile(r"^#(?P<n>\d+) importing cache manifest from (?P<ref>\S+)$")
_ERROR = re.compile(r"^#(?P<n>\d+) ERROR: (?P<message>.+)$")


@dataclass(frozen=True)
class CacheImport:
    """A cache BuildKit was told to import (``--cache-from``), and its error if the import failed.

    A failed import does not fail the build: BuildKit builds on without that cache.
    """

    ref: str
    error: str | None = None


@dataclass(frozen=True)
class BuildResult:
    """A finished build: the local image (docker-py ``Image``), its tag and BuildKit's log lines."""

    tag: str
    image: Any
    log: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.image.id)

    def steps(self) -> list[tuple[str, str, bool]]:
        """Each Dockerfile step BuildKit ran, as ``(stage, instruction, came from cache)``, in log order."""
        return log_steps(self.log)

    def cache_imports(self) -> list[CacheImport]:
        """The caches the build imported (``--cache-from``), each with BuildKit's error if it could not."""
        return log_cache_imports(self.log)


def log_steps(lines: Sequence[str]) -> list[tuple[str, str, bool]]:
    """The steps of a ``--progress=plain`` log (see :meth:`BuildResult.steps`)."""
    opened: dict[str, tuple[str, str]] = {}
    cached: set[str] = set()
    for line in lines:
        step = _STEP.match(line.strip())
        if step and step["n"] not in opened and not step["stage"].startswith("internal"):
            opened[step["n"]] = (step["stage"], step["text"])
        hit = _CACHED.match(line.strip())
        if hit:
            cached.add(hit["n"])
    return [(stage, text, n in cached) for n, (stage, text) in opened.items()]


def log_cache_imports(lines: Sequence[str]) -> list[CacheImport]:
    """The cache imports of a ``--progress=plain`` log (see :meth:`BuildResult.cache_imports`)."""
    refs: dict[str, str] = {}
    errors: dict[str, str] = {}
    for line in lines:
        found = _IMPORT.match(line.strip())
        if found:
            refs.setdefault(found["n"], found["ref"])
        failed = _ERROR.match(line.strip())
        if failed:
            errors.setdefault(failed["n"], failed["message"])
    return [CacheImport(ref, errors.get(n)) for n, ref in refs.items()]


def buildx() -> Any:
    """A python-on-whales ``DockerClient`` on the course's engine, CLI and client configuration."""
    try:
        from python_on_whales import DockerClient
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ToolMissing("python-on-whales is not installed.", hint="Run `make setup`.") from exc
    isolate_docker_config()
    client()  # picks the engine and sets DOCKER_HOST for the CLI
    if provided.link_buildx() is None:
        raise ToolMissing("The docker CLI's buildx plugin was not found, so the course cannot build with BuildKit.",
                          hint="Install Docker's buildx plugin (Debian: `apt-get install docker-buildx`; Docker "
                               "Desktop has it), or run `make setup` as root to get the course's own engine.")
    return DockerClient(client_call=[provided.docker_cli()], host=os.environ.get("DOCKER_HOST"),
                        config=str(docker_config_dir()))


@contextmanager
def _context_folder(context: Path | IO[bytes] | bytes) -> Iterator[Path]:
    if isinstance(context, Path):
        yield context
        return
    data = context if isinstance(context, bytes) else context.read()
    with tempfile.TemporaryDirectory(prefix="portside-build-") as folder, \
            tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="tar")
        yield Path(folder)


def build(context: Path | IO[bytes] | bytes, *, tag: str, dockerfile: str = "Dockerfile",
          build_args: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
          target: str | None = None, secrets: Sequence[str] = (), provenance: bool = False,
          cache_from: str | None = None, cache_to: str | None = None, platforms: Sequence[str] | None = None,
          no_cache: bool = False, network: str | None = None,
          on_line: Callable[[str], object] | None = None) -> BuildResult:
    """``docker buildx build --load -t TAG CONTEXT``: build with BuildKit into the local engine.

    ``secrets`` are buildx ``--secret`` specs (``id=token,src=/path``). ``provenance`` is off by default,
    so the local image is the single-platform image a learner expects (BuildKit adds a provenance
    attestation to pushed images otherwise). ``network="none"``: the ``RUN`` steps get no network at all.
    Raises ``BuildError`` with the failing step's output.
    """
    from python_on_whales.exceptions import DockerException

    whales = buildx()
    lines: list[str] = []
    with _context_folder(context) as folder:
        try:
            stream = whales.buildx.build(
                folder, tags=[tag], file=folder / dockerfile, build_args=dict(build_args or {}),
                labels=dict(labels or {}), target=target, secrets=list(secrets), load=True,
                provenance=provenance, cache=not no_cache, cache_from=cache_from, cache_to=cache_to,
                platforms=list(platforms) if platforms else None, network=network, progress="plain",
                stream_logs=True,
            )
            for line in stream:
                text = line.rstrip("\n")
                lines.append(text)
                if on_line is not None:
                    on_line(text)
        except DockerException as exc:
            raise build_error(tag, exc, lines) from None
    return BuildResult(tag=tag, image=client().images.get(tag), log=lines)


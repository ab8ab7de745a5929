"""How long `portside tools ensure` takes cold and warm, and how long one call of each tool takes.

    python benchmarks/tools_ensure.py            # cold + warm ensure, then tool calls
    python benchmarks/tools_ensure.py --no-calls # only ensure

Cold means a fresh, empty PORTSIDE_HOME (a temp folder, deleted at the end): every
tool not on PATH is downloaded and unpacked (pip's own cache may make the wheels
quick). The call timings use a throwaway registry:2 container on 127.0.0.1, removed
at the end along with the image tags pushed to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import docker.errors
import requests

from portside import tools
from portside.base.labels import course_labels
from portside.engine import transfer
from portside.engine.daemon import client
from portside.tools import cosign, syft, trivy

T = TypeVar("T")
Row = tuple[str, float, str]


def timed(rows: list[Row], what: str, action: Callable[[], T], note: Callable[[T], str] = lambda _: "") -> T:
    start = time.perf_counter()
    value = action()
    rows.append((what, time.perf_counter() - start, note(value)))
    return value


def summary(statuses: list[tools.ToolStatus]) -> str:
    return ", ".join(f"{s.name} {s.version or '-'} ({s.source})" for s in statuses)


def tool_calls(rows: list[Row], work: Path) -> None:
    engine = client()
    image = "registry:2"
    timed(rows, "cosign version", cosign.version, str)
    timed(rows, "syft version", syft.version, str)
    timed(rows, "trivy version", trivy.version, str)
    pair = timed(rows, "cosign generate-key-pair", lambda: cosign.generate_key_pair(work / "keys", "pw"))
    timed(rows, f"syft sbom docker:{image}", lambda: syft.sbom(f"docker:{image}"),
          lambda d: f"{len(d.get('components', []))} components")
    (work / "df").mkdir()
    (work / "df" / "Dockerfile").write_text("FROM debian:latest\n")
    timed(rows, "trivy config (1 Dockerfile)", lambda: trivy.config(work / "df"),
          lambda r: f"{len(trivy.misconfigurations(r))} failures")
    timed(rows, f"trivy secrets {image}", lambda: trivy.scan_secrets(image),
          lambda r: f"{len(trivy.secrets(r))} secrets")
    container = engine.containers.run(image, detach=True, ports={"5000/tcp": ("127.0.0.1", None)},
                                      labels=course_labels("benchmark-registry"))
    repository = ""
    try:
        container.reload()
        port = container.ports["5000/tcp"][0]["HostPort"]
        for _ in range(150):
            try:
                if requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        repository = f"localhost:{port}/bench/image"
        engine.images.get(image).tag(repository, "1")
        ref = f"{repository}@{transfer.push(f'{repository}:1', progress=False).digest}"  # aux or status line
        timed(rows, "cosign sign (by digest)", lambda: cosign.sign(ref, pair.private, "pw"))
        timed(rows, "cosign verify", lambda: cosign.verify(ref, pair.public), lambda p: f"{len(p)} signature(s)")
        timed(rows, "syft sbom registry:…", lambda: syft.sbom(f"registry:{ref}"),
              lambda d: f"{len(d.get('components', []))} components")
    finally:
        container.remove(force=True, v=True)
        if repository:  # the tag, and the repo digest the push recorded (gone with the tag on some engines)
            digests = [d for d in engine.images.get(image).attrs["RepoDigests"] if d.startswith(repository)]
            for name in [f"{repository}:1", *digests]:
                try:
                    engine.images.remove(name)
                except docker.errors.ImageNotFound:
                    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-calls", action="store_true", help="only time ensure()")
    args = parser.parse_args()
    rows: list[Row] = []
    home = Path(tempfile.mkdtemp(prefix="portside-bench-"))
    old = os.environ.get("PORTSIDE_HOME")
    os.environ["PORTSIDE_HOME"] = str(home)
    try:
        quiet: Callable[[str], object] = lambda _: None  # noqa: E731
        timed(rows, "ensure (cold, empty PORTSIDE_HOME)", lambda: tools.ensure(say=quiet), summary)
        timed(rows, "ensure (warm)", lambda: tools.ensure(say=quiet), summary)
        timed(rows, "status (warm)", tools.status, summary)
        if not args.no_calls:
            work = home / "work"
            work.mkdir()
            tool_calls(rows, work)
    finally:
        if old is None:
            os.environ.pop("PORTSIDE_HOME", None)
        else:
            os.environ["PORTSIDE_HOME"] = old
        shutil.rmtree(home, ignore_errors=True)
    width = max(len(what) for what, _, _ in rows)
    print(f"{'step'.ljust(width)}  {'seconds':>8}  result")
    for what, seconds, note in rows:
        print(f"{what.ljust(width)}  {seconds:8.2f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

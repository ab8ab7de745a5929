"""The two engines side by side: the course's own Engine 28 (containerd store) and the system's Engine 20.10.

Run: ``python benchmarks/engines.py [--runs N]``. For each engine that answers (``/run/portside/docker.sock``,
``/var/run/docker.sock``): a BuildKit build of a two-step image without cache, the same image's push into
a fresh ``registry:2`` and its pull back after removing it locally (median of N runs). With ``--restart``, the
course's engine is also stopped and started again and the time until its API answers is reported (it stops
every container on it: not while tests run).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ENGINES = {"course (28.x, containerd)": "unix:///run/portside/docker.sock",
           "system (20.10, classic)": "unix:///var/run/docker.sock"}


def _on(host: str) -> None:
    os.environ["DOCKER_HOST"] = host
    from portside.engine import daemon

    daemon.client.cache_clear()


def measure(runs: int) -> list[tuple[str, str, float, float, float]]:
    from portside.base.labels import course_labels
    from portside.engine import build, daemon, transfer
    from portside.errors import EngineUnavailable
    from portside.registry.container import Registry

    rows = []
    for name, host in ENGINES.items():
        _on(host)
        try:
            found = daemon.info()
        except EngineUnavailable:
            print(f"{name}: not running, skipped", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as folder, Registry() as registry:
            context = Path(folder)
            (context / "Dockerfile").write_text(
                "FROM busybox:1.35\nCOPY payload.bin /payload.bin\nRUN wc -c /payload.bin\n")
            tag = registry.ref("bench/engines", "1")
            built, pushed, pulled = [], [], []
            for run in range(runs):  # a new payload each run: nothing cached, every layer uploaded
                (context / "payload.bin").write_bytes(secrets.token_bytes(8 * 1024 * 1024))
                began = time.monotonic()
                build.build(context, tag=f"{tag}{run}", no_cache=True, labels=course_labels("bench"))
                built.append(time.monotonic() - began)
                began = time.monotonic()
                transfer.push(f"{tag}{run}", progress=False)
                pushed.append(time.monotonic() - began)
                daemon.client().images.remove(f"{tag}{run}", force=True)
                began = time.monotonic()
                transfer.pull(f"{tag}{run}", progress=False)
                pulled.append(time.monotonic() - began)
                daemon.client().images.remove(f"{tag}{run}", force=True)
        rows.append((name, f"{found.server_version} / {found.image_store}", statistics.median(built),
                     statistics.median(pushed), statistics.median(pulled)))
    return rows


def restart() -> float:
    from portside.setup import engine as current

    current.stop(say=lambda _: None)
    began = time.monotonic()
    current.start(say=lambda _: None)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--restart", action="store_true")
    args = parser.parse_args()
    print(f"{'engine':<28} {'version / store':<28} {'build':>7} {'push':>7} {'pull':>7}   "
          f"(seconds, median of {args.runs}; 8 MB layer)")
    for name, version, built, pushed, pulled in measure(args.runs):
        print(f"{name:<28} {version:<28} {built:>7.2f} {pushed:>7.2f} {pulled:>7.2f}")
    if args.restart:
        print(f"course engine: stop + start until its API answers: {restart():.1f} s (root file system present)")


if __name__ == "__main__":
    main()

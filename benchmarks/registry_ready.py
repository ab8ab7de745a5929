"""How long until a course registry answers: median of 5 starts per configuration.

Run: ``python benchmarks/registry_ready.py [--runs N]``. "ready" is ``Registry.startup_seconds``
(from ``start()`` until ``GET /v2/`` answers); "setup" adds the constructor (bcrypt hashing);
"stop" is removing the container and what it made. The target is a ready time under 1.5 s warm.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from portside.registry.container import Registry

CONFIGS: dict[str, Callable[[], Registry]] = {
    "plain": lambda: Registry(),
    "htpasswd": lambda: Registry(users={"alice": "wonderland"}),
    "tls": lambda: Registry(tls=True),
    "htpasswd + tls": lambda: Registry(users={"alice": "wonderland"}, tls=True),
}


def measure(make: Callable[[], Registry], runs: int) -> tuple[list[float], list[float], list[float]]:
    ready, setup, stop = [], [], []
    for _ in range(runs):
        began = time.monotonic()
        reg = make()
        reg.start()
        setup.append(time.monotonic() - began)
        assert reg.startup_seconds is not None
        ready.append(reg.startup_seconds)
        began = time.monotonic()
        reg.stop()
        stop.append(time.monotonic() - began)
    return ready, setup, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    Registry().start().stop()  # warm up: engine connection, image layers in the page cache
    print(f"{'configuration':<16} {'ready median':>12} {'min':>6} {'max':>6} {'setup median':>13} "
          f"{'stop median':>12}   (seconds, {args.runs} runs)")
    for name, make in CONFIGS.items():
        ready, setup, stop = measure(make, args.runs)
        print(f"{name:<16} {statistics.median(ready):>12.2f} {min(ready):>6.2f} {max(ready):>6.2f} "
              f"{statistics.median(setup):>13.2f} {statistics.median(stop):>12.2f}")


if __name__ == "__main__":
    main()

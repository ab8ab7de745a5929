"""What the benchmark scripts share: time a call several times."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(what: Callable[[], object], repeat: int, before: Callable[[], object] | None = None) -> list[float]:
    """Seconds taken by each of ``repeat`` calls of ``what`` (``before`` runs untimed ahead of each)."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        began = time.perf_counter()
        what()
        times.append(time.perf_counter() - began)
    return times

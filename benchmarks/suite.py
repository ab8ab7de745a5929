"""How long the test commands take: `make test-unit`, `make test` warm, and (optionally) two suites at once.

Run: ``python benchmarks/suite.py [--full] [--twice] [--workers N]``.

* always: ``make test-unit`` (target: under 30 s; needs no engine);
* ``--full``: ``make test`` with the images, tools and wheels already present (target: under 7 min on 2 cores);
* ``--twice``: two full suites started at once on this machine, each in its own namespace, to show they
  do not collide (both must pass; the wall time is reported, not judged).

The cold figure (a newcomer's machine: no course images, no build cache, no state folder) is what
``.ci/run`` prints at its end; it is not repeated here because it removes the images.
Numbers are printed as a table and are targets to compare with, not assertions.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SUMMARY = re.compile(r"=+ (.*(?:passed|failed).*) in [\d.]+s")


def _make(target: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(["make", "-s", target, *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen[str], began: float) -> tuple[float, int, str]:
    output, _ = process.communicate()
    seconds = time.monotonic() - began
    found = _SUMMARY.findall(output)
    summary = found[-1] if found else output.strip()[-200:]
    if process.returncode:  # keep the whole output of a failed run to read
        with tempfile.NamedTemporaryFile("w", prefix="portside-suite-", suffix=".log", delete=False) as log:
            log.write(output)
        summary += f" (output: {log.name})"
    return seconds, process.returncode, summary


def run(target: str, *extra: str) -> tuple[float, int, str]:
    began = time.monotonic()
    return _finish(_make(target, *extra), began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time `make test` (warm)")
    parser.add_argument("--twice", action="store_true", help="also run two full suites at once")
    parser.add_argument("--workers", type=int, default=None, help="TEST_WORKERS for make test (default: Makefile's)")
    args = parser.parse_args()
    extra = [f"TEST_WORKERS={args.workers}"] if args.workers else []
    rows = [("make test-unit", "< 30 s", *run("test-unit"))]
    if args.full:
        rows.append(("make test (warm)", "< 7 min", *run("test", *extra)))
    if args.twice:
        began = time.monotonic()
        first, second = _make("test", *extra), _make("test", *extra)
        for name, process in (("two suites at once: first", first), ("two suites at once: second", second)):
            rows.append((name, "both pass", *_finish(process, began)))
    print(f"{'command':<30} {'target':<10} {'seconds':>8}  {'exit':>4}  result")
    for name, target, seconds, code, summary in rows:
        print(f"{name:<30} {target:<10} {seconds:>8.1f}  {code:>4}  {summary}")
    sys.exit(max(code for *_, code, _ in rows))


if __name__ == "__main__":
    main()

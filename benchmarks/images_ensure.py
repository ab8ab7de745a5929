"""How long `portside images ensure` takes cold (images removed) and warm, and how big the images are.

    python benchmarks/images_ensure.py             # cold: pull attempted first (fails at once offline)
    python benchmarks/images_ensure.py --offline   # cold without any pull attempt
    python benchmarks/images_ensure.py --warm-only # only the warm run (removes nothing)

Cold clears Portside's build folder (``.portside/build``: intermediate root file
systems), then, one image at a time in catalogue order, removes exactly that
catalogue image (nothing else) and ensures it again — so each image is missing
only while its own build runs (other sessions may be using ``registry:2``). Downloaded ``.deb`` files
(``.portside/debs``) are kept: a cold run measures building, not the network.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

import docker.errors

from portside.base.paths import state_dir
from portside.engine.daemon import client
from portside.setup import images

Row = tuple[str, float, str]


def remove(name: str) -> bool:
    """Untag one catalogue image. An image a running container still uses stays, untagged, until it stops."""
    try:
        client().images.remove(name, force=True)
        return True
    except docker.errors.ImageNotFound:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="never attempt docker pull")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold run")
    args = parser.parse_args()
    offline = True if args.offline else None
    quiet = lambda _: None  # noqa: E731
    rows: list[Row] = []
    if not args.warm_only:
        shutil.rmtree(state_dir("build"), ignore_errors=True)
        print("build folder cleared, .deb cache kept; each image is removed just before it is ensured")
        total = 0.0
        for name in images.CATALOGUE:
            existed = remove(name)
            start = time.perf_counter()
            (result,) = images.ensure([name], offline=offline, progress=False, say=quiet)
            seconds = time.perf_counter() - start
            total += seconds
            rows.append((f"cold  {name}", seconds, result.state + ("" if existed else " (was absent)")))
        rows.append(("cold  all four", total, ""))
    start = time.perf_counter()
    statuses = images.ensure(offline=offline, progress=False, say=quiet)
    rows.append(("warm  all four", time.perf_counter() - start, ", ".join(sorted({s.state for s in statuses}))))
    start = time.perf_counter()
    images.status()
    rows.append(("status", time.perf_counter() - start, ""))

    width = max(len(what) for what, _, _ in rows)
    print(f"{'step'.ljust(width)}  {'seconds':>8}  result")
    for what, seconds, note in rows:
        print(f"{what.ljust(width)}  {seconds:8.2f}  {note}")
    print()
    print(images.format_table(statuses))
    return 0


if __name__ == "__main__":
    sys.exit(main())

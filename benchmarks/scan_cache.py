"""What the SBOM cache saves: ``portside.security.scan`` cold (syft runs) and warm (a cache hit), and ``trivy image``.

    python benchmarks/scan_cache.py                   # the demo app (pyapp:vulnerable, built under a benchmark tag)
    python benchmarks/scan_cache.py --image python:3.11-slim-bookworm
    python benchmarks/scan_cache.py --rounds 10 --no-registry

Runs in a throwaway course home (the machine's tools and wheels linked in), so "cold"
really starts from an empty cache and the course's own cache is untouched:

* cold: the cache folder emptied before each round: syft runs and its document is stored;
* warm: the same scan again: the image's digest is looked up and the document read back;
* registry, warm: the image pushed to a password-protected course registry and scanned
  from there by tag (one authenticated ``HEAD`` for the digest, then a hit);
* trivy warm: ``trivy image`` with a database built offline from the same snapshot
  (``benchmarks/trivydb.py``) and its analysis cache warmed by a first scan.

The target: a warm scan within 2× of trivy's warm time.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import timed

from portside.base.paths import state_dir

TAG = "portside-bench/pyapp:scan-cache"


def line(label: str, times: list[float], extra: str = "") -> float:
    median = statistics.median(times)
    print(f"{label:<56} median {median:.3f} s, min {min(times):.3f} s (n={len(times)}){'  ' + extra if extra else ''}",
          flush=True)
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", help="scan this local image instead of building the demo app")
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds (cold: min(3, rounds))")
    parser.add_argument("--no-registry", action="store_true", help="skip the scan from a registry")
    args = parser.parse_args()

    shared = {folder: state_dir(folder) for folder in ("tools", "wheels")}  # before the home moves
    home = Path(tempfile.mkdtemp(prefix="portside-bench-scan-cache-"))
    for folder, real in shared.items():
        os.symlink(real, home / folder)
    os.environ["PORTSIDE_HOME"] = str(home)

    from portside.engine import transfer
    from portside.lessons import sample_app
    from portside.registry.container import Registry, docker_login
    from portside.security import trivydb
    from portside.security.advisories import load, load_raw
    from portside.security.scan import cache, scan

    image = args.image or TAG
    try:
        if not args.image:
            began = time.monotonic()
            sample_app.build("vulnerable", TAG)
            print(f"build pyapp:vulnerable as {TAG}: {time.monotonic() - began:.1f} s", flush=True)
        load()  # the advisory snapshot is read once per process; keep it out of the scan times

        def empty() -> None:
            for entry in cache.cache_dir().iterdir():
                entry.unlink()

        summary = scan(image).summary()
        cold = line(f"portside.scan {image}, cold", timed(lambda: scan(image), min(3, args.rounds), empty))
        warm = line(f"portside.scan {image}, warm", timed(lambda: scan(image), args.rounds))
        assert scan(image).summary() == summary == scan(image, cache=False).summary()
        print(f"  same result warm and with cache=False: {summary}", flush=True)

        if not args.no_registry:
            password = secrets.token_urlsafe(16)
            with Registry(users={"bench": password}) as registry:
                docker_login(registry.address, "bench", password)
                ref = registry.ref("bench/app", "1")
                transfer.tag(image, ref)
                transfer.push(ref, progress=False)
                env = registry.tool_env()
                scan(ref, from_registry=True, env=env)
                line("portside.scan from the registry (tag), warm",
                     timed(lambda: scan(ref, from_registry=True, env=env), args.rounds))

        with tempfile.TemporaryDirectory(prefix="portside-bench-trivy-") as folder:
            built = trivydb.build_records(Path(folder), load_raw())
            found = len(trivydb.found(trivydb.scan(image, cache_dir=built.cache_dir)))  # warms its cache
            trivy = line(f"trivy image {image}, warm", timed(lambda: trivydb.scan(image, cache_dir=built.cache_dir),
                                                             args.rounds), f"{found} findings")
        print(f"warm scan / trivy warm: {warm / trivy:.2f}× (target ≤ 2×); cold / warm: {cold / warm:.0f}×")
    finally:
        if not args.image:
            sample_app.remove(TAG)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

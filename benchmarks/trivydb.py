"""How long building Trivy's database takes (the snapshot and a synthetic 10k-advisory OSV set), and scanning with it.

    python benchmarks/trivydb.py                 # everything (builds pyapp:vulnerable under a benchmark tag)
    python benchmarks/trivydb.py --no-scan       # only the database builds
    python benchmarks/trivydb.py --advisories 20000

The synthetic set is generated in memory, shaped like real data: PyPI records
(GHSA and PYSEC ids, one to three ranges, some with explicit version lists) over
2,000 packages and Debian 12 records (fixed and unfixed) over 500 source packages.
Its database is also read back in full (pure-Python reader: structure check) and
used by the real Trivy, so a large file is proven valid, not just written.
Scans: ``trivy image`` of pyapp:vulnerable with a fresh cache (image analysed) and
again with the warm cache (only the database lookups).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from _timing import timed

from portside.lessons import sample_app
from portside.security import bbolt, trivydb
from portside.security.advisories import load_raw

TAG = "portside-bench/pyapp:vulnerable"


def synthetic(count: int, seed: int = 56) -> list[dict[str, Any]]:
    """``count`` OSV records: 80 % PyPI, 20 % Debian:12, deterministic for a seed."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(count):
        if i % 5:
            package = f"package-{rng.randrange(2000)}"
            ranges = []
            major = 0
            for _ in range(rng.randint(1, 3)):
                start, end = major + rng.randint(0, 2), major + rng.randint(3, 5)
                major = end
                ranges.append({"type": "ECOSYSTEM", "events": [{"introduced": f"{start}.0"},
                                                               {"fixed": f"{end}.{rng.randint(0, 9)}"}]})
            affected: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": package}, "ranges": ranges}
            if rng.random() < 0.3:
                affected["versions"] = [f"{v}.{p}" for v in range(major) for p in range(3)]
            prefix = "GHSA" if i % 2 else "PYSEC"
            record_id = f"{prefix}-synt-{i:05d}"
        else:
            package = f"source-{rng.randrange(500)}"
            events: list[dict[str, str]] = [{"introduced": "0"}]
            if rng.random() < 0.7:
                events.append({"fixed": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}+deb12u1"})
            affected = {"package": {"ecosystem": "Debian:12", "name": package},
                        "ranges": [{"type": "ECOSYSTEM", "events": events}]}
            record_id = f"DEBIAN-CVE-2099-{i:05d}"
        records.append({
            "id": record_id, "modified": "2026-01-01T00:00:00Z", "aliases": [f"CVE-2099-{i:05d}"],
            "summary": f"synthetic advisory {i}", "details": "A made-up flaw for a benchmark. " * rng.randint(1, 8),
            "affected": [affected],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "database_specific": {"severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"])},
            "references": [{"type": "WEB", "url": f"https://example.invalid/{i}"}],
        })
    return records


def line(label: str, times: list[float], extra: str = "") -> None:
    shown = f"median {statistics.median(times):.3f} s, min {min(times):.3f} s (n={len(times)})"
    print(f"{label:<48} {shown}{'  ' + extra if extra else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--advisories", type=int, default=10_000, help="size of the synthetic set")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-scan", action="store_true", help="skip the trivy image scans")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portside-bench-trivydb-") as tmp:
        root = Path(tmp)
        snapshot = load_raw()
        snap = trivydb.build_records(root / "snapshot", snapshot)
        times = timed(lambda: trivydb.build_records(root / "snapshot", load_raw()), args.repeat)
        line(f"build: snapshot ({len(snapshot)} records, load included)", times,
             f"{snap.pages.size / 1024:.0f} KiB")

        records = synthetic(args.advisories)
        big = trivydb.build_records(root / "synthetic", records)
        times = timed(lambda: trivydb.build_records(root / "synthetic", records), args.repeat)
        line(f"build: synthetic ({len(records)} records)", times,
             f"{big.pages.size / 2**20:.1f} MiB, {big.pages.pages} pages, {big.pages.branch_pages} branch, "
             f"{big.layout.entries} entries")
        line("read back: synthetic (pure-Python reader)", timed(lambda: bbolt.read(big.db_dir / "trivy.db"), 1))
        line("pack: synthetic db.tar.gz (publish's layer)", timed(lambda: trivydb.archive(big.db_dir), 1),
             f"{len(trivydb.archive(big.db_dir)) / 2**20:.1f} MiB")

        if not args.no_scan:
            sample_app.build("vulnerable", TAG)
            try:
                for label, built, source in (("snapshot", snap, snapshot), ("synthetic", big, records)):
                    cold = []
                    for n in range(args.repeat):
                        fresh = trivydb.build_records(root / f"scan-{label}-{n}", source)
                        cold += timed(partial(trivydb.scan, TAG, cache_dir=fresh.cache_dir), 1)
                    line(f"trivy image pyapp:vulnerable, {label} db, cold cache", cold)
                    found = len(trivydb.found(trivydb.scan(TAG, cache_dir=built.cache_dir)))  # warms the cache
                    warm = timed(partial(trivydb.scan, TAG, cache_dir=built.cache_dir), args.repeat)
                    line(f"trivy image pyapp:vulnerable, {label} db, warm cache", warm, f"{found} findings")
            finally:
                sample_app.remove(TAG)
    return 0


if __name__ == "__main__":
    sys.exit(main())

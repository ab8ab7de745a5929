"""How long a vulnerability scan of the demo app takes, step by step (warm: images and wheels present).

    python benchmarks/scan.py            # 5 rounds on pyapp:vulnerable and pyapp:fixed
    python benchmarks/scan.py --rounds 3

Steps: loading the advisory snapshot, syft's inventory (the bulk of the time), matching,
and the gate. Builds the two app images under benchmark tags and removes them afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time

from portside.lessons import sample_app
from portside.security.advisories import load
from portside.security.scan import ScanReport, gate, inventory, match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tags = {variant: f"portside-bench/pyapp:{variant}" for variant in ("vulnerable", "fixed")}
    try:
        for variant, tag in tags.items():
            started = time.monotonic()
            sample_app.build(variant, tag)  # type: ignore[arg-type]
            print(f"build {variant}: {time.monotonic() - started:.1f} s")
        for variant, tag in tags.items():
            times: dict[str, list[float]] = {"load": [], "inventory": [], "match": [], "gate": []}
            verdict = ""
            for _ in range(args.rounds):
                t0 = time.monotonic()
                records = load()
                t1 = time.monotonic()
                found = inventory(tag)
                t2 = time.monotonic()
                findings = match(found, records)
                t3 = time.monotonic()
                result = gate(ScanReport(image=tag, inventory=found, findings=findings,
                                         advisories_source="course snapshot", advisories_count=len(records),
                                         seconds=t3 - t0))
                t4 = time.monotonic()
                for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    times[key].append(value)
                verdict = "passed" if result.passed else f"blocked ({len(result.blocking)} blocking)"
            medians = {key: statistics.median(values) for key, values in times.items()}
            total = sum(medians.values())
            steps = "  ".join(f"{key} {value:.3f} s" for key, value in medians.items())
            print(f"scan {variant}: median {total:.2f} s over {args.rounds} rounds — {steps} — gate {verdict}")
    finally:
        for tag in tags.values():
            sample_app.remove(tag)


if __name__ == "__main__":
    main()

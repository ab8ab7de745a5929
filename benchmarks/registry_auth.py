"""What one authenticated request to a course registry costs, at bcrypt cost 10 and at the course's cost.

    python benchmarks/registry_auth.py              # 30 requests of each kind per cost
    python benchmarks/registry_auth.py --requests 100

registry:2 checks the password of every request that carries one with bcrypt, so the
hash's cost is paid per request. For each cost a fresh ``Registry(users=...)`` with a
random password is started (cost 10 by replacing its htpasswd file, the way lesson 03
does) and timed: ``GET /v2/`` with Basic auth on a kept-alive connection, the
``RegistryClient.digest`` HEAD a scan uses to find a tag's digest, an anonymous
``GET /v2/`` (the 401, no bcrypt: the floor), and one ``docker login`` + ``push`` of
busybox:1.35 (each layer and manifest request is checked again).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time

import requests
from _timing import timed

from portside.engine import transfer
from portside.registry.container import HTPASSWD_PATH, THROWAWAY_BCRYPT_ROUNDS, Registry, docker_login, htpasswd

IMAGE = "busybox:1.35"


def line(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"  {label:<44} median {median * 1000:7.1f} ms, min {min(times) * 1000:7.1f} ms (n={len(times)})",
          flush=True)
    return median


def measure(rounds: int, requests_per_kind: int) -> dict[str, float]:
    password = secrets.token_urlsafe(16)
    users = {"bench": password}
    registry = Registry(users=users)
    registry.with_copy_into_container(htpasswd(users, rounds=rounds), HTPASSWD_PATH, 0o644)  # replaces its file
    found: dict[str, float] = {}
    with registry:
        session = requests.Session()
        url = f"{registry.url}/v2/"

        def authenticated() -> None:
            assert session.get(url, auth=("bench", password), timeout=10).status_code == 200

        def anonymous() -> None:
            assert session.get(url, timeout=10).status_code == 401

        authenticated()
        found["get"] = line("GET /v2/ with Basic auth", timed(authenticated, requests_per_kind))
        line("GET /v2/ anonymous (401, no bcrypt)", timed(anonymous, requests_per_kind))
        ref = registry.ref("bench/busybox", "1")
        transfer.tag(IMAGE, ref)
        began = time.perf_counter()
        docker_login(registry.address, "bench", password)
        transfer.push(ref, progress=False)
        found["push"] = line("docker login + push busybox:1.35", [time.perf_counter() - began])
        client = registry.client("bench", password)
        client.digest("bench/busybox", "1")
        found["head"] = line("RegistryClient.digest (HEAD manifest)",
                             timed(lambda: client.digest("bench/busybox", "1"), requests_per_kind))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    results = {}
    for rounds in (10, THROWAWAY_BCRYPT_ROUNDS):
        label = "before" if rounds == 10 else "after (the course's cost)"
        print(f"bcrypt cost {rounds} — {label}", flush=True)
        results[rounds] = measure(rounds, args.requests)
    before, after = results[10], results[THROWAWAY_BCRYPT_ROUNDS]
    print("saved per authenticated request: "
          f"GET {1000 * (before['get'] - after['get']):.1f} ms, HEAD {1000 * (before['head'] - after['head']):.1f} ms;"
          f" login + push {before['push'] - after['push']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

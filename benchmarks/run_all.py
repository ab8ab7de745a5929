"""Run every benchmark in turn (warm numbers; see each script for details and options)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["registry_ready.py"],
    ["images_ensure.py", "--warm-only"],
    ["tools_ensure.py", "--no-calls"],
    ["scan.py", "--rounds", "3"],
    ["scan_cache.py"],
    ["registry_auth.py"],
    ["trivydb.py"],
    ["lessons.py"],
    ["engines.py"],
    ["workshop_load.py"],
]
#: scan.py times syft itself, step by step: with the SBOM cache on, every round after the first would be a hit
ENV = {"scan.py": {"PORTSIDE_SBOM_CACHE": "0"}}

if __name__ == "__main__":
    status = 0
    for script, *args in SCRIPTS:
        print(f"\n## {script} {' '.join(args)}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script), *args], check=False,
                                 env={**os.environ, **ENV.get(script, {})}).returncode
    sys.exit(status)

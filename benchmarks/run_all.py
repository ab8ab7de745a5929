"""Run every benchmark in turn (warm numbers; see each script for details and options)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["registry_ready.py"],
    ["images_ensure.py", "--warm-only"],
    ["tools_ensure.py", "--no-calls"],
    ["scan.py", "--rounds", "3"],
    ["trivydb.py"],
    ["lessons.py"],
]

if __name__ == "__main__":
    status = 0
    for script, *args in SCRIPTS:
        print(f"\n## {script} {' '.join(args)}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode
    sys.exit(status)

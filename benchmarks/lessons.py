"""How long each lesson and lab solution takes to execute top to bottom (warm: images and tools present).

Run: ``python benchmarks/lessons.py [NOTEBOOK ...]`` (default: every notebook in notebooks/ and
labs/solutions/). Each notebook is executed in a fresh kernel with nbclient, as nbval does; the
targets are < 15 s for lesson 00 and < 30 s for the others.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    began = time.monotonic()
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "labs" / "solutions").glob("*.ipynb"))
    print(f"{'notebook':<48} {'seconds':>8}")
    for path in paths:
        print(f"{path.relative_to(ROOT) if path.is_absolute() else path!s:<48} {execute(path.resolve()):>8.1f}")


if __name__ == "__main__":
    main()

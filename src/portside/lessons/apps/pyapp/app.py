"""pyapp: prints which versions of its libraries it runs on (the lessons scan those libraries).

It imports GitPython and httpx like a real tool that clones repositories and calls web
APIs would, but it makes no network call: it only reports what it was built with.
"""

from __future__ import annotations

import importlib.metadata as metadata

import git  # GitPython
import httpx

PACKAGES = ("GitPython", "httpx", "httpcore", "h11", "anyio", "idna", "certifi")


def main() -> None:
    print(f"pyapp: GitPython {git.__version__}, httpx {httpx.__version__}")
    for name in PACKAGES:
        print(f"  {name:<10} {metadata.version(name)}")


if __name__ == "__main__":
    main()

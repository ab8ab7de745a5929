"""registry:2's log made readable: logrus lines shortened, Go stack traces dropped."""

from __future__ import annotations

import re

__all__ = ["readable_log"]

_LOGRUS = re.compile(r'level=(\w+) msg="((?:[^"\\]|\\.)*)"')
_STACK_FRAME = re.compile(r"^(goroutine \d+|[\w./*-]+\(.*\)$|\s)")


def readable_log(text: str) -> list[str]:
    """registry:2 log lines made short: ``level: message`` for logrus lines, Go stack frames dropped."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or _STACK_FRAME.match(line):
            continue
        found = _LOGRUS.search(line)
        lines.append(f"{found.group(1)}: {found.group(2)}" if found else line.strip())
    return lines

"""Every lab of the course, by slug.

A lab lives in its own module ``portside/labs/labNN_name.py`` that defines ``LAB``;
the catalog finds those modules itself, so adding a lab needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from typing import Any

from portside.errors import LabError
from portside.labs.model import Lab

__all__ = ["all_labs", "get", "lab_of", "slugs"]

_MODULE = re.compile(r"^lab\d\d_\w+$")


@cache
def _labs() -> dict[str, Lab]:
    found: dict[str, Lab] = {}
    for info in sorted(pkgutil.iter_modules(_package_path()), key=lambda i: i.name):
        if not _MODULE.match(info.name):
            continue
        lab = getattr(importlib.import_module(f"{__package__}.{info.name}"), "LAB", None)
        if not isinstance(lab, Lab):
            raise TypeError(f"{__package__}.{info.name} must define LAB = Lab(...)")
        if lab.slug in found:
            raise ValueError(f"two labs are called {lab.slug}")
        found[lab.slug] = lab
    return dict(sorted(found.items()))


def _package_path() -> list[str]:
    from portside.labs import __path__ as path

    return list(path)


def all_labs() -> list[Lab]:
    """Every lab, in course order."""
    return list(_labs().values())


def slugs() -> list[str]:
    return list(_labs())


def get(slug: str) -> Lab:
    """The lab called ``slug``; a clear error listing the labs if there is none."""
    try:
        return _labs()[slug]
    except KeyError:
        raise LabError(f"There is no lab called {slug!r}.",
                       hint=f"The labs are: {', '.join(slugs()) or '(none yet)'}.") from None


def lab_of(obj: Any, slug: str) -> Lab:
    """The :class:`Lab` behind ``obj``: a session, a context, a lab or a slug (learner helpers accept any of them).

    ``slug`` only shapes the error message: the lab whose helper was called.
    """
    if isinstance(obj, Lab):
        return obj
    if isinstance(obj, str):
        return get(obj)
    found = getattr(obj, "lab", None)
    if isinstance(found, Lab):
        return found
    raise LabError(f"{obj!r} is not a lab.",
                   hint=f'Pass the lab you started: lab = portside.labs.start("{slug}").')

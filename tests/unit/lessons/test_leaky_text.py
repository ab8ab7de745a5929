"""portside.lessons.leaky without Docker: the made-up credentials and the demo's Dockerfiles by name.

The builds and trivy's findings on them are in ``tests/integration/lessons/test_leaky.py``.
"""

from __future__ import annotations

import pytest

from portside.errors import PortsideError
from portside.lessons import leaky


def test_fake_credentials_have_the_shape_scanners_know() -> None:
    one, two = leaky.fake_credentials(), leaky.fake_credentials()
    assert one != two
    lines = one.splitlines()
    assert lines[0] == "[default]" and lines[1].startswith("aws_access_key_id = AKIA") and len(lines[1]) == 40
    assert len(lines[2].split(" = ")[1]) == 40


def test_unknown_variant() -> None:
    with pytest.raises(PortsideError, match="no leaky-demo variant"):
        leaky.dockerfile("nope")  # type: ignore[arg-type]

"""Retagging through the API refuses invalid tags before it asks any registry.

The retag itself, on a real registry, is in ``tests/integration/lessons/test_tagging.py``.
"""

from __future__ import annotations

import pytest

from portside.errors import PortsideError
from portside.lessons.tagging import retag
from portside.oci.registry_client import RegistryClient

#: nothing listens there: the tags are refused before any request
NOWHERE = "http://127.0.0.1:9"


def test_retag_refuses_invalid_tags() -> None:
    with pytest.raises(PortsideError, match="Not valid tags: '-bad', 'a b'"):
        retag(RegistryClient(NOWHERE), "api/app", "1.0.0", "-bad", "a b")

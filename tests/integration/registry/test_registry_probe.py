"""portside.registry.probe against real registries: the protocol one answers, the configuration file it reads."""

from __future__ import annotations

import re

import pytest

from portside.errors import RegistryError
from portside.registry.container import CONFIG_PATH, Registry
from portside.registry.ports import free_port
from portside.registry.probe import config_in_container, protocol


def test_protocol_tells_https_from_plain_http() -> None:
    with Registry() as plain, Registry(tls=True) as secure:
        assert protocol(plain.address) == "http"
        assert protocol(secure.address) == "https"


def test_protocol_of_a_closed_port_is_none_after_waiting() -> None:
    assert protocol(f"localhost:{free_port()}", wait=0.3) is None


def test_config_in_container_is_the_file_registry_2_reads() -> None:
    """The image's own file, then the one copied over it before the start."""
    own = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n"
    with Registry() as default:
        text = config_in_container(default.get_wrapped_container())
        assert text is not None and "rootdirectory: /var/lib/registry" in text
    mine = Registry()
    mine.with_copy_into_container(own.encode(), CONFIG_PATH, 0o644)
    with mine:
        assert config_in_container(mine.get_wrapped_container()) == own


def test_config_in_container_without_the_file() -> None:
    with Registry() as registry:
        container = registry.get_wrapped_container()
        removed = container.exec_run(["busybox", "rm", CONFIG_PATH])
        assert removed.exit_code == 0
        assert config_in_container(container) is None
        container.stop(timeout=1)
        with pytest.raises(RegistryError, match=re.escape(f"Reading {CONFIG_PATH}")):
            config_in_container(container)

"""The Pipeline object without an engine: where it releases to, and that an edited pipeline.toml counts at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import UsageError
from portside.oci.endpoint import Endpoint
from portside.pipeline import Pipeline

CONFIG = """\
[release]
repository = "team/app"
version = "1.1.0"

[scan]
fail_on = "none"

[sign]
key = "cosign.key"
public_key = "cosign.pub"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    path = tmp_path / "pipeline.toml"
    path.write_text(CONFIG)
    return path


def test_where_it_releases(config: Path) -> None:
    with pytest.raises(UsageError, match="no registry to release to"):
        Pipeline(config)
    by_address = Pipeline(config, registry="localhost:5999")
    assert (by_address.endpoint, by_address.config.registry) == (Endpoint("localhost", 5999), "localhost:5999")
    endpoint = Endpoint("localhost", 6000, username="ci", password="secret")
    assert Pipeline(config, registry=endpoint).endpoint is endpoint
    assert repr(by_address) == "Pipeline(team/app:1.1.0 → localhost:5999)"
    with pytest.raises(UsageError, match="There is no pipeline step 'publish'"):
        by_address.step("publish")


def test_an_edit_counts_at_once(config: Path) -> None:
    release = Pipeline(config, registry="localhost:5999")
    assert release.config.scan.fail_on is None
    config.write_text(CONFIG.replace('fail_on = "none"', 'fail_on = "critical"'))
    assert release.reload().scan.fail_on_name == "critical" and release.config.registry == "localhost:5999"
    config.write_text(CONFIG.replace('version = "1.1.0"', 'version = "next"'))
    with pytest.raises(UsageError, match="'next' is not a semantic version"):
        release.step("tag")

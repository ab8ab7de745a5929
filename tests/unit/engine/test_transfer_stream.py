"""portside.engine.transfer without an engine: one pull under both its forms, and error lines read like API errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker.errors
import pytest

from portside import engine
from portside.engine import transfer
from portside.errors import EngineError, RegistryUnreachable
from portside.oci.reference import parse


class FakeAPI:
    """Just enough of docker-py's ``APIClient`` for a pull: records the call, streams ``messages``."""

    def __init__(self, messages: list[dict[str, Any]], tag_ok: bool = True) -> None:
        self.messages = messages
        self.pulls: list[tuple[str, str, Any]] = []
        self.tagged: list[tuple[str, str, str]] = []
        self.configs: list[str] = []
        self.tag_ok = tag_ok

    def reload_config(self, path: str) -> None:
        self.configs.append(path)

    def pull(self, repository: str, *, tag: str, stream: bool, decode: bool, auth_config: Any) -> Iterator[Any]:
        self.pulls.append((repository, tag, auth_config))
        return iter(self.messages)

    def tag(self, source: str, repository: str, *, tag: str) -> bool:
        self.tagged.append((source, repository, tag))
        return self.tag_ok


class FakeImages:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, name: str) -> str:
        self.asked.append(name)
        return f"image {name}"


class FakeClient:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api
        self.images = FakeImages()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClient]:
    cli = FakeClient(FakeAPI([{"status": "Pulling from library/busybox", "id": "1.35"},
                              {"status": "Pull complete", "id": "abc"}]))
    monkeypatch.setattr(engine, "client", lambda: cli)
    yield cli


class Recorder:
    """A display that keeps what it was shown."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.entered = self.exited = False

    def __enter__(self) -> Recorder:
        self.entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited = True

    def update(self, message: dict[str, Any]) -> None:
        self.seen.append(message)


def test_pull_takes_a_parsed_reference_and_uses_the_course_config(fake: FakeClient) -> None:
    """A Reference goes in as it is; the engine is asked for DOMAIN/PATH and the tag, with the course login."""
    from portside.oci.credentials import config_file

    image = transfer.pull(parse("busybox:1.35"), progress=False)
    assert image == "image docker.io/library/busybox:1.35"
    assert fake.api.pulls == [("docker.io/library/busybox", "1.35", None)]
    assert fake.api.configs == [str(config_file())]


def test_engine_pull_shows_every_message_to_the_display(fake: FakeClient) -> None:
    shown = Recorder()
    transfer.engine_pull("busybox:1.35", display=shown)
    assert shown.entered and shown.exited and shown.seen == fake.api.messages


def test_an_error_line_is_an_api_error_below_and_a_portside_error_above(fake: FakeClient) -> None:
    """engine_pull raises docker-py's APIError with the engine's words; pull translates it."""
    fake.api.messages = [{"status": "Pulling fs layer", "id": "abc"},
                         {"error": "dial tcp: lookup nowhere.invalid: no such host",
                          "errorDetail": {"message": "dial tcp: lookup nowhere.invalid: no such host"}}]
    with pytest.raises(docker.errors.APIError) as raw:
        transfer.engine_pull("nowhere.invalid/app:1")
    assert raw.value.explanation == "dial tcp: lookup nowhere.invalid: no such host"
    with pytest.raises(RegistryUnreachable) as translated:
        transfer.pull("nowhere.invalid/app:1", progress=False)
    assert translated.value.message.startswith("Pull of nowhere.invalid/app:1 failed: nothing answered at "
                                               "nowhere.invalid (dial tcp")


def test_tag_takes_parsed_references_and_fails_by_kind(fake: FakeClient) -> None:
    transfer.tag(parse("busybox:1.35"), parse("localhost:5000/team/app:1.0"))
    assert fake.api.tagged == [("busybox:1.35", "localhost:5000/team/app", "1.0")]
    fake.api.tag_ok = False
    with pytest.raises(EngineError) as failed:
        transfer.tag("busybox:1.35", "localhost:5000/team/app")
    assert failed.value.message == "docker tag busybox:1.35 localhost:5000/team/app failed."

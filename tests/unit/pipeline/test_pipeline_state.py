"""What steps hand each other survives the process (one CI job per step), and a re-run step forgets what came after."""

from __future__ import annotations

from pathlib import Path

from portside.pipeline.state import ReleaseState


def test_recorded_read_back_and_later_steps_forgotten(tmp_path: Path) -> None:
    state = ReleaseState(tmp_path / "out")
    state.record("build", image_id="sha256:1")
    state.record("scan", passed=True)
    state.record("push", digest="sha256:2")
    again = ReleaseState(tmp_path / "out")  # another process
    assert again.get("push") == {"digest": "sha256:2"} and again.get("deploy") == {}
    again.record("build", image_id="sha256:3")  # a rebuild: the old scan and push are about another image
    assert ReleaseState(tmp_path / "out").facts == {"build": {"image_id": "sha256:3"}}


def test_a_broken_state_file_is_an_empty_state(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    assert ReleaseState(tmp_path).facts == {}

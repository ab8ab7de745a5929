"""What ``portside reset`` prints about what it removed: one line per kind, counted, nothing when nothing went."""

from __future__ import annotations

from portside.setup.reset import SETUP_KINDS, Reset


def test_an_empty_reset_says_nothing_and_is_false() -> None:
    done = Reset()
    assert not done and done.lines() == [] and done.kept_lines() == []


def test_each_kind_is_one_counted_line() -> None:
    done = Reset(containers=["b (registry)", "a (lab-run)"], volumes=["data (registry-data)"],
                 images=["myapp:latest"], local_names=["localhost:5001/x:1", "localhost:5001/x@sha256:00"],
                 logins=["localhost:5001"], certificates=2, kept=["the network n: in use"])
    assert done
    assert done.lines() == [
        "Removed 2 containers: a (lab-run), b (registry); 1 volume: data (registry-data).",
        "Removed 1 image the lessons built: myapp:latest.",
        "Removed 2 local names pointing at course registries: localhost:5001/x:1, localhost:5001/x@sha256:00.",
        "Forgot 1 saved login for course registries: localhost:5001.",
        "Removed 2 throwaway TLS certificate folders of lesson registries that are gone.",
    ]
    assert done.kept_lines() == ["Kept the network n: in use."]


def test_only_kept_things_is_not_a_removal() -> None:
    """A reset that only kept something (another namespace's registry is running) removed nothing."""
    assert not Reset(kept=["3 TLS certificate folder(s): another namespace's course registry is running"])


def test_the_course_image_is_set_ups() -> None:
    assert "course-image" in SETUP_KINDS

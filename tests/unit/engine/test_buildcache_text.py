"""portside.engine.buildcache: reading the legacy builder's output (no engine)."""

from __future__ import annotations

from portside.engine.buildcache import lost_parent, step_ids

LOG = "Step 1/3 : FROM python:3.11-slim-bookworm\n ---> 8c34a76aaf83\nStep 2/3 : RUN true\n ---> Running in 1f2e3d\n" \
      "Removing intermediate container 1f2e3d\n ---> 40708e7c4edf\n"


def test_step_ids_in_build_order() -> None:
    assert step_ids(LOG) == ["8c34a76aaf83", "40708e7c4edf"]


def test_lost_parent_is_the_race_with_a_removal_not_any_failure() -> None:
    parent = "sha256:40708e7c4edf9e9e55c7114e0e852485a3a13a6a40811003f0d38053d045e647"
    seen = f"failed to export image: failed to set parent {parent}: unknown parent image ID {parent}"
    assert lost_parent(f"Building localhost:55193/team/app:1.0 failed: {seen}")
    assert not lost_parent("Building pyapp failed: ERROR: No matching distribution found for httpx==0.22.0")

"""lessons.distribution without an engine: the text bar chart and the Dockerfile check."""

from __future__ import annotations

import pytest

from portside.errors import UsageError
from portside.lessons.distribution import app_context, bars


def test_the_longest_bar_has_the_full_width_and_the_others_scale() -> None:
    chart = bars({"single": 60.0, "multi": 30.0, "static": 0.0}, unit="MB", width=10).splitlines()
    assert chart[0] == "single  ██████████ 60.0 MB"
    assert chart[1] == "multi   █████ 30.0 MB"
    assert chart[2] == "static   0.0 MB"


def test_a_tiny_value_still_shows_a_sliver() -> None:
    assert "▏ 0.1" in bars({"big": 100.0, "tiny": 0.1}, width=10).splitlines()[1]


@pytest.mark.parametrize("values", [{}, {"a": -1.0}])
def test_no_chart_of_nothing_or_of_negative_values(values: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        bars(values)


def test_a_dockerfile_without_from_is_refused_before_any_wheel_is_read() -> None:
    with pytest.raises(UsageError, match="no FROM"):
        app_context("RUN echo hi\n")

"""lessons.ratelimit's server half, without a network: who a pull counts against, the rolling window, the headers,
the tokens, and the limits the harness accepts."""

from __future__ import annotations

import pytest

from portside.errors import UsageError
from portside.lessons import ratelimit
from portside.lessons.ratelimit import PullCounter, RateLimitedHub, Tokens, identity_of, ratelimit_headers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_ipv4_address_is_counted_by_itself() -> None:
    assert identity_of("192.0.2.7") == "192.0.2.7"
    assert identity_of("::ffff:192.0.2.7") == "192.0.2.7"  # an IPv4 client seen through an IPv6 socket


def test_ipv6_addresses_are_counted_per_64_network() -> None:
    one, other = identity_of("2001:db8:1:2::10"), identity_of("2001:db8:1:2:ffff::1")
    assert one == other == "2001:db8:1:2::/64"
    assert identity_of("2001:db8:1:3::10") != one


def test_pulls_are_counted_until_the_limit_then_refused() -> None:
    counter = PullCounter(window=60, clock=Clock())
    assert all(counter.take("192.0.2.7", 3) is not None for _ in range(3))
    assert counter.remaining("192.0.2.7", 3) == 0
    assert counter.take("192.0.2.7", 3) is None
    assert counter.report() == {"192.0.2.7": {"pulls": 3, "refused": 1}}


def test_another_identity_has_its_own_allowance() -> None:
    counter = PullCounter(window=60, clock=Clock())
    for _ in range(3):
        counter.take("192.0.2.7", 3)
    assert counter.take("ci-bot", 5) is not None
    assert counter.remaining("ci-bot", 5) == 4


def test_the_window_rolls_each_pull_leaves_it_after_window_seconds() -> None:
    clock = Clock()
    counter = PullCounter(window=60, clock=clock)
    counter.take("192.0.2.7", 2)
    clock.now += 30
    counter.take("192.0.2.7", 2)
    assert counter.take("192.0.2.7", 2) is None
    clock.now += 30  # the first pull is 60 s old now: out of the window
    assert counter.remaining("192.0.2.7", 2) == 1
    assert counter.take("192.0.2.7", 2) is not None


def test_a_request_that_was_no_pull_is_given_back() -> None:
    counter = PullCounter(window=60, clock=Clock())
    stamp = counter.take("192.0.2.7", 1)
    assert stamp is not None and counter.remaining("192.0.2.7", 1) == 0
    counter.give_back("192.0.2.7", stamp)
    assert counter.remaining("192.0.2.7", 1) == 1


def test_the_headers_are_written_the_way_docker_hub_writes_them() -> None:
    assert ratelimit_headers(100, 76, 21600, "192.0.2.1") == {
        "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600",
        "docker-ratelimit-source": "192.0.2.1"}
    assert ratelimit_headers(100, -1, 21600, "x")["ratelimit-remaining"] == "0;w=21600"


def test_the_limits_default_to_docker_hub_s_as_checked() -> None:
    assert (ratelimit.ANONYMOUS_LIMIT, ratelimit.AUTHENTICATED_LIMIT, ratelimit.WINDOW_SECONDS) == (100, 200, 21600)
    assert "pull rate limit" in ratelimit.LIMIT_MESSAGE


def test_a_token_names_its_user_and_expires() -> None:
    clock = Clock()
    tokens = Tokens(lifetime=300, clock=clock)
    anonymous, alice = tokens.issue(None), tokens.issue("alice")
    assert anonymous != alice
    assert tokens.holder(anonymous) == (True, None)
    assert tokens.holder(alice) == (True, "alice")
    assert tokens.holder("made-up") == (False, None)
    clock.now += 301
    assert tokens.holder(alice) == (False, None)


def test_passwords_are_kept_as_hashes_only() -> None:
    hub = RateLimitedHub(users={"ci-bot": "dckr_pat_example"})
    assert "dckr_pat_example" not in repr(hub._users)
    assert hub._users["ci-bot"] == ratelimit.password_hash("dckr_pat_example")


@pytest.mark.parametrize("bad", [{"anonymous": 0}, {"authenticated": -1}, {"window": 2.5}, {"anonymous": True}])
def test_a_limit_or_window_that_is_not_a_positive_whole_number_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="whole numbers of at least 1"):
        RateLimitedHub(**bad)  # type: ignore[arg-type]


def test_a_hub_that_is_not_running_says_so() -> None:
    with pytest.raises(UsageError, match="not running"):
        _ = RateLimitedHub().address

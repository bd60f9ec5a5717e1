"""Backoff arithmetic and retry_call, pure: sleep and randomness are injected, nothing sleeps."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.config import load_settings
from release.retry import (
    RetryPolicy,
    Transient,
    backoff_delay,
    is_transient_status,
    parse_retry_after,
    retry_call,
)

POLICY = RetryPolicy(attempts=5, base=0.5, max_wait=30.0)


# -- backoff_delay -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 16.0), (7, 30.0), (30, 30.0)],
)
def test_full_jitter_ceiling_doubles_then_caps(attempt: int, ceiling: float) -> None:
    assert backoff_delay(attempt, POLICY, None, lambda: 0.0) == 0.0
    assert backoff_delay(attempt, POLICY, None, lambda: 1.0) == pytest.approx(ceiling)
    assert backoff_delay(attempt, POLICY, None, lambda: 0.5) == pytest.approx(ceiling / 2)


@given(
    attempt=st.integers(min_value=1, max_value=60),
    r=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    base=st.floats(min_value=0.01, max_value=10.0),
    max_wait=st.floats(min_value=0.0, max_value=120.0),
)
def test_full_jitter_stays_within_zero_and_the_cap(
    attempt: int, r: float, base: float, max_wait: float
) -> None:
    policy = RetryPolicy(attempts=3, base=base, max_wait=max_wait)
    delay = backoff_delay(attempt, policy, None, lambda: r)
    assert 0.0 <= delay <= min(max_wait, base * 2 ** (attempt - 1)) + 1e-9


@given(
    attempt=st.integers(min_value=1, max_value=20),
    r=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    retry_after=st.floats(min_value=0.0, max_value=10_000.0),
)
def test_retry_after_is_a_floor_capped_by_max_wait(
    attempt: int, r: float, retry_after: float
) -> None:
    delay = backoff_delay(attempt, POLICY, retry_after, lambda: r)
    assert delay >= min(retry_after, POLICY.max_wait) - 1e-9
    assert delay <= POLICY.max_wait + 1e-9


def test_retry_after_longer_than_the_jitter_wins() -> None:
    assert backoff_delay(1, POLICY, 7.0, lambda: 0.99) == 7.0


def test_retry_after_shorter_than_the_jitter_does_not_shorten_it() -> None:
    assert backoff_delay(6, POLICY, 1.0, lambda: 0.5) == pytest.approx(8.0)


def test_retry_after_beyond_max_wait_is_capped() -> None:
    assert backoff_delay(1, POLICY, 3600.0, lambda: 0.0) == 30.0


# -- parse_retry_after ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("1.5", None),  # RFC 9110: delta-seconds is a non-negative integer
        ("²", None),  # a Unicode digit that str.isdigit() accepts
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP date in the past: go now
    ],
)
def test_parse_retry_after(raw: str | None, seconds: float | None) -> None:
    assert parse_retry_after(raw, now=2_000_000_000.0) == seconds


def test_parse_retry_after_http_date_is_relative_to_now() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42.0)


def test_http_date_retry_after_goes_through_the_cap() -> None:
    now = 1_700_000_000.0
    wait = parse_retry_after(email.utils.formatdate(now + 86_400, usegmt=True), now=now)
    assert wait == pytest.approx(86_400.0)
    assert backoff_delay(1, POLICY, wait, lambda: 0.0) == POLICY.max_wait


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        *[(429, True), (500, True), (502, True), (503, True), (599, True)],
        *[(200, False), (400, False), (401, False), (403, False), (404, False), (409, False)],
    ],
)
def test_is_transient_status(status: int, transient: bool) -> None:
    assert is_transient_status(status) is transient


# -- retry_call ----------------------------------------------------------------------------


class Flaky:
    """Raises ``failures`` Transients (with ``retry_after``), then returns "done"."""

    def __init__(self, failures: int, retry_after: float | None = None) -> None:
        self.failures = failures
        self.retry_after = retry_after
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise Transient(f"HTTP 503 (call {self.calls})", self.retry_after)
        return "done"


def run(
    fn: Callable[[], str], policy: RetryPolicy, rand: float = 1.0
) -> tuple[str, list[float], list[int]]:
    sleeps: list[float] = []
    retried: list[int] = []
    result = retry_call(
        fn,
        policy,
        sleep=sleeps.append,
        rand=lambda: rand,
        on_retry=lambda attempt, _delay, _exc: retried.append(attempt),
    )
    return result, sleeps, retried


def test_success_first_time_never_sleeps() -> None:
    flaky = Flaky(0)
    assert run(flaky, POLICY) == ("done", [], [])
    assert flaky.calls == 1


def test_recovers_within_the_bound() -> None:
    flaky = Flaky(4)
    result, sleeps, retried = run(flaky, POLICY)
    assert result == "done"
    assert flaky.calls == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # rand=1.0: the full-jitter ceilings
    assert retried == [1, 2, 3, 4]


def test_reraises_the_last_transient_after_the_last_attempt() -> None:
    flaky = Flaky(10)
    sleeps: list[float] = []
    with pytest.raises(Transient, match=r"call 5\)"):
        retry_call(flaky, POLICY, sleep=sleeps.append, rand=lambda: 1.0)
    assert flaky.calls == 5
    assert len(sleeps) == 4  # no sleep after the last attempt


def test_one_attempt_means_no_retry() -> None:
    flaky = Flaky(1)
    sleeps: list[float] = []
    with pytest.raises(Transient):
        retry_call(flaky, RetryPolicy(attempts=1), sleep=sleeps.append)
    assert (flaky.calls, sleeps) == (1, [])


def test_retry_after_is_what_it_sleeps() -> None:
    flaky = Flaky(2, retry_after=3.0)
    _result, sleeps, _ = run(flaky, POLICY, rand=0.0)
    assert sleeps == [3.0, 3.0]


def test_other_exceptions_are_not_retried() -> None:
    calls = []

    def broken() -> str:
        calls.append(1)
        raise ValueError("a bug, not a fault")

    sleeps: list[float] = []
    with pytest.raises(ValueError, match="a bug"):
        retry_call(broken, POLICY, sleep=sleeps.append)
    assert (len(calls), sleeps) == (1, [])


@given(failures=st.integers(min_value=0, max_value=12), attempts=st.integers(1, 8))
def test_attempt_count_property(failures: int, attempts: int) -> None:
    flaky = Flaky(failures)
    policy = RetryPolicy(attempts=attempts, base=0.1, max_wait=1.0)
    sleeps: list[float] = []
    try:
        retry_call(flaky, policy, sleep=sleeps.append, rand=lambda: 0.5)
    except Transient:
        assert failures >= attempts
        assert flaky.calls == attempts
    else:
        assert failures < attempts
        assert flaky.calls == failures + 1
    assert len(sleeps) == flaky.calls - 1
    assert all(0.0 <= s <= policy.max_wait for s in sleeps)


def test_policy_from_settings_reads_the_environment(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    settings = load_settings(tmp_path, {"RELEASE_RETRIES": "2", "RELEASE_RETRY_MAX_WAIT": "0.25"})
    assert RetryPolicy.from_settings(settings) == RetryPolicy(attempts=2, max_wait=0.25)
    zero = load_settings(tmp_path, {"RELEASE_RETRIES": "0"})
    assert RetryPolicy.from_settings(zero).attempts == 1  # at least one attempt


# -- a name that does not resolve ------------------------------------------------------------


@given(st.floats(min_value=0.0, max_value=1.0))
def test_a_dns_failure_backs_off_longer_and_never_below_half_the_ceiling(r: float) -> None:
    waits = [backoff_delay(n, POLICY, None, lambda: r, dns=True) for n in range(1, 5)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(POLICY.max_wait, POLICY.base * 2**n)
        assert ceiling / 2 <= wait <= ceiling
    assert sum(waits) >= 7.5  # five attempts: full jitter could spend under 2 s


def test_retry_call_gives_a_dns_failure_the_longer_waits() -> None:
    slept: list[float] = []

    def unresolved() -> None:
        raise Transient("the name x.invalid does not resolve", unresolved_host="x.invalid")

    with pytest.raises(Transient) as failed:
        retry_call(unresolved, POLICY, sleep=slept.append, rand=lambda: 0.0)
    assert slept == [0.5, 1.0, 2.0, 4.0]
    assert failed.value.short == "the name x.invalid does not resolve (DNS)"


def test_an_index_whose_name_does_not_resolve_is_named_so() -> None:
    """A real lookup of a name that cannot exist (RFC 2606's .invalid)."""
    from release.errors import IndexUnavailable
    from release.index import fetch_index_state

    delays: list[float] = []
    with pytest.raises(IndexUnavailable) as failed:
        fetch_index_state(
            "http://no-such-index.invalid/simple/",
            "demo",
            policy=RetryPolicy(attempts=3, base=0.01, max_wait=0.1),
            timeout=10,
            on_retry=lambda _n, delay, _exc: delays.append(delay),
        )
    assert "the name no-such-index.invalid does not resolve (DNS)" in failed.value.message
    assert "no-such-index.invalid may be misspelt" in failed.value.fix
    assert delays[0] >= 0.01  # equal jitter: never below half the ceiling (0.02)
    assert delays[1] >= 0.02

"""Faults between nox-release and a real pypiserver, injected by tests/faultproxy.py.

Index reads: dropped connections, 503 bursts, 429 with and without Retry-After, slow answers.
Waits are asserted as the delays the retry logic *asked for* (its on_retry callback), never as
wall time; the policies here keep the real sleeps to fractions of a second.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Iterator

import pytest
import requests
from faultproxy import FaultProxy, Rule, strip_files

from release.errors import IndexUnavailable
from release.index import fetch_index_state
from release.localindex import LocalIndex
from release.retry import RetryPolicy, Transient

pytestmark = [
    pytest.mark.timeout(120),
    # pypiserver's vendored bottle installs an old-style import hook (a warning on 3.11+).
    pytest.mark.filterwarnings("ignore:_ImportRedirect.find_spec:ImportWarning"),
]

PROJECT = "demo-pkg"
FILES = {"demo_pkg-1.0.0.tar.gz": b"sdist bytes", "demo_pkg-1.0.0-py3-none-any.whl": b"wheel"}
PAGE = f"/simple/{PROJECT}/"


@pytest.fixture
def seeded() -> Iterator[LocalIndex]:
    """A pypiserver holding demo-pkg 1.0.0 (two files written straight into its root)."""
    with LocalIndex() as index:
        for name, data in FILES.items():
            (index.root / name).write_bytes(data)
        yield index


@pytest.fixture
def proxy(seeded: LocalIndex) -> Iterator[FaultProxy]:
    with FaultProxy(seeded.base_url, lifetime=120) as p:
        yield p


class Waits:
    """Records what retry_call asked to sleep, via fetch_index_state's on_retry."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.reasons: list[str] = []

    def __call__(self, attempt: int, delay: float, exc: Transient) -> None:
        self.delays.append(delay)
        self.reasons.append(exc.what)


def read(proxy: FaultProxy, policy: RetryPolicy, waits: Waits, timeout: float = 10.0) -> set[str]:
    state = fetch_index_state(
        proxy.index_url, PROJECT, policy=policy, timeout=timeout, on_retry=waits
    )
    return {f.filename for f in state.files}


def expected_hashes() -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


FAST = RetryPolicy(attempts=5, base=0.01, max_wait=0.05)


# -- the proxy itself (a test tool must be shown to do what it claims) ---------------------


def test_proxy_passes_reads_through_and_counts_them(proxy: FaultProxy) -> None:
    state = fetch_index_state(proxy.index_url, PROJECT, policy=FAST)
    assert {f.filename: f.sha256 for f in state.files} == expected_hashes()
    assert proxy.count("GET", PAGE) == 1
    assert proxy.count("POST") == 0


def test_proxy_rule_skip_and_times(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=503, path=PAGE, skip=1, times=2))
    url = proxy.index_url + PROJECT + "/"
    codes = [requests.get(url, timeout=10).status_code for _ in range(5)]
    assert codes == [200, 503, 503, 200, 200]


def test_strip_files_hides_links_and_json_entries() -> None:
    html = b'<a href="/p/a.whl#sha256=1">a.whl</a><br>\n<a href="/p/b.whl">b.whl</a><br>'
    assert strip_files(html, "text/html", {"a.whl"}) == b'<a href="/p/b.whl">b.whl</a><br>'
    doc = b'{"files": [{"filename": "a.whl"}, {"filename": "b.whl"}], "name": "p"}'
    stripped = strip_files(doc, "application/vnd.pypi.simple.v1+json", {"b.whl"})
    assert b"b.whl" not in stripped
    assert b"a.whl" in stripped


# -- index reads -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["drop_request", "drop_response"])
def test_dropped_connections_then_success(proxy: FaultProxy, action: str) -> None:
    proxy.add(Rule(action, path=PAGE, times=2))  # type: ignore[arg-type]
    waits = Waits()
    assert read(proxy, FAST, waits) == set(FILES)
    assert proxy.count("GET", PAGE) == 3
    assert len(waits.delays) == 2
    assert all("ConnectionError" in r for r in waits.reasons)


def test_503_burst_shorter_than_the_bound_succeeds(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=503, path=PAGE, times=4))
    waits = Waits()
    assert read(proxy, FAST, waits) == set(FILES)
    assert proxy.count("GET", PAGE) == 5  # 4 x 503, then the page
    assert waits.reasons == [f"HTTP 503 from {proxy.index_url}{PROJECT}/"] * 4


def test_503_burst_longer_than_the_bound_fails_closed(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=503, path=PAGE, times=None))
    waits = Waits()
    with pytest.raises(IndexUnavailable) as caught:
        read(proxy, RetryPolicy(attempts=3, base=0.01, max_wait=0.05), waits)
    assert proxy.count("GET", PAGE) == 3  # exactly the bound, no more
    assert len(waits.delays) == 2
    message = str(caught.value)
    assert "HTTP 503" in message
    assert "after 3 attempts" in message
    assert "nothing was uploaded" in message
    assert "RELEASE_RETRIES" in message  # the fix names the knob


def test_429_retry_after_seconds_is_honoured(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=429, retry_after="1", path=PAGE, times=1))
    waits = Waits()
    policy = RetryPolicy(attempts=3, base=0.01, max_wait=5.0)
    assert read(proxy, policy, waits) == set(FILES)
    assert waits.delays == [1.0]  # jitter alone would have asked for <= 0.01 s


def test_429_retry_after_http_date_is_honoured(proxy: FaultProxy) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    proxy.add(Rule("status", status=429, retry_after=when, path=PAGE, times=1))
    waits = Waits()
    policy = RetryPolicy(attempts=3, base=0.01, max_wait=0.2)
    assert read(proxy, policy, waits) == set(FILES)
    assert waits.delays == [0.2]  # ~30 s asked for, capped by max_wait


def test_429_retry_after_beyond_the_cap_is_capped(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=429, retry_after="3600", path=PAGE, times=2))
    waits = Waits()
    policy = RetryPolicy(attempts=3, base=0.01, max_wait=0.1)
    assert read(proxy, policy, waits) == set(FILES)
    assert waits.delays == [0.1, 0.1]


def test_429_without_retry_after_backs_off_with_jitter(proxy: FaultProxy) -> None:
    proxy.add(Rule("status", status=429, path=PAGE, times=3))
    waits = Waits()
    policy = RetryPolicy(attempts=5, base=0.02, max_wait=1.0)
    assert read(proxy, policy, waits) == set(FILES)
    ceilings = [0.02, 0.04, 0.08]
    assert len(waits.delays) == 3
    assert all(0.0 <= d <= c for d, c in zip(waits.delays, ceilings, strict=True))


def test_slow_answer_beyond_the_timeout_is_retried(proxy: FaultProxy) -> None:
    proxy.add(Rule("forward", path=PAGE, response_delay=1.0, times=1))
    waits = Waits()
    assert read(proxy, FAST, waits, timeout=0.3) == set(FILES)
    assert len(waits.delays) == 1
    assert "Timeout" in waits.reasons[0]


def test_slow_answer_within_the_timeout_is_just_slow(proxy: FaultProxy) -> None:
    proxy.add(Rule("forward", path=PAGE, delay=0.2, times=1))
    waits = Waits()
    assert read(proxy, FAST, waits, timeout=10.0) == set(FILES)
    assert waits.delays == []


def test_unknown_project_through_the_proxy_is_absent_not_an_error(proxy: FaultProxy) -> None:
    state = fetch_index_state(proxy.index_url, "never-uploaded", policy=FAST)
    assert (state.exists, state.files) == (False, ())

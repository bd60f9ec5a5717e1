"""Faults between nox-release and a real pypiserver, injected by tests/faultproxy.py.

Index reads: dropped connections, 503 bursts, 429 with and without Retry-After, slow answers.
Waits are asserted as the delays the retry logic *asked for* (its on_retry callback), never as
wall time; the policies here keep the real sleeps to fractions of a second.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from release.distdir import hash_file, load_manifest
from release.errors import ExitCode, IndexUnavailable
from release.index import fetch_index_state
from release.localindex import LocalIndex
from release.retry import RetryPolicy, Transient
from tests.faultproxy import FaultProxy, Rule, count_files, strip_files
from tests.sample_projects import write_project

pytestmark = [pytest.mark.timeout(120)]

PROJECT = "demo-pkg"
FILES = {"demo_pkg-1.0.0.tar.gz": b"sdist bytes", "demo_pkg-1.0.0-py3-none-any.whl": b"wheel"}
PAGE = f"/simple/{PROJECT}/"
REPO = Path(__file__).resolve().parents[1]


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
        p.upstream_index = seeded  # type: ignore[attr-defined]
        yield p


SEEDED_USER = "uploader"


def seeded_password(proxy: FaultProxy) -> str:
    index: LocalIndex = proxy.upstream_index  # type: ignore[attr-defined]
    assert index.username == SEEDED_USER
    return index.password


class Waits:
    """Records what retry_call asked to sleep, via fetch_index_state's on_retry."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.reasons: list[str] = []

    def __call__(self, _attempt: int, delay: float, exc: Transient) -> None:
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


def test_per_mib_adds_a_wait_for_each_mib_of_the_body() -> None:
    rule = Rule("forward", delay=0.15, per_mib=0.25)
    assert rule.wait_before(4 * 2**20) == pytest.approx(1.15)
    assert rule.wait_before(2**19) == pytest.approx(0.275)
    assert rule.wait_before(None) == pytest.approx(0.15)  # chunked: its length is not known
    assert Rule("forward", delay=0.15).wait_before(4 * 2**20) == pytest.approx(0.15)
    with pytest.raises(ValueError, match="per_mib"):
        Rule("forward", per_mib=-1)


def test_strip_files_hides_links_and_json_entries() -> None:
    html = b'<a href="/p/a.whl#sha256=1">a.whl</a><br>\n<a href="/p/b.whl">b.whl</a><br>'
    assert strip_files(html, "text/html", {"a.whl"}) == b'<a href="/p/b.whl">b.whl</a><br>'
    doc = b'{"files": [{"filename": "a.whl"}, {"filename": "b.whl"}], "name": "p"}'
    stripped = strip_files(doc, "application/vnd.pypi.simple.v1+json", {"b.whl"})
    assert b"b.whl" not in stripped
    assert b"a.whl" in stripped
    assert count_files(stripped, "application/vnd.pypi.simple.v1+json") == 1
    assert count_files(html, "text/html") == 2


def test_lagging_files_are_hidden_and_a_new_project_is_404(proxy: FaultProxy) -> None:
    """CDN lag as the proxy plays it: an upload it saw is left off the page while it lags."""
    proxy.lag = 300.0
    page = proxy.index_url + PROJECT + "/"
    seeded_index_files = set(FILES)
    response = requests.post(
        proxy.upload_url,
        data={":action": "file_upload", "name": PROJECT, "version": "2.0"},
        files={"content": ("demo_pkg-2.0-py3-none-any.whl", b"new wheel")},
        auth=(SEEDED_USER, seeded_password(proxy)),
        timeout=10,
    )
    assert response.status_code == 200
    assert proxy.uploads() == ["demo_pkg-2.0-py3-none-any.whl"]  # sniffed from the stream
    assert proxy.lagging() == {"demo_pkg-2.0-py3-none-any.whl"}
    listed = requests.get(page, timeout=10).text
    assert "demo_pkg-2.0-py3-none-any.whl" not in listed
    assert all(name in listed for name in seeded_index_files)
    # A project whose only files lag did not exist as far as the stale page knows.
    proxy.uploaded_at.update({name: time.monotonic() for name in FILES})
    assert requests.get(page, timeout=10).status_code == 404
    proxy.lag = 0.0
    assert "demo_pkg-2.0-py3-none-any.whl" in requests.get(page, timeout=10).text


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


# -- uploads: `python -m release upload --index test` through the proxy ----------------------
# (slow: a build once, then a subprocess per run)
#
# Every case ends with each file on the index exactly once (files on disk, and POSTs that
# reached pypiserver), or with a clear message, and the next run finishing the job.

SAMPLE = "fault-demo"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample project with dist/ built once (sdist + wheel + manifest) for every test here."""
    root = write_project(tmp_path_factory.mktemp("built") / "project", SAMPLE, "1.0.0")
    proc = cli(root, cli_env(), "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built project (dist/ and manifest included)."""
    return Path(shutil.copytree(built, tmp_path / "project"))


@pytest.fixture
def index() -> Iterator[LocalIndex]:
    with LocalIndex() as empty:
        yield empty


@pytest.fixture
def upstream(index: LocalIndex) -> Iterator[FaultProxy]:
    with FaultProxy(index.base_url, lifetime=300) as p:
        yield p


def cli_env(
    proxy: FaultProxy | None = None, index: LocalIndex | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a child `python -m release`: the index behind the proxy, the
    password in the environment (never argv), small retry waits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "CI": "1",
        "RELEASE_RETRIES": "4",
        "RELEASE_RETRY_MAX_WAIT": "0.2",
        "RELEASE_WAIT_TIMEOUT": "20",
        "RELEASE_TIMEOUT": "10",
        "RELEASE_TEST_UPLOAD_URL": "http://127.0.0.1:9/",
        "RELEASE_TEST_INDEX_URL": "http://127.0.0.1:9/simple/",
        "RELEASE_PROD_UPLOAD_URL": "http://127.0.0.1:9/",
        "RELEASE_PROD_INDEX_URL": "http://127.0.0.1:9/simple/",
    }
    if proxy is not None and index is not None:
        env |= {
            "RELEASE_TEST_UPLOAD_URL": proxy.upload_url,
            "RELEASE_TEST_INDEX_URL": proxy.index_url,
            "RELEASE_TEST_USERNAME": index.username,
            "RELEASE_TEST_PASSWORD": index.password,
        }
    env.update(extra)
    return env


def cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def upload(root: Path, proxy: FaultProxy, index: LocalIndex, **extra: str) -> tuple[int, str]:
    proc = cli(root, cli_env(proxy, index, **extra), "upload", "--index", "test")
    output = proc.stdout + proc.stderr
    assert index.password not in output  # the secret never shows
    return proc.returncode, output


def dist_files(root: Path) -> list[str]:
    return sorted(f.filename for f in load_manifest(root / "dist").files)


def assert_on_index_once(root: Path, index: LocalIndex) -> None:
    """Every file of ours is on the index, byte for byte, and nothing else."""
    assert index.files() == dist_files(root)
    for name in index.files():
        stored = next(index.root.rglob(name))
        assert hash_file(stored) == hash_file(root / "dist" / name)


@pytest.mark.slow
def test_upload_clean_run_through_the_proxy(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    code, output = upload(project, upstream, index)
    assert code == 0, output
    assert_on_index_once(project, index)
    assert index.uploads == 2  # one POST per file reached the index
    assert upstream.count("GET", f"/simple/{SAMPLE}/") >= 2  # the guard's read, then the proof


@pytest.mark.slow
def test_upload_through_503s_429s_and_dropped_requests(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    upstream.add(
        Rule("status", status=503, path=f"/simple/{SAMPLE}/", times=2),  # the guard's read
        Rule("status", status=503, method="POST", times=2),
        Rule("drop_request", method="POST", times=1),
        Rule("status", status=429, retry_after="0", method="POST", times=1),
    )
    code, output = upload(project, upstream, index, RELEASE_RETRIES="6")
    assert code == 0, output
    assert_on_index_once(project, index)
    assert index.uploads == 2  # none of the faulted requests reached the index
    assert upstream.count("POST") == 6  # 2 x 503, 1 dropped, 1 x 429, then 2 that landed
    assert "HTTP 503" in output
    assert "HTTP 429" in output


@pytest.mark.slow
def test_429_retry_after_is_what_the_upload_waits(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    upstream.add(Rule("status", status=429, retry_after="1", method="POST", times=1))
    code, output = upload(project, upstream, index, RELEASE_RETRY_MAX_WAIT="5")
    assert code == 0, output
    assert "HTTP 429" in output
    assert "in 1.0s" in output  # the wait asked for: Retry-After, not the 0.5 s jitter cap
    assert_on_index_once(project, index)


@pytest.mark.slow
def test_answer_lost_after_the_file_was_stored(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    """The proxy drops the connection after pypiserver stored the first file: the retry gets
    "already exists", the index is re-read, the file is ours byte for byte: not sent again
    as a new file, no failure."""
    upstream.add(Rule("drop_response", method="POST", times=1))
    code, output = upload(project, upstream, index)
    assert code == 0, output
    assert_on_index_once(project, index)
    assert index.uploads == 3  # the retry reached the index and was refused as a duplicate
    assert "already there" in output


@pytest.mark.slow
def test_slow_answer_past_the_timeout_after_the_file_was_stored(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    upstream.add(Rule("forward", method="POST", response_delay=3.0, times=1))
    code, output = upload(project, upstream, index, RELEASE_TIMEOUT="1")
    assert code == 0, output
    assert_on_index_once(project, index)
    assert "Timeout" in output


@pytest.mark.slow
def test_cdn_lag_the_proof_waits_with_progress(project: Path, index: LocalIndex) -> None:
    with FaultProxy(index.base_url, lag=3.0, lifetime=300) as lagging:
        code, output = upload(project, lagging, index)
        page_reads = lagging.count("GET", f"/simple/{SAMPLE}/")
    assert code == 0, output
    assert_on_index_once(project, index)
    assert "waiting for" in output  # progress while the index lags
    assert page_reads >= 3  # the guard's read, then the proof polled more than once


@pytest.mark.slow
def test_cdn_lag_and_a_lost_answer(project: Path, index: LocalIndex) -> None:
    """The lost answer's retry hears "already exists" while the page does not list the file
    yet: it waits (bounded) for the page instead of failing or refusing."""
    with FaultProxy(index.base_url, lag=2.0, lifetime=300) as lagging:
        lagging.add(Rule("drop_response", method="POST", times=1))
        code, output = upload(project, lagging, index)
    assert code == 0, output
    assert_on_index_once(project, index)


@pytest.mark.slow
def test_index_unreadable_nothing_is_uploaded(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    upstream.add(Rule("status", status=503, path="/simple/", times=None))
    code, output = upload(project, upstream, index)
    assert code == ExitCode.INDEX_UNAVAILABLE, output
    assert "nothing was uploaded" in output
    assert upstream.count("POST") == 0
    assert index.files() == []


@pytest.mark.slow
def test_retries_run_out_then_the_next_run_resumes(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    upstream.add(Rule("status", status=503, method="POST", skip=1, times=None))
    code, output = upload(project, upstream, index)
    assert code == ExitCode.UPLOAD_REJECTED, output
    assert "Run the same command again" in output
    assert len(index.files()) == 1  # the first file landed, the second did not
    landed = index.files()[0]

    upstream.clear()
    before = index.uploads
    code, output = upload(project, upstream, index)
    assert code == 0, output
    assert_on_index_once(project, index)
    assert index.uploads - before == 1  # only the missing file was sent
    assert landed in output


@pytest.mark.slow
def test_killed_mid_upload_the_next_run_sends_only_what_is_missing(
    project: Path, upstream: FaultProxy, index: LocalIndex
) -> None:
    # Hold the second upload (then drop it unread) long enough to kill the process.
    upstream.add(Rule("drop_request", method="POST", skip=1, delay=8.0, times=1))
    proc = subprocess.Popen(
        [sys.executable, "-m", "release", "upload", "--index", "test"],
        cwd=project,
        env=cli_env(upstream, index),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # bounded: 60 s
            if upstream.count("POST") >= 2 or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the upload finished before it could be killed"
        assert len(index.files()) == 1
    finally:
        proc.kill()
        proc.wait(timeout=30)
    landed = index.files()[0]

    before = index.uploads
    code, output = upload(project, upstream, index)
    assert code == 0, output
    assert_on_index_once(project, index)
    assert index.uploads - before == 1  # only the missing file
    assert landed in output
    rerun_code, rerun = upload(project, upstream, index)
    assert rerun_code == 0, rerun
    assert "nothing to do" in rerun
    assert index.uploads - before == 1  # and a third run sends nothing

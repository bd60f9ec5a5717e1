"""No traceback, no hang, bounded memory on anything hostile (issue 18, section 5).

Answers that break mid-way (a bad chunk, a Content-Length longer than the body), a manifest or
pyproject.toml nested 100,000 deep, a FIFO or a link to ``/dev/zero`` where a file is read, a
stalled or oversized identity token. Outcomes only (exit code, the error's class, nothing
sent); each hang-prone case runs in a child process with a timeout and a memory limit, so that
a missing defence fails the test instead of hanging or swapping the machine. Time and memory
are measured in bench/bench_hostile.py.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from release.config import IndexSettings
from release.credentials import resolve
from release.distdir import load_manifest
from release.errors import CredentialError, DistError, ExitCode, IndexUnavailable
from release.index import Keep, fetch_index_state
from release.manifest import MANIFEST_NAME
from release.paths import read_capped
from release.retry import RetryPolicy
from tests.conftest import ProjectFactory
from tests.hostile import HostileIndex, json_file
from tests.oidc_double import OIDCDouble

ROOT = Path(__file__).resolve().parents[1]
TWICE = RetryPolicy(attempts=2, base=0.0, max_wait=0.0)
PRIVATE = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/simple/", "__token__")


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: /dev/zero fails fast


def run_cli(
    root: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m release`` in a child: 60 s at most, 1 GiB of address space."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
    environ.update({"PYTHONPATH": str(ROOT), "CI": "", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "release", "--root", str(root), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environ,
        preexec_fn=_limit_memory,
    )


# ------------------------------------------------------------------ answers broken mid-way


@pytest.mark.parametrize("mode", ["bad_chunked", "short_body"])
def test_an_answer_broken_mid_way_is_exit_4(mode: str) -> None:
    """urllib3's ProtocolError / IncompleteRead: retried like a dropped connection, then
    IndexUnavailable (exit 4), never a traceback."""
    with HostileIndex(mode) as server:
        with pytest.raises(IndexUnavailable) as info:
            fetch_index_state(server.index_url, "demo-pkg", policy=TWICE, timeout=5)
        assert len(server.requests) == 2  # transient: tried again
    assert info.value.exit_code == ExitCode.INDEX_UNAVAILABLE
    assert "ProtocolError" in info.value.message


# ------------------------------------------------------------------ files nested, FIFOs, devices


def test_manifest_nested_100000_deep_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DistError, match="nests too deeply"):
        load_manifest(tmp_path)


def test_pyproject_nested_100000_deep_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = run_cli(tmp_path, "plan")
    assert proc.returncode == 2, proc.stderr
    assert "nests arrays or tables too deeply" in proc.stderr
    assert "Traceback" not in proc.stderr


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _dev_zero(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "link-to-dev-zero"])
def test_pyproject_that_never_ends_is_exit_2(tmp_path: Path, make: object) -> None:
    assert callable(make)
    make(tmp_path / "pyproject.toml")
    proc = run_cli(tmp_path, "plan")
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "link-to-dev-zero"])
def test_manifest_that_never_ends_is_exit_2(make_project: ProjectFactory, make: object) -> None:
    assert callable(make)
    root = make_project()
    (root / "dist").mkdir()
    make(root / "dist" / MANIFEST_NAME)
    proc = run_cli(root, "upload", "--index", "test", "--dry-run")
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr


def test_a_large_file_is_read_no_further_than_its_cap(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    assert read_capped(big, 5000) == b"x" * 5000
    with pytest.raises(OSError, match="larger than"):
        read_capped(big, 4999)


def test_pypirc_fifo_does_not_hang_the_credential_search(tmp_path: Path) -> None:
    """A FIFO where ~/.pypirc belongs: the source is skipped as unreadable, at once."""
    _fifo(tmp_path / ".pypirc")
    outcome: list[BaseException] = []

    def search() -> None:
        try:
            resolve(PRIVATE, "demo", {"HOME": str(tmp_path), "RELEASE_TRUSTED_PUBLISHING": "off"})
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=search, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "reading a FIFO .pypirc blocked"
    assert isinstance(outcome[0], CredentialError)
    assert "not a regular file" in outcome[0].message


# ------------------------------------------------------------------ identity tokens


@pytest.fixture
def double() -> Iterator[OIDCDouble]:
    with OIDCDouble() as d:
        yield d


def _github(double: OIDCDouble, tmp_path: Path, timeout: str = "60") -> dict[str, str]:
    return double.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
        "RELEASE_TRUSTED_PUBLISHING": "force",
        "RELEASE_TIMEOUT": timeout,
    }


def test_stalled_identity_provider_ends_at_the_timeout(double: OIDCDouble, tmp_path: Path) -> None:
    """``id`` waits 30 s per request on its own; the tool gives it ``timeout`` (1 s here)."""
    double.token_delay = 45
    with pytest.raises(CredentialError, match=r"within 1 s") as info:
        resolve(PRIVATE, "demo", _github(double, tmp_path, timeout="1"))
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert double.seen == []


def test_oversized_identity_token_goes_nowhere(double: OIDCDouble, tmp_path: Path) -> None:
    """A 2 MB identity token is refused before it is registered, shown or sent to mint."""
    double.token_padding = 2_000_000
    with pytest.raises(CredentialError, match="identity token is") as info:
        resolve(PRIVATE, "demo", _github(double, tmp_path))
    assert len(info.value.message) < 1000
    assert double.seen == []


def test_huge_identity_token_is_not_read_to_its_end(double: OIDCDouble, tmp_path: Path) -> None:
    """GitHub's answer is read under a cap of a few KiB more than MAX_TOKEN, then abandoned: a
    60 MB token is not taken in whole (``id`` read all of it: 317 MB of memory for 100 MB).
    The socket buffers of loopback hold a few MB; the rest is never read."""
    double.token_padding = 60_000_000
    with pytest.raises(CredentialError, match="identity token") as info:
        resolve(PRIVATE, "demo", _github(double, tmp_path))
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert double.token_answer_ended.wait(60)
    assert double.token_bytes_sent < 20_000_000
    assert double.seen == []


def test_github_token_endpoint_gets_no_request_token_over_http(
    double: OIDCDouble, tmp_path: Path
) -> None:
    """ACTIONS_ID_TOKEN_REQUEST_TOKEN mints identity tokens for any audience: it goes over
    https only (loopback excepted), and never to a URL that names its host two ways."""
    for url in ("http://169.254.0.1:9/token?x=1", "https://127.0.0.1\\@example.org/token"):
        environ = _github(double, tmp_path) | {"ACTIONS_ID_TOKEN_REQUEST_URL": url}
        with pytest.raises(CredentialError, match="ACTIONS_ID_TOKEN_REQUEST_URL"):
            resolve(PRIVATE, "demo", environ)
    assert double.jwts == []


def test_oversized_minted_token_is_refused(double: OIDCDouble, tmp_path: Path) -> None:
    double.tokens = ["pypi-" + "A" * 200_000]
    with pytest.raises(CredentialError, match="minted token is"):
        resolve(PRIVATE, "demo", _github(double, tmp_path))


# The many-links page as HTML (wheels) and as PEP 691 JSON (sdists, to fit 200,000 under the
# cap): the name of file n in each.
NAMES = {
    "many_links": "demo_pkg-{}.0-py3-none-any.whl",
    "many_links_json": "demo_pkg-{}.0.tar.gz",
}


@pytest.mark.parametrize("mode", NAMES, ids=["html", "json"])
def test_a_page_of_many_links_reads_every_file_with_its_sha256(mode: str) -> None:
    """The streaming readers (the memory of a 200,000-link page is measured in
    bench/bench_hostile.py --links, --links-json): every file, with its sha256, of 5,000."""
    with HostileIndex(mode) as server:
        server.links = 5_000
        state = fetch_index_state(server.index_url, "demo-pkg", policy=TWICE, timeout=30)
    assert len(state.files) == 5_000
    last = state.files[-1]
    assert last.filename == NAMES[mode].format(4999)
    assert last.sha256 == format(4999, "064x")


@pytest.mark.parametrize("mode", NAMES, ids=["html", "json"])
def test_a_read_keeps_the_files_of_its_version_and_every_version(mode: str) -> None:
    """What a command reads (bench/bench_hostile.py --links measures its memory): of 5,000
    links, the files of the version it names, whole, and of the rest only their versions."""
    with HostileIndex(mode) as server:
        server.links = 5_000
        state = fetch_index_state(
            server.index_url, "demo-pkg", policy=TWICE, timeout=30, keep=Keep.of(Version("17"))
        )
    assert [(f.filename, f.sha256) for f in state.files_for(Version("17.0"))] == [
        (NAMES[mode].format(17), format(17, "064x"))
    ]
    assert len(state.files) == 1
    assert len(state.versions) == 5_000
    assert Version("4999") in state.versions
    assert Version("5000") not in state.versions
    assert state.latest == Version("4999.0")
    with pytest.raises(LookupError, match="without the files of 18"):
        state.files_for(Version("18"))  # not kept: never "no such files"


def _link(n: int, sha: int) -> bytes:
    name = b"demo_pkg-%d.0-py3-none-any.whl" % n
    return b'<a href="/files/%s#sha256=%064x">%s</a>\n' % (name, sha, name)


DEEP = 150_000  # a bad link this far into a page, read as it streams
SAYS = [
    "demo_pkg-1.0-py3-none-any.whl is listed twice with different sha256",
    f"link {DEEP + 1} names",
    "malformed sha256",
]
IDS = ["conflicting twin of the kept version", "text is not the URL's file", "bad sha256"]


def _refused_deep(mode: str, planted: bytes, says: str) -> None:
    """The page is refused at link 150,001, exit 4, read once."""
    with HostileIndex(mode) as server:
        server.links = DEEP + 10
        server.planted = {DEEP: planted}
        with pytest.raises(IndexUnavailable) as info:
            fetch_index_state(
                server.index_url,
                "demo-pkg",
                policy=TWICE,
                timeout=300,
                keep=Keep.of(Version("1.0")),
            )
        assert len(server.requests) == 1
    assert says in info.value.message
    assert "cannot be trusted" in info.value.message
    assert info.value.exit_code == ExitCode.INDEX_UNAVAILABLE


@pytest.mark.slow
@pytest.mark.parametrize(
    ("planted", "says"),
    list(
        zip(
            [
                _link(1, 7),  # link 2 is demo_pkg-1.0 with sha256 1; here it is with another one
                b'<a href="/files/evil.whl">demo_pkg-150000.0-py3-none-any.whl</a>',
                b'<a href="/files/demo_pkg-9.0.tar.gz#sha256=abc">demo_pkg-9.0.tar.gz</a>',
            ],
            SAYS,
            strict=True,
        )
    ),
    ids=IDS,
)
def test_a_bad_link_deep_in_a_streamed_page_refuses_the_page(planted: bytes, says: str) -> None:
    """Each link is checked as it streams by, kept or not (a twin among the files kept)."""
    _refused_deep("many_links", planted, says)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("planted", "says"),
    list(
        zip(
            [
                json_file(1, 7),  # file 2 is demo_pkg-1.0.tar.gz with sha256 1
                b'{"filename":"demo_pkg-150000.0.tar.gz","url":"/files/evil.tar.gz","hashes":{}}',
                b'{"filename":"demo_pkg-9.0.tar.gz","url":"demo_pkg-9.0.tar.gz",'
                b'"hashes":{"sha256":"abc"}}',
                b'{"filename":"demo_pkg-9.0.tar.gz","url":"demo_pkg-9.0.tar.gz","hashes":{},'
                b'"core-metadata":{"filename":"x","hashes":{}}}',
            ],
            [SAYS[0].replace("-py3-none-any.whl", ".tar.gz"), *SAYS[1:], "one file object"],
            strict=True,
        )
    ),
    ids=[*IDS, "a file object inside a file"],
)
def test_a_bad_file_deep_in_a_streamed_json_page_refuses_the_page(
    planted: bytes, says: str
) -> None:
    """The same for a PEP 691 page, read file object by file object."""
    _refused_deep("many_links_json", planted, says)

"""The index reader against real servers, and against the answers real servers rarely give.

- pypiserver (HTML, PEP 503) and devpi-server (PEP 691 JSON): what a real index lists is read
  with its sha256, names and versions as PyPI sees them, one request per read.
- A small local HTTP double serves what these servers cannot: a recorded Warehouse page (with
  yanked files and upload times), 5xx, 429, timeouts, dropped connections, pages that do not
  parse, broken links, redirects to another host. None of these may produce an IndexState:
  every one must raise IndexUnavailable, so no upload can follow.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from packaging.utils import canonicalize_name
from packaging.version import Version

from release.distdir import hash_file
from release.errors import IndexUnavailable
from release.guard import Rules, Verdict, decide
from release.index import fetch_index_state, make_session
from release.indexstate import VERSIONS, IndexState, Keep, versions_named
from release.localindex import LocalIndex
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import DistFile, Manifest
from release.retry import RetryPolicy, Transient
from tests.devpi import DevpiIndex, twine_upload
from tests.sample_projects import write_sdist, write_wheel

FAST = RetryPolicy(attempts=3, base=0.0, max_wait=0.0)  # retries without waiting
JSON = "application/vnd.pypi.simple.v1+json"


def counting_session() -> tuple[requests.Session, list[requests.Response]]:
    """The reader's own session, with a hook that records every response it receives."""
    session = make_session()
    seen: list[requests.Response] = []

    def hook(response: requests.Response, *args: object, **kwargs: object) -> None:
        seen.append(response)

    session.hooks["response"].append(hook)
    return session, seen


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------- pypiserver: HTML


def test_pypiserver_html_lists_files_with_sha256(local_index: LocalIndex, tmp_path: Path) -> None:
    files = [
        write_sdist(tmp_path, "demo-pkg", "1.0.0"),
        write_wheel(tmp_path, "demo-pkg", "1.0.0"),
        write_sdist(tmp_path, "demo-pkg", "0.9"),
    ]
    for f in files:
        shutil.copy(f, local_index.root)
    session, seen = counting_session()
    state = fetch_index_state(local_index.index_url, "demo-pkg", session=session, policy=FAST)
    assert state.exists
    assert state.project == "demo-pkg"
    assert {f.filename: f.sha256 for f in state.files} == {f.name: sha(f) for f in files}
    assert state.versions == {Version("1.0.0"), Version("0.9")}
    assert not any(f.yanked for f in state.files)
    assert len(seen) == 1  # one request per index read
    assert seen[0].headers["Content-Type"].startswith("text/html")  # the HTML fallback


@pytest.mark.parametrize("spelling", ["Demo_Pkg", "demo.pkg", "DEMO-PKG", "demo__pkg"])
def test_any_spelling_of_the_name_reads_the_same_project(
    local_index: LocalIndex, tmp_path: Path, spelling: str
) -> None:
    shutil.copy(write_sdist(tmp_path, "demo-pkg", "1.0"), local_index.root)
    state = fetch_index_state(local_index.index_url, spelling, policy=FAST)
    assert state.project == "demo-pkg"
    assert [f.filename for f in state.files] == ["demo_pkg-1.0.tar.gz"]


def test_old_style_filenames_are_read_as_the_project(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """Filenames from before PEP 625/491 normalisation: dots, capitals, hyphens."""
    sdist = write_sdist(tmp_path / "a", "demo-pkg", "1.0", stem="Demo.Pkg")
    wheel = write_wheel(tmp_path / "b", "demo-pkg", "1.0")
    old_wheel = wheel.with_name("Demo_Pkg-1.0-py3-none-any.whl")
    wheel.rename(old_wheel)
    for f in (sdist, old_wheel):
        shutil.copy(f, local_index.root)
    state = fetch_index_state(local_index.index_url, "demo-pkg", policy=FAST)
    assert sorted(f.filename for f in state.files) == sorted([sdist.name, old_wheel.name])
    assert all(f.project == "demo-pkg" and f.version == Version("1.0.0") for f in state.files)
    # ... and the guard sees our normalised files as their twins.
    manifest = Manifest(
        "Demo_Pkg",
        "1.0.0",
        (
            DistFile("demo_pkg-1.0.0.tar.gz", sha(sdist), 1, "sdist"),
            DistFile("demo_pkg-1.0.0-py3-none-any.whl", sha(old_wheel), 1, "wheel"),
        ),
    )
    assert decide(manifest, state, Rules()).verdict is Verdict.NOTHING_TO_DO
    assert state.twin_of("demo_pkg-1.0.0.tar.gz") == state.by_filename()[sdist.name]


def test_unknown_project_is_absent_not_an_error(local_index: LocalIndex) -> None:
    session, seen = counting_session()
    state = fetch_index_state(local_index.index_url, "no-such-project", session=session)
    assert state == IndexState(
        local_index.index_url, canonicalize_name("no-such-project"), False, ()
    )
    assert [r.status_code for r in seen] == [404]


def test_one_request_however_many_files(local_index: LocalIndex, tmp_path: Path) -> None:
    for minor in range(40):
        shutil.copy(write_sdist(tmp_path, "demo-pkg", f"1.{minor}"), local_index.root)
    session, seen = counting_session()
    state = fetch_index_state(local_index.index_url, "demo-pkg", session=session)
    assert len(state.files) == 40
    assert len(seen) == 1


def test_twine_uploads_show_up_with_their_sha256(local_index: LocalIndex, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, "demo-pkg", "2.0")
    response = twine_upload(
        local_index.upload_url, local_index.username, local_index.password, wheel
    )
    assert response.status_code == 200
    state = fetch_index_state(local_index.index_url, "demo-pkg", policy=FAST)
    assert [(f.filename, f.sha256) for f in state.files] == [(wheel.name, sha(wheel))]


@pytest.mark.slow
def test_pypiserver_duplicate_upload_answers(local_index: LocalIndex, tmp_path: Path) -> None:
    """pypiserver refuses any re-upload, identical or not: 400 for twine's User-Agent.

    The upload step cannot tell identical from different by the answer, so it must re-read
    the index and compare sha256 (issue 3, item 1).
    """
    same = write_wheel(tmp_path / "a", "dup-pkg", "1.0")
    other = write_wheel(tmp_path / "b", "dup-pkg", "1.0", payload="# other bytes\n")
    login = (local_index.upload_url, local_index.username, local_index.password)
    assert twine_upload(*login, same).status_code == 200
    again = twine_upload(*login, same)
    differ = twine_upload(*login, other)
    for response in (again, differ):
        assert (response.status_code, response.reason) == (400, "Bad Request")
        assert f"Package &#039;{same.name}&#039; already exists!" in response.text
    state = fetch_index_state(local_index.index_url, "dup-pkg", policy=FAST)
    assert [(f.filename, f.sha256) for f in state.files] == [(same.name, sha(same))]


# ----------------------------------------------------------------- devpi: PEP 691 JSON


@pytest.mark.slow
def test_devpi_json_lists_files_with_sha256(devpi_index: DevpiIndex, tmp_path: Path) -> None:
    files = [write_sdist(tmp_path, "json-pkg", "1.0"), write_wheel(tmp_path, "json-pkg", "1.0")]
    for f in files:
        assert twine_upload(devpi_index.upload_url, devpi_index.user, devpi_index.password, f).ok
    session, seen = counting_session()
    state = fetch_index_state(devpi_index.index_url, "Json.Pkg", session=session, policy=FAST)
    assert len(seen) == 1
    assert seen[0].headers["Content-Type"] == JSON  # PEP 691 was asked for and served
    assert state.exists
    assert {f.filename: f.sha256 for f in state.files} == {f.name: sha(f) for f in files}
    assert state.versions == {Version("1.0")}


@pytest.mark.slow
def test_devpi_unknown_project_is_absent(devpi_index: DevpiIndex) -> None:
    state = fetch_index_state(devpi_index.index_url, "never-uploaded", policy=FAST)
    assert not state.exists
    assert state.files == ()


@pytest.mark.slow
def test_devpi_identical_reupload_is_200_different_is_409(
    devpi_index: DevpiIndex, tmp_path: Path
) -> None:
    """On a NON-volatile devpi index an identical re-upload is a no-op answered 200, and a
    different file under the same name is refused with 409; the index keeps the first."""
    upload_url, index_url, user, password = devpi_index
    first = write_wheel(tmp_path / "a", "race-pkg", "1.0")
    other = write_wheel(tmp_path / "b", "race-pkg", "1.0", payload="# another build\n")
    assert first.name == other.name
    assert sha(first) != sha(other)

    created = twine_upload(upload_url, user, password, first)
    assert (created.status_code, created.reason) == (200, "OK")
    again = twine_upload(upload_url, user, password, first)
    assert (again.status_code, again.reason) == (
        200,
        "Upload of identical file to non volatile index.",
    )
    refused = twine_upload(upload_url, user, password, other)
    assert (refused.status_code, refused.reason) == (
        409,
        f"{first.name} already exists in non-volatile index",
    )
    assert f"409 {first.name} already exists in non-volatile index" in refused.text
    state = fetch_index_state(index_url, "race-pkg", policy=FAST)
    assert [(f.filename, f.sha256) for f in state.files] == [(first.name, sha(first))]


# ----------------------------------------------------------------- the HTTP double

Answer = tuple[int, dict[str, str], bytes]
Action = Callable[["Double", http.server.BaseHTTPRequestHandler], Answer | None]


@dataclasses.dataclass
class Double:
    """A loopback HTTP server that answers each GET with the next of ``answers`` (the last
    one repeats). An answer is (status, headers, body), or a callable for misbehaviour."""

    answers: list[Answer | Action]
    requests: list[dict[str, str]] = dataclasses.field(default_factory=list)
    port: int = 0

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


def drop(_double: Double, handler: http.server.BaseHTTPRequestHandler) -> None:
    """Close the connection without a word."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def stall(_double: Double, _handler: http.server.BaseHTTPRequestHandler) -> Answer:
    """Answer later than the reader waits (its timeout is 0.3 s in these tests)."""
    time.sleep(1.5)
    return 200, {"Content-Type": "text/html"}, b""


@pytest.fixture
def double() -> Iterator[Callable[..., Double]]:
    servers: list[LoopbackServer] = []

    def start(*answers: Answer | Action) -> Double:
        d = Double(list(answers))

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:
                d.requests.append({"path": self.path, **dict(self.headers.items())})
                n = min(len(d.requests), len(d.answers)) - 1
                answer = d.answers[n]
                result = answer(d, self) if callable(answer) else answer
                if result is None:
                    return
                status, headers, body = result
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = LoopbackServer(Handler, name="index-double").start()
        servers.append(server)
        d.port = server.port
        return d

    yield start
    for server in servers:
        server.stop()


def html(body: str, status: int = 200) -> Answer:
    return status, {"Content-Type": "text/html; charset=utf-8"}, body.encode()


def as_json(data: object, status: int = 200, content_type: str = JSON) -> Answer:
    return status, {"Content-Type": content_type}, json.dumps(data).encode()


A, B = "a" * 64, "b" * 64

# A PEP 691 page as Warehouse serves it (api 1.1+: size, upload-time, versions; yanked text).
WAREHOUSE_JSON = {
    "meta": {"api-version": "1.4", "_last-serial": 123},
    "name": "demo-pkg",
    "versions": ["0.9", "1.0.0"],
    "files": [
        {
            "filename": "demo_pkg-0.9.tar.gz",
            "url": "https://files.example.invalid/packages/aa/bb/demo_pkg-0.9.tar.gz",
            "hashes": {"sha256": A, "blake2b_256": "c" * 64},
            "requires-python": ">=3.9",
            "size": 1234,
            "upload-time": "2026-01-02T03:04:05.678901Z",
            "yanked": "broken build",
            "data-dist-info-metadata": False,
            "core-metadata": False,
        },
        {
            "filename": "demo_pkg-1.0.0-py3-none-any.whl",
            "url": "https://files.example.invalid/packages/cc/dd/demo_pkg-1.0.0-py3-none-any.whl",
            "hashes": {"sha256": B.upper()},
            "size": 4321,
            "upload-time": "2026-11-01T00:00:00Z",
            "yanked": False,
            "core-metadata": {"sha256": "d" * 64},
        },
    ],
}


def test_pep691_json_with_yanked_and_upload_time(double: Callable[..., Double]) -> None:
    d = double(as_json(WAREHOUSE_JSON))
    state = fetch_index_state(d.index_url, "Demo_Pkg", policy=FAST)
    old, new = state.files
    assert (old.filename, old.sha256, old.yanked, old.version) == (
        "demo_pkg-0.9.tar.gz",
        A,
        True,
        Version("0.9"),
    )
    assert old.upload_time == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    assert (new.sha256, new.yanked) == (B, False)  # sha256 compared in lower case
    assert len(d.requests) == 1
    asked = d.requests[0]
    assert asked["path"] == "/simple/demo-pkg/"  # canonical name in the URL
    assert asked["Accept"].startswith(JSON)  # JSON preferred, HTML accepted
    assert "text/html" in asked["Accept"]
    assert asked["Cache-Control"] == "no-cache"  # never a cached page


def test_html_with_data_yanked(double: Callable[..., Double]) -> None:
    d = double(
        html(
            f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}" data-yanked="">demo_pkg-1.0.tar.gz</a>'
            f'<a href="/p/demo_pkg-1.1.tar.gz#sha256={B}">demo_pkg-1.1.tar.gz</a>'
        )
    )
    state = fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert [(f.filename, f.yanked) for f in state.files] == [
        ("demo_pkg-1.0.tar.gz", True),
        ("demo_pkg-1.1.tar.gz", False),
    ]


def test_html_without_hashes_reads_as_unknown_sha256(double: Callable[..., Double]) -> None:
    d = double(html('<a href="/p/demo_pkg-1.0.tar.gz">demo_pkg-1.0.tar.gz</a>'))
    state = fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert state.files[0].sha256 is None  # the guard refuses such a file: tests/test_guard.py


def test_empty_json_project_is_present_without_files(double: Callable[..., Double]) -> None:
    """A project with every file deleted: listed, no files. JSON says so unambiguously."""
    d = double(as_json({"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": []}))
    state = fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert state.exists
    assert state.files == ()


def test_empty_html_page_that_declares_itself_a_simple_page(double: Callable[..., Double]) -> None:
    d = double(
        html('<html><head><meta name="pypi:repository-version" content="1.0"></head></html>')
    )
    assert fetch_index_state(d.index_url, "demo-pkg", policy=FAST).files == ()


def test_same_host_redirect_is_followed(double: Callable[..., Double]) -> None:
    page = html(f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}">demo_pkg-1.0.tar.gz</a>')
    d = double((301, {"Location": "/elsewhere/demo-pkg/"}, b""), page)
    state = fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert [f.filename for f in state.files] == ["demo_pkg-1.0.tar.gz"]
    assert [r["path"] for r in d.requests] == ["/simple/demo-pkg/", "/elsewhere/demo-pkg/"]


def test_transient_fault_then_success(double: Callable[..., Double]) -> None:
    page = html(f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}">demo_pkg-1.0.tar.gz</a>')
    d = double(html("busy", 503), (429, {"Retry-After": "0"}, b""), page)
    retries: list[tuple[int, Transient]] = []
    state = fetch_index_state(
        d.index_url, "demo-pkg", policy=FAST, on_retry=lambda n, _w, e: retries.append((n, e))
    )
    assert [f.filename for f in state.files] == ["demo_pkg-1.0.tar.gz"]
    assert len(d.requests) == 3
    assert [n for n, _ in retries] == [1, 2]
    assert "HTTP 503" in retries[0][1].what


# -- fail closed: every one of these must raise, after bounded retries where it may pass


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (html("oops", 500), "HTTP 500"),
        (html("bad gateway", 502), "HTTP 502"),
        (html("unavailable", 503), "HTTP 503"),
        ((429, {"Retry-After": "0"}, b""), "HTTP 429"),
        (drop, "ConnectionError"),
        (stall, "Timeout"),
    ],
    ids=["500", "502", "503", "429", "dropped", "timeout"],
)
def test_transient_faults_exhaust_bounded_retries(
    double: Callable[..., Double], answer: Answer | Action, says: str
) -> None:
    d = double(answer)
    retries: list[int] = []
    with pytest.raises(IndexUnavailable) as info:
        fetch_index_state(
            d.index_url,
            "demo-pkg",
            policy=FAST,
            timeout=0.3,
            on_retry=lambda n, _w, _e: retries.append(n),
        )
    assert len(d.requests) == FAST.attempts
    assert retries == [1, 2]
    assert says in str(info.value)
    assert "after 3 attempts" in str(info.value)
    assert "nothing was uploaded" in str(info.value)


def test_connection_refused_exhausts_bounded_retries() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    retries: list[int] = []
    with pytest.raises(IndexUnavailable, match="ConnectionError"):
        fetch_index_state(
            f"http://127.0.0.1:{port}/simple/",
            "demo-pkg",
            policy=FAST,
            on_retry=lambda n, _w, _e: retries.append(n),
        )
    assert retries == [1, 2]


JSON_FILE = {"filename": "demo_pkg-1.0.tar.gz", "url": "/p/demo_pkg-1.0.tar.gz", "hashes": {}}


def one_file(filename: str, url: str) -> dict[str, object]:
    """A PEP 691 page of one file."""
    files = [{"filename": filename, "url": url, "hashes": {"sha256": A}}]
    return {"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": files}


BAD_ANSWERS: dict[str, Answer] = {
    # links only a lenient parser finds: UTF-16 with no charset said (it read as "no files")
    "html: UTF-16 without a charset": (
        200,
        {"Content-Type": "text/html"},
        (
            '<html><head><meta name="pypi:repository-version" content="1.0"></head><body>'
            '<a href="/f/demo_pkg-1.0.tar.gz">demo_pkg-1.0.tar.gz</a></body></html>'
        ).encode("utf-16-le"),
    ),
    # JSON that does not parse, or is not a PEP 691 page
    "json: not json": (200, {"Content-Type": JSON}, b"{not json"),
    "json: truncated": (200, {"Content-Type": JSON}, json.dumps(WAREHOUSE_JSON).encode()[:300]),
    "json: a list": as_json([]),
    "json: no meta": as_json({"name": "demo-pkg", "files": []}),
    "json: no files": as_json({"meta": {"api-version": "1.0"}, "name": "demo-pkg"}),
    "json: files not a list": as_json(
        {"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": "demo_pkg-1.0.tar.gz"}
    ),
    "json: file without filename": as_json(
        {"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": [{"url": "x", "hashes": {}}]}
    ),
    "json: hashes not a table": as_json(
        {
            "meta": {"api-version": "1.0"},
            "name": "demo-pkg",
            "files": [
                {"filename": "demo_pkg-1.0.tar.gz", "url": "demo_pkg-1.0.tar.gz", "hashes": A}
            ],
        }
    ),
    "json: malformed sha256": as_json(
        {
            "meta": {"api-version": "1.0"},
            "name": "demo-pkg",
            "files": [
                {
                    "filename": "demo_pkg-1.0.tar.gz",
                    "url": "demo_pkg-1.0.tar.gz",
                    "hashes": {"sha256": "not-a-hash"},
                }
            ],
        }
    ),
    "json: empty filename": as_json(
        {
            "meta": {"api-version": "1.0"},
            "name": "demo-pkg",
            "files": [{"filename": "", "url": "x/", "hashes": {}}],
        }
    ),
    "json: bad upload-time": as_json(
        {
            "meta": {"api-version": "1.1"},
            "name": "demo-pkg",
            "versions": ["1.0"],
            "files": [
                {
                    "filename": "demo_pkg-1.0.tar.gz",
                    "url": "demo_pkg-1.0.tar.gz",
                    "hashes": {},
                    "size": 1,
                    "upload-time": "yesterday",
                }
            ],
        }
    ),
    "json: api version 2": as_json(
        {"meta": {"api-version": "2.0"}, "name": "demo-pkg", "files": []}
    ),
    "json: page of another project": as_json(
        {"meta": {"api-version": "1.0"}, "name": "other-pkg", "files": []}
    ),
    "json: served as application/json": as_json(WAREHOUSE_JSON, content_type="application/json"),
    # the HTML cases below, as JSON (the page is read file object by file object)
    "json: url without filename": as_json(one_file("demo_pkg-1.0.tar.gz", "/")),
    "json: empty url": as_json(one_file("demo_pkg-1.0.tar.gz", "")),
    "json: url to a folder": as_json(one_file("demo_pkg-1.0.tar.gz", "../other/")),
    "json: filename is not the url's file": as_json(one_file("download", "/p/demo_pkg-1.0.tar.gz")),
    "json: filename of another file": as_json(
        one_file("demo_pkg-1.0.tar.gz", "/p/demo_pkg-1.1.tar.gz")
    ),
    "json: garbage": (200, {"Content-Type": JSON}, b"<<<>>>< a href= \x00 garbage"),
    "json: empty body": (200, {"Content-Type": JSON}, b""),
    "json: a file object outside files": as_json(
        {**one_file("demo_pkg-1.0.tar.gz", "/p/demo_pkg-1.0.tar.gz"), "_more": [JSON_FILE]}
    ),
    "json: data after the page": (
        200,
        {"Content-Type": JSON},
        json.dumps(one_file("demo_pkg-1.0.tar.gz", "/p/demo_pkg-1.0.tar.gz")).encode() + b"[]",
    ),
    # HTML with broken links, or that is not a project page
    "html: href without filename": html('<a href="/">demo_pkg-1.0.tar.gz</a>'),
    "html: empty href": html('<a href="">demo_pkg-1.0.tar.gz</a>'),
    "html: link to a folder": html('<a href="../other/">demo_pkg-1.0.tar.gz</a>'),
    "html: link text is not the filename": html(
        f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}">download</a>'
    ),
    "html: empty link text": html(f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}"></a>'),
    "html: malformed sha256": html(
        '<a href="/p/demo_pkg-1.0.tar.gz#sha256=zzz">demo_pkg-1.0.tar.gz</a>'
    ),
    "html: garbage": html("<<<>>>< a href= \x00 garbage"),
    "html: a page with no links": html("<html><body><h1>Welcome to our index</h1></body></html>"),
    "html: empty body": html(""),
    "html: a declared page without links, larger than an empty page": html(
        '<meta name="pypi:repository-version" content="1.0">' + "<p>x</p>" * 10_000
    ),
    # not a page at all
    "text/plain": (200, {"Content-Type": "text/plain"}, b"demo_pkg-1.0.tar.gz"),
    "no content type": (200, {}, b"demo_pkg-1.0.tar.gz"),
    # refusals that no retry fixes
    "401": html("login", 401),
    "403": html("forbidden", 403),
    "410 gone": html("gone", 410),
    "redirect to another host": (
        302,
        {"Location": "https://pypi.example.invalid/simple/demo-pkg/"},
        b"",
    ),
    "redirect to localhost (another name)": (
        301,
        {"Location": "http://localhost:9/simple/demo-pkg/"},
        b"",
    ),
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_untrustworthy_answers_never_make_an_index_state(
    double: Callable[..., Double], answer: Answer
) -> None:
    """Each raises IndexUnavailable at once (one request: retrying cannot fix it), so no
    IndexState exists that could read as "version absent" and let an upload through."""
    d = double(answer)
    with pytest.raises(IndexUnavailable) as info:
        fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert len(d.requests) == 1
    assert "nothing was uploaded" in str(info.value)
    assert info.value.fix


@pytest.mark.parametrize("keep", [VERSIONS, Keep.of(Version("1.0"))], ids=["versions", "1.0"])
@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_untrustworthy_answers_are_refused_whatever_a_read_keeps(
    double: Callable[..., Double], answer: Answer, keep: Keep
) -> None:
    """Every check runs on every link as the page streams, not only on the files kept."""
    d = double(answer)
    with pytest.raises(IndexUnavailable) as info:
        fetch_index_state(d.index_url, "demo-pkg", policy=FAST, keep=keep)
    assert len(d.requests) == 1
    assert info.value.fix


def test_redirect_to_another_host_is_not_followed(double: Callable[..., Double]) -> None:
    target = double(as_json({"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": []}))
    host = f"localhost:{target.port}"
    d = double((302, {"Location": f"http://{host}/simple/demo-pkg/"}, b""))
    with pytest.raises(IndexUnavailable, match="redirects to another host"):
        fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert target.requests == []


def test_redirect_loop_is_bounded(double: Callable[..., Double]) -> None:
    d = double((302, {"Location": "/simple/demo-pkg/"}, b""))
    with pytest.raises(IndexUnavailable, match="Too many redirects"):
        fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    assert len(d.requests) == 5


def test_credentials_in_the_index_url_are_never_shown(double: Callable[..., Double]) -> None:
    d = double(html("nope", 500))
    url = d.index_url.replace("http://", "http://reader:s3cr3t-pw@")
    with pytest.raises(IndexUnavailable) as info:
        fetch_index_state(url, "demo-pkg", policy=FAST)
    assert "s3cr3t-pw" not in str(info.value)


@pytest.mark.parametrize(
    ("filename", "named"),
    [
        ("demo_pkg-1.0.0.win32.exe", {"1.0.0"}),
        ("Demo.Pkg-1.0.linux-x86_64.exe", {"1.0"}),
        ("demo_pkg-1.0rc1-py2.7.egg", {"1.0rc1"}),
        ("README", set()),
    ],
)
def test_versions_named(filename: str, named: set[str]) -> None:
    assert versions_named(filename) == {Version(v) for v in named}


def test_hash_of_a_file_matches_what_the_index_serves(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    """The manifest's sha256 and the index's are the same function of the same bytes."""
    wheel = write_wheel(tmp_path, "demo-pkg", "1.0", payload="x" * 100_000)
    shutil.copy(wheel, local_index.root)
    state = fetch_index_state(local_index.index_url, "demo-pkg", policy=FAST)
    assert state.files[0].sha256 == hash_file(wheel)[0]


def test_untrusted_page_says_why(double: Callable[..., Double]) -> None:
    d = double(html(f'<a href="/p/demo_pkg-1.0.tar.gz#sha256={A}">download</a>'))
    with pytest.raises(IndexUnavailable) as info:
        fetch_index_state(d.index_url, "demo-pkg", policy=FAST)
    message = str(info.value)
    assert "cannot be trusted as the list of demo-pkg's files" in message
    assert "names 'download' but points at 'demo_pkg-1.0.tar.gz'" in message


# ----------------------------------------------------------------- read + decide, end to end


def manifest_of(name: str, version: str, *paths: Path) -> Manifest:
    return Manifest(
        name,
        version,
        tuple(
            DistFile(p.name, sha(p), p.stat().st_size, "wheel" if p.suffix == ".whl" else "sdist")
            for p in paths
        ),
    )


def test_guard_on_pypiserver_resume_refuse_nothing_to_do(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    sdist = write_sdist(tmp_path / "ours", "demo-pkg", "1.0.0")
    wheel = write_wheel(tmp_path / "ours", "demo-pkg", "1.0.0")
    rebuilt = write_wheel(tmp_path / "rebuilt", "demo-pkg", "1.0.0", payload="# rebuilt\n")
    login = (local_index.upload_url, local_index.username, local_index.password)
    assert twine_upload(*login, sdist).status_code == 200  # an interrupted release

    def plan(*paths: Path) -> Verdict:
        state = fetch_index_state(local_index.index_url, "demo-pkg", policy=FAST)
        return decide(manifest_of("demo-pkg", "1.0.0", *paths), state, Rules()).verdict

    assert plan(sdist, wheel) is Verdict.UPLOAD  # resume: only the wheel is missing
    assert decide(
        manifest_of("demo-pkg", "1.0.0", sdist, wheel),
        fetch_index_state(local_index.index_url, "demo-pkg", policy=FAST),
        Rules(),
    ).to_upload == (wheel.name,)
    assert twine_upload(*login, wheel).status_code == 200
    assert plan(sdist, wheel) is Verdict.NOTHING_TO_DO
    assert plan(sdist, rebuilt) is Verdict.REFUSED  # same filename, other bytes


@pytest.mark.slow
def test_guard_on_devpi_json(devpi_index: DevpiIndex, tmp_path: Path) -> None:
    upload_url, index_url, user, password = devpi_index
    first = write_wheel(tmp_path / "a", "guarded-pkg", "2.0")
    rebuilt = write_wheel(tmp_path / "b", "guarded-pkg", "2.0", payload="# rebuilt\n")
    assert twine_upload(upload_url, user, password, first).status_code == 200
    state = fetch_index_state(index_url, "guarded-pkg", policy=FAST)
    same = decide(manifest_of("guarded-pkg", "2.0.0", first), state, Rules())
    assert same.verdict is Verdict.NOTHING_TO_DO
    other = decide(manifest_of("Guarded_Pkg", "2.0", rebuilt), state, Rules())
    assert other.verdict is Verdict.REFUSED
    assert other.next_free == Version("2.0.1")

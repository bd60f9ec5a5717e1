"""Hostile answers are bounded (release.http) and a credential goes only where it belongs
(release.destinations): against the hostile loopback index (tests/hostile.py) for the answers
no real index gives, and against real pypiserver for where credentials go.

Outcomes only: exit codes, exception classes, and what the servers saw (requests counted at
the server). Time and memory are measured in bench/bench_hostile.py, not asserted here, except
one generous memory ceiling that fails if a cap is missing (a 200 MB answer held whole).
"""

from __future__ import annotations

import base64
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release import cli, destinations, http, redact
from release.config import IndexSettings
from release.credentials import Credential, resolve
from release.endpoints import PROD_UPLOAD_URL, TEST_UPLOAD_URL, Warehouse
from release.errors import CredentialError, ExitCode, IndexUnavailable, ReleaseError
from release.index import fetch_index_state
from release.localindex import LocalIndex
from release.manifest import DistFile
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import upload_files
from release.verify import _download_url
from tests.hostile import FILENAME, HostileIndex, wait_for
from tests.macaroons import make_token
from tests.oidc_double import OIDCDouble
from tests.sample_projects import write_wheel

ONCE = RetryPolicy(attempts=1, base=0.0, max_wait=0.0)
TWICE = RetryPolicy(attempts=2, base=0.0, max_wait=0.0)
MB = 1024 * 1024


@pytest.fixture
def hostile() -> Iterator[HostileIndex]:
    with HostileIndex() as server:
        yield server


def read(server: HostileIndex, timeout: float = 5.0, policy: RetryPolicy = TWICE) -> Any:
    return fetch_index_state(server.index_url, "demo-pkg", policy=policy, timeout=timeout)


# ------------------------------------------------------------------ hostile answers, exit 4


def test_good_page_reads(hostile: HostileIndex) -> None:
    """The control: the same server in its honest mode is read fine."""
    state = read(hostile)
    assert [f.filename for f in state.files] == [FILENAME]


@pytest.mark.parametrize(
    ("mode", "error", "says"),
    [
        ("trickle", http.AnswerTooSlow, "did not finish answering"),
        ("gzip_bomb", http.AnswerTooLarge, "decoded"),
        ("huge", http.AnswerTooLarge, "larger than"),
        ("huge_unannounced", http.AnswerTooLarge, "larger than"),
        ("duplicate_keys", IndexUnavailable, "duplicate key 'files'"),
        ("deep_json", IndexUnavailable, "nested too deeply"),
        ("duplicate_file", IndexUnavailable, "listed twice with different sha256"),
    ],
)
def test_hostile_page_fails_closed_once(
    hostile: HostileIndex, mode: str, error: type[IndexUnavailable], says: str
) -> None:
    """Each is exit 4 with the fix, and is not retried (a hostile answer would be again)."""
    hostile.mode = mode
    if mode == "gzip_bomb":
        hostile.bomb()  # built before the read, not while the client waits
    with pytest.raises(error) as info:
        read(hostile, timeout=1.0)
    assert info.value.exit_code == ExitCode.INDEX_UNAVAILABLE
    assert says in info.value.message
    assert info.value.fix
    assert len(hostile.requests) == 1


def test_hostile_pages_cost_at_most_the_cap_in_memory(hostile: HostileIndex) -> None:
    """A 200 MB page and a 200 MB gzip bomb are refused holding no more than about the cap
    (32 MiB) at once. Without the caps the peak is 200 MB or more."""
    hostile.bomb()  # built before measuring
    for mode in ("huge", "huge_unannounced", "gzip_bomb"):
        hostile.mode = mode
        tracemalloc.start()
        try:
            with pytest.raises(http.AnswerTooLarge):
                read(hostile, timeout=30)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 3 * http.PAGE_CAP, (mode, peak)


def test_trickle_through_the_cli_is_exit_4(
    hostile: HostileIndex, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile.mode = "trickle"
    monkeypatch.setenv("RELEASE_TEST_INDEX_URL", hostile.index_url)
    monkeypatch.setenv("RELEASE_TIMEOUT", "1")
    code = cli.main(["--root", str(make_project()), "doctor", "--index", "test"])
    assert code == ExitCode.INDEX_UNAVAILABLE


def test_stalled_server_is_a_timeout_and_retried(hostile: HostileIndex) -> None:
    """No headers at all by the deadline is a stall: a timeout, retried like one (unlike a
    trickling body, which is not)."""
    hostile.mode = "stall"
    with pytest.raises(IndexUnavailable) as info:
        read(hostile, timeout=0.5, policy=TWICE)
    assert not isinstance(info.value, http.AnswerError)
    assert "Timeout" in info.value.message
    assert wait_for(lambda: len(hostile.requests) == 2)


def test_redirect_to_another_host_is_not_followed(hostile: HostileIndex) -> None:
    with HostileIndex() as other:
        hostile.mode = "redirect"
        hostile.redirect_to = other.base_url.replace("127.0.0.1", "localhost")
        with pytest.raises(IndexUnavailable, match="redirects to another host"):
            read(hostile)
        assert other.requests == []


def test_sdist_longer_than_the_manifest_is_cut_off(hostile: HostileIndex, tmp_path: Path) -> None:
    hostile.file_bytes = b"x" * (2 * MB)
    with pytest.raises(http.AnswerTooLarge):
        _download_url(hostile.base_url + "/files/demo_pkg-1.0.tar.gz", tmp_path, 10.0, MB)
    written = tmp_path / "demo_pkg-1.0.tar.gz"
    assert written.stat().st_size <= MB  # cut off at the promised size


def test_sdist_of_the_promised_size_downloads(hostile: HostileIndex, tmp_path: Path) -> None:
    hostile.file_bytes = b"x" * MB
    got = _download_url(hostile.base_url + "/files/demo_pkg-1.0.tar.gz", tmp_path, 10.0, MB)
    assert got.read_bytes() == hostile.file_bytes


# ------------------------------------------------------------------ strict JSON (pure)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"x": {"b": 1, "b": 1}}', "duplicate key"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ],
    ids=["duplicate", "nested-duplicate", "deep"],
)
def test_strict_json_refuses(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        http.strict_json(text)


def test_strict_json_reads_ordinary_json() -> None:
    assert http.strict_json('{"a": [1, {"b": null}], "c": "a"}') == {
        "a": [1, {"b": None}],
        "c": "a",
    }


# ------------------------------------------------------------------ redirects carry no credential


def test_upload_redirect_to_another_host_carries_no_credential(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    wheel = write_wheel(tmp_path, "demo-pkg", "1.0")
    with HostileIndex() as other:
        hostile.mode = "redirect"
        hostile.redirect_to = other.base_url.replace("127.0.0.1", "localhost")
        index = IndexSettings("test", hostile.upload_url, hostile.index_url, "__token__")
        entry = DistFile(wheel.name, "0" * 64, wheel.stat().st_size, "wheel")
        with pytest.raises(ReleaseError) as info:
            upload_files(
                [(wheel, entry)],
                index=index,
                credential=Credential("__token__", "s3cret-password-long", "test"),
                project="demo-pkg",
                reporter=Reporter(),
                policy=ONCE,
                timeout=5.0,
                concurrency=1,
                first_alone=True,
                wait=0.0,
            )
        assert info.value.exit_code != ExitCode.OK
        assert other.requests == []  # never followed
    assert len(hostile.sent_authorization()) <= 1  # the one upload host it was meant for


def test_echoed_authorization_is_never_shown(
    hostile: HostileIndex,
    make_project: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """doctor's auth probe to a server that repeats the Authorization header in its reason
    phrase and its page: neither the secret nor its base64 reaches the output."""
    secret = "hunter2-not-a-token-but-long-enough"
    with HostileIndex("page") as reader:
        hostile.mode = "echo_auth"
        monkeypatch.setenv("RELEASE_TEST_INDEX_URL", reader.index_url)
        monkeypatch.setenv("RELEASE_TEST_UPLOAD_URL", hostile.upload_url)
        monkeypatch.setenv("RELEASE_TEST_USERNAME", "alice")
        monkeypatch.setenv("RELEASE_TEST_PASSWORD", secret)
        code = cli.main(["--root", str(make_project()), "doctor", "--index", "test"])
    captured = capsys.readouterr()
    assert code == ExitCode.CREDENTIALS
    assert wait_for(lambda: len(hostile.sent_authorization()) == 1)
    basic = base64.b64encode(f"alice:{secret}".encode()).decode()
    for text in (captured.out, captured.err):
        assert secret not in text
        assert basic not in text
        assert basic.rstrip("=") not in text


# ------------------------------------------------------------------ where a credential may go


PYPI_TOKEN = make_token(caveats=[[3, "u"]])
TESTPYPI_TOKEN = make_token(location="test.pypi.org", caveats=[[3, "u"]])


@pytest.mark.parametrize(
    ("warehouse", "url", "allowed"),
    [
        (Warehouse.PYPI, PROD_UPLOAD_URL, True),
        (Warehouse.PYPI, TEST_UPLOAD_URL, False),
        (Warehouse.PYPI, "https://pypi.org/legacy/", False),  # the site, not the upload host
        (Warehouse.PYPI, "https://upload.pypi.org.evil.example/legacy/", False),
        (Warehouse.PYPI, "https://private.example/legacy/", False),
        (Warehouse.PYPI, "http://127.0.0.1:8080/", False),
        (Warehouse.TESTPYPI, TEST_UPLOAD_URL, True),
        (Warehouse.TESTPYPI, PROD_UPLOAD_URL, False),
        (None, "https://private.example/legacy/", True),  # not a public token: no binding
    ],
)
def test_token_goes_only_to_its_upload_host(
    warehouse: Warehouse | None, url: str, allowed: bool
) -> None:
    if allowed:
        destinations.check_destination(url, "u", token_warehouse=warehouse)
    else:
        with pytest.raises(CredentialError) as info:
            destinations.check_destination(url, "u", token_warehouse=warehouse)
        assert info.value.exit_code == ExitCode.CREDENTIALS
        assert info.value.fix


@pytest.mark.parametrize(
    ("base", "upload", "allowed"),
    [
        ("https://pypi.org", PROD_UPLOAD_URL, True),
        ("https://test.pypi.org", TEST_UPLOAD_URL, True),
        ("https://pypi.org", TEST_UPLOAD_URL, False),
        ("https://warehouse.example", "https://warehouse.example/legacy/", True),
        ("https://warehouse.example", "https://other.example/legacy/", False),
    ],
)
def test_minted_token_goes_only_where_it_was_minted(base: str, upload: str, allowed: bool) -> None:
    bound = destinations.mint_binding(base)
    if allowed:
        destinations.check_destination(upload, "u", token_warehouse=None, minted_for=bound)
    else:
        with pytest.raises(CredentialError):
            destinations.check_destination(upload, "u", token_warehouse=None, minted_for=bound)


@pytest.mark.parametrize(
    ("url", "allow_http", "outcome"),
    [
        ("https://private.example/", False, "ok"),
        ("http://127.0.0.1:8080/", False, "ok"),
        ("http://[::1]:8080/", False, "ok"),
        ("http://localhost:8080/", False, "ok"),
        ("http://private.example/", False, "refused"),
        ("http://private.example/", True, "warned"),
        ("http://upload.pypi.org/legacy/", True, "refused"),
        ("http://test.pypi.org/legacy/", True, "refused"),
        ("ftp://private.example/", True, "refused"),
    ],
)
def test_plain_http_only_to_loopback(url: str, allow_http: bool, outcome: str) -> None:
    if outcome == "refused":
        with pytest.raises(CredentialError):
            destinations.check_transport(url, "u", allow_http=allow_http)
        return
    warning = destinations.check_transport(url, "u", allow_http=allow_http)
    assert (warning is not None) == (outcome == "warned")


def test_http_opt_in_warns_on_every_resolve() -> None:
    index = IndexSettings("test", "http://private.example/legacy/", "https://x/simple/", "u")
    environ = {"RELEASE_TEST_PASSWORD": "a-private-password"}
    with pytest.raises(CredentialError, match="allow-http-credentials"):
        resolve(index, "demo-pkg", environ)
    for _run in range(2):
        credential = resolve(
            index, "demo-pkg", {**environ, "RELEASE_ALLOW_HTTP_CREDENTIALS": "true"}
        )
        assert len(credential.warnings) == 1


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("RELEASE_TEST_PASSWORD", "TEST_PYPI_API_TOKEN", "TWINE_PASSWORD", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RELEASE_RETRIES", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return monkeypatch


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(PYPI_TOKEN, marks=pytest.mark.slow),  # this one also builds and uploads
        TESTPYPI_TOKEN,
        f"  '{PYPI_TOKEN}'\n",
    ],
)
def test_public_token_for_pypiserver_is_refused_by_doctor(
    clean: pytest.MonkeyPatch, make_project: Any, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PyPI/TestPyPI token configured for another host (a real pypiserver that would accept
    it): doctor (whose auth probe is a request) exits 7, pypiserver gets no upload request,
    and the token is not shown."""
    with LocalIndex(username="__token__", password=token) as index:
        clean.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        clean.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        clean.setenv("TEST_PYPI_API_TOKEN", token)
        assert cli.main(["--root", str(make_project()), "doctor", "--index", "test"]) == 7
        assert index.uploads == 0
    captured = capsys.readouterr()
    assert token.strip().strip("'") not in captured.out + captured.err
    assert "only ever sent to" in captured.out + captured.err


@pytest.mark.slow
def test_public_token_for_pypiserver_is_refused_by_upload_and_release(
    clean: pytest.MonkeyPatch, make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same refusal in the upload and release commands, after a real build: exit 7 and
    pypiserver never sees an upload."""
    root = make_project()
    with LocalIndex(username="__token__", password=PYPI_TOKEN) as index:
        for name in ("TEST", "PROD"):
            clean.setenv(f"RELEASE_{name}_UPLOAD_URL", index.upload_url)
            clean.setenv(f"RELEASE_{name}_INDEX_URL", index.index_url)
        clean.setenv("TEST_PYPI_API_TOKEN", PYPI_TOKEN)
        clean.setenv("PYPI_API_TOKEN", PYPI_TOKEN)
        # one index plays both: dependencies from the pip configuration, or release stops
        # first (exit 2) because verify would take them from the test index
        clean.setenv("RELEASE_DEPENDENCY_INDEX_URL", "pip")
        assert cli.main(["--root", str(root), "build"]) == 0
        assert cli.main(["--root", str(root), "upload", "--index", "test"]) == 7
        assert cli.main(["--root", str(root), "release"]) == 7
        assert index.uploads == 0
        assert index.files() == []
    captured = capsys.readouterr()
    assert PYPI_TOKEN not in captured.out + captured.err


def test_private_index_token_still_goes_to_its_index(
    clean: pytest.MonkeyPatch, make_project: Any
) -> None:
    """The control: a token that names its own host (a private warehouse) is sent."""
    token = make_token(location="127.0.0.1", caveats=[[3, "u"]])
    with LocalIndex(username="__token__", password=token) as index:
        clean.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        clean.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        clean.setenv("TEST_PYPI_API_TOKEN", token)
        assert cli.main(["--root", str(make_project()), "doctor", "--index", "test"]) == 0
        assert index.uploads == 1  # the auth probe


@pytest.mark.usefixtures("clean")
def test_redaction_registry_knows_the_refused_token() -> None:
    """Refused before sending, the token is still registered for redaction."""
    index = IndexSettings("test", "http://127.0.0.1:9/", "http://127.0.0.1:9/simple/", "__token__")
    with pytest.raises(CredentialError):
        resolve(index, "demo-pkg", {"TEST_PYPI_API_TOKEN": PYPI_TOKEN})
    assert PYPI_TOKEN not in redact.redact(f"x {PYPI_TOKEN} y")


# ------------------------------------------------------------------ minted tokens, end to end


@pytest.fixture
def oidc() -> Iterator[OIDCDouble]:
    with OIDCDouble() as double:
        yield double


def test_minted_token_is_refused_for_another_host(oidc: OIDCDouble, tmp_path: Path) -> None:
    """Minted by the OIDC double on 127.0.0.1 (a private warehouse), configured to go to
    ``localhost``: refused, though the mint itself worked."""
    env = oidc.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": oidc.base_url,
        "RELEASE_TRUSTED_PUBLISHING": "force",
    }
    elsewhere = IndexSettings("test", "http://localhost:9/up/", "http://localhost:9/simple/", "u")
    with pytest.raises(CredentialError, match=r"bound to 127\.0\.0\.1") as info:
        resolve(elsewhere, "demo", env)
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert oidc.mints == 1
    for token in oidc.issued_tokens:
        assert token not in str(info.value)


def test_minted_pypi_token_is_refused_for_a_private_host(oidc: OIDCDouble, tmp_path: Path) -> None:
    """A minted token that says it is PyPI's goes to PyPI's upload host or nowhere."""
    oidc.token_location = "pypi.org"
    env = oidc.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": oidc.base_url,
        "RELEASE_TRUSTED_PUBLISHING": "force",
    }
    here = IndexSettings("test", oidc.base_url + "/up/", oidc.base_url + "/simple/", "u")
    with pytest.raises(CredentialError, match="PyPI token"):
        resolve(here, "demo", env)


def test_unknown_charset_reads_as_utf8() -> None:
    headers = {"content-type": "text/html; charset=no-such-codec"}
    answer = http.Answer("http://127.0.0.1/", 403, "Forbidden", headers, "refusé".encode())
    assert answer.text == "refusé"

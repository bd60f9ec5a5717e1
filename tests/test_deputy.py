"""An index cannot make the tool ask for another index's identity token (a confused deputy),
and a URL that carries a credential names its host one way only (issue 18, sections 1 and 6).

Against the OIDC double (tests/oidc_double.py: the real ``id`` package fetches identity tokens
over HTTP from it) and a real pypiserver for the dry run. Each attack is tried; what the double
saw (identity tokens issued, tokens minted) is the outcome asserted.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from urllib3.util import parse_url

from release import cli, destinations, endpoints
from release.config import IndexSettings
from release.credentials import resolve
from release.errors import CredentialError, ExitCode
from release.localindex import LocalIndex
from tests.conftest import ProjectFactory
from tests.oidc_double import OIDCDouble

PRIVATE = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/simple/", "__token__")
# Every spelling that reaches PyPI's or TestPyPI's identity token: as is, in other case, with
# spaces, and with a dotless i (U+0131), which ``id`` upper-cases to PYPI_ID_TOKEN on GitLab.
FOREIGN_AUDIENCES = ["pypi", "testpypi", "PyPI", " pypi ", "pyp\u0131", "TestPyPI"]


@pytest.fixture
def double() -> Iterator[OIDCDouble]:
    with OIDCDouble() as d:
        yield d


def github(double: OIDCDouble, tmp_path: Path) -> dict[str, str]:
    return double.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
        "RELEASE_TRUSTED_PUBLISHING": "force",
    }


# ------------------------------------------------------------------ the audience's host


@pytest.mark.parametrize("audience", FOREIGN_AUDIENCES)
def test_foreign_host_announcing_pypis_audience_gets_no_identity_token(
    double: OIDCDouble, tmp_path: Path, audience: str
) -> None:
    """A private index (the double on 127.0.0.1) says its audience is PyPI's: refused with
    exit 7 before GitHub is asked for an identity token; nothing reaches mint-token."""
    double.audience = audience
    with pytest.raises(CredentialError) as info:
        resolve(PRIVATE, "demo", github(double, tmp_path))
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert "No identity token was requested" in info.value.message
    assert double.audience_requests == 1
    assert double.jwts == []  # GitHub's token endpoint was never called
    assert double.seen == []
    assert double.mints == 0


def test_foreign_pypi_audience_is_refused_on_gitlab_too(double: OIDCDouble, tmp_path: Path) -> None:
    """GitLab puts the identity token in PYPI_ID_TOKEN; a host announcing "PyPI" would get it."""
    environ = double.gitlab_environ("pypi") | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
        "RELEASE_TRUSTED_PUBLISHING": "force",
    }
    double.audience = "PyPI"
    with pytest.raises(CredentialError) as info:
        resolve(PRIVATE, "demo", environ)
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert double.seen == []


def test_doctor_asks_for_no_identity_token_of_a_foreign_audience(double: OIDCDouble) -> None:
    """doctor's identity check reads the claims of an identity token: not for PyPI's audience
    announced by another host."""
    from release import trusted

    double.audience = "pypi"
    with pytest.raises(CredentialError):
        trusted.identity_claims(
            PRIVATE, double.github_environ(), override=double.base_url, timeout=5
        )
    assert double.jwts == []


def test_the_index_own_audience_is_exchanged(double: OIDCDouble, tmp_path: Path) -> None:
    """The control: a private warehouse announcing its own audience mints as before."""
    credential = resolve(PRIVATE, "demo", github(double, tmp_path))
    assert credential.get()[1] == double.issued_tokens[0]
    assert len(double.jwts) == 1


@pytest.mark.parametrize(
    ("base", "audience", "allowed"),
    [
        ("https://pypi.org", "pypi", True),
        ("https://test.pypi.org", "testpypi", True),
        ("https://pypi.org.", "pypi", True),
        ("https://PyPI.org:443", "pypi", True),
        ("https://test.pypi.org", "pypi", False),  # TestPyPI cannot ask for PyPI's
        ("https://pypi.org", "testpypi", False),
        ("http://pypi.org", "pypi", False),
        ("https://pypi.org.evil.example", "pypi", False),
        ("https://upload.pypi.org", "pypi", False),  # not where /_/oidc/ lives
        ("https://warehouse.example", "PYPI", False),
        ("https://warehouse.example", "pypi_", True),  # PYPI__ID_TOKEN: not PyPI's variable
        ("https://warehouse.example", "warehouse.example", True),
    ],
)
def test_check_audience(base: str, audience: str, allowed: bool) -> None:
    if allowed:
        destinations.check_audience(base, audience, "u")
    else:
        with pytest.raises(CredentialError) as info:
            destinations.check_audience(base, audience, "u")
        assert info.value.fix


# ------------------------------------------------------------------ --dry-run


@pytest.mark.parametrize(("audience", "status"), [("nox-release-double", 0), ("pypi", 7)])
def test_dry_run_never_requests_an_identity_token(
    double: OIDCDouble,
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    audience: str,
    status: int,
) -> None:
    """``release --dry-run`` in a CI job with an identity: it says what it would exchange and
    predicts the exit status (7 for a foreign audience), and the provider is never asked."""
    double.audience = audience
    root = make_project()
    with LocalIndex() as index:
        for name in ("TEST", "PROD"):
            monkeypatch.setenv(f"RELEASE_{name}_UPLOAD_URL", index.upload_url)
            monkeypatch.setenv(f"RELEASE_{name}_INDEX_URL", index.index_url)
            monkeypatch.setenv(f"RELEASE_{name}_TRUSTED_PUBLISHING_URL", double.base_url)
        for name, value in github(double, tmp_path).items():
            monkeypatch.setenv(name, value)
        assert cli.main(["--root", str(root), "release", "--dry-run"]) == status
    assert double.audience_requests == 2
    assert double.jwts == []
    assert double.mints == 0
    if status == 0:
        assert "none was requested" in capsys.readouterr().out


# ------------------------------------------------------------------ one host, one spelling


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1\\@pypi.org",  # urllib3 connects to 127.0.0.1
        "https://127.0.0.1:8080\\@pypi.org/",
        "https://pypi.org\\.evil.example/",
        "https://u:p@pypi.org/",
        "https://pypi.org:443@evil.example/",
        "https://upload%2epypi%2eorg/legacy/",  # urllib3 percent-decodes the host
        "https://\uff50ypi.org/",  # full-width p: IDNA maps it to pypi.org
        "https://pypi.org\t/",
    ],
)
def test_ambiguous_trusted_publishing_url_is_refused(
    double: OIDCDouble, tmp_path: Path, url: str
) -> None:
    """``*-trusted-publishing-url`` gets the upload URL's checks: exit 7 when resolving, exit 2
    when the configuration loads, and the identity token goes nowhere."""
    environ = github(double, tmp_path) | {"RELEASE_TEST_TRUSTED_PUBLISHING_URL": url}
    with pytest.raises(CredentialError) as info:
        resolve(PRIVATE, "demo", environ)
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert "Nothing was sent" in info.value.message
    assert double.audience_requests == 0
    assert double.jwts == []


@pytest.mark.parametrize(
    "key",
    ["RELEASE_TEST_TRUSTED_PUBLISHING_URL", "RELEASE_PROD_UPLOAD_URL", "RELEASE_TEST_INDEX_URL"],
)
def test_ambiguous_url_is_bad_configuration(
    make_project: ProjectFactory, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project()
    url = {
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": "https://127.0.0.1\\@pypi.org",
        "RELEASE_PROD_UPLOAD_URL": "https://upload.pypi.org\\.evil.example/legacy/",
        "RELEASE_TEST_INDEX_URL": "https://test%2epypi%2eorg/simple/",
    }[key]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(key, url)
        assert cli.main(["--root", str(root), "plan"]) == 2
    assert "plain https://host/path URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [
        ("http://upload.pypi.org./legacy/", True),  # the DNS root's dot: still PyPI
        ("http://test.pypi.org./legacy/", True),
        ("http://UPLOAD.PYPI.ORG./legacy/", True),
        ("http://upload%2epypi%2eorg/legacy/", True),
        ("http://upload.pypi%2Eorg/legacy/", True),
        ("http://evil.localhost/legacy/", False),  # a name, not loopback
        ("http://localhost.evil.example/legacy/", False),
        ("http://127.0.0.1.evil.example/legacy/", False),
    ],
)
def test_http_spellings_of_pypi_and_loopback_are_refused(url: str, allow_http: bool) -> None:
    with pytest.raises(CredentialError) as info:
        destinations.check_transport(url, "u", allow_http=allow_http)
    assert info.value.exit_code == ExitCode.CREDENTIALS


def test_trailing_dot_is_the_same_host_for_a_token() -> None:
    """A PyPI token may go to ``upload.pypi.org.`` (the same host), and a TestPyPI token not."""
    destinations.check_destination(
        "https://upload.pypi.org./legacy/", "u", token_warehouse=endpoints.Warehouse.PYPI
    )
    with pytest.raises(CredentialError):
        destinations.check_destination(
            "https://upload.pypi.org./legacy/", "u", token_warehouse=endpoints.Warehouse.TESTPYPI
        )


def _urllib3_host(url: str) -> str | None:
    """The host urllib3 (through requests) would connect to, as host_of spells hosts."""
    try:
        host = parse_url(url).host
    except ValueError:  # LocationParseError: nothing is connected to
        return None
    return (host or "").strip("[]").lower().rstrip(".")


_NETLOC = st.text(
    alphabet=string.ascii_letters[:6] + string.digits[:3] + ".-:@\\%[]/?#\uff50\u0131 \t",
    max_size=24,
)


@given(netloc=_NETLOC)
def test_an_accepted_url_connects_where_the_checks_look(netloc: str) -> None:
    """Property: whenever url_problem accepts a URL, urllib3 connects to host_of(url), the
    host every destination rule decides on."""
    url = f"https://{netloc}/legacy/"
    if endpoints.url_problem(url) is None:
        assert _urllib3_host(url) in (None, endpoints.host_of(url).strip("[]"))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1\\@pypi.org/legacy/",
        "https://upload%2epypi%2eorg/legacy/",
        "https://\uff50ypi.org/",
        "https://pypi.org\\.evil.example/",
    ],
)
def test_the_urls_refused_are_the_ones_urllib3_reads_otherwise(url: str) -> None:
    """The attack is real: urllib3 connects elsewhere than urlsplit's host (or decodes it)."""
    assert _urllib3_host(url) != (urlsplit(url).hostname or "")
    assert endpoints.url_problem(url) is not None

"""release.destinations: where a credential may go, each rule from both sides, with the exact
refusal and fix a person reads (pure; the end-to-end attacks are tests/test_hostile.py's and
tests/test_deputy.py's)."""

from __future__ import annotations

import re

import pytest

from release import destinations
from release.destinations import (
    UPLOAD_HOSTS,
    check_audience,
    check_destination,
    check_transport,
    is_loopback,
    mint_binding,
)
from release.endpoints import Warehouse
from release.errors import CredentialError, ExitCode


def _refusal(call: object, *args: object, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(CredentialError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.exit_code is ExitCode.CREDENTIALS
    return info.value.message, info.value.fix


def test_the_upload_hosts() -> None:
    assert UPLOAD_HOSTS == {Warehouse.PYPI: "upload.pypi.org", Warehouse.TESTPYPI: "test.pypi.org"}


# ------------------------------------------------------------------------------ loopback


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1.2.3", "::1", "[::1]"],
)
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.localhost",  # any resolver may send a subdomain elsewhere
        "Xlocalhost",
        "localhostX",
        "localhost.example",
        "mylocalhost",
        "128.0.0.1",
        "10.0.0.1",
        "::2",
        "",
        "pypi.org",
    ],
)
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


# ---------------------------------------------------------------- rule 3: plain http


@pytest.mark.parametrize(
    "url",
    [
        "https://upload.pypi.org/legacy/",
        "HTTPS://private.example/simple/",
        "http://127.0.0.1:8080/simple/",
        "http://localhost/simple/",
        "HTTP://LOCALHOST:8080/",
        "http://[::1]:3141/root/dev/",
    ],
)
@pytest.mark.parametrize("allow_http", [False, True])
def test_https_and_loopback_go_silently(url: str, allow_http: bool) -> None:
    assert check_transport(url, "upload-url", allow_http=allow_http) is None


@pytest.mark.parametrize(
    ("url", "https"),
    [
        ("http://pypi.org/simple/", "https://pypi.org/simple/"),
        ("http://upload.pypi.org/legacy/", "https://upload.pypi.org/legacy/"),
        ("http://test.pypi.org/legacy/", "https://test.pypi.org/legacy/"),
        ("http://upload.pypi.org./legacy/", "https://upload.pypi.org./legacy/"),
        ("HTTP://Test.PyPI.org/simple/", "https://Test.PyPI.org/simple/"),
    ],
)
@pytest.mark.parametrize("allow_http", [False, True])
def test_http_to_pypi_is_refused_even_when_allowed(url: str, https: str, allow_http: bool) -> None:
    assert _refusal(check_transport, url, "index-url", allow_http=allow_http) == (
        f"A credential would be sent to {url} (index-url) over plain http://: anyone on the "
        "way could read it. PyPI and TestPyPI are only ever spoken to over https.",
        f"Set index-url to {https}.",
    )


def test_http_to_a_private_index_needs_the_opt_in() -> None:
    url = "http://private.example:8080/simple/"
    assert _refusal(check_transport, url, "index-url", allow_http=False) == (
        f"A credential would be sent to {url} (index-url) over plain http://: anyone on the way "
        "could read it (only loopback is exempt).",
        "Use https://private.example:8080/simple/ if the index serves it. For a private index on "
        "a network you trust, opt in with allow-http-credentials = true in [tool.release] (or "
        "RELEASE_ALLOW_HTTP_CREDENTIALS=1); every run will warn.",
    )
    assert check_transport(url, "index-url", allow_http=True) == (
        f"The credential for {url} (index-url) goes over plain http:// "
        "(allow-http-credentials = true): anyone on the way can read it."
    )


@pytest.mark.parametrize("url", ["http://evil.localhost/simple/", "http://127.0.0.1.nip.io/"])
def test_names_that_only_look_local_need_the_opt_in(url: str) -> None:
    with pytest.raises(CredentialError, match="only loopback is exempt"):
        check_transport(url, "index-url", allow_http=False)
    assert check_transport(url, "index-url", allow_http=True) is not None


@pytest.mark.parametrize(
    "url", ["ftp://files.example/x", "ws://files.example:70/x", "//pypi.org/x"]
)
def test_other_schemes_are_refused(url: str) -> None:
    for allow_http in (False, True):
        assert _refusal(check_transport, url, "upload-url", allow_http=allow_http) == (
            f"A credential would be sent to {url} (upload-url), which is not an https:// URL.",
            "Set upload-url to the index's https:// URL.",
        )


# ------------------------------------------------------------ rule 4: one spelling only


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://user:pw@private.example/", "it holds user@ or user:password@ before the host"),
        (
            "https://127.0.0.1\\@pypi.org/",
            "it holds a backslash (urllib3 reads it as the end of the host)",
        ),
        ("https://pypi.org:99999/", "its host or port does not parse"),
        (
            "https://pyp\u0131.org/",
            "its host is not plain ASCII letters, digits, '-' and '.' (or an [IPv6] address)",
        ),
        ("https://py pi.org/", "it holds whitespace or a control character"),
    ],
)
@pytest.mark.parametrize("allow_http", [False, True])
def test_a_url_with_two_readings_is_refused(url: str, problem: str, allow_http: bool) -> None:
    assert _refusal(check_transport, url, "upload-url", allow_http=allow_http) == (
        f"A credential would be sent to the URL of upload-url, but {problem}: the host it names "
        "is not plainly the host that would be connected to. Nothing was sent.",
        "Set upload-url to a plain https://host/path URL (the credential goes through "
        "RELEASE_*_PASSWORD, keyring or trusted publishing, never in the URL).",
    )


# ------------------------------------------------------------ rules 1 and 2: which host


@pytest.mark.parametrize(
    ("warehouse", "url"),
    [
        (Warehouse.PYPI, "https://upload.pypi.org/legacy/"),
        (Warehouse.PYPI, "https://UPLOAD.PYPI.ORG:443/legacy/"),
        (Warehouse.TESTPYPI, "https://test.pypi.org/legacy/"),
        (None, "https://private.example/legacy/"),
    ],
)
def test_a_token_goes_to_its_own_index(warehouse: Warehouse | None, url: str) -> None:
    check_destination(url, "upload-url", token_warehouse=warehouse)


def test_a_pypi_token_goes_nowhere_else() -> None:
    assert _refusal(
        check_destination,
        "https://test.pypi.org/legacy/",
        "upload-url",
        token_warehouse=Warehouse.PYPI,
    ) == (
        "The credential is a PyPI token: it is only ever sent to upload.pypi.org, but "
        "upload-url is https://test.pypi.org/legacy/. Nothing was sent.",
        "Use the credential of the index at test.pypi.org for it (a PyPI token is for PyPI "
        "alone), or set upload-url back to https://upload.pypi.org/legacy/ if PyPI is where "
        "this should go.",
    )


def test_a_testpypi_token_goes_nowhere_else() -> None:
    assert _refusal(
        check_destination,
        "https://u:p@pypi.org/legacy/",
        "test-upload-url",
        token_warehouse=Warehouse.TESTPYPI,
    ) == (
        "The credential is a TestPyPI token: it is only ever sent to test.pypi.org, but "
        "test-upload-url is https://pypi.org/legacy/. Nothing was sent.",
        "Use the credential of the index at pypi.org for it (a TestPyPI token is for TestPyPI "
        "alone), or set test-upload-url back to https://test.pypi.org/legacy/ if TestPyPI is "
        "where this should go.",
    )


def test_a_minted_token_goes_only_where_it_was_minted() -> None:
    check_destination(
        "https://warehouse.example/legacy/",
        "upload-url",
        token_warehouse=None,
        minted_for="warehouse.example",
    )
    assert _refusal(
        check_destination,
        "https://upload.pypi.org/legacy/",
        "upload-url",
        token_warehouse=None,
        minted_for="test.pypi.org",
    ) == (
        "The token minted by trusted publishing is bound to test.pypi.org, but upload-url is "
        "https://upload.pypi.org/legacy/. Nothing was sent.",
        "Set the trusted-publishing URL (test-/prod-trusted-publishing-url) to the index that "
        "takes the upload, or point upload-url at test.pypi.org.",
    )


@pytest.mark.parametrize(
    ("oidc_base", "host"),
    [
        ("https://pypi.org", "upload.pypi.org"),
        ("https://pypi.org/_/oidc/", "upload.pypi.org"),
        ("https://test.pypi.org", "test.pypi.org"),
        ("https://Warehouse.Example:8443/", "warehouse.example"),
    ],
)
def test_mint_binding(oidc_base: str, host: str) -> None:
    assert mint_binding(oidc_base) == host


# ------------------------------------------------------------ rule 5: OIDC audiences


@pytest.mark.parametrize(
    ("audience", "warehouse"),
    [
        ("pypi", Warehouse.PYPI),
        (" PyPI ", Warehouse.PYPI),
        ("pyp\u0131", Warehouse.PYPI),  # dotless i upper-cases to I
        ("testpypi", Warehouse.TESTPYPI),
        ("TestPyPI", Warehouse.TESTPYPI),
        ("test-pypi", None),
        ("warehouse.example", None),
        ("", None),
    ],
)
def test_audience_warehouse(audience: str, warehouse: Warehouse | None) -> None:
    assert destinations.audience_warehouse(audience) is warehouse


# How `id` names a GitLab identity token's variable: <AUD>_ID_TOKEN, AUD upper-cased with every
# character outside A-Z, 0-9 and _ (and a leading digit) made _ (id's documented rule, restated).
_GITLAB_FOLD = re.compile(r"[^A-Z0-9_]|^[^A-Z_]")


@pytest.mark.parametrize(
    "audience",
    [
        "pypi", "PyPI", "pyp\u0131", "testpypi", "TestPyPI", " pypi", "pypi ", "test pypi",
        "test-pypi", "test_pypi", "py.pi", "pypi\t", "\u0440ypi", "pyp\u0130", "\ufb00pypi",
        "pypi\u200b", "1pypi", "_pypi", "pypi_", "PYPI-", "t\u00e9stpypi", "warehouse.example",
    ],
)  # fmt: skip
def test_every_spelling_that_names_a_public_index_s_gitlab_token_is_caught(
    audience: str,
) -> None:
    """An audience whose folded spelling is PYPI or TESTPYPI would make id read PyPI's or
    TestPyPI's identity token (PYPI_ID_TOKEN, TESTPYPI_ID_TOKEN): audience_warehouse names
    that index for every one of them, so check_audience refuses to send it elsewhere."""
    folded = _GITLAB_FOLD.sub("_", audience.upper())
    if folded in ("PYPI", "TESTPYPI"):
        assert destinations.audience_warehouse(audience) is not None
    if destinations.audience_warehouse(audience) is None:
        assert folded not in ("PYPI", "TESTPYPI")


def test_an_audience_from_its_own_index_passes() -> None:
    check_audience("https://pypi.org", "pypi", "u")
    check_audience("https://test.pypi.org/", "testpypi", "u")
    check_audience("https://warehouse.example/", "warehouse.example", "u")
    check_audience("http://127.0.0.1:1/", "private", "u")


@pytest.mark.parametrize(
    ("oidc_base", "shown", "audience", "name", "site"),
    [
        ("http://pypi.org", "http://pypi.org", "pypi", "PyPI", "https://pypi.org"),
        ("https://test.pypi.org", "https://test.pypi.org", "pypi", "PyPI", "https://pypi.org"),
        (
            "https://u:p@evil.example/",
            "https://evil.example/",
            "TestPyPI",
            "TestPyPI",
            "https://test.pypi.org",
        ),
    ],
)
def test_a_public_audience_from_another_host_is_refused(
    oidc_base: str, shown: str, audience: str, name: str, site: str
) -> None:
    assert _refusal(check_audience, oidc_base, audience, "prod-trusted-publishing-url") == (
        f"{shown} (prod-trusted-publishing-url) announced the OIDC audience {audience!r}, "
        f"which is {name}'s: an identity token for it would let that host mint {name} upload "
        "tokens for this project. No identity token was requested.",
        f"Trusted publishing for {name} goes to {site} only. If this index is {name}, set "
        f"prod-trusted-publishing-url to {site} (or leave it unset); if it is another index, "
        "it must announce its own audience (check that the URL is the index you meant).",
    )


def test_the_https_fix_keeps_the_whole_url() -> None:
    url = "http://private.example/simple/?next=http://elsewhere/"
    _message, fix = _refusal(check_transport, url, "index-url", allow_http=False)
    assert fix.startswith("Use https://private.example/simple/?next=http://elsewhere/ if the index")

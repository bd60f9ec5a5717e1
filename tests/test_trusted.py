"""Trusted publishing against a local double of GitHub's OIDC provider and PyPI's mint
endpoint (tests/oidc_double.py): the identity token is fetched over real HTTP, by our bounded
client for GitHub (release.trusted.github_identity_token), which must speak the protocol as the
real ``id`` package does (checked against it here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from release import cli, endpoints, trusted
from release.config import IndexSettings
from release.credentials import resolve
from release.errors import CredentialError, ExitCode
from release.localindex import LocalIndex
from tests.conftest import ProjectFactory
from tests.oidc_double import MINT_DESCRIPTIONS, OIDCDouble

TEST = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/simple/", "__token__")


@pytest.fixture
def double() -> Iterator[OIDCDouble]:
    with OIDCDouble() as d:
        yield d


@pytest.fixture
def env(double: OIDCDouble, tmp_path: Path) -> dict[str, str]:
    """A GitHub Actions job with `id-token: write`, and the double as the index's OIDC host."""
    return double.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
    }


def test_mints_a_token_over_github_s_oidc_protocol(double: OIDCDouble, env: dict[str, str]) -> None:
    credential = resolve(TEST, "demo", env)
    assert credential.source == "trusted publishing (GitHub Actions OIDC)"
    username, token = credential.get()
    assert username == "__token__"
    assert token == double.issued_tokens[0]
    assert token.startswith("pypi-")
    assert double.mints == 1
    assert double.seen == double.jwts  # the JWT fetched from the provider was exchanged
    assert "pypi-" not in repr(credential)


def test_github_identity_token_is_what_id_would_fetch(
    double: OIDCDouble, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our client and ``id``'s ``detect_credential`` ask the same endpoint the same way: both
    get a token for the audience from the double (which checks the bearer request token)."""
    import id as oidc

    ours = trusted.github_identity_token("nox-release-double", env, 10)
    for name in (
        "GITHUB_ACTIONS",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    ):
        monkeypatch.setenv(name, env[name])
    theirs = oidc.detect_credential("nox-release-double")
    assert theirs is not None
    assert double.jwts == [ours, theirs]
    assert trusted.jwt_claims(ours)["aud"] == trusted.jwt_claims(theirs)["aud"]


def test_identity_token_for_another_audience_is_refused(
    double: OIDCDouble, env: dict[str, str]
) -> None:
    """As ``id`` does: the token's aud claim must be the audience asked for."""
    double.claims = {"aud": "pypi"}
    with pytest.raises(CredentialError, match="for the audience 'nox-release-double'"):
        resolve(TEST, "demo", env)
    assert double.seen == []


def test_token_is_renewed_when_less_than_two_minutes_remain(
    double: OIDCDouble, env: dict[str, str]
) -> None:
    double.lifetime = 60  # the index says: expires in a minute
    credential = resolve(TEST, "demo", env)
    first = credential.get()[1]
    second = credential.get()[1]
    assert double.mints == 3  # resolve, then each get() found < 120 s left
    assert first != second
    assert second == double.issued_tokens[-1]


def test_token_is_kept_while_fresh(double: OIDCDouble, env: dict[str, str]) -> None:
    credential = resolve(TEST, "demo", env)
    assert credential.get() == credential.get()
    assert double.mints == 1


def test_minted_token_renewal_is_decided_by_the_clock() -> None:
    now = [1000.0]
    minted_at: list[float] = []

    def mint() -> tuple[str, float]:
        minted_at.append(now[0])
        return f"pypi-{len(minted_at)}", now[0] + trusted.LIFETIME

    token = trusted.MintedToken(mint, clock=lambda: now[0])
    now[0] += trusted.LIFETIME - trusted.RENEW_MARGIN - 1  # 121 s left
    assert token.current() == "pypi-1"
    now[0] += 2  # 119 s left
    assert token.current() == "pypi-2"
    assert minted_at == [1000.0, 1000.0 + trusted.LIFETIME - trusted.RENEW_MARGIN + 1]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("invalid-payload", "invalid-payload"),
        ("unknown-issuer", "invalid-payload"),
        ("not-enabled", "not-enabled"),
        ("invalid-token", "invalid-token"),
        ("invalid-pending-publisher", "invalid-pending-publisher"),
        ("invalid-publisher", "invalid-publisher"),
        ("invalid-reuse-token", "invalid-reuse-token"),
    ],
)
def test_each_mint_failure_is_explained(
    double: OIDCDouble, env: dict[str, str], error: str, code: str
) -> None:
    from release.diagnose import explain_mint_error

    double.mint_error = error
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    text = str(info.value)
    diagnosis = explain_mint_error(code, MINT_DESCRIPTIONS[error])
    assert f"{code}: {MINT_DESCRIPTIONS[error]}" in text  # the index's words, verbatim
    assert diagnosis.title in text
    assert diagnosis.fix in info.value.fix
    assert info.value.exit_code is ExitCode.CREDENTIALS
    for jwt in double.jwts:  # the identity token never reaches a message
        assert jwt not in text
        assert jwt.split(".")[1] not in text


def test_reusable_workflow_is_named(double: OIDCDouble, env: dict[str, str]) -> None:
    double.claims = {"job_workflow_ref": "example/shared/.github/workflows/pypi.yml@refs/tags/v1"}
    double.mint_error = "invalid-publisher"
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    assert "reusable workflow (example/shared/.github/workflows/pypi.yml@refs/tags/v1" in str(
        info.value
    )
    assert "cannot be trusted publishers" in info.value.message
    assert info.value.fix.startswith("Run the upload step in the workflow")


def test_reusable_workflow_pure() -> None:
    same = {"workflow_ref": "a@r", "job_workflow_ref": "a@r"}
    assert trusted.reusable_workflow(same) is None
    assert trusted.reusable_workflow({"workflow_ref": "a@r", "job_workflow_ref": "b@r"}) == (
        "a@r",
        "b@r",
    )
    assert trusted.reusable_workflow({}) is None


@pytest.mark.parametrize(
    "missing", ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
)
def test_missing_id_token_permission(double: OIDCDouble, env: dict[str, str], missing: str) -> None:
    env.pop(missing)
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    assert missing in info.value.message
    assert "permissions: id-token: write" in info.value.fix
    assert double.mints == 0


def test_provider_refusing_the_request_token(double: OIDCDouble, env: dict[str, str]) -> None:
    env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "not-the-right-one"
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    assert "did not give an identity token" in info.value.message
    assert "not-the-right-one" not in str(info.value)
    assert double.jwts == []


def test_audience_403_means_disabled(double: OIDCDouble, env: dict[str, str]) -> None:
    double.audience_status = 403
    with pytest.raises(CredentialError, match="disabled"):
        resolve(TEST, "demo", env)
    assert double.jwts == []


def test_mint_endpoint_answering_html(double: OIDCDouble, env: dict[str, str]) -> None:
    double.mint_status = 503
    with pytest.raises(CredentialError, match="503"):
        resolve(TEST, "demo", env)


def test_other_sources_win_in_auto_mode(double: OIDCDouble, env: dict[str, str]) -> None:
    credential = resolve(TEST, "demo", env | {"RELEASE_TEST_PASSWORD": "s-env"})
    assert credential.source == "RELEASE_TEST_PASSWORD"
    assert double.audience_requests == 0


def test_force_ignores_other_sources(double: OIDCDouble, env: dict[str, str]) -> None:
    forced = env | {"RELEASE_TEST_PASSWORD": "s-env", "RELEASE_TRUSTED_PUBLISHING": "force"}
    assert resolve(TEST, "demo", forced).source.startswith("trusted publishing")
    assert double.mints == 1


def test_off_never_asks_the_index(double: OIDCDouble, env: dict[str, str]) -> None:
    with pytest.raises(CredentialError):
        resolve(TEST, "demo", env | {"RELEASE_TRUSTED_PUBLISHING": "off"})
    assert double.audience_requests == 0


def test_not_in_ci_means_no_trusted_publishing(double: OIDCDouble, tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", {"HOME": str(tmp_path)})
    assert "trusted publishing: not in CI" in info.value.message
    assert double.audience_requests == 0


def test_failure_in_auto_mode_lists_the_other_sources_too(
    double: OIDCDouble, env: dict[str, str]
) -> None:
    double.audience_status = 403
    with pytest.raises(CredentialError) as info:
        resolve(TEST, "demo", env)
    assert "RELEASE_TEST_PASSWORD: not set" in info.value.message
    assert "disabled" in info.value.message


@pytest.mark.usefixtures("double")
def test_options_from_pyproject_values(env: dict[str, str]) -> None:
    """The override URL can come from [tool.release] (Settings.values) instead of the env."""
    url = env.pop("RELEASE_TEST_TRUSTED_PUBLISHING_URL")
    with pytest.raises(CredentialError):  # default: the upload URL's host (port 9: nobody)
        resolve(TEST, "demo", env | {"RELEASE_TIMEOUT": "2"})
    credential = resolve(TEST, "demo", env, options={"test-trusted-publishing-url": url})
    assert credential.source.startswith("trusted publishing")


def test_oidc_base_url() -> None:
    pypi = IndexSettings("prod", endpoints.PROD_UPLOAD_URL, endpoints.PROD_INDEX_URL, "__token__")
    testpypi = IndexSettings("test", endpoints.TEST_UPLOAD_URL, endpoints.TEST_INDEX_URL, "x")
    private = IndexSettings("prod", "https://pkgs.example:8443/legacy/", "https://x/simple/", "x")
    assert trusted.oidc_base_url(pypi) == f"https://{endpoints.PYPI_HOST}"
    assert trusted.oidc_base_url(testpypi) == f"https://{endpoints.TESTPYPI_HOST}"
    assert trusted.oidc_base_url(private) == "https://pkgs.example:8443"
    assert trusted.oidc_base_url(private, "http://127.0.0.1:5/") == "http://127.0.0.1:5"


def test_in_ci() -> None:
    assert trusted.in_ci({"CI": "true"})
    assert trusted.in_ci({"GITLAB_CI": "true"})
    assert not trusted.in_ci({"CI": "false"})
    assert not trusted.in_ci({})


@pytest.mark.slow
def test_real_upload_with_the_minted_token(
    double: OIDCDouble,
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """build + upload to a real pypiserver whose only password is the token the double mints."""
    root = make_project(name="tp-demo", version="1.0.0")
    with LocalIndex(username="__token__") as index:
        double.tokens = [index.password]  # the index accepts exactly the minted token
        environ = double.github_environ() | {
            "HOME": str(tmp_path),
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
        }
        for name in ("RELEASE_TEST_PASSWORD", "TEST_PYPI_API_TOKEN", "TWINE_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        assert cli.main(["--root", str(root), "build"]) == 0
        assert cli.main(["--root", str(root), "upload", "--index", "test"]) == 0
        assert double.mints == 1
        assert sorted(index.files()) == ["tp_demo-1.0.0-py3-none-any.whl", "tp_demo-1.0.0.tar.gz"]


def test_a_token_nested_too_deep_to_decode_has_no_claims() -> None:
    """An identity token's payload of 100,000 nested lists is no claims, not a RecursionError
    (the GitHub path reads the aud claim of what the provider answered)."""
    import base64

    payload = base64.urlsafe_b64encode(b"[" * 100_000).decode().rstrip("=")
    assert trusted.jwt_claims(f"e30.{payload}.sig") == {}


@pytest.mark.parametrize("request_token", ["abc\ndef", "abc\u20acdef"], ids=["newline", "euro"])
def test_a_request_token_no_header_can_carry_is_refused(request_token: str) -> None:
    """A request token with a line break or a character outside Latin-1 cannot be sent: exit 7
    with the fix, not a traceback from the HTTP layer."""
    environ = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token?x=1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
    }
    with pytest.raises(CredentialError, match="cannot be sent in a header") as info:
        trusted.github_identity_token("pypi", environ, 5.0)
    assert info.value.fix

"""The CI identity's claims: the pure comparison (a table of cases), then doctor and an
``invalid-publisher`` refusal against the OIDC double issuing GitHub and GitLab tokens."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release import cli
from release.claims import Publisher, compare, parse_publisher, report_lines, shown_claims
from release.config import IndexSettings
from release.credentials import resolve
from release.errors import ConfigError, CredentialError, ExitCode
from release.localindex import LocalIndex
from tests.oidc_double import GITHUB_CLAIMS, GITLAB_CLAIMS, OIDCDouble

GH_PUBLISHER = Publisher("example/demo", "release.yml", "pypi")
GL_PUBLISHER = Publisher("example/demo", ".gitlab-ci.yml", "pypi")
REUSABLE = {"job_workflow_ref": "example/shared/.github/workflows/pypi.yml@refs/tags/v1"}
RENAMED_GH = {"repository": "example/demo-ng", "repository_owner": "example"}
RENAMED_GL = {
    "project_path": "example/demo-ng",
    "ci_config_ref_uri": "gitlab.com/example/demo-ng//.gitlab-ci.yml@refs/heads/main",
}


@dataclasses.dataclass(frozen=True)
class Case:
    base: dict[str, Any]
    changes: dict[str, Any]
    publisher: Publisher | None
    fields: list[str]  # the mismatching fields, in order


CASES = {
    "github-normal": Case(GITHUB_CLAIMS, {}, GH_PUBLISHER, []),
    "github-no-publisher": Case(GITHUB_CLAIMS, {}, None, []),
    "github-case-differs": Case(GITHUB_CLAIMS, {"repository": "Example/Demo"}, GH_PUBLISHER, []),
    "github-path-as-workflow": Case(
        GITHUB_CLAIMS, {}, Publisher("example/demo", ".github/workflows/release.yml"), []
    ),
    "github-reusable": Case(
        GITHUB_CLAIMS, REUSABLE, GH_PUBLISHER, ["reusable-workflow", "workflow"]
    ),
    "github-reusable-no-publisher": Case(GITHUB_CLAIMS, REUSABLE, None, ["reusable-workflow"]),
    "github-other-environment": Case(
        GITHUB_CLAIMS, {"environment": "release"}, GH_PUBLISHER, ["environment"]
    ),
    "github-no-environment": Case(
        GITHUB_CLAIMS, {"environment": ""}, GH_PUBLISHER, ["environment"]
    ),
    "github-publisher-without-environment": Case(
        GITHUB_CLAIMS, {"environment": "any"}, Publisher("example/demo", "release.yml"), []
    ),
    "github-renamed": Case(GITHUB_CLAIMS, RENAMED_GH, GH_PUBLISHER, ["repository"]),
    "github-workflow-typo": Case(
        GITHUB_CLAIMS,
        {
            "workflow_ref": "example/demo/.github/workflows/release.yaml@refs/heads/main",
            "job_workflow_ref": "example/demo/.github/workflows/release.yaml@refs/heads/main",
        },
        GH_PUBLISHER,
        ["workflow"],
    ),
    "gitlab-normal": Case(GITLAB_CLAIMS, {}, GL_PUBLISHER, []),
    "gitlab-other-environment": Case(
        GITLAB_CLAIMS, {"environment": "production"}, GL_PUBLISHER, ["environment"]
    ),
    "gitlab-renamed": Case(GITLAB_CLAIMS, RENAMED_GL, GL_PUBLISHER, ["repository"]),
    "gitlab-other-ci-file": Case(
        GITLAB_CLAIMS,
        {"ci_config_ref_uri": "gitlab.com/example/demo//ci/release.yml@refs/heads/main"},
        GL_PUBLISHER,
        ["workflow"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_compare(case: Case) -> None:
    claims = {**case.base, "aud": "pypi", **case.changes}
    found = compare(claims, case.publisher)
    assert [m.field for m in found] == case.fields
    lines = "\n".join(report_lines(claims, case.publisher))
    for mismatch in found:  # each mismatch names the field and both values
        assert mismatch.line() in lines
        if mismatch.field != "reusable-workflow":
            assert repr(mismatch.expected) in lines
        assert mismatch.fix


def test_shown_claims_follow_the_provider() -> None:
    assert [n for n, _ in shown_claims({**GITHUB_CLAIMS, "aud": "pypi"})] == [
        "iss",
        "aud",
        "repository",
        "repository_owner",
        "repository_owner_id",
        "workflow_ref",
        "job_workflow_ref",
        "environment",
        "ref",
    ]
    gitlab = dict(shown_claims({**GITLAB_CLAIMS, "aud": "pypi"}))
    assert gitlab["ci_config_ref_uri"] == GITLAB_CLAIMS["ci_config_ref_uri"]
    assert dict(shown_claims({"iss": "https://gitlab.com"}))["environment"] == "(absent)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], None),
        ("", None),
        (["repository=a/b", "workflow=r.yml"], Publisher("a/b", "r.yml", "")),
        ("repository=a/b, environment=pypi", Publisher("a/b", "", "pypi")),
    ],
)
def test_parse_publisher(raw: Any, expected: Publisher | None) -> None:
    assert parse_publisher(raw) == expected


@pytest.mark.parametrize("raw", [["repo=a/b"], ["repository"], ["repository=a", "repository=b"]])
def test_parse_publisher_refuses(raw: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_publisher(raw)
    assert "trusted-publisher" in str(info.value)
    assert info.value.exit_code is ExitCode.USAGE


# ---------------------------------------------------------------- with the OIDC double


@pytest.fixture
def double() -> Iterator[OIDCDouble]:
    with OIDCDouble() as d:
        yield d


def _ci(double: OIDCDouble, provider: str) -> dict[str, str]:
    return double.gitlab_environ() if provider == "gitlab" else double.github_environ()


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_invalid_publisher_shows_the_comparison(
    double: OIDCDouble, tmp_path: Path, provider: str
) -> None:
    """The index refuses (its registered publisher has the old name); the refusal shows the
    claims and names the field with both values."""
    double.publisher = {"repository": "example/demo", "workflow": "release.yml"}
    if provider == "gitlab":
        double.publisher["workflow"] = ".gitlab-ci.yml"
    double.claims = RENAMED_GL if provider == "gitlab" else RENAMED_GH
    index = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/s/", "__token__")
    env = _ci(double, provider) | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
        "RELEASE_TRUSTED_PUBLISHER": "repository=example/demo,workflow="
        + double.publisher["workflow"],
    }
    with pytest.raises(CredentialError) as info:
        resolve(index, "demo", env)
    text = str(info.value)
    assert "invalid-publisher" in text
    assert (
        "MISMATCH repository: the publisher says 'example/demo', this job's token says "
        "'example/demo-ng'"
    ) in text
    key = "project_path" if provider == "gitlab" else "repository"
    assert f"{key} " in text
    for jwt in double.jwts:
        assert jwt not in text
        assert jwt.split(".")[1] not in text


@pytest.mark.parametrize("provider", ["github", "gitlab"])
@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        ("normal", {}, None),
        ("reusable", REUSABLE, "reusable-workflow"),
        ("environment", {"environment": "staging"}, "environment"),
        ("renamed", None, "repository"),
    ],
)
def test_doctor_shows_the_claims_and_each_mismatch(
    double: OIDCDouble,
    monkeypatch: pytest.MonkeyPatch,
    make_project: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    name: str,
    changes: dict[str, Any] | None,
    field: str | None,
) -> None:
    if provider == "gitlab" and name == "reusable":
        pytest.skip("GitLab has no reusable-workflow claim")
    if changes is None:
        changes = RENAMED_GL if provider == "gitlab" else RENAMED_GH
    workflow = ".gitlab-ci.yml" if provider == "gitlab" else "release.yml"
    double.claims = changes
    double.publisher = {"repository": "example/demo", "workflow": workflow, "environment": "pypi"}
    for var in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "ACTIONS_ID_TOKEN_REQUEST_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in ("RELEASE_TEST_PASSWORD", "TEST_PYPI_API_TOKEN", "TWINE_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with LocalIndex(username="__token__") as index:
        double.tokens = [index.password] * 2
        env = _ci(double, provider) | {
            "HOME": str(tmp_path),
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
            "RELEASE_RETRIES": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        root = make_project(
            extra_release=f'trusted-publisher = ["repository=example/demo", '
            f'"workflow={workflow}", "environment=pypi"]'
        )
        code = cli.main(["--root", str(root), "doctor", "--index", "test", "--json"])
        captured = capsys.readouterr()
    document = json.loads(captured.out)["result"]
    checks = {c["name"]: c for c in document["checks"]}
    identity = checks["test.identity"]
    claim_key = "project_path" if provider == "gitlab" else "job_workflow_ref"
    assert claim_key in identity["title"]
    if field is None:
        assert code == 0, captured
        assert identity["status"] == "ok"
        assert "the claims match [tool.release] trusted-publisher" in identity["title"]
        return
    assert code == ExitCode.CREDENTIALS
    assert identity["status"] == "fail"
    prefix = "MISMATCH reusable workflow" if field == "reusable-workflow" else f"MISMATCH {field}:"
    assert prefix in identity["title"]
    assert identity["fix"]
    for jwt in double.jwts:
        assert jwt not in captured.out + captured.err


def test_publisher_of_the_claims() -> None:
    from release.claims import publisher_of

    assert publisher_of({**GITHUB_CLAIMS, "aud": "pypi"}) == GH_PUBLISHER
    assert publisher_of({**GITLAB_CLAIMS, "aud": "pypi"}) == GL_PUBLISHER
    assert publisher_of({"iss": "https://accounts.google.com", "sub": "x"}) is None


@pytest.mark.parametrize("error", ["invalid-token", "invalid-pending-publisher", "not-enabled"])
def test_every_mint_failure_shows_the_claims(
    double: OIDCDouble, tmp_path: Path, error: str
) -> None:
    double.mint_error = error
    index = IndexSettings("test", "http://127.0.0.1:9/up/", "http://127.0.0.1:9/s/", "__token__")
    env = double.github_environ() | {
        "HOME": str(tmp_path),
        "RELEASE_TEST_TRUSTED_PUBLISHING_URL": double.base_url,
    }
    with pytest.raises(CredentialError) as info:
        resolve(index, "demo", env)
    text = str(info.value)
    assert "identity token claims (github; the token itself is not shown)" in text
    assert "job_workflow_ref     example/demo/.github/workflows/release.yml@refs/heads/main" in text
    for jwt in double.jwts:
        assert jwt not in text


def test_trusted_publisher_may_be_written_as_a_table(tmp_path: Path) -> None:
    """The shape a person writes first: a TOML table, read like the list of key=value."""
    from release.config import load_settings

    head = '[project]\nname = "x"\nversion = "1"\n[tool.release]\n'
    (tmp_path / "pyproject.toml").write_text(
        head + 'trusted-publisher = {repository = "o/n", workflow = "release.yml", '
        'environment = "pypi"}\n',
        encoding="utf-8",
    )
    table = load_settings(tmp_path, {}).get("trusted-publisher")
    assert parse_publisher(table) == Publisher("o/n", "release.yml", "pypi")
    (tmp_path / "pyproject.toml").write_text(
        head + "trusted-publisher = {repository = 1}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"trusted-publisher\.repository = 1 is an integer"):
        load_settings(tmp_path, {})

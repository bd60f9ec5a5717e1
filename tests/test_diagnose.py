"""Every known refusal explained: a table over the exact strings, plus a real pypiserver."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from release import diagnose
from release.claims import reusable_workflow
from release.diagnose import (
    MISSING_ID_TOKEN_PERMISSION,
    REUSABLE_WORKFLOW,
    Diagnosis,
    explain_403_with_token,
    explain_audience_error,
    explain_mint_error,
    explain_mint_failure,
    explain_upload,
)
from release.localindex import LocalIndex
from release.tokens import check_token
from tests.indexes import PYPI, TESTPYPI
from tests.macaroons import make_token

HELP = "https://pypi.org/help/"
FN = "demo_pkg-1.0.0.tar.gz"

# (status, reason, body, expected code, retry, text the diagnosis must contain)
WAREHOUSE: list[tuple[int, str, str, str, bool, str]] = [
    (
        403,
        f"Invalid or non-existent authentication information. See {HELP}#invalid-auth for "
        "more information.",
        "",
        "invalid-auth",
        False,
        "OTHER index",
    ),
    (
        403,
        "Username/Password authentication is no longer supported. Migrate to API Tokens or "
        f"Trusted Publishers instead. See {HELP}#apitoken and {HELP}#trusted-publishers",
        "",
        "password-login",
        False,
        "__token__",
    ),
    (
        403,
        f"The user 'alice' isn't allowed to upload to project 'demo-pkg'. See {HELP}"
        "#project-name for more information.",
        "",
        "user-not-allowed",
        False,
        "demo-pkg",
    ),
    (
        403,
        "The user 'alice' is not allowed to upload to project 'my.dotted.pkg'. See "
        f"{HELP}#project-name for more information.",
        "",
        "user-not-allowed",
        False,
        "my.dotted.pkg",
    ),
    (
        403,
        f"The given token isn't allowed to upload to project 'demo-pkg'. See {HELP}"
        "#project-name for more information.",
        "",
        "token-not-allowed",
        False,
        "demo-pkg",
    ),
    (403, "Invalid API Token: token is expired", "", "token-expired", False, "clock"),
    (
        403,
        "Invalid API Token: project-scoped token is not valid for project: 'demo-pkg'",
        "",
        "token-wrong-project",
        False,
        "demo-pkg",
    ),
    (
        403,
        "Invalid API Token: project-scoped token used outside of a project context",
        "",
        "token-wrong-project",
        False,
        "scoped",
    ),
    (
        403,
        "Invalid API Token: current user does not match user restriction in token",
        "",
        "token-user-mismatch",
        False,
        "account",
    ),
    (403, "Invalid API Token: signatures do not match", "", "token-signature", False, "Copy"),
    (
        403,
        "Invalid API Token: token is expired, project-scoped token is not valid for project: 'x'",
        "",
        "token-expired",
        False,
        "expired",
    ),
    (403, "Invalid API Token: unknown error", "", "token-unverified", False, "no reason"),
    (403, "Invalid API Token: a reason never seen", "", "token-invalid", False, "never seen"),
    (
        403,
        "User 'alice', associated with the API token used, does not have two-factor "
        "authentication enabled. Please enable two-factor authentication before attempting to "
        f"upload to PyPI. See {HELP}#two-factor-authentication for more information.",
        "",
        "2fa-required",
        False,
        "two-factor",
    ),
    (
        403,
        "User 'alice' does not have two factor authentication enabled. Please enable two "
        "factor authentication before attempting to upload to PyPI.",
        "",
        "2fa-required",
        False,
        "2FA",
    ),
    (
        403,
        "User 'alice' does not have a verified primary email address. Please add a verified "
        f"primary email before attempting to upload to PyPI. See {HELP}#verified-email for more "
        "information.",
        "",
        "email-unverified",
        False,
        "verif",
    ),
    (
        403,
        "User 'alice', associated with the API token used, does not have a verified primary "
        "email address.",
        "",
        "email-unverified",
        False,
        "email",
    ),
    (403, "Read-only mode: Uploads are temporarily disabled.", "", "read-only", True, "later"),
    (403, "New uploads are temporarily disabled.", "", "uploads-disabled", True, "later"),
    (
        400,
        "Non-user identities cannot create new projects. This was probably caused by "
        "successfully using a pending publisher but specifying the project name incorrectly "
        "(either in the publisher or in your project's metadata). Please ensure that both match. "
        "See: https://docs.pypi.org/trusted-publishers/troubleshooting/",
        "",
        "pending-publisher-name",
        False,
        "demo-pkg",
    ),
    (429, "Too many new projects created", "", "too-many-projects", False, "hours"),
    (
        400,
        f"File already exists ('{FN}', with blake2_256 hash 'a1b2c3'). See {HELP}"
        "#file-name-reuse for more information.",
        "",
        "file-exists",
        False,
        FN,
    ),
    (
        400,
        "This filename was previously used by a file that has since been deleted. Use a "
        f"different version. See {HELP}#file-name-reuse for more information.",
        "",
        "filename-reused",
        False,
        "never frees",
    ),
    (
        400,
        "This filename has already been used, use a different version. See "
        f"{HELP}#file-name-reuse for more information.",
        "",
        "filename-reused",
        False,
        "bump_version",
    ),
    (
        400,
        "Uploading new files to releases older than 14 days is not allowed.",
        "",
        "release-too-old",
        False,
        "14 days",
    ),
    (
        400,
        "The use of local versions in '1.0.0+g1234' is not allowed. See "
        "https://packaging.python.org/specifications/core-metadata for more information.",
        "",
        "local-version",
        False,
        "1.0.0+g1234",
    ),
    (
        400,
        "The use of local versions in <Version('1.0.0+dirty')> is not allowed.",
        "",
        "local-version",
        False,
        "1.0.0+dirty",
    ),
    (400, "Can't use PEP 440 local versions.", "", "local-version", False, "+local"),
    (400, "Only one sdist may be uploaded per release.", "", "one-sdist", False, "sdist"),
    (
        400,
        "Binary wheel 'demo-1.0-cp312-cp312-linux_x86_64.whl' has an unsupported platform tag "
        "'linux_x86_64'.",
        "",
        "platform-tag",
        False,
        "auditwheel repair",
    ),
    (
        400,
        "File too large. Limit for project 'demo-pkg' is 100 MB. See "
        f"{HELP}#file-size-limit for more information.",
        "",
        "file-too-large",
        False,
        "100 MB",
    ),
    (
        400,
        "Project size too large. Limit for project 'demo-pkg' total size is 10 GB.",
        "",
        "project-too-large",
        False,
        "total size",
    ),
    (
        400,
        f"The name 'requests2' is too similar to an existing project. See {HELP}"
        "#project-name for more information.",
        "",
        "name-too-similar",
        False,
        "similar",
    ),
    (
        400,
        f"The name 'os' isn't allowed. See {HELP}#project-name for more information.",
        "",
        "name-not-allowed",
        False,
        "'os'",
    ),
    (
        400,
        "'1.0.0.0.0.0.x' is an invalid value for Version. Error: Start and end with a letter "
        "or numeral containing only ASCII numeric and '.', '_' and '-'.",
        "",
        "metadata-invalid",
        False,
        "twine check",
    ),
    (308, "Permanent Redirect", "", "redirect", False, "/legacy/"),
    (301, "Moved Permanently", "", "redirect", False, "trailing slash"),
    (413, "Request Entity Too Large", "", "file-too-large", False, "100 MB"),
    (429, "Too Many Requests", "", "rate-limited", True, "backoff"),
    (503, "Service Unavailable", "", "server-error", True, "again"),
    (502, "Bad Gateway", "<html><body>upstream</body></html>", "server-error", True, "502"),
]

# pypiserver and devpi, as their sources write them (the real pypiserver is tested below).
PRIVATE: list[tuple[int, str, str, str, bool, str]] = [
    (
        409,
        "Conflict",
        f"Package '{FN}' already exists!\n  You may start server with `--overwrite` option.",
        "file-exists",
        False,
        FN,
    ),
    (
        400,
        "Bad Request",
        f"<p>Package &#039;{FN}&#039; already exists!<br>  You may start "
        "server with `--overwrite` option.</p>",
        "file-exists",
        False,
        FN,
    ),
    (401, "Unauthorized", "", "auth-missing", False, "RELEASE_"),
    (403, "Forbidden", "", "auth-refused", False, "username and password"),
    (409, f"{FN} already exists in non-volatile index", "", "file-exists", False, FN),
    (403, "no permission to submit", "", "no-permission", False, "acl_upload"),
    (401, "user 'bob' could not be authenticated", "", "auth-missing", False, "401"),
]


def _ids(rows: list[tuple[int, str, str, str, bool, str]]) -> list[str]:
    return [f"{code}-{status}-{i}" for i, (status, _, _, code, _, _) in enumerate(rows)]


@pytest.mark.parametrize(
    ("status", "reason", "body", "code", "retry", "needle"),
    WAREHOUSE + PRIVATE,
    ids=_ids(WAREHOUSE + PRIVATE),
)
def test_known_answers(
    status: int, reason: str, body: str, code: str, retry: bool, needle: str
) -> None:
    d = explain_upload(status, reason, body, project="demo-pkg", index_name="prod")
    assert d.code == code, d
    assert d.retry is retry
    assert needle in str(d)
    assert d.title
    assert d.cause
    assert d.fix


MESSAGES = [row for row in WAREHOUSE if row[3] not in {"redirect", "rate-limited", "server-error"}]


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [(status, reason, code) for status, reason, _, code, _, _ in MESSAGES],
    ids=_ids(MESSAGES),
)
def test_warehouse_html_body_alone_is_enough(status: int, reason: str, code: str) -> None:
    """Some clients lose the reason line: the same message in warehouse's HTML body matches."""
    escaped = reason.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")
    html_body = (
        f"<html><head><title>{status} {escaped}</title></head><body><h1>{status}"
        f"</h1>{escaped}<br/><br/>\n</body></html>"
    )
    d = explain_upload(status, "", html_body, project="demo-pkg")
    assert d.code == code


def test_rules_have_distinct_codes_and_each_is_in_the_table() -> None:
    codes = [rule.code for rule in diagnose._RULES]
    assert len(codes) == len(set(codes))
    tested = {row[3] for row in WAREHOUSE + PRIVATE}
    data = Path(__file__).parent / "data" / "warehouse_refusals.json"
    tested |= {r["code"] for r in json.loads(data.read_text(encoding="utf-8"))["refusals"]}
    assert set(codes) <= tested, set(codes) - tested


@pytest.mark.parametrize(
    ("status", "reason", "body", "retry"),
    [
        (418, "I'm a teapot", "", False),
        (400, "Something new and strange", "<p>details here</p>", False),
        (507, "Insufficient Storage", "", True),
        (404, "Not Found", "", False),
    ],
)
def test_unknown_answers_are_shown_verbatim(
    status: int, reason: str, body: str, retry: bool
) -> None:
    d = explain_upload(status, reason, body)
    assert d.code in {"unknown", "server-error"}
    assert f"{status} {reason}" in str(d)
    if body:
        assert "details here" in d.cause
    assert d.retry is retry


def test_unknown_body_is_shortened_not_dropped() -> None:
    d = explain_upload(400, "Odd", "x" * 5000)
    assert "x" * 400 in d.cause
    assert len(d.cause) < 1000


def test_context_names_file_project_and_index() -> None:
    d = explain_upload(400, "File already exists.", filename="demo-1.0.whl", index_name="test")
    assert "demo-1.0.whl" in d.title
    assert "the test index" in d.title
    d = explain_upload(403, "The given token isn't allowed to upload to project 'demo-pkg'.")
    assert "demo-pkg" in d.title


@pytest.mark.parametrize(
    ("publisher", "project", "needles"),
    [
        ("example", "python-example", ["'example'", "'python-example'"]),
        ("", "python-example", ["pending publisher's project name", "'python-example'"]),
        ("Demo_Pkg", "demo-pkg", ["Both names"]),
    ],
)
def test_pending_publisher_says_which_names_differ(
    publisher: str, project: str, needles: list[str]
) -> None:
    d = explain_upload(
        400,
        "Non-user identities cannot create new projects. This was probably caused by "
        "successfully using a pending publisher but specifying the project name incorrectly",
        project=project,
        publisher_project=publisher,
    )
    assert d.code == "pending-publisher-name"
    for needle in needles:
        assert needle in d.cause


# --- a real pypiserver's answers ------------------------------------------------------------
def _wheel() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("demo_pkg/__init__.py", "")
        zf.writestr("demo_pkg-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buffer.getvalue()


def _post(
    index: LocalIndex, auth: tuple[str, str] | None, agent: str = "python-requests"
) -> requests.Response:
    return requests.post(
        index.upload_url,
        data={
            ":action": "file_upload",
            "protocol_version": "1",
            "name": "demo-pkg",
            "version": "1.0.0",
        },
        files={"content": ("demo_pkg-1.0.0-py3-none-any.whl", _wheel())},
        auth=auth,
        headers={"User-Agent": agent},
        timeout=30,
    )


@pytest.mark.slow
def test_real_pypiserver_refusals(local_index: LocalIndex) -> None:
    fn = "demo_pkg-1.0.0-py3-none-any.whl"
    answers = {
        "auth-missing": _post(local_index, None),
        "auth-refused": _post(local_index, (local_index.username, "wrong")),
    }
    assert _post(local_index, (local_index.username, local_index.password)).status_code == 200
    answers["file-exists"] = _post(local_index, (local_index.username, local_index.password))
    twine = _post(local_index, (local_index.username, local_index.password), "twine/6.1.0")
    assert twine.status_code == 400
    answers["file-exists-twine"] = twine
    for code, r in answers.items():
        d = explain_upload(r.status_code, r.reason, r.text, filename=fn, index_name="test")
        assert d.code == code.removesuffix("-twine"), (code, r.status_code, r.reason, d)
        assert local_index.password not in str(d)
    assert (
        fn
        in explain_upload(
            answers["file-exists"].status_code,
            answers["file-exists"].reason,
            answers["file-exists"].text,
        ).title
    )


# --- a 403 explained by the offline token check -----------------------------------------------
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def test_403_explained_by_token_for_the_other_index() -> None:
    secret = make_token(location=TESTPYPI.warehouse and "test.pypi.org", caveats=[[3, "u"]])
    findings = check_token(secret, username="__token__", index=PYPI, project="demo", now=NOW)
    text = explain_403_with_token(findings)
    assert text is not None
    assert text.startswith("The offline token check explains it:")
    assert "TestPyPI token" in text
    assert secret[5:15] not in text


def test_403_explained_prefers_the_most_telling_check() -> None:
    secret = make_token(caveats=[[1, ["other"]], [0, 1, 0]]) + "\n"
    findings = check_token(secret, username="alice", index=PYPI, project="demo", now=NOW)
    text = explain_403_with_token(findings)
    assert text is not None
    first, *others = text.splitlines()
    assert "__token__" in first
    assert len(others) == 2  # wrong project, expired (whitespace: PyPI strips it, a warning)
    assert any("expired" in line for line in others)


def test_403_not_explained_by_a_good_token() -> None:
    secret = make_token(caveats=[[3, "u"]])
    findings = check_token(secret, username="__token__", index=PYPI, project="demo", now=NOW)
    assert explain_403_with_token(findings) is None
    assert explain_403_with_token([]) is None


# --- trusted publishing -----------------------------------------------------------------------
MINT = [
    (
        "not-enabled",
        "GitHub trusted publishing functionality not enabled",
        "mint-not-enabled",
        True,
        "API token",
    ),
    (
        "invalid-payload",
        "unknown trusted publishing issuer",
        "mint-unknown-issuer",
        False,
        "self-managed GitLab",
    ),
    ("invalid-payload", "malformed JWT", "mint-malformed-jwt", False, "id_tokens"),
    (
        "invalid-payload",
        "1 validation error for TokenPayload\ntoken\n  Field required",
        "mint-invalid-payload",
        False,
        "Field required",
    ),
    ("invalid-token", "malformed or invalid token", "mint-invalid-token", False, "audience"),
    (
        "invalid-pending-publisher",
        "valid token, but project already exists",
        "mint-invalid-pending-publisher",
        False,
        "normal trusted publisher",
    ),
    (
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with "
        "matching claims was not found)",
        "mint-invalid-publisher",
        False,
        "workflow filename",
    ),
    (
        "invalid-reuse-token",
        "invalid token: already used",
        "mint-invalid-reuse-token",
        False,
        "new identity token",
    ),
    ("brand-new-code", "something", "mint-unknown", False, "brand-new-code: something"),
]


@pytest.mark.parametrize(("code", "description", "expected", "retry", "needle"), MINT)
def test_mint_errors(code: str, description: str, expected: str, retry: bool, needle: str) -> None:
    d = explain_mint_error(code, description)
    assert d.code == expected
    assert d.retry is retry
    assert needle in str(d)
    assert description.splitlines()[0] in d.cause  # PyPI's own words are kept


def test_mint_failure_parses_the_documented_answer() -> None:
    body = json.dumps(
        {
            "message": "Token request failed",
            "errors": [
                {
                    "code": "invalid-publisher",
                    "description": "valid token, but no corresponding publisher",
                },
                {"code": "invalid-token", "description": "second"},
            ],
        }
    )
    d = explain_mint_failure(422, body)
    assert d.code == "mint-invalid-publisher"
    assert "invalid-token: second" in d.cause


@pytest.mark.parametrize("body", ["<html>Bad gateway</html>", "[]", '{"errors": null}', ""])
def test_mint_failure_other_bodies_are_verbatim(body: str) -> None:
    d = explain_mint_failure(502, body)
    assert d.code == "mint-unknown"
    assert "502" in d.title
    assert d.retry


def test_audience_errors() -> None:
    d = explain_audience_error(403, '{"message": "Trusted publishing functionality not enabled"}')
    assert d.code == "oidc-disabled"
    assert "not enabled" in d.cause
    assert explain_audience_error(404).code == "oidc-unsupported"
    assert explain_audience_error(500).retry


def test_workflow_helpers() -> None:
    assert "id-token: write" in MISSING_ID_TOKEN_PERMISSION.fix
    assert "warehouse#11096" in REUSABLE_WORKFLOW.cause
    caller = "o/r/.github/workflows/release.yml@refs/tags/v1"
    called = "o/shared/.github/workflows/publish.yml@refs/heads/main"
    # One rule for "reusable workflow", in the pure claims module.
    assert reusable_workflow({"workflow_ref": caller, "job_workflow_ref": called})
    assert not reusable_workflow({"workflow_ref": caller, "job_workflow_ref": caller})
    assert not reusable_workflow({})


def test_diagnosis_str_ends_with_the_fix() -> None:
    d = Diagnosis("T", "C", "do this", False)
    assert str(d).splitlines() == ["T", "C", "Fix: do this"]


# --- release/docs/refusals.md has a row for every case -------------------------------------------
def test_the_refusals_page_has_a_row_for_every_case() -> None:
    page = (Path(__file__).parent.parent / "release" / "docs" / "refusals.md").read_text(
        encoding="utf-8"
    )
    text = page.split("\n## When an upload is refused\n", 1)[1]
    codes = {rule.code for rule in diagnose._RULES} | {row[2] for row in MINT}
    codes |= {
        "unknown",
        MISSING_ID_TOKEN_PERMISSION.code,
        REUSABLE_WORKFLOW.code,
        "oidc-disabled",
        "oidc-unsupported",
    }
    missing = sorted(c for c in codes if f"\n| `{c}` |" not in text)
    assert not missing, missing

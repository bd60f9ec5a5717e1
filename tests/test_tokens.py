"""Offline token decoding and checks: real macaroons built byte by byte, every bad form."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release import endpoints
from release import redact as boundary
from release.config import IndexSettings
from release.tokens import Finding, TokenProblem, check_token, decode_token
from tests.indexes import PRIVATE, PYPI, TESTPYPI
from tests.macaroons import make_token

# The example token printed in a popular troubleshooting guide, as pypi-facts.md records it:
# the guide's copy has "source" pasted after it.
GUIDE_TOKEN = (
    "pypi-AgEIcHlwaS5vcmcCJDIxNTg0Y2ZhLWNkZGItNGIzOC1hYzgyLWU4MTVmZTU2ZmM0NgACKlszLCIyMzFkYTE5"
    "ZS1lNjJiLTRjZjQtYjRkMy1lMTI5YTRkOTBmMjkiXQAABiDR_f8O2NzYklNHEVtK5xJm_o06w_nIZ_WuPNKvB0fyvw"
)
GUIDE_TOKEN_AS_PRINTED = GUIDE_TOKEN + "source"

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
PYPI_PREFIX = "pypi-AgEIcHlwaS5vcmc"  # pypi-facts.md: what every PyPI token starts with
TESTPYPI_PREFIX = "pypi-AgENdGVzdC5weXBpLm9yZw"


def codes(findings: list[Finding], level: str | None = None) -> set[str]:
    return {f.code for f in findings if level is None or f.level == level}


def assert_no_secret(findings: list[Finding], secret: str) -> None:
    """No finding shows any slice of the secret longer than the pypi- prefix."""
    text = "\n".join(f"{f.message} {f.fix}" for f in findings)
    width = len("pypi-") + 1
    for start in range(len(secret) - width + 1):
        window = secret[start : start + width]
        assert window not in text, f"a slice of the secret leaked: {window!r}"


# --- decoding ----------------------------------------------------------------------------------
def test_guide_token_decodes_as_account_wide_pypi_token() -> None:
    info = decode_token(GUIDE_TOKEN)
    assert info.location == endpoints.PYPI_HOST
    assert info.warehouse is endpoints.Warehouse.PYPI
    assert info.scope.kind == "user"
    assert info.expires is None
    assert info.trailing_bytes == 0


def test_guide_token_as_printed_has_five_trailing_bytes() -> None:
    info = decode_token(GUIDE_TOKEN_AS_PRINTED)
    assert info.trailing_bytes == 5
    assert info.trailing_chars == len("source")
    assert info.scope.kind == "user"


def test_guide_token_as_printed_is_flagged_without_echoing_it() -> None:
    findings = check_token(
        GUIDE_TOKEN_AS_PRINTED, username="__token__", index=PYPI, project="demo", now=NOW
    )
    assert codes(findings, "warning") == {"trailing"}
    assert not codes(findings, "error")
    assert_no_secret(findings, GUIDE_TOKEN_AS_PRINTED)
    assert "source" not in "".join(f.message + f.fix for f in findings)


def test_serializer_matches_the_documented_prefixes() -> None:
    assert make_token(endpoints.PYPI_HOST).startswith(PYPI_PREFIX)
    assert make_token(endpoints.TESTPYPI_HOST).startswith(TESTPYPI_PREFIX)
    assert decode_token(make_token(endpoints.TESTPYPI_HOST)).warehouse is (
        endpoints.Warehouse.TESTPYPI
    )


UI_PROJECT = [[1, ["my-project"]], [2, ["7f8e"]]]
TRUSTED = [[4, "pub-1"], [2, ["7f8e"]], [0, 1_800_000_900, 1_800_000_000]]


@pytest.mark.parametrize(
    ("caveats", "kind", "projects"),
    [
        pytest.param([[3, "user-id"]], "user", (), id="ui-account-wide"),
        pytest.param(UI_PROJECT, "projects", ("my-project",), id="ui-project-scoped"),
        pytest.param(TRUSTED, "trusted-publishing", (), id="trusted-publishing"),
        pytest.param(
            [[4, "pub-1", {"ref": "refs/tags/v1"}]], "trusted-publishing", (), id="tp-claims"
        ),
        pytest.param([[2, ["7f8e"]]], "project-ids", (), id="ids-only"),
        pytest.param([{"version": 1, "permissions": "user"}], "user", (), id="legacy-user"),
        pytest.param(
            [{"version": 1, "permissions": {"projects": ["old-name"]}}],
            "projects",
            ("old-name",),
            id="legacy-projects",
        ),
        pytest.param([{"project_ids": ["a"]}], "project-ids", (), id="legacy-ids"),
        pytest.param([[1, ["a", "b"]], [1, ["b", "c"]]], "projects", ("b",), id="intersection"),
        pytest.param([], "unknown", (), id="no-caveats"),
        pytest.param([[0, 2_000_000_000, 0]], "unknown", (), id="expiry-only"),
        pytest.param([b"not json"], "unknown", (), id="not-json"),
        pytest.param([[9, "future"]], "unknown", (), id="unknown-tag"),
        pytest.param([[1, "not-a-list"]], "unknown", (), id="malformed-tag-1"),
        pytest.param([{"version": 2}], "unknown", (), id="unknown-dict"),
    ],
)
def test_scope_from_caveats(caveats: list[object], kind: str, projects: tuple[str, ...]) -> None:
    info = decode_token(make_token(caveats=caveats))
    assert info.scope.kind == kind
    assert info.scope.projects == projects
    assert "unrestricted" not in info.scope.describe().replace("not proof it is unrestricted", "")


def test_unreadable_and_third_party_caveats_are_counted() -> None:
    info = decode_token(make_token(caveats=[b"\xff\xfe", [9], [3, "u"]], vid_on=(2,)))
    assert info.unreadable_caveats == 2
    assert info.third_party_caveats == 1
    assert info.scope.kind == "user"


@pytest.mark.parametrize(
    "expiry",
    [[0, 1_800_000_900, 1_800_000_000], {"exp": 1_800_000_900, "nbf": 1_800_000_000}],
    ids=["list", "legacy-dict"],
)
def test_expiry_both_formats(expiry: object) -> None:
    info = decode_token(make_token(caveats=[[3, "u"], expiry]))
    assert info.expires == datetime.fromtimestamp(1_800_000_900, tz=timezone.utc)
    assert info.not_before == datetime.fromtimestamp(1_800_000_000, tz=timezone.utc)


def test_location_field_is_optional_and_then_no_index() -> None:
    info = decode_token(make_token(location=None, caveats=[[3, "u"]]))
    assert info.location == ""
    assert info.warehouse is None


def test_long_caveat_needs_multibyte_length() -> None:
    names = [f"project-{i}" for i in range(40)]  # > 127 bytes: a two-byte varint length
    info = decode_token(make_token(caveats=[[1, names]]))
    assert set(info.scope.projects) == set(names)


GOOD = make_token(caveats=[[3, "u"]])


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        pytest.param(GOOD + "\n", "whitespace", id="trailing-newline"),
        pytest.param(" " + GOOD, "whitespace", id="leading-space"),
        pytest.param(GOOD + "\r\n", "whitespace", id="crlf"),
        pytest.param(f'"{GOOD}"', "quotes", id="double-quotes"),
        pytest.param(f"'{GOOD}'", "quotes", id="single-quotes"),
        pytest.param(f"\u201c{GOOD}\u201d", "quotes", id="smart-quotes"),
        pytest.param(GOOD.removeprefix("pypi-"), "missing-prefix", id="missing-prefix"),
        pytest.param("pypi-" + GOOD, "doubled-prefix", id="doubled-prefix"),
        pytest.param("hunter2-correct-horse", "not-a-token", id="password"),
        pytest.param(GOOD[:60] + "\n" + GOOD[60:], "whitespace", id="wrapped"),
        pytest.param(GOOD + "==", "bad-characters", id="padding"),
        pytest.param(
            GOOD.replace("_", "/").replace("-", "+").replace("pypi+", "pypi-"),
            "bad-characters",
            id="standard-base64",
        ),
        pytest.param(GOOD + "x", "trailing", id="one-extra-char"),
        pytest.param("pypi-", "truncated", id="empty-body"),
        pytest.param(
            "pypi-" + base64.urlsafe_b64encode(b"\x01abc").decode().rstrip("="),
            "not-macaroon",
            id="version-1",
        ),
        pytest.param(
            make_token(caveats=[[3, "u"]], signature_length=31), "truncated", id="short-sig"
        ),
    ],
)
def test_bad_forms_raise_with_code(secret: str, code: str) -> None:
    with pytest.raises(TokenProblem) as caught:
        decode_token(secret)
    assert caught.value.code == code
    assert caught.value.fix
    inner = secret.strip().strip("\"'\u201c\u201d")
    assert len(inner) <= len("pypi-") or inner not in str(caught.value)


def test_every_truncation_is_caught() -> None:
    token = make_token(caveats=UI_PROJECT)
    for cut in range(len("pypi-") + 1, len(token)):
        with pytest.raises(TokenProblem) as caught:
            decode_token(token[:cut])
        assert caught.value.code == "truncated", cut


@pytest.mark.parametrize("junk", [b"x", b"source", b"\x00\x00\x00", b"\x06 " + b"z" * 32])
def test_trailing_bytes_are_reported_not_raised(junk: bytes) -> None:
    info = decode_token(make_token(caveats=[[3, "u"]], trailing=junk))
    assert info.trailing_bytes == len(junk)


# --- checking against the index, the username, the project and the clock ------------------------
def check(
    secret: str,
    idx: IndexSettings = PYPI,
    *,
    username: str = "__token__",
    project: str = "my-project",
    now: datetime = NOW,
) -> list[Finding]:
    findings = check_token(secret, username=username, index=idx, project=project, now=now)
    assert_no_secret(findings, secret)
    for finding in findings:
        assert finding.level == "info" or finding.fix, finding
    return findings


def test_good_token_has_no_error_and_a_summary() -> None:
    findings = check(make_token(caveats=UI_PROJECT))
    assert not codes(findings, "error")
    assert not codes(findings, "warning")
    summary = [f for f in findings if f.code == "summary"]
    assert summary
    assert "PyPI" in summary[0].message
    assert "my-project" in summary[0].message


@pytest.mark.parametrize(
    ("location", "idx", "expected"),
    [
        (endpoints.PYPI_HOST, TESTPYPI, "wrong-index"),
        (endpoints.TESTPYPI_HOST, PYPI, "wrong-index"),
        ("localhost", PYPI, "wrong-index"),
        (endpoints.PYPI_HOST, PRIVATE, "pypi-token-for-private-index"),
        (endpoints.TESTPYPI_HOST, PRIVATE, "pypi-token-for-private-index"),
    ],
)
def test_token_for_the_other_index(location: str, idx: IndexSettings, expected: str) -> None:
    findings = check(make_token(location, [[3, "u"]]), idx)
    assert expected in codes(findings)
    level = "warning" if idx is PRIVATE else "error"
    assert expected in codes(findings, level)


def test_matching_index_is_fine() -> None:
    assert "wrong-index" not in codes(
        check(make_token(endpoints.TESTPYPI_HOST, [[3, "u"]]), TESTPYPI)
    )
    # A self-hosted warehouse whose location is the private index's own host.
    assert not codes(check(make_token("127.0.0.1", [[3, "u"]]), PRIVATE), "warning")


def test_pypi_token_message_names_both_indexes() -> None:
    (finding,) = [
        f
        for f in check(make_token(endpoints.PYPI_HOST, [[3, "u"]]), TESTPYPI)
        if f.code == "wrong-index"
    ]
    assert "PyPI token" in finding.message
    assert "TestPyPI" in finding.message
    assert endpoints.TESTPYPI_HOST in finding.fix


@pytest.mark.parametrize(
    ("caveats", "project", "wrong"),
    [
        (UI_PROJECT, "other-project", True),
        (UI_PROJECT, "My_Project", False),  # canonical names compare equal
        (UI_PROJECT, "my.project", False),
        ([[1, ["a", "b"]]], "b", False),
        ([[3, "u"]], "anything", False),
        (UI_PROJECT, "", False),  # project unknown: not compared
    ],
)
def test_project_scope(caveats: list[object], project: str, wrong: bool) -> None:
    findings = check(make_token(caveats=caveats), project=project)
    assert ("wrong-project" in codes(findings, "error")) is wrong


def test_wrong_project_message_names_both_projects() -> None:
    (finding,) = [
        f
        for f in check(make_token(caveats=UI_PROJECT), project="Other_Thing")
        if f.code == "wrong-project"
    ]
    assert "my-project" in finding.message
    assert "other-thing" in finding.message


def test_scope_unknown_is_a_warning_never_unrestricted() -> None:
    findings = check(make_token(caveats=[]))
    assert "scope-unknown" in codes(findings, "warning")
    text = " ".join(f.message for f in findings).lower()
    assert "scope unknown" in text


def test_ids_only_cannot_be_checked_offline() -> None:
    assert "scope-ids" in codes(check(make_token(caveats=[[2, ["x"]]])), "info")


@pytest.mark.parametrize(
    ("exp", "nbf", "code", "level"),
    [
        (NOW - timedelta(seconds=1), NOW - timedelta(minutes=15), "expired", "error"),
        (NOW, NOW - timedelta(minutes=15), "expired", "error"),  # exp is exclusive, as PyPI's
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1), "not-yet-valid", "error"),
        (NOW + timedelta(minutes=5), NOW - timedelta(minutes=10), "expires-soon", "info"),
        (NOW + timedelta(days=30), NOW - timedelta(days=1), None, None),
    ],
)
def test_expiry(exp: datetime, nbf: datetime, code: str | None, level: str | None) -> None:
    caveats = [[3, "u"], [0, int(exp.timestamp()), int(nbf.timestamp())]]
    found = codes(check(make_token(caveats=caveats)))
    for other in ("expired", "not-yet-valid", "expires-soon"):
        assert (other in found) is (other == code)
    if code is not None:
        assert code in codes(check(make_token(caveats=caveats)), level)


def test_naive_now_is_taken_as_utc() -> None:
    caveats = [[3, "u"], [0, int(NOW.timestamp()) - 1, 0]]
    assert "expired" in codes(check(make_token(caveats=caveats), now=NOW.replace(tzinfo=None)))


def test_expired_trusted_publishing_token_says_mint_again() -> None:
    caveats = [[4, "p"], [2, ["x"]], [0, int(NOW.timestamp()) - 60, int(NOW.timestamp()) - 960]]
    (finding,) = [f for f in check(make_token(caveats=caveats)) if f.code == "expired"]
    assert "15 minutes" in finding.fix


@pytest.mark.parametrize("username", ["alice", "", "__TOKEN__", "token"])
def test_username_other_than_token(username: str) -> None:
    findings = check(make_token(caveats=[[3, "u"]]), username=username)
    assert "username" in codes(findings, "error")


def test_username_not_checked_for_private_index() -> None:
    findings = check(make_token("127.0.0.1", [[3, "u"]]), PRIVATE, username="alice")
    assert "username" not in codes(findings)


@pytest.mark.parametrize("idx", [PYPI, TESTPYPI])
def test_password_login_is_refused_for_warehouse(idx: IndexSettings) -> None:
    findings = check("S3cr3t!pa55w0rd#", idx, username="alice")
    assert codes(findings, "error") == {"password-login"}
    assert "__token__" in findings[0].fix


def test_password_with_token_username() -> None:
    assert codes(check("S3cr3t!pa55w0rd#", username="__token__"), "error") == {"not-a-token"}


def test_password_for_private_index_is_only_noted() -> None:
    findings = check("S3cr3t!pa55w0rd#", PRIVATE, username="alice")
    assert codes(findings) == {"password"}
    assert codes(findings, "info") == {"password"}


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (GOOD + "\n", set()),  # PyPI strips it: a warning
        (f' "{GOOD}"\n', {"quotes"}),
        (GOOD.removeprefix("pypi-"), {"missing-prefix"}),
        ("pypi-" + GOOD, {"doubled-prefix"}),
        (GOOD[:-10], {"truncated"}),
        (GOOD + "x", {"trailing"}),
        ("", {"empty"}),
    ],
)
def test_check_reports_text_problems_and_still_reads_the_token(
    secret: str, expected: set[str]
) -> None:
    findings = check(secret)
    assert codes(findings, "error") == expected
    if expected <= {"quotes", "missing-prefix", "doubled-prefix"}:
        assert "summary" in codes(findings)  # the token inside was still decoded


def test_several_problems_at_once() -> None:
    secret = " " + make_token(endpoints.TESTPYPI_HOST, UI_PROJECT) + "\n"
    findings = check(secret, PYPI, username="me", project="else")
    assert codes(findings, "error") == {"wrong-index", "username", "wrong-project"}
    assert "whitespace" in codes(findings, "warning")


def test_whitespace_and_padding_pypi_accepts_are_warnings() -> None:
    """Warehouse strips the password; its macaroon library pads base64 and decodes both
    alphabets: all accepted."""
    token = make_token(caveats=[[3, "user-id-1"]])  # a length that needs padding
    padded = token + "=" * (-len(token.removeprefix("pypi-")) % 4)
    assert padded != token
    body = token.removeprefix("pypi-")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    standard = "pypi-" + base64.b64encode(raw).decode()  # '+' and '/', padded
    assert "+" in standard or "/" in standard
    cases = ((f"  {token}\n", "whitespace"), (padded, "padding"), (standard, "alphabet"))
    for secret, code in cases:
        findings = check(secret)
        assert codes(findings, "error") == set(), findings
        assert code in codes(findings, "warning")
        assert "summary" in codes(findings)


@pytest.mark.parametrize(
    "caveat",
    [
        b"not json",
        [99, "future"],
        [],
        "user",
        {"version": 1},
        {"foo": 1},
        [0, "2000000000", 0],
        [0, 2_000_000_000, False],
        [0, 2_000_000_000],
        [3, 42],
        [1, "not-a-list"],
    ],
)
def test_a_caveat_pypi_cannot_read_refuses_the_token(caveat: object) -> None:
    """macaroons/caveats: a caveat that does not deserialize fails verification."""
    findings = check(make_token(caveats=[[3, "user-id"], caveat]))
    assert "unreadable-caveat" in codes(findings, "error")


def test_extra_caveat_values_are_ignored_as_pypi_does() -> None:
    findings = check(make_token(caveats=[[3, "user-id", "extra"], [0, 99_999_999_999, 0, "x"]]))
    assert "unreadable-caveat" not in codes(findings)


def test_project_scope_is_compared_exactly_as_pypi_does() -> None:
    """PyPI checks the normalized name against the token's names as written: a token that
    names My_Pkg is refused for my-pkg."""
    findings = check(make_token(caveats=[[1, ["My_Pkg"]]]), project="my-pkg")
    wrong = [f for f in findings if f.code == "wrong-project"]
    assert wrong
    assert wrong[0].level == "error"
    assert "as they are written" in wrong[0].message
    assert codes(check(make_token(caveats=[[1, ["my-pkg"]]]), project="My_Pkg"), "error") == set()


# --- redact: a token's forms, at the output boundary ---------------------------------------
def redact(text: str, secret: str) -> str:
    boundary.register(secret)
    return boundary.redact(text)


def test_redact_every_form() -> None:
    token = make_token(caveats=[[3, "u"]])
    body = token.removeprefix("pypi-")
    text = f"a {token} b {body} c"
    out = redact(text, token + "\n")
    assert token not in out
    assert body not in out
    assert out == "a <hidden> b <hidden> c"


def test_redact_password_and_url_encoded_form() -> None:
    out = redact("https://u:p%40ss%2Fword@host/ and p@ss/word", "p@ss/word")
    assert "p@ss/word" not in out
    assert "p%40ss%2Fword" not in out


def test_redact_empty_secret_changes_nothing() -> None:
    assert redact("text", "") == "text"


# --- properties: nothing but TokenProblem escapes, and nothing of the secret is shown -------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _decodes_or_raises_token_problem(text: str) -> None:
    try:
        info = decode_token(text)
    except TokenProblem as problem:
        caught: TokenProblem | None = problem
    else:
        caught = None
    if caught is not None:
        assert caught.code
        assert caught.fix
    else:
        assert text.startswith("pypi-")
        assert info.trailing_bytes >= 0
        assert info.scope.kind in {
            "user",
            "projects",
            "project-ids",
            "trusted-publishing",
            "unknown",
        }


@settings(deadline=None)
@given(st.text(max_size=300))
def test_any_text_decodes_or_raises_token_problem(text: str) -> None:
    _decodes_or_raises_token_problem(text)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_token_problem(raw: bytes) -> None:
    _decodes_or_raises_token_problem("pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("="))


@settings(deadline=None)
@given(st.lists(_json, max_size=5), st.sampled_from([PYPI, TESTPYPI, PRIVATE]), st.text(max_size=6))
def test_any_caveats_are_checked_without_leaking(
    caveats: list[object], idx: IndexSettings, username: str
) -> None:
    findings = check(make_token(caveats=caveats), idx, username=username)
    assert "summary" in codes(findings)


# --- every finding, exactly ------------------------------------------------------------------
# What doctor and upload print for each case: level, message, fix and code (found missing by
# `nox -s mutate`: the findings were checked by code, their words and fixes were not).

T = int(NOW.timestamp())
_TOK2 = make_token(caveats=[[3, "us"]])  # two "=" of padding would complete it
SCENARIOS: dict[str, tuple[str, IndexSettings, str, str]] = {
    "good": (make_token(caveats=UI_PROJECT), PYPI, "__token__", "my-project"),
    "trusted": (
        make_token(caveats=[[4, "pub-1"], [2, ["7f8e"]], [0, T + 600, T - 60]]),
        PYPI,
        "__token__",
        "my-project",
    ),
    "user": (make_token(caveats=[[3, "u"]]), TESTPYPI, "__token__", ""),
    "ids": (make_token(caveats=[[2, ["7f8e", "9a9b"]]]), PYPI, "__token__", "my-project"),
    "unknown": (make_token(caveats=[]), PYPI, "__token__", "my-project"),
    "wrongproj": (make_token(caveats=[[1, ["other", "third"]]]), PYPI, "__token__", "my-project"),
    "near": (make_token(caveats=[[1, ["My_Project"]]]), PYPI, "__token__", "my-project"),
    "noproj": (make_token(caveats=[[1, []]]), PYPI, "__token__", "my-project"),
    "otherindex": (
        make_token(location="test.pypi.org", caveats=[[3, "u"]]),
        PYPI,
        "alice",
        "my-project",
    ),
    "unknownhost": (
        make_token(location="evil.example", caveats=[[3, "u"]]),
        TESTPYPI,
        "__token__",
        "my-project",
    ),
    "nolocation": (make_token(location=None, caveats=[[3, "u"]]), PYPI, "__token__", "my-project"),
    "private_pypitok": (make_token(caveats=[[3, "u"]]), PRIVATE, "bob", "my-project"),
    "unreadable": (make_token(caveats=[b"not json", [99, "x"]]), PYPI, "__token__", "my-project"),
    "expired": (make_token(caveats=[[3, "u"], [0, T, T - 3600]]), PYPI, "__token__", "my-project"),
    "soon": (
        make_token(caveats=[[3, "u"], [0, T + 14 * 60 + 59, T - 3600]]),
        PYPI,
        "__token__",
        "my-project",
    ),
    "fifteen": (
        make_token(caveats=[[3, "u"], [0, T + 15 * 60, T - 3600]]),
        PYPI,
        "__token__",
        "my-project",
    ),
    "notyet": (
        make_token(caveats=[[3, "u"], [0, T + 3600, T + 1]]),
        PYPI,
        "__token__",
        "my-project",
    ),
    "trailing": (
        make_token(caveats=[[3, "u"]], trailing=b"source"),
        PYPI,
        "__token__",
        "my-project",
    ),
    "padded": (make_token(caveats=[[3, "us"]]) + "==", PYPI, "__token__", "x"),
    "empty": ("", PYPI, "__token__", "x"),
    "password_pypi": ("hunter2hunter2", PYPI, "alice", "x"),
    "password_tok": ("hunter2hunter2", TESTPYPI, "__token__", "x"),
    "password_priv": ("hunter2hunter2", PRIVATE, "alice", "x"),
    "quoted": ('"' + make_token(caveats=[[3, "u"]]) + '" ', PYPI, "__token__", "x"),
    "noprefix": (make_token(caveats=[[3, "u"]])[5:], PYPI, "__token__", "x"),
    "doubleprefix": ("pypi-" + make_token(caveats=[[3, "u"]]), PYPI, "__token__", "x"),
    "whitespace only": ("\t" + _TOK2 + "\n", PYPI, "__token__", "x"),
    "curly quotes": ("\u201c" + _TOK2 + "\u201d", PYPI, "__token__", "x"),
    "AgE that is no token": ("AgEnotatoken", PYPI, "__token__", "x"),
    "one = where two belong": (_TOK2 + "=", PYPI, "__token__", "x"),
    "padding and a doubled prefix": ("pypi-" + _TOK2 + "==", PYPI, "__token__", "x"),
    "quoted, missing prefix": ("'" + _TOK2[5:] + "'", PYPI, "__token__", "x"),
    "standard base64": (
        "pypi-" + make_token(caveats=[[3, "u"]])[5:].replace("-", "+").replace("_", "/"),
        PYPI,
        "__token__",
        "x",
    ),
    "a private index's own token": (
        make_token(location="Private.Example", caveats=[[3, "u"]]),
        IndexSettings(
            "prod", "https://private.example/legacy/", "https://private.example/simple/", "bob"
        ),
        "bob",
        "x",
    ),
}
EXACT_FINDINGS: dict[str, list[tuple[str, str, str, str]]] = {
    "standard base64": [
        (
            "warning",
            "The token is written in standard base64 ('+', '/') instead of PyPI's URL-safe "
            "alphabet ('-', '_'): it was re-encoded. PyPI accepts it, other tools may not.",
            "Copy the token exactly as PyPI showed it",
            "alphabet",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "a private index's own token": [
        (
            "info",
            "Token for Private.Example, user-wide (every project of the account), no expiry.",
            "",
            "summary",
        )
    ],
    "good": [
        ("info", "Token for PyPI (pypi.org), projects: my-project, no expiry.", "", "summary")
    ],
    "trusted": [
        (
            "info",
            "Token for PyPI (pypi.org), trusted publishing (short-lived, for the publisher's "
            "projects), expires 2026-11-22 12:10:00 UTC.",
            "",
            "summary",
        ),
        (
            "info",
            "The token names projects by id only: whether it covers my-project is known to the "
            "index, not checkable offline.",
            "",
            "scope-ids",
        ),
        ("info", "The token expires in 10 minute(s).", "", "expires-soon"),
    ],
    "user": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
        (
            "error",
            "This is a PyPI token, but the upload goes to TestPyPI (the test index). Each "
            "index has its own accounts and tokens.",
            "Create a token on TestPyPI (https://test.pypi.org/manage/account/token/) and use "
            "it for the test index; keep the PyPI token for the other one",
            "wrong-index",
        ),
    ],
    "ids": [
        (
            "info",
            "Token for PyPI (pypi.org), 2 project id(s) only (no names in the token), no expiry.",
            "",
            "summary",
        ),
        (
            "info",
            "The token names projects by id only: whether it covers my-project is known to the "
            "index, not checkable offline.",
            "",
            "scope-ids",
        ),
    ],
    "unknown": [
        (
            "info",
            "Token for PyPI (pypi.org), scope unknown (no readable caveat restricts it; not "
            "proof it is unrestricted), no expiry.",
            "",
            "summary",
        ),
        (
            "warning",
            "No caveat of the token says what it may upload to: scope unknown.",
            "If the upload is refused, create a new token scoped to the project",
            "scope-unknown",
        ),
    ],
    "wrongproj": [
        ("info", "Token for PyPI (pypi.org), projects: other, third, no expiry.", "", "summary"),
        (
            "error",
            "The token is scoped to other, third, not to my-project.",
            "Create a token scoped to my-project (or user-wide for the first upload of a new "
            "project) at https://pypi.org/manage/account/token/",
            "wrong-project",
        ),
    ],
    "near": [
        ("info", "Token for PyPI (pypi.org), projects: My_Project, no expiry.", "", "summary"),
        (
            "error",
            "The token names 'My_Project', and PyPI compares the project's normalized name "
            "(my-project) with the names in the token as they are written: they do not match.",
            "Create a token scoped to my-project (or user-wide for the first upload of a new "
            "project) at https://pypi.org/manage/account/token/",
            "wrong-project",
        ),
    ],
    "noproj": [
        ("info", "Token for PyPI (pypi.org), projects: , no expiry.", "", "summary"),
        (
            "error",
            "The token is scoped to no project, not to my-project.",
            "Create a token scoped to my-project (or user-wide for the first upload of a new "
            "project) at https://pypi.org/manage/account/token/",
            "wrong-project",
        ),
    ],
    "otherindex": [
        (
            "info",
            "Token for TestPyPI (test.pypi.org), user-wide (every project of the account), no "
            "expiry.",
            "",
            "summary",
        ),
        (
            "error",
            "This is a TestPyPI token, but the upload goes to PyPI (the prod index). Each "
            "index has its own accounts and tokens.",
            "Create a token on PyPI (https://pypi.org/manage/account/token/) and use it for "
            "the prod index; keep the TestPyPI token for the other one",
            "wrong-index",
        ),
        (
            "error",
            "The username is 'alice', but API tokens only work with username __token__.",
            "Set the username to __token__ (RELEASE_PROD_USERNAME, TWINE_USERNAME or .pypirc)",
            "username",
        ),
    ],
    "unknownhost": [
        (
            "info",
            "Token for evil.example, user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
        (
            "error",
            "The token was issued by evil.example, not by TestPyPI (the test index).",
            "Create a token on TestPyPI: https://test.pypi.org/manage/account/token/",
            "wrong-index",
        ),
    ],
    "nolocation": [
        (
            "info",
            "Token for (no location), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
        (
            "error",
            "The token was issued by an unknown host, not by PyPI (the prod index).",
            "Create a token on PyPI: https://pypi.org/manage/account/token/",
            "wrong-index",
        ),
    ],
    "private_pypitok": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
        (
            "warning",
            "This looks like a token issued by PyPI (pypi.org), but the test index (127.0.0.1) "
            "is a private index, which usually has its own accounts.",
            "Use the private index's own credentials (or check the upload URL)",
            "pypi-token-for-private-index",
        ),
    ],
    "unreadable": [
        (
            "info",
            "Token for PyPI (pypi.org), scope unknown (no readable caveat restricts it; not "
            "proof it is unrestricted), no expiry.",
            "",
            "summary",
        ),
        (
            "error",
            "2 caveat(s) of the token are not ones PyPI can read (not JSON, an unknown tag, "
            "missing or mistyped values); PyPI refuses a token with such a caveat.",
            "Create a new token at https://pypi.org/manage/account/token/ and use it as PyPI "
            "showed it (do not add caveats by hand)",
            "unreadable-caveat",
        ),
    ],
    "expired": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), expires "
            "2026-11-22 12:00:00 UTC.",
            "",
            "summary",
        ),
        (
            "error",
            "The token expired at 2026-11-22 12:00:00 UTC.",
            "Create a new token at https://pypi.org/manage/account/token/",
            "expired",
        ),
    ],
    "soon": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), expires "
            "2026-11-22 12:14:59 UTC.",
            "",
            "summary",
        ),
        ("info", "The token expires in 14 minute(s).", "", "expires-soon"),
    ],
    "fifteen": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), expires "
            "2026-11-22 12:15:00 UTC.",
            "",
            "summary",
        )
    ],
    "notyet": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), expires "
            "2026-11-22 13:00:00 UTC.",
            "",
            "summary",
        ),
        (
            "error",
            "The token is not valid before 2026-11-22 12:00:01 UTC (PyPI reports this as "
            "'token is expired').",
            "Check this machine's clock, or wait until then",
            "not-yet-valid",
        ),
    ],
    "trailing": [
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
        (
            "warning",
            "The token has 6 stray byte(s) (about 8 character(s)) after its signature: text "
            "was pasted after it. PyPI's library ignores them today; stricter tools refuse.",
            "Remove the characters after the token",
            "trailing",
        ),
    ],
    "empty": [
        ("error", "The password for PyPI (the prod index) is empty.", "Set the token", "empty")
    ],
    "password_pypi": [
        (
            "error",
            "PyPI (the prod index) no longer accepts a username and password for uploads.",
            "Create an API token at https://pypi.org/manage/account/token/ and use it with "
            "username __token__, or set up trusted publishing",
            "password-login",
        )
    ],
    "password_tok": [
        (
            "error",
            "The username is __token__ but the password is not an API token (it does not start "
            "with pypi-).",
            "Set the password to the whole API token, pypi- included "
            "(https://test.pypi.org/manage/account/token/)",
            "not-a-token",
        )
    ],
    "password_priv": [
        (
            "info",
            "The credential for the test index (127.0.0.1) is a password (not a PyPI token); "
            "only the index itself can check it.",
            "",
            "password",
        )
    ],
    "quoted": [
        (
            "warning",
            "The token has a space or newline before or after it. PyPI strips it; other "
            "indexes and tools may not.",
            "Remove the surrounding whitespace (a file read with its final newline is the "
            "usual cause) and set it again",
            "whitespace",
        ),
        (
            "error",
            "The token is wrapped in quotes; the quotes became part of it.",
            "Remove the quotes (in CI secrets and .env files, store the bare token)",
            "quotes",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "padded": [
        (
            "warning",
            "The token ends with base64 padding ('='), which PyPI's tokens never have; PyPI "
            "accepts it, other tools may not.",
            "Remove the '=' at the end (copy the token exactly as PyPI showed it)",
            "padding",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "noprefix": [
        (
            "error",
            "The token lacks its pypi- prefix.",
            "Put pypi- in front of it: the prefix is part of the token",
            "missing-prefix",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "doubleprefix": [
        (
            "error",
            "The token has its pypi- prefix twice: it was added once too often.",
            "Remove one pypi- (PyPI's token already includes it)",
            "doubled-prefix",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "whitespace only": [
        (
            "warning",
            "The token has a space or newline before or after it. PyPI strips it; other "
            "indexes and tools may not.",
            "Remove the surrounding whitespace (a file read with its final newline is the "
            "usual cause) and set it again",
            "whitespace",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "curly quotes": [
        (
            "error",
            "The token is wrapped in quotes; the quotes became part of it.",
            "Remove the quotes (in CI secrets and .env files, store the bare token)",
            "quotes",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "AgE that is no token": [
        (
            "error",
            "The username is __token__ but the password is not an API token (it does not start "
            "with pypi-).",
            "Set the password to the whole API token, pypi- included "
            "(https://pypi.org/manage/account/token/)",
            "not-a-token",
        )
    ],
    "one = where two belong": [
        (
            "error",
            "The token has characters a PyPI token never contains (only A-Z a-z 0-9 - _ are "
            "possible).",
            "Copy the token again exactly as PyPI showed it; do not re-encode or pad it",
            "bad-characters",
        )
    ],
    "padding and a doubled prefix": [
        (
            "error",
            "The token has its pypi- prefix twice: it was added once too often.",
            "Remove one pypi- (PyPI's token already includes it)",
            "doubled-prefix",
        ),
        (
            "warning",
            "The token ends with base64 padding ('='), which PyPI's tokens never have; PyPI "
            "accepts it, other tools may not.",
            "Remove the '=' at the end (copy the token exactly as PyPI showed it)",
            "padding",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
    "quoted, missing prefix": [
        (
            "error",
            "The token is wrapped in quotes; the quotes became part of it.",
            "Remove the quotes (in CI secrets and .env files, store the bare token)",
            "quotes",
        ),
        (
            "error",
            "The token lacks its pypi- prefix.",
            "Put pypi- in front of it: the prefix is part of the token",
            "missing-prefix",
        ),
        (
            "info",
            "Token for PyPI (pypi.org), user-wide (every project of the account), no expiry.",
            "",
            "summary",
        ),
    ],
}


@pytest.mark.parametrize("case", SCENARIOS)
def test_every_finding_exactly(case: str) -> None:
    secret, idx, username, project = SCENARIOS[case]
    found = check(secret, idx, username=username, project=project)
    assert [(f.level, f.message, f.fix, f.code) for f in found] == EXACT_FINDINGS[case]


def test_the_scenarios_and_their_findings_match() -> None:
    assert set(SCENARIOS) == set(EXACT_FINDINGS)


# --- every refusal of decode_token, exactly ----------------------------------------------------


def _raw(raw: bytes) -> str:
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


_TOKEN = make_token(caveats=[[3, "u"]])
_CUT = (
    "Copy the whole token again (it is one line of ~180+ characters starting with pypi-); if "
    "it is lost, create a new one"
)
DECODE_REFUSALS: dict[str, tuple[str, str, str, str]] = {
    "whitespace around": (
        " " + _TOKEN,
        "whitespace",
        "The token has a space or newline before or after it.",
        "Remove the surrounding whitespace (a file read with its final newline is the usual "
        "cause) and set it again",
    ),
    "quotes": (
        "'" + _TOKEN + "'",
        "quotes",
        "The token is wrapped in quotes; the quotes became part of it.",
        "Remove the quotes (in CI secrets and .env files, store the bare token)",
    ),
    "a closing quote only": (
        _TOKEN + "\u201d",
        "quotes",
        "The token is wrapped in quotes; the quotes became part of it.",
        "Remove the quotes (in CI secrets and .env files, store the bare token)",
    ),
    "an opening quote only": (
        "'" + _TOKEN,
        "quotes",
        "The token is wrapped in quotes; the quotes became part of it.",
        "Remove the quotes (in CI secrets and .env files, store the bare token)",
    ),
    "nothing after the prefix": (
        "pypi-",
        "truncated",
        "The token is cut short or damaged: it is empty after the prefix.",
        _CUT,
    ),
    "doubled prefix": (
        "pypi-" + _TOKEN,
        "doubled-prefix",
        "The token has its pypi- prefix twice: it was added once too often.",
        "Remove one pypi- (PyPI's token already includes it)",
    ),
    "missing prefix": (
        _TOKEN[5:],
        "missing-prefix",
        "The token lacks its pypi- prefix.",
        "Put pypi- in front of it: the prefix is part of the token",
    ),
    "not a token": (
        "hunter2",
        "not-a-token",
        "This is not a PyPI API token (it does not start with pypi-).",
        "Use an API token (it starts with pypi-) with username __token__",
    ),
    "whitespace inside": (
        _TOKEN[:20] + "\n" + _TOKEN[20:],
        "whitespace",
        "The token has a space or line break inside it (wrapped when copied?).",
        "Join it back into one line without spaces",
    ),
    "bad characters": (
        _TOKEN[:20] + "+" + _TOKEN[21:],
        "bad-characters",
        "The token has characters a PyPI token never contains (only A-Z a-z 0-9 - _ are possible).",
        "Copy the token again exactly as PyPI showed it; do not re-encode or pad it",
    ),
    "one character pasted after it": (
        _TOKEN + "x",
        "trailing",
        "The token has extra characters after its end (text pasted after it).",
        "Remove what follows the token; copy it again from where you stored it",
    ),
    "a length no base64 has": (
        "pypi-AgEI" + "A" * 40 + "B",
        "truncated",
        "The token is cut short or damaged: its length is impossible for base64.",
        _CUT,
    ),
    "wrong format version": (
        _raw(b"\x01abc"),
        "not-macaroon",
        "The text after pypi- is not a PyPI macaroon (wrong format version).",
        "Copy the token exactly as PyPI showed it, or create a new one",
    ),
    "ends inside a header": (
        _raw(b"\x02"),
        "truncated",
        "The token is cut short or damaged: it ends inside a field header.",
        _CUT,
    ),
    "corrupt header": (
        _raw(b"\x02" + b"\xff" * 10 + b"\x01"),
        "truncated",
        "The token is cut short or damaged: a field header is corrupt.",
        _CUT,
    ),
    "a field longer than the token": (
        _raw(b"\x02\x01\x05ab"),
        "truncated",
        "The token is cut short or damaged: a field says 5 bytes but fewer are left.",
        _CUT,
    ),
    "no identifier": (
        _raw(b"\x02\x01\x01a\x06\x01x"),
        "truncated",
        "The token is cut short or damaged: its identifier is missing.",
        _CUT,
    ),
    "header not ended": (
        _raw(b"\x02\x02\x01a\x02\x01b"),
        "truncated",
        "The token is cut short or damaged: its header section does not end where it should.",
        _CUT,
    ),
    "caveat without identifier": (
        _raw(b"\x02\x02\x01a\x00\x06\x01x"),
        "truncated",
        "The token is cut short or damaged: a caveat has no identifier.",
        _CUT,
    ),
    "caveat not ended": (
        _raw(b"\x02\x02\x01a\x00\x02\x01c\x02\x01d"),
        "truncated",
        "The token is cut short or damaged: a caveat does not end where it should.",
        _CUT,
    ),
    "short signature": (
        make_token(caveats=[[3, "u"]], signature_length=31),
        "truncated",
        "The token is cut short or damaged: its signature is missing or short.",
        _CUT,
    ),
}


@pytest.mark.parametrize("case", DECODE_REFUSALS)
def test_decode_refusals_exactly(case: str) -> None:
    secret, code, message, fix = DECODE_REFUSALS[case]
    with pytest.raises(TokenProblem) as info:
        decode_token(secret)
    assert (info.value.code, info.value.message, info.value.fix) == (code, message, fix)


def test_what_a_token_says_exactly() -> None:
    t = int(NOW.timestamp())
    secret = make_token(
        location="Test.PyPI.org",
        caveats=[
            [1, ["my-project"]],
            [0, t + 600, t - 60],
            [0, t + 300, t - 120],  # the earliest expiry and the latest start count
            b"\xff not utf-8",
            [3, "u"],
        ],
        vid_on=(1, 4),
        trailing=b"abc",
    )
    info = decode_token(secret)
    assert info.location == "Test.PyPI.org"
    assert info.warehouse is endpoints.Warehouse.TESTPYPI
    assert info.expires == NOW + timedelta(seconds=300)
    assert info.not_before == NOW - timedelta(seconds=60)
    assert info.caveats == (
        [1, ["my-project"]],
        [0, t + 600, t - 60],
        [0, t + 300, t - 120],
        None,
        [3, "u"],
    )
    assert info.unreadable_caveats == 1
    assert info.third_party_caveats == 2
    assert info.trailing_bytes == 3
    assert info.trailing_chars == 4
    assert decode_token(make_token(caveats=[])).trailing_chars == 0


def test_caveat_locations_and_odd_header_bytes_are_read() -> None:
    signature = bytes(32)
    raw = b"\x02\x01\x09\xffpypi.org\x02\x01i\x00" + b'\x01\x01L\x02\x08[3, "u"]\x00'
    info = decode_token(_raw(raw + b"\x00\x06\x20" + signature))
    assert info.location == "\ufffdpypi.org"  # not UTF-8: shown, never trusted
    assert info.warehouse is None
    assert info.caveats == ([3, "u"],)
    assert info.scope.kind == "user"


def test_a_legacy_caveat_with_half_a_validity_is_unreadable() -> None:
    t = int(NOW.timestamp())
    for caveat in ({"exp": t + 60}, {"nbf": t - 60}):
        info = decode_token(make_token(caveats=[caveat]))
        assert (info.unreadable_caveats, info.expires, info.not_before) == (1, None, None)

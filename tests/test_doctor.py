"""`doctor` against real pypiservers on 127.0.0.1: the checklist, its exit status, --json,
what pypiserver answers to an upload without a file, and no secret anywhere."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from release import cli
from release.checklist import AuthAnswer, judge_auth
from release.config import IndexSettings
from release.credentials import Credential
from release.errors import ExitCode
from release.localindex import LocalIndex
from release.upload import probe_auth
from tests.oidc_double import OIDCDouble, make_macaroon_token

UPLOAD = "http://127.0.0.1:9/"
INDEX = IndexSettings("test", UPLOAD, "http://127.0.0.1:9/simple/", "__token__")

_CLEARED = (
    "RELEASE_TEST_PASSWORD",
    "RELEASE_PROD_PASSWORD",
    "RELEASE_TEST_USERNAME",
    "RELEASE_PROD_USERNAME",
    "TEST_PYPI_API_TOKEN",
    "PYPI_API_TOKEN",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_REPOSITORY_URL",
    "CI",
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "RELEASE_TRUSTED_PUBLISHING",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No credential from the machine running the tests; an empty HOME; one retry."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RELEASE_RETRIES", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return monkeypatch


@pytest.fixture
def pair(clean_env: pytest.MonkeyPatch) -> Iterator[tuple[LocalIndex, LocalIndex]]:
    """Two pypiservers wired in as the test and prod indexes, with their right passwords."""
    with LocalIndex() as test, LocalIndex(username="__token__") as prod:
        for name, index in (("TEST", test), ("PROD", prod)):
            clean_env.setenv(f"RELEASE_{name}_UPLOAD_URL", index.upload_url)
            clean_env.setenv(f"RELEASE_{name}_INDEX_URL", index.index_url)
            clean_env.setenv(f"RELEASE_{name}_USERNAME", index.username)
            clean_env.setenv(f"RELEASE_{name}_PASSWORD", index.password)
        yield test, prod


def doctor(root: Path, *args: str) -> int:
    return cli.main(["--root", str(root), "doctor", *args])


def doctor_json(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = doctor(root, "--json", *args)
    envelope: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert envelope["exit_code"] == code
    assert envelope["command"] == "doctor"
    assert (envelope["error"] is None) == (code == 0)
    document: dict[str, Any] = {**envelope["result"], "exit_code": code}
    return document


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in document["checks"]}


def test_healthy_checklist(
    pair: tuple[LocalIndex, LocalIndex], make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project()
    assert doctor(root) == 0
    out = capsys.readouterr().out
    for line in (
        "✓ project demo-pkg 1.0.0 (static version in pyproject.toml)",
        "✓ the test index answers",
        "✓ demo-pkg is not on the prod index yet",
        "✓ credential for the test index: RELEASE_TEST_PASSWORD (username uploader)",
        "accepts the credential (an upload without a file was answered 400 Bad Request",
        "✓ Nothing found that would stop a release",
    ):
        assert line in out
    assert "✗" not in out
    assert pair[0].files() == []  # nothing was uploaded
    assert pair[1].files() == []


@pytest.mark.usefixtures("pair")
def test_json_document(make_project: Any, capsys: pytest.CaptureFixture[str]) -> None:
    document = doctor_json(make_project(), capsys)
    assert document["ok"] is True
    got = statuses(document)
    for name in ("test", "prod"):
        assert got[f"{name}.index"] == "ok"
        assert got[f"{name}.credential"] == "ok"
        assert got[f"{name}.auth"] == "ok"
    assert got["prod.token.password"] == "ok"  # a pypiserver password is not a token: info


def test_wrong_password_fails_with_credentials_exit(
    pair: tuple[LocalIndex, LocalIndex],
    make_project: Any,
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_env.setenv("RELEASE_PROD_PASSWORD", "not-the-password")
    root = make_project()
    assert doctor(root, "--index", "prod") == ExitCode.CREDENTIALS
    out = capsys.readouterr().out
    assert "✗ " + pair[1].upload_url + " refuses the credential (403 Forbidden)" in out
    assert "  Fix: " in out
    assert "test index" not in out  # --index prod


@pytest.mark.usefixtures("pair")
def test_token_checks_explain_the_refusal(
    make_project: Any,
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_env.setenv("RELEASE_PROD_PASSWORD", "pypi-AgEIcHlwaS5vcmcC")  # cut short
    document = doctor_json(make_project(), capsys, "--index", "prod")
    failed = {c["name"]: c for c in document["checks"] if c["status"] == "fail"}
    assert document["exit_code"] == ExitCode.CREDENTIALS
    assert "prod.auth" in failed
    assert "offline token check explains it" in failed["prod.auth"]["title"]
    assert any(name.startswith("prod.token.") for name in failed)


@pytest.mark.usefixtures("pair")
def test_a_token_for_another_index_is_still_decoded(
    clean_env: pytest.MonkeyPatch,
    make_project: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A PyPI token set for the local test index: it may not go there (exit 7), and what it
    says (offline) is reported as well, so both problems show at once."""
    token = make_macaroon_token("pypi.org", [[1, ["other-project"]]])
    clean_env.setenv("RELEASE_TEST_PASSWORD", token)
    clean_env.setenv("RELEASE_TEST_USERNAME", "__token__")
    document = doctor_json(make_project(), capsys, "--index", "test", "--no-auth-check")
    checks = {c["name"]: c for c in document["checks"]}
    assert document["exit_code"] == ExitCode.CREDENTIALS
    assert checks["test.credential"]["status"] == "fail"
    tokens = [c for name, c in checks.items() if name.startswith("test.token.")]
    assert tokens, sorted(checks)
    assert any("other-project" in c["title"] for c in tokens)
    assert token not in json.dumps(document)


def test_help_blocks_are_not_printed_twice(
    clean_env: pytest.MonkeyPatch, make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """No credential for either index, neither readable: the second index's help shows only
    what differs; doctor uploads nothing and does not say "nothing was uploaded"."""
    for name in ("TEST", "PROD"):
        clean_env.setenv(f"RELEASE_{name}_INDEX_URL", "http://127.0.0.1:9/simple/")
        clean_env.setenv(f"RELEASE_{name}_UPLOAD_URL", f"https://{name.lower()}.invalid/legacy/")
    assert doctor(make_project(), "--no-auth-check") == ExitCode.INDEX_UNAVAILABLE
    out = capsys.readouterr().out
    assert out.count("TWINE_USERNAME/TWINE_PASSWORD: TWINE_PASSWORD not set") == 1
    assert out.count("export TWINE_USERNAME=__token__ TWINE_PASSWORD=<token>") == 1
    prod = out[out.index("== prod index") :]
    assert "export PYPI_API_TOKEN=<token>" in prod
    assert "  Fix: Provide one through any of these:" in prod  # what introduces the lines
    assert "repository = https://prod.invalid/legacy/\n        username = __token__" in prod
    assert "(and the rest as for the test index above)" in prod
    assert "nothing was uploaded" not in out


def test_minted_style_token_is_described(
    clean_env: pytest.MonkeyPatch, make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_macaroon_token("127.0.0.1", [[1, ["demo-pkg"]], [2, ["id-1"]]])
    with LocalIndex(username="__token__", password=token) as index:
        clean_env.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        clean_env.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        clean_env.setenv("TEST_PYPI_API_TOKEN", token)
        document = doctor_json(make_project(), capsys, "--index", "test")
    checks = {c["name"]: c for c in document["checks"]}
    assert document["ok"] is True
    assert "projects: demo-pkg" in checks["test.token.summary"]["title"]
    assert checks["test.auth"]["status"] == "ok"


@pytest.mark.usefixtures("pair")
def test_no_credential(
    make_project: Any,
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_env.delenv("RELEASE_TEST_PASSWORD")
    document = doctor_json(make_project(), capsys, "--index", "test")
    checks = {c["name"]: c for c in document["checks"]}
    assert document["exit_code"] == ExitCode.CREDENTIALS
    assert checks["test.credential"]["status"] == "fail"
    assert "RELEASE_TEST_PASSWORD: not set" in checks["test.credential"]["title"]
    assert "export RELEASE_TEST_PASSWORD=<token>" in checks["test.credential"]["fix"]
    assert "test.auth" not in checks


def test_unreachable_index_exits_4(
    clean_env: pytest.MonkeyPatch, make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("RELEASE_TEST_UPLOAD_URL", "http://127.0.0.1:9/")
    clean_env.setenv("RELEASE_TEST_INDEX_URL", "http://127.0.0.1:9/simple/")
    clean_env.setenv("RELEASE_TEST_PASSWORD", "x")
    document = doctor_json(make_project(), capsys, "--index", "test")
    got = statuses(document)
    assert document["exit_code"] == ExitCode.INDEX_UNAVAILABLE  # the first failing check
    assert got["test.index"] == "fail"
    assert got["test.auth"] == "fail"


def test_version_already_there_is_a_warning(
    pair: tuple[LocalIndex, LocalIndex], make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (pair[0].root / "demo_pkg-1.0.0.tar.gz").write_bytes(b"not really an sdist")
    (pair[0].root / "demo_pkg-0.9.0.tar.gz").write_bytes(b"older")
    assert doctor(make_project(), "--index", "test") == 0
    out = capsys.readouterr().out
    assert "✓ demo-pkg is on the test index (2 version(s))" in out
    assert "! 1.0.0 is already on the test index (1 file(s))" in out
    assert "Fix: Bump to the next free version, 1.0.1: nox -s bump_version -- 1.0.1" in out


def test_the_suggested_version_is_free_on_every_index(
    pair: tuple[LocalIndex, LocalIndex], make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """1.0.1 is taken on prod already: doctor suggests 1.0.2, never a published version."""
    test, prod = pair
    (test.root / "demo_pkg-1.0.0.tar.gz").write_bytes(b"not really an sdist")
    (prod.root / "demo_pkg-1.0.1.tar.gz").write_bytes(b"a later release")
    doctor(make_project(), "--no-auth-check")
    out = capsys.readouterr().out
    assert "Fix: Bump to the next free version, 1.0.2: nox -s bump_version -- 1.0.2" in out
    assert "1.0.1:" not in out


@pytest.mark.usefixtures("pair")
def test_dynamic_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "dyn"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "dyn-pkg"\ndynamic = ["version"]\n', encoding="utf-8"
    )
    document = doctor_json(root, capsys, "--index", "test")
    checks = {c["name"]: c for c in document["checks"]}
    assert checks["project"]["title"] == "project dyn-pkg (dynamic version)"
    assert checks["test.version"]["status"] == "skip"


@pytest.mark.usefixtures("clean_env")
def test_no_project_name_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.other]\n", encoding="utf-8")
    document = doctor_json(tmp_path, capsys)
    assert document["exit_code"] == ExitCode.USAGE
    assert statuses(document) == {"project": "fail"}


def test_trusted_publishing_in_doctor(
    clean_env: pytest.MonkeyPatch, make_project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """In CI with an OIDC identity, doctor mints a token (without uploading) and checks it."""
    with OIDCDouble() as double, LocalIndex(username="__token__") as index:
        double.tokens = [index.password]
        for name, value in double.github_environ().items():
            clean_env.setenv(name, value)
        clean_env.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        clean_env.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        clean_env.setenv("RELEASE_TEST_TRUSTED_PUBLISHING_URL", double.base_url)
        document = doctor_json(make_project(), capsys, "--index", "test")
        checks = {c["name"]: c for c in document["checks"]}
        assert checks["test.credential"]["title"].startswith(
            "credential for the test index: trusted publishing (GitHub Actions OIDC)"
        )
        assert checks["test.auth"]["status"] == "ok"
        double.mint_error = "invalid-publisher"
        document = doctor_json(make_project(folder="again"), capsys, "--index", "test")
        checks = {c["name"]: c for c in document["checks"]}
        assert document["exit_code"] == ExitCode.CREDENTIALS
        assert "invalid-publisher" in checks["test.credential"]["title"]


# ------------------------------------------------- what the index answers to an empty upload


def test_pypiserver_answers_to_an_upload_without_a_file(local_index: LocalIndex) -> None:
    """Measured: none 401, wrong 403, right 400 (auth is checked before the form)."""
    index = IndexSettings("test", local_index.upload_url, local_index.index_url, "x")
    anonymous = requests.post(
        local_index.upload_url,
        files={":action": (None, "file_upload"), "protocol_version": (None, "1")},
        timeout=10,
    )
    wrong = probe_auth(index, Credential(local_index.username, "wrong", "t"), timeout=10)
    right = probe_auth(
        index, Credential(local_index.username, local_index.password, "t"), timeout=10
    )
    assert anonymous.status_code == 401
    assert wrong.status == 403
    assert right.status == 400
    assert "Missing &#039;content&#039; file-field!" in right.body
    assert local_index.files() == []


@pytest.mark.parametrize(
    ("status", "reason", "expected", "code"),
    [
        (400, "Bad Request", "ok", None),
        (422, "Unprocessable", "ok", None),
        (401, "Unauthorized", "fail", ExitCode.CREDENTIALS),
        (
            403,
            "Invalid or non-existent authentication information. See /help/#invalid-auth",
            "fail",
            ExitCode.CREDENTIALS,
        ),
        (
            403,
            "Username/Password authentication is no longer supported. Migrate to API Tokens "
            "or Trusted Publishers instead.",
            "fail",
            ExitCode.CREDENTIALS,
        ),
        (308, "Permanent Redirect", "fail", ExitCode.USAGE),
        (404, "Not Found", "fail", ExitCode.USAGE),
        (405, "Method Not Allowed", "fail", ExitCode.USAGE),
        (200, "OK", "warn", None),
        (503, "Service Unavailable", "warn", None),
        (None, "ConnectionError", "fail", ExitCode.INDEX_UNAVAILABLE),
    ],
)
def test_judge_auth_table(
    status: int | None, reason: str, expected: str, code: ExitCode | None
) -> None:
    check = judge_auth(AuthAnswer(status, reason, ""), INDEX, "demo", None)
    assert check.status == expected
    assert check.exit_code == code
    if expected in ("fail", "warn"):
        assert check.fix


def test_judge_auth_names_the_warehouse_reason() -> None:
    check = judge_auth(
        AuthAnswer(403, "Username/Password authentication is no longer supported.", ""),
        INDEX,
        "demo",
        "The offline token check explains it: X",
    )
    assert "no longer supported" in check.title or "password" in check.title.lower()
    assert "The offline token check explains it: X" in check.title


# ------------------------------------------------------------------ secrets


@pytest.mark.slow
def test_known_secret_appears_nowhere(
    clean_env: pytest.MonkeyPatch,
    make_project: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """doctor (refused and accepted), build and upload with a known secret: not in any output,
    any file under the project, or the argv of any child process."""
    secret = "pypi-KNOWN-SECRET-" + "x" * 40
    token = make_macaroon_token("127.0.0.1", [[1, ["demo-pkg"]]])
    argvs: list[str] = []
    real_init = subprocess.Popen.__init__

    def recording_init(self: subprocess.Popen[Any], args: Any, *a: Any, **kw: Any) -> None:
        argvs.append(repr(args))
        real_init(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_init)
    root = make_project()
    with LocalIndex(username="__token__", password=token) as index:
        clean_env.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        clean_env.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        # refused: the known secret is the wrong password
        clean_env.setenv("RELEASE_TEST_PASSWORD", secret)
        assert doctor(root, "--index", "test") == ExitCode.CREDENTIALS
        assert doctor(root, "--index", "test", "--json") == ExitCode.CREDENTIALS
        assert cli.main(["--root", str(root), "build"]) == 0
        assert cli.main(["--root", str(root), "upload", "--index", "test"]) != 0
        # accepted: the right token, then a real upload
        clean_env.setenv("RELEASE_TEST_PASSWORD", token)
        assert doctor(root, "--index", "test") == 0
        assert cli.main(["--root", str(root), "upload", "--index", "test"]) == 0
        assert len(index.files()) == 2
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert "refuses the credential" in text  # the refusal was reported ...
    for known in (secret, token, secret[len("pypi-") :], token[len("pypi-") :]):
        assert known not in text  # ... without the secret
        assert not any(known in argv for argv in argvs)
        for path in root.rglob("*"):
            if path.is_file():
                assert known.encode() not in path.read_bytes(), path
    assert argvs  # the build did run child processes


def test_provenance_of_the_release_on_the_index(
    pair: tuple[LocalIndex, LocalIndex],
    make_project: Any,
    capsys: pytest.CaptureFixture[str],
    clean_env: pytest.MonkeyPatch,
) -> None:
    """provenance-check = require: pypiserver has no integrity API, so the files of the version
    on the index have no provenance, and doctor says so with the fix (exit 6)."""
    (pair[0].root / "demo_pkg-1.0.0.tar.gz").write_bytes(b"not really an sdist")
    clean_env.setenv("RELEASE_PROVENANCE_CHECK", "require")
    document = doctor_json(make_project(), capsys, "--index", "test", "--no-auth-check")
    checks = [c for c in document["checks"] if c["name"] == "test.provenance"]
    assert [c["status"] for c in checks] == ["fail"]
    assert checks[0]["title"].startswith("demo_pkg-1.0.0.tar.gz: provenance missing")
    assert "Upload with attestations" in checks[0]["fix"]
    assert document["exit_code"] == ExitCode.VERIFY_FAILED
    clean_env.setenv("RELEASE_PROVENANCE_CHECK", "auto")  # outside CI, not PyPI: not checked
    document = doctor_json(make_project(folder="again"), capsys, "--index", "test")
    assert "test.provenance" not in statuses(document)

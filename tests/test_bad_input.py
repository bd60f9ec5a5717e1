"""Bad input ends with a message, the fix and exit 2 (or 7 for a credential), never a traceback.

Two halves: named cases (every input found crashing once, each a row) and a Hypothesis fuzz
over ``[tool.release]``/``[project]``/``[tool]`` values and ``RELEASE_*`` environment variables:
any input gives exit 0/2/3/4/5/7 and no traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release import cli, redact
from release.config import OPTIONS, env_name
from release.errors import ExitCode
from release.localindex import LocalIndex

ALLOWED = {0, 2, 3, 4, 5, 7}
HEAD = '[project]\nname = "demo-pkg"\nversion = "1.0.0"\n'
# Nothing in these tests may reach a network: every index is a closed loopback port.
OFFLINE = {
    "RELEASE_TEST_UPLOAD_URL": "http://127.0.0.1:9/",
    "RELEASE_TEST_INDEX_URL": "http://127.0.0.1:9/simple/",
    "RELEASE_PROD_UPLOAD_URL": "http://127.0.0.1:9/",
    "RELEASE_PROD_INDEX_URL": "http://127.0.0.1:9/simple/",
    "RELEASE_RETRIES": "1",
    "RELEASE_TRUSTED_PUBLISHING": "off",
    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
}
# Commands that load and check every setting without building or uploading anything.
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("plan",),
    ("build", "--dry-run"),
    ("bump", "patch", "--offline", "--dry-run"),
    ("doctor", "--no-auth-check", "--index", "test"),
    ("upload", "--index", "test", "--dry-run"),
)


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with ``values`` set (and every RELEASE_* / credential variable cleared)."""
    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.startswith(("RELEASE_", "TWINE_", "GITHUB_", "CI")) or "TOKEN" in key:
                del os.environ[key]
        os.environ.update({**OFFLINE, "HOME": tempfile.gettempdir()})
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclasses.dataclass
class Outcome:
    code: int
    out: str
    err: str


def run(root: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> Outcome:
    code = cli.main(["--root", str(root), *argv, "--json"])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_clean(outcome: Outcome, allowed: set[int] = ALLOWED) -> dict[str, Any]:
    assert "Traceback" not in outcome.err, outcome.err[-3000:]
    assert outcome.code in allowed, (outcome.code, outcome.err[-2000:])
    doc: dict[str, Any] = json.loads(outcome.out)
    assert doc["exit_code"] == outcome.code
    if outcome.code:
        assert doc["error"]["fix"], doc
    return doc


# ---------------------------------------------------------------- named cases


@dataclasses.dataclass(frozen=True)
class Case:
    pyproject: str | bytes
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    says: str = ""  # a piece of the message
    code: ExitCode = ExitCode.USAGE
    argv: tuple[str, ...] = ("build", "--dry-run")


CASES: dict[str, Case] = {
    "tool is not a table": Case("tool = 1\n" + HEAD, says="[tool]"),
    "project is not a table": Case('project = "x"\n', says="[project]"),
    "tool.release is not a table": Case(HEAD + "[tool]\nrelease = 3\n", says="[tool.release]"),
    "tool.poetry is not a table": Case(HEAD + "[tool]\npoetry = []\n", says="[tool.poetry]"),
    "dynamic is not a list": Case('[project]\nname = "demo-pkg"\ndynamic = 5\n', says="dynamic"),
    "dynamic holds a table": Case(
        '[project]\nname = "demo-pkg"\ndynamic = [{a = 1}]\n', says="dynamic"
    ),
    "name is not a string": Case('[project]\nname = 1\nversion = "1"\n', says="name"),
    "version is a table": Case('[project]\nname = "d"\nversion = {a = 1}\n', says="version"),
    "version is a float": Case('[project]\nname = "d"\nversion = nan\n', says="version"),
    "non-UTF-8 pyproject": Case(b'[project]\nname = "d\xe9mo"\n', says="UTF-8"),
    "pyproject is a folder": Case("", says="cannot be read"),
    "timeout = 0": Case(
        HEAD + "[tool.release]\ntimeout = 0\n", says="outside its range, 0.1 to 3600"
    ),
    "RELEASE_TIMEOUT=1e308": Case(HEAD, {"RELEASE_TIMEOUT": "1e308"}, says="0.1 to 3600"),
    "RELEASE_RETRIES=1e9": Case(HEAD, {"RELEASE_RETRIES": "1000000000"}, says="0 to 100"),
    "RELEASE_UPLOAD_CONCURRENCY=0": Case(
        HEAD, {"RELEASE_UPLOAD_CONCURRENCY": "0"}, says="outside its range, 1 to 64"
    ),
    "timeout = nan": Case(HEAD + "[tool.release]\ntimeout = nan\n", says="finite"),
    "wait-timeout = inf": Case(HEAD + "[tool.release]\nwait-timeout = inf\n", says="finite"),
    "retry-max-wait = -inf": Case(HEAD + "[tool.release]\nretry-max-wait = -inf\n"),
    "RELEASE_TIMEOUT=nan": Case(HEAD, {"RELEASE_TIMEOUT": "nan"}, says="finite"),
    "RELEASE_RETRIES=1.5": Case(HEAD, {"RELEASE_RETRIES": "1.5"}, says="not a valid"),
    "RELEASE_TIMEOUT=-1": Case(HEAD, {"RELEASE_TIMEOUT": "-1"}, says="negative"),
    "upload-concurrency = -1": Case(HEAD + "[tool.release]\nupload-concurrency = -1\n"),
    "concurrency = true": Case(
        HEAD + "[tool.release]\nupload-concurrency = true\n", says="a boolean"
    ),
    "dist is a file": Case(HEAD + '[tool.release]\ndist-dir = "pyproject.toml"\n', says="file"),
    "unbalanced quote in smoke-command": Case(
        HEAD + '[tool.release]\nsmoke-command = "python -c \'import x"\n',
        says="balanced quotes",
        argv=("upload", "--index", "test"),
    ),
    "import-names not strings": Case(HEAD + "[tool.release]\nimport-names = [1]\n"),
    "import-names not identifiers": Case(HEAD + '[tool.release]\nimport-names = ["a-b"]\n'),
    "build-installer unknown": Case(HEAD + '[tool.release]\nbuild-installer = "poetry"\n'),
    "trusted-publishing unknown": Case(HEAD, {"RELEASE_TRUSTED_PUBLISHING": "maybe"}),
    "tag-format without version": Case(HEAD + '[tool.release]\ntag-format = "v"\n'),
    "dependency-index-url not a URL": Case(
        HEAD + '[tool.release]\ndependency-index-url = "pypi"\n'
    ),
    "unwritable GITHUB_STEP_SUMMARY": Case(
        HEAD, {"GITHUB_STEP_SUMMARY": "/nonexistent-folder/summary.md"}, says="GITHUB_STEP"
    ),
    "GITHUB_STEP_SUMMARY is a folder": Case(HEAD, {"GITHUB_STEP_SUMMARY": "/"}, says="is a folder"),
    "unknown option": Case(HEAD, argv=("plan", "--frobnicate")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_named_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    root.mkdir()
    if case.pyproject:
        data = case.pyproject if isinstance(case.pyproject, bytes) else case.pyproject.encode()
        (root / "pyproject.toml").write_bytes(data)
    else:
        (root / "pyproject.toml").mkdir()
    with environment(case.env):
        outcome = run(root, case.argv, capsys)
    doc = assert_clean(outcome, {int(case.code)})
    message = doc["error"]["message"].replace(str(root), "ROOT")  # the path holds the case's id
    assert case.says in message, doc["error"]


def test_smoke_command_is_checked_before_the_first_upload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found only after the test upload before (which burned the version there)."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(HEAD + '[tool.release]\nsmoke-command = "a \'b"\n')
    with environment({}):
        for argv in (("release",), ("upload", "--index", "test"), ("verify",)):
            doc = assert_clean(run(root, argv, capsys), {2})
            assert "smoke-command" in doc["error"]["message"]
    assert not (root / "dist").exists()  # nothing was built either


def test_non_ascii_password_is_refused_before_a_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(HEAD)
    with LocalIndex() as index:
        env = {
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_USERNAME": "me",
            "RELEASE_TEST_PASSWORD": "pässwörd-ü€",
        }
        with environment(env):
            outcome = run(root, ("doctor", "--index", "test"), capsys)
    doc = assert_clean(outcome, {int(ExitCode.CREDENTIALS)})
    assert "non-ASCII" in doc["error"]["message"]
    assert "pässwörd" not in outcome.out + outcome.err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes")
def test_unwritable_dist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "p"
    (root / "dist").mkdir(parents=True)
    (root / "pyproject.toml").write_text(HEAD)
    (root / "dist").chmod(0o500)
    try:
        with environment({}):
            doc = assert_clean(run(root, ("build",), capsys), {2})
    finally:
        (root / "dist").chmod(0o700)
    assert "cannot be written" in doc["error"]["message"]


# ---------------------------------------------------------------- fuzz

FUZZ_EXAMPLES = 300
_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
_SCALAR = st.one_of(
    _TEXT,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["", "0", "nan", "-1", "1e999", "pip", "auto", "x:y@z", "pypi-" + "A" * 40]),
)
_VALUE = st.one_of(
    _SCALAR, st.lists(_SCALAR, max_size=3), st.dictionaries(_TEXT, _SCALAR, max_size=2)
)
_KEYS = st.sampled_from([o.key for o in OPTIONS] + ["password", "unknown-key", "Timeout"])


@st.composite
def pyprojects(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    project = draw(
        st.one_of(
            st.just({"name": "demo-pkg", "version": "1.0.0"}),
            st.dictionaries(st.sampled_from(["name", "version", "dynamic"]), _VALUE, max_size=3),
            _SCALAR,
        )
    )
    if draw(st.booleans()) or not isinstance(project, dict):
        doc["project"] = project
    else:
        doc["project"] = {"name": "demo-pkg", "version": "1.0.0"}
    release = draw(st.dictionaries(_KEYS, _VALUE, max_size=4))
    tool = draw(st.one_of(st.just({"release": release}), _SCALAR, st.just({"release": 3})))
    doc["tool"] = tool
    return doc


_ENV = st.dictionaries(
    st.sampled_from(
        [env_name(o.key) for o in OPTIONS if "url" not in o.key]
        + ["RELEASE_TEST_PASSWORD", "RELEASE_TEST_USERNAME", "TEST_PYPI_API_TOKEN"]
    ),
    st.one_of(_TEXT, st.sampled_from(["nan", "inf", "-1", "0", "1e999", "true", "ü"])),
    max_size=4,
)


def _write(root: Path, data: dict[str, Any]) -> None:
    try:
        text = tomlkit.dumps(data)
    except Exception:  # tomlkit cannot spell every value (e.g. a key it refuses): skip it
        text = HEAD
    (root / "pyproject.toml").write_text(text, encoding="utf-8")


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=pyprojects(), env=_ENV)
def test_fuzz_configuration_and_environment(
    data: dict[str, Any], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each example runs every command of COMMANDS (FUZZ_EXAMPLES x 5 inputs in all)."""
    redact.clear()  # each example is a fresh process: it starts with no secret registered
    with tempfile.TemporaryDirectory(prefix="nox-release-fuzz-") as tmp:
        root = Path(tmp)
        _write(root, data)
        with environment({**env, "RELEASE_RETRIES": "1", "RELEASE_RETRY_MAX_WAIT": "0"}):
            for command in COMMANDS:
                assert_clean(run(root, command, capsys))


_URL = st.one_of(
    _TEXT,
    st.sampled_from(
        [
            "user:s3cret-value@host/simple/",
            "https://u:p@127.0.0.1:9/",
            "ftp://127.0.0.1/",
            "http://",
            "http://[::1",
            "https://127.0.0.1:99999/",
            "https://127.0.0.1:9/simple",
            "https://upload.pypi.org/legacy",
            "//127.0.0.1/simple/",
        ]
    ),
)
_URL_KEYS = [env_name(o.key) for o in OPTIONS if "url" in o.key]


@settings(
    max_examples=FUZZ_EXAMPLES // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(urls=st.dictionaries(st.sampled_from(_URL_KEYS), _URL, min_size=1, max_size=3))
def test_fuzz_urls_never_crash_nor_echo_credentials(
    urls: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """URLs only with commands that send nothing (a fuzzed URL may name a real host)."""
    redact.clear()
    with tempfile.TemporaryDirectory(prefix="nox-release-fuzz-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text(HEAD, encoding="utf-8")
        with environment(urls):
            for command in (("build", "--dry-run"), ("bump", "patch", "--offline", "--dry-run")):
                outcome = run(root, command, capsys)
                assert_clean(outcome)
                assert "s3cret-value" not in outcome.out + outcome.err

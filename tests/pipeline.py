"""The release steps run in-process against local indexes: their environment and a context
whose output is kept (for tests/test_pipeline.py and every test that runs a step)."""

from __future__ import annotations

__all__ = ["environ_for", "github", "make_ctx", "text"]

import io
import os
from pathlib import Path

from release.commands import context
from release.config import load_settings
from release.localindex import LocalIndex
from release.output import Reporter


def environ_for(test: LocalIndex, prod: LocalIndex, **extra: str) -> dict[str, str]:
    # The machine's environment (certificates, pip configuration) minus any RELEASE_* setting.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    env |= {
        "RELEASE_TEST_UPLOAD_URL": test.upload_url,
        "RELEASE_TEST_INDEX_URL": test.index_url,
        "RELEASE_PROD_UPLOAD_URL": prod.upload_url,
        "RELEASE_PROD_INDEX_URL": prod.index_url,
        "RELEASE_TEST_USERNAME": test.username,
        "RELEASE_PROD_USERNAME": prod.username,
        "RELEASE_TEST_PASSWORD": test.password,
        "RELEASE_PROD_PASSWORD": prod.password,
        "RELEASE_WAIT_TIMEOUT": "10",
        "RELEASE_RETRIES": "2",
        "RELEASE_RETRY_MAX_WAIT": "0.2",
    }
    env.update(extra)
    return env


def make_ctx(root: Path, environ: dict[str, str], **kw: object) -> context.Context:
    out = io.StringIO()
    ctx = context.Context(
        settings=load_settings(root, environ),
        environ=environ,
        reporter=Reporter(stream=out),
        deps_from_pip_config=True,
        **kw,  # type: ignore[arg-type]
    )
    ctx.out = out  # type: ignore[attr-defined]
    return ctx


def text(ctx: context.Context) -> str:
    return ctx.out.getvalue()  # type: ignore[attr-defined,no-any-return]


def github(image: str, job: str = "build_wheels") -> dict[str, str]:
    """The variables of a GitHub Actions job on ``image`` (runner detection)."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW": "release",
        "GITHUB_JOB": job,
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "1",
        "ImageOS": image,
        "RUNNER_ARCH": "X64",
    }

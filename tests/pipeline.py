"""The release steps run in-process against local indexes: their environment and a context
whose output is kept (for tests/test_pipeline.py and every test that runs a step)."""

from __future__ import annotations

__all__ = ["environ_for", "github", "index_environ", "make_ctx", "text"]

import io
import os
from pathlib import Path
from typing import Protocol, cast

from release.commands import context
from release.config import load_settings
from release.localindex import LocalIndex
from release.output import Reporter


class _Urls(Protocol):
    @property
    def upload_url(self) -> str: ...
    @property
    def index_url(self) -> str: ...


class _Login(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str: ...


def index_environ(name: str, urls: _Urls, login: _Login | None = None) -> dict[str, str]:
    """The ``RELEASE_<NAME>_*`` variables that point the ``name`` index at ``urls`` (a local
    index, or a proxy in front of one) with ``login``'s credentials (default: ``urls``')."""
    who = login if login is not None else cast(_Login, urls)
    prefix = f"RELEASE_{name.upper()}_"
    return {
        prefix + "UPLOAD_URL": urls.upload_url,
        prefix + "INDEX_URL": urls.index_url,
        prefix + "USERNAME": who.username,
        prefix + "PASSWORD": who.password,
    }


def environ_for(test: LocalIndex, prod: LocalIndex, **extra: str) -> dict[str, str]:
    # The machine's environment (certificates, pip configuration) minus any RELEASE_* setting.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    env |= index_environ("test", test) | index_environ("prod", prod)
    env |= {"RELEASE_WAIT_TIMEOUT": "10", "RELEASE_RETRIES": "2", "RELEASE_RETRY_MAX_WAIT": "0.2"}
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

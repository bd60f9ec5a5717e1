"""Environments for third-party code: build backends, ``setup.py``, pip, smoke commands.

A release holds credentials (an API token, a trusted-publishing identity); the code that
builds or smoke-tests the package is not ours and gets none of them: every variable that names
or holds a credential is left out, and so is every variable whose value is a secret nox-release
resolved (whatever the variable is called).

Index settings are a second concern: :func:`without_index_settings` also drops every pip and uv
variable that could add an index, so that the package's dependencies come from the one index
named on the command line and nowhere else (dependency confusion).
"""

from __future__ import annotations

__all__ = [
    "CI_FILES",
    "CREDENTIAL_PREFIXES",
    "CREDENTIAL_SUFFIXES",
    "SEPARATE_JOB_FIX",
    "code_beside_credentials",
    "credentials_present",
    "is_credential_name",
    "without_credentials",
    "without_index_settings",
]

import os
from collections.abc import Collection, Mapping

# release.redact is imported where it is used: `python -m release` imports this module before
# it starts itself again without the credentials (release.__main__), and that first process
# needs only the names below.

# Names that hold a credential, or the means to get one (GitHub's and GitLab's OIDC requests).
CREDENTIAL_PREFIXES = (
    "TWINE_",
    "RELEASE_",  # nox-release's own: passwords, and URLs that may carry user:password@
    "ACTIONS_ID_TOKEN_REQUEST_",  # GitHub: lets any process mint an identity token
    "ACTIONS_RUNTIME_",
    "PYPI_",
    "TEST_PYPI_",
    "KEYRING_",
)
CREDENTIAL_SUFFIXES = (
    "_PASSWORD",
    "_TOKEN",
    "_ID_TOKEN",  # GitLab CI's id_tokens (PYPI_ID_TOKEN, ...)
    "_API_KEY",
    "_SECRET",
    "_CREDENTIALS",
)
# Files of the CI job that whoever writes them speaks for the job: GitHub's step summary (a
# backend could write "uploaded to PyPI" there), and the files that set the environment, the
# PATH and the outputs of the steps that follow. Third-party code gets none of them.
CI_FILES = frozenset(
    {"GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE"}
)
# What build code running in this job could use, or use to get one: the ones to warn about.
_HELD_BY_THE_JOB = (
    "PYPI_API_TOKEN",
    "TEST_PYPI_API_TOKEN",
    "TWINE_PASSWORD",
    "RELEASE_TEST_PASSWORD",
    "RELEASE_PROD_PASSWORD",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
)
# Everyday variables that end like a credential but are not one.
_NOT_CREDENTIALS = frozenset({"PIP_NO_CACHE_DIR"})

# pip and uv settings that are safe to keep when the index is fixed: they change how, not where.
_KEEP_INDEX_FREE = frozenset(
    {
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_DEFAULT_TIMEOUT",
        "PIP_RETRIES",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_PROGRESS_BAR",
        "PIP_NO_INPUT",
        "PIP_QUIET",
        "UV_NATIVE_TLS",
        "UV_HTTP_TIMEOUT",
        "UV_NO_CACHE",
        "UV_CACHE_DIR",
        "UV_CONCURRENT_DOWNLOADS",
        "UV_PYTHON_DOWNLOADS",
    }
)


def is_credential_name(name: str) -> bool:
    """Whether a variable's name says it holds a credential (or the means to get one)."""
    upper = name.upper()
    if upper in _NOT_CREDENTIALS:
        return False
    return upper.startswith(CREDENTIAL_PREFIXES) or upper.endswith(CREDENTIAL_SUFFIXES)


def credentials_present(environ: Mapping[str, str]) -> list[str]:
    """The credentials (by name) this process inherited, which every process of the job
    inherits too: what build code run here could read, whatever nox-release does."""
    held = [name for name in _HELD_BY_THE_JOB if environ.get(name)]
    held += sorted(
        n for n in environ if n.upper().endswith("_ID_TOKEN") and environ[n] and n not in held
    )
    return held


# The fix for project code that runs where the job holds a credential: build and verify where
# there is none (the workflow templates do).
SEPARATE_JOB_FIX = (
    "Build and verify in a job of their own, without secrets and without `id-token: write`, "
    "and upload from another job (the workflow templates do; release/docs/security.md)."
)


def code_beside_credentials(environ: Mapping[str, str], runs: str) -> tuple[list[str], str]:
    """The credentials the job holds while the project's code runs (``runs`` says which code,
    e.g. "Build code (the build backend, setup.py)"), and the warning to give: ([], "") when
    it holds none. That code gets none of them, and python -m release keeps them out of its
    own /proc environment, but every process of the job can read them from the CI step's
    shell (/proc/<pid>/environ of an ancestor): no tool can hide what its caller holds.
    The one decision for ``build`` and ``verify``. Pure."""
    held = credentials_present(environ)
    if not held:
        return [], ""
    return held, (
        f"{runs} runs in a job that holds {', '.join(held)}: it can read them from the "
        "environment of the processes that started this one (the CI step's shell), whatever "
        f"nox-release hides. {SEPARATE_JOB_FIX}"
    )


def without_credentials(
    environ: Mapping[str, str], secrets: Collection[str] = ()
) -> dict[str, str]:
    """``environ`` less every credential: by name, and by value for ``secrets`` and every
    secret registered with :mod:`release.redact` (a value holding one of them, e.g. a URL with
    the token inside, goes too; a short secret only where it is the whole value)."""
    from . import redact

    live = {s for s in (*secrets, *redact.registered()) if s}

    def holds_secret(value: str) -> bool:
        return any(
            s == value.strip() or (len(s) >= redact.MIN_ANYWHERE and s in value) for s in live
        )

    return {
        key: value
        for key, value in environ.items()
        if not is_credential_name(key) and key not in CI_FILES and not holds_secret(value)
    }


def without_index_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` less every pip/uv setting that could name an index, find-links, a
    constraint or a configuration file, with pip's and uv's configuration files switched off
    (pip reads none when ``PIP_CONFIG_FILE`` is ``os.devnull``; uv none with ``UV_NO_CONFIG``).
    """
    env = {
        key: value
        for key, value in environ.items()
        if not key.upper().startswith(("PIP_", "UV_")) or key.upper() in _KEEP_INDEX_FREE
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_NO_CONFIG"] = "1"
    return env

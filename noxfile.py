"""nox-release's own sessions: the release sessions (from release/sessions.py) plus tests,
lint and bench. The project releases itself with its own sessions."""

from __future__ import annotations

import os
import sys

import nox

# nox does not put the noxfile's folder on sys.path; the release sessions live next to it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from release.sessions import *  # noqa: F403  build, upload_test, ..., rehearse, lock

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

TEST_REQUIREMENTS = ("-r", "release/requirements.txt", "-r", "tests/requirements.txt")
MUTMUT = "mutmut==3.8.1"  # the mutation tester (nox -s mutate); pinned: its verdicts name mutants


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest) against real local index servers."""
    session.install(*TEST_REQUIREMENTS)
    # pytest's exit code 5 means "no tests collected": a selection (-k, a path) that matched
    # nothing is reported, not treated as a failure of the suite.
    code = session.run("python", "-m", "pytest", *(session.posargs or ["-q"]), success_codes=[0, 5])
    if code == 5:  # pragma: no cover - depends on posargs
        session.warn("pytest collected no tests (exit code 5)")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy --strict; actionlint and zizmor on the workflows."""
    session.install(*TEST_REQUIREMENTS, "ruff", "mypy", "types-requests", "types-PyYAML")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    workflows = (
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        "release/templates/release.yml",
        "release/templates/release-compiled.yml",
    )
    session.run("actionlint", *workflows)
    session.run("zizmor", "--offline", ".github/workflows", *workflows[2:])


@nox.session(default=False)
def mutate(session: nox.Session) -> None:
    """Mutation testing (mutmut) of the modules that carry a promise: a score table and a gate.

    Slow (minutes per module), so not in the default run nor in CI. Arguments go to
    tests/mutation/gate.py: module names (default: all), --resume, --min N.
    """
    session.install(*TEST_REQUIREMENTS, MUTMUT)
    session.run("python", "-m", "tests.mutation.gate", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: release, build and rehearse vs by hand, concurrent uploads, reads, memory."""
    # bytecode compiled at install, as pip does: twine, build and the rest start as they would
    # on a user's machine, also where PYTHONDONTWRITEBYTECODE is set
    session.install(*TEST_REQUIREMENTS, env={"UV_COMPILE_BYTECODE": "1"})
    session.run("python", "bench/run.py", *session.posargs)

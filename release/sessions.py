"""The release sessions, ready for any noxfile (this module needs only nox and the stdlib).

Every session runs ``python -m release <command>`` in ONE shared release environment,
``.nox/release-env``, created once and rebuilt only when ``release/requirements.txt`` changes:
a fresh virtual environment per session was the slowest part of a release (see
docs/maintaining.md, Benchmarks). uv creates it when it is on PATH, virtualenv (a dependency of
nox) otherwise.
All of them are ``default=False``: a bare ``nox`` never builds or uploads anything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

__all__ = [
    "build",
    "bump_version",
    "doctor",
    "gather",
    "rehearse",
    "release",
    "upload_prod",
    "upload_test",
    "verify_test_install",
]

PACKAGE = Path(__file__).resolve().parent
REQUIREMENTS = PACKAGE / "requirements.txt"
# The release environment holds credentials: it installs from this lock, every file pinned by
# sha256 (`--require-hashes`). Regenerate it with `nox -s lock` after changing requirements.txt.
LOCK = PACKAGE / "requirements.lock"
NOX_REQUIREMENTS = PACKAGE / "requirements-nox.txt"
NOX_LOCK = PACKAGE / "requirements-nox.lock"
LOCKS = {LOCK: REQUIREMENTS, NOX_LOCK: NOX_REQUIREMENTS}
LOCK_HEADER = "# input sha256: "
ENV_NAME = "release-env"


def input_digest(requirements: Path) -> str:
    """sha256 of a requirements file, as recorded in the first line of its lock."""
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def lock_problem(lock: Path, requirements: Path) -> str | None:
    """Why ``lock`` cannot be used for ``requirements`` (missing, or made from other input)."""
    if not lock.is_file():
        return f"{lock.name} is missing"
    first = lock.read_text(encoding="utf-8").partition("\n")[0]
    if first != LOCK_HEADER + input_digest(requirements):
        return f"{lock.name} was not made from the current {requirements.name}"
    return None


def lock_command(lock: Path, requirements: Path) -> list[str]:
    """How a lock is made: every Python the project supports (3.10 and later, all platforms),
    every file pinned by sha256."""
    return [
        "uv",
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--generate-hashes",
        "--python-version",
        "3.10",
        "--no-header",
        str(requirements),
        "-o",
        str(lock),
    ]


def _env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def release_python(session: nox.Session) -> str:
    """The shared release environment's Python, (re)created when the requirements change."""
    env = Path(session.invoked_from) / ".nox" / ENV_NAME
    python = _env_python(env)
    problem = lock_problem(LOCK, REQUIREMENTS)
    if problem:
        session.error(
            f"{problem}: the release environment installs only from hashed pins. "
            f"Regenerate the lock: {' '.join(lock_command(LOCK, REQUIREMENTS))} "
            f"and put '{LOCK_HEADER}<sha256 of requirements.txt>' as its first line "
            "(nox-release's own `nox -s lock` does both)."
        )
    digest = hashlib.sha256(
        LOCK.read_bytes() + sys.version.encode() + str(env).encode()
    ).hexdigest()
    stamp = env / ".nox-release-requirements"
    if python.exists() and stamp.is_file() and stamp.read_text() == digest:
        return str(python)
    session.log(f"Creating the shared release environment in {env}")
    shutil.rmtree(env, ignore_errors=True)
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
        session.run(
            uv,
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "--python",
            str(python),
            "-r",
            str(LOCK),
            external=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "virtualenv", "--quiet", str(env)], check=True)
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "-r",
            str(LOCK),
            external=True,
        )
    stamp.write_text(digest)
    return str(python)


def run_release(session: nox.Session, *args: str) -> None:
    """``python -m release ARGS POSARGS`` in the shared environment, from the project root."""
    python = release_python(session)
    session.run(
        python,
        "-m",
        "release",
        *args,
        *session.posargs,
        external=True,
        env={"PYTHONPATH": str(PACKAGE.parent)},
    )


@nox.session(venv_backend="none", default=False)
def build(session: nox.Session) -> None:
    """Build sdist + wheel (-- --sdist / --wheel [--from DIR]) into dist/, record their sha256."""
    run_release(session, "build")


@nox.session(venv_backend="none", default=False)
def gather(session: nox.Session) -> None:
    """Merge build folders from many runners (-- DIR...) into dist/, checked complete."""
    run_release(session, "gather")


@nox.session(venv_backend="none", default=False)
def upload_test(session: nox.Session) -> None:
    """Read the test index, then upload dist/ to it (TestPyPI by default) as the guard allows."""
    run_release(session, "upload", "--index", "test")


@nox.session(venv_backend="none", default=False)
def verify_test_install(session: nox.Session) -> None:
    """Install the release from the test index in fresh environments; import it, smoke-test it."""
    run_release(session, "verify")


@nox.session(venv_backend="none", default=False)
def upload_prod(session: nox.Session) -> None:
    """Read the prod index, then upload the very same verified files (PyPI by default)."""
    run_release(session, "upload", "--index", "prod")


@nox.session(venv_backend="none", default=False)
def release(session: nox.Session) -> None:
    """build, upload_test, verify_test_install, upload_prod; stop at the first failure."""
    run_release(session, "release")


@nox.session(venv_backend="none", default=False)
def bump_version(session: nox.Session) -> None:
    """Bump the version: -- major|minor|patch|alpha|beta|rc|post|dev|release or X.Y.Z."""
    run_release(session, "bump")


@nox.session(venv_backend="none", default=False)
def doctor(session: nox.Session) -> None:
    """Check project, indexes, credentials and tokens for both indexes without uploading."""
    run_release(session, "doctor")


@nox.session(venv_backend="none", default=False)
def rehearse(session: nox.Session) -> None:
    """The whole release on two local throw-away indexes (deps from your pip index): start here."""
    run_release(session, "rehearse")

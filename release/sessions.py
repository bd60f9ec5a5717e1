"""The release sessions, ready for any noxfile (this module needs only nox and the stdlib).

Every session runs ``python -m release <command>`` in ONE shared release environment,
``.nox/release-env``, created once and rebuilt only when ``release/requirements.txt`` changes:
a fresh virtual environment per session was the slowest part of a release (see
docs/maintaining.md, Benchmarks). uv creates it when it is on PATH, virtualenv (a dependency of
nox) otherwise.
All of them are ``default=False``: a bare ``nox`` never builds or uploads anything.

The contract CI relies on (README, "Through nox"): ``nox -s SESSION`` exits with the status
``python -m release COMMAND`` exits with (0, 2-8, 130), not nox's 1 for every failure; the
command's stderr stays stderr (nox would merge it into stdout), so with ``-- --json`` stdout
holds exactly one JSON document.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nox
import nox.command

from .terminal import Heartbeat

__all__ = [
    "build",
    "bump_version",
    "doctor",
    "gather",
    "lock",
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
# Exit status of the release environment's problems (release/errors.py: ExitCode.USAGE for a
# lock that does not match its requirements, FAILURE for an environment that could not be made).
USAGE, FAILURE = 2, 1
# After Ctrl-C, how long the command may take to finish its line, its --json document and its
# clean-up (a rehearsal stops two local servers) before nox terminates it (nox's default: 0.3 s).
INTERRUPT_GRACE = 10.0


class _QuietUvProbe(logging.Filter):
    """nox logs "uv binary not found." on every session when uv is not installed, also for
    ``venv_backend="none"`` sessions, which never use it: noise in every release log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "uv binary not found."


logging.getLogger("nox").addFilter(_QuietUvProbe())


def _fail(session: nox.Session, message: str, code: int) -> SystemExit:
    """Log ``message`` as nox logs a failure; the SystemExit ends nox with ``code``.

    nox turns any failing session into exit 1 (``session.error`` included); a SystemExit is
    the one thing that passes through it with its status intact.
    """
    logging.getLogger("nox").error(f"Session {session.name} failed: {message}")
    return SystemExit(code)


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
        raise _fail(
            session,
            f"{problem}: the release environment installs only from hashed pins. "
            "Fix: run `nox -s lock` (it regenerates release/requirements.lock with uv and "
            "records the input's sha256 in its first line).",
            USAGE,
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
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(env)],
            [
                *(uv, "pip", "install", "--quiet", "--require-hashes"),
                *("--python", str(python), "-r", str(LOCK)),
            ],
        ]
    else:
        steps = [
            [sys.executable, "-m", "virtualenv", "--quiet", str(env)],
            [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(LOCK)],
        ]
    with Heartbeat(sys.stderr, "creating the release environment", prefix="nox > "):
        for argv in steps:
            session.log(" ".join(argv))
            done = subprocess.run(argv, check=False)
            if done.returncode:
                raise _fail(
                    session,
                    f"creating the release environment failed ({Path(argv[0]).name} exited "
                    f"with {done.returncode}; its output is above). Fix: check your "
                    "connection and pip's index settings, then run the same session again.",
                    FAILURE,
                )
    stamp.write_text(digest)
    return str(python)


def exit_status(failure: nox.command.CommandFailed) -> int:
    """The exit status of the command behind ``failure``.

    nox records it as ``return_code`` (2026.x); older versions only in the reason,
    "Returned code N".
    """
    code = getattr(failure, "return_code", None)
    if isinstance(code, int):
        return code
    found = re.search(r"(-?\d+)\s*$", str(failure.reason or ""))
    return int(found.group(1)) if found else FAILURE


def run_release(session: nox.Session, *args: str) -> None:
    """``python -m release ARGS POSARGS`` in the shared environment, from the project root.

    Its stderr stays stderr (nox's default merges it into stdout, which would put the human
    lines in front of a --json document), and nox exits with its status (see the module's
    docstring).
    """
    python = release_python(session)
    try:
        session.run(
            python,
            "-m",
            "release",
            *args,
            *session.posargs,
            external=True,
            env={"PYTHONPATH": str(PACKAGE.parent)},
            stderr=None,
            interrupt_timeout=INTERRUPT_GRACE,
        )
    except nox.command.CommandFailed as failure:
        code = exit_status(failure)
        raise _fail(session, f"exit status {code}", code) from None


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


@nox.session(default=False)
def lock(session: nox.Session) -> None:
    """Regenerate release/*.lock (hashed pins, Python 3.10+) from release/requirements*.txt."""
    session.install("uv")  # in the session's own environment: uv need not be installed
    for lock_path, requirements in LOCKS.items():
        session.run(*lock_command(lock_path, requirements))
        body = lock_path.read_text(encoding="utf-8")
        lock_path.write_text(
            f"{LOCK_HEADER}{input_digest(requirements)}\n"
            f"# made by `nox -s lock` from {requirements.name}: do not edit by hand\n" + body,
            encoding="utf-8",
        )

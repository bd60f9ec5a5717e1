"""The release sessions, ready for any noxfile (this module needs only nox and the stdlib).

Every session runs ``python -m release <command>`` in ONE shared release environment,
``.nox/release-env``, created once and rebuilt only when ``release/requirements.lock`` changes:
a fresh virtual environment per session was the slowest part of a release (nox-release's
docs/maintaining.md, Benchmarks, in its repository). uv is one of the lock's hashed pins: pip
(of nox's Python) installs that uv into a bare environment and uv installs the rest; a uv on
PATH where nox's Python has no pip; virtualenv and pip where uv cannot run.
All of them are ``default=False``: a bare ``nox`` never builds or uploads anything.

The contract CI relies on (README, "Through nox"): ``nox -s SESSION`` exits with the status
``python -m release COMMAND`` exits with (0, 2-8, 130), not nox's 1 for every failure; the
command's stderr stays stderr (nox would merge it into stdout), so with ``-- --json`` stdout
holds exactly one JSON document.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
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
    "reproduce",
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
    started = time.monotonic()
    with (
        Heartbeat(sys.stderr, "creating the release environment", prefix="nox > ") as beat,
        tempfile.TemporaryDirectory(prefix="nox-release-uv-") as tmp,
    ):
        plans = _creation_plans(env, Path(tmp))
        for n, plan in enumerate(plans, start=1):
            how = plan[0]
            failed = _run_steps(session, plan[1], beat)
            if failed is None:
                break
            shutil.rmtree(env, ignore_errors=True)
            if n < len(plans):
                beat.clear()
                session.warn(f"{failed}; trying without it")
                continue
            raise _fail(
                session,
                f"creating the release environment failed ({failed}; its output is above). "
                "Fix: check your connection and pip's index settings, then run the same "
                "session again.",
                FAILURE,
            )
    session.log(f"release environment ready in {time.monotonic() - started:.1f}s ({how})")
    stamp.write_text(digest)
    return str(python)


def uv_pin(lock: Path = LOCK) -> str | None:
    """uv's entry of the lock (``uv==X`` and its ``--hash`` lines), as a requirements file."""
    lines = lock.read_text(encoding="utf-8").splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("uv==")), None)
    if start is None:
        return None
    entry = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" ") or not line.strip().startswith("--hash="):
            break
        entry.append(line)
    entry[-1] = entry[-1].rstrip(" \\")
    return "\n".join(entry) + "\n"


def _install_lock(uv: str, python: Path) -> list[str]:
    # Where Python may not write bytecode, every session would compile its imports again (a
    # second or more): compile once here, as pip always does. Elsewhere Python writes it on
    # first import, and only for what is imported.
    compile_now = ["--compile-bytecode"] if os.environ.get("PYTHONDONTWRITEBYTECODE") else []
    return [
        *(uv, "pip", "install", "--quiet", "--require-hashes", *compile_now),
        *("--python", str(python), "-r", str(LOCK)),
    ]


def _creation_plans(env: Path, tmp: Path) -> list[tuple[str, list[list[str]]]]:
    """Ways to make the release environment here, best first: (how, commands).

    1. The lock's own uv: a bare environment (``venv --without-pip``), into which pip of nox's
       Python installs the lock's uv (hashed); that uv installs the whole lock, in parallel.
    2. A uv on PATH (nox's Python has no pip, e.g. nox installed with ``uv tool``).
    3. virtualenv and pip, one package after another (where uv cannot run).
    """
    python = _env_python(env)
    plans: list[tuple[str, list[list[str]]]] = []
    pin = uv_pin()
    if pin is not None and importlib.util.find_spec("pip") is not None:
        requirement = tmp / "uv.txt"
        requirement.write_text(pin, encoding="utf-8")
        uv = env / ("Scripts/uv.exe" if os.name == "nt" else "bin/uv")
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        pip += ["--disable-pip-version-check", "--no-deps", "--require-hashes"]
        steps = [
            [sys.executable, "-m", "venv", "--without-pip", str(env)],
            [*pip, "-r", str(requirement)],
            _install_lock(str(uv), python),
        ]
        plans.append(("the lock's uv", steps))
    on_path = shutil.which("uv")
    if on_path:
        steps = [[on_path, "venv", "--quiet", "--python", sys.executable, str(env)]]
        plans.append(("uv from PATH", [*steps, _install_lock(on_path, python)]))
    pip = [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(LOCK)]
    steps = [[sys.executable, "-m", "virtualenv", "--quiet", str(env)], pip]
    plans.append(("virtualenv and pip", steps))
    return plans


def _run_steps(session: nox.Session, steps: list[list[str]], beat: Heartbeat) -> str | None:
    """Run ``steps`` in order; what failed, or None. ``beat``'s counting line is wiped before
    each of nox's lines, so that the two never share a line; a step's own output (pip's
    notices) is kept and shown only when the step fails."""
    for argv in steps:
        beat.clear()
        session.log(" ".join(argv))
        try:
            done = subprocess.run(
                argv, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        except OSError as exc:  # a binary that cannot run on this machine
            return f"{Path(argv[0]).name} could not run ({exc.strerror or exc})"
        if done.returncode:
            beat.clear()
            sys.stderr.write(done.stdout)
            return f"{Path(argv[0]).name} exited with {done.returncode}"
    return None


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


# How the release environment's Python starts nox-release. The project root holds release/,
# but it must not go on PYTHONPATH: a sitecustomize.py (or usercustomize.py) there would run,
# and a module there named like a dependency would be imported, inside the process that holds
# the credential. So Python starts isolated (-I: no PYTHONPATH, no user site, no script folder
# on sys.path) and the root is appended after the standard library and the environment's
# packages, only to find release/ itself.
BOOT = (
    "import sys; sys.path.append(sys.argv.pop(1)); import runpy; "
    "runpy.run_module('release', run_name='__main__', alter_sys=True)"
)


def release_command(
    python: str, *args: str, root: Path = PACKAGE.parent
) -> tuple[list[str], dict[str, str]]:
    """The command line of ``python -m release ARGS`` (``root``: the folder holding release/),
    started as :data:`BOOT` says, and what it adds to the environment (nothing)."""
    return [python, "-I", "-c", BOOT, str(root), *args], {}


def run_release(session: nox.Session, *args: str) -> None:
    """``python -m release ARGS POSARGS`` in the shared environment, from the project root.

    Its stderr stays stderr (nox's default merges it into stdout, which would put the human
    lines in front of a --json document), and nox exits with its status (see the module's
    docstring).
    """
    python = release_python(session)
    try:
        argv, env = release_command(python, *args, *session.posargs)
        session.run(
            *argv,
            external=True,
            env=env,
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


@nox.session(venv_backend="none", default=False)
def reproduce(session: nox.Session) -> None:
    """Rebuild the release's commit cleanly; compare with dist/ (-- --index prod: with PyPI)."""
    run_release(session, "reproduce")


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

"""Third-party code (a build backend, ``setup.py``) runs in a process group of its own, and
the whole group ends with it.

A backend can leave a process behind (a daemon it starts, a helper that outlives the build).
Left running, it would keep going through the upload: rewriting dist/ between the check and
the send, or waiting for the credential to appear. So the code runs in a new session (its own
process group); when its main process ends, whatever is left of the group is killed
(``SIGKILL``) before anything else happens. Its output goes to files, not pipes: a process
left behind that holds them cannot keep the release waiting. A process that leaves the group
on purpose (``setsid`` again) escapes this; release/docs/security.md says what remains.
"""

from __future__ import annotations

__all__ = ["run_contained"]

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

_POSIX = os.name == "posix"


def _end_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_unreaped(proc: subprocess.Popen[bytes]) -> None:
    """Wait for the main process to end without reaping it (its pid, the group's id, cannot
    be reused while the group is ended); where waitid is missing, a plain wait."""
    if hasattr(os, "waitid") and hasattr(os, "WNOWAIT"):
        while True:
            try:
                os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
                return
            except ChildProcessError:
                return
            except InterruptedError:  # pragma: no cover - PEP 475 retries already
                continue
    proc.wait()


def run_contained(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; when it ends (or this is interrupted), end its whole process group.
    stdout and stderr are captured as text."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=_POSIX,
        )
        try:
            _wait_unreaped(proc)
        finally:
            if _POSIX:
                _end_group(proc.pid)
            else:  # pragma: no cover - no process groups to end
                proc.kill()
            code = proc.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            list(argv),
            code,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )

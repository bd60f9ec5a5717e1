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

__all__ = ["Stoppable", "run_contained"]

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
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


def _end(proc: subprocess.Popen[bytes]) -> None:
    if _POSIX:
        _end_group(proc.pid)
    else:  # pragma: no cover - no process groups to end
        proc.kill()


class Stoppable:
    """The groups started by ``run_contained(..., stoppable=this)``, which another thread can
    end at once with :meth:`stop` (the rebuild beside a build that failed or was interrupted):
    each group is ended before its main process is reaped, so a stale id is never killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.add(proc)
            if self._stopped:
                _end(proc)

    def ended(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(proc)

    def stop(self) -> None:
        """End every group running now, and any started from now on."""
        with self._lock:
            self._stopped = True
            for proc in self._running:
                _end(proc)


def run_contained(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stoppable: Stoppable | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; when it ends (or this is interrupted, or ``stoppable`` is stopped), end
    its whole process group. stdout and stderr are captured as text."""
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
        if stoppable is not None:
            stoppable.started(proc)
        try:
            _wait_unreaped(proc)
        finally:
            if stoppable is not None:
                stoppable.ended(proc)
            _end(proc)
            code = proc.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            list(argv),
            code,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )

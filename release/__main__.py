"""``python -m release``: the command line, in a process whose environment block holds no secret.

Code the release runs (a build backend's helper left behind, anything running as the same user
or as root) can read ``/proc/<pid>/environ`` of this process, which is the environment it was
started with, whatever Python later does to ``os.environ``. So when that environment names a
credential (``release.childenv``'s rule: ``*_PASSWORD``, ``*_TOKEN``, ``TWINE_*``,
``RELEASE_*``, ``ACTIONS_ID_TOKEN_REQUEST_*`` ...), the process starts itself again (same
interpreter, same arguments) without those variables, and hands them over through an inherited
descriptor (a memory file on Linux, of any size; a pipe elsewhere: :func:`_handover`); the
new process puts them back in ``os.environ``, which changes its memory, not the block /proc
shows. It also marks itself non-dumpable (Linux ``prctl(PR_SET_DUMPABLE, 0)``): another process
of the same user can then read neither its environment nor its memory through /proc.

What no tool can hide: the same variables in the environment of the processes that started
this one (the CI step's shell, nox). ``build`` says so when it sees them (release/docs/security.md).
"""

import os
import sys

from .childenv import is_credential_name

PIPE_VARIABLE = "NOX_RELEASE_SECRETS_FD"
_PIPE_LIMIT = 60_000  # a pipe holds 64 KiB before a write would wait for the reader


def _not_dumpable() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):  # no prctl: nothing more to do here
        return


def _pack(variables: dict[str, str]) -> bytes:
    """``NAME=VALUE`` pairs, each ended by a NUL: the environment's own form (a name holds no
    ``=``, nothing holds a NUL), bytes as the block would hold them. Written by hand rather
    than as JSON: the first process then imports nothing to start again (json: ~4 ms)."""
    return b"".join(os.fsencode(f"{k}={v}") + b"\0" for k, v in variables.items())


def _unpack(data: bytes) -> dict[str, str]:
    """What :func:`_pack` wrote, as it was given to it."""
    pairs = (item.partition(b"=") for item in data.split(b"\0") if item)
    return {os.fsdecode(name): os.fsdecode(value) for name, _, value in pairs}


def _take_back(fd: str) -> None:
    """In the restarted process: the secrets from the descriptor, into os.environ (memory
    only)."""
    with os.fdopen(int(fd), "rb") as handed:
        os.environ.update(_unpack(handed.read()))


def _memory_file(data: bytes) -> int | None:
    """``data`` in an anonymous memory file, at its start; None where there is none (not
    Linux, or a kernel or seccomp filter that refuses ``memfd_create``)."""
    memfd = getattr(os, "memfd_create", None)
    if memfd is None:
        return None
    try:
        fd: int = memfd("nox-release-secrets", 0)
    except OSError:
        return None
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _handover(data: bytes) -> int | None:
    """A descriptor the restarted process reads ``data`` from, positioned at its start.

    Linux: an anonymous memory file (``memfd_create``): nothing on disk, no size limit, so
    however many (or however long) the credential variables are, none stays in the block.
    Elsewhere (or where memfd_create is refused) a pipe, which holds 64 KiB before a write
    would wait for a reader that only starts after the exec: more than ``_PIPE_LIMIT`` bytes
    are not handed over (None), and the process goes on with the variables in its block, as
    it would without this module (systems without memfd have no /proc/<pid>/environ)."""
    fd = _memory_file(data)
    if fd is None:
        if len(data) > _PIPE_LIMIT:
            return None
        fd, write = os.pipe()
        os.write(write, data)
        os.close(write)
    os.set_inheritable(fd, True)
    return fd


def hide_secrets_from_proc() -> None:
    """Restart without the secrets in the environment block, or take them back if this is
    the restarted process. Does nothing where there is no execve (Windows)."""
    fd = os.environ.pop(PIPE_VARIABLE, None)
    if fd is not None:
        _not_dumpable()  # first: /proc/<pid>/fd/N of the memory file is readable until then
        _take_back(fd)
        return
    _not_dumpable()
    if os.name != "posix" or not getattr(sys, "orig_argv", None):
        return
    moved = {k: v for k, v in os.environ.items() if is_credential_name(k)}
    if not moved:
        return
    read = _handover(_pack(moved))
    if read is None:
        return
    env = {k: v for k, v in os.environ.items() if k not in moved}
    env[PIPE_VARIABLE] = str(read)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, env)  # noqa: S606 - this very command, again


if __name__ == "__main__":  # python -m release (imported, e.g. by a test, it runs nothing)
    import gc

    hide_secrets_from_proc()
    # The cycle collector waits out the start-up imports (hundreds of modules, no garbage
    # worth a collection); release.cli turns it back on once the command is loaded.
    gc.disable()

    from .cli import main  # after the restart: nothing heavy is imported twice

    status = main(collector_paused=True)
    # Whatever is left is freed with the process: frozen, it is not walked again by the
    # interpreter's last collections (some 50 ms after an upload, for nothing).
    gc.freeze()
    sys.exit(status)

"""Paths from configuration stay inside the project, and the files found there are read
capped.

``dist-dir``, ``version-files`` and the version files a pyproject.toml names are relative to
the project root and must stay below it: ``..`` out of the root, an absolute path elsewhere,
or a link that leads outside is refused (exit 2) before anything is read or written. An
absolute path inside the project is accepted (``$GITHUB_WORKSPACE/dist`` in a workflow).

:func:`read_capped` is how a file the project hands us is read (pyproject.toml, the manifest,
``.pypirc``, version files, attestations): a regular file of bounded size, or an OSError that
says why, never a read that blocks (a FIFO) or never ends (a link to ``/dev/zero``).
"""

from __future__ import annotations

__all__ = ["CAP", "inside_root", "read_capped"]

import errno
import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import ConfigError


def inside_root(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refused unless it is below ``root`` (links resolved; not the
    root itself). ``relative`` may also be absolute when it is below ``root``.

    ``what`` names the setting in the message (e.g. ``[tool.release] dist-dir``).
    """
    text = relative.strip()
    fix = f"Give {what} as a path relative to the project root ({root}), inside it."
    if not text or "\x00" in text:
        raise ConfigError(f"{what} is empty or not a path ({relative!r}).", fix)
    base = root.resolve()
    native = Path(text)
    foreign = PurePosixPath(text) if os.name == "nt" else PureWindowsPath(text)
    if not native.is_absolute() and (foreign.is_absolute() or foreign.drive):
        raise ConfigError(f"{what} is an absolute path of another system ({text!r}).", fix)
    if native.is_absolute():
        target = native.resolve()
        if base not in target.parents:
            raise ConfigError(f"{what} is an absolute path outside the project ({text!r}).", fix)
        return base / target.relative_to(base)
    target = (base / text).resolve()
    if base not in target.parents:
        raise ConfigError(f"{what} leads outside the project root: {text!r} -> {target}.", fix)
    return base / text


CAP = 4 << 20  # pyproject.toml, the manifest, .pypirc, version files: far below this
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_capped(path: Path, cap: int = CAP) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``cap`` bytes.

    Anything else is an OSError that says why, without blocking or reading on: a FIFO (opened
    without waiting for a writer), a device such as ``/dev/zero`` behind a link (it never
    ends), a folder, or a file larger than ``cap`` (read no further than ``cap`` + 1 bytes).
    """
    fd = os.open(path, _READ)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, a device or a folder)")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise OSError(errno.EFBIG, f"larger than {cap // 1024} KiB")
        return b"".join(chunks)
    finally:
        os.close(fd)

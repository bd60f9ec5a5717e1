"""Paths from configuration stay inside the project.

``dist-dir``, ``version-files`` and the version files a pyproject.toml names are relative to
the project root and must stay below it: ``..`` out of the root, an absolute path elsewhere,
or a link that leads outside is refused (exit 2) before anything is read or written. An
absolute path inside the project is accepted (``$GITHUB_WORKSPACE/dist`` in a workflow).
"""

from __future__ import annotations

__all__ = ["inside_root"]

import os
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

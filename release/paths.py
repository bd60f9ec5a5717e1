"""Paths from configuration stay inside the project.

``dist-dir``, ``version-files`` and the version files a pyproject.toml names are relative to
the project root and must stay below it: an absolute path, ``..`` out of the root, or a link
that leads outside is refused (exit 2) before anything is read or written.
"""

from __future__ import annotations

__all__ = ["inside_root"]

from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import ConfigError


def inside_root(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refused unless it is below ``root`` (links resolved; not the
    root itself).

    ``what`` names the setting in the message (e.g. ``[tool.release] dist-dir``).
    """
    text = relative.strip()
    fix = f"Give {what} as a path relative to the project root ({root}), inside it."
    if not text or "\x00" in text:
        raise ConfigError(f"{what} is empty or not a path ({relative!r}).", fix)
    if (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or PureWindowsPath(text).drive
    ):
        raise ConfigError(f"{what} is an absolute path ({text!r}).", fix)
    base = root.resolve()
    target = (base / text).resolve()
    if base not in target.parents:
        raise ConfigError(f"{what} leads outside the project root: {text!r} -> {target}.", fix)
    return base / text

"""Read what git says about a work tree, for :mod:`release.vcsversion` (thin I/O, no decisions).

The questions are the ones setuptools-scm asks: the nearest tag that names a version
(``git describe --tags --long --match *[0-9]*``), the commits since, and the tracked files
with uncommitted changes (untracked files do not make a version dirty).
"""

from __future__ import annotations

__all__ = [
    "Checkout",
    "checkout",
    "explain_version",
    "project_checkout",
    "read",
    "tracked",
    "vcs_plugin_of",
]

import dataclasses
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import Version

from .config import Settings
from .vcsversion import Explanation, GitState, default_tag_format, explain, vcs_plugin


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def read(root: Path) -> GitState | None:
    """The state of the git work tree at ``root``; None outside one (or without git)."""
    head = _git(root, "rev-parse", "--short", "HEAD")
    if head is None:
        return None
    described = _git(root, "describe", "--tags", "--long", "--match", "*[0-9]*", "HEAD")
    last_tag: str | None = None
    if described and described.strip().count("-") >= 2:
        last_tag, count, _ = described.strip().rsplit("-", 2)
        distance = int(count)
    else:
        distance = int((_git(root, "rev-list", "--count", "HEAD") or "0").strip() or 0)
    status = _git(root, "status", "--porcelain", "--untracked-files=no") or ""
    dirty = tuple(line[3:].split(" -> ")[-1] for line in status.splitlines() if len(line) > 3)
    return GitState(head.strip(), last_tag, distance, dirty)


def tracked(root: Path, path: str) -> bool:
    """Is ``path`` (relative to ``root``) tracked by git there?"""
    return _git(root, "ls-files", "--error-unmatch", "--", path) is not None


@dataclasses.dataclass(frozen=True)
class Checkout:
    """The commit a build reads, for the manifest's source (release.manifest.Source)."""

    commit: str  # full object name of HEAD
    committed: int  # its committer time (seconds since the epoch): the SOURCE_DATE_EPOCH
    dirty: tuple[str, ...]  # changed, staged or untracked paths under the project (not ignored)

    @property
    def clean(self) -> bool:
        return not self.dirty


def checkout(root: Path, ignore: tuple[str, ...] = ()) -> Checkout | None:
    """HEAD of the work tree at ``root`` and what in the project's folder differs from it:
    changed and untracked files count (a backend would ship them), ignored ones do not, nor
    the folders in ``ignore`` (relative to ``root``: dist/, .nox/, which the pipeline writes).
    None outside a git work tree or before the first commit."""
    head = _git(root, "rev-parse", "--verify", "HEAD^{commit}")
    committed = _git(root, "log", "-1", "--format=%ct", "HEAD")
    if head is None or committed is None or not committed.strip().isdigit():
        return None
    excludes = [f":(exclude){p}" for p in ignore]
    status = _git(
        root, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".", *excludes
    )
    entries = [e for e in (status or "").split("\0") if len(e) > 3]
    dirty = tuple(e[3:] for e in entries)
    if status is None:
        dirty = ("(git status failed)",)
    return Checkout(head.strip(), int(committed.strip()), dirty)


def project_checkout(root: Path, dist_dir: Path) -> Checkout | None:
    """:func:`checkout` of the project at ``root``, not counting what the pipeline writes
    there (``dist_dir`` and ``.nox/``) as changes."""
    ignore = tuple(
        str(p.relative_to(root)) for p in (dist_dir, root / ".nox") if p.is_relative_to(root)
    )
    return checkout(root, ignore)


def _setup_text(root: Path) -> str:
    texts = []
    for name in ("setup.py", "setup.cfg"):
        try:
            texts.append((root / name).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


def vcs_plugin_of(root: Path, pyproject: Mapping[str, Any]) -> str | None:
    """The VCS plugin of the project at ``root`` (pyproject.toml, setup.py, setup.cfg)."""
    return vcs_plugin(pyproject, _setup_text(root))


def tag_format(settings: Settings) -> str:
    """tag-format as set, else the spelling the project's VCS plugin reads (pbr: no "v")."""
    if settings.sources.get("tag-format", "default") != "default":
        return str(settings.get("tag-format"))
    return default_tag_format(vcs_plugin_of(settings.root, settings.pyproject))


def explain_version(
    root: Path, pyproject: Mapping[str, Any], version: Version, tag_format: str = "v{version}"
) -> Explanation | None:
    """Why a VCS-versioned project built ``version``, a development or local version (None
    when it is a release, the version is not from git, or ``root`` is no git work tree)."""
    if not (version.is_devrelease or version.local):
        return None
    plugin = vcs_plugin_of(root, pyproject)
    state = read(root) if plugin else None
    if plugin is None or state is None:
        return None
    return explain(version, state, plugin, tag_format)

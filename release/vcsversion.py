"""PURE: versions made from git tags, and why a build got a development or local version.

A VCS plugin (setuptools-scm, hatch-vcs, pdm-backend's scm source, versioningit,
poetry-dynamic-versioning) names the release after the last tag when HEAD *is* that tag and
the tracked files are clean. Otherwise it makes up a version that is no release:
``1.2.4.dev2+g1d488fb`` (two commits past ``v1.2.3``), ``1.2.4.dev0+g1d488fb.d20260101``
(at the tag, with uncommitted changes). :func:`explain` says which of these happened, from
facts :class:`GitState` holds (read by :mod:`release.gitstate`), and what to do: commit, then
tag the commit to release. Never "allow development releases": the user meant a release.
"""

from __future__ import annotations

__all__ = [
    "Explanation",
    "GitState",
    "adoption_steps",
    "default_tag_format",
    "explain",
    "first_tag",
    "next_release",
    "tag_command",
    "vcs_plugin",
]

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

SHOWN = 5  # dirty files named in a message; the rest are counted


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = data.get(key, {})
        data = value if isinstance(value, Mapping) else {}
    return data


def _requirement_names(pyproject: Mapping[str, Any]) -> set[str]:
    """The canonical names in ``[build-system].requires`` (unparseable entries skipped)."""
    names: set[str] = set()
    for text in _table(pyproject, "build-system").get("requires", []):
        try:
            names.add(canonicalize_name(Requirement(str(text)).name))
        except InvalidRequirement:
            continue
    return names


_SETUP_VERSION = re.compile(r"^\s*version\s*=\s*\S|\bversion\s*=\s*\S", re.MULTILINE)


def _setuptools_version_elsewhere(pyproject: Mapping[str, Any], setup_text: str) -> bool:
    """setuptools is told the version by other means than git: ``[tool.setuptools.dynamic]
    version`` (``attr:``/``file:``), or ``version =`` in setup.cfg's [metadata] or setup.py."""
    if "version" in _table(pyproject, "tool", "setuptools", "dynamic"):
        return True
    return bool(_SETUP_VERSION.search(setup_text))


def _setuptools_scm(pyproject: Mapping[str, Any], setup_text: str, requires: set[str]) -> bool:
    tool = _table(pyproject, "tool")
    if "setuptools_scm" in tool or "setuptools-scm" in tool or "use_scm_version" in setup_text:
        return True  # configured: it sets the version whatever else is written
    listed = "setuptools-scm" in requires or "setuptools_scm" in setup_text
    # only listed as a build requirement (often for its file finder): it decides the version
    # only when nothing else does (a `version = attr: pkg.__version__` wins)
    return listed and not _setuptools_version_elsewhere(pyproject, setup_text)


def vcs_plugin(pyproject: Mapping[str, Any], setup_text: str = "") -> str | None:
    """The plugin that derives the version from git tags, or None (a version written down).

    Read from the backend's configuration, not from the build requirements alone:
    ``setup_text`` is the text of setup.py and setup.cfg, for projects configured there
    (``use_scm_version=True``, ``version = attr: pkg.__version__``, ``pbr=True``).
    """
    project = _table(pyproject, "project")
    if "version" in project and "version" not in project.get("dynamic", []):
        return None  # a version written down wins (pdm-backend writes it into its sdists)
    tool = _table(pyproject, "tool")
    requires = _requirement_names(pyproject)
    backend = str(_table(pyproject, "build-system").get("build-backend", ""))
    if "poetry-dynamic-versioning" in tool or "poetry-dynamic-versioning" in requires:
        return "poetry-dynamic-versioning"
    if "versioningit" in tool or "versioningit" in requires:
        return "versioningit"
    hatch = _table(tool, "hatch", "version")
    if hatch.get("source") == "vcs" or ("hatch-vcs" in requires and not hatch):
        return "hatch-vcs"
    if _table(tool, "pdm", "version").get("source") == "scm":
        return "pdm-backend (scm)"
    if "pbr" in requires or backend.startswith("pbr") or re.search(r"\bpbr\s*=\s*True", setup_text):
        return "pbr"
    if _setuptools_scm(pyproject, setup_text, requires):
        return "setuptools-scm"
    return None


def default_tag_format(plugin: str | None) -> str:
    """The tag spelling a plugin reads: pbr takes bare versions (``1.2.3``, not ``v1.2.3``)."""
    return "{version}" if plugin == "pbr" else "v{version}"


@dataclasses.dataclass(frozen=True)
class GitState:
    """What git says about the work tree (see :func:`release.gitstate.read`)."""

    head: str  # short commit id of HEAD
    last_tag: str | None  # the nearest tag that names a version, None if there is none
    distance: int  # commits from that tag to HEAD (from the first commit if there is no tag)
    dirty: tuple[str, ...] = ()  # tracked files with uncommitted changes


@dataclasses.dataclass(frozen=True)
class Explanation:
    why: str
    fix: str
    suggested: Version  # the version to tag
    tag: str  # its tag name


def _tag_version(tag: str) -> Version | None:
    """The version a tag names: ``v1.2.3``, ``1.2.3``, ``release-1.2.3``, ``pkg-v1.2.3``."""
    text = tag
    while text:
        try:
            return Version(text)
        except InvalidVersion:
            cut = next((i for i, ch in enumerate(text) if ch.isdigit()), -1)
            if cut <= 0:
                return None
            text = text[cut:]
    return None  # pragma: no cover - the loop returns


def next_release(built: Version, last_tag: str | None) -> Version:
    """The version to tag: the release the plugin was counting towards (``1.2.4.dev2`` ->
    ``1.2.4``), always above the last tag's version; 0.1.0 when there is no tag."""
    tagged = _tag_version(last_tag) if last_tag else None
    candidate = Version(built.base_version)
    if tagged is None:
        return candidate if last_tag is None and candidate > Version("0.0") else Version("0.1.0")
    if candidate > tagged:
        return candidate
    major, minor, micro = [*tagged.release, 0, 0, 0][:3]
    return Version(f"{major}.{minor}.{micro + 1}")


def _tag_name(version: Version, last_tag: str | None, tag_format: str) -> str:
    """Follow the last tag's spelling (``v1.2.3`` -> ``v1.2.4``), else ``tag_format``."""
    if last_tag:
        tagged = _tag_version(last_tag)
        if tagged is not None and last_tag.endswith(str(tagged)):
            return last_tag[: len(last_tag) - len(str(tagged))] + str(version)
    return tag_format.replace("{version}", str(version))


def tag_command(tag: str) -> str:
    return f'git tag -a {tag} -m "Release {tag}"'


def _files(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN])
    more = len(paths) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def explain(
    built: Version, state: GitState, plugin: str, tag_format: str = "v{version}"
) -> Explanation | None:
    """Why ``built`` is a development or local version, and how to release instead.

    None when ``built`` is a plain release (nothing to explain).
    """
    if not (built.is_devrelease or built.local):
        return None
    suggested = next_release(built, state.last_tag)
    tag = _tag_name(suggested, state.last_tag, tag_format)
    causes = []
    if state.last_tag is None:
        causes.append("the repository has no version tag yet")
    elif state.distance:
        commits = "commit" if state.distance == 1 else "commits"
        causes.append(
            f"HEAD ({state.head}) is {state.distance} {commits} past the tag {state.last_tag}"
        )
    if state.dirty:
        files = "file has" if len(state.dirty) == 1 else "files have"
        causes.append(
            f"{len(state.dirty)} tracked {files} uncommitted changes ({_files(state.dirty)})"
        )
    if not causes:  # a clean tag that still gives a dev version: the tag names one
        causes.append(f"the tag {state.last_tag} itself names a development version")
    why = (
        f"The version {built} comes from git ({plugin}), and it is not a release: "
        + "; ".join(causes)
        + "."
    )
    steps = []
    if state.dirty:
        steps.append('commit the changes (git add -A && git commit -m "...")')
    steps.append(f"tag the commit to release: {tag_command(tag)}")
    fix = (
        "To release "
        + str(suggested)
        + ": "
        + ", then ".join(steps)
        + f" (or `nox -s bump_version -- {suggested}`, which makes the tag), and build again."
    )
    if state.dirty and not state.distance and state.last_tag:
        fix += (
            f" To release {state.last_tag} as it is, set the changes aside (git stash) and "
            "build again."
        )
    return Explanation(why, fix, suggested, tag)


def first_tag(
    state: GitState | None, tag_format: str = "v{version}", known: Version | None = None
) -> str:
    """The tag to put on the commit that adopts nox-release: the release after the last tag
    (following its spelling); without a tag, the version the project states (``known``: its
    PKG-INFO or what its build made, when that is a release), else 0.1.0."""
    last = state.last_tag if state else None
    if last is None and known is not None and not (known.is_devrelease or known.local):
        return tag_format.replace("{version}", str(known))
    version = next_release(Version("0.0.0.dev0"), last)
    return _tag_name(version, last, tag_format)


def adoption_steps(
    state: GitState | None, tag_format: str = "v{version}", known: Version | None = None
) -> tuple[str, ...]:
    """The commands that make a VCS-versioned project's next build a release: commit what init
    wrote, and tag that commit (``state`` None: not a git repository yet)."""
    steps = ("git init",) if state is None else ()
    return (
        *steps,
        "git add -A",
        'git commit -m "Adopt nox-release"',
        tag_command(first_tag(state, tag_format, known)),
    )

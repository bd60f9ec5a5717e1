"""PURE: merge build outputs from many runners into one release (what ``gather`` decides).

Each :class:`Part` is one folder as a CI artifact arrives: its partial manifest and the sha256
and size of every distribution file actually in it. :func:`merge` returns the one manifest of
the release, or every problem at once (each names the folders and runners involved).
"""

from __future__ import annotations

__all__ = ["Merged", "Part", "Problem", "merge"]

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from packaging.utils import canonicalize_name
from packaging.version import Version

from .manifest import DistFile, Manifest, Runner


@dataclasses.dataclass(frozen=True)
class Part:
    folder: str  # as given on the command line, for messages
    manifest: Manifest
    actual: Mapping[str, tuple[str, int]]  # filename in the folder -> (sha256, size)


# What to do about each kind of problem (a refusal's fix).
FIX_CHANGED = (
    "Take that folder from its runner's artifact again (files must not change after the "
    "build), or build that runner again."
)
FIX_IDENTITY = (
    "Gather the folders of one build of one version only: check which artifacts were "
    "downloaded, and that every runner built the same commit."
)
FIX_CLASH = (
    "Two runners built one filename: give each matrix entry its own platform and Python "
    "(e.g. not two macOS images for one architecture), or leave one of the folders out."
)
FIX_SDISTS = "Build the sdist on one runner only (nox -s build -- --sdist); pass only its folder."
FIX_NO_SDIST = (
    "Build it on one runner (nox -s build -- --sdist) and pass its folder too, or pass "
    "--no-sdist for a release of wheels only."
)


@dataclasses.dataclass(frozen=True)
class Problem:
    what: str
    fix: str


@dataclasses.dataclass(frozen=True)
class Merged:
    manifest: Manifest | None  # None when there are problems
    sources: Mapping[str, str]  # filename -> the folder its bytes are taken from
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]  # identical copies from several runners, and the like


def _part_problems(part: Part) -> list[Problem]:
    """The folder's files against its own partial manifest."""
    problems = []
    listed = part.manifest.by_filename()
    for name in sorted(set(part.actual) - set(listed)):
        problems.append(
            Problem(
                f"{part.folder}/{name}: in the folder but not in its partial manifest", FIX_CHANGED
            )
        )
    for name, entry in sorted(listed.items()):
        if name not in part.actual:
            problems.append(
                Problem(
                    f"{part.folder}/{name}: in its partial manifest but not in the folder",
                    FIX_CHANGED,
                )
            )
            continue
        sha, size = part.actual[name]
        if sha != entry.sha256:
            problems.append(
                Problem(
                    f"{part.folder}/{name}: its bytes differ from its partial manifest "
                    f"(sha256 {sha[:12]}…, recorded {entry.sha256[:12]}…, {size} bytes vs "
                    f"{entry.size}): changed after {part.manifest.runner_of(name)} built it",
                    FIX_CHANGED,
                )
            )
    return problems


def _identity_problems(parts: Sequence[Part], expected_version: Version | None) -> list[Problem]:
    projects = {canonicalize_name(p.manifest.name) for p in parts}
    versions = {Version(p.manifest.version) for p in parts}
    problems = []
    if len(projects) > 1:
        listing = "; ".join(f"{p.folder}: {p.manifest.name}" for p in parts)
        problems.append(f"the folders hold different projects: {listing}")
    if len(versions) > 1:
        listing = "; ".join(f"{p.folder}: {p.manifest.version}" for p in parts)
        problems.append(f"the folders hold different versions: {listing}")
    elif expected_version is not None and versions and versions != {expected_version}:
        problems.append(
            f"the folders hold version {versions.pop()}, pyproject.toml says {expected_version}"
        )
    return [Problem(p, FIX_IDENTITY) for p in problems]


def merge(
    parts: Sequence[Part],
    *,
    expected_version: Version | None = None,
    wheel_problem: Callable[[str], Problem | None] = lambda _filename: None,
    allow_no_sdist: bool = False,
) -> Merged:
    """One release from ``parts``. ``wheel_problem(filename)`` says why an index would refuse
    a wheel (PyPI's platform-tag rules, :mod:`release.pypi_rules`) and what to do, or None."""
    problems: list[Problem] = [p for part in parts for p in _part_problems(part)]
    problems += _identity_problems(parts, expected_version)
    chosen, clashes, notes = _choose(parts)
    problems += clashes
    sdists = sorted(name for name, (e, _p) in chosen.items() if e.kind == "sdist")
    if len(sdists) > 1:
        listing = "; ".join(f"{n} from {_who(chosen[n][1], chosen[n][0])}" for n in sdists)
        problems.append(Problem(f"more than one sdist: {listing}", FIX_SDISTS))
    if not sdists and not allow_no_sdist:
        problems.append(Problem("no sdist in any folder", FIX_NO_SDIST))
    for name in sorted(chosen):
        if chosen[name][0].kind == "wheel" and (refused := wheel_problem(name)) is not None:
            problems.append(Problem(f"{refused.what} (from {chosen[name][1].folder})", refused.fix))
    if not parts:
        problems.append(Problem("no folders to gather", "Name the build folders: gather DIR..."))
    if problems:
        return Merged(None, {}, tuple(problems), tuple(notes))
    return Merged(
        _manifest(parts, chosen), {n: p.folder for n, (_e, p) in chosen.items()}, (), tuple(notes)
    )


def _choose(
    parts: Sequence[Part],
) -> tuple[dict[str, tuple[DistFile, Part]], list[Problem], list[str]]:
    """One copy of each filename; two copies with other bytes are a problem (naming both
    runners), identical copies a note."""
    chosen: dict[str, tuple[DistFile, Part]] = {}
    problems: list[Problem] = []
    notes: list[str] = []
    for part in parts:
        for entry in part.manifest.files:
            if entry.filename not in part.actual:
                continue
            seen = chosen.get(entry.filename)
            if seen is None:
                chosen[entry.filename] = (entry, part)
            elif seen[0].sha256 != entry.sha256:
                problems.append(
                    Problem(
                        f"{entry.filename} was built twice with different bytes: by "
                        f"{_who(seen[1], seen[0])} and by {_who(part, entry)}",
                        FIX_CLASH,
                    )
                )
            else:
                notes.append(
                    f"{entry.filename}: identical copies from {seen[1].folder} and "
                    f"{part.folder}; taking one"
                )
    return chosen, problems, notes


def _who(part: Part, entry: DistFile) -> str:
    return f"{entry.runner or 'an unknown runner'} (folder {part.folder})"


def _manifest(parts: Sequence[Part], chosen: Mapping[str, tuple[DistFile, Part]]) -> Manifest:
    runners: dict[str, Runner] = {}
    for part in parts:
        runners.update(part.manifest.runners)
    used = {e.runner for e, _p in chosen.values()}
    files = sorted((e for e, _p in chosen.values()), key=lambda e: (e.kind != "sdist", e.filename))
    first = parts[0].manifest
    # the source reproduce rebuilds: one commit for every part that recorded one (the sdist's
    # runner; wheels recorded with --from have none), else none at all
    sources = {p.manifest.source.commit: p.manifest.source for p in parts if p.manifest.source}
    return Manifest(
        name=first.name,
        version=first.version,
        files=tuple(files),
        runners={k: r for k, r in runners.items() if k in used},
        partial=False,
        source=next(iter(sources.values())) if len(sources) == 1 else None,
    )

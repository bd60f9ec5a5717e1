"""The index's data model, pure: what an index lists for a project, and when two filenames are
the same file to an index. No I/O here; :mod:`release.index` reads pages into these values and
the guard decides over them.
"""

from __future__ import annotations

__all__ = [
    "IndexFile",
    "IndexState",
    "Listing",
    "file_key",
    "index_file",
    "listing_of",
    "parse_filename",
    "versions_named",
]

import dataclasses
import re
from collections.abc import Hashable, Sequence
from datetime import datetime

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import VERSION_PATTERN, InvalidVersion, Version

from .manifest import DistFile


@dataclasses.dataclass(frozen=True)
class IndexFile:
    """One file of the project as the index lists it."""

    filename: str
    project: NormalizedName | None
    version: Version | None  # None when the filename does not parse
    sha256: str | None  # None when the index gives no sha256
    yanked: bool
    url: str
    upload_time: datetime | None = None  # PEP 700 (JSON pages only)


@dataclasses.dataclass(frozen=True)
class IndexState:
    """What one index holds for one project at the moment it was read."""

    index_url: str
    project: NormalizedName
    exists: bool  # False: the index answered 404 for the project
    files: tuple[IndexFile, ...]

    def files_for(self, version: Version) -> tuple[IndexFile, ...]:
        """Files of ``version``, compared as PEP 440 versions (``1.0`` is ``1.0.0``)."""
        return tuple(f for f in self.files if f.version is not None and f.version == version)

    @property
    def versions(self) -> frozenset[Version]:
        """Every version with at least one file, yanked ones included."""
        return frozenset(f.version for f in self.files if f.version is not None)

    def by_filename(self) -> dict[str, IndexFile]:
        return {f.filename: f for f in self.files}

    def twin_of(self, filename: str) -> IndexFile | None:
        """The index's file that is ``filename`` to the index (see :func:`file_key`):
        ``Demo.Pkg-1.0.tar.gz`` on the index is the twin of our ``demo_pkg-1.0.0.tar.gz``.
        An exact filename wins over another spelling."""
        exact = self.by_filename().get(filename)
        if exact is not None:
            return exact
        key = file_key(filename)
        if key is None:
            return None
        return next((f for f in self.files if file_key(f.filename) == key), None)


def parse_filename(filename: str) -> tuple[NormalizedName, Version] | None:
    """(canonical name, version) of a wheel or sdist filename, old-style names included."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return name, version
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def file_key(filename: str) -> Hashable | None:
    """What makes two filenames the same file to an index: kind, canonical name, version,
    and for wheels build tag and tags. ``Demo.Pkg-1.0.tar.gz`` is ``demo_pkg-1.0.0.tar.gz``;
    a ``.zip`` sdist is the ``.tar.gz`` one (PyPI takes one sdist per release).
    None when the filename is neither a wheel nor an sdist."""
    parsed = parse_filename(filename)
    if parsed is None:
        return None
    name, version = parsed
    if filename.endswith(".whl"):
        _n, _v, build, tags = parse_wheel_filename(filename)
        return ("wheel", name, version, build, frozenset(tags))
    return ("sdist", name, version)


_VERSION_AT_START = re.compile(r"^\s*" + VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)


def versions_named(filename: str) -> frozenset[Version]:
    """Every PEP 440 version that starts a ``-``-separated part of ``filename``.

    For files no parser reads (``Demo.Pkg-1.0.linux-x86_64.exe``): the guard refuses when
    one of them may be our version, since such a file cannot be proved ours.
    """
    found: set[Version] = set()
    for part in filename.split("-")[1:]:
        match = _VERSION_AT_START.match(part)
        if match is None:
            continue
        try:
            found.add(Version(match.group(0)))
        except InvalidVersion:
            continue
    return frozenset(found)


def index_file(
    filename: str,
    url: str,
    digests: dict[str, str],
    yanked: bool,
    hint_version: str | None,
    upload_time: datetime | None = None,
) -> IndexFile:
    parsed = parse_filename(filename)
    project: NormalizedName | None
    version: Version | None
    if parsed is not None:
        project, version = parsed
    else:
        project = None
        try:
            version = Version(hint_version) if hint_version else None
        except InvalidVersion:
            version = None
    sha = digests.get("sha256")
    return IndexFile(
        filename, project, version, sha.lower() if sha else None, yanked, url, upload_time
    )


@dataclasses.dataclass(frozen=True)
class Listing:
    """How an index's listing compares with the files we expect on it."""

    missing: tuple[str, ...]  # not listed under any spelling
    wrong: tuple[str, ...]  # listed with another sha256
    unhashed: tuple[str, ...]  # listed without a sha256: cannot be proved ours yet

    @property
    def complete(self) -> bool:
        """Every file listed with our sha256."""
        return not (self.missing or self.wrong or self.unhashed)


def listing_of(state: IndexState, expected: Sequence[DistFile]) -> Listing:
    """Each file of ours against the index's twin of it (``Demo.Pkg-1.0.tar.gz``)."""
    missing: list[str] = []
    wrong: list[str] = []
    unhashed: list[str] = []
    for f in expected:
        twin = state.twin_of(f.filename)
        if twin is None:
            missing.append(f.filename)
        elif twin.sha256 is None:
            unhashed.append(f.filename)
        elif twin.sha256 != f.sha256:
            wrong.append(f.filename)
    return Listing(tuple(missing), tuple(wrong), tuple(unhashed))

"""The index's data model, pure: what an index lists for a project, and when two filenames are
the same file to an index. No I/O here; :mod:`release.index` reads pages into these values and
the guard decides over them.

A page is read one link at a time (:class:`PageReader`), every trust check on each link as it
comes, and only what the caller's decisions read is kept (:class:`Keep`): the files of the
versions it names whole, and of every other file only its version, as a compact
:class:`VersionSet` of strings. So a page of 200,000 links costs its version strings, not
200,000 file records (issue 18; bench/bench_hostile.py --links).
"""

from __future__ import annotations

__all__ = [
    "EVERYTHING",
    "MAX_KEPT",
    "MAX_VERSIONS",
    "VERSIONS",
    "IndexFile",
    "IndexState",
    "Keep",
    "Listing",
    "PageReader",
    "UntrustedPage",
    "VersionSet",
    "file_key",
    "index_file",
    "listing_of",
    "parse_filename",
    "version_key",
    "versions_named",
]

import dataclasses
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_version,
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


class UntrustedPage(ValueError):
    """A page that parses but cannot be trusted to list the project's files."""


def version_key(version: Version) -> str:
    """What makes two versions one to PEP 440 (and to :class:`Version`'s ``==``): the
    normalized form without trailing zeros of the release (``1.0`` and ``1.0.0`` are ``1``).
    A string of a few bytes where a :class:`Version` object costs some 350. Pure."""
    return canonicalize_version(version, strip_trailing_zero=True)


class VersionSet(AbstractSet[Version]):
    """An immutable set of versions held as :func:`version_key` strings: the versions of a
    project's every file, which a page of 200,000 links makes 200,000 of (70 MB as
    :class:`Version` objects, 19 MB as strings). Membership and union work on the strings;
    iteration makes each :class:`Version` on the way (``1.0`` comes back as ``1``, equal to
    it), so ``max(versions)`` costs no memory."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._keys: AbstractSet[str] = frozenset(keys)

    @classmethod
    def adopt(cls, keys: set[str]) -> VersionSet:
        """The set of ``keys`` itself, not a copy (a copy of 200,000 is another 8 MB at the
        peak): the caller gives it up and never changes it again."""
        versions = cls()
        versions._keys = keys
        return versions

    @classmethod
    def of(cls, versions: Iterable[Version]) -> VersionSet:
        return cls(version_key(v) for v in versions)

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> VersionSet:  # type: ignore[override]
        # What Set's operators (&, -, ^) build: of versions, not of keys.
        return cls.of(it)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, Version) and version_key(item) in self._keys

    def __iter__(self) -> Iterator[Version]:
        return (Version(key) for key in self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __or__(self, other: AbstractSet[Any]) -> VersionSet:
        keys = set(self._keys)
        keys.update(other._keys if isinstance(other, VersionSet) else map(version_key, other))
        return VersionSet.adopt(keys)

    __ror__ = __or__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VersionSet):
            return self._keys == other._keys
        return super().__eq__(other)

    # Equal to a frozenset of the same versions, so hashed as one (Set._hash, the documented
    # mixin: frozenset's algorithm over the elements); the keys' own hash would differ. It
    # makes every Version on each call (200,000 versions: 0.3 s); nothing hashes one today.
    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"VersionSet({sorted(self._keys)!r})"


@dataclasses.dataclass(frozen=True)
class Keep:
    """Which files of a page a read keeps whole: those of ``versions``, of the highest version
    too when ``latest``, or all when ``everything``. Of the others only their version is kept
    (:attr:`IndexState.versions`). A command names the versions its decisions read (the
    manifest's, the one being bumped to), so that a page of many files costs little."""

    versions: frozenset[Version] = frozenset()
    latest: bool = False
    everything: bool = False

    @classmethod
    def of(cls, *versions: Version | None, latest: bool = False) -> Keep:
        return cls(frozenset(v for v in versions if v is not None), latest=latest)

    def wants(self, version: Version) -> bool:
        return self.everything or version in self.versions


EVERYTHING = Keep(everything=True)
VERSIONS = Keep()  # no file, only the versions


@dataclasses.dataclass(frozen=True)
class IndexState:
    """What one index holds for one project at the moment it was read.

    ``files`` are the files the read kept (``kept``); ``listed``, when the read kept less
    than everything, the versions of all of them; ``latest`` the highest of those."""

    index_url: str
    project: NormalizedName
    exists: bool  # False: the index answered 404 for the project
    files: tuple[IndexFile, ...]
    kept: Keep = EVERYTHING
    listed: VersionSet | None = None
    latest: Version | None = None

    def keeps(self, version: Version) -> bool:
        """Whether the files of ``version`` were kept: asking for others is a mistake of the
        caller (it would read as "no such files"), refused by :meth:`files_for`."""
        return self.kept.wants(version) or (self.kept.latest and version == self.latest)

    def _require(self, version: Version) -> None:
        if not self.keeps(version):
            raise LookupError(
                f"the index was read without the files of {version} (Keep names it not)"
            )

    def files_for(self, version: Version) -> tuple[IndexFile, ...]:
        """Files of ``version``, compared as PEP 440 versions (``1.0`` is ``1.0.0``)."""
        self._require(version)
        return tuple(f for f in self.files if f.version is not None and f.version == version)

    @property
    def versions(self) -> VersionSet:
        """Every version with at least one file, yanked ones included."""
        if self.listed is not None:
            return self.listed
        return VersionSet.of(f.version for f in self.files if f.version is not None)

    def by_filename(self) -> dict[str, IndexFile]:
        return {f.filename: f for f in self.files}

    def twin_of(self, filename: str) -> IndexFile | None:
        """The index's file that is ``filename`` to the index (see :func:`file_key`):
        ``Demo.Pkg-1.0.tar.gz`` on the index is the twin of our ``demo_pkg-1.0.0.tar.gz``.
        An exact filename wins over another spelling."""
        parsed = parse_filename(filename)
        if parsed is not None:
            self._require(parsed[1])
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


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

# Distinct versions a page may list: far beyond what a real project publishes (even one with
# a release per nightly build has thousands), and what keeps a page's versions within ~25 MB.
MAX_VERSIONS = 250_000

# Files a read keeps whole (those of the versions it decides about): a release with a wheel for
# every interpreter and platform has a few hundred; a page that lists 200,000 files of the very
# version being released (173 MB as file records) is built to exhaust the reader.
MAX_KEPT = 10_000


def _checked(n: int, filename: str, url: str, sha: str | None) -> None:
    """Link ``n``'s own checks (PEP 503): a usable filename that is its URL's last part, and a
    well-formed sha256 if any. Raises :class:`UntrustedPage`."""
    tail = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not filename or "/" in filename or "\\" in filename:
        raise UntrustedPage(f"link {n} has no usable filename ({filename!r}, {url!r})")
    if tail != filename:
        raise UntrustedPage(
            f"link {n} names {filename!r} but points at {tail!r} (they must be the same)"
        )
    if sha is not None and not _SHA256.match(sha):
        raise UntrustedPage(f"link {n} ({filename}) has a malformed sha256 {sha[:80]!r}")


class PageReader:
    """A project's page read one link at a time into an :class:`IndexState`, every trust check
    on each link as it comes, keeping only what ``keep`` names (plus every version, compactly).

    Raises :class:`UntrustedPage` (a ValueError) for a page that cannot be trusted to list the
    project's files: a link without a filename or whose text is not its URL's filename
    (PEP 503), a malformed sha256, a kept file listed twice with different sha256 values, or a
    page with no links that does not say it is a Simple API page, or one of more than
    ``max_versions`` versions (each costs its string, some 90 bytes), or more than ``max_kept``
    files of the versions it keeps (each costs a file record): the two caps are what bound a
    page's memory, whatever its shape (``EVERYTHING``, which no command reads with, keeps every
    file, unbounded). An untrusted page must never read as "version absent".

    A filename listed twice is compared only among the files kept: both listings have one
    name, so one version, and the files of a version not kept are never read (only their
    version is, the same for both), so a twin there cannot steer a decision. Pure."""

    def __init__(
        self,
        index_url: str,
        project: NormalizedName,
        keep: Keep,
        *,
        max_versions: int = MAX_VERSIONS,
        max_kept: int = MAX_KEPT,
    ) -> None:
        self.index_url, self.project, self.keep = index_url, project, keep
        self.max_versions = max_versions
        self.max_kept = max_kept
        self.count = 0
        self._keys: set[str] = set()
        self._kept: list[IndexFile] = []
        self._latest: Version | None = None
        self._latest_files: list[IndexFile] = []  # the latest's, when keep.latest only
        self._sha: dict[str, str | None] = {}  # filename -> sha256 of the files kept

    def add(
        self,
        filename: str,
        url: str,
        digests: Mapping[str, str],
        yanked: bool,
        hint_version: str | None,
        upload_time: datetime | None = None,
    ) -> None:
        """The next link of the page (its fields as pypi-simple's DistributionPackage has
        them). Raises :class:`UntrustedPage`."""
        self.count += 1
        sha = digests.get("sha256")
        _checked(self.count, filename, url, sha)
        file = index_file(filename, url, dict(digests), yanked, hint_version, upload_time)
        version = file.version
        if version is None:  # an odd old name: kept when it may name a version we keep
            if self.keep.everything or versions_named(filename) & self.keep.versions:
                self._keep(file, self._kept)
            return
        self._keys.add(version_key(version))
        if len(self._keys) > self.max_versions:
            raise UntrustedPage(
                f"the page lists more than {self.max_versions:,} versions, far beyond any "
                "real project's: a page built to exhaust the reader's memory"
            )
        if self.keep.wants(version):
            self._keep(file, self._kept)
        if self._latest is None or version > self._latest:
            self._latest = version
            self._forget(self._latest_files)  # an older version's, kept for being the latest
            self._latest_files = []
        if self.keep.latest and version == self._latest and not self.keep.wants(version):
            self._keep(file, self._latest_files)

    def _keep(self, file: IndexFile, into: list[IndexFile]) -> None:
        """A file listed twice must be listed with the same sha256: otherwise which one is
        the file? (A reader that keeps the first or the last is one an attacker can steer.)"""
        if file.filename in self._sha and self._sha[file.filename] != file.sha256:
            raise UntrustedPage(f"{file.filename} is listed twice with different sha256 values")
        if not self.keep.everything and len(self._kept) + len(self._latest_files) >= self.max_kept:
            raise UntrustedPage(
                f"the page lists more than {self.max_kept:,} files of the version(s) read, far "
                "beyond any real release's: a page built to exhaust the reader's memory"
            )
        self._sha[file.filename] = file.sha256
        into.append(file)

    def _forget(self, files: list[IndexFile]) -> None:
        for f in files:
            self._sha.pop(f.filename, None)

    def state(self, *, declared: bool) -> IndexState:
        """The state read, once the page has ended; ``declared``: the page says it is a
        Simple API page (``pypi:repository-version``, or JSON's ``meta``)."""
        if not self.count and not declared:
            raise UntrustedPage(
                "the page lists no files and does not declare itself a Simple API page "
                "(no pypi:repository-version)"
            )
        return IndexState(
            index_url=self.index_url,
            project=self.project,
            exists=True,
            files=(*self._kept, *self._latest_files),
            kept=self.keep,
            listed=None if self.keep.everything else VersionSet.adopt(self._keys),
            latest=self._latest,
        )

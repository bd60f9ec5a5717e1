"""The manifest's data model: dist/ files + sha256, what was built is what is verified is what
reaches PyPI. Pure: parsed from and turned into JSON data here; read from and written to dist/
by :mod:`release.distdir`.

``build`` writes ``dist/release-manifest.json``; every later step reads it and checks the files
against it before doing anything, so a file changed or added after the build is caught.

The manifest is trusted as far as the folder that carries it (in CI: the artifact passed from
the build job): it cannot make an upload send another file's bytes (every file is hashed
against it), but whoever can write the artifact can write the manifest. What it names is
confined: every filename is a plain distribution filename of this project and version inside
``dist/`` (no ``../``, no absolute path, no separator), checked before anything is read or sent.

Format 1, extended for releases built on many machines (compiled projects,
release/docs/compiled.md); every addition is optional, so a manifest written before them still
reads:

- ``runners``: ``{id: {"platform", "python", "ci_job"}}``, the machines that built the files,
  and each file's ``runner`` (an id of that table, "" when unknown);
- ``allowed_missing``: the ``expected-wheels`` patterns gather was told to release without
  (``--allow-missing``), so the post-publish audit does not count them as missing;
- ``partial``: true when the folder holds one runner's share of a release (``build --sdist``,
  ``build --wheel``, ``build --wheel --from DIR``): ``gather`` merges such folders into dist/,
  and the upload steps refuse a partial manifest;
- ``source``: what ``reproduce`` needs to build the files again (release/docs/reproduce.md): the git
  commit built, whether its tree was clean, the ``SOURCE_DATE_EPOCH`` used, the build backend
  and the version of every build requirement resolved.
"""

from __future__ import annotations

__all__ = [
    "MANIFEST_NAME",
    "DistFile",
    "Manifest",
    "Runner",
    "Source",
    "check_filename",
]

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

MANIFEST_NAME = "release-manifest.json"
FORMAT = 1
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")

Kind = Literal["sdist", "wheel"]


@dataclasses.dataclass(frozen=True)
class DistFile:
    filename: str
    sha256: str
    size: int
    kind: Kind
    runner: str = ""  # id in Manifest.runners of the machine that built it; "" when unknown


@dataclasses.dataclass(frozen=True)
class Runner:
    """The machine (CI job) that built some files of a release."""

    platform: str  # sysconfig.get_platform() of the build machine, e.g. linux-x86_64
    python: str  # the Python that ran the build, e.g. cpython-3.12
    ci_job: str = ""  # e.g. "github: release/build_wheels run 123 attempt 1"; "" outside CI

    @property
    def id(self) -> str:
        where = self.ci_job or "local"
        return f"{where} ({self.platform}, {self.python})"

    def to_json(self) -> dict[str, str]:
        return {"platform": self.platform, "python": self.python, "ci_job": self.ci_job}

    @classmethod
    def from_json(cls, data: Any) -> Runner:
        if not isinstance(data, dict):
            raise ValueError("a runner is not a table")
        return cls(str(data["platform"]), str(data["python"]), str(data.get("ci_job", "")))


@dataclasses.dataclass(frozen=True)
class Source:
    """Where the files came from, and with what: enough to build them again."""

    commit: str = ""  # the git commit built (full sha); "" outside a git work tree
    clean: bool = False  # no changed or untracked file in the project's tree at build time
    source_date_epoch: int | None = None  # SOURCE_DATE_EPOCH the build ran with
    backend: str = ""  # [build-system] build-backend, e.g. "hatchling.build"
    # canonical name -> version of every distribution in the build's isolated environments
    # (or, without isolation, of the named build requirements)
    requirements: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "clean": self.clean,
            "source_date_epoch": self.source_date_epoch,
            "backend": self.backend,
            "requirements": dict(sorted(self.requirements.items())),
        }

    @classmethod
    def from_json(cls, data: Any) -> Source:
        if not isinstance(data, dict):
            raise ValueError("source is not a table")
        commit = str(data.get("commit") or "")
        if commit and not (
            len(commit) in (40, 64) and all(c in "0123456789abcdef" for c in commit)
        ):
            raise ValueError(f"source commit {commit!r} is not a full git object name")
        epoch = data.get("source_date_epoch")
        if epoch is not None and (not isinstance(epoch, int) or epoch < 0):
            raise ValueError("source_date_epoch is not a number of seconds")
        requirements = data.get("requirements") or {}
        if not isinstance(requirements, dict):
            raise ValueError("source requirements is not a table")
        return cls(
            commit,
            data.get("clean") is True,
            epoch,
            str(data.get("backend") or ""),
            {str(k): str(v) for k, v in requirements.items()},
        )


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str  # the project's name as in its metadata
    version: str  # normalised PEP 440
    files: tuple[DistFile, ...]
    # filename -> sha256, for files verify_test_install INSTALLED and smoke-tested
    verified: Mapping[str, str] = dataclasses.field(default_factory=dict)
    verified_on: str = ""  # the test index they were verified from
    # filename -> {attestation file name: its sha256}: the PEP 740 attestations found beside
    # the file in dist/ and sent with it (release.attestations)
    attestations: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    # filename -> sha256, for files the test index listed with our sha256 that verify did not
    # install (a wheel for another platform; the sdist with verify-sdist = false)
    listed_on_test: Mapping[str, str] = dataclasses.field(default_factory=dict)
    runners: Mapping[str, Runner] = dataclasses.field(default_factory=dict)
    partial: bool = False  # one runner's share of the release: gather before uploading
    # expected-wheels patterns gather was told to release without (--allow-missing)
    allowed_missing: tuple[str, ...] = ()
    source: Source | None = None  # None: built before sources were recorded, or --from DIR

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    def by_filename(self) -> dict[str, DistFile]:
        return {f.filename: f for f in self.files}

    def unverified(self) -> list[str]:
        """Files verify_test_install did not install (whether or not the index listed them)."""
        return [f.filename for f in self.files if self.verified.get(f.filename) != f.sha256]

    def unchecked(self) -> list[str]:
        """Files that went through the test index neither installed nor listed with our sha256."""
        return [
            f.filename
            for f in self.files
            if f.sha256 not in (self.verified.get(f.filename), self.listed_on_test.get(f.filename))
        ]

    def with_verified(
        self, files: Iterable[DistFile], index_url: str, *, listed: Iterable[DistFile] = ()
    ) -> Manifest:
        """Record ``files`` as installed and smoke-tested from ``index_url``, and ``listed`` as
        only seen on its listing with our sha256."""
        verified = dict(self.verified)
        for f in files:
            verified[f.filename] = f.sha256
        seen = dict(self.listed_on_test)
        for f in listed:
            seen[f.filename] = f.sha256
        return dataclasses.replace(
            self, verified=verified, verified_on=index_url, listed_on_test=seen
        )

    def with_attestations(self, found: Mapping[str, Mapping[str, str]]) -> Manifest:
        attestations = {k: dict(v) for k, v in self.attestations.items()}
        attestations.update({k: dict(v) for k, v in found.items() if v})
        return dataclasses.replace(self, attestations=attestations)

    def runner_of(self, filename: str) -> str:
        """Who built ``filename``, for messages ("unknown runner" when not recorded)."""
        entry = self.by_filename().get(filename)
        return entry.runner if entry is not None and entry.runner else "unknown runner"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "files": [dataclasses.asdict(f) for f in self.files],
            "verified": dict(self.verified),
            "verified_on": self.verified_on,
            "listed_on_test": dict(self.listed_on_test),
        }
        if self.attestations:
            data["attestations"] = {k: dict(v) for k, v in self.attestations.items()}
        if self.runners:
            data["runners"] = {k: r.to_json() for k, r in sorted(self.runners.items())}
        if self.partial:
            data["partial"] = True
        if self.allowed_missing:
            data["allowed_missing"] = list(self.allowed_missing)
        if self.source is not None:
            data["source"] = self.source.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a nox-release manifest of format 1")
        version = Version(str(data["version"]))
        name = str(data["name"])
        files = tuple(
            DistFile(
                str(f["filename"]),
                str(f["sha256"]),
                int(f["size"]),
                f["kind"],
                str(f.get("runner", "")),
            )
            for f in data["files"]
        )
        seen: set[str] = set()
        for f in files:
            check_filename(f.filename, name, version)
            if f.filename in seen:
                raise ValueError(f"{f.filename!r} is listed twice")
            seen.add(f.filename)
            if f.kind != kind_of(f.filename) or not _is_sha256(f.sha256) or f.size < 0:
                raise ValueError(f"bad entry for {f.filename}")
        runners = data.get("runners") or {}
        if not isinstance(runners, dict):
            raise ValueError("runners is not a table")
        return cls(
            attestations=_attestation_table(data.get("attestations"), seen),
            name=name,
            version=str(data["version"]),
            files=files,
            verified=_file_table(data.get("verified"), "verified", seen),
            verified_on=str(data.get("verified_on", "")),
            listed_on_test=_file_table(data.get("listed_on_test"), "listed_on_test", seen),
            runners={str(k): Runner.from_json(v) for k, v in runners.items()},
            partial=data.get("partial") is True,
            allowed_missing=tuple(str(p) for p in data.get("allowed_missing") or ()),
            source=None if data.get("source") is None else Source.from_json(data["source"]),
        )


def _attestation_table(raw: Any, filenames: set[str]) -> dict[str, dict[str, str]]:
    """filename -> {attestation file name: sha256}: only the manifest's own files, each with
    attestation files named ``<filename>.<kind>.attestation`` beside it in dist/."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError("attestations is not a table of tables")
    table = {str(k): {str(n): str(h) for n, h in v.items()} for k, v in raw.items()}
    for filename, found in table.items():
        if filename not in filenames:
            raise ValueError(
                f"attestations names {filename!r}, which is not a file of this manifest"
            )
        for name, sha in found.items():
            kind = name[len(filename) + 1 : -len(".attestation")]
            if (
                not name.startswith(filename + ".")
                or not name.endswith(".attestation")
                or not kind.isidentifier()
                or not _is_sha256(sha)
            ):
                raise ValueError(
                    f"attestations of {filename!r}: {name!r} is not a plain attestation file name"
                )
    return table


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _file_table(raw: Any, what: str, filenames: set[str]) -> dict[str, str]:
    """A filename -> sha256 table of the manifest, naming only the manifest's own files."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{what} is not a table")
    table = {str(k): str(v) for k, v in raw.items()}
    for filename, sha in table.items():
        if filename not in filenames or not _is_sha256(sha):
            raise ValueError(f"{what} names {filename!r}, which is not a file of this manifest")
    return table


def check_filename(filename: str, name: str, version: Version) -> None:
    """PURE. ``filename`` is a plain distribution filename of ``name`` ``version``: a basename
    (no separator, no ``..``, not absolute, no control character, no space) that packaging
    parses as a wheel or sdist of that project and version. Raises ValueError saying what is
    wrong."""
    if (
        not filename
        or "/" in filename
        or "\\" in filename
        or filename.startswith((".", "~"))  # "." and ".." too
        or any(ord(c) <= 32 or c in ':*?"<>|' for c in filename)  # controls, spaces
    ):
        raise ValueError(f"{filename!r} is not a plain file name inside dist/")
    try:
        if filename.endswith(".whl"):
            got_name, got_version, *_ = parse_wheel_filename(filename)
        elif filename.endswith(DIST_SUFFIXES):
            got_name, got_version = parse_sdist_filename(filename)
        else:
            raise ValueError(f"{filename!r} is not a distribution filename (.whl, .tar.gz)")
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion) as exc:
        raise ValueError(f"{filename!r} is not a valid distribution filename ({exc})") from None
    if got_name != canonicalize_name(name) or got_version != version:
        raise ValueError(f"{filename!r} is not a file of {name} {version}")


def kind_of(filename: str) -> Kind:
    return "wheel" if filename.endswith(".whl") else "sdist"

"""dist/ files + sha256: what was built is what is verified is what reaches PyPI.

``build`` writes ``dist/release-manifest.json``; every later step reads it and checks the files
against it before doing anything, so a file changed or added after the build is caught.
"""

from __future__ import annotations

__all__ = [
    "MANIFEST_NAME",
    "DistFile",
    "Manifest",
    "check_dist",
    "dist_candidates",
    "hash_file",
    "load_manifest",
    "write_manifest",
]

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .atomic import write_atomic
from .errors import DistError

MANIFEST_NAME = "release-manifest.json"
FORMAT = 1
CHUNK = 1 << 20  # stream files: hashing a 500 MB wheel never holds it in memory
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")

Kind = Literal["sdist", "wheel"]


@dataclasses.dataclass(frozen=True)
class DistFile:
    filename: str
    sha256: str
    size: int
    kind: Kind


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str  # the project's name as in its metadata
    version: str  # normalised PEP 440
    files: tuple[DistFile, ...]
    # filename -> sha256, for files verify_test_install installed and smoke-tested
    verified: Mapping[str, str] = dataclasses.field(default_factory=dict)
    verified_on: str = ""  # the test index they were verified from
    # filename -> {attestation file name: its sha256}: the PEP 740 attestations found beside
    # the file in dist/ and sent with it (release.attestations)
    attestations: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    def by_filename(self) -> dict[str, DistFile]:
        return {f.filename: f for f in self.files}

    def unverified(self) -> list[str]:
        return [f.filename for f in self.files if self.verified.get(f.filename) != f.sha256]

    def with_verified(self, files: Iterable[DistFile], index_url: str) -> Manifest:
        verified = dict(self.verified)
        for f in files:
            verified[f.filename] = f.sha256
        return dataclasses.replace(self, verified=verified, verified_on=index_url)

    def with_attestations(self, found: Mapping[str, Mapping[str, str]]) -> Manifest:
        attestations = {k: dict(v) for k, v in self.attestations.items()}
        attestations.update({k: dict(v) for k, v in found.items() if v})
        return dataclasses.replace(self, attestations=attestations)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "files": [dataclasses.asdict(f) for f in self.files],
            "verified": dict(self.verified),
            "verified_on": self.verified_on,
        } | ({"attestations": {k: dict(v) for k, v in self.attestations.items()}}
             if self.attestations else {})  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a nox-release manifest of format 1")
        files = tuple(
            DistFile(str(f["filename"]), str(f["sha256"]), int(f["size"]), f["kind"])
            for f in data["files"]
        )
        for f in files:
            if f.kind not in ("sdist", "wheel") or len(f.sha256) != 64:
                raise ValueError(f"bad entry for {f.filename}")
        Version(str(data["version"]))
        verified = data.get("verified") or {}
        if not isinstance(verified, dict):
            raise ValueError("verified is not a table")
        attestations = data.get("attestations") or {}
        if not isinstance(attestations, dict) or not all(
            isinstance(v, dict) for v in attestations.values()
        ):
            raise ValueError("attestations is not a table of tables")
        return cls(
            attestations={
                str(k): {str(n): str(s) for n, s in v.items()} for k, v in attestations.items()
            },
            name=str(data["name"]),
            version=str(data["version"]),
            files=files,
            verified={str(k): str(v) for k, v in verified.items()},
            verified_on=str(data.get("verified_on", "")),
        )


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def kind_of(filename: str) -> Kind:
    return "wheel" if filename.endswith(".whl") else "sdist"


def dist_candidates(dist_dir: Path) -> list[Path]:
    """Distribution files directly in ``dist_dir`` (not in sub-folders)."""
    if not dist_dir.is_dir():
        return []
    return sorted(p for p in dist_dir.iterdir() if p.is_file() and p.name.endswith(DIST_SUFFIXES))


def write_manifest(dist_dir: Path, manifest: Manifest) -> Path:
    """Write atomically: a crash never leaves half a manifest."""
    path = dist_dir / MANIFEST_NAME
    write_atomic(path, json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def load_manifest(dist_dir: Path) -> Manifest:
    path = dist_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DistError(
            f"No {MANIFEST_NAME} in {dist_dir}: nothing says which files were built.",
            "Run `nox -s build` first (in CI: pass the whole dist/ folder, manifest included, "
            "from the build job).",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DistError(f"{path} cannot be read: {exc}.", "Run `nox -s build` again.") from None
    try:
        return Manifest.from_json(data)
    except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
        raise DistError(
            f"{path} is not a valid manifest: {exc}.", "Run `nox -s build` again."
        ) from None


def check_dist(dist_dir: Path, manifest: Manifest) -> None:
    """Every manifest file is in dist/ with its recorded sha256, and nothing else is."""
    listed = manifest.by_filename()
    problems: list[str] = []
    for path in dist_candidates(dist_dir):
        if path.name not in listed:
            problems.append(f"{path.name}: in {dist_dir.name}/ but not in the manifest")
    for name, entry in listed.items():
        path = dist_dir / name
        if not path.is_file():
            problems.append(f"{name}: in the manifest but missing from {dist_dir.name}/")
            continue
        sha, size = hash_file(path)
        if sha != entry.sha256:
            problems.append(
                f"{name}: changed since build (sha256 {sha[:12]}… != {entry.sha256[:12]}…, "
                f"{size} bytes vs {entry.size})"
            )
    if problems:
        raise DistError(
            f"{dist_dir} does not match {MANIFEST_NAME}:\n  " + "\n  ".join(problems),
            "Remove the stray files, or run `nox -s build` again to rebuild and re-record them.",
        )

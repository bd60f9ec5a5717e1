"""dist/ on disk: the files hashed, the manifest read and written, the folder checked against it.

The manifest's data model is :mod:`release.manifest` (pure); this is its file I/O.
"""

from __future__ import annotations

__all__ = ["check_dist", "dist_candidates", "hash_file", "load_manifest", "write_manifest"]

import hashlib
import json
import os
from pathlib import Path

from packaging.version import InvalidVersion

from .atomic import write_atomic
from .errors import DistError
from .manifest import DIST_SUFFIXES, MANIFEST_NAME, Manifest
from .paths import read_capped

CHUNK = 1 << 20  # stream files: hashing a 500 MB wheel never holds it in memory


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
        data = json.loads(read_capped(path).decode("utf-8"))
    except FileNotFoundError:
        raise DistError(
            f"No {MANIFEST_NAME} in {dist_dir}: nothing says which files were built.",
            "Run `nox -s build` first (in CI: pass the whole dist/ folder, manifest included, "
            "from the build job).",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DistError(f"{path} cannot be read: {why}.", "Run `nox -s build` again.") from None
    except RecursionError:
        raise DistError(
            f"{path} nests too deeply to read: it is not a manifest nox-release wrote.",
            "Run `nox -s build` again (in CI: check what writes the artifact).",
        ) from None
    try:
        return Manifest.from_json(data)
    except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
        raise DistError(
            f"{path} is not a valid manifest: {exc}.", "Run `nox -s build` again."
        ) from None


def check_dist(dist_dir: Path, manifest: Manifest) -> None:
    """Every manifest file is in dist/, a regular file (not a link, which could point
    anywhere) with its recorded sha256 and size, and nothing else is."""
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
        if path.is_symlink():
            problems.append(
                f"{name}: a symbolic link (to {os.readlink(path)}); dist/ holds the files "
                "themselves"
            )
            continue
        sha, size = hash_file(path)
        if sha != entry.sha256 or size != entry.size:
            problems.append(
                f"{name}: changed since build (sha256 {sha[:12]}… != {entry.sha256[:12]}…, "
                f"{size} bytes vs {entry.size})"
            )
    if problems:
        raise DistError(
            f"{dist_dir} does not match {MANIFEST_NAME}:\n  " + "\n  ".join(problems),
            "Remove the stray files, or run `nox -s build` again to rebuild and re-record them.",
        )

"""The name and version a built file says it has: PKG-INFO of an sdist, METADATA of a wheel.

This is what an index and pip read, so it is the truth for projects whose pyproject.toml does
not name them (``setup.py`` or ``setup.cfg`` projects, a dynamic version). Parsed with
``packaging.metadata``; read straight from the archive, nothing is unpacked.
"""

from __future__ import annotations

__all__ = [
    "Identity",
    "built_info",
    "identity_of",
    "metadata_bytes",
    "name_from_backend",
    "resolved_info",
    "root_pkg_info_version",
    "same_identity",
]

import dataclasses
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.metadata import parse_email
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .distfacts import read_facts
from .errors import DistError
from .indexstate import parse_filename
from .project import ProjectInfo, declared_info, project_info


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str  # as the metadata spells it
    version: Version

    @property
    def canonical_name(self) -> NormalizedName:
        return canonicalize_name(self.name)


def metadata_bytes(path: Path) -> bytes:
    """The metadata file of a wheel or sdist (read by :mod:`release.distfacts`); DistError
    when there is none."""
    data = read_facts(path).metadata
    if data is None:
        where = "a .dist-info/METADATA" if path.name.endswith(".whl") else "a top-level PKG-INFO"
        raise DistError(
            f"{path.name} has no {where}: installers and indexes cannot read it.",
            "Build with a PEP 517 backend (python -m build) and check its output.",
        )
    return data


def identity_of(path: Path) -> Identity:
    raw, _unparsed = parse_email(metadata_bytes(path))
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        raise DistError(
            f"The metadata of {path.name} has no {'Name' if not name else 'Version'}.",
            "Check the build backend's configuration (name and version of the project).",
        )
    try:
        return Identity(name, Version(version))
    except InvalidVersion:
        raise DistError(
            f"The metadata of {path.name} has Version {version!r}, not a PEP 440 version.",
            "Fix the version in the project's configuration and build again.",
        ) from None


def same_identity(paths: Sequence[Path]) -> Identity:
    """The one name and version every file's metadata states; DistError when they differ."""
    found = {path.name: identity_of(path) for path in paths}
    keys = {(i.canonical_name, i.version) for i in found.values()}
    if len(keys) != 1:
        listing = ", ".join(f"{fn}: {i.name} {i.version}" for fn, i in sorted(found.items()))
        raise DistError(
            f"The built files' metadata disagree on the name or version ({listing}).",
            "Rebuild from a clean tree: remove what an earlier build left at the project's "
            "root, then build again.",
        )
    sdists = [i for fn, i in found.items() if not fn.endswith(".whl")]
    return (sdists or list(found.values()))[0]


_ASK_BACKEND = (
    "import sys\n"
    "from build.util import project_wheel_metadata\n"
    "print(project_wheel_metadata(sys.argv[1])['Name'])\n"
)


def name_from_backend(root: Path) -> str:
    """The project's name as its build backend states it (PEP 517 metadata hook, in an isolated
    build environment, without credentials), for a project whose pyproject.toml names none."""
    from .layout import build_env

    proc = subprocess.run(
        [sys.executable, "-c", _ASK_BACKEND, str(root)],
        cwd=root,
        env=build_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    name = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if proc.returncode != 0 or not name:
        tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise DistError(
            f"The build backend could not tell the project's name:\n    {tail}",
            "Check that `python -m build` builds the project, or add a [project] table with "
            "its name to pyproject.toml.",
        )
    return name


def built_info(files: list[Path], declared: ProjectInfo | None) -> ProjectInfo:
    """What the build made, as its metadata states it, checked against what pyproject.toml
    declares (when it declares anything): the project to release."""
    identity = same_identity([p for p in files if parse_filename(p.name) is not None])
    if declared is None:
        return ProjectInfo(identity.name, None)
    if identity.canonical_name != declared.canonical_name:
        raise DistError(
            f"The built metadata names the project {identity.name!r}, pyproject.toml "
            f"names {declared.name!r}.",
            "Make the build configuration (setup.py, setup.cfg) and pyproject.toml agree "
            "on the name.",
        )
    if declared.version is not None and identity.version != declared.version:
        raise DistError(
            f"The built metadata has version {identity.version}, pyproject.toml says "
            f"{declared.version}.",
            "Rebuild from a clean tree; check that the backend reads [project].version.",
        )
    return declared


def resolved_info(root: Path, pyproject: Mapping[str, Any], dist: Path) -> ProjectInfo:
    """The project before a build: what pyproject.toml declares, else the name of the build
    in ``dist/`` (its manifest), else the name the build backend states (setup.py projects)."""
    declared = declared_info(pyproject)
    if declared is not None:
        return declared
    from .distdir import load_manifest
    from .manifest import MANIFEST_NAME

    if (dist / MANIFEST_NAME).is_file():
        return ProjectInfo(load_manifest(dist).name, None)
    if not (root / "setup.py").is_file() and not (root / "setup.cfg").is_file():
        return project_info(pyproject)  # names nothing and has no setup files: the usage error
    return ProjectInfo(name_from_backend(root), None)


def root_pkg_info_version(root: Path) -> str:
    """The Version of a PKG-INFO at the project's root (an unpacked sdist's), "" without one."""
    try:
        raw, _unparsed = parse_email((root / "PKG-INFO").read_bytes())
    except OSError:
        return ""
    return str(raw.get("version") or "")

"""The host project's name, version, and the files a build produced."""

from __future__ import annotations

__all__ = [
    "BuildKind",
    "BuiltFiles",
    "ProjectInfo",
    "check_built_files",
    "declared_info",
    "project_info",
    "project_name",
]

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import ConfigError, DistError
from .indexstate import parse_filename


@dataclasses.dataclass(frozen=True)
class ProjectInfo:
    name: str  # as written in [project].name
    version: Version | None  # None when the version is dynamic (known after the build)

    @property
    def canonical_name(self) -> NormalizedName:
        return canonicalize_name(self.name)


def project_name(pyproject: Mapping[str, Any]) -> str | None:
    """The name in ``[project]`` (PEP 621), else in ``[tool.poetry]``; None when neither has one."""
    project = pyproject.get("project")
    if isinstance(project, Mapping) and isinstance(project.get("name"), str):
        return str(project["name"])
    poetry = pyproject.get("tool", {}).get("poetry", {})
    if isinstance(poetry, Mapping) and isinstance(poetry.get("name"), str):
        return str(poetry["name"])
    return None


def declared_info(pyproject: Mapping[str, Any]) -> ProjectInfo | None:
    """The name (and static version) pyproject.toml states; None when it names no project
    (a ``setup.py`` or ``setup.cfg`` project, or no pyproject.toml at all): then the built
    files' metadata says (:mod:`release.metadata`)."""
    if not isinstance(pyproject.get("project"), Mapping) and project_name(pyproject) is None:
        return None
    return project_info(pyproject)


def project_info(pyproject: Mapping[str, Any]) -> ProjectInfo:
    project = pyproject.get("project")
    if not isinstance(project, Mapping) or not isinstance(project.get("name"), str):
        name = project_name(pyproject)
        if name is not None:
            raw = pyproject["tool"]["poetry"].get("version")
            return ProjectInfo(name, _version(raw, "[tool.poetry].version") if raw else None)
        raise ConfigError(
            "pyproject.toml has no [project] table with a name.",
            'Add [project] with name = "your-project" (PEP 621); nox-release releases '
            "the project named there.",
        )
    name = project["name"]
    if "version" in project.get("dynamic", []):
        return ProjectInfo(name, None)
    raw = project.get("version")
    if raw is None:
        raise ConfigError(
            '[project] has neither a version nor dynamic = ["version"].',
            'Add version = "0.1.0" to [project], or list "version" in [project].dynamic.',
        )
    return ProjectInfo(name, _version(raw, "[project].version"))


def _version(raw: object, where: str) -> Version:
    try:
        return Version(str(raw))
    except InvalidVersion:
        raise ConfigError(
            f"{where} = {raw!r} is not a PEP 440 version.",
            'Use a version like "1.2.3", "1.2.3rc1" or "1.2.3.post1".',
        ) from None


BuildKind = Literal["both", "sdist", "wheel"]


@dataclasses.dataclass(frozen=True)
class BuiltFiles:
    version: Version
    sdist: Path | None  # None only for a wheel-only build (build --wheel)
    wheels: tuple[Path, ...]

    @property
    def paths(self) -> list[Path]:
        return [*([self.sdist] if self.sdist else []), *self.wheels]


def _count_problem(kind: BuildKind, sdists: int, wheels: int) -> str | None:
    if kind == "both" and (sdists != 1 or not wheels):
        return "a release is one sdist and at least one wheel"
    if kind == "sdist" and (sdists != 1 or wheels):
        return "build --sdist makes exactly one sdist"
    if kind == "wheel" and (sdists or not wheels):
        return "build --wheel takes wheels only, at least one"
    return None


def check_built_files(files: list[Path], info: ProjectInfo, kind: BuildKind = "both") -> BuiltFiles:
    """Exactly one sdist and at least one wheel (or just the ``kind`` asked for), all of this
    project and of one version."""
    sdists: list[Path] = []
    wheels: list[Path] = []
    versions: set[Version] = set()
    for path in files:
        parsed = parse_filename(path.name)
        if parsed is None:
            raise DistError(
                f"The build produced {path.name}, which is not a wheel or sdist name.",
                "Check the build backend's configuration.",
            )
        name, version = parsed
        if name != info.canonical_name:
            raise DistError(
                f"The build produced {path.name} for project {name!r}, but pyproject.toml "
                f"names {info.canonical_name!r}.",
                "Make the build backend's name match [project].name.",
            )
        versions.add(version)
        (wheels if path.name.endswith(".whl") else sdists).append(path)
    problem = _count_problem(kind, len(sdists), len(wheels))
    if problem:
        raise DistError(
            f"The build produced {len(sdists)} sdist(s) and {len(wheels)} wheel(s); {problem}.",
            "Check the build backend's output (for --from: the folder holds the wheels "
            "another tool built, and nothing else).",
        )
    if len(versions) != 1:
        raise DistError(
            f"The built files disagree on the version: {sorted(map(str, versions))}.",
            "Rebuild from a clean tree.",
        )
    version = versions.pop()
    if info.version is not None and version != info.version:
        raise DistError(
            f"The built files have version {version}, pyproject.toml says {info.version}.",
            "Rebuild from a clean tree; check that the backend reads [project].version.",
        )
    return BuiltFiles(version, sdists[0] if sdists else None, tuple(sorted(wheels)))

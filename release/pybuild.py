"""The build, as ``python -m build`` makes it, that also says which build requirements it used.

Run as a script in a child process (``python release/pybuild.py``), never imported by the
release process: it runs build backends, third-party code, and gets an environment without
credentials (release.childenv). It needs only the stdlib, ``build`` and ``packaging``, so it
has no imports from the release package.

Like ``python -m build``: the sdist first, then the wheel from the unpacked sdist, each in a
fresh isolated environment (``build.env.DefaultIsolatedEnv``, pip or uv); ``--sdist`` or
``--wheel`` alone build from the source folder. Unlike it, it records in ``--record FILE``
(JSON) the backend and the version of every distribution installed in the isolated
environments, and ``--constraints FILE`` pins them (for ``reproduce``: the same versions as
the release build). Hand-written around build's public API because ``python -m build`` reports
neither; its own ``build_package_via_sdist`` is not API.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import build
import build.env
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

Kind = Literal["sdist", "wheel"]


def _installed(env: Path) -> dict[str, str]:
    """name -> version of every distribution in the isolated environment at ``env``, read from
    its site-packages here (importlib.metadata; no interpreter of its own started: that was a
    tenth to a third of a second per environment, twice per build) (pip is the installer, not a
    build requirement, and is left out)."""
    places = sorted(
        {
            p.resolve()
            for p in (*env.glob("lib*/*/site-packages"), env / "Lib" / "site-packages")
            if p.is_dir()
        }
    )
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=[str(p) for p in places]):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist.version)
    return {name: version for name, version in found.items() if name != "pip"}


def _here(requirements: Iterable[str]) -> dict[str, str]:
    """Without isolation: the versions of the named requirements in this environment."""
    found: dict[str, str] = {}
    for text in requirements:
        try:
            name = canonicalize_name(Requirement(text).name)
        except InvalidRequirement:
            continue
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _build_one(
    srcdir: Path, kind: Kind, outdir: Path, installer: str | None, used: dict[str, str]
) -> Path:
    if installer is None:  # --no-isolation: the requirements of this environment
        builder = build.ProjectBuilder(srcdir)
        requires = builder.build_system_requires | builder.get_requires_for_build(kind)
        used.update(_here(requires))
        return Path(builder.build(kind, outdir))
    with build.env.DefaultIsolatedEnv(installer="uv" if installer == "uv" else "pip") as env:
        builder = build.ProjectBuilder.from_isolated_env(env, srcdir)
        env.install(builder.build_system_requires)
        env.install(builder.get_requires_for_build(kind))
        used.update(_installed(Path(env.path)))
        return Path(builder.build(kind, outdir))


def _unpack(sdist: Path, into: Path) -> Path:
    """The sdist's top folder, unpacked with the stdlib's safe filter (no links out, no
    absolute paths)."""
    with tarfile.open(sdist) as tf:
        tf.extractall(into, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def _backend(srcdir: Path) -> str:
    """[build-system] build-backend, or the one build uses without it (PEP 517)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - build depends on tomli on 3.10
        import tomli as tomllib
    try:
        with (srcdir / "pyproject.toml").open("rb") as f:
            table = tomllib.load(f).get("build-system", {})
    except (OSError, ValueError):
        table = {}
    return str(table.get("build-backend") or "setuptools.build_meta:__legacy__")


def build_all(
    srcdir: Path, outdir: Path, kinds: tuple[Kind, ...], installer: str | None
) -> dict[str, object]:
    used: dict[str, str] = {}
    backend = _backend(srcdir)
    if kinds == ("sdist", "wheel"):
        sdist = _build_one(srcdir, "sdist", outdir, installer, used)
        with tempfile.TemporaryDirectory(prefix="nox-release-sdist-") as tmp:
            _build_one(_unpack(sdist, Path(tmp)), "wheel", outdir, installer, used)
    else:
        for kind in kinds:
            _build_one(srcdir, kind, outdir, installer, used)
    return {
        "backend": backend,
        "requirements": dict(sorted(used.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pybuild")
    parser.add_argument("srcdir", type=Path)
    parser.add_argument("--outdir", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--kind", choices=("both", "sdist", "wheel"), default="both")
    parser.add_argument("--installer", choices=("pip", "uv", "none"), default="pip")
    parser.add_argument("--constraints", type=Path)
    args = parser.parse_args(argv)
    if args.constraints is not None:  # read by the installers of the isolated environments
        os.environ["PIP_CONSTRAINT"] = os.environ["UV_CONSTRAINT"] = str(args.constraints)
    kinds: tuple[Kind, ...] = ("sdist", "wheel") if args.kind == "both" else (args.kind,)
    try:
        result = build_all(
            args.srcdir, args.outdir, kinds, None if args.installer == "none" else args.installer
        )
    except (build.BuildException, build.BuildBackendException) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    args.record.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m release gather DIR...``: many runners' build folders -> dist/ + one manifest.

Thin I/O around two pure modules: :mod:`release.merge` decides whether the folders make one
release, :mod:`release.matrix` whether it is complete (``expected-wheels``). Nothing in dist/
changes unless both agree; then dist/ holds exactly the gathered files (earlier ones are moved
to ``dist/.previous/``), so a re-run with the same folders gives the very same bytes.
"""

from __future__ import annotations

__all__ = ["configure", "gather", "run"]

import argparse
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ..config import Settings, load_settings
from ..distdir import dist_candidates, hash_file, load_manifest, write_manifest
from ..errors import ConfigError, DistError, ReleaseError
from ..manifest import MANIFEST_NAME, Manifest
from ..matrix import check_expected, matrix_table, suggested_patterns
from ..merge import Merged, Part, Problem, merge
from ..output import Reporter
from ..project import declared_info
from ..pypi_rules import wheel_platform_findings


def _shown(folder: Path, root: Path) -> str:
    """The folder as messages name it: relative to the project when inside it."""
    try:
        return folder.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder)


def _read_part(folder: Path, shown: str) -> Part:
    if not folder.is_dir():
        raise ConfigError(
            f"{shown}: no such folder.",
            "Name the folders the build jobs' artifacts were downloaded to.",
        )
    try:
        manifest = load_manifest(folder)
    except DistError as exc:
        raise DistError(
            f"{shown}: {exc.message}",
            f"Each folder must be one build's output with its {MANIFEST_NAME}: upload the "
            "whole output folder as the artifact (nox -s build -- --sdist / --wheel).",
        ) from None
    actual = {p.name: hash_file(p) for p in dist_candidates(folder)}
    return Part(shown, manifest, actual)


def _platform_problem(filename: str) -> Problem | None:
    """PyPI's platform-tag rule (any index: a wheel PyPI refuses has no place in a release
    that is rehearsed before it goes to PyPI)."""
    findings = wheel_platform_findings(filename)
    if not findings:
        return None
    return Problem("; ".join(f.message for f in findings), findings[0].fix)


def _refuse(merged: Merged) -> DistError:
    fixes = list(dict.fromkeys(p.fix for p in merged.problems))
    return DistError(
        "gather refused; nothing in dist/ was changed:\n  - "
        + "\n  - ".join(p.what for p in merged.problems),
        " ".join(fixes),
    )


def _check_matrix(
    settings: Settings, manifest: Manifest, allow_missing: Sequence[str], out: Reporter
) -> tuple[str, ...]:
    """Refuse an incomplete matrix; returns the expected patterns allowed to be missing."""
    wheels = [f.filename for f in manifest.files if f.kind == "wheel"]
    patterns = list(settings.get("expected-wheels"))
    table = matrix_table(wheels)
    out.document["matrix"] = {"wheels": wheels, "suggested": suggested_patterns(wheels)}
    if not patterns:
        out.line(f"the matrix found ({len(wheels)} wheel(s); python x platform):", "info")
        for row in table.splitlines():
            out.line(f"    {row}")
        out.line("to require exactly these from now on, add to [tool.release]:", "info")
        out.line("    expected-wheels = [")
        for pattern in suggested_patterns(wheels):
            out.line(f'        "{pattern}",')
        out.line("    ]")
        return ()
    result = check_expected(patterns, wheels, allow_missing)
    out.document["matrix"] |= {
        "missing": list(result.missing),
        "allowed_missing": list(result.allowed),
        "unexpected": list(result.unexpected),
    }
    for pattern in result.allowed:
        out.warn(f"no wheel for {pattern}: allowed by --allow-missing")
    for pattern in result.unused_allowances:
        out.warn(f"--allow-missing {pattern} excused nothing (every expected wheel is there)")
    for wheel in result.unexpected:
        out.line(f"{wheel}: matches no expected-wheels pattern (gathered anyway)", "info")
    if not result.complete:
        raise DistError(
            f"The release is incomplete: no wheel matches {len(result.missing)} expected "
            "pattern(s):\n  - "
            + "\n  - ".join(result.missing)
            + "\n  The matrix found (python x platform):\n    "
            + "\n    ".join(table.splitlines()),
            "Wait for (or re-run) the build jobs that make them and gather all their folders; "
            "to release without them on purpose, pass --allow-missing PATTERN for each.",
        )
    if result.allowed:
        out.ok(f"complete but for {len(result.allowed)} pattern(s) allowed to be missing")
    else:
        out.ok(f"complete: every one of {len(patterns)} expected-wheels pattern(s) has a wheel")
    return result.allowed


def _place(folders: dict[str, Path], merged: Merged, manifest: Manifest, dist: Path) -> list[str]:
    """dist/ := exactly the gathered files; returns the earlier files moved aside."""
    dist.mkdir(parents=True, exist_ok=True)
    wanted = manifest.by_filename()
    moved = []
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    for path in dist_candidates(dist):
        entry = wanted.get(path.name)
        if entry is not None and hash_file(path)[0] == entry.sha256:
            continue
        keep = dist / ".previous" / stamp
        keep.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), keep / path.name)
        moved.append(path.name)
    for name, entry in wanted.items():
        target = dist / name
        if target.is_file():
            continue  # kept above: the very same bytes
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=dist)
        os.close(fd)
        try:
            shutil.copyfile(folders[merged.sources[name]] / name, tmp)
            os.chmod(tmp, 0o644)  # as a build leaves it (mkstemp makes 0o600)
            if hash_file(Path(tmp))[0] != entry.sha256:
                raise DistError(
                    f"{name} changed while it was copied into {dist.name}/.",
                    "Run gather again once nothing writes to the build folders.",
                )
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return moved


def _keep_verified(dist: Path, manifest: Manifest) -> Manifest:
    """A re-run keeps what verify_test_install recorded for files with the same bytes."""
    try:
        earlier = load_manifest(dist)
    except ReleaseError:
        return manifest
    ours = {f.filename: f.sha256 for f in manifest.files}
    kept = [f for f in earlier.files if ours.get(f.filename) == earlier.verified.get(f.filename)]
    listed = [
        f for f in earlier.files if ours.get(f.filename) == earlier.listed_on_test.get(f.filename)
    ]
    if not kept and not listed:
        return manifest
    return manifest.with_verified(kept, earlier.verified_on, listed=listed)


def gather(
    settings: Settings,
    folders: Sequence[Path],
    out: Reporter,
    *,
    allow_missing: Sequence[str] = (),
    no_sdist: bool = False,
    rehearsal: bool = False,
) -> Manifest:
    """``folders`` merged into one release in dist/. ``rehearsal``: folders the rehearsal
    made itself (the sdist built here, the wheels of --wheels): the matrix of one machine is
    not shown as the one to expect, and the temporary folders are not named."""
    dist = settings.dist_dir
    out.heading(f"gather: {len(folders)} folder(s) into {dist.name}/")
    shown: dict[str, Path] = {}
    for folder in folders:
        resolved = folder.resolve()
        if resolved == dist.resolve():
            raise ConfigError(
                f"{folder} is {dist.name}/ itself, where gather writes.",
                f"Download the build artifacts to other folders (e.g. artifacts/*), then "
                f"gather them into {dist.name}/.",
            )
        shown.setdefault(_shown(resolved, settings.root), resolved)
    parts = [_read_part(path, name) for name, path in shown.items()]
    info = declared_info(dict(settings.pyproject))  # None: a setup.py project
    merged = merge(
        parts,
        expected_version=info.version if info is not None else None,
        wheel_problem=_platform_problem,
        allow_no_sdist=no_sdist,
    )
    for note in merged.notes:
        out.line(note, "info")
    if merged.manifest is None:
        raise _refuse(merged)
    manifest = merged.manifest
    if info is not None and manifest.canonical_name != info.canonical_name:
        raise DistError(
            f"The folders hold {manifest.name}, but pyproject.toml names {info.name}.",
            "Run gather in the project that built them.",
        )
    allowed = () if rehearsal else _check_matrix(settings, manifest, allow_missing, out)
    manifest = dataclasses.replace(manifest, allowed_missing=allowed)
    moved = _place(shown, merged, manifest, dist)
    if moved:
        out.warn(
            f"moved {len(moved)} earlier file(s) to {dist.name}/.previous/: {', '.join(moved)}"
        )
    manifest = _keep_verified(dist, manifest)
    write_manifest(dist, manifest)
    for f in manifest.files:
        source = "" if rehearsal else f", from {merged.sources[f.filename]}"
        out.file(f.filename, f"sha256 {f.sha256[:12]}…{source}", "ok")
    out.document["gather"] = manifest.to_json()
    out.add_summary(
        f"gathered {manifest.name} {manifest.version}: {len(manifest.files)} file(s) from "
        f"{len(parts)} folder(s) into {dist.name}/"
    )
    return manifest


def configure(_command: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folders", nargs="+", type=Path, metavar="DIR", help="build outputs, one per runner"
    )
    parser.add_argument(
        "--allow-missing",
        action="append",
        default=[],
        metavar="PATTERN",
        help="release without the wheels of an expected-wheels pattern (repeatable)",
    )
    parser.add_argument(
        "--no-sdist", action="store_true", help="a release of wheels only (no folder has an sdist)"
    )


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    gather(
        load_settings(args.root, environ),
        [p if p.is_absolute() else args.root / p for p in args.folders],  # like --root
        out,
        allow_missing=args.allow_missing,
        no_sdist=args.no_sdist,
    )
    return 0

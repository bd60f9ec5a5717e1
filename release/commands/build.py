"""``python -m release build``: sdist + wheel (or one of them, or wheels another tool built)
into dist/, checked against PyPI's rules, hashed and recorded in the manifest."""

from __future__ import annotations

__all__ = ["build", "configure", "run", "source_date_epoch"]

import argparse
import shutil
import tempfile
import time
import zipfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from .. import attestations
from ..backendadvice import Leftovers, disagreement_fix, leftovers
from ..buildrun import installer, run_build
from ..config import Settings
from ..distdir import dist_candidates, hash_file, write_manifest
from ..distfacts import stale_versions
from ..errors import (
    ConfigError,
    DistError,
    ExitCode,
    IndexRulesRefusal,
)
from ..gitstate import Checkout, project_checkout, tracked
from ..manifest import MANIFEST_NAME, DistFile, Manifest, Source, kind_of
from ..metadata import built_info
from ..output import Reporter
from ..project import BuildKind, ProjectInfo, check_built_files, declared_info
from ..runner import detect_runner
from .checks import check_rules, explain_vcs_version, rules_passed, warn_code_beside_credentials
from .context import Context, check_writable, from_args


def build(
    ctx: Context,
    kind: BuildKind = "both",
    from_dir: Path | None = None,
    *,
    gathered_here: bool = False,
) -> Manifest:
    """sdist + wheel (or one ``kind``) into dist/, checked, hashed and recorded in the
    manifest, which names the runner; ``from_dir``: record wheels another tool built.
    ``gathered_here``: one share of a release this run gathers itself (the rehearsal with
    --wheels): no advice to gather it, no runner line, no temporary folder named."""
    settings, out = ctx.settings, ctx.reporter
    declared = declared_info(dict(settings.pyproject))
    dist = settings.dist_dir
    what = {"both": "sdist + wheel", "sdist": "sdist", "wheel": "wheel"}[kind]
    out.heading(f"build: {_what_is_built(settings, declared)} ({what})")
    warn_build_beside_credentials(ctx.environ, out, from_dir)
    stale = dist_candidates(dist) + attestations.all_attestations(dist)  # theirs go with them
    if ctx.dry_run:
        source = f"the wheels in {from_dir}" if from_dir else f"{what} of {settings.root}"
        out.line(f"would record {source} into {dist}")
        if stale:
            out.line(
                f"would move {len(stale)} earlier file(s) out of the way: "
                + ", ".join(p.name for p in stale)
            )
        name = declared.name if declared else settings.root.name
        return Manifest(name, str((declared and declared.version) or "0"), ())
    check_writable(dist)
    started = time.monotonic()
    with out.timed("build"), tempfile.TemporaryDirectory(prefix="nox-release-build-") as tmp:
        outdir = Path(tmp)
        made_from: Source | None = None
        if from_dir is not None:
            _copy_built_elsewhere(from_dir, outdir)
        else:
            _warn_leftovers(settings.root, out)
            with out.running(f"building {what}"):
                made_from = _run_build(ctx, outdir, kind)
        info = _built_info(outdir, declared, settings.root)
        built = check_built_files(sorted(outdir.iterdir()), info, kind)
        explanation = explain_vcs_version(settings, built.version, out)
        for wheel in built.wheels:
            _refuse_vendored_release_package(wheel, info.canonical_name)
            _warn_stale_versions(out, wheel, str(built.version))
        try:
            check_rules(ctx, built.paths, complete=kind == "both")
        except IndexRulesRefusal as exc:
            if explanation is None:
                raise
            # a local version made from git: the fix is a commit and a tag
            raise IndexRulesRefusal(
                f"{exc.message}\n  - {explanation.why}", explanation.fix
            ) from None
        dist.mkdir(parents=True, exist_ok=True)
        if stale:
            keep = dist / ".previous" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            keep.mkdir(parents=True, exist_ok=True)
            for path in stale:
                shutil.move(str(path), keep / path.name)
            out.warn(
                f"moved {len(stale)} earlier file(s) to {keep.relative_to(settings.root)}"
                " so they cannot be uploaded by mistake"
            )
        runner = detect_runner(ctx.environ)
        files = []
        for path in built.paths:
            target = dist / path.name
            shutil.move(str(path), target)
            sha, size = hash_file(target)
            files.append(DistFile(path.name, sha, size, kind_of(path.name), runner.id))
            out.file(path.name, f"sha256 {sha[:12]}…, {size:,} bytes", "ok")
    manifest = Manifest(
        info.name,
        str(built.version),
        tuple(files),
        runners={runner.id: runner},
        partial=kind != "both",
        source=made_from,
    )
    write_manifest(dist, manifest)
    out.document["build"] = manifest.to_json()
    _say_recorded(ctx, kind, runner.id, time.monotonic() - started, gathered_here)
    out.add_summary(f"built {info.name} {built.version}: " + ", ".join(f.filename for f in files))
    return manifest


def _say_recorded(
    ctx: Context, kind: BuildKind, runner: str, seconds: float, gathered_here: bool
) -> None:
    out, took = ctx.reporter, f"({seconds:.1f}s)"
    if gathered_here:  # the run gathers it next: where it went and who built it is noise
        out.ok(f"{rules_passed(ctx.settings)} {took}")
        return
    share = (
        " (a partial manifest: gather it with the other runners' folders)" if kind != "both" else ""
    )
    name = ctx.settings.dist_dir.name
    out.ok(f"{rules_passed(ctx.settings)}; wrote {name}/{MANIFEST_NAME}{share} {took}")
    out.line(f"runner: {runner}", "info")


def source_date_epoch(environ: Mapping[str, str], head: Checkout | None) -> int | None:
    """The SOURCE_DATE_EPOCH a build uses: the caller's, else the commit's time (or none)."""
    given = environ.get("SOURCE_DATE_EPOCH", "")
    return int(given) if given.isdigit() else head.committed if head else None


def _run_build(ctx: Context, outdir: Path, kind: BuildKind) -> Source:
    """Build from the project's folder with SOURCE_DATE_EPOCH set to the commit's time (unless
    the caller set it), and say where the files came from (release/docs/reproduce.md)."""
    settings = ctx.settings
    head = project_checkout(settings.root, settings.dist_dir)
    epoch = source_date_epoch(ctx.environ, head)
    using = installer(str(settings.get("build-installer")), bool(settings.get("build-isolation")))
    record = run_build(settings.root, outdir, kind, using=using, environ=ctx.environ, epoch=epoch)
    if head is not None and head.dirty:
        shown = ", ".join(head.dirty[:3]) + (", ..." if len(head.dirty) > 3 else "")
        ctx.reporter.line(
            f"built from a tree with changes not committed ({shown}): `reproduce` cannot "
            "rebuild it",
            "info",
        )
    return Source(
        head.commit if head else "",
        head is not None and head.clean,
        epoch,
        record.backend,
        record.requirements,
    )


def _copy_built_elsewhere(from_dir: Path, outdir: Path) -> None:
    """The wheels another tool (cibuildwheel) left in ``from_dir``, copied for checking."""
    if not from_dir.is_dir():
        raise DistError(
            f"--from {from_dir}: no such folder.",
            "Point --from at the folder cibuildwheel (or another tool) wrote the wheels to, "
            "e.g. --from wheelhouse/.",
        )
    found = dist_candidates(from_dir)
    if not found:
        raise DistError(
            f"--from {from_dir}: the folder holds no wheel.",
            "Build the wheels first (cibuildwheel --output-dir wheelhouse), then record them.",
        )
    for path in found:
        shutil.copyfile(path, outdir / path.name)


def _leftovers(root: Path) -> Leftovers | None:
    names = [p.name for p in root.iterdir()] if root.is_dir() else []
    return leftovers(names, tracked(root, "PKG-INFO"))


def _built_info(outdir: Path, declared: ProjectInfo | None, root: Path) -> ProjectInfo:
    """What the build made; when its files disagree, the fix names what is at the root (a
    PKG-INFO of an unpacked sdist, an earlier build's leftovers), never what is not there."""
    try:
        return built_info(sorted(outdir.iterdir()), declared)
    except DistError as exc:
        if not exc.message.startswith("The built files' metadata disagree"):
            raise
        leftover = _leftovers(root)
        if leftover is not None:
            raise DistError(f"{exc.message}\n{leftover.problem}.", leftover.fix + ".") from None
        names = [p.name for p in root.iterdir()]
        raise DistError(exc.message, disagreement_fix(names)) from None


def _warn_leftovers(root: Path, out: Reporter) -> None:
    """A PKG-INFO at the root (an unpacked sdist's) makes backends reuse its stale metadata."""
    found = _leftovers(root)
    if found is not None:
        out.warn(f"{found.problem}. Fix: {found.fix}.")


def warn_build_beside_credentials(
    environ: Mapping[str, str], out: Reporter, from_dir: Path | None = None
) -> None:
    """Build code is about to run in a job that holds a credential: say so, loudly
    (:func:`release.commands.checks.warn_code_beside_credentials`)."""
    if from_dir is not None:  # --from: another tool built, no build code runs here
        return
    warn_code_beside_credentials(environ, out, "Build code (the build backend, setup.py)")


def _what_is_built(settings: Settings, declared: ProjectInfo | None) -> str:
    if declared is None:
        return f"{settings.root.name} (name and version from the built metadata)"
    return f"{declared.name} {declared.version or '(dynamic version)'}"


def _warn_stale_versions(out: Reporter, wheel: Path, version: str) -> None:
    """A ``__version__`` in the wheel that is not the release's version: said, with the fix."""
    for member, found in stale_versions(wheel, version):
        out.warn(
            f"{member} in {wheel.name} says __version__ = {found!r}, but this release is "
            f"{version}: the package would report a wrong version. Add its source file to "
            "version-files in [tool.release] so that bump_version rewrites it, or read the "
            "version with importlib.metadata.version()."
        )
        out.document.setdefault("stale_versions", {})[member] = found


def _refuse_vendored_release_package(wheel: Path, project: str) -> None:
    """A project that copied release/ must not ship it inside its own wheel (a flat layout
    with automatic package discovery picks it up)."""
    if project == "nox-release":
        return
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    if {"release/guard.py", "release/sessions.py"} <= names:
        raise DistError(
            f"{wheel.name} contains nox-release's own release/ package: your users would "
            "install it with your project.",
            "Exclude it from your build: e.g. for setuptools [tool.setuptools.packages.find] "
            'exclude = ["release*"]; for hatchling exclude = ["/release"]; '
            'for pdm-backend excludes = ["release"]. Then build again.',
        )


def configure(_command: str, parser: argparse.ArgumentParser) -> None:
    """build's own options (--json and --dry-run are declared in release.cli)."""
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--sdist", action="store_true", help="build the sdist only")
    kind.add_argument("--wheel", action="store_true", help="build the wheel(s) only")
    parser.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        metavar="DIR",
        help="with --wheel: record the wheels another tool (cibuildwheel) built in DIR",
    )


def _build_kind(args: argparse.Namespace) -> BuildKind:
    if args.from_dir is not None and not args.wheel:
        raise ConfigError(
            "--from records wheels built by another tool, and needs --wheel.",
            "Run: python -m release build --wheel --from wheelhouse/",
        )
    return "sdist" if args.sdist else "wheel" if args.wheel else "both"


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    build(from_args(args, environ, out), _build_kind(args), args.from_dir)
    return int(ExitCode.OK)

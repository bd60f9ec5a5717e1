"""``python -m release release``: build -> upload test -> verify -> upload prod, stopping at
the first failure; resumes with dist/ when the test index already holds this very build."""

from __future__ import annotations

__all__ = ["configure", "release", "run"]

import argparse
import dataclasses

from ..config import INDEX_NAMES, IndexSettings
from ..endpoints import strip_credentials
from ..errors import (
    ExitCode,
    ReleaseError,
)
from ..manifest import (
    MANIFEST_NAME,
)
from ..metadata import resolved_info
from ..output import Reporter
from ..project import declared_info
from .build import build
from .checks import dry_run_credential, refuse_early
from .context import Context, from_args, load_checked
from .upload import add_require_verified_flag, upload
from .verify import verify


def release(ctx: Context) -> int:
    """build -> upload test -> verify -> upload prod, stopping at the first failure."""
    if ctx.dry_run:
        return _dry_run_release(ctx)
    if not _resumable(ctx):
        refuse_early(ctx, build(ctx))
    upload(ctx, "test")
    verify(ctx)
    upload(ctx, "prod")
    return int(ExitCode.OK)


def _dry_run_release(ctx: Context) -> int:
    """Every step says what it would do; the exit status is the one a real run would end
    with as far as can be known without changing anything (index reachable, plan accepted,
    a credential there)."""
    out = ctx.reporter
    out.line("dry run: every step says what it would do; nothing is changed")
    build(ctx)
    worst = ExitCode.OK
    have_dist = (ctx.settings.dist_dir / MANIFEST_NAME).is_file()
    if have_dist:
        out.line("plans for the files already in dist/ (from an earlier build):")
    # a real release verifies the files before it uploads them to prod
    planning = dataclasses.replace(ctx, require_verified=False)
    for name in INDEX_NAMES:
        try:
            if have_dist:
                upload(planning, name)
            else:
                _dry_run_index(ctx, ctx.settings.index(name))
        except ReleaseError as exc:
            out.fail(f"{exc.message}\n  Fix: {exc.fix}")
            if exc.exit_code > worst:
                out.failure = (exc.message, exc.fix)  # the --json document's error
            worst = max(worst, exc.exit_code)
    if worst:
        out.add_summary(f"dry run: a real run would fail (exit {int(worst)}): see above")
    return int(worst)


def _dry_run_index(ctx: Context, index: IndexSettings) -> None:
    """Without a build in dist/: can the index be read, and is there a credential?"""
    settings = ctx.settings
    info = resolved_info(settings.root, settings.pyproject, settings.dist_dir)
    ctx.reporter.heading(f"upload_{index.name}: {strip_credentials(index.upload_url)}")
    state = ctx.read(index, info.name)
    ctx.reporter.ok(
        f"the {index.name} index answers ({len(state.versions)} version(s) of {info.name} there)"
    )
    dry_run_credential(ctx, index, info.name)


def _resumable(ctx: Context) -> bool:
    """Reuse dist/ instead of rebuilding when an earlier run already sent this build to the
    test index: a rebuild has other bytes (timestamps), which the guard would rightly refuse,
    so resuming an interrupted release needs the very same files."""
    dist = ctx.settings.dist_dir
    if not (dist / MANIFEST_NAME).is_file():
        return False
    try:
        manifest = load_checked(ctx)
    except ReleaseError:
        return False
    info = declared_info(dict(ctx.settings.pyproject))
    if info is not None and info.version is not None and info.version != manifest.parsed_version:
        return False
    state = ctx.read(ctx.settings.index("test"), manifest.name)
    ours = {f.filename: f.sha256 for f in manifest.files}
    remote = state.files_for(manifest.parsed_version)
    if remote and all(ours.get(f.filename) == f.sha256 for f in remote):
        ctx.reporter.heading("build: skipped")
        ctx.reporter.ok(
            f"the test index already holds {len(remote)} file(s) of this very build of "
            f"{manifest.name} {manifest.version}; resuming with dist/ as built earlier"
        )
        return True
    return False


def configure(_command: str, parser: argparse.ArgumentParser) -> None:
    """release's own options (--json and --dry-run are declared in release.cli)."""
    add_require_verified_flag(parser)


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    return release(from_args(args, environ, out))

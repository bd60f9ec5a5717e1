"""``python -m release release``: build -> upload test -> verify -> upload prod, stopping at
the first failure; resumes with dist/ when the test index already holds this very build."""

from __future__ import annotations

__all__ = ["configure", "release", "run"]

import argparse
from collections.abc import Callable
from typing import TypeVar

from packaging.utils import canonicalize_name

from .. import guard
from ..config import IndexName, IndexSettings
from ..endpoints import strip_credentials
from ..errors import (
    ExitCode,
    GuardRefusal,
    ReleaseError,
)
from ..indexstate import IndexState, Keep
from ..manifest import (
    MANIFEST_NAME,
    Manifest,
)
from ..metadata import resolved_info
from ..output import Reporter
from ..project import declared_info
from .build import build
from .checks import dry_run_credential, guard_rules, plan_for, print_plan, refuse_early
from .context import Context, from_args, load_checked
from .reproduce import beside_build, dry_gate, gate
from .upload import add_require_verified_flag, upload
from .verify import prepare_verify, verify

T = TypeVar("T")


def release(ctx: Context) -> int:
    """build -> upload test -> verify -> upload prod, stopping at the first failure."""
    if ctx.dry_run:
        return _dry_run_release(ctx)
    # verify's environments are made in the background meanwhile (build, upload, proof)
    with prepare_verify(ctx) as prepared:
        if not _resumable(ctx):
            # reproducible = check|require: the commit is rebuilt beside the build and
            # compared after it, before any upload
            with beside_build(ctx) as beside:
                refuse_early(ctx, build(ctx))
                gate(ctx, beside)
        upload(ctx, "test")
        verify(ctx, prepared)
    upload(ctx, "prod")
    return int(ExitCode.OK)


# What a real run meets first, step by step: (step, the error it would end with).
_Failures = list[tuple[str, ReleaseError]]


def _dry_run_release(ctx: Context) -> int:
    """Every step a real run would take, in its order, with its predicted fate: the build (or
    the resume with dist/), each upload's plan and credential, verify. Every credential is
    checked, also when an index cannot be read; the exit status is the one the real run would
    end with: its first failure's."""
    out = ctx.reporter
    out.line(
        "dry run: the steps a real release would take, and how each would end; nothing is changed"
    )
    failures: _Failures = []
    manifest = _attempt(out, failures, "build", lambda: _dry_resume(ctx))
    if manifest is None and not failures:  # a real run builds
        _attempt(out, failures, "build", lambda: _dry_prod_rules(ctx, build(ctx)))
        _attempt(out, failures, "reproducible", lambda: dry_gate(ctx))
    _dry_upload(ctx, "test", manifest, failures)
    _attempt(out, failures, "verify_test_install", lambda: _dry_verify(ctx, manifest))
    _dry_upload(ctx, "prod", manifest, failures)
    return _dry_verdict(out, failures)


def _attempt(out: Reporter, failures: _Failures, step: str, action: Callable[[], T]) -> T | None:
    """``action()``; a ReleaseError is shown and recorded for ``step`` instead of raised."""
    try:
        return action()
    except ReleaseError as exc:
        out.fail(f"{exc.message}\n  Fix: {exc.fix}" if exc.fix else exc.message)
        failures.append((step, exc))
        return None


def _dry_verdict(out: Reporter, failures: _Failures) -> int:
    if not failures:
        out.add_summary(
            "dry run: a real run would take every step: build, upload_test, "
            "verify_test_install, upload_prod"
        )
        return int(ExitCode.OK)
    step, first = failures[0]
    out.failure = (first.message, first.fix)  # the --json document's error
    out.add_summary(
        f"dry run: a real run would stop at {step} (exit {int(first.exit_code)}): "
        + _headline(first)
    )
    seen = {first.message}
    for later_step, exc in failures[1:]:
        if exc.message in seen:  # the same index, unreadable at two steps
            continue
        seen.add(exc.message)
        out.add_summary(f"  also: {later_step} (exit {int(exc.exit_code)}): {_headline(exc)}")
    return int(first.exit_code)


def _headline(exc: ReleaseError) -> str:
    """The first line of a message, without the colon that introduces a list."""
    return exc.message.splitlines()[0].rstrip().rstrip(":").rstrip(".") + "."


def _dry_resume(ctx: Context) -> Manifest | None:
    """The manifest a real run would resume with (the test index holds this very build),
    else None: a real run builds."""
    try:
        if not _resumable(ctx):
            return None
    except ReleaseError:
        ctx.reporter.heading("build: not reached (a real run reads the test index first)")
        raise
    return load_checked(ctx)


def _dry_prod_rules(ctx: Context, built: Manifest) -> None:
    """The version a build would make, against the prod index's rules (a real run checks them
    right after the build, before anything is uploaded)."""
    if not built.version or built.version == "0":
        return
    index = ctx.settings.index("prod")
    empty = IndexState(index.index_url, canonicalize_name(built.name), False, ())
    plan = guard.decide(built, empty, guard_rules(ctx, index, built))
    if plan.verdict is guard.Verdict.REFUSED:
        raise GuardRefusal(
            f"The prod index would refuse {built.name} {built.version}, so a real run would "
            "upload nothing anywhere:\n  - " + "\n  - ".join(plan.reasons),
            plan.fix or "Release a version the prod index accepts.",
        )


def _dry_upload(
    ctx: Context, name: IndexName, manifest: Manifest | None, failures: _Failures
) -> None:
    """The upload step: the index read and the plan, then (whatever they say) the credential."""
    index = ctx.settings.index(name)
    step = f"upload_{name}"
    ctx.reporter.heading(f"{step}: {strip_credentials(index.upload_url)}")
    project = _attempt(ctx.reporter, failures, step, lambda: _dry_plan(ctx, index, manifest))
    if project is None:
        project = manifest.name if manifest else _project_name(ctx)
    _attempt(ctx.reporter, failures, step, lambda: dry_run_credential(ctx, index, project))


def _project_name(ctx: Context) -> str:
    settings = ctx.settings
    return resolved_info(settings.root, settings.pyproject, settings.dist_dir).name


def _dry_plan(ctx: Context, index: IndexSettings, manifest: Manifest | None) -> str:
    """Read the index and predict the upload; returns the project's name."""
    out = ctx.reporter
    if manifest is not None:  # resuming: the very files in dist/
        plan = plan_for(ctx, index, manifest)
        print_plan(out, index, plan)
        out.document.setdefault("plans", {})[index.name] = plan.to_json()
        if plan.verdict is guard.Verdict.REFUSED:
            raise GuardRefusal(
                f"Refused before sending anything to the {index.name} index:\n  - "
                + "\n  - ".join(plan.reasons),
                plan.fix or "Versions on an index are immutable; release a new version.",
            )
        return manifest.name
    settings = ctx.settings
    info = resolved_info(settings.root, settings.pyproject, settings.dist_dir)
    state = ctx.read(index, info.name, Keep.of(info.version))
    out.ok(
        f"the {index.name} index answers ({len(state.versions)} version(s) of {info.name} there)"
    )
    if info.version is None:
        out.line("the version is decided by the build; the upload's plan is made then", "info")
    elif state.files_for(info.version):
        raise GuardRefusal(
            f"{info.name} {info.version} is already on the {index.name} index: a new build has "
            "other bytes, so a real run would be refused before sending anything.",
            "Bump to a free version: `nox -s bump_version -- patch` (the bump reads both "
            "indexes and refuses a published version).",
        )
    else:
        out.line(
            f"{info.version} is not on the {index.name} index yet: "
            "the build's files would be uploaded",
            "up",
        )
    return info.name


def _dry_verify(ctx: Context, manifest: Manifest | None) -> None:
    if manifest is not None:
        verify(ctx)
        return
    settings, out = ctx.settings, ctx.reporter
    index = settings.index("test")
    out.heading(f"verify_test_install: from {strip_credentials(index.index_url)}")
    imports = ", ".join(settings.get("import-names")) or "its top-level modules"
    smoke = str(settings.get("smoke-command"))
    sdist = " and the sdist" if settings.get("verify-sdist") else ""
    out.line(
        "would wait for the build on the test index, install the wheel" + sdist + " in fresh "
        f"environments, import {imports}" + (f" and run `{smoke}`" if smoke else ""),
        "info",
    )


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
    state = ctx.read(ctx.settings.index("test"), manifest.name, Keep.of(manifest.parsed_version))
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

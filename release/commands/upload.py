"""``python -m release upload --index test|prod``: read the index, then upload what the guard
allows, prove it is listed with our sha256; the prod upload ends with the post-publish audit."""

from __future__ import annotations

__all__ = ["audit", "configure", "run", "upload"]

import argparse
import dataclasses
from collections.abc import Sequence

from .. import attestations, guard, signing, trusted
from ..config import IndexName, IndexSettings
from ..credentials import Credential
from ..distdir import write_manifest
from ..endpoints import strip_credentials
from ..errors import (
    CredentialError,
    DistError,
    ExitCode,
    GuardRefusal,
    IndexUnavailable,
    VerificationFailed,
)
from ..indexstate import Keep
from ..manifest import DistFile, Manifest
from ..matrix import audit_release
from ..output import Reporter
from ..upload import Outcome, upload_files
from .checks import check_provenance, dry_run_credential, plan_for, preflight_token, print_plan
from .context import Context, from_args, load_checked


def upload(ctx: Context, name: IndexName) -> guard.Plan:
    """Upload dist/ to the ``name`` index as the guard allows; upload_prod ends with the
    post-publish audit."""
    plan, manifest = _upload(ctx, name)
    if name == "prod" and not ctx.dry_run and plan.verdict is not guard.Verdict.REFUSED:
        audit(ctx, ctx.settings.index(name), manifest)
    return plan


def audit(ctx: Context, index: IndexSettings, manifest: Manifest) -> None:
    """The index's files of this version, read afresh, against the manifest and
    expected-wheels: missing or extra files are reported; anything missing fails."""
    out = ctx.reporter
    out.heading(f"post-publish audit: {manifest.name} {manifest.version} on the {index.name} index")
    state = ctx.read(index, manifest.name, Keep.of(manifest.parsed_version))
    result = audit_release(manifest, state, list(ctx.settings.get("expected-wheels")))
    out.document.setdefault("audit", {})[index.name] = dataclasses.asdict(result)
    for filename in result.extra_files:
        out.file(filename, f"on the index for {manifest.version}, not in the manifest", "warn")
    for pattern in result.allowed_missing:
        out.warn(f"no wheel for {pattern}: allowed when gathered (--allow-missing)")
    if not result.complete:
        raise VerificationFailed(
            f"The published {manifest.name} {manifest.version} is incomplete on "
            f"{strip_credentials(index.index_url)}:\n  - "
            + "\n  - ".join(
                [f"{f}: in the manifest, not on the index" for f in result.missing_files]
                + [f"no wheel matches expected {p}" for p in result.missing_patterns]
            ),
            "Run upload_prod again with the same dist/ (it sends only what is missing); for "
            "wheels that were never built, build them (same version, their own runner), "
            "gather and upload again within 14 days of the first upload.",
        )
    out.ok(
        f"complete: the index holds every one of the {len(manifest.files)} file(s)"
        + (f", and {len(result.extra_files)} more" if result.extra_files else "")
    )
    out.add_summary(
        f"{index.name} index: post-publish audit passed ({len(manifest.files)} file(s))"
    )


def _plan(ctx: Context, index: IndexSettings, manifest: Manifest) -> guard.Plan:
    """The guard's plan. A dry run whose index read fails still says which credential a real
    run would use, or that there is none; the read's failure stays the exit status (a real run
    meets it first)."""
    try:
        return plan_for(ctx, index, manifest)
    except IndexUnavailable:
        if ctx.dry_run:
            try:
                dry_run_credential(ctx, index, manifest.name)
            except CredentialError as exc:
                ctx.reporter.fail(f"{exc.message}\n  Fix: {exc.fix}" if exc.fix else exc.message)
        raise


def _upload(ctx: Context, name: IndexName) -> tuple[guard.Plan, Manifest]:
    settings, out = ctx.settings, ctx.reporter
    index = settings.index(name)
    out.heading(f"upload_{name}: {strip_credentials(index.upload_url)}")
    manifest = load_checked(ctx)
    plan = _plan(ctx, index, manifest)
    print_plan(out, index, plan)
    ctx.reporter.document.setdefault("plans", {})[name] = plan.to_json()
    if plan.verdict is guard.Verdict.REFUSED:
        raise GuardRefusal(
            f"Refused before sending anything to the {name} index:\n  - "
            + "\n  - ".join(plan.reasons),
            plan.fix or "Versions on an index are immutable; release a new version.",
        )
    require = ctx.require_verified
    if require is None:
        require = bool(settings.get("require-verified"))
    if name == "prod" and require and plan.to_upload:
        _require_verified(out, manifest, plan.to_upload)
    if plan.verdict is guard.Verdict.NOTHING_TO_DO:
        out.ok(f"nothing to do: every file is already on the {name} index, byte for byte")
        out.add_summary(f"{name} index: nothing to do, all {len(plan.files)} file(s) already there")
        return plan, manifest
    if ctx.dry_run:
        out.line(f"dry run: would upload {len(plan.to_upload)} file(s); nothing was sent")
        dry_run_credential(ctx, index, manifest.name)
        return plan, manifest
    credential = ctx.credential(index, manifest.name)
    out.line(
        f"credential for the {name} index: {credential.source} (username {credential.username})",
        "info",
    )
    preflight_token(ctx, index, credential, manifest.name)
    entries = manifest.by_filename()
    extra = _attestation_fields(ctx, index, credential, manifest, plan.to_upload)
    files = [(settings.dist_dir / fn, entries[fn]) for fn in plan.to_upload]
    first_alone = not any(f.fate is guard.Fate.PRESENT for f in plan.files)
    # The smallest wheel alone (a new release), the others largest first, the sdist once every
    # wheel is up (release.upload.upload_batches).
    with out.timed(f"upload_{name}"):
        results = upload_files(
            files,
            index=index,
            credential=credential,
            project=manifest.name,
            reporter=out,
            policy=ctx.policy,
            timeout=ctx.timeout,
            concurrency=int(settings.get("upload-concurrency")),
            first_alone=first_alone,
            wait=float(settings.get("wait-timeout")),
            extra_fields=extra,
        )
    # Proof: the index lists every file of ours with our sha256.
    with out.timed(f"proof_{name}"):
        proved = ctx.await_listed(index, manifest, "the uploaded files")
    ctx.proofs[name] = (manifest.files, proved)
    for f in manifest.files:
        out.file(f.filename, f"listed with our sha256 ({f.sha256[:12]}…)", "ok")
    sent = sum(1 for r in results if r.outcome is Outcome.UPLOADED)
    out.document.setdefault("uploads", {})[name] = {
        "project": manifest.name,
        "version": manifest.version,
        "index_url": strip_credentials(index.index_url),
        "files": {r.filename: r.outcome.name.lower() for r in results},
        "verified_on_index": [f.filename for f in manifest.files],
    }
    out.add_summary(
        f"{name} index: {sent} uploaded, {len(manifest.files) - sent} already there; all "
        f"{len(manifest.files)} listed with our sha256"
    )
    if name == "prod":
        check_provenance(ctx, index, manifest)
    return plan, manifest


def _attestation_fields(
    ctx: Context,
    index: IndexSettings,
    credential: Credential,
    manifest: Manifest,
    to_upload: Sequence[str],
) -> dict[str, list[tuple[str, str]]]:
    """Each file's ``attestations`` form field: those in dist/ (recorded in the manifest), and
    a publish attestation made for this upload for the files that have none."""
    entries = manifest.by_filename()
    found = _dist_attestations(ctx, manifest, [entries[fn] for fn in to_upload])
    unsigned = [entries[fn] for fn in to_upload if not attestations.has_publish(found.get(fn, []))]
    made = _made_attestations(ctx, index, credential, unsigned)
    fields = {}
    for fn in to_upload:
        files = [*found.get(fn, []), *made.get(fn, [])]
        attestations.check_predicates(fn, files)
        if files:
            fields[fn] = attestations.form_field(files)
    return fields


def _dist_attestations(
    ctx: Context, manifest: Manifest, entries: list[DistFile]
) -> dict[str, list[attestations.AttestationFile]]:
    """The attestations in dist/ of the files about to be sent, recorded in the manifest."""
    found = attestations.collect(ctx.settings.dist_dir, entries)
    for filename, files in found.items():
        kinds = ", ".join(f.name for f in files)
        ctx.reporter.line(f"{filename}: sent with its attestation(s) {kinds}", "info")
    recorded = {fn: {f.name: f.sha256 for f in files} for fn, files in found.items()}
    if recorded and dict(manifest.attestations) != {**manifest.attestations, **recorded}:
        write_manifest(ctx.settings.dist_dir, manifest.with_attestations(recorded))
    return found


def _made_attestations(
    ctx: Context, index: IndexSettings, credential: Credential, files: list[DistFile]
) -> dict[str, list[attestations.AttestationFile]]:
    """Sign ``files`` for this upload into a folder of its own (never dist/); their publish
    attestations, read back before the folder goes."""
    if not files:
        return {}
    why_not = signing.signing_decision(
        bool(ctx.settings.get("attestations")),
        index,
        trusted_publishing=credential.renewer is not None,
        in_ci=trusted.in_ci(ctx.environ),
    )
    if why_not is not None:
        if index.warehouse is not None:
            ctx.reporter.line(f"no attestations made: {why_not}", "info")
        return {}
    signer = ctx.signer or signing.sign_with_sigstore(ctx.environ)
    with signing.attestation_folder(index.name) as folder:
        signer(files, folder)
        made = attestations.collect(folder, files)  # checked like any other: these very bytes
    missing = [f.filename for f in files if f.filename not in made]
    if missing:
        raise DistError(
            f"Attestations: signing made none for {', '.join(missing)}.",
            "Run the job again, or set attestations = false to upload without them.",
        )
    ctx.reporter.line(f"signed {len(made)} file(s) for the {index.name} index (PEP 740)", "ok")
    ctx.reporter.document.setdefault("attestations_made", {})[index.name] = sorted(made)
    return made


def _require_verified(out: Reporter, manifest: Manifest, to_upload: tuple[str, ...]) -> None:
    """upload_prod sends files that went through the test index: installed and smoke-tested
    (``verified``), or, for files this machine cannot install or was told not to (another
    platform's wheel, the sdist with verify-sdist = false), listed there with our sha256 — and
    only when at least one file of the release was really installed."""
    unchecked = [f for f in manifest.unchecked() if f in to_upload]
    if unchecked or not manifest.verified:
        raise DistError(
            "These files were not verified from the test index: "
            + ", ".join(unchecked or manifest.unverified()),
            "Run `nox -s verify_test_install` first (in CI: pass on the dist/ folder it "
            "updated), or opt out with RELEASE_REQUIRE_VERIFIED=0.",
        )
    for filename in manifest.unverified():
        if filename in to_upload:
            out.file(filename, "listed on the test index with our sha256, not installed", "warn")


def configure(_command: str, parser: argparse.ArgumentParser) -> None:
    """upload's own options (--json, --dry-run and --index are declared in release.cli)."""
    add_require_verified_flag(parser)


def add_require_verified_flag(parser: argparse.ArgumentParser) -> None:
    """--no-require-verified, for upload and release."""
    parser.add_argument(
        "--no-require-verified",
        action="store_true",
        help="let upload to prod send files verify_test_install did not verify",
    )


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    upload(from_args(args, environ, out), args.index)
    return int(ExitCode.OK)

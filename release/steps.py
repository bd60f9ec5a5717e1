"""The pipeline's steps: build, upload (test or prod), verify, and release (all four).

Each step works alone given dist/ from an earlier build (CI runs them as separate jobs).
Steps take a :class:`Context`, so ``rehearse`` and the tests can point them at local indexes
and hand them credentials directly.
"""

from __future__ import annotations

__all__ = ["Context", "build", "configure", "release", "run", "upload", "verify"]

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from . import attestations, guard, provenance, pypi_rules, signing, trusted
from .childenv import without_credentials
from .config import INDEX_NAMES, IndexName, IndexSettings, Settings, load_settings
from .credentials import Credential, resolve
from .distfacts import read_facts
from .endpoints import same_url, strip_credentials
from .errors import (
    ConfigError,
    CredentialError,
    DistError,
    ExitCode,
    GuardRefusal,
    IndexRulesRefusal,
    IndexUnavailable,
    ReleaseError,
    VerificationFailed,
)
from .gitstate import explain_version
from .index import await_listed, fetch_index_state
from .indexstate import IndexState
from .manifest import (
    MANIFEST_NAME,
    DistFile,
    Manifest,
    check_dist,
    dist_candidates,
    hash_file,
    kind_of,
    load_manifest,
    write_manifest,
)
from .matrix import audit_release
from .metadata import built_info, resolved_info
from .output import Reporter
from .project import BuildKind, ProjectInfo, check_built_files, declared_info
from .pypi_rules import Finding
from .retry import RetryPolicy
from .runner import detect_runner
from .tokens import check_token
from .upload import Outcome, upload_batches, upload_files
from .vcsversion import Explanation
from .verify import VerifyOptions, import_names_of, verify_release


@dataclasses.dataclass
class Context:
    settings: Settings
    environ: Mapping[str, str]
    reporter: Reporter
    dry_run: bool = False
    credentials: dict[str, Credential] = dataclasses.field(default_factory=dict)
    # rehearse: take dependencies from the user's normal pip index instead of the prod index
    deps_from_pip_config: bool = False
    require_verified: bool | None = None  # None: the setting decides
    # Makes attestations for an upload (tests pass their own); None: sigstore as this CI job.
    signer: signing.Signer | None = None

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy.from_settings(self.settings)

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout"))

    def read(self, index: IndexSettings, project: str) -> IndexState:
        def on_retry(_attempt: int, delay: float, exc: object) -> None:
            self.reporter.line(f"{exc}; reading {index.name} index again in {delay:.1f}s", "wait")

        return fetch_index_state(
            index.index_url, project, policy=self.policy, timeout=self.timeout, on_retry=on_retry
        )

    def credential(self, index: IndexSettings, project: str) -> Credential:
        if index.name not in self.credentials:
            interactive = sys.stdin.isatty() and not self.environ.get("CI") and not self.dry_run
            self.credentials[index.name] = resolve(
                index,
                project,
                self.environ,
                interactive=interactive,
                options=self.settings.values,
            )
            for warning in self.credentials[index.name].warnings:  # every run, once per index
                self.reporter.warn(warning)
        return self.credentials[index.name]


# ---------------------------------------------------------------- build


def build(ctx: Context, kind: BuildKind = "both", from_dir: Path | None = None) -> Manifest:
    """sdist + wheel (or one ``kind``) into dist/, checked, hashed and recorded in the
    manifest, which names the runner; ``from_dir``: record wheels another tool built."""
    settings, out = ctx.settings, ctx.reporter
    declared = declared_info(dict(settings.pyproject))
    dist = settings.dist_dir
    what = {"both": "sdist + wheel", "sdist": "sdist", "wheel": "wheel"}[kind]
    out.heading(f"build: {_what_is_built(settings, declared)} ({what})")
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
    _check_writable(dist)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nox-release-build-") as tmp:
        outdir = Path(tmp)
        if from_dir is not None:
            _copy_built_elsewhere(from_dir, outdir)
        else:
            _run_build(settings, outdir, kind, ctx.environ)
        info = built_info(sorted(outdir.iterdir()), declared)
        built = check_built_files(sorted(outdir.iterdir()), info, kind)
        explanation = explain_vcs_version(settings, built.version, out)
        for wheel in built.wheels:
            _refuse_vendored_release_package(wheel, info.canonical_name)
        try:
            _check_rules(ctx, built.paths, complete=kind == "both")
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
            out.ok(f"{path.name}  sha256 {sha}  {size} bytes")
    manifest = Manifest(
        info.name,
        str(built.version),
        tuple(files),
        runners={runner.id: runner},
        partial=kind != "both",
    )
    write_manifest(dist, manifest)
    out.document["build"] = manifest.to_json()
    share = (
        " (a partial manifest: gather it with the other runners' folders)" if kind != "both" else ""
    )
    out.ok(
        f"{_rules_passed(settings)}; wrote {dist.name}/{MANIFEST_NAME}{share} "
        f"({time.monotonic() - started:.1f}s)"
    )
    out.line(f"runner: {runner.id}", "info")
    out.add_summary(f"built {info.name} {built.version}: " + ", ".join(f.filename for f in files))
    return manifest


def _run_build(
    settings: Settings, outdir: Path, kind: BuildKind, environ: Mapping[str, str]
) -> None:
    argv = [sys.executable, "-m", "build", "--outdir", str(outdir)]
    if kind != "both":
        argv.append(f"--{kind}")
    if not settings.get("build-isolation"):
        argv.append("--no-isolation")
    elif _build_installer(str(settings.get("build-installer"))) == "uv":
        argv.append("--installer=uv")
    argv.append(str(settings.root))
    # setup.py and build backends are third-party code: no credential reaches them.
    env = without_credentials(environ)
    proc = subprocess.run(
        argv, capture_output=True, text=True, check=False, cwd=settings.root, env=env
    )
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise DistError(
            f"The build failed (exit {proc.returncode}):\n    {tail}",
            "Fix the build error above; nothing was changed in dist/.",
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


def _what_is_built(settings: Settings, declared: ProjectInfo | None) -> str:
    if declared is None:
        return f"{settings.root.name} (name and version from the built metadata)"
    return f"{declared.name} {declared.version or '(dynamic version)'}"


def explain_vcs_version(settings: Settings, version: Version, out: Reporter) -> Explanation | None:
    """A version made from git that is no release: say why, and how to release instead."""
    explanation = explain_version(
        settings.root, settings.pyproject, version, str(settings.get("tag-format"))
    )
    if explanation is not None:
        out.warn(explanation.why)
        out.line(f"  Fix: {explanation.fix}")
    return explanation


def _check_writable(dist: Path) -> None:
    """dist/ (or the folder it will be made in) takes files: checked before any work."""
    probe = dist
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        if not os.access(probe, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise DistError(
            f"{dist} cannot be written to ({probe}: {exc.strerror or type(exc).__name__}).",
            "Fix the folder's permissions, or set dist-dir (RELEASE_DIST_DIR) to a writable one.",
        ) from None


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


def _build_installer(choice: str) -> str:
    if choice not in ("auto", "pip", "uv"):
        raise ConfigError(
            f"build-installer = {choice!r} is not one of auto, pip, uv.",
            "Set build-installer to auto, pip or uv.",
        )
    if choice == "auto":
        return "uv" if shutil.which("uv") else "pip"
    return choice


def _rules_passed(settings: Settings) -> str:
    return "PyPI's upload rules passed" if settings.pypi_rules_apply() else "the README renders"


def _check_rules(ctx: Context, paths: list[Path], *, complete: bool = True) -> None:
    """PyPI's offline rules over the built files (release.pypi_rules), before dist/ changes.

    Where no index is held to PyPI's rules, only the README must render (what ``twine
    check`` checks). What PyPI accepts but ``twine check --strict`` refused is a warning.
    ``complete=False``: one runner's share of the release (rules about the whole release wait
    for the plan).
    """
    settings = ctx.settings
    findings = pypi_rules.check_files(
        [read_facts(p) for p in paths],
        file_size_limit_mb=int(settings.get("file-size-limit")),
        complete=complete,  # one runner's share (build --sdist/--wheel): no release-wide rules
    )
    if not settings.pypi_rules_apply():
        findings = [f for f in findings if f.rule in ("readme", "readme-warnings")]
    ctx.reporter.document["pypi_rules"] = [dataclasses.asdict(f) for f in findings]
    for f in pypi_rules.warnings(findings):
        ctx.reporter.warn(f"{f.message} ({f.fix})")
    refusing = pypi_rules.errors(findings)
    if refusing:
        raise IndexRulesRefusal(
            "PyPI would refuse this build; nothing was changed in dist/:\n  - "
            + "\n  - ".join(f.message for f in refusing),
            " ".join(dict.fromkeys(f.fix for f in refusing)),
        )


def _rule_findings(ctx: Context, index: IndexSettings, manifest: Manifest) -> tuple[Finding, ...]:
    """The offline rules again at the plan, over dist/ as recorded (built elsewhere, gathered,
    or built while no index was held to PyPI's rules)."""
    if not ctx.settings.pypi_rules_apply(index):
        return ()
    dist = ctx.settings.dist_dir
    return tuple(
        pypi_rules.check_files(
            [read_facts(dist / f.filename) for f in manifest.files],
            file_size_limit_mb=int(ctx.settings.get("file-size-limit")),
        )
    )


# ---------------------------------------------------------------- upload


def _load_checked(ctx: Context) -> Manifest:
    dist = ctx.settings.dist_dir
    manifest = load_manifest(dist)
    check_dist(dist, manifest)
    attestations.check_folder(dist, manifest.files)  # none of other bytes, none stray
    if manifest.partial:
        raise DistError(
            f"{dist.name}/{MANIFEST_NAME} is a partial manifest: one runner's share of the "
            "release (build --sdist, --wheel or --from).",
            "Gather every runner's folder into dist/ first: nox -s gather -- DIR... "
            "(or run a plain `nox -s build` for a release built on one machine).",
        )
    info = declared_info(dict(ctx.settings.pyproject))
    if info is not None and info.canonical_name != manifest.canonical_name:
        raise DistError(
            f"dist/ holds {manifest.name} but pyproject.toml names {info.name}.",
            "Run `nox -s build` in this project.",
        )
    return manifest


def _rules(ctx: Context, index: IndexSettings, manifest: Manifest) -> guard.Rules:
    return guard.Rules(
        warehouse=index.warehouse,
        is_prod=index.name == "prod",
        allow_dev=bool(ctx.settings.get("allow-dev-to-prod")),
        now=datetime.now(timezone.utc),
        pypi_rules=ctx.settings.pypi_rules_apply(index),
        findings=_rule_findings(ctx, index, manifest),
    )


def refuse_early(ctx: Context, manifest: Manifest) -> None:
    """Before anything goes to the test index: would the prod index refuse this version
    whatever it holds (a local or development version), or would verify have nothing to
    check (a wheel with no module)? Then stop now, with the fix."""
    smoke = str(ctx.settings.get("smoke-command"))
    _what_verify_checks(manifest, _import_names(ctx, manifest), smoke)
    index = ctx.settings.index("prod")
    empty = IndexState(index.index_url, canonicalize_name(manifest.name), False, ())
    plan = guard.decide(manifest, empty, _rules(ctx, index, manifest))
    if plan.verdict is guard.Verdict.REFUSED:
        plan = _with_vcs_fix(ctx, plan, manifest)
        raise GuardRefusal(
            f"The prod index would refuse {manifest.name} {manifest.version}, so nothing "
            "was uploaded anywhere:\n  - " + "\n  - ".join(plan.reasons),
            plan.fix or "Release a version the prod index accepts.",
        )


def _plan(ctx: Context, index: IndexSettings, manifest: Manifest) -> guard.Plan:
    state = ctx.read(index, manifest.name)
    rules = _rules(ctx, index, manifest)
    plan = guard.decide(manifest, state, rules)
    if plan.verdict is guard.Verdict.REFUSED:
        # Suggest a version free on both indexes (best effort: the other may be unreachable).
        other: IndexName = "prod" if index.name == "test" else "test"
        try:
            other_state = ctx.read(ctx.settings.index(other), manifest.name)
            plan = guard.decide(
                manifest, state, dataclasses.replace(rules, other_versions=other_state.versions)
            )
        except ReleaseError:
            pass
        plan = _with_vcs_fix(ctx, plan, manifest)
    return plan


def _with_vcs_fix(ctx: Context, plan: guard.Plan, manifest: Manifest) -> guard.Plan:
    """A refused dev or local version made from git: the fix is a tag, not an opt-in."""
    explanation = explain_version(
        ctx.settings.root,
        ctx.settings.pyproject,
        manifest.parsed_version,
        str(ctx.settings.get("tag-format")),
    )
    if explanation is None:
        return plan
    return dataclasses.replace(
        plan,
        reasons=(*plan.reasons, explanation.why),
        fix=explanation.fix,
        next_free=explanation.suggested,
    )


def print_plan(out: Reporter, index: IndexSettings, plan: guard.Plan) -> None:
    out.line(
        f"plan for {plan.project} {plan.version} on the {index.name} index "
        f"({strip_credentials(index.index_url)}): {plan.verdict.value}"
    )
    marks = {guard.Fate.UPLOAD: "up", guard.Fate.PRESENT: "skip", guard.Fate.REFUSE: "fail"}
    groups: dict[tuple[guard.Fate, str], list[str]] = {}
    for f in plan.files:
        groups.setdefault((f.fate, f.why), []).append(f.filename)
    for (fate, why), names in groups.items():
        if len(names) > guard.EXAMPLES + 2:  # many files, one story: a count and examples
            text = f"{len(names)} files: {fate.value} — {why} ({guard.examples(names)})"
            out.line(text, marks[fate])
            continue
        for filename in names:
            out.line(f"{filename}: {fate.value} — {why}", marks[fate])
    for w in plan.warnings:
        out.warn(w)


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
    state = ctx.read(index, manifest.name)
    result = audit_release(manifest, state, list(ctx.settings.get("expected-wheels")))
    out.document.setdefault("audit", {})[index.name] = dataclasses.asdict(result)
    for filename in result.extra_files:
        out.warn(f"{filename}: on the index for {manifest.version}, not in this release's manifest")
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
    out.add_summary(f"{index.name}: post-publish audit passed ({len(manifest.files)} file(s))")


def _upload(ctx: Context, name: IndexName) -> tuple[guard.Plan, Manifest]:
    settings, out = ctx.settings, ctx.reporter
    index = settings.index(name)
    out.heading(f"upload_{name}: {strip_credentials(index.upload_url)}")
    manifest = _load_checked(ctx)
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
        out.add_summary(f"{name}: nothing to do, all {len(plan.files)} file(s) already there")
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
    _preflight_token(ctx, index, credential, manifest.name)
    entries = manifest.by_filename()
    extra = _attestation_fields(ctx, index, credential, manifest, plan.to_upload)
    files = [(settings.dist_dir / fn, entries[fn]) for fn in plan.to_upload]
    first_alone = not any(f.fate is guard.Fate.PRESENT for f in plan.files)
    results = []
    # Wheels first, the sdist once every wheel is up: while a release is half up, an
    # installer finds wheels or nothing, never only the sdist to build from source.
    for batch in upload_batches(files):
        results += upload_files(
            batch,
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
        first_alone = False
    # Proof: the index lists every file of ours with our sha256.
    await_listed(
        index.index_url,
        manifest.name,
        manifest.files,
        reporter=out,
        policy=ctx.policy,
        timeout=ctx.timeout,
        wait=float(settings.get("wait-timeout")),
        what="the uploaded files",
    )
    for f in manifest.files:
        out.ok(
            f"{f.filename}: verified on {strip_credentials(index.index_url)} "
            f"(sha256 {f.sha256[:16]}…)"
        )
    sent = sum(1 for r in results if r.outcome is Outcome.UPLOADED)
    out.document.setdefault("uploads", {})[name] = {
        "project": manifest.name,
        "version": manifest.version,
        "index_url": strip_credentials(index.index_url),
        "files": {r.filename: r.outcome.name.lower() for r in results},
        "verified_on_index": [f.filename for f in manifest.files],
    }
    out.add_summary(
        f"{name}: uploaded {sent}, already there {len(manifest.files) - sent}; all "
        f"{len(manifest.files)} verified on {strip_credentials(index.index_url)}"
    )
    if name == "prod":
        check_provenance(ctx, index, manifest)
    return plan, manifest


def check_provenance(ctx: Context, index: IndexSettings, manifest: Manifest) -> None:
    """Each file's provenance on ``index`` names the expected publisher (provenance-check)."""
    settings, out = ctx.settings, ctx.reporter
    mode = provenance.mode_for(
        str(settings.get("provenance-check")), index, trusted.in_ci(ctx.environ)
    )
    if mode == "skip":
        return
    results = provenance.check_files(
        index,
        manifest.name,
        manifest.version,
        manifest.files,
        provenance.expected_publisher(settings.values, index, ctx.environ),
        timeout=ctx.timeout,
    )
    for r in results:
        out.line(r.line(), "ok" if r.status == "ok" else "warn")
    out.document.setdefault("provenance", {})[index.name] = {
        r.filename: {"status": r.status, "detail": r.detail, "publisher": r.publisher}
        for r in results
    }
    failed = provenance.failures(results, mode)
    if failed:
        raise VerificationFailed(
            f"Provenance on the {index.name} index does not hold up:\n  "
            + "\n  ".join(r.line() for r in failed),
            "\n".join(dict.fromkeys(r.fix for r in failed)),
        )
    for r in results:
        if r.status != "ok":
            out.warn(f"{r.line()}. {r.fix}")


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
            out.warn(f"{filename}: listed on the test index with our sha256, but not installed")


def dry_run_credential(ctx: Context, index: IndexSettings, project: str) -> None:
    """Which credential a real run would use (never prompting), checked offline; a run that
    would fail for want of one fails the dry run too."""
    credential = ctx.credential(index, project)
    ctx.reporter.line(
        f"would use the credential from {credential.source} (username {credential.username}) "
        f"for the {index.name} index",
        "info",
    )
    _preflight_token(ctx, index, credential, project)


def _preflight_token(
    ctx: Context, index: IndexSettings, credential: Credential, project: str
) -> None:
    """Offline token checks before a byte is sent; errors stop, warnings are shown."""
    username, secret = credential.get()
    findings = check_token(
        secret, username=username, index=index, project=project, now=datetime.now(timezone.utc)
    )
    errors = [f for f in findings if f.level == "error"]
    for f in findings:
        if f.level == "warning":
            ctx.reporter.warn(f"{f.message} ({f.fix})")
    if errors:
        raise CredentialError(
            "The credential for the " + index.name + f" index ({credential.source}) cannot "
            "work:\n  - " + "\n  - ".join(f.message for f in errors),
            " ".join(f.fix for f in errors),
        )


# ---------------------------------------------------------------- verify


def verify(ctx: Context) -> Manifest:
    settings, out = ctx.settings, ctx.reporter
    index = settings.index("test")
    out.heading(f"verify_test_install: from {strip_credentials(index.index_url)}")
    deps: str | None = settings.get("dependency-index-url") or settings.index("prod").index_url
    if ctx.deps_from_pip_config or deps == "pip":
        deps = None  # the user's own pip configuration
    if deps and same_url(deps, index.index_url):
        raise ConfigError(
            "dependency-index-url is the test index: dependencies would come from TestPyPI, "
            "where anyone can register any name (dependency confusion).",
            "Leave dependency-index-url unset (the prod index) or point it at a trusted index.",
        )
    manifest = _load_checked(ctx)
    smoke = str(settings.get("smoke-command"))
    imports = _import_names(ctx, manifest)
    checks = _what_verify_checks(manifest, imports, smoke)
    if not ctx.dry_run:
        _check_writable(settings.dist_dir)  # verify records what it verified in the manifest
    if ctx.dry_run:
        out.line(
            f"would wait for {manifest.name} {manifest.version} on the test index, install "
            f"it in fresh environments (dependencies from {deps or 'your pip config'}) "
            f"and check it: {checks}"
        )
        return manifest
    listed = await_listed(
        index.index_url,
        manifest.name,
        manifest.files,
        reporter=out,
        policy=ctx.policy,
        timeout=ctx.timeout,
        wait=float(settings.get("wait-timeout")),
        what=f"{manifest.name} {manifest.version}",
    )
    out.ok(f"the test index lists all {len(manifest.files)} file(s) with our sha256")
    options = VerifyOptions(
        test_index_url=index.index_url,
        deps_index_url=deps,
        smoke_command=str(settings.get("smoke-command")),
        import_names=imports,
        verify_sdist=bool(settings.get("verify-sdist")),
        timeout=ctx.timeout,
    )
    verified = verify_release(manifest, listed, options, ctx.environ, out)
    # Wheels for other platforms cannot be installed here; the index lists them with our
    # sha256 (checked above), which is all that can be proved on this machine.
    done = {f.filename for f in verified}
    others = [f for f in manifest.files if f.filename not in done]
    for f in others:
        out.warn(
            f"{f.filename}: listed on the test index with our sha256; not installable "
            "on this machine, so not installed"
        )
    check_provenance(ctx, index, manifest)
    # "verified" means installed and smoke-tested, nothing less: the others are recorded as
    # listed on the test index, and upload_prod says so when it sends them.
    manifest = manifest.with_verified(verified, index.index_url, listed=others)
    write_manifest(settings.dist_dir, manifest)
    out.document["verified"] = dict(manifest.verified)
    out.document["listed_on_test"] = dict(manifest.listed_on_test)
    out.add_summary(f"test: installed {', '.join(sorted(done))}; {checks}")
    if others:
        out.add_summary(
            f"test: listed with our sha256, not installed: "
            f"{', '.join(sorted(f.filename for f in others))}"
        )
    return manifest


def _what_verify_checks(manifest: Manifest, imports: tuple[str, ...], smoke: str) -> str:
    """What verify proves beyond installing: the imports and the smoke command. A wheel with
    nothing to import and no smoke command would prove nothing: that fails here."""
    if not imports and not smoke:
        wheels = [f.filename for f in manifest.files if f.kind == "wheel"]
        raise VerificationFailed(
            f"{', '.join(wheels) or 'The release'} installs no importable module (metadata "
            "only), and no smoke-command is set: verify could not prove that it works.",
            "If the wheel should hold your package, the build misses it: check the "
            "packages/include settings of your build backend and build again. If it is meant "
            "to hold none (a command-line tool or a meta-package), set smoke-command in "
            '[tool.release] (e.g. smoke-command = "yourtool --version") or '
            "RELEASE_SMOKE_COMMAND.",
        )
    done = [f"imported {', '.join(imports)}"] if imports else []
    if smoke:
        done.append(f"smoke-tested with `{smoke}`")
    return " and ".join(done)


def _import_names(ctx: Context, manifest: Manifest) -> tuple[str, ...]:
    """import-names when set, else what the (first) wheel installs."""
    configured = tuple(ctx.settings.get("import-names"))
    wheels = [f.filename for f in manifest.files if f.kind == "wheel"]
    if configured or not wheels:
        return configured
    return import_names_of(ctx.settings.dist_dir / wheels[0])


# ---------------------------------------------------------------- release


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


def _resumable(ctx: Context) -> bool:
    """Reuse dist/ instead of rebuilding when an earlier run already sent this build to the
    test index: a rebuild has other bytes (timestamps), which the guard would rightly refuse,
    so resuming an interrupted release needs the very same files."""
    dist = ctx.settings.dist_dir
    if not (dist / MANIFEST_NAME).is_file():
        return False
    try:
        manifest = _load_checked(ctx)
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


def plan(ctx: Context, names: tuple[IndexName, ...]) -> int:
    manifest = _load_checked(ctx)
    worst = ExitCode.OK
    for name in names:
        index = ctx.settings.index(name)
        try:
            p = _plan(ctx, index, manifest)
        except IndexUnavailable as exc:
            ctx.reporter.fail(str(exc))
            if exc.exit_code > worst:
                ctx.reporter.failure = (exc.message, exc.fix)
            worst = max(worst, exc.exit_code)
            continue
        print_plan(ctx.reporter, index, p)
        ctx.reporter.document.setdefault("plans", {})[name] = p.to_json()
        if p.verdict is guard.Verdict.REFUSED:
            for reason in p.reasons:
                ctx.reporter.fail(reason)
            if p.next_free:
                ctx.reporter.line(f"next free version: {p.next_free}")
            if worst < ExitCode.REFUSED:
                ctx.reporter.failure = (
                    f"The guard would refuse the upload to the {name} index:\n  - "
                    + "\n  - ".join(p.reasons),
                    p.fix or "Versions on an index are immutable; release a new version.",
                )
            worst = max(worst, ExitCode.REFUSED)
    return int(worst)


# ---------------------------------------------------------------- command line


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """The steps' own options (--json, --dry-run and --index are declared in release.cli)."""
    if command == "build":
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
    if command in ("upload", "release"):
        parser.add_argument(
            "--no-require-verified",
            action="store_true",
            help="let upload to prod send files verify_test_install did not verify",
        )


def _build_kind(args: argparse.Namespace) -> BuildKind:
    if args.from_dir is not None and not args.wheel:
        raise ConfigError(
            "--from records wheels built by another tool, and needs --wheel.",
            "Run: python -m release build --wheel --from wheelhouse/",
        )
    return "sdist" if args.sdist else "wheel" if args.wheel else "both"


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    ctx = Context(
        settings=load_settings(args.root, environ),
        environ=environ,
        reporter=out,
        dry_run=getattr(args, "dry_run", False),
        require_verified=False if getattr(args, "no_require_verified", False) else None,
    )
    if args.command == "build":
        build(ctx, _build_kind(args), args.from_dir)
    elif args.command == "upload":
        upload(ctx, args.index)
    elif args.command == "verify":
        verify(ctx)
    elif args.command == "release":
        return release(ctx)
    elif args.command == "plan":
        names: tuple[IndexName, ...] = ("test", "prod") if args.index == "both" else (args.index,)
        return plan(ctx, names)
    return int(ExitCode.OK)

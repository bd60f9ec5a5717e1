"""Checks several commands share: PyPI's offline rules, the guard's plan, the prod index's
early refusal, the credential's offline check, provenance on an index, what verify proves, the
warning when project code runs beside the job's credentials."""

from __future__ import annotations

__all__ = [
    "check_provenance",
    "check_rules",
    "dry_run_credential",
    "explain_vcs_version",
    "guard_rules",
    "import_names",
    "plan_for",
    "preflight_token",
    "print_plan",
    "refuse_early",
    "rule_findings",
    "rules_passed",
    "warn_code_beside_credentials",
    "what_verify_checks",
]

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from .. import guard, pypi_rules, trusted
from ..childenv import code_beside_credentials
from ..config import IndexName, IndexSettings, Settings
from ..credentials import Credential
from ..endpoints import strip_credentials
from ..errors import (
    CredentialError,
    GuardRefusal,
    IndexRulesRefusal,
    ReleaseError,
    VerificationFailed,
)
from ..indexstate import VERSIONS, IndexState, Keep
from ..manifest import (
    Manifest,
)
from ..output import Reporter
from ..pypi_rules import Finding
from ..tokens import check_token
from .context import Context

if TYPE_CHECKING:
    from ..vcsversion import Explanation

# Imported where they are used, so that `upload` of a checked dist/ loads none of them: the
# files' facts (distfacts: read when PyPI's rules are checked), git (gitstate: a refused
# version's fix), what a wheel installs (verify), the index's provenance (upload to prod).


def rules_passed(settings: Settings) -> str:
    return "PyPI's upload rules passed" if settings.pypi_rules_apply() else "the README renders"


def check_rules(ctx: Context, paths: list[Path], *, complete: bool = True) -> None:
    """PyPI's offline rules over the built files (release.pypi_rules), before dist/ changes.

    Where no index is held to PyPI's rules, only the README must render (what ``twine
    check`` checks). What PyPI accepts but ``twine check --strict`` refused is a warning.
    ``complete=False``: one runner's share of the release (rules about the whole release wait
    for the plan).
    """
    from ..distfacts import read_facts

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


def rule_findings(ctx: Context, index: IndexSettings, manifest: Manifest) -> tuple[Finding, ...]:
    """The offline rules again at the plan, over dist/ as recorded (built elsewhere, gathered,
    or built while no index was held to PyPI's rules)."""
    if not ctx.settings.pypi_rules_apply(index):
        return ()
    from ..distfacts import read_facts

    dist = ctx.settings.dist_dir
    return tuple(
        pypi_rules.check_files(
            [read_facts(dist / f.filename) for f in manifest.files],
            file_size_limit_mb=int(ctx.settings.get("file-size-limit")),
        )
    )


def guard_rules(ctx: Context, index: IndexSettings, manifest: Manifest) -> guard.Rules:
    return guard.Rules(
        warehouse=index.warehouse,
        is_prod=index.name == "prod",
        allow_dev=bool(ctx.settings.get("allow-dev-to-prod")),
        now=datetime.now(timezone.utc),
        pypi_rules=ctx.settings.pypi_rules_apply(index),
        findings=rule_findings(ctx, index, manifest),
    )


def refuse_early(ctx: Context, manifest: Manifest) -> None:
    """Before anything goes to the test index: would the prod index refuse this version
    whatever it holds (a local or development version), or would verify have nothing to
    check (a wheel with no module)? Then stop now, with the fix."""
    smoke = str(ctx.settings.get("smoke-command"))
    what_verify_checks(manifest, import_names(ctx, manifest), smoke)
    index = ctx.settings.index("prod")
    empty = IndexState(index.index_url, canonicalize_name(manifest.name), False, ())
    plan = guard.decide(manifest, empty, guard_rules(ctx, index, manifest))
    if plan.verdict is guard.Verdict.REFUSED:
        plan = with_vcs_fix(ctx, plan, manifest)
        raise GuardRefusal(
            f"The prod index would refuse {manifest.name} {manifest.version}, so nothing "
            "was uploaded anywhere:\n  - " + "\n  - ".join(plan.reasons),
            plan.fix or "Release a version the prod index accepts.",
        )


def plan_for(ctx: Context, index: IndexSettings, manifest: Manifest) -> guard.Plan:
    state = ctx.read(index, manifest.name, Keep.of(manifest.parsed_version))
    rules = guard_rules(ctx, index, manifest)
    plan = guard.decide(manifest, state, rules)
    if plan.verdict is guard.Verdict.REFUSED:
        # Suggest a version free on both indexes (best effort: the other may be unreachable).
        other: IndexName = "prod" if index.name == "test" else "test"
        try:
            other_state = ctx.read(ctx.settings.index(other), manifest.name, VERSIONS)
            plan = guard.decide(
                manifest, state, dataclasses.replace(rules, other_versions=other_state.versions)
            )
        except ReleaseError:
            pass
        plan = with_vcs_fix(ctx, plan, manifest)
    return plan


def with_vcs_fix(ctx: Context, plan: guard.Plan, manifest: Manifest) -> guard.Plan:
    """A refused dev or local version made from git: the fix is a tag, not an opt-in."""
    from ..gitstate import explain_version, tag_format

    explanation = explain_version(
        ctx.settings.root,
        ctx.settings.pyproject,
        manifest.parsed_version,
        tag_format(ctx.settings),
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
        f"plan for {plan.project} {plan.version} on {strip_credentials(index.index_url)}: "
        f"{plan.verdict.value}"
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
            out.file(filename, f"{fate.value} — {why}" if why else fate.value, marks[fate])
    for w in plan.warnings:
        out.warn(w)


def explain_vcs_version(settings: Settings, version: Version, out: Reporter) -> Explanation | None:
    """A version made from git that is no release: say why, and how to release instead."""
    from ..gitstate import explain_version, tag_format

    explanation = explain_version(settings.root, settings.pyproject, version, tag_format(settings))
    if explanation is not None:
        out.warn(explanation.why)
        out.line(f"  Fix: {explanation.fix}")
    return explanation


def check_provenance(ctx: Context, index: IndexSettings, manifest: Manifest) -> None:
    """Each file's provenance on ``index`` names the expected publisher (provenance-check)."""
    from .. import provenance

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


def dry_run_credential(ctx: Context, index: IndexSettings, project: str) -> None:
    """Which credential a real run would use (never prompting), checked offline; a run that
    would fail for want of one fails the dry run too."""
    credential = ctx.credential(index, project)
    ctx.reporter.line(
        f"would use the credential from {credential.source} (username {credential.username}) "
        f"for the {index.name} index",
        "info",
    )
    if not credential.planned:  # a planned (trusted publishing) one has no token yet
        preflight_token(ctx, index, credential, project)


def preflight_token(
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


def what_verify_checks(manifest: Manifest, imports: tuple[str, ...], smoke: str) -> str:
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


def import_names(ctx: Context, manifest: Manifest) -> tuple[str, ...]:
    """import-names when set, else what the (first) wheel installs."""
    configured = tuple(ctx.settings.get("import-names"))
    wheels = [f.filename for f in manifest.files if f.kind == "wheel"]
    if configured or not wheels:
        return configured
    from ..verify import import_names_of

    return import_names_of(ctx.settings.dist_dir / wheels[0])


def warn_code_beside_credentials(environ: Mapping[str, str], out: Reporter, runs: str) -> None:
    """The project's code (``runs``) is about to run in a job that holds a credential: warn,
    loudly, once per run (``release`` builds, then verifies), and name them in the --json
    document (``credentials_in_job``). The decision and its words are
    :func:`release.childenv.code_beside_credentials`."""
    held, warning = code_beside_credentials(environ, runs)
    if not held or "credentials_in_job" in out.document:
        return
    out.document["credentials_in_job"] = held
    out.warn(warning)

"""``doctor``: everything that can be checked without uploading, as a checklist.

For each index (``test``, ``prod``): is it reachable, does it have the project and this
version, which credential source would be used, what the token says (offline:
:func:`release.tokens.check_token`), and whether the index accepts the credential.

That last check sends an upload POST with ``:action=file_upload`` and ``protocol_version=1``
and *no file*. Warehouse and pypiserver check authentication before they look at the form:
measured against pypiserver 2.4 (tests/test_doctor.py), no credential answers 401, a wrong one
403, a good one ``400 Missing 'content' file-field!``; Warehouse answers 403 to a bad token
and a 400 form error to a good one. So 401/403 = refused, another 4xx = accepted.
Nothing is stored either way. Permission for the project is only checked with a real file.

Exit status: 0 when a release would pass these checks; otherwise the exit code of the first
failing check (:class:`release.errors.ExitCode`: 2 configuration, 4 index unreachable,
7 credentials).
"""

from __future__ import annotations

__all__ = ["configure", "run", "run_checks"]

import argparse
from collections.abc import Mapping
from datetime import datetime, timezone

from .. import provenance, trusted
from ..checklist import (
    Check,
    Status,
    exit_code,
    failed_check,
    judge_auth,
    listing_checks,
    settle_identity,
    token_checks,
)
from ..claims import compare, parse_publisher, report_lines
from ..config import (
    INDEX_NAMES,
    IndexName,
    IndexSettings,
    Settings,
    load_settings,
    trusted_mode,
)
from ..credentials import resolve
from ..endpoints import strip_credentials
from ..errors import (
    ConfigError,
    CredentialError,
    DistError,
    ExitCode,
    IndexUnavailable,
)
from ..index import fetch_index_state
from ..indexstate import IndexState
from ..manifest import DistFile, kind_of
from ..metadata import resolved_info
from ..output import Reporter
from ..project import ProjectInfo
from ..retry import RetryPolicy
from ..upload import probe_auth

_MARK = {"ok": "ok", "fail": "fail", "warn": "warn", "skip": "info"}


def identity_check(
    settings: Settings, index: IndexSettings, environ: Mapping[str, str]
) -> Check | None:
    """In CI (trusted publishing not off): the identity token's claims for ``index`` and how
    they compare with ``trusted-publisher``; a reusable workflow or a mismatch fails.
    None outside CI."""
    if not trusted.in_ci(environ) or trusted_mode(environ, settings.values) == "off":
        return None
    name = f"{index.name}.identity"
    publisher = parse_publisher(settings.get("trusted-publisher"))
    try:
        claims = trusted.identity_claims(
            index,
            environ,
            override=str(settings.get(f"{index.name}-trusted-publishing-url")),
            timeout=float(settings.get("timeout")),
        )
    except CredentialError as exc:
        return Check(name, "skip", f"no CI identity to show: {exc.message}", exc.fix)
    lines = report_lines(claims, publisher)
    mismatches = compare(claims, publisher)
    if not mismatches:
        return Check(name, "ok", "\n".join(lines))
    fix = "\n".join(dict.fromkeys(m.fix for m in mismatches))
    return Check(name, "fail", "\n".join(lines), fix, ExitCode.CREDENTIALS)


def provenance_checks(
    settings: Settings,
    index: IndexSettings,
    info: ProjectInfo,
    state: IndexState,
    environ: Mapping[str, str],
) -> list[Check]:
    """The provenance of this version's files on the index (or of the latest release's), as
    upload_prod checks it after publishing (provenance-check)."""
    mode = provenance.mode_for(str(settings.get("provenance-check")), index, trusted.in_ci(environ))
    versions = sorted(state.versions)
    if mode == "skip" or not versions:
        return []
    version = info.version if info.version in state.versions else versions[-1]
    files = [
        DistFile(f.filename, f.sha256, 0, kind_of(f.filename))
        for f in state.files_for(version)
        if f.sha256 is not None
    ]
    results = provenance.check_files(
        index,
        info.name,
        str(version),
        files,
        provenance.expected_publisher(settings.values, index, environ),
        timeout=float(settings.get("timeout")),
    )
    failing = {id(r) for r in provenance.failures(results, mode)}
    checks = []
    for r in results:
        status: Status = "ok" if r.status == "ok" else "fail" if id(r) in failing else "warn"
        code = ExitCode.VERIFY_FAILED if status == "fail" else None
        checks.append(Check(f"{index.name}.provenance", status, r.line(), r.fix, code))
    return checks


def _index_checks(
    settings: Settings,
    name: IndexName,
    info: ProjectInfo,
    environ: Mapping[str, str],
    *,
    auth_check: bool,
) -> list[Check]:
    index = settings.index(name)
    checks: list[Check] = []
    timeout = float(settings.get("timeout"))
    # Reachable, project, version.
    try:
        state = fetch_index_state(
            index.index_url,
            info.name,
            policy=RetryPolicy.from_settings(settings),
            timeout=timeout,
        )
    except IndexUnavailable as exc:
        checks.append(failed_check(f"{name}.index", exc))
    else:
        where = strip_credentials(index.index_url)
        checks.append(Check(f"{name}.index", "ok", f"{name} index reachable: {where}"))
        checks += listing_checks(index, info, state)
        checks += provenance_checks(settings, index, info, state, environ)
    # The CI identity's claims, before anything is minted.
    identity = identity_check(settings, index, environ)
    checks += [identity] if identity is not None else []
    # Credential.
    try:
        credential = resolve(index, info.name, environ, options=settings.values)
    except CredentialError as exc:
        checks.append(failed_check(f"{name}.credential", exc))
        return checks
    settle_identity(
        identity,
        trusted_publishing=credential.renewer is not None,
        mode=trusted_mode(environ, settings.values),
    )
    checks.append(
        Check(
            f"{name}.credential",
            "ok",
            f"credential for the {name} index: {credential.source} "
            f"(username {credential.username})",
        )
    )
    for warning in credential.warnings:
        checks.append(Check(f"{name}.transport", "warn", warning, "Use https:// if you can."))
    username, secret = credential.get()
    # What the token says (offline).
    from ..diagnose import explain_403_with_token
    from ..tokens import check_token

    findings = check_token(
        secret,
        username=username,
        index=index,
        project=info.name,
        now=datetime.now(timezone.utc),
    )
    checks += token_checks(name, findings)
    # Does the index accept it?
    if auth_check:
        answer = probe_auth(index, credential, timeout=timeout)
        hint = explain_403_with_token(findings)
        checks.append(judge_auth(answer, index, info.name, hint))
    else:
        checks.append(Check(f"{name}.auth", "skip", "the index was not asked (--no-auth-check)"))
    return checks


def run_checks(
    settings: Settings,
    environ: Mapping[str, str],
    indexes: tuple[IndexName, ...] = INDEX_NAMES,
    *,
    auth_check: bool = True,
) -> list[Check]:
    """The whole checklist, in order."""
    try:
        info = resolved_info(settings.root, settings.pyproject, settings.dist_dir)
    except (ConfigError, DistError) as exc:
        return [failed_check("project", exc)]
    kind = "dynamic version" if info.version is None else "static version in pyproject.toml"
    checks = [
        Check(
            "project", "ok", f"project {info.name} {info.version or ''} ({kind})".replace("  ", " ")
        )
    ]
    for name in indexes:
        checks += _index_checks(settings, name, info, environ, auth_check=auth_check)
    return checks


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """doctor's own options (--json and --index are declared in release.cli)."""
    del command  # the Command protocol's signature; one parser per command
    parser.add_argument(
        "--no-auth-check",
        action="store_true",
        help="do not ask the index whether it accepts the credential",
    )


def _print(out: Reporter, checks: list[Check]) -> None:
    section = ""
    for check in checks:
        head = check.name.split(".")[0]
        if head != section:
            section = head
            out.heading("project" if head == "project" else f"{head} index")
        lines = check.title.splitlines() or [""]
        out.line(lines[0], _MARK[check.status])
        for extra in lines[1:]:
            out.line(f"  {extra}")
        if check.fix and check.status in ("fail", "warn"):
            fix_lines = check.fix.splitlines()
            out.line(f"  Fix: {fix_lines[0]}")
            for extra in fix_lines[1:]:
                out.line(f"  {extra}")


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    settings = load_settings(args.root, environ)
    indexes: tuple[IndexName, ...] = INDEX_NAMES if args.index == "both" else (args.index,)
    checks = run_checks(settings, environ, indexes, auth_check=not args.no_auth_check)
    _print(out, checks)
    code = exit_code(checks)
    failing = [c for c in checks if c.status == "fail"]
    out.line()
    if failing:
        out.line(
            f"{len(failing)} check(s) failed: a release would fail (exit {int(code)}).", "fail"
        )
        first = next(c for c in failing if (c.exit_code or ExitCode.FAILURE) == code)
        out.failure = (f"{len(failing)} check(s) failed; first: {first.title}", first.fix)
    else:
        warnings = sum(c.status == "warn" for c in checks)
        out.line(
            "Nothing found that would stop a release"
            + (f" ({warnings} warning(s) above)." if warnings else "."),
            "ok",
        )
    out.document.update({"checks": [c.to_json() for c in checks], "ok": not failing})
    return int(code)

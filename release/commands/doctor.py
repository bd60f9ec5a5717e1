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
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone

from packaging.version import Version

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
from ..credentials import find_unbound, resolve
from ..endpoints import strip_credentials
from ..errors import (
    ConfigError,
    CredentialError,
    DistError,
    ExitCode,
    IndexUnavailable,
)
from ..index import fetch_index_state, for_a_read
from ..indexstate import IndexState, Keep, VersionSet
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
    latest = state.latest or max(state.versions, default=None)
    if mode == "skip" or latest is None:
        return []
    version = (
        info.version if info.version is not None and info.version in state.versions else latest
    )
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


def _read(settings: Settings, name: IndexName, info: ProjectInfo) -> IndexState | IndexUnavailable:
    """The index's state for the project, or why it could not be read."""
    index = settings.index(name)
    try:
        return fetch_index_state(
            index.index_url,
            info.name,
            policy=RetryPolicy.from_settings(settings),
            timeout=float(settings.get("timeout")),
            keep=Keep.of(info.version, latest=True),  # the provenance of one of them
        )
    except IndexUnavailable as exc:
        return for_a_read(exc)


def _index_checks(
    settings: Settings,
    name: IndexName,
    info: ProjectInfo,
    environ: Mapping[str, str],
    read: tuple[IndexState | IndexUnavailable, AbstractSet[Version]],
    *,
    auth_check: bool,
) -> list[Check]:
    """``read``: this index's state (or why it could not be read), and the versions every
    index read holds (a suggested version is free on all of them)."""
    index = settings.index(name)
    checks: list[Check] = []
    timeout = float(settings.get("timeout"))
    # Reachable, project, version.
    state, taken = read
    if isinstance(state, IndexUnavailable):
        checks.append(failed_check(f"{name}.index", state))
    else:
        where = strip_credentials(index.index_url)
        checks.append(Check(f"{name}.index", "ok", f"the {name} index answers: {where}"))
        checks += listing_checks(index, info, state, taken)
        checks += provenance_checks(settings, index, info, state, environ)
    # The CI identity's claims, before anything is minted.
    identity = identity_check(settings, index, environ)
    checks += [identity] if identity is not None else []
    # Credential.
    try:
        credential = resolve(index, info.name, environ, options=settings.values)
    except CredentialError as exc:
        checks.append(failed_check(f"{name}.credential", exc))
        # A token that may not go to this index is still decoded offline: both problems at once.
        found = find_unbound(index, info.name, environ, options=settings.values)
        if found is not None:
            checks += _token_findings(name, index, info, found.username, found.password)
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


def _token_findings(
    name: IndexName, index: IndexSettings, info: ProjectInfo, username: str, secret: str
) -> list[Check]:
    from ..tokens import check_token

    findings = check_token(
        secret, username=username, index=index, project=info.name, now=datetime.now(timezone.utc)
    )
    return token_checks(name, findings)


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
    states = {name: _read(settings, name, info) for name in indexes}
    taken = VersionSet()
    for state in states.values():
        if isinstance(state, IndexState):
            taken |= state.versions
    for name in indexes:
        read = (states[name], taken)
        checks += _index_checks(settings, name, info, environ, read, auth_check=auth_check)
    return checks


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """doctor's own options (--json and --index are declared in release.cli)."""
    del command  # the Command protocol's signature; one parser per command
    parser.add_argument(
        "--no-auth-check",
        action="store_true",
        help="do not ask the index whether it accepts the credential",
    )


def _detail(check: Check) -> list[str]:
    """The lines printed under a check's first line: the rest of its title, then its fix."""
    lines = [f"  {extra}" for extra in check.title.splitlines()[1:]]
    if check.fix and check.status in ("fail", "warn"):
        fix_lines = check.fix.splitlines()
        lines += [f"  Fix: {fix_lines[0]}", *(f"  {extra}" for extra in fix_lines[1:])]
    return lines


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _units(detail: list[str]) -> list[list[str]]:
    """``detail`` in units: a line and the more deeply indented lines that continue it (an
    INI block under "add to ~/.pypirc:" is one unit, pasted whole)."""
    units: list[list[str]] = []
    for text in detail:
        if units and _indent(text) > max(_indent(units[-1][0]), 4):
            units[-1].append(text)
        else:
            units.append([text])
    return units


def _differing(detail: list[str], seen: set[str]) -> list[str]:
    """The units of ``detail`` with a line not in ``seen``, each with the lines that introduce
    it (ending with ":", less indented, above it), so that what is printed still reads."""
    kept: list[str] = []
    heads: list[str] = []  # the introducing lines above the current unit, outermost first
    for unit in _units(detail):
        while heads and _indent(heads[-1]) >= _indent(unit[0]):
            heads.pop()
        if any(text not in seen for text in unit):
            kept += [head for head in heads if head not in kept]
            kept += unit
        if len(unit) == 1 and unit[0].rstrip().endswith(":"):
            heads.append(unit[0])
    return kept


def _print(out: Reporter, checks: list[Check]) -> None:
    """The checklist by section. A long help block already shown for the other index (the
    13 lines of "no credential") is not printed twice: only its lines that differ are."""
    section = ""
    shown: dict[str, tuple[str, set[str]]] = {}  # check kind -> (first index, its lines)
    for check in checks:
        head, _, kind = check.name.partition(".")
        if head != section:
            section = head
            out.heading("project" if head == "project" else f"{head} index")
        out.line((check.title.splitlines() or [""])[0], _MARK[check.status])
        detail = _detail(check)
        earlier = shown.get(kind)
        if earlier is None or len(detail) <= 3:
            shown.setdefault(kind, (head, set(detail)))
            for text in detail:
                out.line(text)
            continue
        new = _differing(detail, earlier[1])
        for text in new:
            out.line(text)
        if len(new) < len(detail):
            out.line(f"  (and the rest as for the {earlier[0]} index above)")


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

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

__all__ = ["Check", "configure", "probe_auth", "run", "run_checks"]

import argparse
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from requests_toolbelt.multipart.encoder import MultipartEncoder

from .. import http, provenance, trusted
from ..claims import compare, parse_publisher, report_lines
from ..config import (
    INDEX_NAMES,
    IndexName,
    IndexSettings,
    Settings,
    load_settings,
    trusted_mode,
)
from ..credentials import Credential, resolve
from ..endpoints import strip_credentials
from ..errors import (
    ConfigError,
    CredentialError,
    DistError,
    ExitCode,
    IndexUnavailable,
    ReleaseError,
)
from ..index import fetch_index_state
from ..indexstate import IndexState
from ..manifest import DistFile, kind_of
from ..metadata import resolved_info
from ..output import Reporter
from ..project import ProjectInfo
from ..retry import RetryPolicy, Transient, is_transient_status

Status = Literal["ok", "fail", "warn", "skip"]
_MARK = {"ok": "ok", "fail": "fail", "warn": "warn", "skip": "info"}


@dataclasses.dataclass
class Check:
    """One line of the checklist. ``name`` is stable (for --json and tests)."""

    name: str
    status: Status
    title: str
    fix: str = ""
    exit_code: ExitCode | None = None  # for "fail": what a release would exit with

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "title": self.title,
            "fix": self.fix,
            "exit_code": int(self.exit_code) if self.exit_code is not None else None,
        }


def _fail(name: str, error: ReleaseError) -> Check:
    return Check(name, "fail", error.message, error.fix, error.exit_code)


@dataclasses.dataclass(frozen=True)
class AuthAnswer:
    status: int | None  # None: no answer (connection failed)
    reason: str
    body: str


def probe_auth(index: IndexSettings, credential: Credential, *, timeout: float) -> AuthAnswer:
    """POST an upload form without a file: the index answers whether it knows the credential."""
    encoder = MultipartEncoder(fields=[(":action", "file_upload"), ("protocol_version", "1")])
    with http.make_session("doctor") as session:
        try:
            answer = http.exchange(
                session,
                "POST",
                index.upload_url,
                limits=http.Limits.short(timeout),
                data=encoder,
                headers={"Content-Type": encoder.content_type},
                auth=credential.get(),
            )
        except Transient as exc:
            return AuthAnswer(None, exc.what.split(" ", 1)[0], "")
    return AuthAnswer(answer.status, answer.reason, answer.shown_text[:2000])


def judge_auth(
    answer: AuthAnswer, index: IndexSettings, project: str, token_hint: str | None
) -> Check:
    """What the answer to the empty upload says about the credential. Pure."""
    from ..diagnose import explain_upload

    name = f"{index.name}.auth"
    where = strip_credentials(index.upload_url)
    if answer.status is None:
        return Check(
            name,
            "fail",
            f"{where} did not answer an upload request ({answer.reason}).",
            "Check the upload URL (RELEASE_" + index.name.upper() + "_UPLOAD_URL) and the "
            "connection.",
            ExitCode.INDEX_UNAVAILABLE,
        )
    status = answer.status
    said = f"{status} {answer.reason}".strip()
    if status in (401, 403) or 300 <= status < 400:
        diagnosis = explain_upload(
            status, answer.reason, answer.body, project=project, index_name=index.name
        )
        title = f"{where} refuses the credential ({said}): {diagnosis.cause}"
        if diagnosis.code != "unknown" and said not in diagnosis.title:
            title = f"{where} refuses the credential ({said}): {diagnosis.title.rstrip('.')}. "
            title += diagnosis.cause
        if status in (401, 403) and token_hint:
            title += f"\n{token_hint}"
        code = ExitCode.CREDENTIALS if status in (401, 403) else ExitCode.USAGE
        return Check(name, "fail", title, diagnosis.fix, code)
    if status in (404, 405):
        return Check(
            name,
            "fail",
            f"{where} is not an upload endpoint (answered {said}).",
            f"Set RELEASE_{index.name.upper()}_UPLOAD_URL to the index's upload URL "
            "(for Warehouse: .../legacy/).",
            ExitCode.USAGE,
        )
    if 400 <= status < 500 and not is_transient_status(status):
        return Check(
            name,
            "ok",
            f"{where} accepts the credential (an upload without a file was answered {said}, "
            "after authentication; upload permission for the project is checked with the "
            "first real file)",
        )
    if 200 <= status < 300:
        return Check(
            name,
            "warn",
            f"{where} answered {said} to an upload without a file: it cannot tell whether "
            "the credential is good.",
            "Nothing to do unless the upload is refused.",
        )
    return Check(
        name,
        "warn",
        f"{where} answered {said}: the credential could not be checked now.",
        "Run doctor again later.",
    )


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


def _settle_identity(identity: Check | None, credential: Credential, mode: str) -> None:
    """A mismatch only fails when trusted publishing is what the upload would use."""
    if identity is None or identity.status != "fail" or credential.renewer is not None:
        return
    if mode != "force":
        identity.status = "warn"
        identity.exit_code = None


def _listing_checks(index: IndexSettings, info: ProjectInfo, state: IndexState) -> list[Check]:
    """The project and its version on the index that was read."""
    name = index.name
    checks: list[Check] = []
    if state.exists:
        count = len(state.versions)
        checks.append(
            Check(
                f"{name}.project",
                "ok",
                f"{info.name} is on the {name} index ({count} version(s))",
            )
        )
    else:
        checks.append(
            Check(
                f"{name}.project",
                "ok",
                f"{info.name} is not on the {name} index yet: the first upload creates it"
                + (
                    " (with a user-wide token or a pending trusted publisher)"
                    if index.warehouse is not None
                    else ""
                ),
            )
        )
    if info.version is None:
        checks.append(
            Check(f"{name}.version", "skip", "version is dynamic: compared after the build")
        )
    elif info.version in state.versions:
        files = state.files_for(info.version)
        checks.append(
            Check(
                f"{name}.version",
                "warn",
                f"{info.version} is already on the {name} index ({len(files)} file(s)): "
                "files identical byte for byte are skipped, any other is refused.",
                "Bump the version (nox -s bump_version -- patch), unless you are resuming "
                "an interrupted release of these very files.",
            )
        )
    else:
        checks.append(
            Check(f"{name}.version", "ok", f"{info.version} is not on the {name} index yet")
        )
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
        checks.append(_fail(f"{name}.index", exc))
    else:
        where = strip_credentials(index.index_url)
        checks.append(Check(f"{name}.index", "ok", f"{name} index reachable: {where}"))
        checks += _listing_checks(index, info, state)
        checks += provenance_checks(settings, index, info, state, environ)
    # The CI identity's claims, before anything is minted.
    identity = identity_check(settings, index, environ)
    checks += [identity] if identity is not None else []
    # Credential.
    try:
        credential = resolve(index, info.name, environ, options=settings.values)
    except CredentialError as exc:
        checks.append(_fail(f"{name}.credential", exc))
        return checks
    _settle_identity(identity, credential, trusted_mode(environ, settings.values))
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
    for finding in findings:
        level = {"error": "fail", "warning": "warn", "info": "ok"}[finding.level]
        checks.append(
            Check(
                f"{name}.token.{finding.code or 'check'}",
                level,  # type: ignore[arg-type]  # one of Status by the mapping above
                finding.message,
                finding.fix,
                ExitCode.CREDENTIALS if level == "fail" else None,
            )
        )
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
        return [_fail("project", exc)]
    kind = "dynamic version" if info.version is None else "static version in pyproject.toml"
    checks = [
        Check(
            "project", "ok", f"project {info.name} {info.version or ''} ({kind})".replace("  ", " ")
        )
    ]
    for name in indexes:
        checks += _index_checks(settings, name, info, environ, auth_check=auth_check)
    return checks


def exit_code(checks: list[Check]) -> ExitCode:
    """The exit code of the first failing check, or OK."""
    for check in checks:
        if check.status == "fail":
            return check.exit_code or ExitCode.FAILURE
    return ExitCode.OK


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

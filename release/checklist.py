"""doctor's checklist as data: each check's verdict from what was read. Pure.

The reading (the index, the credential, the empty upload that asks whether the index knows the
credential) is done by ``python -m release doctor`` (release/commands/doctor.py) and
:func:`release.upload.probe_auth`; here what the answers mean.
"""

from __future__ import annotations

__all__ = [
    "AuthAnswer",
    "Check",
    "Status",
    "exit_code",
    "failed_check",
    "judge_auth",
    "listing_checks",
    "settle_identity",
    "token_checks",
]

import dataclasses
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Literal

from packaging.version import Version

from .config import IndexSettings
from .diagnose import explain_upload
from .endpoints import strip_credentials
from .errors import ExitCode, ReleaseError
from .indexstate import IndexState
from .project import ProjectInfo
from .retry import is_transient_status
from .tokens import Finding
from .versions import next_free_version

Status = Literal["ok", "fail", "warn", "skip"]


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


def failed_check(name: str, error: ReleaseError) -> Check:
    return Check(name, "fail", error.message, error.fix, error.exit_code)


@dataclasses.dataclass(frozen=True)
class AuthAnswer:
    status: int | None  # None: no answer (connection failed)
    reason: str
    body: str


def judge_auth(
    answer: AuthAnswer, index: IndexSettings, project: str, token_hint: str | None
) -> Check:
    """What the answer to the empty upload says about the credential. Pure."""
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


def settle_identity(identity: Check | None, *, trusted_publishing: bool, mode: str) -> None:
    """A mismatch only fails when trusted publishing is what the upload would use
    (``trusted_publishing``: the credential is a minted one; ``mode``: trusted-publishing)."""
    if identity is None or identity.status != "fail" or trusted_publishing:
        return
    if mode != "force":
        identity.status = "warn"
        identity.exit_code = None


def listing_checks(
    index: IndexSettings,
    info: ProjectInfo,
    state: IndexState,
    taken: AbstractSet[Version] = frozenset(),
) -> list[Check]:
    """The project and its version on the index that was read; a version already there gets
    the next one free on this index and on the others read (``taken``), never a published one."""
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
        free = next_free_version(info.version, state.versions | taken)
        checks.append(
            Check(
                f"{name}.version",
                "warn",
                f"{info.version} is already on the {name} index ({len(files)} file(s)): "
                "files identical byte for byte are skipped, any other is refused.",
                f"Bump to the next free version, {free}: nox -s bump_version -- {free} "
                "(unless you are resuming an interrupted release of these very files).",
            )
        )
    else:
        checks.append(
            Check(f"{name}.version", "ok", f"{info.version} is not on the {name} index yet")
        )
    return checks


def exit_code(checks: list[Check]) -> ExitCode:
    """The exit code of the first failing check, or OK."""
    for check in checks:
        if check.status == "fail":
            return check.exit_code or ExitCode.FAILURE
    return ExitCode.OK


def token_checks(name: str, findings: Sequence[Finding]) -> list[Check]:
    """The offline token check's findings as checklist lines of the ``name`` index."""
    status: dict[str, Status] = {"error": "fail", "warning": "warn", "info": "ok"}
    return [
        Check(
            f"{name}.token.{finding.code or 'check'}",
            status[finding.level],
            finding.message,
            finding.fix,
            ExitCode.CREDENTIALS if finding.level == "error" else None,
        )
        for finding in findings
    ]

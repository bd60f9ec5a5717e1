"""What a CI identity token claims, and whether that matches the trusted publisher. Pure.

PyPI says only ``invalid-publisher`` when an identity token's claims match no registered
publisher; this module shows the claims PyPI matches for each provider and compares them with
the ``trusted-publisher`` option (what the maintainer registered on PyPI), naming each field that
differs with both values.

What PyPI matches (Warehouse ``oidc/models``):

* GitHub: ``repository`` (owner/name, case-insensitive), the workflow file named in
  ``job_workflow_ref`` (``owner/name/.github/workflows/<file>@<ref>``), and ``environment`` when
  the publisher names one. A job defined in a reusable workflow has a ``job_workflow_ref`` that
  names the reusable file, not the registered one: PyPI refuses it (warehouse#11096).
* GitLab: ``project_path`` (namespace/project, case-insensitive), the top-level CI file in
  ``ci_config_ref_uri`` (``gitlab.com/<project_path>//<file path>@<ref>``), and ``environment``.

The token is never shown; only the claims, which are not secret (GitHub prints them in job logs).
"""

from __future__ import annotations

__all__ = [
    "Mismatch",
    "Provider",
    "Publisher",
    "compare",
    "parse_publisher",
    "provider_of",
    "publisher_of",
    "report_lines",
    "reusable_workflow",
    "shown_claims",
    "workflow_of",
]

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .errors import ConfigError

Provider = Literal["github", "gitlab", "google", "activestate", "other"]

ISSUERS: dict[str, Provider] = {
    "https://token.actions.githubusercontent.com": "github",
    "https://gitlab.com": "gitlab",
    "https://accounts.google.com": "google",
    "https://platform.activestate.com/api/v1/oauth/oidc": "activestate",
}

# The claims PyPI matches (and those that help explain a mismatch), in display order.
SHOWN: dict[Provider, tuple[str, ...]] = {
    "github": (
        "repository",
        "repository_owner",
        "repository_owner_id",
        "workflow_ref",
        "job_workflow_ref",
        "environment",
        "ref",
    ),
    "gitlab": (
        "project_path",
        "namespace_path",
        "ci_config_ref_uri",
        "environment",
        "ref_path",
    ),
    "google": ("email", "sub"),
    "activestate": ("organization", "project", "actor", "sub"),
    "other": ("iss", "sub"),
}

FIELDS = ("repository", "workflow", "environment")
_OPTION = "[tool.release] trusted-publisher"
_EXAMPLE = '["repository=owner/name", "workflow=release.yml", "environment=pypi"]'


@dataclasses.dataclass(frozen=True)
class Publisher:
    """The trusted publisher as registered on the index (the ``trusted-publisher`` option).

    ``workflow`` is the workflow file's name (GitHub: ``release.yml``) or the CI file's path
    (GitLab: ``.gitlab-ci.yml``); an empty field is not compared.
    """

    repository: str = ""
    workflow: str = ""
    environment: str = ""


@dataclasses.dataclass(frozen=True)
class Mismatch:
    field: str  # one of FIELDS, or "reusable-workflow"
    expected: str
    actual: str
    fix: str

    def line(self) -> str:
        if self.field == "reusable-workflow":
            return (
                f"reusable workflow: this job is defined in {self.actual}, called from "
                f"{self.expected}"
            )
        return (
            f"{self.field}: the publisher says {self.expected!r}, "
            f"this job's token says {self.actual or '(none)'!r}"
        )


def parse_publisher(entries: Sequence[str] | str) -> Publisher | None:
    """``["repository=o/n", "workflow=release.yml", "environment=pypi"]`` -> Publisher.

    A string is split at commas (the environment variable's form). None when empty; a
    ConfigError naming the bad entry otherwise.
    """
    if isinstance(entries, str):
        entries = [part.strip() for part in entries.split(",") if part.strip()]
    values: dict[str, str] = {}
    for entry in entries:
        key, sep, value = str(entry).partition("=")
        key = key.strip().lower()
        if not sep or key not in FIELDS or not value.strip():
            raise ConfigError(
                f"{_OPTION} entry {entry!r} is not one of repository=..., workflow=..., "
                "environment=...",
                f"Describe the publisher as registered on the index, e.g. {_EXAMPLE}.",
            )
        if key in values:
            raise ConfigError(
                f"{_OPTION} names {key} twice.", f"Keep one {key}=... entry, e.g. {_EXAMPLE}."
            )
        values[key] = value.strip()
    if not values:
        return None
    workflow = values.get("workflow", "")
    return Publisher(values.get("repository", ""), workflow, values.get("environment", ""))


def provider_of(claims: Mapping[str, Any]) -> Provider:
    return ISSUERS.get(str(claims.get("iss", "")).rstrip("/"), "other")


def shown_claims(claims: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of the claims PyPI matches for the token's provider, in a fixed order;
    absent ones as ``(absent)``."""
    provider = provider_of(claims)
    rows = [("iss", str(claims.get("iss", "(absent)"))), ("aud", str(claims.get("aud", "")))]
    for name in SHOWN[provider]:
        if name in ("iss",):
            continue
        value = claims.get(name)
        rows.append((name, "(absent)" if value in (None, "") else str(value)))
    return rows


def reusable_workflow(claims: Mapping[str, Any]) -> tuple[str, str] | None:
    """(calling workflow, reusable workflow) when a GitHub job runs in a reusable workflow.

    ``workflow_ref`` names the workflow that was triggered, ``job_workflow_ref`` the file the
    job is defined in; they differ exactly when the job comes from a reusable workflow.
    """
    caller, job = claims.get("workflow_ref"), claims.get("job_workflow_ref")
    if isinstance(caller, str) and isinstance(job, str) and caller and job and caller != job:
        return caller, job
    return None


def _ref_path(ref: str, separator: str) -> tuple[str, str]:
    """``owner/name/.github/workflows/f.yml@refs/...`` split at ``separator`` -> (repo, path)."""
    head = ref.rsplit("@", 1)[0]
    repo, _, path = head.partition(separator)
    return repo, path


def workflow_of(claims: Mapping[str, Any]) -> tuple[str, str]:
    """(repository, workflow) as PyPI derives them from the token, or ("", "")."""
    provider = provider_of(claims)
    if provider == "github":
        job = str(claims.get("job_workflow_ref") or claims.get("workflow_ref") or "")
        repo, path = _ref_path(job, "/.github/workflows/")
        return str(claims.get("repository", "")), (path if repo else "")
    if provider == "gitlab":
        uri = str(claims.get("ci_config_ref_uri", ""))
        _host_repo, path = _ref_path(uri, "//")
        return str(claims.get("project_path", "")), path
    return "", ""


def _workflow_matches(provider: Provider, expected: str, actual: str) -> bool:
    if provider == "github":  # registered as a bare file name; accept the path too
        return expected.rsplit("/", 1)[-1] == actual
    return expected.lstrip("/") == actual.lstrip("/")


def _fixes(provider: Provider) -> dict[str, str]:
    where = "the project's Publishing settings on the index"
    ci_file = "workflow file" if provider == "github" else "top-level CI file (.gitlab-ci.yml)"
    return {
        "repository": (
            f"The repository was renamed, moved or forked: register the new name in {where} "
            "(or correct trusted-publisher if the option is stale)."
        ),
        "workflow": (
            f"Upload from the registered {ci_file}, or register this one in {where}; the name "
            "must match exactly, including the extension."
        ),
        "environment": (
            "Set the upload job's `environment:` to the registered name, or change the "
            f"environment in {where} (an empty environment there accepts any)."
        ),
    }


def compare(claims: Mapping[str, Any], publisher: Publisher | None) -> list[Mismatch]:
    """Every way the token's claims miss ``publisher`` (and a reusable workflow, always)."""
    provider = provider_of(claims)
    found: list[Mismatch] = []
    reusable = reusable_workflow(claims) if provider == "github" else None
    if reusable:
        caller, job = reusable
        found.append(
            Mismatch(
                "reusable-workflow",
                caller,
                job,
                "PyPI does not accept a job defined in a reusable workflow as a trusted "
                "publisher: run the upload step in the workflow registered on the index "
                f"({caller.rsplit('@', 1)[0]}), not in the reusable one it calls.",
            )
        )
    if publisher is None or provider not in ("github", "gitlab"):
        return found
    repository, workflow = workflow_of(claims)
    fixes = _fixes(provider)
    environment = str(claims.get("environment") or "")
    same = {
        "repository": publisher.repository.lower() == repository.lower(),
        "workflow": _workflow_matches(provider, publisher.workflow, workflow),
        "environment": publisher.environment.lower() == environment.lower(),
    }
    actual = {"repository": repository, "workflow": workflow, "environment": environment}
    for field in FIELDS:
        expected = getattr(publisher, field)
        if expected and not same[field]:
            found.append(Mismatch(field, expected, actual[field], fixes[field]))
    return found


def publisher_of(claims: Mapping[str, Any]) -> Publisher | None:
    """The trusted publisher these claims would match (GitHub, GitLab), or None."""
    provider = provider_of(claims)
    if provider not in ("github", "gitlab"):
        return None
    repository, workflow = workflow_of(claims)
    if not repository or not workflow:
        return None
    if provider == "github":
        workflow = workflow.rsplit("/", 1)[-1]
    return Publisher(repository, workflow, str(claims.get("environment") or ""))


def report_lines(claims: Mapping[str, Any], publisher: Publisher | None) -> list[str]:
    """The claims, then the comparison, as lines for doctor and for a mint failure."""
    provider = provider_of(claims)
    lines = [f"identity token claims ({provider}; the token itself is not shown):"]
    width = max(len(name) for name, _ in shown_claims(claims))
    lines += [f"  {name.ljust(width)}  {value}" for name, value in shown_claims(claims)]
    mismatches = compare(claims, publisher)
    if publisher is None:
        lines.append(
            f"no {_OPTION} to compare with: set it to the publisher registered on the index, "
            f"e.g. {_EXAMPLE}"
        )
    elif not [m for m in mismatches if m.field in FIELDS]:
        named = ", ".join(f"{f}={getattr(publisher, f)}" for f in FIELDS if getattr(publisher, f))
        lines.append(f"the claims match {_OPTION} ({named})")
    lines += [f"MISMATCH {m.line()}" for m in mismatches]
    return lines

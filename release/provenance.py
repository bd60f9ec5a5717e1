"""After publishing: does the index hold provenance for each file, from the expected publisher?

PyPI (and TestPyPI) serve each file's PEP 740 provenance at its integrity API,
``GET <host>/integrity/<project>/<version>/<filename>/provenance`` (``Accept:
application/vnd.pypi.integrity.v1+json``; 404 when the file has none). A provenance object holds
attestation bundles, each naming the trusted publisher that uploaded the file and the
attestations it sent. For each file we check, in this order:

1. there is provenance at all (``missing``: uploaded without attestations);
2. its publisher is the expected one (``foreign``: another repository or workflow uploaded it),
   compared field by field like :func:`release.claims.compare`;
3. each attestation verifies, with pypi-attestations and sigstore, against this very file
   (name and sha256) and the publisher's identity (``invalid`` otherwise).

Offline verification (``offline=True``) uses the trust root sigstore ships instead of refreshing
it over TUF; the tests use it, CI may too.
"""

from __future__ import annotations

__all__ = [
    "ACCEPT",
    "Result",
    "check_file",
    "check_files",
    "expected_publisher",
    "failures",
    "integrity_base",
    "integrity_url",
    "judge_publisher",
    "mode_for",
]

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from packaging.utils import canonicalize_name

from . import endpoints, http
from .claims import Publisher
from .config import IndexSettings
from .manifest import DistFile
from .retry import Transient

ACCEPT = "application/vnd.pypi.integrity.v1+json"
MAX_BYTES = 4 * 1024 * 1024  # a provenance object is a few KiB per attestation

Status = Literal["ok", "missing", "foreign", "invalid", "unavailable"]

_FIX = {
    "missing": (
        "Upload with attestations: publish from CI with trusted publishing (upload_test and "
        "upload_prod sign each file unless attestations = false), or put "
        "<file>.publish.attestation beside each file in dist/. Files already on the index "
        "cannot get provenance afterwards: it shows from the next release on."
    ),
    "foreign": (
        "Someone else's publisher uploaded this file: check the project's trusted publishers "
        "and collaborators on the index, and correct trusted-publisher if the repository or "
        "workflow was renamed."
    ),
    "invalid": (
        "Do not trust this file until its provenance is explained: compare it with the build "
        "that produced it, and report it to the index's administrators."
    ),
    "unavailable": "Run doctor again later: the integrity API did not answer.",
}


@dataclasses.dataclass(frozen=True)
class Result:
    filename: str
    status: Status
    detail: str
    publisher: str = ""  # as the provenance names it, e.g. "GitHub owner/name release.yml"

    @property
    def fix(self) -> str:
        return _FIX.get(self.status, "")

    def line(self) -> str:
        return f"{self.filename}: provenance {self.status}: {self.detail}"


def integrity_base(index: IndexSettings) -> str:
    """Where ``/integrity/`` lives: PyPI's and TestPyPI's sites, else the index URL without its
    ``/simple/`` path. Pure."""
    site = endpoints.site_url(index.warehouse)
    if site is not None:
        return site
    parts = urlsplit(index.index_url)
    path = parts.path.rstrip("/")
    if path.endswith("/simple"):
        path = path[: -len("/simple")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def integrity_url(base: str, project: str, version: str, filename: str) -> str:
    """The provenance URL of one file. Pure."""
    parts = (canonicalize_name(project), version, filename)
    return (
        base.rstrip("/")
        + "/integrity/"
        + "/".join(quote(p, safe="") for p in parts)
        + ("/provenance")
    )


def _describe(publisher: Any) -> str:
    kind = getattr(publisher, "kind", "?")
    repository = getattr(publisher, "repository", "")
    workflow = getattr(publisher, "workflow", None) or getattr(publisher, "workflow_filepath", "")
    environment = getattr(publisher, "environment", None)
    text = f"{kind} {repository} {workflow}".strip()
    return text + (f" (environment {environment})" if environment else "")


def judge_publisher(publisher: Any, expected: Publisher | None) -> str | None:
    """Why the provenance's publisher is not ``expected``, or None. Pure."""
    if expected is None:
        return None
    repository = str(getattr(publisher, "repository", "") or "")
    workflow = str(
        getattr(publisher, "workflow", None) or getattr(publisher, "workflow_filepath", "") or ""
    )
    environment = str(getattr(publisher, "environment", None) or "")
    problems = []
    if expected.repository and expected.repository.lower() != repository.lower():
        problems.append(f"repository {repository!r}, expected {expected.repository!r}")
    if expected.workflow and expected.workflow.rsplit("/", 1)[-1] != workflow.rsplit("/", 1)[-1]:
        problems.append(f"workflow {workflow!r}, expected {expected.workflow!r}")
    if expected.environment and environment and expected.environment.lower() != environment.lower():
        problems.append(f"environment {environment!r}, expected {expected.environment!r}")
    return "; ".join(problems) or None


def check_file(
    data: bytes | None, entry: DistFile, expected: Publisher | None, *, offline: bool
) -> Result:
    """Judge one file's provenance (``None``: the index has none)."""
    from pydantic import ValidationError
    from pypi_attestations import AttestationError, Distribution
    from pypi_attestations import Provenance as ProvenanceModel

    if data is None:
        return Result(entry.filename, "missing", "the index holds no provenance for it")
    try:
        provenance = ProvenanceModel.model_validate_json(data)
    except (ValidationError, ValueError) as exc:
        return Result(entry.filename, "invalid", f"not a PEP 740 provenance object ({exc})"[:300])
    if not provenance.attestation_bundles:
        return Result(entry.filename, "missing", "its provenance has no attestation bundle")
    dist = Distribution(name=entry.filename, digest=entry.sha256)
    names = []
    for bundle in provenance.attestation_bundles:
        who = _describe(bundle.publisher)
        names.append(who)
        problem = judge_publisher(bundle.publisher, expected)
        if problem:
            return Result(entry.filename, "foreign", f"published by {who}: {problem}", who)
        if not bundle.attestations:
            return Result(entry.filename, "missing", f"{who} sent no attestation", who)
        for attestation in bundle.attestations:
            try:
                attestation.verify(bundle.publisher, dist, offline=offline)
            except AttestationError as exc:
                return Result(entry.filename, "invalid", f"{who}: {exc}"[:400], who)
    return Result(
        entry.filename, "ok", "verified, published by " + "; ".join(names), "; ".join(names)
    )


def fetch(session: requests.Session, url: str, timeout: float) -> tuple[int, bytes | None]:
    """(status, body) of one integrity request (:func:`release.http.exchange`: deadline and
    size caps); (0, None) when it could not be made or finish, 413 when larger than allowed."""
    limits = http.Limits(timeout=timeout, deadline=timeout, wire_cap=MAX_BYTES, body_cap=MAX_BYTES)
    try:
        answer = http.exchange(session, "GET", url, limits=limits, headers={"Accept": ACCEPT})
    except http.AnswerTooLarge:
        return 413, None
    except (Transient, http.AnswerError):
        return 0, None
    if answer.status != 200:
        return answer.status, None
    return 200, answer.body


def check_files(
    index: IndexSettings,
    project: str,
    version: str,
    files: Sequence[DistFile],
    expected: Publisher | None,
    *,
    timeout: float,
    offline: bool = False,
) -> list[Result]:
    """Fetch and judge the provenance of every file on ``index``."""
    base = integrity_base(index)
    results = []
    with http.make_session("provenance") as session:
        for entry in files:
            status, body = fetch(
                session, integrity_url(base, project, version, entry.filename), timeout
            )
            if status == 200 or status == 404:
                result = check_file(body, entry, expected, offline=offline)
                results.append(result)
                # Each verification loads sigstore's trust root, refreshed over TUF unless
                # offline: once is enough, the later files use the copy just refreshed.
                offline = offline or result.status == "ok"
            else:
                said = f"HTTP {status}" if status else "no connection"
                results.append(
                    Result(entry.filename, "unavailable", f"the integrity API answered {said}")
                )
    return results


def expected_publisher(
    options: Mapping[str, Any],
    index: IndexSettings | None = None,
    environ: Mapping[str, str] | None = None,
) -> Publisher | None:
    """Who should have published: the ``trusted-publisher`` option, else (in CI, given
    ``index`` and ``environ``) the publisher this job's identity would match; None when
    neither is known."""
    from .claims import parse_publisher, publisher_of
    from .errors import CredentialError
    from .trusted import identity_claims, in_ci

    configured = parse_publisher(options.get("trusted-publisher") or [])
    if configured is not None or index is None or environ is None or not in_ci(environ):
        return configured
    override = str(options.get(f"{index.name}-trusted-publishing-url") or "")
    timeout = float(options.get("timeout") or 30.0)
    try:
        return publisher_of(identity_claims(index, environ, override=override, timeout=timeout))
    except CredentialError:
        return None  # no identity in this job (verify_test_install has none): no comparison


Mode = Literal["skip", "warn", "require"]


def mode_for(option: str, index: IndexSettings, in_ci: bool) -> Mode:
    """``provenance-check`` -> what to do for ``index``. Pure.

    auto: on PyPI/TestPyPI in CI (where uploads carry attestations), a missing provenance is a
    warning and a foreign or invalid one a failure; require: on any index, all are failures;
    off: never checked.
    """
    value = option.strip().lower()
    if value not in ("auto", "off", "require"):
        from .errors import ConfigError

        raise ConfigError(
            f"provenance-check = {option!r} is not one of auto, require, off.",
            "Set provenance-check (RELEASE_PROVENANCE_CHECK) to auto, require or off.",
        )
    if value == "off":
        return "skip"
    if value == "require":
        return "require"
    return "warn" if index.warehouse is not None and in_ci else "skip"


def failures(results: Sequence[Result], mode: Mode) -> list[Result]:
    """The results that fail under ``mode`` (the others are shown as they are). Pure."""
    if mode == "require":
        return [r for r in results if r.status != "ok"]
    return [r for r in results if r.status in ("foreign", "invalid")]

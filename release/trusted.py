"""Trusted publishing: exchange the CI's OIDC identity for a short-lived upload token.

The protocol is Warehouse's (PyPI, TestPyPI, and private warehouses):

1. ``GET <host>/_/oidc/audience`` -> ``{"audience": "pypi"}`` (403 when trusted publishing is
   disabled on that index);
2. the CI's OIDC provider gives an identity token (JWT) for that audience: GitHub Actions'
   through our own bounded HTTP (:func:`github_identity_token`), the others (GitLab CI,
   Google Cloud, Buildkite, CircleCI) through ``id``'s ``detect_credential``;
3. ``POST <host>/_/oidc/mint-token {"token": jwt}`` -> ``{"success": true, "token": "pypi-...",
   "expires": unix}``, or 422 ``{"message": ..., "errors": [{"code", "description"}]}``.

The minted token lives 15 minutes; :class:`MintedToken` renews it when less than
:data:`RENEW_MARGIN` seconds remain, so a long upload never sends an expired token.
Neither the identity token nor the minted token is ever put in a message or printed.

twine can do the same exchange, but only inside its own upload call, only against the upload
URL's host, and it reports failures as one opaque string; we need the steps apart to explain
each failure and to let ``doctor`` try them without uploading.
"""

from __future__ import annotations

__all__ = [
    "LIFETIME",
    "RENEW_MARGIN",
    "MintedToken",
    "checked_audience",
    "ci_name",
    "exchange",
    "fetch_audience",
    "github_identity_token",
    "github_permission_problem",
    "github_token_url",
    "identity_claims",
    "in_ci",
    "jwt_claims",
    "mint_token",
    "oidc_base_url",
    "parse_mint_answer",
    "plan_mint",
    "reusable_workflow",
]

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import id as oidc
import requests

from . import destinations, endpoints, http, redact
from .claims import Publisher, compare, report_lines, reusable_workflow
from .config import IndexSettings
from .errors import CredentialError
from .retry import Transient

AUDIENCE_PATH = "/_/oidc/audience"
MINT_PATH = "/_/oidc/mint-token"
LIFETIME = 900  # seconds a minted token lives (Warehouse's fixed 15 minutes)
RENEW_MARGIN = 120  # renew when fewer seconds than this remain

# Variables ``id`` reads from os.environ to detect and fetch an identity.
_ID_VARIABLES = (
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "BUILDKITE",
    "GITLAB_CI",
    "CIRCLECI",
)
_CI_VARIABLES = {
    "GITHUB_ACTIONS": "GitHub Actions",
    "GITLAB_CI": "GitLab CI",
    "BUILDKITE": "Buildkite",
    "CIRCLECI": "CircleCI",
}
_ENV_LOCK = threading.Lock()
_PERMISSION_FIX = (
    "Give the job that uploads `permissions: id-token: write` in the workflow file "
    "(at job level; a job without it cannot ask GitHub for an identity token)."
)


def _truthy(value: str | None) -> bool:
    return bool(value) and str(value).strip().lower() not in {"0", "false", "no", "off"}


def in_ci(environ: Mapping[str, str]) -> bool:
    """True on a CI runner: ``CI`` set (every major CI sets it) or a known CI's own variable."""
    return _truthy(environ.get("CI")) or any(_truthy(environ.get(v)) for v in _CI_VARIABLES)


def ci_name(environ: Mapping[str, str]) -> str:
    for var, name in _CI_VARIABLES.items():
        if _truthy(environ.get(var)):
            return name
    if environ.get("GOOGLE_SERVICE_ACCOUNT_NAME"):
        return "Google Cloud"
    return "CI"


def oidc_base_url(index: IndexSettings, override: str = "") -> str:
    """Where ``/_/oidc/...`` lives for ``index``: the override, PyPI's or TestPyPI's site host
    (from :mod:`release.endpoints`), or else the upload URL's scheme and host."""
    if override:
        return override.rstrip("/")
    site = endpoints.site_url(index.warehouse)
    if site is not None:
        return site
    parts = urlsplit(index.upload_url)
    return f"{parts.scheme}://{parts.netloc}"


def github_permission_problem(environ: Mapping[str, str]) -> str | None:
    """Why GitHub will not hand out an identity token, or None. Pure."""
    if not _truthy(environ.get("GITHUB_ACTIONS")):
        return None
    missing = [
        v
        for v in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        if not environ.get(v)
    ]
    if not missing:
        return None
    return (
        f"This GitHub Actions job has no OIDC identity ({' and '.join(missing)} not set): "
        "the job lacks the `id-token: write` permission (or runs for a pull request from a fork, "
        "which never gets one)."
    )


def jwt_claims(jwt: str) -> dict[str, Any]:
    """The (unverified) claims of an identity token; {} when it does not decode."""
    try:
        _header, payload, _signature = oidc.decode_oidc_token(jwt)
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _session() -> requests.Session:
    return http.make_session("trusted publishing")


def fetch_audience(session: requests.Session, base: str, timeout: float) -> str:
    url = base + AUDIENCE_PATH
    try:
        response = http.exchange(session, "GET", url, limits=http.Limits.short(timeout))
    except (Transient, http.AnswerError) as exc:
        raise CredentialError(
            f"Trusted publishing: could not reach {url} ({_what(exc)}).",
            "Check the connection, or set another credential source.",
        ) from None
    if response.status == 403:
        raise CredentialError(
            f"Trusted publishing is disabled on {base} ({url} answered 403).",
            "The index does not accept trusted publishing right now (an administrator turned "
            "it off): upload with an API token instead (RELEASE_*_PASSWORD or PYPI_API_TOKEN).",
        )
    if response.status == 404:
        raise CredentialError(
            f"{base} does not offer trusted publishing ({url} answered 404).",
            "Use an API token for this index, or set test-/prod-trusted-publishing-url to the "
            "host that serves /_/oidc/ (private warehouses).",
        )
    try:
        if not response.ok:
            raise ValueError(response.status)
        audience = response.json()["audience"]
        if not isinstance(audience, str) or not audience:
            raise TypeError(audience)
    except (ValueError, KeyError, TypeError):
        raise CredentialError(
            f"Trusted publishing: {url} answered {response.status} {response.reason} "
            f"without an audience: {response.shown_text[:200]!r}",
            "Check the index URL; retry later if the index is having trouble.",
        ) from None
    return audience


def _what(exc: Exception) -> str:
    """A short cause for a failed exchange: the requests error's name, or the bound broken."""
    if isinstance(exc, Transient):
        return exc.short
    return type(exc).__name__


@contextlib.contextmanager
def _id_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """``id`` reads os.environ; show it the variables of ``environ`` for the call.

    The CLI passes a copy of os.environ, so in production this changes nothing.
    """
    with _ENV_LOCK:
        keys = set(_ID_VARIABLES) | {k for k in environ if k.endswith("_ID_TOKEN")}
        keys |= {k for k in os.environ if k.endswith("_ID_TOKEN")}
        saved = {k: os.environ.get(k) for k in keys}
        try:
            for k in keys:
                if k in environ:
                    os.environ[k] = environ[k]
                else:
                    os.environ.pop(k, None)
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# An identity token or a minted token is a few KiB at most (a JWT of claims, a macaroon); a
# larger one is refused before it is kept, registered for redaction or sent anywhere.
MAX_TOKEN = 64 * 1024


def _detect(audience: str, environ: Mapping[str, str], timeout: float) -> str | None:
    """``id``'s detection, within ``timeout`` seconds: ``id`` has its own HTTP stack with its
    own 30 s timeouts per request (GCP makes three), so it runs in a thread that is abandoned
    when the deadline passes (a stalled provider ends the run, not hangs it).

    Used for the providers we do not talk to ourselves: GitLab's token is a variable (no
    HTTP); Google Cloud's metadata server, Buildkite's and CircleCI's agents are local to
    the runner. ``id`` reads their answers whole, so memory is not bounded there; GitHub,
    whose endpoint is remote, goes through :func:`github_identity_token` instead."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["jwt"] = oidc.detect_credential(audience)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    with _id_environment(environ):
        worker = threading.Thread(target=run, name="oidc-detect", daemon=True)
        worker.start()
        worker.join(timeout)
    if worker.is_alive():
        raise CredentialError(
            f"Trusted publishing: {ci_name(environ)} did not give an identity token within "
            f"{timeout:g} s (the timeout setting).",
            "Run the job again if the CI's OIDC provider was unavailable; raise "
            "RELEASE_TIMEOUT if it is only slow.",
        )
    if "error" in outcome:
        raise outcome["error"]
    jwt: str | None = outcome.get("jwt")
    return jwt


def _check_size(token: str, what: str) -> None:
    if len(token) > MAX_TOKEN:
        raise CredentialError(
            f"Trusted publishing: {what} is {len(token):,} characters long; real ones are a few "
            f"KiB (at most {MAX_TOKEN // 1024} KiB is accepted). It was not used or sent on.",
            "Check the CI's OIDC provider settings (or the index) that produced it.",
        )


# GitHub's answer is ``{"value": "<jwt>"}`` (and a count): a token of MAX_TOKEN characters and
# room for the rest. A longer answer is abandoned unread (release.http's caps).
GITHUB_ANSWER_CAP = MAX_TOKEN + 4096
_GITHUB_FIX = (
    "Run the job again if GitHub's OIDC provider was unavailable; check that the upload job "
    "has `permissions: id-token: write`."
)


def github_token_url(request_url: str, audience: str) -> str:
    """``$ACTIONS_ID_TOKEN_REQUEST_URL`` with ``audience=`` set in its query (replacing one
    already there, as ``id`` does), the URL GitHub documents. Pure."""
    parts = urlsplit(request_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "audience"]
    query.append(("audience", audience))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _github_refusal(exc: Exception, timeout: float) -> CredentialError:
    if isinstance(exc, http.AnswerTooLarge):
        return CredentialError(
            "Trusted publishing: GitHub's answer with the CI's identity token is larger than "
            f"{GITHUB_ANSWER_CAP // 1024} KiB (real ones are a few KiB); it was abandoned "
            "unread, not used or sent on.",
            "Check ACTIONS_ID_TOKEN_REQUEST_URL: the runner's OIDC provider answered like no "
            "GitHub provider does.",
        )
    if isinstance(exc, http.AnswerTooSlow) or "Timeout" in _what(exc):
        return CredentialError(
            f"Trusted publishing: GitHub Actions did not give an identity token within "
            f"{timeout:g} s (the timeout setting).",
            "Run the job again if the CI's OIDC provider was unavailable; raise "
            "RELEASE_TIMEOUT if it is only slow.",
        )
    return CredentialError(
        f"Trusted publishing: GitHub Actions did not give an identity token ({_what(exc)}).",
        _GITHUB_FIX,
    )


def github_identity_token(audience: str, environ: Mapping[str, str], timeout: float) -> str:
    """GitHub Actions' identity token for ``audience``: one GET of
    ``$ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD`` with ``Authorization: bearer
    $ACTIONS_ID_TOKEN_REQUEST_TOKEN``, answered ``{"value": "<jwt>"}``.

    Hand-written, not ``id``'s ``detect_github``: ``id`` reads the whole answer into memory
    (a 100 MB token cost 317 MB before our :data:`MAX_TOKEN` check could refuse it) with its
    own 30 s timeouts per request. Here the exchange is :func:`release.http.exchange`'s:
    ``timeout`` is its deadline, the answer is abandoned past :data:`GITHUB_ANSWER_CAP`, no
    redirect is followed (the request token would ride it), the request token goes only over
    https (or http to loopback) and is registered for redaction first. The token is checked as
    ``id`` checks it: a JWT whose ``aud`` claim is ``audience``.
    """
    request_url = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    request_token = environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not request_url or not request_token:
        raise CredentialError(
            "Trusted publishing: this GitHub Actions job may not request an identity token.",
            _PERMISSION_FIX,
        )
    redact.register(request_token)
    destinations.check_transport(request_url, "ACTIONS_ID_TOKEN_REQUEST_URL", allow_http=False)
    limits = http.Limits(
        timeout=timeout, deadline=timeout, wire_cap=GITHUB_ANSWER_CAP, body_cap=GITHUB_ANSWER_CAP
    )
    try:
        with http.make_session("trusted publishing: identity") as session:
            answer = http.exchange(
                session,
                "GET",
                github_token_url(request_url, audience),
                limits=limits,
                headers={"Authorization": f"bearer {request_token}"},
            )
    except (Transient, http.AnswerError) as exc:
        raise _github_refusal(exc, timeout) from None
    except (ValueError, UnicodeError):  # a request token no HTTP header can carry
        raise CredentialError(
            "Trusted publishing: ACTIONS_ID_TOKEN_REQUEST_TOKEN cannot be sent in a header "
            "(a line break or a character outside Latin-1).",
            _GITHUB_FIX,
        ) from None
    if answer.status != 200:
        raise CredentialError(
            f"Trusted publishing: GitHub Actions did not give an identity token (answered "
            f"{answer.status} {answer.reason}: {answer.shown_text[:200]!r}).",
            _GITHUB_FIX,
        )
    try:
        value = answer.json()["value"]
        if not isinstance(value, str):
            raise TypeError(value)
    except (ValueError, KeyError, TypeError):
        raise CredentialError(
            "Trusted publishing: GitHub Actions did not give an identity token (its answer "
            'is not {"value": "<token>"}).',
            _GITHUB_FIX,
        ) from None
    _check_size(value, "the CI's identity token")
    if jwt_claims(value).get("aud") != audience:
        raise CredentialError(
            "Trusted publishing: GitHub Actions did not give an identity token for the "
            f"audience {audience!r} (not a JWT, or another audience in its aud claim).",
            _GITHUB_FIX,
        )
    return value


def identity_token(audience: str, environ: Mapping[str, str], timeout: float = 60.0) -> str:
    """The CI's identity token for ``audience`` (within ``timeout`` seconds), or a
    CredentialError that says why: GitHub Actions' through :func:`github_identity_token`
    (bounded), any other provider's through ``id`` (:func:`_detect`)."""
    problem = github_permission_problem(environ)
    if problem:
        raise CredentialError(f"Trusted publishing: {problem}", _PERMISSION_FIX)
    if environ.get("GITHUB_ACTIONS"):  # id's own test: then it would ask GitHub, unbounded
        return github_identity_token(audience, environ, timeout)
    try:
        jwt = _detect(audience, environ, timeout)
    except oidc.GitHubOidcPermissionCredentialError:
        raise CredentialError(
            "Trusted publishing: this GitHub Actions job may not request an identity token.",
            _PERMISSION_FIX,
        ) from None
    except oidc.IdentityError as exc:
        raise CredentialError(
            f"Trusted publishing: {ci_name(environ)} did not give an identity token: {exc}",
            "Check the CI's OIDC settings (GitLab: declare `id_tokens: PYPI_ID_TOKEN: "
            "aud: <audience>`); run the job again if the provider was unavailable.",
        ) from None
    if jwt is None:
        raise CredentialError(
            "Trusted publishing: no OIDC identity found in this environment.",
            "Trusted publishing works in GitHub Actions, GitLab CI (SaaS), Google Cloud and "
            "ActiveState; elsewhere use an API token (RELEASE_*_PASSWORD or PYPI_API_TOKEN).",
        )
    _check_size(jwt, "the CI's identity token")
    return jwt


def parse_mint_answer(
    status: int,
    body: Any,
    *,
    now: float,
    claims: Mapping[str, Any] | None = None,
    publisher: Publisher | None = None,
) -> tuple[str, float]:
    """(token, expires) from the mint endpoint's answer, or a CredentialError explaining each
    error code (via :func:`release.diagnose.explain_mint_error`). Pure."""
    if 200 <= status < 300 and isinstance(body, dict) and body.get("success") is not False:
        token = body.get("token")
        if isinstance(token, str) and token:
            _check_size(token, "the minted token")
            expires = body.get("expires")
            when = float(expires) if isinstance(expires, (int, float)) else now + LIFETIME
            return token, when
    from .diagnose import explain_mint_error

    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        raise CredentialError(
            f"Trusted publishing: the index answered the token exchange with {status}: "
            # redacted whole before it is cut: a cut secret is no longer recognisable
            f"{redact.redact(json.dumps(body))[:300] if body is not None else '(no JSON)'}",
            "Retry later; if it persists, upload with an API token and report the answer "
            "to the index's maintainers.",
        )
    lines: list[str] = []
    fixes: list[str] = []
    for error in errors:
        code = str(error.get("code", "?")) if isinstance(error, dict) else "?"
        description = str(error.get("description", "")) if isinstance(error, dict) else str(error)
        diagnosis = explain_mint_error(code, description)
        lines.append(f"  * {code}: {description}\n    -> {diagnosis.title} {diagnosis.cause}")
        if diagnosis.fix and diagnosis.fix not in fixes:
            fixes.append(diagnosis.fix)
    reusable = reusable_workflow(claims or {})
    if reusable and any(
        isinstance(e, dict) and e.get("code") in {"invalid-publisher", "invalid-pending-publisher"}
        for e in errors
    ):
        caller, job = reusable
        lines.append(
            f"  * this job runs in a reusable workflow ({job}, called from {caller}): "
            "reusable workflows cannot be trusted publishers."
        )
        fixes.insert(
            0,
            "Run the upload step in the workflow that is registered as the trusted publisher "
            "(not in a reusable workflow it calls).",
        )
    if claims:  # what the index was shown: the claims, and where they miss the publisher
        lines += [f"  {line}" for line in report_lines(claims, publisher)]
    if claims and any(isinstance(e, dict) and e.get("code") == "invalid-publisher" for e in errors):
        named = [
            m.fix
            for m in compare(claims, publisher)
            if m.field != "reusable-workflow" and m.fix not in fixes  # that one is first already
        ]
        fixes[:0] = list(dict.fromkeys(named))  # the field that differs, first
    raise CredentialError(
        "Trusted publishing: the index refused to mint a token:\n" + "\n".join(lines),
        " ".join(fixes) or "Check the trusted publisher's settings on the index.",
    )


def exchange(
    session: requests.Session,
    base: str,
    jwt: str,
    timeout: float,
    *,
    now: float,
    publisher: Publisher | None = None,
) -> tuple[str, float]:
    url = base + MINT_PATH
    redact.register(jwt)
    try:
        response = http.exchange(
            session, "POST", url, limits=http.Limits.short(timeout), json={"token": jwt}
        )
    except (Transient, http.AnswerError) as exc:
        raise CredentialError(
            f"Trusted publishing: could not reach {url} ({_what(exc)}).",
            "Check the connection and run the same command again.",
        ) from None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if body is None and not response.ok:
        raise CredentialError(
            f"Trusted publishing: {url} answered {response.status} {response.reason} (not JSON).",
            "Retry later; check that the index supports trusted publishing.",
        )
    # Never let the identity token reach a message, even if a server echoes it.
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        body = json.loads(json.dumps(body).replace(jwt, "<identity token>"))
    token, expires = parse_mint_answer(
        response.status, body, now=now, claims=jwt_claims(jwt), publisher=publisher
    )
    redact.register(token, endpoints.TOKEN_USERNAME)
    return token, expires


def _what_url(index: IndexSettings, override: str) -> str:
    """The setting the OIDC host came from, for messages."""
    return f"{index.name}-trusted-publishing-url" if override else f"{index.name}-upload-url"


def checked_audience(
    session: requests.Session, index: IndexSettings, base: str, override: str, timeout: float
) -> str:
    """The index's audience, refused (exit 7) when a host other than PyPI's or TestPyPI's own
    announces theirs (:func:`release.destinations.check_audience`): checked before any
    identity token is requested."""
    audience = fetch_audience(session, base, timeout)
    destinations.check_audience(base, audience, _what_url(index, override))
    return audience


def mint_token(
    index: IndexSettings,
    environ: Mapping[str, str],
    *,
    override: str = "",
    timeout: float = 30.0,
    clock: Callable[[], float] = time.time,
    publisher: Publisher | None = None,
) -> tuple[str, float]:
    """The whole exchange once: audience, identity token, minted token and its expiry."""
    base = oidc_base_url(index, override)
    with _session() as session:
        audience = checked_audience(session, index, base, override, timeout)
        jwt = identity_token(audience, environ, timeout)
        return exchange(session, base, jwt, timeout, now=clock(), publisher=publisher)


def plan_mint(
    index: IndexSettings, environ: Mapping[str, str], *, override: str = "", timeout: float = 30.0
) -> str:
    """What a real run would do, for ``--dry-run``: the audience is read and checked, the
    job's permission looked at; no identity token is requested and nothing is minted.
    Returns the audience."""
    base = oidc_base_url(index, override)
    with _session() as session:
        audience = checked_audience(session, index, base, override, timeout)
    problem = github_permission_problem(environ)
    if problem:
        raise CredentialError(f"Trusted publishing: {problem}", _PERMISSION_FIX)
    return audience


def identity_claims(
    index: IndexSettings, environ: Mapping[str, str], *, override: str = "", timeout: float = 30.0
) -> dict[str, Any]:
    """The claims of the identity token this CI job would exchange for ``index`` (audience
    from the index, token from the CI), without minting. The token itself never leaves here."""
    base = oidc_base_url(index, override)
    with _session() as session:
        audience = checked_audience(session, index, base, override, timeout)
    return jwt_claims(identity_token(audience, environ, timeout))


class MintedToken:
    """A minted token that renews itself when less than :data:`RENEW_MARGIN` seconds remain.

    Safe to share between upload threads: one renewal at a time.
    """

    def __init__(
        self,
        mint: Callable[[], tuple[str, float]],
        *,
        clock: Callable[[], float] = time.time,
        margin: float = RENEW_MARGIN,
    ) -> None:
        self._mint = mint
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token, self.expires = mint()
        self.mints = 1

    def __repr__(self) -> str:
        return f"MintedToken(expires={self.expires:.0f}, mints={self.mints})"

    @property
    def last(self) -> str:
        """The token minted last, without a renewal check."""
        return self._token

    def current(self) -> str:
        with self._lock:
            if self.expires - self._clock() < self._margin:
                self._token, self.expires = self._mint()
                self.mints += 1
            return self._token

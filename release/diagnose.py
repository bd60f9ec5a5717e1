"""Every known refusal of an index, explained: what happened, why, and what to do next.

PURE: takes what the index answered (HTTP status, reason line, body) and returns a
:class:`Diagnosis`. No I/O. Warehouse (PyPI, TestPyPI) puts its message in the status line
(the reason) and repeats it in an HTML body; pypiserver and devpi put theirs in the body or
the reason. Matching is by robust, case-insensitive patterns over both, so small wording
changes still match; an answer that matches nothing is shown verbatim, never swallowed.

Secrets in bodies are removed where text is shown (:mod:`release.redact`); nothing here
ever sees a secret.
"""

from __future__ import annotations

__all__ = [
    "MISSING_ID_TOKEN_PERMISSION",
    "REUSABLE_WORKFLOW",
    "Diagnosis",
    "explain_403_with_token",
    "explain_audience_error",
    "explain_mint_error",
    "explain_mint_failure",
    "explain_upload",
]

import dataclasses
import html
import json
import re
from collections.abc import Callable, Mapping

from packaging.utils import canonicalize_name

from .retry import is_transient_status
from .tokens import Finding

_HELP = "https://pypi.org/help/"  # only in prose; hosts for requests come from endpoints


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """An index's answer explained. ``retry``: the same request may succeed later unchanged."""

    title: str
    cause: str
    fix: str
    retry: bool
    code: str = "unknown"  # stable name of the case, for programs, JSON and tests

    def __str__(self) -> str:
        return f"{self.title}\n{self.cause}\nFix: {self.fix}"


@dataclasses.dataclass(frozen=True)
class _Context:
    status: int
    reason: str
    text: str  # reason + body, HTML tags removed and entities decoded
    project: str
    filename: str
    index: str  # e.g. "the test index"
    publisher_project: str

    @property
    def verbatim(self) -> str:
        return f"{self.status} {self.reason}".strip()


Values = Callable[["re.Match[str]", "_Context"], Mapping[str, str]]


@dataclasses.dataclass(frozen=True)
class Refusal:
    """One known refusal, as data: which answers it matches and what to say about them.

    ``pattern`` is searched (case-insensitive) in the reason line and the body's text; with
    ``statuses`` only in answers with one of them. ``what``/``why``/``fix`` are ``str.format``
    templates over ``{index}`` ("the test index"), ``{Index}`` (capitalised), ``{verbatim}``
    (status and reason), ``{project}`` (the name the index quoted, else ours) and whatever
    ``values`` computes: the few parts that depend on the answer.
    """

    code: str  # stable name of the case, for programs, JSON, tests and docs/refusals.md
    pattern: str
    statuses: tuple[int, ...]  # empty: any status
    what: str
    why: str
    fix: str
    retry: bool = False
    values: Values | None = None
    regex: re.Pattern[str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE | re.DOTALL))

    def match(self, status: int, text: str) -> re.Match[str] | None:
        if self.statuses and status not in self.statuses:
            return None
        return self.regex.search(text)

    def diagnosis(self, match: re.Match[str], ctx: _Context) -> Diagnosis:
        values = {
            "index": ctx.index,
            "Index": ctx.index.capitalize(),
            "verbatim": ctx.verbatim,
            "project": _project(match, ctx),
        }
        if self.values is not None:
            values.update(self.values(match, ctx))
        return Diagnosis(
            self.what.format_map(values),
            self.why.format_map(values),
            self.fix.format_map(values),
            self.retry,
            self.code,
        )


# A project name as warehouse quotes it ('name'); without quotes, up to a final '.' or space.
_NAME = r"(?:['\"](?P<project>[^'\"]+)['\"]|(?P<bare>[^'\"\s]+?)\.?(?:\s|$))"


def _quoted(match: re.Match[str], group: str, fallback: str) -> str:
    value = match.groupdict().get(group)
    return value.strip() if value else fallback


def _project(match: re.Match[str], ctx: _Context) -> str:
    return _quoted(match, "project", "") or _quoted(match, "bare", ctx.project or "this project")


# --- the dynamic parts ------------------------------------------------------------------------
def _which_names(_m: re.Match[str], ctx: _Context) -> dict[str, str]:
    """The pending publisher's name against the metadata's, as far as they are known."""
    if not (ctx.publisher_project and ctx.project):
        meta = ctx.project or "the name in your metadata"
        return {
            "which": f"The two names that differ: the pending publisher's project name on "
            f"{ctx.index} and the metadata name {meta!r}."
        }
    if canonicalize_name(ctx.publisher_project) != canonicalize_name(ctx.project):
        return {
            "which": f"The pending publisher was registered for {ctx.publisher_project!r}, "
            f"but the distribution's metadata says {ctx.project!r}."
        }
    return {"which": f"Both names are {ctx.project!r}; check the normalised spelling on the index."}


def _existing_file(m: re.Match[str], ctx: _Context) -> dict[str, str]:
    named = [_quoted(m, group, "") for group in ("filename", "filename2", "filename3")]
    return {"file": next((n for n in named if n), "") or ctx.filename or "this file"}


def _local_version(m: re.Match[str], _ctx: _Context) -> dict[str, str]:
    # Warehouse has shown it as '1.0+x' and as <Version('1.0+x')>: keep only the version.
    raw = _quoted(m, "version", "")
    return {"version": re.sub(r"^<?(?:Version\()?['\"]?|['\"]?\)?>?$", "", raw) or "this version"}


def _size_limit(m: re.Match[str], ctx: _Context) -> dict[str, str]:
    limit = m.groupdict().get("limit")
    return {
        "file": ctx.filename or "The file",
        "limit": f"The limit for this project is {limit} MB. " if limit else "",
    }


def _our_names(_m: re.Match[str], ctx: _Context) -> dict[str, str]:
    """Our file and project, with a fallback that starts a sentence."""
    return {
        "File": ctx.filename or "This filename",
        "Project": ctx.project or "The project",
        "named": f" {ctx.project!r}" if ctx.project else "",
    }


# --- the rows, first match wins ---------------------------------------------------------------
_RULES: tuple[Refusal, ...] = (
    # Invalid API token (its caveats failed on the server). These come before the generic
    # 403s: warehouse joins several failures with ", ".
    Refusal(
        "token-expired",
        r"invalid api token:.*token is expired",
        (403,),
        "The API token has expired.",
        "{Index} refused the token because of its expiry caveat. PyPI says 'expired' also when "
        "the token is not valid *yet* (this machine's clock runs behind), and for a "
        "trusted-publishing token older than 15 minutes.",
        "Create a new token (or, with trusted publishing, mint a new one: it lives 15 minutes); "
        "check the clock if the token is brand new. `nox -s doctor` shows the token's expiry.",
    ),
    Refusal(
        "token-wrong-project",
        r"invalid api token:.*(?:project-scoped token is not valid for project:?\s*"
        r"['\"]?(?P<project>[^'\",]+)|project-scoped token used outside of a project)",
        (403,),
        "The API token is scoped to other project(s), not to {project}.",
        "A project-scoped token only uploads to the projects it was created for. A brand-new "
        "project cannot have a scoped token yet.",
        "Create a token scoped to {project} (for the very first upload of a new project, a "
        "user-wide token, replaced by a scoped one afterwards), or configure trusted publishing.",
    ),
    Refusal(
        "token-user-mismatch",
        r"invalid api token:.*(?:user restriction|restriction without a user)",
        (403,),
        "The API token belongs to a different user than the one it is used for.",
        "The token's user caveat does not match the account it authenticated as (a token "
        "whose owner was removed or changed, or one edited by hand).",
        "Create a new token while logged in as the account that maintains the project.",
    ),
    Refusal(
        "token-signature",
        r"invalid api token:.*signatures? do not match",
        (403,),
        "The API token's signature does not match.",
        "The token's bytes were changed after it was issued: a character mistyped or lost "
        "when copying, caveats edited, or a token taken from another instance.",
        "Copy the token again exactly (one line, nothing before or after), or create a new one.",
    ),
    Refusal(
        "token-invalid",
        r"invalid api token",
        (403,),
        "The API token was refused.",
        "{Index} said: {verbatim}",
        "Create a new token for this project; `nox -s doctor` shows what the current one says.",
    ),
    # Account requirements.
    Refusal(
        "2fa-required",
        r"two[- ]factor",
        (403,),
        "The account behind the token has no two-factor authentication.",
        "PyPI requires 2FA on every account that uploads, also when the upload uses a token.",
        "Enable two-factor authentication in the account settings "
        "(https://pypi.org/manage/account/, or TestPyPI's), then retry; the token stays valid.",
    ),
    Refusal(
        "email-unverified",
        r"verified (?:primary )?e-?mail",
        (403,),
        "The account behind the token has no verified primary email address.",
        "PyPI requires a verified primary email address before uploads.",
        "Add or verify the primary email in the account settings, click the link PyPI mails "
        "you, then retry.",
    ),
    Refusal(
        "password-login",
        r"username/password authentication is no longer supported",
        (403,),
        "Username and password are no longer accepted for uploads.",
        "The credential sent was an account password, not an API token.",
        "Create an API token (account settings -> API tokens) and use it as the password with "
        "username __token__, or configure trusted publishing.",
    ),
    Refusal(
        "invalid-auth",
        r"invalid or non-existent authentication information",
        (403,),
        "The index did not recognise the credential at all.",
        "Three look-alike causes give this same answer: a token for the OTHER index (a PyPI "
        "token on TestPyPI or the reverse: separate accounts, separate tokens); a deleted or "
        "revoked token; a malformed token (cut short, whitespace or quotes around it, prefix "
        "missing or doubled, username other than __token__).",
        "Run `nox -s doctor`: it decodes the token offline and says which of these it is. "
        "Otherwise create a new token on the index you upload to.",
    ),
    Refusal(
        "user-not-allowed",
        r"the user ['\"]?(?P<user>[^'\"]+)['\"]? (?:isn't|is not) allowed to upload to project "
        + _NAME,
        (403,),
        "Your account may not upload to {project}.",
        "{project} exists on {index} and belongs to other people: either the name is taken "
        "(names compare after normalisation: My_Pkg == my-pkg), or you were never added as a "
        "maintainer.",
        "If it is yours, ask an owner of {project} to add your account as maintainer; "
        "otherwise rename your project (name in pyproject.toml) and build again.",
    ),
    Refusal(
        "token-not-allowed",
        r"the given token (?:isn't|is not) allowed to upload to project " + _NAME,
        (403,),
        "This token may not upload to {project}.",
        "The token is valid, but its scope or its publisher does not cover this project "
        "(a token scoped to another project, or a trusted publisher registered for another one).",
        "Create a token scoped to {project}, or register this workflow as a trusted publisher "
        "of {project}.",
    ),
    # The index is (partly) closed.
    Refusal(
        "read-only",
        r"read-only mode",
        (),
        "{Index} is in read-only mode.",
        "Uploads are temporarily disabled (maintenance or an incident).",
        "Wait and run the same session again later (https://status.python.org); nothing needs "
        "to change on your side.",
        retry=True,
    ),
    Refusal(
        "uploads-disabled",
        r"new (?:uploads|project registration) (?:are |is )?temporarily disabled",
        (),
        "{Index} has temporarily disabled new uploads.",
        "An administrator switched uploads off (often during abuse waves or incidents).",
        "Wait and run the same session again later (https://status.python.org).",
        retry=True,
    ),
    # Trusted publishing: the pending publisher created another project.
    Refusal(
        "pending-publisher-name",
        r"non-user identities cannot create new projects",
        (400, 403),
        "A trusted publisher cannot create this project under this name.",
        "The pending publisher created the project under ITS name, and the upload names another "
        "project, which a publisher (not a user) may not create. {which}",
        "Decide which name is right. If the publisher's: change the name in pyproject.toml and "
        "build again. If the metadata's: delete the wrongly created project on the index and "
        "register a new pending publisher with the correct name.",
        values=_which_names,
    ),
    Refusal(
        "too-many-projects",
        r"too many new projects",
        (429,),
        "Too many new projects created recently.",
        "{Index} rate-limits project creation per user and per IP address; no Retry-After is "
        "given.",
        "Wait (hours, not seconds) and run the session again; uploads to existing projects "
        "are not affected.",
    ),
    # The file itself.
    Refusal(
        "file-exists",
        r"file already exists(?: \(['\"]?(?P<filename>[^'\",)]+))?"
        r"|package ['\"]?(?P<filename2>[^'\"]+?)['\"]? already exists!"
        r"|(?P<filename3>\S+) already exists in non-volatile index",
        (400, 409),
        "{file} already exists on {index} with other bytes.",
        "An index never replaces a file: a file of this name is already there and its content "
        "differs (an identical re-upload is accepted as a no-op on PyPI). Usually someone or "
        "something else uploaded this version first, or dist/ was rebuilt after an upload.",
        "Do not rebuild an uploaded version: bump the version (`nox -s bump_version -- patch`), "
        "build and release again. If a parallel job uploaded it, check that the index's file "
        "is the one you meant.",
        values=_existing_file,
    ),
    Refusal(
        "filename-reused",
        r"previously used by a file that has since been deleted|filename has already been used",
        (400,),
        "{File} was used before, by a file that was deleted.",
        "PyPI remembers every filename ever uploaded; deleting a file or a release never frees "
        "its name, so this version can never get this file again.",
        "Release a new version: `nox -s bump_version -- patch`, build and release again "
        "(a post-release, e.g. 1.0.post1, keeps the version's meaning).",
        values=_our_names,
    ),
    Refusal(
        "release-too-old",
        r"older than 14 days",
        (400,),
        "This release is older than 14 days: no new files may be added to it.",
        "Since 2026-07-08 PyPI only accepts new files for a release during its first 14 days.",
        "Publish the new files under a new version (`nox -s bump_version -- patch`, or a "
        "post-release); the old release keeps the files it has.",
    ),
    Refusal(
        "local-version",
        r"use of local versions in (?P<version>.+?) is not allowed"
        r"|can't use pep 440 local versions",
        (400,),
        "Local versions ({version}) cannot be uploaded to {index}.",
        "A version with '+local' (often added by setuptools-scm for a dirty or untagged "
        "checkout) is for local builds only; public indexes refuse it.",
        "Build from a clean, tagged commit (or set a version without '+...'), then build "
        "and release again.",
        values=_local_version,
    ),
    Refusal(
        "one-sdist",
        r"only one sdist may be uploaded per release",
        (400,),
        "This release already has an sdist.",
        "A release may have exactly one source distribution; another sdist (other name or "
        "extension, e.g. .zip next to .tar.gz, or a differently normalised name) is there.",
        "Upload only wheels to this version, or release a new version with the new sdist.",
    ),
    Refusal(
        "file-too-large",
        r"file too large\.?(?: limit for project ['\"]?(?P<project>[^'\"]+)['\"]? is "
        r"(?P<limit>\d+)\s*mb)?|request entity too large",
        (400, 413),
        "{file} is larger than {index} accepts.",
        "{limit}PyPI's default limit is 100 MB per file.",
        "Make the distribution smaller (exclude data and tests from the wheel/sdist), or ask "
        "PyPI for a higher limit (https://github.com/pypi/support, 'file size limit request').",
        values=_size_limit,
    ),
    Refusal(
        "project-too-large",
        r"project size too large",
        (400,),
        "{Project} has reached its total size limit on {index}.",
        "PyPI limits the total size of all files of a project (10 GB by default).",
        "Delete old, unused files or releases, or ask PyPI for a higher project limit "
        "(https://github.com/pypi/support).",
        values=_our_names,
    ),
    # Names and metadata.
    Refusal(
        "name-not-allowed",
        r"the name ['\"]?(?P<project>[^'\"]+)['\"]? (?:isn't|is not) allowed",
        (400,),
        "The project name {project!r} is not allowed.",
        "The name is prohibited on the index (reserved, a standard-library module, or blocked).",
        "Choose another name in pyproject.toml, then build and release again.",
    ),
    Refusal(
        "name-too-similar",
        r"too similar to an existing project",
        (400,),
        "The project name{named} is too similar to an existing project.",
        "PyPI refuses new names that differ from an existing one only by punctuation or "
        "confusable characters (typo-squatting protection).",
        "Choose a clearly different name in pyproject.toml, then build and release again.",
        values=_our_names,
    ),
    Refusal(
        "pypi-rule",
        r"unsupported platform tag|is not a valid classifier|classifier .{1,200} has been "
        r"deprecated|description failed to render|license is deprecated when "
        r"license-expression|license-file .{1,300} does not exist|filename is too long|"
        r"start filename for|should contain the normalized project name|version in filename "
        r"should be|is not a valid metadata version|filename .{1,300} is invalid, should be",
        (400,),
        "{Index} refused a file that breaks one of PyPI's upload rules.",
        "{Index} said: {verbatim}",
        "Fix what it names (release/docs/pypi-rules.md has every rule and its fix) and build "
        "again: `nox -s build` checks PyPI's rules offline. For an index other than PyPI set "
        'index-rules = "pypi" so the plan catches this before a byte is sent.',
    ),
    Refusal(
        "metadata-invalid",
        r"is an invalid value for|invalid distribution file|unknown type of file",
        (400,),
        "The index refused the distribution's metadata or file.",
        "{Index} said: {verbatim}",
        "Run `twine check dist/*`, fix the field it names in pyproject.toml, then build again.",
    ),
    # Private servers.
    Refusal(
        "no-permission",
        r"no permission to submit",
        (403,),
        "Your user may not upload to {index}.",
        "devpi: the index's acl_upload does not include this user.",
        "Ask the index owner to add you (devpi index <index> acl_upload+=<user>), or log in "
        "as a user who may upload.",
    ),
    Refusal(
        "auth-missing",
        r".*",
        (401,),
        "{Index} asked for credentials ({verbatim}).",
        "No credential was sent, or the index did not accept the username/password it got "
        "(pypiserver answers 401 when nothing was sent, devpi when a login fails).",
        "Set RELEASE_<TEST|PROD>_USERNAME and RELEASE_<TEST|PROD>_PASSWORD (or another source "
        "from the Credentials section) for this index; `nox -s doctor` shows what is found.",
    ),
    Refusal(
        "auth-refused",
        r".*",
        (403,),
        "{Index} refused the credential ({verbatim}).",
        "The index gave no reason: on pypiserver this means a wrong username or password, "
        "elsewhere a credential without upload rights.",
        "Check the username and password for this index (`nox -s doctor`), and that the user "
        "may upload.",
    ),
    # Redirects, limits, server faults.
    Refusal(
        "redirect",
        r".*",
        (301, 302, 303, 307, 308),
        "The upload URL redirects ({verbatim}); uploads are never sent through redirects.",
        "PyPI answers 308 for /legacy without its trailing slash; other indexes redirect "
        "http:// to https:// or an old address to a new one.",
        "Set the upload URL to the final address: for PyPI-like indexes it ends in /legacy/ "
        "(with the slash), e.g. RELEASE_PROD_UPLOAD_URL=https://upload.pypi.org/legacy/.",
    ),
    Refusal(
        "rate-limited",
        r".*",
        (429,),
        "{Index} is rate-limiting requests ({verbatim}).",
        "Too many requests in a short time.",
        "Wait a little and run the session again (it retries with backoff on its own).",
        retry=True,
    ),
    Refusal(
        "server-error",
        r".*",
        (500, 502, 503, 504),
        "{Index} failed on its side ({verbatim}).",
        "A server or gateway error, not a problem with your files or credential.",
        "Run the session again: files already uploaded are recognised and skipped.",
        retry=True,
    ),
)


# --- entry points -----------------------------------------------------------------------------
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip()


def explain_upload(
    status: int,
    reason: str,
    body: str = "",
    *,
    project: str = "",
    filename: str = "",
    index_name: str = "",
    publisher_project: str = "",
) -> Diagnosis:
    """Explain an index's answer to an upload POST.

    ``publisher_project``: the pending trusted publisher's project name, when known, so a
    ``Non-user identities cannot create new projects`` refusal can say which names differ.
    """
    plain_reason = _SPACES.sub(" ", reason).strip()  # a status line is text, not HTML
    text = f"{plain_reason}\n{_plain(body)}"
    ctx = _Context(
        status=status,
        reason=plain_reason,
        text=text,
        project=project,
        filename=filename,
        index=f"the {index_name} index" if index_name else "the index",
        publisher_project=publisher_project,
    )
    for rule in _RULES:
        match = rule.match(status, text)
        if match is not None:
            return rule.diagnosis(match, ctx)
    return _unknown(ctx, body)


def _unknown(ctx: _Context, body: str) -> Diagnosis:
    detail = _plain(body)
    if len(detail) > 500:
        detail = detail[:500] + " ..."
    said = ctx.verbatim + (f" - {detail}" if detail and detail not in ctx.reason else "")
    transient = is_transient_status(ctx.status)
    return Diagnosis(
        f"{ctx.index.capitalize()} answered {ctx.verbatim}",
        f"An answer nox-release does not know. The index said: {said}",
        "Run the session again if it looks transient; otherwise search the message above in "
        "the index's documentation, and please report it so it can be explained here.",
        transient,
        "unknown",
    )


# Offline token checks that explain a 403, most telling first.
_EXPLAINS_403 = (
    "password-login",
    "not-a-token",
    "wrong-index",
    "username",
    "whitespace",
    "quotes",
    "missing-prefix",
    "doubled-prefix",
    "bad-characters",
    "truncated",
    "trailing",
    "not-macaroon",
    "empty",
    "wrong-project",
    "expired",
    "not-yet-valid",
)


def explain_403_with_token(findings: list[Finding]) -> str | None:
    """Which offline token check explains a 403, as one or more lines; None if none does."""
    errors = [f for f in findings if f.level == "error"]
    rank = {code: i for i, code in enumerate(_EXPLAINS_403)}
    errors.sort(key=lambda f: rank.get(f.code, len(rank)))
    if not errors:
        return None
    first, *others = errors
    lines = [f"The offline token check explains it: {first.message} Fix: {_sentence(first.fix)}"]
    lines += [f"Also: {f.message} Fix: {_sentence(f.fix)}" for f in others]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text if text.endswith((".", ")", "!")) else text + "."


# --- trusted publishing -----------------------------------------------------------------------
MISSING_ID_TOKEN_PERMISSION = Diagnosis(
    "This GitHub Actions job cannot get an OIDC identity token.",
    "The job lacks the `id-token: write` permission, so GitHub does not set "
    "ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN (workflows from forks "
    "never get it).",
    "Add `permissions: id-token: write` to the publishing job (job level, not only workflow "
    "level, when the workflow sets `permissions: {}`).",
    False,
    "missing-id-token-permission",
)

REUSABLE_WORKFLOW = Diagnosis(
    "The publishing job runs in a reusable workflow.",
    "Reusable workflows cannot be trusted publishers (warehouse#11096): PyPI matches the "
    "calling workflow's file, and the token's claims name the called one.",
    "Move the upload step into the top-level workflow registered as the trusted publisher "
    "(build may stay in the reusable workflow), or upload with an API token.",
    False,
    "reusable-workflow",
)


def explain_audience_error(status: int, body: str = "", *, index_name: str = "") -> Diagnosis:
    """``GET <index>/_/oidc/audience`` did not give an audience."""
    where = f"the {index_name} index" if index_name else "the index"
    if status == 403:
        return Diagnosis(
            f"Trusted publishing is switched off on {where}.",
            f"{where.capitalize()} answered 403 to the audience request: "
            f"{_plain(body) or 'Forbidden'}.",
            "Upload with an API token meanwhile (RELEASE_<TEST|PROD>_PASSWORD).",
            True,
            "oidc-disabled",
        )
    if status == 404:
        return Diagnosis(
            f"{where.capitalize()} does not support trusted publishing.",
            "It has no /_/oidc/audience endpoint (only PyPI and TestPyPI have one).",
            "Use a token or password for this index.",
            False,
            "oidc-unsupported",
        )
    return Diagnosis(
        f"{where.capitalize()} answered {status} to the trusted-publishing audience request.",
        f"Unexpected answer: {status} {_plain(body)[:300]}".strip(),
        "Run again if it looks transient; otherwise use an API token.",
        is_transient_status(status),
        "oidc-audience-unknown",
    )


@dataclasses.dataclass(frozen=True)
class MintRefusal:
    """One known ``errors[]`` entry of a failed mint-token answer, as data.

    Matches the entry's ``error`` code and, when ``contains`` is set, a description containing
    it (lower case). ``why`` is a template over ``{said}`` (PyPI's own words, always kept).
    """

    error: str
    contains: str
    code: str
    what: str
    why: str
    fix: str
    retry: bool = False


# First match wins: the specific "invalid-payload" rows come before the general one.
_MINT_RULES: tuple[MintRefusal, ...] = (
    MintRefusal(
        "not-enabled",
        "",
        "mint-not-enabled",
        "Trusted publishing is disabled on the index.",
        "The administrators switched trusted publishing off for this CI provider. {said}",
        "Upload with an API token meanwhile; trusted publishing needs no change later.",
        retry=True,
    ),
    MintRefusal(
        "invalid-payload",
        "unknown trusted publishing issuer",
        "mint-unknown-issuer",
        "This CI's identity provider is not a trusted-publishing issuer.",
        "PyPI accepts identity tokens from GitHub Actions, GitLab.com (not self-managed "
        "GitLab), Google Cloud and ActiveState (and an organization's custom issuers); "
        "tokens from a self-managed GitLab, Buildkite or CircleCI are refused. {said}",
        "Upload with an API token from this CI (RELEASE_<TEST|PROD>_PASSWORD as a masked "
        "secret), or publish from a supported CI.",
    ),
    MintRefusal(
        "invalid-payload",
        "malformed jwt",
        "mint-malformed-jwt",
        "The identity token sent to PyPI is not a JWT.",
        "The CI's OIDC token was empty, cut short or the wrong variable. {said}",
        "Check the variable holding the identity token (GitLab: the `id_tokens:` entry, "
        "e.g. PYPI_ID_TOKEN with `aud` set to the index's audience).",
    ),
    MintRefusal(
        "invalid-payload",
        "",
        "mint-invalid-payload",
        "PyPI could not use the token request.",
        "The request body was not the expected JSON object, or creating the project from "
        "a pending publisher failed. {said}",
        "If the message names the project, fix the name (see 'When an upload is refused'); "
        "otherwise report this as a bug of nox-release.",
    ),
    MintRefusal(
        "invalid-token",
        "",
        "mint-invalid-token",
        "PyPI refused the CI's identity token.",
        "The OIDC token is expired, badly signed or for another audience (a TestPyPI "
        "audience sent to PyPI or the reverse). {said}",
        "Request a fresh identity token right before minting, with the audience that "
        "<index>/_/oidc/audience returns; do not cache identity tokens between jobs.",
    ),
    MintRefusal(
        "invalid-pending-publisher",
        "",
        "mint-invalid-pending-publisher",
        "The pending publisher is stale: the project already exists.",
        "A pending publisher can only create a project; this name now exists, so PyPI "
        "removed the pending publisher. {said}",
        "Add a normal trusted publisher on the existing project's settings page "
        "(Publishing), with the same repository, workflow and environment.",
    ),
    MintRefusal(
        "invalid-publisher",
        "",
        "mint-invalid-publisher",
        "No trusted publisher on PyPI matches this CI job.",
        "The identity token is valid but its claims (owner, repository, workflow file, "
        "environment) match no publisher: a typo, a renamed repository or workflow, a "
        "different `environment:`, a reusable workflow, or a publisher registered on the "
        "other index. {said}",
        "Compare the project's Publishing settings with this job: repository owner and "
        "name, workflow filename (the top-level one), and environment name must match "
        "exactly; register it on the index you upload to.",
    ),
    MintRefusal(
        "invalid-reuse-token",
        "",
        "mint-invalid-reuse-token",
        "The identity token was already used.",
        "Each OIDC token can be exchanged once (its jti is remembered). {said}",
        "Request a new identity token for every exchange (renewals included).",
    ),
)


def explain_mint_error(code: str, description: str) -> Diagnosis:
    """One ``errors[]`` entry of a failed ``/_/oidc/mint-token`` answer (HTTP 422)."""
    said = f"PyPI said: {code}: {description}".rstrip(": ")
    low = description.lower()
    for rule in _MINT_RULES:
        if rule.error == code and rule.contains in low:
            why = rule.why.format(said=said)
            return Diagnosis(rule.what, why, rule.fix, rule.retry, rule.code)
    return Diagnosis(
        f"Trusted publishing failed: {code or 'no error code'}.",
        f"An answer nox-release does not know. {said}",
        "Report it so it can be explained here; meanwhile upload with an API token.",
        False,
        "mint-unknown",
    )


def explain_mint_failure(status: int, body: str) -> Diagnosis:
    """A whole failed answer of ``/_/oidc/mint-token``: the first listed error, explained.

    Other errors in the list are appended to the cause; a body that is not the documented
    JSON is shown verbatim.
    """
    try:
        data = json.loads(body)
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, AttributeError):
        errors = []
    if not errors:
        return Diagnosis(
            f"Trusted publishing failed: the index answered {status}.",
            f"Not the documented error answer. The index said: {_plain(body)[:500]}".strip(),
            "Run again if it looks transient; otherwise upload with an API token.",
            is_transient_status(status),
            "mint-unknown",
        )
    first = explain_mint_error(
        str(errors[0].get("code", "")), str(errors[0].get("description", ""))
    )
    rest = [f"{e.get('code', '')}: {e.get('description', '')}" for e in errors[1:]]
    if rest:
        first = dataclasses.replace(first, cause=first.cause + " Also: " + "; ".join(rest))
    return first

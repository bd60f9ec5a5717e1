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
    "FILENAME_MAX_BYTES",
    "MISSING_ID_TOKEN_PERMISSION",
    "REUSABLE_WORKFLOW",
    "Diagnosis",
    "explain_403_with_token",
    "explain_audience_error",
    "explain_mint_error",
    "explain_mint_failure",
    "explain_upload",
    "retry_cannot_cure",
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

    code: str  # stable name of the case, for programs, JSON, tests and release/docs/refusals.md
    pattern: str
    statuses: tuple[int, ...]  # empty: any status
    what: str
    why: str
    fix: str
    retry: bool = False
    values: Values | None = None
    # what the row matches that Warehouse (at the commit release/docs/pypi-rules.md cites) no longer
    # sends, and who does: other indexes, proxies, older Warehouse ("" when all is current)
    kept: str = ""
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


def _field(m: re.Match[str], _ctx: _Context) -> dict[str, str]:
    return {"field": _quoted(m, "field", "a field")}


def _tag(m: re.Match[str], ctx: _Context) -> dict[str, str]:
    return {"tag": _quoted(m, "tag", "its platform tag"), **_our_names(m, ctx)}


def _why(m: re.Match[str], ctx: _Context) -> dict[str, str]:
    return {"why": _quoted(m, "why", "see its answer").rstrip("."), **_our_names(m, ctx)}


def _limit(m: re.Match[str], _ctx: _Context) -> dict[str, str]:
    return {"limit": _quoted(m, "limit", "512")}


def _metadata_version(m: re.Match[str], _ctx: _Context) -> dict[str, str]:
    return {"version": _quoted(m, "version", "of the file").strip("'\"")}


def _too_new(m: re.Match[str], _ctx: _Context) -> dict[str, str]:
    return {name: _quoted(m, name, "?") for name in ("field", "needed", "version")}


_CLIENT_BUG = (
    "nox-release and twine always send it right: if this came from nox-release, please report "
    "it with the command's --json output; otherwise upgrade the uploading tool."
)
_REBUILD = (
    "Build the file again with a current backend (`python -m build`) and never re-pack or "
    "edit built files; `nox -s build` checks this offline (release/docs/pypi-rules.md, rule "
    "`archive`)."
)


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
        "token-oidc",
        r"invalid api token:.*oidc",
        (403,),
        "The trusted-publishing token does not fit this upload.",
        "The token was minted for another trusted publisher or project, or is used outside a "
        "trusted-publishing request ({verbatim}).",
        "Mint a new token in the same job, right before uploading, for a publisher registered "
        "on this project (its Publishing settings); never reuse minted tokens across jobs.",
    ),
    Refusal(
        "token-caveat",
        r"invalid api token:.*(?:caveat|not enough values|invalid values for fields)",
        (403,),
        "The API token has a caveat {index} cannot read.",
        "A restriction (caveat) inside the token is not one PyPI knows, or its values are "
        "missing or of the wrong type: the token was edited by hand or made by another tool.",
        "Create a new token and use it exactly as shown; `nox -s doctor` reads the caveats "
        "offline and says which one PyPI refuses.",
    ),
    Refusal(
        "token-malformed",
        r"invalid api token:.*malformed",
        (403,),
        "The API token is malformed.",
        "What follows pypi- is not a readable token: cut short, wrapped, re-encoded, or with "
        "other text in it.",
        "Copy the whole token again (one line starting with pypi-); `nox -s doctor` says what "
        "is wrong with the current one.",
    ),
    Refusal(
        "token-revoked",
        r"invalid api token:.*(?:macaroon not found|deleted or nonexistent macaroon)",
        (403,),
        "The API token was deleted or revoked.",
        "{Index} no longer knows this token: it was removed in the account settings, or revoked "
        "(PyPI revokes tokens found in public places).",
        "Create a new token (scoped to the project) and store it as the secret again.",
    ),
    Refusal(
        "token-unverified",
        r"invalid api token:.*unknown error",
        (403,),
        "{Index} could not verify the API token and gives no reason.",
        "The token passed no check and failed none by name ({verbatim}).",
        "Create a new token; if a new one fails the same way, contact PyPI support "
        "(https://pypi.org/help/) with the time of the upload.",
    ),
    Refusal(
        "token-invalid",
        r"invalid api token",
        (403,),
        "The API token was refused.",
        "{Index} said: {verbatim}",
        "Create a new token for this project; `nox -s doctor` shows what the current one says.",
        kept="older Warehouse wordings of a token refusal",
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
        "org-inactive",
        r"organization account owning this project is inactive",
        (400,),
        "The organization that owns {project} is inactive on {index}.",
        "Uploads to an organization's projects stop when the organization is not in good "
        "standing (unpaid billing for a company organization, or an administrator's action).",
        "An owner of the organization settles it (billing, or support+orgs@pypi.org); nothing "
        "in the release needs to change. Run the session again afterwards.",
        values=_our_names,
    ),
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
        "form-field-tuple",
        r"(?P<field>[\w-]+): should not be a tuple",
        (400,),
        "The upload form sent the field {field} as a file.",
        "PyPI takes only the distribution itself as a file part; a text field arrived as one.",
        "The uploading tool built a wrong request. " + _CLIENT_BUG,
        values=_field,
    ),
    Refusal(
        "protocol-version",
        r"unknown protocol version",
        (400,),
        "The upload used a protocol version {index} does not know.",
        "PyPI's upload API has one version, protocol_version 1.",
        "The uploading tool built a wrong request. " + _CLIENT_BUG,
    ),
    Refusal(
        "no-file",
        r"upload payload does not have a file",
        (400,),
        "The upload request carried no file.",
        "The form arrived without its content part (an interrupted or truncated request, or a "
        "client bug).",
        "Run the session again; if it repeats: " + _CLIENT_BUG,
    ),
    Refusal(
        "form-filetype",
        r"invalid value for filetype",
        (400,),
        "{Index} did not recognise the kind of file uploaded.",
        "The form's filetype must be sdist or bdist_wheel: eggs, bdist_wininst and other old "
        "formats are no longer taken ({verbatim}).",
        "Release wheels and a .tar.gz sdist only (`python -m build` makes both).",
    ),
    Refusal(
        "form-pyversion",
        r"invalid value for pyversion",
        (400,),
        "The upload form's Python version does not fit the file.",
        "A wheel needs its Python tag and an sdist the value 'source' ({verbatim}).",
        "The uploading tool built a wrong request. " + _CLIENT_BUG,
    ),
    Refusal(
        "form-digest",
        r"message digest",
        (400,),
        "The upload form's digest is missing or malformed.",
        "PyPI needs a hex SHA256 (or BLAKE2) digest of the file with it ({verbatim}).",
        "The uploading tool built a wrong request. " + _CLIENT_BUG,
    ),
    Refusal(
        "digest-mismatch",
        r"digest supplied does not match",
        (400,),
        "{File} arrived with other bytes than the ones hashed.",
        "The digest sent with the file does not match what PyPI received: the file changed "
        "while it was being sent, or the transfer was corrupted (a proxy rewriting the body).",
        "Run the session again (dist/ is checked against the manifest first); if it repeats, "
        "upload from a network without an intercepting proxy.",
        values=_our_names,
    ),
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
        kept='pypiserver: "Package \'<file>\' already exists!"; devpi: "<file> already exists '
        'in non-volatile index"',
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
        kept='Warehouse before 2025-10: "This filename has already been used"',
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
        kept='older Warehouse: "Can\'t use PEP 440 local versions"',
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
        kept='proxies and other indexes: 413 "Request Entity Too Large"',
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
        "name-stdlib",
        r"the name ['\"]?(?P<project>[^'\"]+)['\"]? (?:isn't|is not) allowed \(conflict with "
        r"python standard library",
        (400,),
        "The project name {project!r} is a standard-library module's name.",
        "PyPI refuses new projects named like a module of any Python version's standard "
        "library, submodules included (xml.etree, test, _thread as thread).",
        "Choose another name in pyproject.toml; `nox -s plan` checks PyPI's list offline for a "
        "new project.",
    ),
    Refusal(
        "name-conflict",
        r"the name ['\"]?(?P<project>[^'\"]+)['\"]? conflicts with an existing project",
        (400, 409),
        "The project name {project!r} was taken while this upload created it.",
        "Another project with this name (compared normalised: My_Pkg == my-pkg) appeared "
        "between PyPI's lookup and the creation: usually a parallel upload of the same new "
        "project, which then owns it.",
        "Run the session again: if the parallel upload was yours, the files are recognised; "
        "if the project is someone else's, choose another name in pyproject.toml.",
    ),
    Refusal(
        "name-invalid",
        r"the name ['\"]?(?P<project>[^'\"]+)['\"]? is invalid"
        r"|'(?P<bare>[^']+)' is an invalid value for name\.",
        (400,),
        "The project name {project!r} is not a valid name.",
        "A project name starts and ends with a letter or digit and holds only ASCII letters, "
        "digits, '.', '_' and '-' ({verbatim}).",
        "Fix [project] name in pyproject.toml, build and release again.",
    ),
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
        "platform-tag",
        r"unsupported platform tag ['\"](?P<tag>[^'\"]+)['\"]",
        (400,),
        "{File} has a platform tag PyPI does not accept ({tag}).",
        "PyPI takes only platform tags with a known ABI: a plain linux_* wheel is built "
        "against this machine's libraries (manylinux/musllinux are the portable ones), and "
        "macOS, iOS and Android tags must name known versions and architectures.",
        "Build the Linux wheels with cibuildwheel, or repair them with `auditwheel repair` and "
        "release the manylinux wheel (release/docs/compiled.md); `nox -s build` checks tags "
        "offline.",
        values=_tag,
    ),
    Refusal(
        "wheel-filename",
        r"invalid wheel filename|invalid build number|invalid project name:",
        (400,),
        "{File} is not a valid wheel filename.",
        "A wheel's name is <name>-<version>[-<build number>]-<python>-<abi>-<platform>.whl, "
        "lower-case, its build number starting with a digit ({verbatim}).",
        "Build the wheel with `python -m build` (or cibuildwheel) and never rename wheels.",
        values=_our_names,
    ),
    Refusal(
        "sdist-filename",
        r"invalid source distribution filename|filename .{1,300} is invalid, should be",
        (400,),
        "{File} is not the sdist name PyPI expects.",
        "PEP 625: an sdist is <normalized_name>-<version>.tar.gz, the name lower-case with '_' "
        "for '-', '.' and runs of them, the version normalised ({verbatim}).",
        "Build the sdist with a current backend (`python -m build`; setuptools 69.3+ names it "
        "right) and never rename it.",
        values=_our_names,
    ),
    Refusal(
        "filename-project",
        r"start filename for|should contain the normalized project name",
        (400,),
        "{File} does not start with the project's normalized name.",
        "PyPI compares the filename's name part with the project's name, normalised "
        "(lower-case, '_' for '-' and '.'): a file of another project, or one named by an "
        "old backend ({verbatim}).",
        "Build with a current backend (`python -m build`) from the project the index expects; "
        "never rename built files.",
        values=_our_names,
    ),
    Refusal(
        "filename-version",
        r"version in filename should be",
        (400,),
        "{File}'s version is not the version in its metadata.",
        "The filename and the METADATA disagree ({verbatim}): a renamed file, or a build that "
        "mixed two versions.",
        "Build again from a clean tree (`python -m build`); never rename built files.",
        values=_our_names,
    ),
    Refusal(
        "filename-characters",
        r"cannot upload a file with",
        (400,),
        "{File} has characters PyPI does not allow in a filename.",
        "Control characters, DEL, '/' and '\\' are refused in filenames ({verbatim}).",
        "Build with `python -m build` and never rename built files.",
        values=_our_names,
    ),
    Refusal(
        "file-extension",
        r"invalid file extension",
        (400,),
        "{File} has an extension PyPI does not take for its kind.",
        "PyPI takes .whl wheels and .tar.gz sdists (.zip sdists only from old uploads); eggs, "
        ".exe and .msi are refused ({verbatim}).",
        "Release wheels and a .tar.gz sdist (`python -m build`).",
        values=_our_names,
    ),
    Refusal(
        "filename-too-long",
        r"filename is too long",
        (400,),
        "{File}'s name is too long for PyPI.",
        "PyPI stores each wheel's METADATA as <filename>.metadata: the name plus those 9 bytes "
        "must fit the file system's 255 bytes.",
        "Shorten the name, the version or the tags (fewer compressed platform tags); "
        "`nox -s build` checks the length offline.",
        values=_our_names,
    ),
    Refusal(
        "content-type",
        r"^invalid distribution file\.?\s*(?:\n|$)",
        (400,),
        "{Index} did not take the upload's content type.",
        "The file part of the form had no content type, or an image one.",
        "The uploading tool built a wrong request. " + _CLIENT_BUG,
    ),
    Refusal(
        "archive-compression",
        r"compression ratio|supported compression type",
        (400,),
        "{File} is compressed in a way PyPI refuses.",
        "PyPI takes only stored and deflated zip members, and refuses a zip that unpacks to "
        "more than 64 MiB at over 50 times its size (it takes it for a zip bomb) ({verbatim}).",
        "Build the wheel again with a current backend (no LZMA/BZIP2), and leave large "
        "compressible data (test fixtures, generated files) out of it; `nox -s build` checks "
        "this offline.",
        values=_our_names,
    ),
    Refusal(
        "zip-structure",
        r"zip archive not accepted: (?P<why>[^.]+)",
        (400,),
        "PyPI refused {File}'s zip structure: {why}.",
        "PyPI reads zips strictly so every installer sees the same files "
        "(https://docs.pypi.org/archives): no data descriptors, comments, duplicate names, "
        "ZIP64 extras or bytes after the end. The file was written or edited by a tool that "
        "does one of these (a streaming zip writer, a zip tool run on the wheel).",
        _REBUILD,
        values=_why,
    ),
    Refusal(
        "tar-sparse",
        r"sparse members are not allowed",
        (400,),
        "{File} has sparse tar members.",
        "Sparse files are a GNU tar extension PyPI refuses in sdists.",
        "Build the sdist with `python -m build` (it never writes sparse members) instead of "
        "tar; do not re-pack it.",
        values=_our_names,
    ),
    Refusal(
        "sdist-layout",
        r"top-level directories in sdist|pkg-info not found at",
        (400,),
        "{File} is not laid out as an sdist.",
        "An sdist holds exactly one top-level folder <name>-<version>/ with PKG-INFO in it "
        "({verbatim}).",
        _REBUILD,
        values=_our_names,
    ),
    Refusal(
        "wheel-dist-info",
        r"unable to parse name and version from wheel filename|wheel not found at",
        (400,),
        "{File}'s .dist-info folder is not where PyPI looks.",
        "PyPI reads <name>-<version>.dist-info/WHEEL with name and version spelled exactly as "
        "in the filename; a wheel renamed by hand, or a backend that spells the folder "
        "otherwise, fails ({verbatim}).",
        _REBUILD,
        values=_our_names,
    ),
    Refusal(
        "wheel-record",
        r"does not contain the required record file",
        (400,),
        "{File} has no RECORD file where PyPI looks.",
        "Every wheel lists its files in <name>-<version>.dist-info/RECORD.",
        _REBUILD,
        values=_our_names,
    ),
    Refusal(
        "wheel-metadata",
        r"does not contain the required metadata file",
        (400,),
        "{File} has no METADATA file where PyPI looks.",
        "PyPI reads <name>-<version>.dist-info/METADATA, spelled as in the filename.",
        _REBUILD,
        values=_our_names,
    ),
    Refusal(
        "wheel-entry-points",
        r"has invalid entry points",
        (400,),
        "{File}'s entry_points.txt is not valid.",
        "It must be an INI file, and console_scripts/gui_scripts names may hold only letters, "
        "digits, '_', '.' and '-' (no paths).",
        "Fix [project.scripts] / [project.gui-scripts] (or entry_points in setup.py), build "
        "again; `nox -s build` checks this offline.",
        values=_our_names,
    ),
    Refusal(
        "archive-invalid",
        r"invalid distribution file\. (?:file is both a zip and a tar|file is not a (?:zip|tar)"
        r"file|none\b)",
        (400,),
        "{File} is not a readable archive of its kind.",
        "A wheel must be a zip, a .tar.gz sdist a gzip'd tar, and neither may also be the other "
        "({verbatim}): a damaged or hand-made file.",
        _REBUILD,
        values=_our_names,
    ),
    Refusal(
        "obfuscated-code",
        r"encrypted content is not allowed",
        (400,),
        "{File} holds encrypted (obfuscated) code, which PyPI does not allow.",
        "PyPI's acceptable-use policy refuses PyArmor- and SourceDefender-encrypted code "
        "(https://pypi.org/policy/acceptable-use-policy/).",
        "Release the code unencrypted, or distribute the encrypted build elsewhere (a private "
        "index).",
        values=_our_names,
    ),
    Refusal(
        "license-file-missing",
        r"license-file (?P<what>.{1,300}?) does not exist",
        (400,),
        "A License-File named in the metadata is not in {File}.",
        "From Metadata-Version 2.4, every License-File must be in the file (a wheel's "
        "<name>-<version>.dist-info/licenses/, an sdist's top folder) ({verbatim}).",
        "List the files with license-files in [project] (the backend copies them), or stop "
        "naming the missing one; `nox -s build` checks this offline.",
        values=_our_names,
    ),
    Refusal(
        "readme-render",
        r"description failed to render",
        (400,),
        "The README does not render, so {index} refused it.",
        "PyPI renders the long description with readme_renderer as its content type "
        "(reStructuredText when none is given) and refuses what fails ({verbatim}).",
        'Fix the markup, or set the README\'s content type (readme = "README.md" sets '
        "text/markdown); `nox -s build` renders it offline.",
    ),
    Refusal(
        "license-and-expression",
        r"license is deprecated when license-expression",
        (400,),
        "The metadata has both License and License-Expression.",
        "PEP 639: with a License-Expression, the old License field must go.",
        'Keep only license = "<SPDX expression>" in [project]; drop the license text/table '
        "and the License :: classifiers; `nox -s build` checks this offline.",
    ),
    Refusal(
        "classifier-deprecated",
        r"classifier .{1,200} has been deprecated",
        (400,),
        "A classifier is deprecated, so {index} refused it.",
        "PyPI refuses deprecated classifiers ({verbatim}).",
        "In [project].classifiers use the replacement PyPI names, or remove it; `nox -s build` "
        "checks classifiers offline.",
    ),
    Refusal(
        "classifier-invalid",
        r"is not a valid classifier",
        (400,),
        "A classifier is not one PyPI knows.",
        "PyPI takes only the classifiers of trove-classifiers ({verbatim}).",
        "Fix or remove it in [project].classifiers (the list: https://pypi.org/classifiers/); "
        "`nox -s build` checks classifiers offline.",
    ),
    Refusal(
        "metadata-version",
        r"(?P<version>\S+) is not a valid metadata version",
        (400,),
        "Metadata-Version {version} is not one {index} accepts.",
        "PyPI takes Metadata-Version 1.0, 1.1, 1.2 and 2.1 to 2.5; the build backend wrote "
        "another (one newer than PyPI, or none).",
        "Upgrade or pin the build backend to one that writes a version PyPI knows; `nox -s "
        "build` checks it offline.",
        values=_metadata_version,
    ),
    Refusal(
        "attestations-invalid",
        r"invalid attestations supplied during upload: (?P<why>.+?)(?:\n|$)",
        (400,),
        "{Index} refused the file's attestations: {why}.",
        "PEP 740 attestations are taken only from trusted publishing (GitHub, GitLab, Google), "
        "at most one per kind and file, signed over the very bytes uploaded.",
        "With an API token, or a publisher PyPI takes no attestations from: set attestations = "
        "false. Otherwise delete the *.attestation files beside dist/ (they may be for other "
        "bytes) and let the upload sign again in CI.",
        values=_why,
    ),
    Refusal(
        "name-required",
        r"'' is an invalid value for name|'name' is a required field",
        (400,),
        "The distribution's metadata has no project name.",
        "Name is empty, or UNKNOWN (what setup.py writes when none is given; PyPI drops "
        "UNKNOWN values).",
        "Set name in [project] (or name= in setup.py), build and release again.",
    ),
    Refusal(
        "summary-too-long",
        r"'summary' field must be (?P<limit>\d+) characters or less",
        (400,),
        "The summary (description in [project]) is too long.",
        "PyPI takes a summary of at most {limit} characters.",
        "Shorten description in [project] to one sentence; the README is the long text.",
        values=_limit,
    ),
    Refusal(
        "single-line",
        r"'(?P<field>[^']+)' must be a single line",
        (400,),
        "The metadata field {field} spans several lines.",
        "Single-value fields such as the summary may not contain a line break.",
        "Remove the line breaks from the field in pyproject.toml (description is the summary), "
        "build again.",
        values=_field,
    ),
    Refusal(
        "email-invalid",
        r"is not a valid email address",
        (400,),
        "An author or maintainer email is not a valid address.",
        "PyPI checks Author-email and Maintainer-email with email-validator ({verbatim}).",
        "Fix email in [project].authors / maintainers (a real address, or leave email out).",
    ),
    Refusal(
        "url-invalid",
        r"is not a valid url",
        (400,),
        "A URL in the metadata is not a valid http(s) URL.",
        "PyPI checks Home-page, Download-URL and each Project-URL: http or https, with valid "
        "parts ({verbatim}).",
        "Fix [project.urls] (full https:// URLs), build again; `nox -s build` checks this offline.",
    ),
    Refusal(
        "project-url-invalid",
        r"must have a label|must have a url|must be \d+ characters or less",
        (400,),
        "A project URL has no label, no URL, or a label over 32 characters.",
        "Each Project-URL is 'label, URL' with a label of at most 32 characters ({verbatim}).",
        "Fix [project.urls] in pyproject.toml (short labels, each with its URL), build again.",
    ),
    Refusal(
        "direct-dependency",
        r"can't have direct dependency",
        (400,),
        "A dependency is a direct reference (a URL), which PyPI refuses.",
        "Requires-Dist, Provides-Dist and Obsoletes-Dist may not point at URLs "
        "(`pkg @ https://...`): installers from PyPI must resolve every dependency by name "
        "({verbatim}).",
        "Depend on a released project by name and version; publish the dependency first, "
        "or leave it out and document how to install it.",
    ),
    Refusal(
        "dist-field-invalid",
        r"'[^']*' is invalid: ",
        (400,),
        "A Provides-Dist or Obsoletes-Dist value is not a valid requirement.",
        "PyPI parses them as requirements ({verbatim}).",
        "Fix or remove the field (few projects need it), build again.",
    ),
    Refusal(
        "dynamic-invalid",
        r"dynamic field",
        (400,),
        "A Dynamic value is not one PyPI allows.",
        "Dynamic may name only fields PyPI lists (not Name, Version, Metadata-Version or an "
        "unknown field) ({verbatim}).",
        "Upgrade the build backend (it wrote the value); `nox -s build` checks this offline.",
    ),
    Refusal(
        "field-too-new",
        r"(?P<field>[\w-]+) introduced in metadata version (?P<needed>\d+(?:\.\d+)*), not "
        r"(?P<version>\d+(?:\.\d+)*)",
        (400,),
        "The metadata field {field} needs Metadata-Version {needed}; the file says {version}.",
        "A field may appear only from the metadata version that introduced it.",
        "Upgrade the build backend (it writes the field with a metadata version too old for "
        "it), build again.",
        values=_too_new,
    ),
    Refusal(
        "content-type-invalid",
        r"is not a valid content type for",
        (400,),
        "The README's content type is not one PyPI renders.",
        "PyPI renders text/markdown, text/x-rst and text/plain ({verbatim}).",
        'Set readme = "README.md" (or .rst) in [project], or the content type explicitly.',
    ),
    Refusal(
        "field-required",
        r"'(?P<field>[^']+)' is a required field",
        (400,),
        "The metadata lacks {field}.",
        "Every distribution's metadata names at least its metadata version, name and version "
        "({verbatim}).",
        "Set it in [project] (a version: `version` or the backend's version source), build again.",
        values=_field,
    ),
    Refusal(
        "field-invalid",
        r"is invalid for '(?P<field>[^']+)'|is not a valid identifier",
        (400,),
        "A metadata field has a value PyPI refuses ({field}).",
        "{Index} said: {verbatim}",
        "Fix that field in pyproject.toml (a version must follow PEP 440, requires-python be "
        "a specifier, an extra a valid name), build again.",
        values=_field,
    ),
    Refusal(
        "form-invalid-data",
        r"'(?P<field>[^']+)' has invalid data",
        (400,),
        "The metadata field {field} could not be read.",
        "A single-value field came more than once, or a Project-URL label twice.",
        "Fix the field in pyproject.toml (one value; distinct URL labels), build again.",
        values=_field,
    ),
    Refusal(
        "metadata-invalid",
        r"is an invalid value for|invalid distribution file|unknown type of file",
        (400,),
        "The index refused the distribution's metadata or file.",
        "{Index} said: {verbatim}",
        "Run `twine check dist/*`, fix the field it names in pyproject.toml, then build again.",
        kept='older Warehouse ("Unknown type of file") and other indexes',
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
        kept='devpi: "no permission to submit"',
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
        kept="pypiserver and devpi: 401",
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
        kept="pypiserver: 403 without a reason (a wrong username or password)",
    ),
    # Redirects, limits, server faults.
    Refusal(
        "pre-registration",
        r"pre-registration is no longer required",
        (410,),
        "A project registration was sent: {index} creates projects on the first upload.",
        "The register step of old tools (setup.py register, twine register) is gone.",
        "Upload the files; no registration step is needed.",
    ),
    Refusal(
        "doc-upload",
        r"uploading documentation is no longer supported",
        (410,),
        "A documentation upload was sent; PyPI no longer hosts documentation.",
        "The doc upload of old tools (setup.py upload_docs) is gone.",
        "Host the documentation on Read the Docs (https://readthedocs.org/) or GitHub Pages.",
    ),
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
        kept='proxies and other indexes: 429 other than "Too many new projects created"',
    ),
    Refusal(
        "server-error",
        r".*",
        (500, 502, 503, 504),
        "{Index} failed on its side ({verbatim}).",
        "A server or gateway error, not a problem with your files or credential.",
        "Run the session again: files already uploaded are recognised and skipped.",
        retry=True,
        kept="any index's server or gateway failure (Warehouse sends no 5xx on purpose)",
    ),
)


# --- entry points -----------------------------------------------------------------------------
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip()


FILENAME_MAX_BYTES = 255  # the file-system limit PyPI's temporary copy of an upload meets


def retry_cannot_cure(status: int, filename: str) -> Diagnosis | None:
    """A server error no retry can cure, explained; None for any other answer.

    PyPI writes each upload to a temporary file named after it: a filename longer than the
    file system's 255 bytes makes that fail, and the answer is a bare 500, every time.
    """
    size = len(filename.encode())
    if status != 500 or size <= FILENAME_MAX_BYTES:
        return None
    return Diagnosis(
        f"The index failed on {filename[:40]}…, whose name is {size} bytes long.",
        f"A 500 for a filename over {FILENAME_MAX_BYTES} bytes is not transient: PyPI stores "
        "each upload under its own name, and the file system refuses names that long. "
        "Retrying cannot help, so nox-release did not retry.",
        "Shorten the filename (the project name, the version, or fewer compressed platform "
        'tags) and build again; with index-rules = "pypi" `nox -s build` refuses such names '
        "offline.",
        False,
        "filename-too-long-500",
    )


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
    incurable = retry_cannot_cure(status, filename)
    if incurable is not None:
        return incurable
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

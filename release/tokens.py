"""PyPI API tokens, decoded and checked offline, before anything is sent.

A PyPI token is ``pypi-`` + base64url (no padding) of a macaroon in the pymacaroons v2
binary format. Its *location* names the index that issued it (PyPI or TestPyPI) and its
*caveats* (JSON) say what it may do (scope) and until when (expiry). Revocation cannot be
seen offline; everything else that makes an upload fail with 403 can.

Nothing here prints, logs or raises a secret: messages name the index, the scope, the
expiry and byte counts, never any part of the token but its ``pypi-`` prefix.
Text is scrubbed of secrets at the output boundary (:mod:`release.redact`).
"""

from __future__ import annotations

__all__ = [
    "PREFIX",
    "Finding",
    "Scope",
    "TokenInfo",
    "TokenProblem",
    "check_token",
    "decode_token",
]

import base64
import binascii
import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Literal, TypeGuard

from packaging.utils import canonicalize_name

from . import endpoints
from .config import IndexSettings
from .errors import CredentialError

PREFIX = "pypi-"
TOKEN_USERNAME = endpoints.TOKEN_USERNAME  # the one constant, re-exported

_WAREHOUSE_NAMES = {endpoints.Warehouse.PYPI: "PyPI", endpoints.Warehouse.TESTPYPI: "TestPyPI"}
_WAREHOUSE_HOSTS = {
    endpoints.Warehouse.PYPI: endpoints.PYPI_HOST,
    endpoints.Warehouse.TESTPYPI: endpoints.TESTPYPI_HOST,
}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


class TokenProblem(CredentialError):
    """The secret is not a well-formed PyPI token. ``code`` names the problem for programs."""

    def __init__(self, code: str, message: str, fix: str) -> None:
        super().__init__(message, fix)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Finding:
    """One result of an offline check. ``code`` is stable, for programs and tests."""

    level: Literal["error", "warning", "info"]
    message: str
    fix: str
    code: str = ""


ScopeKind = Literal["user", "projects", "project-ids", "trusted-publishing", "unknown"]


@dataclasses.dataclass(frozen=True)
class Scope:
    """What a token may upload to, as far as its caveats say."""

    kind: ScopeKind
    projects: tuple[str, ...] = ()  # canonical names, when the token names them
    project_ids: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "user":
            return "user-wide (every project of the account)"
        if self.kind == "projects":
            return "projects: " + ", ".join(self.projects)
        if self.kind == "project-ids":
            return f"{len(self.project_ids)} project id(s) only (no names in the token)"
        if self.kind == "trusted-publishing":
            return "trusted publishing (short-lived, for the publisher's projects)"
        return "scope unknown (no readable caveat restricts it; not proof it is unrestricted)"


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What a token says about itself. Holds nothing that could authenticate."""

    location: str  # host of the index that issued it, e.g. PyPI's host
    warehouse: endpoints.Warehouse | None  # None: neither PyPI nor TestPyPI
    scope: Scope
    expires: datetime | None
    not_before: datetime | None
    caveats: tuple[object, ...]  # each caveat's parsed JSON (None when not JSON)
    unreadable_caveats: int = 0
    third_party_caveats: int = 0
    trailing_bytes: int = 0  # bytes after the signature (pymacaroons would ignore them)
    trailing_chars: int = 0  # about how many characters of the text they are

    @property
    def index_label(self) -> str:
        if self.warehouse is not None:
            return f"{_WAREHOUSE_NAMES[self.warehouse]} ({self.location})"
        return self.location or "(no location)"

    def describe(self) -> str:
        parts = [f"token for {self.index_label}", self.scope.describe()]
        if self.expires is not None:
            parts.append(f"expires {self.expires:%Y-%m-%d %H:%M:%S} UTC")
        else:
            parts.append("no expiry")
        return ", ".join(parts)


# --- the binary macaroon -----------------------------------------------------------------
# Hand-written on purpose: pymacaroons' deserializer silently ignores bytes after the
# signature (a widely copied guide shows a token with "source" pasted after it, which it
# accepts), and pypitoken cannot read the tag-4 (trusted publisher) caveats PyPI now mints.
# The format (pymacaroons v2 binary): version byte 2; fields are (type varint, length
# varint, data); EOS (type 0) closes a section. Sections: location (1, optional) +
# identifier (2); each caveat: location (1, optional), identifier (2), vid (4, optional);
# an empty section ends the caveats; then the signature (6, 32 bytes).
_LOCATION, _IDENTIFIER, _VID, _SIGNATURE, _EOS = 1, 2, 4, 6, 0

_TRUNCATED_FIX = (
    "Copy the whole token again (it is one line of ~180+ characters starting with pypi-); "
    "if it is lost, create a new one"
)


def _truncated(what: str) -> TokenProblem:
    return TokenProblem("truncated", f"The token is cut short or damaged: {what}.", _TRUNCATED_FIX)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise _truncated("it ends inside a field header")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise _truncated("a field header is corrupt")

    def field(self) -> tuple[int, bytes]:
        kind = self.varint()
        if kind == _EOS:
            return _EOS, b""
        length = self.varint()
        end = self.pos + length
        if end > len(self.data):
            raise _truncated(f"a field says {length} bytes but fewer are left")
        data = self.data[self.pos : end]
        self.pos = end
        return kind, data


def _parse_macaroon(raw: bytes) -> tuple[str, list[tuple[bytes, bool]], int]:
    """(location, [(caveat id, has vid)], trailing byte count). Raises TokenProblem."""
    if not raw:
        raise _truncated("it is empty after the prefix")
    if raw[0] != 2:
        raise TokenProblem(
            "not-macaroon",
            "The text after pypi- is not a PyPI macaroon (wrong format version).",
            "Copy the token exactly as PyPI showed it, or create a new one",
        )
    r = _Reader(raw)
    r.pos = 1
    location = ""
    kind, data = r.field()
    if kind == _LOCATION:
        location = data.decode("utf-8", "replace")
        kind, data = r.field()
    if kind != _IDENTIFIER:
        raise _truncated("its identifier is missing")
    if r.field()[0] != _EOS:
        raise _truncated("its header section does not end where it should")
    caveats: list[tuple[bytes, bool]] = []
    while (caveat := _caveat(r)) is not None:
        caveats.append(caveat)
    kind, data = r.field()
    if kind != _SIGNATURE or len(data) != 32:
        raise _truncated("its signature is missing or short")
    return location, caveats, len(raw) - r.pos


def _caveat(r: _Reader) -> tuple[bytes, bool] | None:
    """The next caveat's (identifier, has vid); None at the empty section that ends them."""
    kind, data = r.field()
    if kind == _EOS:
        return None
    if kind == _LOCATION:
        kind, data = r.field()
    if kind != _IDENTIFIER:
        raise _truncated("a caveat has no identifier")
    cid, has_vid = data, False
    kind, data = r.field()
    if kind == _VID:
        has_vid = True
        kind, data = r.field()
    if kind != _EOS:
        raise _truncated("a caveat does not end where it should")
    return cid, has_vid


def _b64len(nbytes: int) -> int:
    """Characters of unpadded base64 that ``nbytes`` bytes need."""
    return (nbytes * 4 + 2) // 3


def _b64decode(body: str) -> bytes:
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


# --- caveats -------------------------------------------------------------------------------
def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _adapt_legacy(value: dict[str, object]) -> list[object] | None:
    """A caveat in PyPI's first (mapping) format, as Warehouse adapts it to the list format
    (``macaroons/caveats/_legacy.py``); None when Warehouse cannot adapt it."""
    if value.get("version") == 1:
        permissions = value.get("permissions")
        if permissions == "user":
            return [3, "<the token's user>"]
        if isinstance(permissions, dict) and "projects" in permissions:
            return [1, permissions["projects"]]
        return None
    if "exp" in value and "nbf" in value:
        return [0, value["exp"], value["nbf"]]
    if "project_ids" in value:
        return [2, value["project_ids"]]
    return None


@dataclasses.dataclass
class _Caveats:
    """The caveats read as Warehouse reads them (``macaroons/caveats``): a caveat PyPI cannot
    read makes it refuse the token, so it is counted in ``unreadable``."""

    user: bool = False
    names: list[list[str]] = dataclasses.field(default_factory=list)
    ids: list[list[str]] = dataclasses.field(default_factory=list)
    oidc: bool = False
    expires: list[int] = dataclasses.field(default_factory=list)
    not_before: list[int] = dataclasses.field(default_factory=list)
    unreadable: int = 0

    def read(self, value: object) -> None:
        """One caveat: the list format ``[tag, field, ...]`` or a legacy mapping."""
        if isinstance(value, dict):
            value = _adapt_legacy(value)
        known = isinstance(value, list) and bool(value) and self._read_tagged(value[0], value[1:])
        if not known:
            self.unreadable += 1

    def _read_tagged(self, tag: object, args: list[object]) -> bool:
        """Each tag's fields, strictly typed (pydantic's StrictInt/StrictStr); values after
        the fields are ignored and missing ones refused, as Warehouse does."""
        if tag == 0 and len(args) >= 2 and _is_int(exp := args[0]) and _is_int(nbf := args[1]):
            self.expires.append(exp)
            self.not_before.append(nbf)
            return True
        if tag in (1, 2) and args and (names := _str_list(args[0])) is not None:
            (self.names if tag == 1 else self.ids).append(names)
            return True
        if tag == 3 and args and isinstance(args[0], str):
            self.user = True
            return True
        claims = args[1] if len(args) > 1 else None
        if (
            tag == 4
            and args
            and isinstance(args[0], str)
            and isinstance(claims, (dict, type(None)))
        ):
            self.oidc = True
            return True
        return False

    def scope(self) -> Scope:
        ids = tuple(sorted(set.intersection(*map(set, self.ids)))) if self.ids else ()
        if self.oidc:
            return Scope("trusted-publishing", project_ids=ids)
        if self.names:
            # Warehouse compares the project's normalized name with the names as written
            common = set.intersection(*(set(ns) for ns in self.names))
            return Scope("projects", projects=tuple(sorted(common)), project_ids=ids)
        if self.ids:
            return Scope("project-ids", project_ids=ids)
        if self.user:
            return Scope("user")
        return Scope("unknown")


def _utc(timestamp: int | None) -> datetime | None:
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=timezone.utc) if timestamp > 0 else None


# --- decoding ------------------------------------------------------------------------------
def _check_text(secret: str) -> None:
    """Problems of the text itself (not of the macaroon). Raises TokenProblem."""
    if secret != secret.strip():
        raise TokenProblem(
            "whitespace",
            "The token has a space or newline before or after it.",
            "Remove the surrounding whitespace (a file read with its final newline is the "
            "usual cause) and set it again",
        )
    if secret[:1] in _QUOTES or secret[-1:] in _QUOTES:
        raise TokenProblem(
            "quotes",
            "The token is wrapped in quotes; the quotes became part of it.",
            "Remove the quotes (in CI secrets and .env files, store the bare token)",
        )
    if secret.startswith(PREFIX + PREFIX):
        raise TokenProblem(
            "doubled-prefix",
            "The token has its pypi- prefix twice: it was added once too often.",
            "Remove one pypi- (PyPI's token already includes it)",
        )
    if not secret.startswith(PREFIX):
        if secret.startswith("AgE"):
            raise TokenProblem(
                "missing-prefix",
                "The token lacks its pypi- prefix.",
                "Put pypi- in front of it: the prefix is part of the token",
            )
        raise TokenProblem(
            "not-a-token",
            "This is not a PyPI API token (it does not start with pypi-).",
            "Use an API token (it starts with pypi-) with username __token__",
        )


def decode_token(secret: str) -> TokenInfo:
    """Decode a PyPI token strictly; raise :class:`TokenProblem` when it is not one.

    Text around the token (whitespace, quotes), a missing or doubled prefix, bad base64 and
    short fields raise. Bytes after the signature do not: they are reported in
    ``trailing_bytes`` because the servers' library ignores them.
    """
    _check_text(secret)
    body = secret[len(PREFIX) :]
    if any(c.isspace() for c in body):
        raise TokenProblem(
            "whitespace",
            "The token has a space or line break inside it (wrapped when copied?).",
            "Join it back into one line without spaces",
        )
    if not _B64URL.fullmatch(body):
        raise TokenProblem(
            "bad-characters",
            "The token has characters a PyPI token never contains "
            "(only A-Z a-z 0-9 - _ are possible).",
            "Copy the token again exactly as PyPI showed it; do not re-encode or pad it",
        )
    if len(body) % 4 == 1:
        # No base64 text has this length: a character is missing, or text was pasted after.
        try:
            _parse_macaroon(_b64decode(body[:-1]))
        except (TokenProblem, binascii.Error):
            raise _truncated("its length is impossible for base64") from None
        raise TokenProblem(
            "trailing",
            "The token has extra characters after its end (text pasted after it).",
            "Remove what follows the token; copy it again from where you stored it",
        )
    try:
        raw = _b64decode(body)
    except binascii.Error:
        raise _truncated("it is not valid base64") from None
    location, raw_caveats, trailing = _parse_macaroon(raw)
    caveats = _Caveats()
    parsed: list[object] = []
    third_party = 0
    for cid, has_vid in raw_caveats:
        if has_vid:
            third_party += 1
        try:
            value: object = json.loads(cid.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
            caveats.unreadable += 1
        else:
            caveats.read(value)
        parsed.append(value)
    warehouse = {host: w for w, host in _WAREHOUSE_HOSTS.items()}.get(location.lower())
    used = len(raw) - trailing
    return TokenInfo(
        location=location,
        warehouse=warehouse,
        scope=caveats.scope(),
        expires=_utc(min(caveats.expires)) if caveats.expires else None,
        not_before=_utc(max(caveats.not_before)) if caveats.not_before else None,
        caveats=tuple(parsed),
        unreadable_caveats=caveats.unreadable,
        third_party_caveats=third_party,
        trailing_bytes=trailing,
        trailing_chars=len(body) - _b64len(used) if trailing else 0,
    )


# --- checking against what the upload will use -------------------------------------------------
def _token_page(warehouse: endpoints.Warehouse | None) -> str:
    host = _WAREHOUSE_HOSTS.get(warehouse or endpoints.Warehouse.PYPI, endpoints.PYPI_HOST)
    return f"https://{host}/manage/account/token/"


def _index_label(index: IndexSettings) -> str:
    if index.warehouse is not None:
        return f"{_WAREHOUSE_NAMES[index.warehouse]} (the {index.name} index)"
    return f"the {index.name} index ({endpoints.host_of(index.upload_url)})"


def check_token(
    secret: str, *, username: str, index: IndexSettings, project: str, now: datetime
) -> list[Finding]:
    """Every offline reason why ``username``/``secret`` would be refused by ``index``.

    Errors: the upload would fail. Warnings: suspicious, may fail. Info: what the token says.
    ``project`` is the name in the metadata ("" when unknown: scope is then not compared).
    The checks, in groups: the text around the token; a password where a token belongs; what
    the decoded token says; which index it is for; its scope; its time.
    """
    label = _index_label(index)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if not secret:
        return [Finding("error", f"The password for {label} is empty.", "Set the token", "empty")]
    findings, text = _text_findings(secret)
    if not text.startswith(PREFIX):  # a password, not a token
        return findings + _password_findings(username, index)
    try:
        info = decode_token(text)
    except TokenProblem as problem:
        return [*findings, _error(problem)]
    return (
        findings
        + _summary_findings(info)
        + _index_findings(info, username, index)
        + _scope_findings(info, project, _token_page(index.warehouse))
        + _time_findings(info, now, _token_page(index.warehouse))
    )


def _error(problem: TokenProblem) -> Finding:
    return Finding("error", problem.message, problem.fix, problem.code)


def _text_findings(secret: str) -> tuple[list[Finding], str]:
    """Problems of the text around the token, each reported; and the token inside.

    What PyPI itself accepts is a warning: whitespace around the token (Warehouse strips the
    password), base64 padding and the standard base64 alphabet (its macaroon library pads,
    and decodes both alphabets). Quotes, a missing
    or doubled prefix are errors: PyPI refuses them.
    """
    findings: list[Finding] = []
    text = secret
    for cleaned in (text.strip(), text.strip().strip(_QUOTES).strip()):
        if cleaned != text:
            problem = _problem(text)
            if problem is not None:
                findings.append(
                    _accepted(problem) if problem.code == "whitespace" else _error(problem)
                )
            text = cleaned
    if text.startswith(PREFIX + PREFIX):
        problem = _problem(text)
        if problem is not None:
            findings.append(_error(problem))
        text = text[len(PREFIX) :]
    elif text.startswith("AgE") and _problem(PREFIX + text, decode=True) is None:
        problem = _problem(text)
        if problem is not None:
            findings.append(_error(problem))
        text = PREFIX + text
    unpadded = text.rstrip("=")
    if unpadded != text and len(text) - len(unpadded) == -len(unpadded[len(PREFIX) :]) % 4:
        findings.append(
            Finding(
                "warning",
                "The token ends with base64 padding ('='), which PyPI's tokens never have; "
                "PyPI accepts it, other tools may not.",
                "Remove the '=' at the end (copy the token exactly as PyPI showed it)",
                "padding",
            )
        )
        text = unpadded
    standard = text.replace("+", "-").replace("/", "_")
    if standard != text and _problem(standard, decode=True) is None:
        findings.append(
            Finding(
                "warning",
                "The token is written in standard base64 ('+', '/') instead of PyPI's URL-safe "
                "alphabet ('-', '_'): it was re-encoded. PyPI accepts it, other tools may not.",
                "Copy the token exactly as PyPI showed it",
                "alphabet",
            )
        )
        text = standard
    return findings, text


def _accepted(problem: TokenProblem) -> Finding:
    """A problem of the text PyPI forgives: a warning that says so."""
    return Finding(
        "warning",
        f"{problem.message} PyPI strips it; other indexes and tools may not.",
        problem.fix,
        problem.code,
    )


def _password_findings(username: str, index: IndexSettings) -> list[Finding]:
    """A password where PyPI and TestPyPI only take tokens; elsewhere only the index knows."""
    label = _index_label(index)
    page = _token_page(index.warehouse)
    if index.warehouse is None:
        return [
            Finding(
                "info",
                f"The credential for {label} is a password (not a PyPI token); "
                "only the index itself can check it.",
                "",
                "password",
            )
        ]
    if username == TOKEN_USERNAME:
        return [
            Finding(
                "error",
                f"The username is {TOKEN_USERNAME} but the password is not an API token "
                "(it does not start with pypi-).",
                f"Set the password to the whole API token, pypi- included ({page})",
                "not-a-token",
            )
        ]
    return [
        Finding(
            "error",
            f"{label} no longer accepts a username and password for uploads.",
            f"Create an API token at {page} and use it with username "
            f"{TOKEN_USERNAME}, or set up trusted publishing",
            "password-login",
        )
    ]


def _summary_findings(info: TokenInfo) -> list[Finding]:
    """What the token says about itself, and bytes pasted after it."""
    described = info.describe()
    findings = [Finding("info", described[:1].upper() + described[1:] + ".", "", "summary")]
    if info.trailing_bytes:
        findings.append(
            Finding(
                "warning",
                f"The token has {info.trailing_bytes} stray byte(s) (about "
                f"{info.trailing_chars} character(s)) after its signature: text was pasted "
                "after it. PyPI's library ignores them today; stricter tools refuse.",
                "Remove the characters after the token",
                "trailing",
            )
        )
    return findings


def _index_findings(info: TokenInfo, username: str, index: IndexSettings) -> list[Finding]:
    """Which index the token is for, and the username tokens need."""
    label = _index_label(index)
    warehouse = index.warehouse
    if warehouse is None:
        if info.location.lower() == endpoints.host_of(index.upload_url):
            return []
        return [
            Finding(
                "warning",
                f"This looks like a token issued by {info.index_label}, but {label} is a "
                "private index, which usually has its own accounts.",
                "Use the private index's own credentials (or check the upload URL)",
                "pypi-token-for-private-index",
            )
        ]
    page = _token_page(warehouse)
    findings: list[Finding] = []
    if info.warehouse is None:
        findings.append(
            Finding(
                "error",
                f"The token was issued by {info.location or 'an unknown host'}, not by {label}.",
                f"Create a token on {_WAREHOUSE_NAMES[warehouse]}: {page}",
                "wrong-index",
            )
        )
    elif info.warehouse is not warehouse:
        findings.append(
            Finding(
                "error",
                f"This is a {_WAREHOUSE_NAMES[info.warehouse]} token, but the upload goes "
                f"to {label}. Each index has its own accounts and tokens.",
                f"Create a token on {_WAREHOUSE_NAMES[warehouse]} ({page}) and use it for "
                f"the {index.name} index; keep the {_WAREHOUSE_NAMES[info.warehouse]} "
                "token for the other one",
                "wrong-index",
            )
        )
    if username != TOKEN_USERNAME:
        findings.append(
            Finding(
                "error",
                f"The username is {username!r}, but API tokens only work with username "
                f"{TOKEN_USERNAME}.",
                f"Set the username to {TOKEN_USERNAME} (RELEASE_"
                f"{index.name.upper()}_USERNAME, TWINE_USERNAME or .pypirc)",
                "username",
            )
        )
    return findings


def _wrong_project(scope: Scope, wanted: str, page: str) -> Finding:
    near = [n for n in scope.projects if canonicalize_name(n) == wanted]
    said = (
        f"The token names {near[0]!r}, and PyPI compares the project's normalized name "
        f"({wanted}) with the names in the token as they are written: they do not match."
        if near
        else f"The token is scoped to {', '.join(scope.projects) or 'no project'}, not to {wanted}."
    )
    return Finding(
        "error",
        said,
        f"Create a token scoped to {wanted} (or user-wide for the first upload of a new "
        f"project) at {page}",
        "wrong-project",
    )


def _scope_findings(info: TokenInfo, project: str, page: str) -> list[Finding]:
    """What the token may upload to, against the project's name; unreadable caveats."""
    scope = info.scope
    wanted = canonicalize_name(project) if project else ""
    findings: list[Finding] = []
    if scope.kind == "projects" and wanted and wanted not in scope.projects:
        findings.append(_wrong_project(scope, wanted, page))
    elif scope.kind == "unknown" and not info.unreadable_caveats:
        findings.append(
            Finding(
                "warning",
                "No caveat of the token says what it may upload to: scope unknown.",
                "If the upload is refused, create a new token scoped to the project",
                "scope-unknown",
            )
        )
    elif scope.kind in ("project-ids", "trusted-publishing") and wanted:
        findings.append(
            Finding(
                "info",
                f"The token names projects by id only: whether it covers {wanted} "
                "is known to the index, not checkable offline.",
                "",
                "scope-ids",
            )
        )
    if info.unreadable_caveats:
        findings.append(
            Finding(
                "error",
                f"{info.unreadable_caveats} caveat(s) of the token are not ones PyPI can read "
                "(not JSON, an unknown tag, missing or mistyped values); PyPI refuses a token "
                "with such a caveat.",
                f"Create a new token at {page} and use it as PyPI showed it (do not add "
                "caveats by hand)",
                "unreadable-caveat",
            )
        )
    return findings


def _time_findings(info: TokenInfo, now: datetime, page: str) -> list[Finding]:
    """Expired, not valid yet, or about to expire."""
    if info.expires is not None and now >= info.expires:
        return [
            Finding(
                "error",
                f"The token expired at {info.expires:%Y-%m-%d %H:%M:%S} UTC.",
                "Mint a new one (trusted-publishing tokens live 15 minutes)"
                if info.scope.kind == "trusted-publishing"
                else f"Create a new token at {page}",
                "expired",
            )
        ]
    if info.not_before is not None and now < info.not_before:
        return [
            Finding(
                "error",
                f"The token is not valid before {info.not_before:%Y-%m-%d %H:%M:%S} UTC "
                "(PyPI reports this as 'token is expired').",
                "Check this machine's clock, or wait until then",
                "not-yet-valid",
            )
        ]
    if info.expires is not None and info.expires - now < timedelta(minutes=15):
        minutes = int((info.expires - now).total_seconds() // 60)
        return [Finding("info", f"The token expires in {minutes} minute(s).", "", "expires-soon")]
    return []


def _problem(text: str, *, decode: bool = False) -> TokenProblem | None:
    """The problem :func:`decode_token` (or only its text check) finds in ``text``, if any."""
    try:
        if decode:
            decode_token(text)
        else:
            _check_text(text)
    except TokenProblem as problem:
        return problem
    return None

"""Secrets never reach output: a process-wide registry of secrets and :func:`redact`.

Where a credential comes into being it is registered (:class:`release.credentials.Credential`
does so itself, trusted publishing registers the identity token and every token it mints), and
everything a person or a machine reads passes through :func:`redact` at one boundary: the
:class:`release.output.Reporter` (lines, the ``--json`` document, ``$GITHUB_STEP_SUMMARY``)
and :func:`release.cli.main` (errors, tracebacks, and stdout/stderr/logging as a safety net).

A secret is removed in every form it takes on the wire or in a message:

- as given, stripped of whitespace and quotes, and without the ``pypi-`` prefix of a token;
- base64 of ``username:password`` (HTTP Basic, with and without padding) and of the secret
  alone (standard and URL-safe alphabets);
- URL-encoded (``%xx`` in upper and lower case, ``+`` for space, and every byte encoded),
  HTML-escaped, JSON-escaped (also every character as ``\\uXXXX``, and ``/`` as ``\\/``), and
  in hex;
- split across lines (a server or a message wrapping it: a line break, with optional
  indentation and ``>`` or ``|`` quoting, anywhere inside it);
- a form of :data:`MIN_ACROSS` characters or more also across any run of whitespace, ``>``
  or ``|`` quoting and literal ``\\n`` escapes: a page wrapped at a fixed width and then
  collapsed to one line, or quoted by a mail-like ``> ``, still hides it.

Redaction runs on text as it came (an answer's reason and body,
:attr:`release.http.Answer.shown_text`), before anything collapses, cuts or quotes it.

**Short or common passwords** (the rule, documented in release/docs/json.md): a secret of at least
:data:`MIN_ANYWHERE` characters is removed wherever it appears, even inside other text. A
shorter one (a private index's password ``x`` or ``secret``) is removed only where it stands as
a whole token (not touching a letter, digit or ``_`` on either side), so a one-letter password
does not turn every ``x`` of a message into ``<hidden>``; its base64/URL-encoded wire forms,
which are long, are still removed anywhere. Nothing is refused: a private index may well have
a short password, and refusing it would not make it safer.
"""

from __future__ import annotations

__all__ = [
    "HIDDEN",
    "MIN_ACROSS",
    "MIN_ANYWHERE",
    "clear",
    "forms_of",
    "looks_like_secret",
    "redact",
    "redact_data",
    "register",
    "register_environment",
    "registered",
]

import base64
import bisect
import functools
import html
import json
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

HIDDEN = "<hidden>"
MIN_ANYWHERE = 8  # shorter secrets are redacted as whole tokens only
MIN_ACROSS = 16  # forms this long are matched across any whitespace and quoting
_PREFIX = "pypi-"
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"
# Between two characters of a secret: a line break with optional spaces around it.
_BREAK = r"(?:[ \t]*\r?\n[ \t>|]*)?"
# What a long form is matched across: whitespace, ``>``/``|`` quoting, literal \n escapes.
_GAPS = re.compile(r"(?:[\s>|]|\\[nrt])+")

_lock = threading.Lock()
_secrets: set[str] = set()
_pairs: set[tuple[str, str]] = set()
# (long forms, squeezed, as one expression or None; the short forms' expressions)
_compiled: tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]] | None = None


def register(secret: str | None, username: str | None = None) -> None:
    """Remember ``secret`` (and the Basic-auth pair ``username:secret``) for :func:`redact`."""
    global _compiled
    if not secret or not secret.strip():
        return
    with _lock:
        before = (len(_secrets), len(_pairs))
        _secrets.add(secret)
        if username is not None:
            _pairs.add((username, secret))
        if (len(_secrets), len(_pairs)) != before:
            _compiled = None


# Environment variables whose values are secrets by their name (GitHub's OIDC request token,
# CI tokens, passwords); only values of MIN_ANYWHERE characters or more: a flag like
# SOME_TOKEN_ENABLED=1 must not hide every "1".
_SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|API_?KEY|PRIVATE_KEY|CREDENTIAL", re.IGNORECASE)


def register_environment(environ: Mapping[str, str]) -> None:
    """Register the values of variables named like secrets (``*_PASSWORD``, ``*TOKEN*``...)."""
    for name, value in environ.items():
        if _SECRET_NAME.search(name) and len(value.strip()) >= MIN_ANYWHERE:
            register(value)


_LOOKS_SECRET: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pypi-[A-Za-z0-9_-]{16,}"), "a PyPI API token"),
    (re.compile(r"(?:^|[/\s])[^\s/@:]+:[^\s/@]+@[^\s]"), "user:password@ credentials"),
    (
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        "a GitHub token",
    ),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
)
_OPAQUE = re.compile(r"[A-Za-z0-9+/_=-]{32,}")


def looks_like_secret(value: str) -> str:
    """What kind of secret ``value`` looks like ("" when it does not): a token, a URL with
    credentials, a long random string, or a secret registered in this process."""
    for pattern, what in _LOOKS_SECRET:
        if pattern.search(value):
            return what
    for run in _OPAQUE.findall(value):
        if all(any(test(ch) for ch in run) for test in (str.isupper, str.islower, str.isdigit)):
            return "a long random string (a token or a key)"
    with _lock:
        known = [s for s in _secrets if len(s) >= MIN_ANYWHERE]
    if any(secret in value for secret in known):
        return "a credential of this process"
    return ""


def registered() -> frozenset[str]:
    """The registered secrets (for tests)."""
    with _lock:
        return frozenset(_secrets)


def clear() -> None:
    """Forget every secret (tests only: a process keeps its secrets until it ends)."""
    global _compiled
    with _lock:
        _secrets.clear()
        _pairs.clear()
        _compiled = None


def _b64_forms(raw: bytes) -> set[str]:
    out = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(raw).decode("ascii")
        out |= {text, text.rstrip("=")}
    return out


def forms_of(secret: str, usernames: Iterable[str] = ()) -> set[str]:
    """Every spelling of ``secret`` that :func:`redact` removes (empty strings excluded)."""
    bare = secret.strip().strip(_QUOTES).strip()
    texts = {secret, secret.strip(), bare}
    if bare.startswith(_PREFIX) and len(bare) > len(_PREFIX) + 8:
        texts.add(bare[len(_PREFIX) :])
    forms = set(texts)
    for text in texts:
        forms |= {quote(text, safe=""), quote(text), quote_plus(text), html.escape(text)}
        forms |= {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
        forms |= _every_char_forms(text)
        forms |= _b64_forms(text.encode("utf-8"))
        for user in usernames:
            forms |= _b64_forms(f"{user}:{text}".encode())
    forms |= {_lower_escapes(f) for f in forms if "%" in f}
    forms |= {f.replace("/", "\\/") for f in forms if "/" in f}  # JSON may escape '/'
    return {f for f in forms if f.strip()}


def _every_char_forms(text: str) -> set[str]:
    """Encodings that spell every character: hex, ``%XX`` and ``\\uXXXX``, with upper- and
    lower-case hex digits."""
    raw = text.encode("utf-8")
    forms: set[str] = set()
    for spec in ("02x", "02X"):
        forms.add("".join(format(b, spec) for b in raw))
        forms.add("".join("%" + format(b, spec) for b in raw))
    if all(ord(ch) < 0x10000 for ch in text):
        forms |= {"".join("\\u" + format(ord(ch), spec) for ch in text) for spec in ("04x", "04X")}
    return forms


_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _lower_escapes(form: str) -> str:
    return _ESCAPE.sub(lambda m: m.group().lower(), form)


@functools.lru_cache(maxsize=4096)
def _pattern_for(form: str) -> str:
    """A regex for a form shorter than :data:`MIN_ACROSS`, also matching it broken across
    lines; forms shorter than :data:`MIN_ANYWHERE` as whole tokens only."""
    body = _BREAK.join(re.escape(ch) for ch in form)
    if len(form) >= MIN_ANYWHERE:
        return body
    return rf"(?<![\w]){body}(?![\w])"


def _squeeze(text: str) -> str:
    return _GAPS.sub("", text)


def _compile() -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
    users: dict[str, set[str]] = {}
    for user, secret in _pairs:
        users.setdefault(secret, set()).add(user)
    forms: set[str] = set()
    for secret in _secrets:
        forms |= forms_of(secret, users.get(secret, ()))
    # Longest first, so that a form containing another one is removed whole.
    long = sorted(
        {_squeeze(f) for f in forms if len(f) >= MIN_ACROSS} - {""}, key=lambda f: (-len(f), f)
    )
    short = sorted((f for f in forms if len(f) < MIN_ACROSS), key=lambda f: (-len(f), f))
    across = re.compile("|".join(re.escape(f) for f in long)) if long else None
    # In groups, to keep each expression small.
    return across, tuple(
        re.compile("|".join(_pattern_for(f) for f in short[i : i + 32]))
        for i in range(0, len(short), 32)
    )


def _patterns() -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
    global _compiled
    with _lock:
        if _compiled is None:
            _compiled = _compile()
        return _compiled


def _hide_across(text: str, across: re.Pattern[str]) -> str:
    """``text`` with every long form removed, also where whitespace and quoting run through
    it: the forms are found in ``text`` with the gaps taken out, and each match is mapped back
    to the stretch of ``text`` it came from (gaps inside it included)."""
    kept_at: list[int] = []  # squeezed offset where each kept run starts
    orig_at: list[int] = []  # ... and where that run starts in ``text``
    pieces: list[str] = []
    pos = squeezed = 0
    for gap in [*_GAPS.finditer(text), None]:
        end = gap.start() if gap else len(text)
        if end > pos:
            kept_at.append(squeezed)
            orig_at.append(pos)
            pieces.append(text[pos:end])
            squeezed += end - pos
        pos = gap.end() if gap else pos
    flat = "".join(pieces)

    def original(index: int) -> int:
        run = bisect.bisect_right(kept_at, index) - 1
        return orig_at[run] + index - kept_at[run]

    out: list[str] = []
    done = 0
    for match in across.finditer(flat):
        start, end = original(match.start()), original(match.end() - 1) + 1
        if start < done:
            continue
        out += [text[done:start], HIDDEN]
        done = end
    if not out:
        return text
    return "".join([*out, text[done:]])


def redact(text: str) -> str:
    """``text`` with every registered secret, in every form, replaced by ``<hidden>``."""
    if not text:
        return text
    across, short = _patterns()
    if across is not None:
        text = _hide_across(text, across)
    for pattern in short:
        text = pattern.sub(HIDDEN, text)
    return text


def redact_data(value: object) -> object:
    """A JSON-like structure with every string (keys too) passed through :func:`redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            redact_data(k) if isinstance(k, str) else k: redact_data(v) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value

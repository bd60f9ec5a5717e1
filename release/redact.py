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
- URL-encoded (``%xx``, ``+`` for space), HTML-escaped and JSON-escaped;
- split across lines (a server or a message wrapping it: a line break, with optional
  indentation, anywhere inside it).

**Short or common passwords** (the rule, documented in docs/json.md): a secret of at least
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
import functools
import html
import json
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

HIDDEN = "<hidden>"
MIN_ANYWHERE = 8  # shorter secrets are redacted as whole tokens only
_PREFIX = "pypi-"
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"
# Between two characters of a secret: a line break with optional spaces around it.
_BREAK = r"(?:[ \t]*\r?\n[ \t>|]*)?"

_lock = threading.Lock()
_secrets: set[str] = set()
_pairs: set[tuple[str, str]] = set()
_compiled: tuple[re.Pattern[str], ...] | None = None


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
        forms |= _b64_forms(text.encode("utf-8"))
        for user in usernames:
            forms |= _b64_forms(f"{user}:{text}".encode())
    return {f for f in forms if f.strip()}


@functools.lru_cache(maxsize=4096)
def _pattern_for(form: str) -> str:
    """A regex for ``form``, also matching it broken across lines; short forms as whole tokens."""
    body = _BREAK.join(re.escape(ch) for ch in form)
    if len(form) >= MIN_ANYWHERE:
        return body
    return rf"(?<![\w]){body}(?![\w])"


def _patterns() -> tuple[re.Pattern[str], ...]:
    global _compiled
    with _lock:
        if _compiled is None:
            users: dict[str, set[str]] = {}
            for user, secret in _pairs:
                users.setdefault(secret, set()).add(user)
            forms: set[str] = set()
            for secret in _secrets:
                forms |= forms_of(secret, users.get(secret, ()))
            # Longest first, so that a form containing another one is removed whole; in
            # groups, to keep each expression small.
            ordered = sorted(forms, key=lambda f: (-len(f), f))
            _compiled = tuple(
                re.compile("|".join(_pattern_for(f) for f in ordered[i : i + 32]))
                for i in range(0, len(ordered), 32)
            )
        return _compiled


def redact(text: str) -> str:
    """``text`` with every registered secret, in every form, replaced by ``<hidden>``."""
    if not text:
        return text
    for pattern in _patterns():
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

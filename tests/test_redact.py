"""The redaction boundary: every wire form of a registered secret goes, ordinary text stays."""

from __future__ import annotations

import base64
import json
import string
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from release import redact
from release.credentials import Credential
from release.redact import HIDDEN

_SECRET = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.~!@#$%^&*()+=/:;,?[]{}é€ ",
    min_size=redact.MIN_ANYWHERE,
    max_size=80,
).filter(lambda s: s.strip() == s and s.strip())


def _wire_forms(user: str, secret: str) -> list[str]:
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return [
        secret,
        basic,
        basic.rstrip("="),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    ]


@settings(max_examples=150, deadline=None)
@given(secret=_SECRET, user=st.sampled_from(["__token__", "alice", "ci-bot"]), cut=st.integers(1))
def test_every_wire_form_is_removed(secret: str, user: str, cut: int) -> None:
    redact.clear()
    redact.register(secret, user)
    for form in _wire_forms(user, secret):
        at = 1 + cut % (len(form) - 1)
        texts = [
            f"error: {form} was refused",
            f"Authorization: Basic {form}\r\n",
            f"<p>{form}</p>",
            form[:at] + "\n    " + form[at:],  # split across lines, indented
            form[:at] + "\r\n" + form[at:],
        ]
        for text in texts:
            out = redact.redact(text)
            assert form not in out, (form, out)
            assert HIDDEN in out


def test_basic_auth_header_of_a_token_is_removed() -> None:
    token = "pypi-AgEIcHlwaS5vcmcCJGQ0ZjYwZjQ2LWNhN2EtNDk0ZS1hYmQxLTA0YTM2ZDQ1NDRmNgACKlsz"
    Credential("__token__", token, "test")  # a credential registers itself
    header = base64.b64encode(f"__token__:{token}".encode()).decode()
    page = f"<pre>Authorization: Basic {header}</pre> and {token.removeprefix('pypi-')}"
    out = redact.redact(page)
    assert header not in out
    assert token.removeprefix("pypi-") not in out
    assert out == f"<pre>Authorization: Basic {HIDDEN}</pre> and {HIDDEN}"


def test_short_password_is_removed_only_as_a_whole_token() -> None:
    redact.register("x", "bob")
    text = "max exits: 0x10 (x) x"
    assert redact.redact(text) == f"max exits: 0x10 ({HIDDEN}) {HIDDEN}"
    # Its Basic-auth form is long: removed anywhere.
    basic = base64.b64encode(b"bob:x").decode()
    assert basic not in redact.redact(f"Basic{basic}")


def test_common_word_password_leaves_words_that_contain_it() -> None:
    redact.register("secret", "u")
    out = redact.redact("secrets are secretive; the secret is out")
    assert out == f"secrets are secretive; the {HIDDEN} is out"


def test_long_secret_is_removed_inside_other_text() -> None:
    redact.register("hunter2hunter2")
    assert redact.redact("abchunter2hunter2def") == f"abc{HIDDEN}def"


def test_ordinary_text_is_unchanged() -> None:
    redact.register("s3cr3t-value-123", "__token__")
    text = "upload of demo_pkg-1.0.0.tar.gz: 403 Forbidden\n  Fix: create a new token"
    assert redact.redact(text) == text


def test_nothing_registered_changes_nothing() -> None:
    assert redact.redact("pypi-abc and x") == "pypi-abc and x"
    redact.register("")
    redact.register("   ")
    assert redact.registered() == frozenset()


def test_redact_data_walks_keys_and_values() -> None:
    redact.register("very-secret-value")
    data = {"a": ["very-secret-value", 1, None], "very-secret-value": {"b": "x very-secret-value"}}
    assert redact.redact_data(data) == {
        "a": [HIDDEN, 1, None],
        HIDDEN: {"b": f"x {HIDDEN}"},
    }


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_text_without_the_secret_is_unchanged(text: str) -> None:
    redact.clear()
    secret = "Zq9-unlikely-secret-Zq9"
    redact.register(secret, "__token__")
    if secret not in text.replace("\n", "").replace(" ", ""):
        assert redact.redact(text) == text

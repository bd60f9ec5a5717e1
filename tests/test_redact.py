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


# ------------------------------------------------------------------ found by `nox -s mutate`


def test_a_secret_registered_after_a_redaction_is_hidden_too() -> None:
    redact.register("first-secret-1234")
    assert redact.redact("first-secret-1234 second-secret-5678") == f"{HIDDEN} second-secret-5678"
    redact.register("second-secret-5678")
    assert redact.redact("first-secret-1234 second-secret-5678") == f"{HIDDEN} {HIDDEN}"
    # A username learned later for a known secret: its Basic-auth form goes from then on.
    basic = base64.b64encode(b"bob:second-secret-5678").decode()
    assert redact.redact(basic) == basic  # not known yet
    redact.register("second-secret-5678", "bob")
    assert redact.redact(f"Basic {basic}") == f"Basic {HIDDEN}"


def test_every_registered_secret_is_hidden() -> None:
    secrets = [f"secret-number-{i:02d}-{'x' * i}" for i in range(12)]  # many forms, many groups
    for secret in secrets:
        redact.register(secret, "__token__")
    out = redact.redact(" | ".join(secrets))
    assert out == " | ".join([HIDDEN] * len(secrets))
    for secret in secrets:
        basic = base64.b64encode(f"__token__:{secret}".encode()).decode()
        assert redact.redact(basic) == HIDDEN


def test_the_longest_form_is_removed_whole() -> None:
    redact.register("abcdefgh")
    redact.register("abcdefgh-and-more")
    assert redact.redact("[abcdefgh-and-more] [abcdefgh]") == f"[{HIDDEN}] [{HIDDEN}]"


def test_registry_and_clear() -> None:
    redact.register("one-secret-value")
    redact.register("one-secret-value", "alice")
    redact.register(None)
    assert redact.registered() == frozenset({"one-secret-value"})
    redact.clear()
    assert redact.registered() == frozenset()
    assert redact.redact("one-secret-value") == "one-secret-value"


def test_min_anywhere_is_the_boundary() -> None:
    assert redact.MIN_ANYWHERE == 8
    redact.register("12345678")  # 8 characters: removed anywhere
    redact.register("abcdefg")  # 7: only as a whole token
    assert redact.redact("x12345678y") == f"x{HIDDEN}y"
    assert redact.redact("xabcdefgy abcdefg") == f"xabcdefgy {HIDDEN}"
    assert redact.redact("_abcdefg abcdefg_ 1abcdefg") == "_abcdefg abcdefg_ 1abcdefg"
    assert redact.redact("(abcdefg)") == f"({HIDDEN})"


def test_a_token_is_hidden_without_its_prefix_and_quotes() -> None:
    token = "pypi-AgEIcHlwaS5vcmc"
    redact.register(f' "{token}" ')
    assert redact.redact("AgEIcHlwaS5vcmc") == HIDDEN
    assert redact.redact(f"'{token}'") == f"'{HIDDEN}'"
    forms = redact.forms_of(f"“{token}”")
    assert token in forms
    assert "AgEIcHlwaS5vcmc" in forms
    # A prefix with eight characters or fewer behind it is not a token: kept whole.
    assert "12345678" not in redact.forms_of("pypi-12345678")
    assert "123456789" in redact.forms_of("pypi-123456789")
    assert "" not in redact.forms_of(" ' ")


def test_forms_of_lists_every_spelling() -> None:
    secret = 'a b"c\\dé/€'
    forms = redact.forms_of(secret, ["u"])
    expected = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        "a b&quot;c\\dé/€",
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(secret.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(secret.encode()).decode(),
        base64.b64encode(f"u:{secret}".encode()).decode(),
        base64.b64encode(f"u:{secret}".encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(f"u:{secret}".encode()).decode(),
    }
    assert expected <= forms


def test_secrets_with_quotes_backslashes_and_non_ascii_in_json() -> None:
    secrets = ['pa"ss\\word-1', "pässwörd-€-2", "tab\there-and-3", "</script>-4-x"]
    for secret in secrets:
        redact.register(secret)
    document = {"error": {"message": " ".join(secrets)}, "files": secrets}
    for ascii_only in (True, False):
        text = json.dumps(document, ensure_ascii=ascii_only)
        out = redact.redact(text)
        assert json.loads(out) == {
            "error": {"message": " ".join([HIDDEN] * 4)},
            "files": [HIDDEN] * 4,
        }
        for secret in secrets:
            assert secret not in out
            assert json.dumps(secret)[1:-1] not in out
    assert redact.redact("&lt;/script&gt;-4-x") == HIDDEN  # HTML-escaped


def test_redact_of_nothing() -> None:
    redact.register("some-secret-value")
    assert redact.redact("") == ""
    assert redact.redact_data(("some-secret-value", 3, 2.5, True)) == [HIDDEN, 3, 2.5, True]
    assert redact.redact_data({1: "some-secret-value"}) == {1: HIDDEN}


def test_register_environment_takes_secret_names_and_long_values() -> None:
    environ = {
        "TWINE_PASSWORD": "password-value-1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token-2",
        "my_secret": "lowercase-name-3",
        "SOME_API_KEY": "api-key-value-4",
        "APIKEY": "apikey-value-5",
        "SIGNING_PRIVATE_KEY": "private-key-value-6",
        "CLOUD_CREDENTIALS": "credential-value-7",
        "EXACTLY_EIGHT_TOKEN": "8chars!!",
        "SHORT_TOKEN": "7chars!",
        "PADDED_TOKEN": "  short  ",
        "TOKEN_ENABLED": "1",
        "HOME": "/home/someone-long",
        "PATH": "/usr/bin:/bin",
    }
    redact.register_environment(environ)
    assert redact.registered() == {
        "password-value-1",
        "oidc-request-token-2",
        "lowercase-name-3",
        "api-key-value-4",
        "apikey-value-5",
        "private-key-value-6",
        "credential-value-7",
        "8chars!!",
    }


def test_looks_like_secret_names_what_it_saw() -> None:
    cases = {
        "pypi-" + "A" * 16: "a PyPI API token",
        "https://user:pass@host/": "user:password@ credentials",
        "ghp_" + "a1" * 15: "a GitHub token",
        "github_pat_" + "a1" * 15: "a GitHub token",
        "AKIAABCDEFGHIJKLMNOP": "an AWS access key",
        "-----BEGIN RSA PRIVATE KEY-----": "a private key",
        "Ab1" * 11: "a long random string (a token or a key)",
        "key=" + "aB3+/_=-" * 4: "a long random string (a token or a key)",
    }
    for value, what in cases.items():
        assert redact.looks_like_secret(value) == what, value
    plain = [
        "",
        "https://upload.pypi.org/legacy/",
        "pypi-" + "A" * 15,
        "Ab1" * 10 + "A",  # 31 characters: too short to be random
        "a" * 20 + "B" * 20,  # no digit
        "a" * 20 + "1" * 20,  # no upper case
        "A" * 20 + "1" * 20,  # no lower case
        "demo_pkg-1.0.0-py3-none-any.whl",
    ]
    for value in plain:
        assert redact.looks_like_secret(value) == "", value
    redact.register("registered-one")
    redact.register("short")
    assert redact.looks_like_secret("x registered-one y") == "a credential of this process"
    assert redact.looks_like_secret("a short one") == ""


def test_every_character_spelled_out_is_hidden() -> None:
    secret = "Sé/crët-42"
    raw = secret.encode()
    forms = redact.forms_of(secret)
    for form in (
        raw.hex(),
        raw.hex().upper(),
        "".join(f"%{b:02x}" for b in raw),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"\\u{ord(c):04x}" for c in secret),
        "".join(f"\\u{ord(c):04X}" for c in secret),
        "S%c3%a9%2fcr%c3%abt-42",  # lower-case escapes, as some servers write them
        json.dumps(secret).strip('"').replace("/", "\\/"),  # JSON may escape '/'
        "S\\u00e9\\/cr\\u00ebt-42",
    ):
        assert form in forms, form
        redact.register(secret)
        assert redact.redact(f"[{form}]") == f"[{HIDDEN}]", form
    # A character outside the BMP has no \uXXXX spelling of its own (JSON uses a surrogate
    # pair, which json.dumps's form covers).
    assert not any(f.startswith("\\u0061") for f in redact.forms_of("ab\U0001f600cd"))
    assert "\\u0061\\u0062\\u0063" in redact.forms_of("abc")


def test_long_forms_are_found_across_whitespace_and_quoting() -> None:
    assert redact.MIN_ACROSS == 16
    secret = "0123456789abcdef"  # 16 characters: across any gap
    redact.register(secret)
    for text in (
        "01234567 89abcdef",
        "0123\n> 4567\n> 89ab cdef",
        "0123|4567|89abcdef",
        "01234567\\n89abcdef",
        "0123456789abcde\r\n\tf",
    ):
        assert redact.redact(f"before {text} after") == f"before {HIDDEN} after", text
    assert redact.redact("x0123456789abcdef0123456789abcdefy") == f"x{HIDDEN}{HIDDEN}y"
    assert redact.redact("0123456789abcde") == "0123456789abcde"  # not the whole secret
    assert redact.redact("a b c 0123456789abcdef") == f"a b c {HIDDEN}"


def test_shorter_forms_only_across_a_line_break() -> None:
    secret = "0123456789abcde"  # 15 characters
    redact.register(secret)
    assert redact.redact("0123456\n   789abcde") == HIDDEN
    assert redact.redact("0123456\n> 789abcde") == HIDDEN
    assert redact.redact("0123456 789abcde") == "0123456 789abcde"
    assert redact.redact("0123456|789abcde") == "0123456|789abcde"


def test_text_around_hidden_long_forms_is_kept_exactly() -> None:
    redact.register("long-secret-number-one")
    redact.register("long-secret-number-two")
    text = "  a: long-secret-\n  number-one, b: long-secret-number-two\n\nend  "
    assert redact.redact(text) == f"  a: {HIDDEN}, b: {HIDDEN}\n\nend  "
    assert redact.redact("nothing here\n> at all") == "nothing here\n> at all"


def test_forms_of_is_exactly_these_spellings() -> None:
    secret = "secret-aW"  # its base64 ends in X, with no padding
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    assert b64 == "c2VjcmV0LWFX"
    assert redact.forms_of(secret) == {
        secret,  # nothing in it to quote or escape
        b64,
        raw.hex(),
        raw.hex().upper(),
        "".join(f"%{b:02x}" for b in raw),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"\\u{ord(c):04x}" for c in secret),
        "".join(f"\\u{ord(c):04X}" for c in secret),
    }


def test_a_secret_of_exactly_eight_characters_is_recognised() -> None:
    redact.register("8chars!!")
    assert redact.looks_like_secret("the 8chars!! here") == "a credential of this process"


def test_no_uxxxx_form_for_a_character_past_the_bmp() -> None:
    forms = redact.forms_of("ab\U00010000cd")
    assert not any("\\u10000" in f for f in forms)
    assert "ab\\ud800\\udc00cd" in forms  # JSON's surrogate pair


def test_a_secret_made_of_quoting_characters_hides_nothing_else() -> None:
    redact.register("|" * 16)
    assert redact.redact("plain text | with a pipe") == "plain text | with a pipe"


def test_the_longest_short_form_is_removed_whole() -> None:
    redact.register("abcdefgh")
    redact.register("abcdefgh-xy")  # both shorter than MIN_ACROSS
    assert redact.redact("[abcdefgh-xy] [abcdefgh]") == f"[{HIDDEN}] [{HIDDEN}]"


def test_keys_that_are_not_strings_are_kept() -> None:
    redact.register("some-secret-value")
    data = {(1, 2): "some-secret-value", 3: ["x"]}
    assert redact.redact_data(data) == {(1, 2): HIDDEN, 3: ["x"]}


def test_hidden_is_not_hidden_again() -> None:
    redact.register("hidden")  # a password that is the marker's own word
    redact.register("another-one")
    assert redact.redact("hidden") == HIDDEN
    assert redact.redact("another-one and hidden") == f"{HIDDEN} and {HIDDEN}"


def test_every_short_form_of_many_secrets_is_hidden() -> None:
    secrets = [f"pw{i:02d}x" for i in range(40)]  # hundreds of short forms, many groups
    for secret in secrets:
        redact.register(secret)
    for secret in secrets:
        for form in redact.forms_of(secret):
            if len(form) < redact.MIN_ACROSS:
                assert redact.redact(f"({form})") == f"({HIDDEN})", (secret, form)

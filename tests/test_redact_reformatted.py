"""Redaction holds when a server (or our own diagnosis) reformats the secret (issue 18, §4).

A hostile index answers doctor's auth probe with an error page that holds the secret and its
Basic-auth base64 wrapped at a fixed width, quoted with ``> `` like a mail reply, in hex, as
``\\uXXXX`` JSON escapes, with ``\\/`` for ``/``, and percent-encoded in lower case and in full.
The diagnosis collapses line breaks and cuts long pages; redaction must run first and must
see through whitespace and quoting. Every output (stdout, stderr, with and without ``--json``)
is searched for every form, with whitespace and quoting taken out of the output first.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release import cli, http, redact
from release.diagnose import explain_upload
from release.distdir import hash_file, write_manifest
from release.localindex import LocalIndex
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import DistFile, Manifest
from tests.conftest import ProjectFactory
from tests.sample_projects import write_wheel

USER = "alice"
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/="
LONG_SECRETS = st.text(_ALPHABET, min_size=redact.MIN_ACROSS, max_size=64).filter(
    lambda s: sum(c.isalnum() for c in s) >= 12 and s.strip() == s
)
_NOISE = re.compile(r"[\s>|]|\\[nrt]")


def squeeze(text: str) -> str:
    """``text`` without whitespace, ``>``/``|`` quoting and literal ``\\n`` escapes, and with
    JSON's ``\\/`` read as ``/``."""
    return _NOISE.sub("", text).replace("\\/", "/")


def basic(secret: str) -> str:
    return base64.b64encode(f"{USER}:{secret}".encode()).decode()


def full_percent(text: str, lower: bool = False) -> str:
    return "".join(("%{:02x}" if lower else "%{:02X}").format(b) for b in text.encode())


def wrapped(text: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))


def quoted(text: str) -> str:
    return "\n".join("> " + line for line in wrapped(text, 12).splitlines())


# Each reformatting a server (or a diagnosis) applies, and the form it starts from.
REFORMATS: dict[str, Callable[[str], str]] = {
    "base64 wrapped at 16": lambda s: wrapped(basic(s)),
    "base64 '> ' quoted": lambda s: quoted(basic(s)),
    "secret wrapped then collapsed": lambda s: " ".join(wrapped(s, 10).split()),
    "secret '> ' quoted": quoted,
    "hex": lambda s: s.encode().hex(),
    "HEX": lambda s: s.encode().hex().upper(),
    "\\u escapes": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "\\/ in JSON": lambda s: json.dumps(basic(s) + "/" + s).replace("/", "\\/"),
    "lowercase %xx": lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(s, "")),
    "full %XX": full_percent,
    "full %xx": lambda s: full_percent(s, lower=True),
    "JSON string of a wrapped page": lambda s: json.dumps(wrapped(basic(s)))[1:-1],
}


def undone(name: str, secret: str) -> list[str]:
    """What must not be readable in the output, whitespace and quoting squeezed out: the
    reformatted text itself, and the secret and its Basic-auth base64 as they are."""
    forms = [REFORMATS[name](secret), secret, basic(secret), basic(secret).rstrip("=")]
    if name in ("hex", "HEX"):
        forms.append(secret.encode().hex().upper() if name == "HEX" else secret.encode().hex())
    if name.startswith("full"):
        forms.append(full_percent(secret, lower=name.endswith("%xx")))
    if name == "\\u escapes":
        forms.append("".join(f"\\u{ord(c):04x}" for c in secret))
    return [squeeze(f) for f in forms if len(squeeze(f)) >= 8]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    redact.clear()
    yield
    redact.clear()


@settings(max_examples=40, deadline=None)
@given(secret=LONG_SECRETS, name=st.sampled_from(sorted(REFORMATS)))
def test_every_reformatting_is_redacted(secret: str, name: str) -> None:
    """The redaction function itself: each reformatted form, inside a page, is removed."""
    redact.clear()
    redact.register(secret, USER)
    page = f"<pre>denied:\n{REFORMATS[name](secret)}\nbye</pre>"
    out = squeeze(redact.redact(page))
    for form in undone(name, secret):
        assert form not in out, (name, form)


@settings(max_examples=25, deadline=None)
@given(secret=LONG_SECRETS, name=st.sampled_from(sorted(REFORMATS)))
def test_the_diagnosis_shows_no_reformatted_secret(secret: str, name: str) -> None:
    """The upload diagnosis collapses and cuts the page: what it shows, from a page
    redacted as it came (http.Answer.shown_text), holds no form of the secret."""
    redact.clear()
    redact.register(secret, USER)
    page = f"<html><body><pre>\n{REFORMATS[name](secret)}\n</pre></body></html>"
    diagnosis = explain_upload(418, "I'm a teapot", redact.redact(page))
    shown = squeeze(f"{diagnosis.title} {diagnosis.cause} {diagnosis.fix}")
    for form in undone(name, secret):
        assert form not in shown


# ---------------------------------------------------------------- end to end, through upload


class ReformatHandler(LoopbackHandler):
    """Answers every upload 418 (an answer nox-release does not know, so its page is shown)
    with a page holding the password it got, reformatted the way ``form`` names."""

    protocol_version = "HTTP/1.1"
    form = "hex"

    def do_POST(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            got = self.rfile.read(min(left, 65536))
            if not got:
                break
            left -= len(got)
        header = self.headers.get("Authorization") or ""
        decoded = base64.b64decode(header[6:]).decode("utf-8", "replace") if header else ""
        password = decoded.partition(":")[2]
        page = f"<html><body><h1>Refused</h1><pre>\n{REFORMATS[self.form](password)}\n</pre>"
        body = (page + "</body></html>\n").encode()
        self.send_response(418, "Teapot")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalIndex, LoopbackServer]]:
    with LocalIndex() as reader, LoopbackServer(ReformatHandler, name="reformat") as echo:
        yield reader, echo


@pytest.mark.parametrize("name", sorted(REFORMATS))
def test_upload_shows_no_reformatted_secret(
    name: str,
    servers: tuple[LocalIndex, LoopbackServer],
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real upload of a built file to an index that answers with the password reformatted:
    the page is shown (with and without --json), the secret in no form."""
    reader, echo = servers
    secret = "Zq3/" + "".join(secrets.choice(string.ascii_letters + "+/=") for _ in range(28))
    monkeypatch.setattr(ReformatHandler, "form", name)
    root: Path = make_project()
    wheel = write_wheel(root / "dist", "demo-pkg", "1.0.0")
    sha, size = hash_file(wheel)
    write_manifest(
        root / "dist", Manifest("demo-pkg", "1.0.0", (DistFile(wheel.name, sha, size, "wheel"),))
    )
    for var in ("TEST_PYPI_API_TOKEN", "TWINE_PASSWORD", "CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RELEASE_TEST_INDEX_URL", reader.index_url)
    monkeypatch.setenv("RELEASE_TEST_UPLOAD_URL", echo.base_url + "/legacy/")
    monkeypatch.setenv("RELEASE_TEST_USERNAME", USER)
    monkeypatch.setenv("RELEASE_TEST_PASSWORD", secret)
    monkeypatch.setenv("RELEASE_TRUSTED_PUBLISHING", "off")
    monkeypatch.setenv("RELEASE_RETRIES", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for extra in ([], ["--json"]):
        redact.clear()  # the boundary finds the secret itself, where it came in
        code = cli.main(["--root", str(root), "upload", "--index", "test", *extra])
        captured = capsys.readouterr()
        shown = squeeze(captured.out + captured.err)
        assert code == 5, captured.out + captured.err
        assert "Refused" in shown  # the page is shown
        for form in undone(name, secret):
            assert form not in shown, (name, form)


def test_a_secret_cut_short_by_the_diagnosis_is_hidden_whole() -> None:
    """The diagnosis shows an unknown answer's first 500 characters: a secret across that
    edge is redacted as the answer came (Answer.shown_text, what the upload passes to the
    diagnosis), so not even its first half shows."""
    secret = "Zq3" + "".join(secrets.choice(string.ascii_letters) for _ in range(29))
    redact.register(secret, USER)
    page = ("x" * 490 + " " + secret + " " + "y" * 100).encode()
    answer = http.Answer("https://x/legacy/", 418, "I'm a teapot", {}, page)
    diagnosis = explain_upload(418, answer.reason, answer.shown_text)
    assert "xxxxxxxx" in diagnosis.cause  # the page is shown, cut at 500 characters
    assert secret[:8] not in diagnosis.cause

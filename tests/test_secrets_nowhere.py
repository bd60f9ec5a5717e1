"""Property: a secret, and its base64 / URL-encoded forms, appear in no output, file or argv.

For random secrets (Hypothesis), every error path that can echo one is triggered through
``python -m release`` (in-process, so the whole boundary runs): an index whose 5xx/429/403
reason phrase and page repeat the ``Authorization`` header, the decoded ``user:password`` and
the URL-encoded secret (split across lines too), on doctor's auth probe and on a real upload of
built files; and configuration values holding the secret (a URL with ``user:secret@`` and no
scheme, a URL with it percent-encoded, the secret typed into another key). Each run's stdout,
stderr (with ``--json`` and without), every file under the project, ``$GITHUB_STEP_SUMMARY``,
and the argv of every child process are searched for every form.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release import cli, redact
from release.localindex import LocalIndex
from release.loopback import LoopbackHandler, LoopbackServer

USER = "alice"
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$*+=:@/%&?"
SECRETS = st.text(_ALPHABET, min_size=redact.MIN_ANYWHERE, max_size=48).filter(
    lambda s: any(c.isdigit() for c in s) and sum(c.isalpha() for c in s) >= 4
)


def forms(secret: str) -> set[str]:
    """What must never appear: the secret and its wire forms."""
    basic = base64.b64encode(f"{USER}:{secret}".encode()).decode()
    alone = base64.b64encode(secret.encode()).decode()
    return {secret, basic, basic.rstrip("="), alone, alone.rstrip("="), quote(secret, safe="")}


# ---------------------------------------------------------------- an index that echoes


class EchoHandler(LoopbackHandler):
    """Answers every request with ``server.status`` and a reason phrase and page that repeat
    what the client sent: the Authorization header, its decoded ``user:password``, the password
    URL-encoded, and the password broken across two lines."""

    status = 503
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._echo()

    def do_POST(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            got = self.rfile.read(min(left, 65536))
            if not got:
                break
            left -= len(got)
        self._echo()

    def _echo(self) -> None:
        header = self.headers.get("Authorization") or ""
        decoded = ""
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode("utf-8", "replace")
        password = decoded.partition(":")[2]
        reason = f"Unavailable for {header} ({decoded}) {quote(password, safe='')}"
        half = len(password) // 2
        body = textwrap.dedent(
            f"""\
            <html><body><h1>{self.status} Bad credentials</h1>
            <pre>Authorization: {header}
            user:password = {decoded}
            password = {password[:half]}
              {password[half:]}
            encoded = {quote(password, safe="")}</pre></body></html>
            """
        ).encode()
        self.send_response(self.status, reason)
        self.send_header("Content-Type", "text/html")
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------- child argv, via an audit hook

_ARGV: list[str] = []
_RECORDING = threading.Event()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _RECORDING.is_set() and event in {"subprocess.Popen", "os.posix_spawn", "os.exec"}:
        _ARGV.append(repr(args[:2]))


sys.addaudithook(_audit)  # process-wide and permanent; records only while a test asks


# ---------------------------------------------------------------- fixtures


PYPROJECT = textwrap.dedent(
    """\
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "secret-demo"
    version = "1.0.0"
    description = "A sample project whose credentials must never show"
    readme = "README.md"

    [tool.release]
    build-isolation = false
    """
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with dist/ built once (the upload path needs real files)."""
    root = tmp_path_factory.mktemp("secret-demo")
    (root / "src" / "secret_demo").mkdir(parents=True)
    (root / "src" / "secret_demo" / "__init__.py").write_text('"""Demo."""\n')
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "README.md").write_text("# secret-demo\n")
    proc = subprocess.run(
        [sys.executable, "-m", "release", "build"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalIndex, LoopbackServer]]:
    """(an empty pypiserver to read, an echoing server to upload to)."""
    with LocalIndex() as reader, LoopbackServer(EchoHandler, name="echo") as echo:
        yield reader, echo


def _environment(monkeypatch: pytest.MonkeyPatch, reader: LocalIndex, echo: LoopbackServer) -> None:
    for var in [v for v in list(sys.modules["os"].environ) if "TOKEN" in v or "PASSWORD" in v]:
        monkeypatch.delenv(var)
    for name in ("TEST", "PROD"):
        monkeypatch.setenv(f"RELEASE_{name}_INDEX_URL", reader.index_url)
        monkeypatch.setenv(f"RELEASE_{name}_UPLOAD_URL", echo.base_url + "/legacy/")
        monkeypatch.setenv(f"RELEASE_{name}_USERNAME", USER)
    monkeypatch.setenv("RELEASE_RETRIES", "1")
    monkeypatch.setenv("RELEASE_RETRY_MAX_WAIT", "0")
    monkeypatch.setenv("RELEASE_WAIT_TIMEOUT", "0")
    monkeypatch.setenv("RELEASE_TRUSTED_PUBLISHING", "off")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def _run_everywhere(
    root: Path, argv: list[str], secret: str, capsys: pytest.CaptureFixture[str]
) -> int:
    """Run ``argv`` with and without --json; assert no form of ``secret`` got out anywhere."""
    redact.clear()  # the boundary must find the secret on its own, from where it came in
    codes = []
    with tempfile.TemporaryDirectory(prefix="nox-release-summary-") as tmp:
        summary = Path(tmp) / "summary.md"
        summary.touch()
        sys.modules["os"].environ["GITHUB_STEP_SUMMARY"] = str(summary)
        _ARGV.clear()
        _RECORDING.set()
        try:
            for extra in ([], ["--json"]):
                codes.append(cli.main(["--root", str(root), *argv, *extra]))
        finally:
            _RECORDING.clear()
            del sys.modules["os"].environ["GITHUB_STEP_SUMMARY"]
        captured = capsys.readouterr()
        places = {
            "stdout": captured.out,
            "stderr": captured.err,
            "child argv": "\n".join(_ARGV),
            "step summary": summary.read_text(encoding="utf-8", errors="replace"),
        }
        for path in root.rglob("*"):
            if path.is_file() and path.name != "pyproject.toml":
                places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for form in forms(secret):
        for where, text in places.items():
            assert form not in text, f"{form!r} in {where}"
    assert codes[0] == codes[1]
    return codes[0]


_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@_SETTINGS
@given(secret=SECRETS, status=st.sampled_from([403, 429, 500, 503]))
def test_doctor_probe_echo(
    secret: str,
    status: int,
    built: Path,
    servers: tuple[LocalIndex, LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reader, echo = servers
    EchoHandler.status = status
    with monkeypatch.context() as m:
        _environment(m, reader, echo)
        m.setenv("RELEASE_TEST_PASSWORD", secret)
        _run_everywhere(built, ["doctor", "--index", "test"], secret, capsys)


@pytest.mark.slow
@_SETTINGS
@given(secret=SECRETS, status=st.sampled_from([403, 429, 500, 503]))
def test_upload_echo(
    secret: str,
    status: int,
    built: Path,
    servers: tuple[LocalIndex, LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reader, echo = servers
    EchoHandler.status = status
    with monkeypatch.context() as m:
        _environment(m, reader, echo)
        m.setenv("TEST_PYPI_API_TOKEN", secret)
        code = _run_everywhere(built, ["upload", "--index", "test"], secret, capsys)
    assert code in {4, 5, 7}
    assert reader.files() == []


@pytest.mark.slow
@_SETTINGS
@given(secret=SECRETS, where=st.sampled_from(["bare-url", "encoded-url", "other-key"]))
def test_configuration_values(
    secret: str,
    where: str,
    built: Path,
    servers: tuple[LocalIndex, LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    reader, echo = servers
    root = tmp_path_factory.mktemp("config")
    shutil.copytree(built, root, dirs_exist_ok=True)
    document = tomlkit.parse(PYPROJECT)
    table: Any = document["tool"]["release"]
    with monkeypatch.context() as m:
        _environment(m, reader, echo)
        m.setenv("RELEASE_PROD_PASSWORD", secret)  # the user's real secret, somewhere
        if where == "bare-url":
            m.setenv("RELEASE_TEST_INDEX_URL", f"{USER}:{secret}@127.0.0.1:9/simple/")
        elif where == "encoded-url":
            table["test-index-url"] = f"http://{USER}:{quote(secret, safe='')}@127.0.0.1:9/simple/"
            m.delenv("RELEASE_TEST_INDEX_URL")
        else:
            table["smoke-command"] = f"python -c 'print(1)' {secret}"
        (root / "pyproject.toml").write_text(tomlkit.dumps(document))
        for argv in (["doctor", "--no-auth-check"], ["plan"], ["verify", "--dry-run"]):
            _run_everywhere(root, argv, secret, capsys)

"""A real devpi-server on 127.0.0.1: the index that speaks PEP 691 JSON and answers an
identical re-upload with 200 and a different one with 409 (on a NON-volatile index).

``devpi_index`` (session scope: devpi starts in ~5 s) yields a :class:`DevpiIndex` for a
fresh user and a fresh non-volatile index. Tests that write to it use their own project
names, so they do not see each other's files. Skips when devpi-server is not installed.

No secret is ever on a command line: devpi-init and devpi-server get none (root keeps its
empty password and is never used), and the user is created and the index made through
devpi's HTTP API, with the throw-away password in a JSON body.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

__all__ = ["DevpiIndex", "devpi_index", "start_devpi"]

STARTUP_LIMIT = 120.0  # seconds; devpi needs ~5 on an idle machine, 25 on a busy one


@dataclasses.dataclass(frozen=True)
class DevpiIndex:
    """A user's non-volatile index on a running devpi-server.

    ``upload_url`` is where twine posts (``/<user>/<index>/``); ``index_url`` is the Simple
    API root (``/<user>/<index>/+simple/``).
    """

    base_url: str
    user: str
    password: str
    index: str

    @property
    def upload_url(self) -> str:
        return f"{self.base_url}/{self.user}/{self.index}/"

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/{self.user}/{self.index}/+simple/"

    def __iter__(self) -> Iterator[str]:
        """Unpacks as ``(upload_url, index_url, user, password)``."""
        return iter((self.upload_url, self.index_url, self.user, self.password))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(name: str) -> str | None:
    """The devpi script next to this interpreter, else on PATH."""
    here = Path(sys.executable).with_name(name)
    return str(here) if here.exists() else shutil.which(name)


def _wait_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"devpi-server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(base_url + "/+api", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"devpi-server did not answer within {STARTUP_LIMIT:.0f} s:\n{log.read_text()}"
    )


def _make_index(base_url: str, user: str, password: str, index: str) -> None:
    """Create ``user`` and its non-volatile ``index`` through devpi's HTTP API."""
    json_headers = {"Accept": "application/json", "Content-Type": "application/json"}
    r = requests.put(
        f"{base_url}/{user}",
        json={"password": password, "email": f"{user}@example.invalid"},
        headers=json_headers,
        timeout=30,
    )
    r.raise_for_status()
    # NON-volatile: devpi's default (volatile) silently overwrites a re-upload.
    r = requests.put(
        f"{base_url}/{user}/{index}",
        json={"type": "stage", "bases": [], "volatile": False},
        headers=json_headers,
        auth=(user, password),
        timeout=30,
    )
    r.raise_for_status()
    r = requests.get(f"{base_url}/{user}/{index}", headers=json_headers, timeout=30)
    r.raise_for_status()
    if r.json()["result"].get("volatile") is not False:
        raise RuntimeError(f"devpi index {user}/{index} is volatile: {r.text}")


@dataclasses.dataclass
class DevpiServer:
    base_url: str
    process: subprocess.Popen[bytes]
    serverdir: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def new_index(self, user: str | None = None, index: str = "stable") -> DevpiIndex:
        user = user or f"u{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        _make_index(self.base_url, user, password, index)
        return DevpiIndex(self.base_url, user, password, index)


def start_devpi(serverdir: Path) -> DevpiServer:
    """devpi-init + devpi-server --offline-mode on a free loopback port."""
    init, server = _tool("devpi-init"), _tool("devpi-server")
    if init is None or server is None:
        pytest.skip("devpi-server is not installed (pip install -r tests/requirements.txt)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVPI")}
    log = serverdir.parent / "devpi.log"
    subprocess.run(
        [init, "--serverdir", str(serverdir), "--no-root-pypi"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                server,
                "--serverdir",
                str(serverdir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--offline-mode",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    devpi = DevpiServer(base_url, process, serverdir)
    try:
        _wait_up(base_url, process, log)
    except BaseException:
        devpi.stop()
        raise
    return devpi


@pytest.fixture(scope="session")
def devpi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    """One devpi-server for the whole session (it takes seconds to start)."""
    devpi = start_devpi(tmp_path_factory.mktemp("devpi") / "server")
    try:
        yield devpi
    finally:
        devpi.stop()


@pytest.fixture(scope="session")
def devpi_index(devpi_server: DevpiServer) -> DevpiIndex:
    """A non-volatile devpi index: ``upload_url, index_url, user, password = devpi_index``.

    Shared by the session: use a project name of your own in each test.
    """
    return devpi_server.new_index()


# --- uploads, for tests against real servers ---------------------------------------------------


def twine_upload(upload_url: str, user: str, password: str, path: Path) -> requests.Response:
    """One upload with twine's own API (its User-Agent, its form): the raw answer, no raising."""
    from twine.package import PackageFile
    from twine.repository import Repository

    repository = Repository(upload_url, user, password, disable_progress_bar=True)
    try:
        return repository.upload(PackageFile.from_filename(str(path), None))
    finally:
        repository.close()

"""3. The pre-upload read of a project with 5,000 files: one request, time to decide.

The project's page is generated (PEP 503 HTML, 2,500 versions x sdist + wheel, each link with
its #sha256= fragment, the size of a large project's page on PyPI) and served by a tiny local
server that counts requests. Timed in-process: fetch_index_state + guard.decide, i.e. the
request, the parse (pypi-simple), and the decision; then the whole `python -m release plan`
command (process start and imports included) for context. A second row serves the same
5,000 files from a real pypiserver (whose own per-request listing and hashing is included).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from common import Row, base_env, check, fake_release, median, run_timed

from release import guard
from release.index import fetch_index_state
from release.localindex import LocalIndex
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import Manifest
from release.retry import RetryPolicy
from tests.sample_projects import write_wheel

NAME = "big-project"
FILES = 5000


def _files(name: str, versions: int) -> list[tuple[str, str]]:
    dist = name.replace("-", "_")
    out = []
    for i in range(versions):
        version = f"{i // 100}.{i % 100}.0"
        for filename in (f"{dist}-{version}.tar.gz", f"{dist}-{version}-py3-none-any.whl"):
            out.append((filename, hashlib.sha256(filename.encode()).hexdigest()))
    return out


def big_json_page(name: str, versions: int) -> bytes:
    """The same files as a PEP 691 JSON page (what PyPI answers when asked for JSON)."""
    files = [
        {"filename": fn, "url": f"/files/{fn}", "hashes": {"sha256": sha}}
        for fn, sha in _files(name, versions)
    ]
    doc = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    return json.dumps(doc).encode()


def big_page(name: str, versions: int) -> bytes:
    links = []
    for filename, sha in _files(name, versions):
        links.append(f'<a href="/files/{filename}#sha256={sha}">{filename}</a><br/>')
    body = (
        "<!DOCTYPE html><html><head><title>Links for {0}</title></head><body>"
        "<h1>Links for {0}</h1>\n{1}\n</body></html>"
    ).format(name, "\n".join(links))
    return body.encode()


class PageServer(LoopbackServer):
    """Serves one generated page at /simple/<name>/ and counts the requests."""

    def __init__(self, name: str, page: bytes, content_type: str = "text/html") -> None:
        super().__init__(name="page-server")
        self.requests = 0
        self.project, self.page, self.content_type = name, page, content_type

    def handler_class(self) -> type[LoopbackHandler]:
        owner = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                if self.path.rstrip("/") != f"/simple/{owner.project}":
                    self.send_error(404)
                    return
                self.send_body(200, owner.page, owner.content_type)

        return Handler

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/simple/"


def decide_once(index_url: str, manifest: Manifest) -> tuple[float, guard.Plan, int]:
    started = time.perf_counter()
    state = fetch_index_state(index_url, NAME, policy=RetryPolicy(attempts=1))
    plan = guard.decide(manifest, state, guard.Rules(is_prod=True, now=datetime.now(timezone.utc)))
    return time.perf_counter() - started, plan, len(state.files)


def run(runs: int, log: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    page = big_page(NAME, FILES // 2)
    log(f"3. pre-upload read: a generated page of {FILES} files ({len(page) // 1024} KiB)")
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        wheel = write_wheel(Path(tmp), NAME, "99.0.0")
        manifest = fake_release(root, NAME, "99.0.0", [wheel])
        with PageServer(NAME, page) as server:
            times = []
            for i in range(runs):
                before = server.requests
                seconds, plan, listed = decide_once(server.index_url, manifest)
                check(listed == FILES, f"listed {listed} files")
                check(server.requests - before == 1, "more than one request")
                times.append(seconds)
                log(f"  run {i + 1}/{runs}: {seconds * 1000:.0f} ms, {plan.verdict.value}")
            rows.append(
                Row(
                    f"read + decide, {FILES} files, HTML (1 request)",
                    median(times),
                    None,
                    "s",
                    "< 1 s",
                    runs,
                    "in-process: GET + pypi-simple parse (bs4 html.parser) + guard.decide",
                )
            )
            env = base_env()
            env["RELEASE_PROD_INDEX_URL"] = server.index_url
            env["RELEASE_TEST_INDEX_URL"] = server.index_url
            argv = [sys.executable, "-m", "release", "plan", "--index", "prod"]
            cli = [run_timed(argv, env=env, cwd=root, what="release plan") for _ in range(runs)]
            rows.append(
                Row(
                    f"`python -m release plan`, {FILES} files",
                    median(cli),
                    None,
                    "s",
                    "(context)",
                    runs,
                    "whole command: interpreter start, imports, manifest check, read, decide",
                )
            )
        json_page = big_json_page(NAME, FILES // 2)
        json_type = "application/vnd.pypi.simple.v1+json"
        with PageServer(NAME, json_page, json_type) as server:
            times = []
            for _ in range(runs):
                seconds, _plan, listed = decide_once(server.index_url, manifest)
                check(listed == FILES, f"listed {listed} files")
                times.append(seconds)
            rows.append(
                Row(
                    f"read + decide, {FILES} files, PEP 691 JSON",
                    median(times),
                    None,
                    "s",
                    "< 1 s",
                    runs,
                    "the same files as PyPI's JSON page (PyPI answers JSON when asked)",
                )
            )
        # The same number of files in a real pypiserver (it lists and hashes them per request).
        with LocalIndex() as index:
            dist = NAME.replace("-", "_")
            for i in range(FILES // 2):
                version = f"{i // 100}.{i % 100}.0"
                (index.root / f"{dist}-{version}.tar.gz").write_bytes(version.encode())
                (index.root / f"{dist}-{version}-py3-none-any.whl").write_bytes(version.encode())
            decide_once(index.index_url, manifest)  # pypiserver warms its caches
            times = []
            for _ in range(runs):
                seconds, _plan, listed = decide_once(index.index_url, manifest)
                check(listed == FILES, f"listed {listed} files")
                times.append(seconds)
            rows.append(
                Row(
                    f"read + decide, {FILES} files on pypiserver",
                    median(times),
                    None,
                    "s",
                    "(context)",
                    runs,
                    "includes pypiserver listing its folder and rendering the page",
                )
            )
    return rows

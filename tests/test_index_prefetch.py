"""pypi-simple is imported where it costs no time (issue 22).

Its package pulls BeautifulSoup and pydantic: some 0.15 s of CPU. A read is sent without it (the
Accept header is written out), a read answered 404 never needs it (a project's first release),
and an upload imports it in a thread once its first body is sent, while the index's answer is
awaited, so that the proof read after the upload finds it imported. Each check runs in a fresh
interpreter, against a real pypiserver, so that ``sys.modules`` says what a command imported.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pypi_simple
import pytest

from release import cli, index
from release.localindex import LocalIndex
from tests.sample_projects import write_wheel

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = """
import io, sys, threading
from pathlib import Path

from release.config import IndexSettings
from release.credentials import Credential
from release.distdir import hash_file
from release.index import fetch_index_state
from release.manifest import DistFile
from release.output import Reporter
from release.retry import RetryPolicy
from release.upload import upload_files

upload_url, index_url, user, password, wheel, threads_fail = sys.argv[1:]
if threads_fail == "yes":  # a pids limit: no thread can be started for the import
    start = threading.Thread.start

    def refuse(thread):
        if thread.name == "import pypi-simple":
            raise RuntimeError("can't start new thread")
        start(thread)

    threading.Thread.start = refuse
print("loaded", "pypi_simple" in sys.modules)
state = fetch_index_state(index_url, "prefetch-demo")
print("404 read", state.exists, "pypi_simple" in sys.modules)
path = Path(wheel)
sha, size = hash_file(path)
upload_files(
    [(path, DistFile(path.name, sha, size, "wheel"))],
    index=IndexSettings("test", upload_url, index_url, user),
    credential=Credential(user, password, "test"),
    project="prefetch-demo",
    reporter=Reporter(stream=io.StringIO()),
    policy=RetryPolicy(attempts=1, base=0.0, max_wait=0.0),
    timeout=30,
    concurrency=1,
    first_alone=True,
    wait=2,
)
from release import index

thread = index._prefetch  # the upload's thread, if it started one (no new one started here)
if thread is not None:
    print("thread", thread.name, "daemon" if thread.daemon else "not a daemon")
    thread.join(60)
print("uploaded", "pypi_simple" in sys.modules)
"""


def test_the_accept_header_is_pypi_simples() -> None:
    assert index.ACCEPT == pypi_simple.ACCEPT_JSON_PREFERRED


def _upload_in_a_fresh_process(index: LocalIndex, tmp_path: Path, threads_fail: bool) -> list[str]:
    wheel = write_wheel(tmp_path, "prefetch-demo", "1.0")
    argv = [index.upload_url, index.index_url, index.username, index.password, str(wheel)]
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *argv, "yes" if threads_fail else "no"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert index.files() == [wheel.name]
    return result.stdout.splitlines()


@pytest.mark.slow
def test_a_404_read_does_without_the_parser_and_an_upload_imports_it_meanwhile(
    local_index: LocalIndex, tmp_path: Path
) -> None:
    assert _upload_in_a_fresh_process(local_index, tmp_path, threads_fail=False) == [
        "loaded False",
        "404 read False False",  # the project is absent; nothing was parsed, nothing imported
        # started from the upload's sending thread (a daemon): an early exit waits for it
        "thread import pypi-simple not a daemon",
        "uploaded True",  # imported by the upload, not by a read
    ]


@pytest.mark.slow
def test_no_thread_for_the_import_fails_nothing(local_index: LocalIndex, tmp_path: Path) -> None:
    """Where no thread can be started (a container's pids limit), the upload goes on as
    without the prefetch; the reader imports pypi-simple when it needs it."""
    assert _upload_in_a_fresh_process(local_index, tmp_path, threads_fail=True) == [
        "loaded False",
        "404 read False False",
        "uploaded False",
    ]


def test_the_collector_is_back_on_for_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m release`` turns the collector off for the start-up imports and says so
    (``collector_paused``); the command runs with it on, and what was imported frozen (never
    walked again)."""
    seen: dict[str, object] = {}

    class Probe:
        @staticmethod
        def run(_args: object, _environ: object, _out: object) -> int:
            seen["enabled"], seen["frozen"] = gc.isenabled(), gc.get_freeze_count()
            return 0

    class Args:
        command = "plan"

    monkeypatch.setattr(cli, "parse", lambda _argv: (Probe, Args()))
    gc.disable()
    try:
        assert cli.main(["plan"], collector_paused=True) == 0
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen["enabled"] is True
    assert isinstance(seen["frozen"], int)
    assert seen["frozen"] > 0
    # A program calling cli.main keeps its collector as it set it, off as on.
    gc.disable()
    try:
        assert cli.main(["plan"]) == 0
    finally:
        gc.enable()
    assert seen == {"enabled": False, "frozen": 0}
    assert cli.main(["plan"]) == 0
    assert seen == {"enabled": True, "frozen": 0}

"""Smaller holes (issue 18, section 6): SIGTERM still gives the --json document, and a misspelt
``RELEASE_*`` variable is named with the known one it resembles. (The spellings of PyPI's host
and of loopback are in tests/test_deputy.py, the symlinked dist file in tests/test_bytes_sent.py,
the manifest's size in both.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from release import cli
from release.config import unknown_variables
from tests.hostile import HostileIndex, wait_for
from tests.sample_projects import write_project

ROOT = Path(__file__).resolve().parents[1]


def test_sigterm_still_prints_the_json_document(tmp_path: Path) -> None:
    """release/docs/json.md promises one document on every exit: a CI that cancels the job sends
    SIGTERM while doctor waits for a stalled index."""
    root = write_project(tmp_path / "project")
    with HostileIndex("stall") as index:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "RELEASE_TEST_INDEX_URL": index.index_url,
            "RELEASE_TEST_UPLOAD_URL": index.upload_url,
            "RELEASE_TIMEOUT": "60",
            "RELEASE_TRUSTED_PUBLISHING": "off",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "release",
                "--root",
                str(root),
                "doctor",
                "--index",
                "test",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert wait_for(lambda: index.requests, 60), "doctor never read the index"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    document = json.loads(out)
    assert document["exit_code"] == proc.returncode == 130, err
    assert document["command"] == "doctor"
    assert document["error"]["message"] == "Terminated (SIGTERM)."


@pytest.mark.parametrize(
    ("name", "near"),
    [
        ("RELEASE_TIMOUT", "RELEASE_TIMEOUT"),
        ("RELEASE_TEST_PASWORD", "RELEASE_TEST_PASSWORD"),
        ("RELEASE_PROD_UPLOAD_URI", "RELEASE_PROD_UPLOAD_URL"),
        ("release_retries", "RELEASE_RETRIES"),
    ],
)
def test_misspelt_variable_names_the_one_it_resembles(name: str, near: str) -> None:
    [line] = unknown_variables({name: "x", "RELEASE_TIMEOUT": "5", "HOME": "/h"})
    assert line.startswith(f"{name} is not a variable nox-release reads")
    assert f"did you mean {near}?" in line


def test_unrelated_variable_points_at_the_docs() -> None:
    [line] = unknown_variables({"RELEASE_NOTES_FILE": "x"})
    assert "release/docs/configuration.md" in line
    assert unknown_variables({"RELEASE_TIMEOUT": "5", "RELEASE_PROD_PASSWORD": "x"}) == []


def test_a_run_warns_about_a_misspelt_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path / "project")
    monkeypatch.setenv("RELEASE_RETRYS", "1")
    cli.main(["--root", str(root), "build", "--dry-run"])
    assert "RELEASE_RETRYS is not a variable" in capsys.readouterr().out

"""The README keeps up with the code: every option, variable, session and command is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from release.cli import COMMANDS
from release.config import OPTIONS, env_name
from release.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SESSIONS = (
    "build",
    "upload_test",
    "verify_test_install",
    "upload_prod",
    "release",
    "bump_version",
    "doctor",
    "rehearse",
    "tests",
    "lint",
)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_option_and_its_variable_is_in_the_readme(option) -> None:
    assert f"`{option.key}`" in README
    assert f"`{env_name(option.key)}`" in README


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert name in README


@pytest.mark.parametrize("code", list(ExitCode))
def test_every_exit_code_is_in_the_readme(code: ExitCode) -> None:
    assert f"\n| {int(code)} |" in README


def test_nox_lists_every_contract_session_with_a_description() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 and "No module named nox" in proc.stderr:
        pytest.skip("nox is not installed in this environment")
    assert proc.returncode == 0, proc.stderr
    for session in SESSIONS:
        line = next((ln for ln in proc.stdout.splitlines() if f" {session} -> " in ln), "")
        assert line, f"nox -l does not list {session}"
        assert len(line.split(" -> ", 1)[1]) > 20


def test_readme_shows_the_two_first_commands() -> None:
    assert "nox -s rehearse" in README
    assert "nox -s tests" in README


def test_readme_configuration_table_is_made_from_the_options() -> None:
    from release.config import options_markdown

    assert options_markdown() in README, (
        "README's configuration table is out of date: paste the output of "
        "`python -c 'from release.config import options_markdown as m; print(m())'`"
    )

"""The docs keep up with the code: every option, variable, session, command and exit code.

README.md holds the contract (sessions, commands, exit codes); `release/docs/` holds the reference
pages.
Each assertion looks for a table row or a code span, never for a bare word that could appear
anywhere.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from release.cli import COMMANDS
from release.config import OPTIONS, Option, env_name, options_markdown
from release.errors import ExitCode
from release.results import Result

ROOT = Path(__file__).resolve().parents[1]
# The user-facing pages travel with the package (init copies release/, docs included);
# docs/ keeps the maintainers' page.
DOCS = ROOT / "release" / "docs"
MAINTAINERS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (DOCS / "configuration.md").read_text(encoding="utf-8")
SESSIONS = (
    "build",
    "gather",
    "upload_test",
    "verify_test_install",
    "upload_prod",
    "release",
    "bump_version",
    "doctor",
    "rehearse",
    "reproduce",
    "tests",
    "lint",
)


def _table_first_cells(text: str, header: str) -> list[str]:
    """The first cell of every row of the Markdown table whose header line starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    cells = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells.append(line.split("|")[1].strip())
    return cells


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_option_has_a_row_in_the_configuration_page(option: Option) -> None:
    assert f"\n| `{option.key}` | `{env_name(option.key)}` |" in CONFIGURATION


def test_the_readme_lists_exactly_the_commands() -> None:
    match = re.search(r"`python -m release \{([^}]*)\}`", README)
    assert match is not None, "README lost its `python -m release {...}` list of commands"
    documented = {item.split()[0] for item in match.group(1).split(",")}
    assert documented == set(COMMANDS)


@pytest.mark.parametrize("code", list(ExitCode))
def test_every_exit_code_is_in_the_readme(code: ExitCode) -> None:
    assert f"\n| {int(code)} |" in README


def test_the_readme_sessions_table_has_a_row_for_every_session() -> None:
    cells = _table_first_cells(README, "| session | what it does |")
    named = {span for cell in cells for span in re.findall(r"`([^`]+)`", cell)}
    assert set(SESSIONS) <= named, sorted(set(SESSIONS) - named)


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


def test_configuration_table_is_made_from_the_options() -> None:
    assert options_markdown() in CONFIGURATION, (
        "release/docs/configuration.md's table is out of date: paste the output of "
        "`python -c 'from release.config import options_markdown as m; print(m())'`"
    )


def test_every_local_link_of_the_docs_points_at_a_file() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]
    pages += sorted(MAINTAINERS.glob("*.md"))
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_docs_are_files_in_the_repository_not_links() -> None:
    """git writes a symbolic link as a small text file where links are off (Windows clones):
    release/docs would be that text file there, and init would copy it instead of the pages."""
    links = [p for p in (ROOT / "release").rglob("*") if p.is_symlink()]
    assert not links, links
    assert DOCS.is_dir()
    assert (DOCS / "adopt.md").is_file()


def test_the_changelog_has_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "\n## [Unreleased]\n" in changelog


@pytest.mark.parametrize("key", sorted(Result.__annotations__))
def test_docs_json_names_every_result_key(key: str) -> None:
    """release/results.py and release/docs/json.md describe the same `result` keys."""
    page = (ROOT / "release" / "docs" / "json.md").read_text(encoding="utf-8")
    table = page[page.index("`result` by command") : page.index("A usage error")]
    assert f"`{key}`" in table, f"describe result key {key!r} in release/docs/json.md"

"""``python -m release init PATH``: copies nox-release into a project, never overwriting blindly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from release import adoption
from release.cli import main
from release.config import OPTIONS, load_settings
from release.errors import ConfigError, ExitCode
from tests.sample_projects import COMMENTED_PYPROJECT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    root.mkdir()
    (root / "pyproject.toml").write_text(COMMENTED_PYPROJECT, encoding="utf-8")
    return root


def run_init(*args: str | Path, build_check: bool = False) -> int:
    """init as a user runs it; without the layout check (a real build) unless asked."""
    extra = [] if build_check else ["--no-build-check"]
    return main(["init", *map(str, args), *extra])


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_init_copies_package_noxfile_workflow_and_appends_config(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_init(project) == 0
    out = capsys.readouterr().out

    # release/ is copied byte for byte, caches left behind
    package = adoption.source_files()
    assert "release/cli.py" in package
    assert "release/templates/release.yml" in package
    for relative, content in package.items():
        assert (project / relative).read_bytes() == content, relative
    assert not list((project / "release").rglob("__pycache__"))
    assert not list((project / "release").rglob("*.pyc"))

    assert (project / "noxfile.py").read_bytes() == adoption.noxfile_source()
    workflow = project / ".github" / "workflows" / "release.yml"
    assert workflow.read_bytes() == (REPO / "release" / "templates" / "release.yml").read_bytes()

    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(
        COMMENTED_PYPROJECT
    )  # every byte of the maintainer's file kept, in place
    data = tomllib.loads(text)
    assert data["tool"]["release"] == {}  # every key commented out: the defaults apply
    assert data["tool"]["ruff"] == {"line-length": 88}
    assert "+ noxfile.py (created)" in out
    assert "appended a short, commented [tool.release] table" in out
    # the package in one line, not one line per file
    assert (
        f"release/: the package and its docs, {len(package)} files ({len(package)} created)" in out
    )
    assert "release/cli.py" not in out
    assert "pipx run nox -s rehearse" in out  # works where pip may not install (PEP 668)


def test_init_twice_changes_nothing_and_succeeds(project: Path) -> None:
    assert run_init(project) == 0
    before = snapshot(project)
    assert run_init(project) == 0
    assert snapshot(project) == before  # idempotent: [tool.release] is not appended twice


def test_existing_noxfile_is_never_touched_and_the_import_lines_are_printed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noxfile = project / "noxfile.py"
    own = b'import nox\n\n\n@nox.session\ndef tests(session):\n    """Run the tests."""\n'
    noxfile.write_bytes(own)
    assert run_init(project) == 0
    out = capsys.readouterr().out
    for line in adoption.IMPORT_LINES.splitlines():
        assert line in out
    assert noxfile.read_bytes() == own
    assert run_init(project, "--force") == 0
    assert noxfile.read_bytes() == own  # not even with --force


def test_a_noxfile_that_already_imports_the_sessions_gets_no_advice(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "noxfile.py").write_text("import nox\n" + adoption.IMPORT_LINES, encoding="utf-8")
    assert run_init(project) == 0
    out = capsys.readouterr().out
    assert "already imports release.sessions" in out
    assert "Add these lines" not in out


def test_refuses_to_overwrite_and_lists_every_file_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_init(project) == 0
    (project / "release" / "cli.py").write_text("# my edit\n", encoding="utf-8")
    workflow = project / ".github" / "workflows" / "release.yml"
    workflow.write_text("name: mine\n", encoding="utf-8")
    (project / "release" / "errors.py").unlink()  # would be recreated, were init to write
    before = snapshot(project)
    capsys.readouterr()

    assert run_init(project) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "release/cli.py" in err
    assert ".github/workflows/release.yml" in err
    assert "would overwrite 2 file(s)" in err
    assert "--force" in err
    assert snapshot(project) == before  # nothing written, not even the missing file

    assert run_init(project, "--force") == 0
    assert (project / "release" / "cli.py").read_bytes() == (
        REPO / "release" / "cli.py"
    ).read_bytes()
    assert workflow.read_bytes() == (REPO / "release" / "templates" / "release.yml").read_bytes()
    assert (project / "release" / "errors.py").is_file()


def test_refuses_before_writing_when_only_the_workflow_differs(project: Path) -> None:
    workflow = project / ".github" / "workflows" / "release.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.github/workflows/release\.yml"):
        adoption.apply_plan(project, adoption.plan_init(project))
    assert not (project / "release").exists()
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == COMMENTED_PYPROJECT


def test_json_document_names_each_file_and_its_fate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert run_init(project, "--json") == 0
    document = json.loads(capsys.readouterr().out)["result"]
    fates = {f["path"]: f["fate"] for f in document["files"]}
    assert fates["noxfile.py"] == "create"
    assert fates["pyproject.toml"] == "append"
    assert fates[".github/workflows/release.yml"] == "create"
    assert fates[".gitignore"] == "create"
    assert document["tool_release"] == "appended"
    assert document["next_steps"] == ["nox -s rehearse"]  # a static version: nothing to tag
    assert set(document["written"]) == set(fates)


def test_no_project_files_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_init(tmp_path) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"No pyproject.toml, setup.py or setup.cfg in {tmp_path.resolve()}" in err
    assert "Fix:" in err
    assert list(tmp_path.iterdir()) == []


def test_a_setup_py_project_needs_no_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n", encoding="utf-8")
    assert run_init(tmp_path) == 0
    assert "no pyproject.toml, none created" in capsys.readouterr().out
    assert not (tmp_path / "pyproject.toml").exists()
    assert (tmp_path / "release" / "cli.py").is_file()
    settings = load_settings(tmp_path, {})  # the release sessions need none either
    assert settings.get("dist-dir") == "dist"

    assert run_init(tmp_path, "--pyproject") == 0  # unless asked
    data = tomllib.loads((tmp_path / "pyproject.toml").read_text(encoding="utf-8"))
    assert data == {"tool": {"release": {}}}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "# nox-release: build output and nox's environments\ndist/\n.nox/\n"),
        ("/dist\n.nox\n", "/dist\n.nox\n"),
        ("*.pyc", "*.pyc\n# nox-release: build output and nox's environments\ndist/\n.nox/\n"),
        ("dist/\n", "dist/\n# nox-release: build output and nox's environments\n.nox/\n"),
    ],
)
def test_gitignore_gets_dist_and_nox_once(before: str, after: str) -> None:
    assert adoption.gitignore_with(before) == after
    assert adoption.gitignore_with(after) == after


def test_missing_folder_and_broken_toml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        adoption.plan_init(tmp_path / "nowhere")
    (tmp_path / "pyproject.toml").write_text("[project\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid UTF-8 TOML"):
        adoption.plan_init(tmp_path)


def test_refuses_to_init_nox_release_itself() -> None:
    with pytest.raises(ConfigError, match="nox-release itself"):
        adoption.plan_init(REPO)


def test_an_existing_tool_release_table_is_kept(project: Path) -> None:
    text = COMMENTED_PYPROJECT + '\n[tool.release]\nsmoke-command = "sample --help"\n'
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    assert run_init(project) == 0
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(COMMENTED_PYPROJECT, id="tool-tables-elsewhere"),
        pytest.param('[project]\nname = "x"\nversion = "1"', id="no-final-newline"),
        pytest.param('[project]\r\nname = "x"\r\nversion = "1"\r\n', id="crlf"),
        pytest.param('[tool]\nfoo = 1\n\n[project]\nname = "x"\n', id="explicit-tool-table"),
        pytest.param('tool.black.line-length = 3\n[project]\nname = "x"\n', id="dotted-tool"),
        pytest.param("", id="empty"),
    ],
)
def test_with_tool_release_keeps_every_byte_and_adds_only_the_table(text: str) -> None:
    snippet = adoption.tool_release_snippet()
    result = adoption.with_tool_release(text, snippet)
    assert result.startswith(text)
    before, after = tomllib.loads(text), tomllib.loads(result)
    assert after["tool"].pop("release") == {}
    if not after["tool"]:
        del after["tool"]
    assert after == before
    if "\r\n" in text:
        assert "\n" not in result.replace("\r\n", "")  # the file's line endings are kept


def test_with_tool_release_refuses_what_would_become_invalid() -> None:
    with pytest.raises(ConfigError, match="invalid"):
        adoption.with_tool_release("tool = { black = { line-length = 3 } }\n", "[tool.release]\n")


@pytest.mark.parametrize("compiled", [False, True])
def test_the_snippet_is_short_and_uncommented_is_a_valid_config(
    tmp_path: Path, compiled: bool
) -> None:
    """Only what a project may want at once; the full table is in the docs it cites."""
    snippet = adoption.tool_release_snippet(compiled=compiled)
    assert len(snippet.splitlines()) <= 7
    assert "release/docs/configuration.md" in snippet
    keys = {o.key for o in OPTIONS}
    uncommented = "\n".join(
        line[2:] if line[2:].split(" = ")[0] in keys else line for line in snippet.splitlines()
    )
    table = tomllib.loads(uncommented)["tool"]["release"]
    assert set(table) <= keys
    assert ("expected-wheels" in table) is compiled
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n\n' + uncommented, encoding="utf-8"
    )
    settings = load_settings(tmp_path, {})
    assert all(settings.sources[key] == "pyproject.toml" for key in table)


def test_source_files_leave_caches_behind(tmp_path: Path) -> None:
    package = tmp_path / "release"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    (package / "stray.pyc").write_bytes(b"\0")
    (package / "cli.py").write_text("x = 1\n", encoding="utf-8")
    (package / "templates").mkdir()
    (package / "templates" / "release.yml").write_text("name: release\n", encoding="utf-8")
    assert set(adoption.source_files(package)) == {
        "release/cli.py",
        "release/templates/release.yml",
    }


def test_the_noxfile_template_carries_the_import_lines() -> None:
    template = (REPO / "release" / "templates" / "noxfile.py").read_text(encoding="utf-8")
    for line in adoption.IMPORT_LINES.splitlines():
        assert line in template


RELEASE_SESSIONS = (
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
    "lock",
)


def nox_list(noxfile: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``nox -l`` run from elsewhere: the noxfile's folder is on no sys.path but its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "nox", "--noxfile", str(noxfile), "--list"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def listed(output: str) -> set[str]:
    return {line.split()[1] for line in output.splitlines() if line[:2] in {"* ", "- "}}


def test_the_copied_noxfile_lists_the_release_sessions(project: Path, tmp_path: Path) -> None:
    assert run_init(project) == 0
    proc = nox_list(project / "noxfile.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert set(RELEASE_SESSIONS) <= listed(proc.stdout)


def test_the_import_lines_add_the_sessions_to_an_existing_noxfile(
    project: Path, tmp_path: Path
) -> None:
    noxfile = project / "noxfile.py"
    own = 'import nox\n\n\n@nox.session\ndef tests(session):\n    """Run the tests."""\n'
    noxfile.write_text(own, encoding="utf-8")
    assert run_init(project) == 0

    # Without the sys.path line nox cannot import release/: the line is needed.
    noxfile.write_text("import release.sessions  # noqa: F401\n" + own, encoding="utf-8")
    proc = nox_list(noxfile, cwd=tmp_path)
    assert proc.returncode != 0
    assert "No module named 'release'" in proc.stderr

    noxfile.write_text(adoption.IMPORT_LINES + own, encoding="utf-8")
    proc = nox_list(noxfile, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert listed(proc.stdout) == {*RELEASE_SESSIONS, "tests"}


def test_init_works_as_a_subprocess_from_a_copied_package(tmp_path: Path) -> None:
    """A project that adopted nox-release can set up the next one with its own copy."""
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        root.mkdir()
        (root / "pyproject.toml").write_text(
            textwrap.dedent('[project]\nname = "x"\nversion = "1"\n'), encoding="utf-8"
        )
    assert run_init(first) == 0
    proc = subprocess.run(
        [sys.executable, "-m", "release", "init", str(second), "--no-build-check"],
        cwd=first,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (second / "release" / "commands" / "init.py").read_bytes() == (
        first / "release" / "commands" / "init.py"
    ).read_bytes()
    assert (second / "noxfile.py").is_file()


@pytest.mark.slow
def test_packaging_advice_is_shown_by_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n', encoding="utf-8"
    )
    assert run_init(tmp_path, build_check=True) == 0
    out = capsys.readouterr().out
    assert "Multiple top-level packages" in out
    assert 'include = ["mypkg*"]' in out  # the project's own package, not a guess from its name


COMPILED_CASES = {
    "hatchling, pure": ({"build-system": {"build-backend": "hatchling.build"}}, "", False),
    "scikit-build-core": ({"build-system": {"build-backend": "scikit_build_core.build"}}, "", True),
    "meson-python": ({"build-system": {"build-backend": "mesonpy"}}, "", True),
    "maturin": ({"build-system": {"build-backend": "maturin"}}, "", True),
    "setuptools ext-modules in pyproject": (
        {"tool": {"setuptools": {"ext-modules": [{"name": "x", "sources": ["x.c"]}]}}},
        "",
        True,
    ),
    "setup.py with ext_modules": ({}, "setup(ext_modules=[Extension('x', ['x.c'])])", True),
    "setup.py without": ({}, "from setuptools import setup\nsetup()", False),
}


@pytest.mark.parametrize(
    ("pyproject", "setup_py", "compiled"), COMPILED_CASES.values(), ids=list(COMPILED_CASES)
)
def test_compiled_project_detection(
    pyproject: dict[str, Any], setup_py: str, compiled: bool
) -> None:
    assert adoption.compiled_project(pyproject, setup_py) is compiled


def test_init_compiled_writes_the_cibuildwheel_workflow(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compiled = (REPO / "release" / "templates" / "release-compiled.yml").read_bytes()
    workflow = project / ".github" / "workflows" / "release.yml"
    assert run_init(project, "--compiled") == 0
    assert workflow.read_bytes() == compiled
    assert (
        "compiled project: the workflow builds wheels with cibuildwheel" in capsys.readouterr().out
    )


def test_init_detects_a_compiled_project_from_setup_py_and_can_be_told_otherwise(
    project: Path,
) -> None:
    (project / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        "setup(ext_modules=[Extension('sample._speed', ['src/speed.c'])])\n",
        encoding="utf-8",
    )
    workflow = project / ".github" / "workflows" / "release.yml"
    assert run_init(project) == 0
    assert workflow.read_bytes() == (REPO / "release/templates/release-compiled.yml").read_bytes()
    assert run_init(project, "--no-compiled", "--force") == 0
    assert workflow.read_bytes() == (REPO / "release/templates/release.yml").read_bytes()

"""Versions made from git tags: which plugin, why a build is no release, and what to tag."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from release import gitstate
from release.vcsversion import (
    GitState,
    adoption_steps,
    default_tag_format,
    explain,
    first_tag,
    vcs_plugin,
)


@pytest.mark.parametrize(
    ("pyproject", "setup_text", "plugin"),
    [
        ({"tool": {"setuptools_scm": {}}}, "", "setuptools-scm"),
        (
            {"build-system": {"requires": ["setuptools", "setuptools_scm[toml]>=6"]}},
            "",
            "setuptools-scm",
        ),
        ({"tool": {"hatch": {"version": {"source": "vcs"}}}}, "", "hatch-vcs"),
        ({"build-system": {"requires": ["hatchling", "hatch-vcs"]}}, "", "hatch-vcs"),
        ({"tool": {"pdm": {"version": {"source": "scm"}}}}, "", "pdm-backend (scm)"),
        ({"tool": {"versioningit": {}}}, "", "versioningit"),
        (
            {"build-system": {"requires": ["poetry-core", "poetry-dynamic-versioning"]}},
            "",
            "poetry-dynamic-versioning",
        ),
        ({}, "setup(use_scm_version=True)", "setuptools-scm"),
        ({}, "[options]\nsetup_requires = setuptools_scm\n", "setuptools-scm"),
        ({"project": {"version": "1.0"}}, "setup(version='1.0')", None),
        ({"tool": {"hatch": {"version": {"path": "x/__init__.py"}}}}, "", None),
        (  # setuptools-scm listed (for its file finder), the version from setup.cfg: attr:
            {"build-system": {"requires": ["setuptools", "setuptools_scm"]}},
            "[metadata]\nname = demo\nversion = attr: demo.__version__\n",
            None,
        ),
        (  # ... or from [tool.setuptools.dynamic]
            {
                "build-system": {"requires": ["setuptools", "setuptools-scm"]},
                "project": {"name": "demo", "dynamic": ["version"]},
                "tool": {"setuptools": {"dynamic": {"version": {"attr": "demo.__version__"}}}},
            },
            "",
            None,
        ),
        (  # configured, setuptools-scm decides whatever else is written
            {"tool": {"setuptools_scm": {}}},
            "[metadata]\nversion = attr: demo.__version__\n",
            "setuptools-scm",
        ),
        ({}, "import setuptools\nsetuptools.setup(setup_requires=['pbr>=2.0.0'], pbr=True)", "pbr"),
        ({"build-system": {"requires": ["pbr>=6"], "build-backend": "pbr.build"}}, "", "pbr"),
        ({"build-system": {"requires": ["pybrowser-backend"]}}, "", None),  # not pbr
        (  # hatch-vcs listed, the version from a file
            {
                "build-system": {"requires": ["hatchling", "hatch-vcs"]},
                "tool": {"hatch": {"version": {"path": "demo/__about__.py"}}},
            },
            "",
            None,
        ),
        (  # pdm-backend's sdist: the scm version written in, the source left in place
            {"project": {"version": "0.15.1"}, "tool": {"pdm": {"version": {"source": "scm"}}}},
            "",
            None,
        ),
    ],
)
def test_vcs_plugin(pyproject: dict[str, object], setup_text: str, plugin: str | None) -> None:
    assert vcs_plugin(pyproject, setup_text) == plugin


def test_a_release_needs_no_explanation() -> None:
    assert explain(Version("1.2.3"), GitState("abc1234", "v1.2.3", 0), "setuptools-scm") is None


def test_commits_past_the_tag() -> None:
    state = GitState("1d488fb", "v1.7.0", 1)
    got = explain(Version("1.7.1.dev1+g1d488fb"), state, "setuptools-scm")
    assert got is not None
    assert "HEAD (1d488fb) is 1 commit past the tag v1.7.0" in got.why
    assert "setuptools-scm" in got.why
    assert got.suggested == Version("1.7.1")
    assert got.tag == "v1.7.1"
    assert 'git tag -a v1.7.1 -m "Release v1.7.1"' in got.fix
    assert "nox -s bump_version -- 1.7.1" in got.fix
    assert "allow" not in got.fix.lower()
    assert "ALLOW_DEV" not in got.fix


def test_dirty_files_at_the_tag_are_named() -> None:
    state = GitState("abc1234", "2.0.0", 0, ("pyproject.toml", ".gitignore"))
    got = explain(Version("2.0.1.dev0+gabc1234.d20260101"), state, "hatch-vcs")
    assert got is not None
    assert "2 tracked files have uncommitted changes (pyproject.toml, .gitignore)" in got.why
    assert "HEAD" not in got.why  # at the tag: the commits are not the cause
    assert got.tag == "2.0.1"  # the last tag's spelling: no v
    assert got.fix.startswith("To release 2.0.1: commit the changes")
    assert "git stash" in got.fix  # or release the tag as it is


def test_many_dirty_files_are_counted() -> None:
    dirty = tuple(f"f{i}.py" for i in range(9))
    got = explain(Version("1.0.1.dev3+gabc"), GitState("abc", "v1.0.0", 3, dirty), "x")
    assert got is not None
    assert "f0.py, f1.py, f2.py, f3.py, f4.py and 4 more" in got.why
    assert "3 commits past the tag v1.0.0" in got.why


def test_no_tag_yet() -> None:
    got = explain(Version("0.1.dev5+gabc"), GitState("abc", None, 5), "setuptools-scm")
    assert got is not None
    assert "no version tag yet" in got.why
    assert got.tag == "v0.1"


def test_a_local_label_only_suggests_the_next_patch() -> None:
    got = explain(Version("1.2.3+dirty"), GitState("abc", "v1.2.3", 0, ("a.py",)), "versioningit")
    assert got is not None
    assert got.suggested == Version("1.2.4")


@pytest.mark.parametrize(
    ("state", "tag"),
    [
        (None, "v0.1.0"),
        (GitState("abc", None, 3), "v0.1.0"),
        (GitState("abc", "v1.2.3", 0), "v1.2.4"),
        (GitState("abc", "release-2.0", 4), "release-2.0.1"),
    ],
)
def test_first_tag_after_init(state: GitState | None, tag: str) -> None:
    assert first_tag(state) == tag


@pytest.mark.parametrize(
    ("state", "known", "tag"),
    [
        (None, "8.0.0", "v8.0.0"),  # an unpacked sdist at 8.0.0: not v0.1.0
        (GitState("abc", None, 3), "24.2.0", "v24.2.0"),
        (GitState("abc", None, 3), "0.1.dev3+gabc", "v0.1.0"),  # no release known
        (GitState("abc", "v8.0.0", 0), "8.0.0", "v8.0.1"),  # a tag wins: the next release
    ],
)
def test_first_tag_follows_the_version_the_project_states(
    state: GitState | None, known: str, tag: str
) -> None:
    assert first_tag(state, known=Version(known)) == tag


def test_pbr_reads_bare_version_tags() -> None:
    assert default_tag_format("pbr") == "{version}"
    assert default_tag_format("setuptools-scm") == "v{version}"
    assert adoption_steps(None, default_tag_format("pbr"), Version("5.1.0"))[-1] == (
        'git tag -a 5.1.0 -m "Release 5.1.0"'
    )


def test_adoption_steps() -> None:
    assert adoption_steps(None)[0] == "git init"
    assert adoption_steps(GitState("abc", "v1.0", 0)) == (
        "git add -A",
        'git commit -m "Adopt nox-release"',
        'git tag -a v1.0.1 -m "Release v1.0.1"',
    )


def _git(root: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@x.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, *args], cwd=root, check=True, capture_output=True)


def test_read_a_real_work_tree(tmp_path: Path) -> None:
    assert gitstate.read(tmp_path) is None  # not a repository
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "one")
    state = gitstate.read(tmp_path)
    assert state is not None
    assert state.last_tag is None
    assert state.distance == 1
    _git(tmp_path, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    _git(tmp_path, "tag", "docs-latest")  # a tag that names no version is passed over
    (tmp_path / "a.txt").write_text("b", encoding="utf-8")
    (tmp_path / "untracked.txt").write_text("u", encoding="utf-8")  # does not count
    state = gitstate.read(tmp_path)
    assert state is not None
    assert (state.last_tag, state.distance, state.dirty) == ("v1.0.0", 0, ("a.txt",))
    _git(tmp_path, "commit", "-q", "-am", "two")
    state = gitstate.read(tmp_path)
    assert state is not None
    assert (state.last_tag, state.distance, state.dirty) == ("v1.0.0", 1, ())

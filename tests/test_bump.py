"""``python -m release bump``: every source kind, every refusal, byte-for-byte rewriting, git.

Real parts only: git in temporary folders, pypiserver on 127.0.0.1 seeded by writing package
files into its root (pypiserver lists what is in that folder).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from release import cli
from release.commands import bump
from release.errors import ConfigError, ExitCode, GitFailed, GuardRefusal, IndexUnavailable
from release.localindex import LocalIndex
from release.loopback import LoopbackServer
from release.output import Reporter

PYPROJECT = """\
# A project whose pyproject.toml is written by hand, oddly.
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name    = "demo-pkg"   # aligned on purpose
version = '1.2.4'      # the version (single quotes, kept)
description = "Demo: 1.2.4 is not a version source here"
dependencies = [
  "packaging>=1.2.4",  # must not be touched
]

[tool.release]
# keep this comment
"""


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[LocalIndex, LocalIndex]]:
    with LocalIndex() as test, LocalIndex() as prod:
        yield test, prod


@pytest.fixture
def indexes(_servers: tuple[LocalIndex, LocalIndex]) -> tuple[LocalIndex, LocalIndex]:
    """Two empty pypiservers (test, prod); started once per module, emptied for each test."""
    for index in _servers:
        for path in index.root.iterdir():
            path.unlink()
    return _servers


@pytest.fixture
def environ(tmp_path: Path, indexes: tuple[LocalIndex, LocalIndex]) -> dict[str, str]:
    """The environment given to ``bump.run``: git identity, no user git config, local indexes."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    test, prod = indexes
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.invalid",
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "RELEASE_TEST_INDEX_URL": test.index_url,
        "RELEASE_PROD_INDEX_URL": prod.index_url,
        "RELEASE_RETRIES": "1",
        "RELEASE_TIMEOUT": "10",
    }


def write_project(root: Path, pyproject: str = PYPROJECT, init: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8", newline="")
    if init is not None:
        (root / "src" / "demo_pkg").mkdir(parents=True, exist_ok=True)
        (root / "src" / "demo_pkg" / "__init__.py").write_text(init, encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "project", init='"""Demo."""\n\n__version__ = "1.2.4"  # bumped\nX = 1\n'
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def run_bump(root: Path, environ: dict[str, str], *argv: str) -> int:
    _module, args = cli.parse(["--root", str(root), "bump", *argv])
    return bump.run(args, environ, Reporter())


def git(root: Path, environ: dict[str, str], *argv: str) -> str:
    return subprocess.run(
        ["git", *argv], cwd=root, env=environ, check=True, capture_output=True, text=True
    ).stdout


def init_repo(root: Path, environ: dict[str, str]) -> None:
    git(root, environ, "init", "-q")
    git(root, environ, "add", "-A")
    git(root, environ, "commit", "-q", "-m", "initial")


def publish(index: LocalIndex, filename: str) -> None:
    """Seed a 'published' file: pypiserver serves whatever is in its root folder."""
    (index.root / filename).write_bytes(b"not really a package: " + filename.encode())


# --------------------------------------------------------------------------- sources


def test_static_version_and_init_rewritten_byte_for_byte(
    project: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    init_before = (project / "src/demo_pkg/__init__.py").read_text(encoding="utf-8")
    assert run_bump(project, environ, "minor,rc") == 0
    after = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert after == PYPROJECT.replace("version = '1.2.4'", "version = '1.3.0rc1'")
    assert (project / "src/demo_pkg/__init__.py").read_text(encoding="utf-8") == (
        init_before.replace('"1.2.4"', '"1.3.0rc1"')
    )
    out = capsys.readouterr().out
    assert "1.2.4 -> 1.3.0rc1" in out


def test_crlf_and_double_quotes_survive(tmp_path: Path, environ: dict[str, str]) -> None:
    text = PYPROJECT.replace("'1.2.4'", '"1.2.4"').replace("\n", "\r\n")
    root = write_project(tmp_path / "crlf", text)
    assert run_bump(root, environ, "patch", "--offline") == 0
    assert (root / "pyproject.toml").read_bytes() == text.replace('"1.2.4"', '"1.2.5"').encode(
        "utf-8"
    )


def test_poetry_version(tmp_path: Path, environ: dict[str, str]) -> None:
    text = textwrap.dedent(
        """\
        [tool.poetry]
        name = "demo-pkg"
        version = "0.9.0"  # poetry's
        description = ""

        [build-system]
        requires = ["poetry-core"]
        build-backend = "poetry.core.masonry.api"
        """
    )
    root = write_project(tmp_path / "poetry", text)
    assert run_bump(root, environ, "major") == 0
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == text.replace(
        '"0.9.0"', '"1.0.0"'
    )


def test_flat_layout_init_only_when_it_is_a_literal(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    root = write_project(tmp_path / "flat")
    (root / "demo_pkg").mkdir()
    (root / "demo_pkg" / "__init__.py").write_text("__version__: str = '1.2.4'\n")
    assert run_bump(root, environ, "patch") == 0
    assert (root / "demo_pkg" / "__init__.py").read_text() == "__version__: str = '1.2.5'\n"

    computed = write_project(tmp_path / "computed", init="")
    init = computed / "src" / "demo_pkg" / "__init__.py"
    init.write_text('import importlib.metadata\n__version__ = importlib.metadata.version("x")\n')
    before = init.read_bytes()
    assert run_bump(computed, environ, "patch") == 0
    assert init.read_bytes() == before
    assert "version = '1.2.5'" in (computed / "pyproject.toml").read_text()


def test_version_files_from_config(tmp_path: Path, environ: dict[str, str]) -> None:
    text = PYPROJECT.replace(
        "# keep this comment\n",
        "# keep this comment\n"
        'version-files = ["docs/conf.py:release = \\"{version}\\"", "VERSION.txt"]\n',
    )
    root = write_project(tmp_path / "extra", text)
    (root / "docs").mkdir()
    conf = 'release = "1.2.4"\nneeds = "1.2.4"\n'
    (root / "docs" / "conf.py").write_text(conf)
    (root / "VERSION.txt").write_text("1.2.4\nrequires foo 1.2.4.1 and 11.2.4\n")
    assert run_bump(root, environ, "2.0") == 0
    assert (root / "docs" / "conf.py").read_text() == 'release = "2.0"\nneeds = "1.2.4"\n'
    assert (root / "VERSION.txt").read_text() == "2.0\nrequires foo 1.2.4.1 and 11.2.4\n"
    assert "version = '2.0'" in (root / "pyproject.toml").read_text()


def test_dynamic_version_read_from_a_file(tmp_path: Path, environ: dict[str, str]) -> None:
    text = PYPROJECT.replace("version = '1.2.4'      # the version (single quotes, kept)\n", "")
    text = text.replace('name    = "demo-pkg"', 'name = "demo-pkg"\ndynamic = ["version"]')
    text += '\n[tool.setuptools.dynamic]\nversion = {attr = "demo_pkg._version.VERSION"}\n'
    root = write_project(tmp_path / "attr", text, init="from ._version import VERSION\n")
    (root / "src" / "demo_pkg" / "_version.py").write_text('VERSION = "3.1"\n')
    assert run_bump(root, environ, "minor") == 0
    assert (root / "src" / "demo_pkg" / "_version.py").read_text() == 'VERSION = "3.2"\n'
    assert (root / "pyproject.toml").read_text() == text


# --------------------------------------------------------------------------- bad input


def test_disagreeing_sources_are_listed_and_nothing_changes(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    root = write_project(tmp_path / "p", init='__version__ = "1.2.3"\n')
    before = snapshot(root)
    with pytest.raises(ConfigError) as info:
        run_bump(root, environ, "patch")
    message = str(info.value)
    assert "pyproject.toml [project].version = 1.2.4" in message
    assert "src/demo_pkg/__init__.py __version__ = 1.2.3" in message
    assert snapshot(root) == before


def test_version_file_without_the_version_is_a_disagreement(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    text = PYPROJECT.replace("# keep this comment\n", 'version-files = ["VERSION.txt"]\n')
    root = write_project(tmp_path / "p", text)
    (root / "VERSION.txt").write_text("1.2.3\n")
    before = snapshot(root)
    with pytest.raises(ConfigError, match=r"VERSION.txt: does not contain 1\.2\.4"):
        run_bump(root, environ, "patch")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("pyproject", "spec", "match"),
    [
        (PYPROJECT, "minr", "neither a part nor a valid PEP 440 version"),
        (PYPROJECT, "1.2.3", "below the current version"),
        (PYPROJECT, "rc", "sorts below"),
        (PYPROJECT.replace("'1.2.4'", "'one.two'"), "patch", "'one.two'.*not a valid PEP 440"),
        (PYPROJECT.replace("version = '1.2.4'", "# no version"), "patch", "No version in"),
        (PYPROJECT + "[project\n", "patch", "not valid TOML"),
        (PYPROJECT.replace('name    = "demo-pkg"', "# no name"), "patch", "with a name"),
        (PYPROJECT + 'tag-format = "release"\n', "patch", "{version} exactly once"),
    ],
)
def test_bad_input_leaves_every_file_untouched(
    tmp_path: Path, environ: dict[str, str], pyproject: str, spec: str, match: str
) -> None:
    root = write_project(tmp_path / "p", pyproject, init='__version__ = "1.2.4"\n')
    before = snapshot(root)
    with pytest.raises(ConfigError, match=match):
        run_bump(root, environ, spec)
    assert snapshot(root) == before


def test_no_version_anywhere(tmp_path: Path, environ: dict[str, str]) -> None:
    root = write_project(tmp_path / "p", '[tool.poetry]\nname = "demo-pkg"\n')
    with pytest.raises(ConfigError, match="No version found"):
        run_bump(root, environ, "patch")


# --------------------------------------------------------------------------- indexes


@pytest.mark.parametrize("where", ["test", "prod"])
def test_published_version_refused_with_next_free(
    project: Path,
    environ: dict[str, str],
    indexes: tuple[LocalIndex, LocalIndex],
    where: str,
) -> None:
    test, prod = indexes
    publish(test if where == "test" else prod, "demo_pkg-1.3.0.tar.gz")
    publish(prod, "demo-pkg-1.3.1.tar.gz")  # taken too: the suggestion skips it
    before = snapshot(project)
    with pytest.raises(GuardRefusal) as info:
        run_bump(project, environ, "minor")
    message = str(info.value)
    assert f"1.3.0 is already published on the {where}" in message
    assert "python -m release bump 1.3.2" in message
    assert snapshot(project) == before


def test_yanked_version_is_refused_too(
    tmp_path: Path, project: Path, environ: dict[str, str]
) -> None:
    """pypiserver cannot yank, so the test index here is a static PEP 503 folder (a real
    kind of index: any web server in front of a folder) whose only file is yanked."""
    site = tmp_path / "static-index"
    page = site / "simple" / "demo-pkg"
    page.mkdir(parents=True)
    page.joinpath("index.html").write_text(
        '<!DOCTYPE html><html><body><a href="../../demo_pkg-1.2.5.tar.gz#sha256='
        + "0" * 64
        + '" data-yanked="broken build">demo_pkg-1.2.5.tar.gz</a></body></html>\n',
        encoding="utf-8",
    )
    handler = functools.partial(_QuietStaticHandler, directory=str(site))
    with LoopbackServer(handler, name="static-index") as server:
        environ["RELEASE_TEST_INDEX_URL"] = f"{server.base_url}/simple/"
        before = snapshot(project)
        with pytest.raises(GuardRefusal) as info:
            run_bump(project, environ, "patch")
        assert "1.2.5 is already published on the test" in info.value.message
        assert "yanked" in info.value.message
        assert "python -m release bump 1.2.6" in info.value.fix
        assert snapshot(project) == before


class _QuietStaticHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_unreadable_index_refuses_unless_offline(
    project: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    environ["RELEASE_PROD_INDEX_URL"] = "http://127.0.0.1:9/simple/"  # nothing listens there
    before = snapshot(project)
    with pytest.raises(IndexUnavailable) as info:
        run_bump(project, environ, "patch")
    assert "nothing was changed" in info.value.message
    assert "--offline" in info.value.fix
    assert snapshot(project) == before

    assert run_bump(project, environ, "patch", "--offline") == 0
    assert "--offline: the indexes were not read" in capsys.readouterr().out
    assert "version = '1.2.5'" in (project / "pyproject.toml").read_text()


# --------------------------------------------------------------------------- dry run and git


def test_dry_run_shows_diff_and_tag_and_writes_nothing(
    project: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    init_repo(project, environ)
    before = snapshot(project)
    head = git(project, environ, "rev-parse", "HEAD")
    assert run_bump(project, environ, "major", "--dry-run", "--git") == 0
    out = capsys.readouterr().out
    assert "--- a/pyproject.toml\n+++ b/pyproject.toml\n" in out
    assert "-version = '1.2.4'      # the version" in out
    assert "+version = '2.0.0'      # the version" in out
    assert '+__version__ = "2.0.0"  # bumped' in out
    assert "would tag v2.0.0 (annotated)" in out
    assert snapshot(project) == before
    assert git(project, environ, "rev-parse", "HEAD") == head
    assert git(project, environ, "tag", "--list") == ""


def test_git_commits_only_the_bumped_files_and_tags(project: Path, environ: dict[str, str]) -> None:
    init_repo(project, environ)
    (project / "notes.txt").write_text("untracked, not part of the bump\n")
    assert run_bump(project, environ, "minor", "--git") == 0
    changed = git(project, environ, "show", "--name-only", "--format=%s", "HEAD").split()
    assert changed[:4] == ["Bump", "version:", "1.2.4", "→"]
    assert sorted(changed[5:]) == ["pyproject.toml", "src/demo_pkg/__init__.py"]
    assert git(project, environ, "cat-file", "-t", "v1.3.0").strip() == "tag"  # annotated
    assert "Release 1.3.0" in git(project, environ, "cat-file", "tag", "v1.3.0")
    assert git(project, environ, "status", "--porcelain") == "?? notes.txt\n"
    assert git(project, environ, "rev-parse", "v1.3.0^{commit}") == git(
        project, environ, "rev-parse", "HEAD"
    )


def test_git_refuses_a_dirty_tree(project: Path, environ: dict[str, str]) -> None:
    init_repo(project, environ)
    (project / "src/demo_pkg/__init__.py").write_text('__version__ = "1.2.4"\nY = 2\n')
    before = snapshot(project)
    with pytest.raises(ConfigError, match=r"uncommitted changes: src/demo_pkg/__init__.py"):
        run_bump(project, environ, "patch", "--git")
    assert snapshot(project) == before


def test_git_refuses_an_existing_tag(project: Path, environ: dict[str, str]) -> None:
    init_repo(project, environ)
    git(project, environ, "tag", "release-1.2.5")
    environ["RELEASE_TAG_FORMAT"] = "release-{version}"
    before = snapshot(project)
    with pytest.raises(ConfigError, match=r"tag release-1\.2\.5 already exists"):
        run_bump(project, environ, "patch", "--git")
    assert snapshot(project) == before


def test_push_only_when_asked(tmp_path: Path, project: Path, environ: dict[str, str]) -> None:
    init_repo(project, environ)
    remote = tmp_path / "remote.git"
    git(tmp_path, environ, "init", "-q", "--bare", str(remote))
    git(project, environ, "remote", "add", "origin", str(remote))
    git(project, environ, "push", "-q", "origin", "main")

    assert run_bump(project, environ, "patch", "--git") == 0
    assert git(remote, environ, "tag", "--list") == ""
    assert run_bump(project, environ, "patch", "--push") == 0  # --push implies --git
    assert git(remote, environ, "tag", "--list").split() == ["v1.2.6"]
    assert git(remote, environ, "rev-parse", "main") == git(project, environ, "rev-parse", "HEAD")


def test_a_failed_push_is_finished_by_the_same_command_without_a_second_bump(
    tmp_path: Path, project: Path, environ: dict[str, str]
) -> None:
    init_repo(project, environ)
    remote = tmp_path / "remote.git"
    git(project, environ, "remote", "add", "origin", str(remote))  # not created yet: push fails
    with pytest.raises(GitFailed) as failed:
        run_bump(project, environ, "patch", "--push")
    assert failed.value.exit_code == ExitCode.GIT
    assert "committed and tagged" in failed.value.message
    assert "run the same bump command again" in failed.value.fix
    assert "git push --atomic origin HEAD refs/tags/v1.2.5" in failed.value.fix
    assert git(project, environ, "tag", "--list").split() == ["v1.2.5"]

    git(tmp_path, environ, "init", "-q", "--bare", str(remote))  # the remote is fixed
    out = io.StringIO()
    _module, args = cli.parse(["--root", str(project), "bump", "patch", "--push"])
    assert bump.run(args, environ, Reporter(stream=out)) == 0
    assert "no second bump" in out.getvalue()
    init = (project / "src" / "demo_pkg" / "__init__.py").read_text(encoding="utf-8")
    assert '__version__ = "1.2.5"' in init
    assert git(project, environ, "tag", "--list").split() == ["v1.2.5"]
    assert git(remote, environ, "tag", "--list").split() == ["v1.2.5"]
    assert git(remote, environ, "rev-parse", "main") == git(project, environ, "rev-parse", "HEAD")
    # Pushed: the next bump is a bump again.
    assert run_bump(project, environ, "patch", "--push", "--offline") == 0
    assert git(remote, environ, "tag", "--list").split() == ["v1.2.5", "v1.2.6"]


def test_a_bump_made_without_push_is_not_taken_for_a_failed_push(
    tmp_path: Path, project: Path, environ: dict[str, str]
) -> None:
    init_repo(project, environ)
    remote = tmp_path / "remote.git"
    git(tmp_path, environ, "init", "-q", "--bare", str(remote))
    git(project, environ, "remote", "add", "origin", str(remote))
    assert run_bump(project, environ, "patch", "--git") == 0  # v1.2.5, deliberately not pushed
    assert run_bump(project, environ, "patch", "--push") == 0
    assert git(remote, environ, "tag", "--list").split() == ["v1.2.6"]


def test_signed_tag(tmp_path: Path, project: Path, environ: dict[str, str]) -> None:
    key = tmp_path / "signing_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    init_repo(project, environ)
    git(project, environ, "config", "gpg.format", "ssh")
    git(project, environ, "config", "user.signingkey", f"{key}.pub")
    environ["RELEASE_SIGN_TAGS"] = "true"
    assert run_bump(project, environ, "patch", "--git") == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(project, environ, "cat-file", "tag", "v1.2.5")


# --------------------------------------------------------------------------- dynamic (VCS)

DYNAMIC = {
    "setuptools-scm": (
        'requires = ["setuptools>=64", "setuptools-scm>=8"]',
        "[tool.setuptools_scm]\n",
    ),
    "hatch-vcs": (
        'requires = ["hatchling", "hatch-vcs"]',
        '[tool.hatch.version]\nsource = "vcs"\n',
    ),
    "versioningit": ('requires = ["setuptools", "versioningit"]', "[tool.versioningit]\n"),
}


@pytest.mark.parametrize("backend", sorted(DYNAMIC))
def test_dynamic_vcs_version_is_a_tag(
    tmp_path: Path, environ: dict[str, str], backend: str, indexes: tuple[LocalIndex, LocalIndex]
) -> None:
    requires, table = DYNAMIC[backend]
    text = textwrap.dedent(
        f"""\
        [build-system]
        {requires}

        [project]
        name = "demo-pkg"
        dynamic = ["version"]

        {table}"""
    )
    root = write_project(tmp_path / backend, text, init="")
    init_repo(root, environ)
    git(root, environ, "tag", "-a", "-m", "old", "v1.4.0")
    git(root, environ, "tag", "-a", "-m", "older", "v1.3.9")
    git(root, environ, "tag", "not-a-version")
    publish(indexes[1], "demo_pkg-1.4.0-py3-none-any.whl")
    before = snapshot(root)
    head = git(root, environ, "rev-parse", "HEAD")

    assert run_bump(root, environ, "minor") == 0  # git implied
    assert snapshot(root) == before
    assert git(root, environ, "rev-parse", "HEAD") == head
    assert git(root, environ, "rev-parse", "v1.5.0^{commit}") == head
    assert git(root, environ, "cat-file", "-t", "v1.5.0").strip() == "tag"

    publish(indexes[0], "demo_pkg-1.5.1.tar.gz")
    with pytest.raises(GuardRefusal, match=r"1\.5\.1 is already published on the test"):
        run_bump(root, environ, "patch")


# --------------------------------------------------------------------------- the command line


@pytest.mark.slow  # a subprocess per exit code
def test_exit_codes_through_the_cli(project: Path, environ: dict[str, str]) -> None:
    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "release", "--root", str(project), "bump", *argv],
            env={**environ, "PYTHONPATH": str(Path(__file__).parents[1])},
            capture_output=True,
            text=True,
            check=False,
        )

    before = snapshot(project)
    bad = cli("nonsense")
    assert bad.returncode == ExitCode.USAGE, bad.stderr
    assert "Fix:" in bad.stderr
    assert snapshot(project) == before
    ok = cli("patch", "--dry-run", "--json")
    assert ok.returncode == 0, ok.stderr
    assert '"new": "1.2.5"' in ok.stdout
    assert snapshot(project) == before
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    assert cli("patch").returncode == 0
    assert hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest() != digest

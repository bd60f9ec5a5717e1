"""Real projects, first try (issue 19 §4): init reads the backend's real configuration, and a
compiled project rehearses green on one machine.

The samples are the shapes the real projects had (bench/real_projects.py holds those): an
unpacked sdist (PKG-INFO at the root, no git), a setuptools project whose version is `attr:`
although setuptools-scm is a build requirement, a pbr project, a C extension.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from release import gitstate
from release.cli import main
from release.commands import build as build_command
from release.commands.rehearse import rehearse
from release.config import load_settings
from release.errors import DistError, IndexRulesRefusal
from release.output import Reporter
from tests.pipeline import make_ctx, text
from tests.sample_projects import (
    write_c_extension_project,
    write_project,
    write_sdist,
    write_wheel,
)

SCM_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "unpacked"
dynamic = ["version"]

[tool.setuptools_scm]
"""


def _init(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["init", str(root), "--json", *extra]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return dict(document["result"])


def test_an_unpacked_sdist_is_tagged_at_its_own_version_after_its_leftovers_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "unpacked-8.0.0"
    (root / "unpacked.egg-info").mkdir(parents=True)
    (root / "pyproject.toml").write_text(SCM_PYPROJECT, encoding="utf-8")
    (root / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: unpacked\nVersion: 8.0.0\n", encoding="utf-8"
    )
    result = _init(root, capsys, "--no-build-check")
    assert result["next_steps"] == [
        "rm -r PKG-INFO unpacked.egg-info",
        "git init",
        "git add -A",
        'git commit -m "Adopt nox-release"',
        'git tag -a v8.0.0 -m "Release v8.0.0"',  # the project's version, not v0.1.0
        "nox -s rehearse",
    ]
    assert main(["init", str(root), "--no-build-check"]) == 0
    out = capsys.readouterr().out
    assert "PKG-INFO, unpacked.egg-info at the root of the project" in out


def test_a_setuptools_attr_version_needs_no_tag_although_setuptools_scm_is_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "attr"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools", "setuptools_scm"]\n'
        'build-backend = "setuptools.build_meta"\n',
        encoding="utf-8",
    )
    (root / "setup.cfg").write_text(
        "[metadata]\nname = attr-demo\nversion = attr: attr_demo.__version__\n", encoding="utf-8"
    )
    result = _init(root, capsys, "--no-build-check")
    assert result["next_steps"] == ["nox -s rehearse"]
    assert main(["init", str(root), "--no-build-check", "--force"]) == 0
    assert "comes from git tags" not in capsys.readouterr().out


def test_a_pbr_project_gets_its_tag_step_with_a_bare_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "pbrdemo"
    root.mkdir()
    (root / "setup.py").write_text(
        "import setuptools\nsetuptools.setup(setup_requires=['pbr>=2.0.0'], pbr=True)\n",
        encoding="utf-8",
    )
    (root / "setup.cfg").write_text("[metadata]\nname = pbrdemo\n", encoding="utf-8")
    (root / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: pbrdemo\nVersion: 5.1.0\n")
    result = _init(root, capsys, "--no-build-check")
    assert result["next_steps"][-2:] == ['git tag -a 5.1.0 -m "Release 5.1.0"', "nox -s rehearse"]
    assert "git init" in result["next_steps"]
    assert main(["init", str(root), "--no-build-check"]) == 0
    out = capsys.readouterr().out
    assert "(pbr)" in out
    assert 'pbr reads tags without a "v"' in out


# ---------------------------------------------------------------- compiled projects

BROKEN_C = "#include <Python.h>\nthis is not C, so compiling it fails\n"


def _need(tool: str) -> None:
    if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
        pytest.skip(f"{tool} is not installed (pip install -r tests/requirements.txt; gcc)")


@pytest.mark.slow
def test_the_layout_check_of_a_compiled_project_builds_its_sdist_and_compiles_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_c_extension_project(tmp_path / "cbroken", "cbroken")
    (root / "src" / "cbroken" / "_speed.c").write_text(BROKEN_C, encoding="utf-8")
    result = _init(root, capsys)
    assert result["workflow"] == "compiled"
    assert result["layout"]["checked"], result["layout"]  # a compile would have failed
    assert result["advice"] == []
    assert result["layout"]["own_packages"] == ["cbroken"]  # from the sdist's top_level.txt
    assert result["next_steps"][-3:] == [
        "python -m build --wheel --outdir dist/raw",
        "auditwheel repair dist/raw/*.whl -w dist/wheelhouse",
        "nox -s rehearse -- --wheels dist/wheelhouse",
    ]


def _repaired_wheel(root: Path, tmp_path: Path) -> Path:
    raw, wheelhouse = tmp_path / "raw", tmp_path / "wheelhouse"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(raw), str(root)],
        check=True, capture_output=True,
    )  # fmt: skip
    bin_dir = Path(sys.executable).parent
    (built,) = raw.glob("*.whl")
    subprocess.run(
        [str(bin_dir / "auditwheel"), "repair", "-w", str(wheelhouse), str(built)],
        check=True, capture_output=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
    )  # fmt: skip
    return wheelhouse


@pytest.mark.slow
def test_a_compiled_project_rehearses_green_with_the_repaired_wheel(tmp_path: Path) -> None:
    for tool in ("gcc", "auditwheel", "patchelf"):
        _need(tool)
    root = write_c_extension_project(
        tmp_path / "crehearse",
        "crehearse",
        extra_release=textwrap.dedent(
            """\
            verify-sdist = false
            smoke-command = "python -c 'import crehearse; assert crehearse.add(2, 3) == 5'"
            """
        ),
    )
    environ = {"PATH": "/usr/bin:/bin:" + str(Path(sys.executable).parent)}
    settings = load_settings(root, environ)
    with (tmp_path / "a.log").open("w") as log, pytest.raises(IndexRulesRefusal) as refused:
        rehearse(settings, environ, Reporter(stream=log))  # the control: this machine's wheel
    assert "linux_x86_64" in refused.value.message
    wheelhouse = _repaired_wheel(root, tmp_path)
    with (tmp_path / "b.log").open("w") as log:
        result = rehearse(settings, environ, Reporter(stream=log), [wheelhouse])
    names = sorted(f.filename for f in result.manifest.files)
    assert names[1] == "crehearse-1.0.0.tar.gz"
    assert "manylinux" in names[0]
    assert sorted(result.prod_files) == names
    assert result.rerun_nothing_to_do
    assert result.changed_bytes_refused


def test_build_names_a_pkg_info_left_at_the_root(tmp_path: Path) -> None:
    root = write_project(tmp_path / "stale")
    (root / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.9\n")
    ctx = make_ctx(root, {"PATH": "/usr/bin:/bin"})
    build_command.build(ctx)
    out = " ".join(text(ctx).split())
    assert "PKG-INFO at the root of the project: files of an unpacked sdist" in out
    assert "Delete PKG-INFO" in out


@pytest.mark.slow
def test_a_meson_python_project_outside_git_is_checked_as_its_checkout_would_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """meson-python's sdist is `meson dist`: what git holds. An unpacked one is no repository."""
    root = tmp_path / "mesondemo"
    (root / "mesondemo").mkdir(parents=True)
    (root / "mesondemo" / "__init__.py").write_text('__version__ = "1.0.0"\n', encoding="utf-8")
    (root / "meson.build").write_text(
        "project('mesondemo', version: '1.0.0')\n"
        "py = import('python').find_installation()\n"
        "py.install_sources('mesondemo/__init__.py', subdir: 'mesondemo')\n",
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n\n'
        '[project]\nname = "mesondemo"\nversion = "1.0.0"\n',
        encoding="utf-8",
    )
    result = _init(root, capsys)
    assert result["layout"]["checked"], result["layout"]
    assert "release/" in result["layout"]["sdist_ships"]
    assert result["layout"]["sdist_exclude"].startswith(".gitattributes (then commit it):  ")
    assert "release export-ignore" in result["layout"]["sdist_exclude"]
    assert result["next_steps"][:3] == [
        "git init",
        "git add -A",
        'git commit -m "Adopt nox-release"',
    ]


@pytest.mark.parametrize(
    ("environ", "tag"),
    [({}, "{version}"), ({"RELEASE_TAG_FORMAT": "v{version}"}, "v{version}")],
)
def test_bump_and_the_dev_version_advice_tag_a_pbr_project_as_pbr_reads_tags(
    tmp_path: Path, environ: dict[str, str], tag: str
) -> None:
    (tmp_path / "setup.py").write_text("import setuptools\nsetuptools.setup(pbr=True)\n")
    assert gitstate.tag_format(load_settings(tmp_path, environ)) == tag
    (tmp_path / "setup.py").write_text("import setuptools\nsetuptools.setup()\n")
    assert gitstate.tag_format(load_settings(tmp_path, environ)) == "v{version}"


@pytest.mark.parametrize(
    ("at_root", "says"),
    [
        (["PKG-INFO"], "PKG-INFO at the root of the project: files of an unpacked sdist"),
        (["build", "demo.egg-info"], "Remove build/, demo.egg-info/ (left by an earlier build)"),
        ([], "check where the backend takes the version from"),
    ],
)
def test_built_files_that_disagree_name_what_is_at_the_root_and_nothing_else(
    tmp_path: Path, at_root: list[str], says: str
) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    root.mkdir()
    for name in at_root:
        if name == "PKG-INFO":
            (root / name).write_text("Metadata-Version: 2.1\nName: demo\nVersion: 0.9\n")
        else:
            (root / name).mkdir()
    write_sdist(out, "demo", "1.0")
    write_wheel(out, "demo", "1.0.post1")  # the wheel built from it says otherwise
    with pytest.raises(DistError) as refused:
        build_command._built_info(out, None, root)
    assert "metadata disagree" in refused.value.message
    assert says in refused.value.message + refused.value.fix
    assert "build/" not in refused.value.fix or "build" in at_root  # never what is not there


@pytest.mark.slow
def test_the_rehearsal_with_wheels_says_what_it_built_and_gathered_and_no_more(
    tmp_path: Path,
) -> None:
    """rehearse --wheels DIR builds the sdist here, records DIR's wheels and gathers them
    itself: no advice to gather a partial manifest, no runner lines, no temporary folders, no
    matrix of one machine offered as the one to expect."""
    from release.commands import rehearse as rehearse_command

    root = write_project(tmp_path / "p")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    write_wheel(wheelhouse, "demo-pkg", "1.0.0")
    ctx = make_ctx(root, {"PATH": "/usr/bin:/bin"})
    manifest = rehearse_command._build(ctx, tmp_path / "work", [wheelhouse])
    assert sorted(f.filename for f in manifest.files) == [
        "demo_pkg-1.0.0-py3-none-any.whl",
        "demo_pkg-1.0.0.tar.gz",
    ]
    shown = text(ctx)
    for noise in ("partial manifest", "gather it", "runner:", str(tmp_path / "work"), "matrix"):
        assert noise not in shown, noise
    assert "expected-wheels" not in shown
    for filename in ("demo_pkg-1.0.0.tar.gz", "demo_pkg-1.0.0-py3-none-any.whl"):
        assert f"{filename}: sha256" in shown
    assert "== gather: 2 folder(s)" in shown

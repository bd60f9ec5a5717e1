"""A release built on many runners: build --sdist / --wheel / --from, gather, upload order.

"Other runners" are real wheels of the sample project retagged with ``wheel tags`` for other
platforms and Pythons, each recorded in its own folder with its partial manifest by
``build --wheel --from`` under that runner's CI variables, as the template's jobs do.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from release.commands import build as build_command
from release.commands import upload as upload_command
from release.distdir import hash_file, load_manifest, write_manifest
from release.errors import DistError, ExitCode, UploadRejected, VerificationFailed
from release.manifest import MANIFEST_NAME
from release.project import BuildKind
from tests.conftest import IndexPair, ProjectFactory
from tests.faultproxy import FaultProxy, Rule
from tests.pipeline import environ_for, github, make_ctx, text

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]

# (folder, python tag, abi tag, platform tag, the runner's image)
OTHER_RUNNERS = [
    ("win-cp313", "cp313", "cp313", "win_amd64", "win25"),
    ("mac-cp313", "cp313", "cp313", "macosx_11_0_arm64", "macos15"),
    ("linux-cp312", "cp312", "cp312", "manylinux_2_17_x86_64.manylinux2014_x86_64", "ubuntu24"),
    ("linux-cp313", "cp313", "cp313", "manylinux_2_17_x86_64.manylinux2014_x86_64", "ubuntu24"),
]
EXPECTED = (
    'expected-wheels = ["cp3{12,13}-*-manylinux_*_x86_64", "cp313-*-win_amd64", '
    '"cp313-*-macosx_*_arm64"]\n'
)


def cli(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in (env or os.environ).items() if not k.startswith("RELEASE_")}
    environ |= {k: v for k, v in (env or {}).items() if k.startswith("RELEASE_")}
    environ["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=root,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # human lines go to stdout, errors to stderr: read both
        text=True,
        check=False,
    )


def build_runners(root: Path, environ: dict[str, str]) -> list[Path]:
    """The sdist job, a pure-wheel job, and four "other runners" from retagged wheels."""
    out = root / "artifacts"
    folders = []
    kinds: tuple[BuildKind, ...] = ("sdist", "wheel")
    for kind in kinds:
        folder = out / kind
        ctx = make_ctx(root, environ | github("ubuntu24", f"build_{kind}"))
        ctx.settings = ctx.settings.with_values(dist_dir=str(folder.relative_to(root)))
        build_command.build(ctx, kind)
        folders.append(folder)
    pure = next((out / "wheel").glob("*.whl"))
    for name, py, abi, plat, image in OTHER_RUNNERS:
        wheelhouse = root / "wheelhouse" / name
        wheelhouse.mkdir(parents=True)
        subprocess.run(
            [sys.executable, "-m", "wheel", "tags", "--python-tag", py, "--abi-tag", abi,
             "--platform-tag", plat, str(pure)],
            cwd=wheelhouse, check=True, capture_output=True,
        )  # fmt: skip
        for made in pure.parent.glob(f"*-{py}-{abi}-*.whl"):
            shutil.move(str(made), wheelhouse / made.name)
        ctx = make_ctx(root, environ | github(image))
        ctx.settings = ctx.settings.with_values(dist_dir=f"artifacts/{name}")
        build_command.build(ctx, "wheel", wheelhouse)
        folders.append(out / name)
    return folders


Matrix = tuple[Path, list[Path], dict[str, str]]


@pytest.fixture
def matrix(make_project: ProjectFactory, index_pair: IndexPair) -> Matrix:
    test, prod = index_pair
    root = make_project(name="demo-pkg", extra_release=EXPECTED)
    environ = environ_for(test, prod)
    return root, build_runners(root, environ), environ


def rel(root: Path, folders: list[Path]) -> list[str]:
    return [str(f.relative_to(root)) for f in folders]


def test_build_kinds_write_partial_manifests_naming_the_runner(matrix: Matrix) -> None:
    root, folders, _ = matrix
    sdist = load_manifest(folders[0])
    assert sdist.partial
    assert [f.kind for f in sdist.files] == ["sdist"]
    (runner,) = sdist.runners.values()
    assert runner.ci_job == "github release/build_sdist run 42.1 on ubuntu24-X64"
    assert runner.python.startswith("cpython-3.")
    assert sdist.files[0].runner == runner.id
    win = load_manifest(root / "artifacts" / "win-cp313")
    assert [f.filename for f in win.files] == ["demo_pkg-1.0.0-cp313-cp313-win_amd64.whl"]
    assert "on win25-X64" in win.files[0].runner
    # the old reader's keys are all there: a partial manifest is still format 1
    data = json.loads((folders[0] / MANIFEST_NAME).read_text())
    assert data["format"] == 1
    assert data["partial"] is True


def test_upload_refuses_a_partial_manifest(matrix: Matrix) -> None:
    root, _folders, environ = matrix
    ctx = make_ctx(root, environ)
    ctx.settings = ctx.settings.with_values(dist_dir="artifacts/wheel")
    with pytest.raises(DistError, match="partial manifest"):
        upload_command.upload(ctx, "test")


def test_from_needs_wheel_and_a_folder_of_wheels(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    root = make_project()
    proc = cli(root, "build", "--from", str(tmp_path))
    assert proc.returncode == ExitCode.USAGE, proc.stdout
    assert "needs --wheel" in proc.stdout
    proc = cli(root, "build", "--wheel", "--from", str(tmp_path))
    assert proc.returncode == ExitCode.USAGE
    assert "holds no wheel" in proc.stdout


def test_gather_then_release_through_two_local_indexes_wheels_first(
    matrix: Matrix, index_pair: IndexPair
) -> None:
    root, folders, environ = matrix
    proc = cli(root, "gather", *rel(root, folders), env=environ)
    assert proc.returncode == 0, proc.stdout
    manifest = load_manifest(root / "dist")
    assert not manifest.partial
    assert len(manifest.files) == 6
    assert len(manifest.runners) == 5  # both linux folders come from one job on one image
    assert "complete: every one of 3 expected-wheels pattern(s)" in proc.stdout
    test, prod = index_pair
    with FaultProxy(test.base_url) as proxy:
        env = environ | {
            "RELEASE_TEST_UPLOAD_URL": proxy.upload_url,
            "RELEASE_TEST_INDEX_URL": proxy.index_url,
        }
        ctx = make_ctx(root, env, require_verified=False)
        upload_command.upload(ctx, "test")
        order = proxy.uploads()
    sdist = next(f.filename for f in manifest.files if f.kind == "sdist")
    assert sorted(order) == sorted(f.filename for f in manifest.files)
    assert order[-1] == sdist, order  # the sdist goes up last, after every wheel
    ctx = make_ctx(root, environ, require_verified=False)
    upload_command.upload(ctx, "prod")
    assert prod.files() == test.files() == sorted(f.filename for f in manifest.files)
    assert "complete: the index holds every one of the 6 file(s)" in text(ctx)


def test_the_audit_fails_upload_prod_when_an_expected_wheel_never_went_up(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    """A one-machine build (no gather) of a project that expects a Windows wheel: everything
    built goes up, and upload_prod then says the release is incomplete (exit 6)."""
    test, prod = index_pair
    root = make_project(extra_release='expected-wheels = ["*-none-any", "cp313-*-win_amd64"]\n')
    environ = environ_for(test, prod, RELEASE_REQUIRE_VERIFIED="0")
    build_command.build(make_ctx(root, environ))
    upload_command.upload(make_ctx(root, environ), "test")  # the audit is upload_prod's
    ctx = make_ctx(root, environ)
    with pytest.raises(VerificationFailed) as failed:
        upload_command.upload(ctx, "prod")
    assert failed.value.exit_code == ExitCode.VERIFY_FAILED
    assert "no wheel matches expected cp313-*-win_amd64" in failed.value.message
    assert len(prod.files()) == 2  # what was built is up; the audit reports the rest
    # a re-run changes nothing and still fails: the wheel has to be built
    with pytest.raises(VerificationFailed):
        upload_command.upload(make_ctx(root, environ), "prod")


def test_gather_again_gives_the_same_bytes_and_keeps_verification(matrix: Matrix) -> None:
    root, folders, environ = matrix
    assert cli(root, "gather", *rel(root, folders), env=environ).returncode == 0
    first = {p.name: hash_file(p) for p in (root / "dist").iterdir() if p.is_file()}
    manifest = load_manifest(root / "dist")
    write_manifest(root / "dist", manifest.with_verified(manifest.files, "http://x/simple/"))
    (root / "dist" / "stray-1.0.tar.gz").write_bytes(b"not ours")
    proc = cli(root, "gather", *rel(root, folders), env=environ)
    assert proc.returncode == 0, proc.stdout
    again = {p.name: hash_file(p) for p in (root / "dist").iterdir() if p.is_file()}
    assert {k: v for k, v in again.items() if k != MANIFEST_NAME} == {
        k: v for k, v in first.items() if k != MANIFEST_NAME
    }
    assert load_manifest(root / "dist").unverified() == []
    assert "moved 1 earlier file(s)" in proc.stdout


def _gather_fails(root: Path, args: list[str], environ: dict[str, str], *expected: str) -> str:
    before = sorted(p.name for p in (root / "dist").iterdir()) if (root / "dist").is_dir() else []
    proc = cli(root, "gather", *args, env=environ)
    assert proc.returncode == ExitCode.USAGE, proc.stdout
    assert "Fix:" in proc.stdout
    assert "Traceback" not in proc.stdout
    for e in expected:
        assert e in proc.stdout, proc.stdout
    after = sorted(p.name for p in (root / "dist").iterdir()) if (root / "dist").is_dir() else []
    assert after == before  # nothing in dist/ changed
    return proc.stdout


def test_a_matrix_with_one_runner_missing_is_refused_listing_it(matrix: Matrix) -> None:
    root, folders, environ = matrix
    without_windows = [f for f in folders if f.name != "win-cp313"]
    err = _gather_fails(
        root,
        rel(root, without_windows),
        environ,
        "no wheel matches 1 expected",
        "cp313-*-win_amd64",
    )
    assert "| cp313 |" in err  # the matrix found
    proc = cli(
        root, "gather", *rel(root, without_windows), "--allow-missing", "*-win_amd64", env=environ
    )
    assert proc.returncode == 0, proc.stdout
    assert "allowed by --allow-missing" in proc.stdout


def test_without_expected_wheels_gather_prints_the_matrix_to_paste(matrix: Matrix) -> None:
    root, folders, environ = matrix
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(EXPECTED, ""))
    proc = cli(root, "gather", *rel(root, folders), env=environ)
    assert proc.returncode == 0, proc.stdout
    assert "expected-wheels = [" in proc.stdout
    assert '"cp3{12,13}-*-manylinux_*_x86_64",' in proc.stdout
    assert (
        "| python | `any` | `macosx_*_arm64` | `manylinux_*_x86_64` | `win_amd64` |" in proc.stdout
    )


REFUSALS: dict[str, Callable[[Path, list[Path]], tuple[list[Path], str]]] = {}


def refusal(fn: Callable[[Path, list[Path]], tuple[list[Path], str]]) -> None:
    REFUSALS[fn.__name__] = fn


@refusal
def bytes_changed_after_the_build(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    wheel = next((root / "artifacts" / "win-cp313").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    return folders, "its bytes differ from its partial manifest"


@refusal
def one_name_two_contents(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    """Two macOS images build one filename with other bytes: name both runners."""
    twin = root / "artifacts" / "mac-again"
    shutil.copytree(root / "artifacts" / "mac-cp313", twin)
    manifest = load_manifest(twin)
    wheel = twin / manifest.files[0].filename
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    sha, size = hash_file(wheel)
    entry = manifest.files[0]
    runner = entry.runner.replace("macos15", "macos14")
    manifest = type(manifest)(
        manifest.name,
        manifest.version,
        (type(entry)(entry.filename, sha, size, "wheel", runner),),
        partial=True,
    )
    write_manifest(twin, manifest)
    return [*folders, twin], "on macos14-X64"


@refusal
def two_sdists(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    other = root / "artifacts" / "sdist-zip"
    shutil.copytree(root / "artifacts" / "sdist", other)
    manifest = load_manifest(other)
    old = other / manifest.files[0].filename
    new = other / old.name.replace(".tar.gz", ".zip")
    old.rename(new)
    sha, size = hash_file(new)
    entry = type(manifest.files[0])(new.name, sha, size, "sdist", manifest.files[0].runner)
    write_manifest(other, type(manifest)(manifest.name, manifest.version, (entry,), partial=True))
    return [*folders, other], "more than one sdist"


@refusal
def a_wheel_pypi_refuses(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    """A plain linux_x86_64 wheel (not repaired by auditwheel), in a folder written by hand."""
    folder = root / "artifacts" / "linux-unrepaired"
    shutil.copytree(root / "artifacts" / "linux-cp313", folder)
    manifest = load_manifest(folder)
    entry = manifest.files[0]
    old = folder / entry.filename
    new = old.with_name(entry.filename.rsplit("-", 1)[0] + "-linux_x86_64.whl")
    old.rename(new)
    moved = type(entry)(new.name, entry.sha256, entry.size, "wheel", entry.runner)
    write_manifest(folder, type(manifest)(manifest.name, manifest.version, (moved,), partial=True))
    return [*folders, folder], "'linux_x86_64' is not one PyPI accepts"


@refusal
def another_version(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    """A runner that built another commit: its wheel is of version 1.0.1."""
    folder = root / "artifacts" / "win-cp313"
    manifest = load_manifest(folder)
    entry = manifest.files[0]
    new = (folder / entry.filename).rename(folder / entry.filename.replace("1.0.0", "1.0.1"))
    moved = type(entry)(new.name, entry.sha256, entry.size, "wheel", entry.runner)
    write_manifest(folder, type(manifest)(manifest.name, "1.0.1", (moved,), partial=True))
    return folders, "different versions"


@refusal
def a_folder_without_manifest(root: Path, folders: list[Path]) -> tuple[list[Path], str]:
    (root / "artifacts" / "mac-cp313" / MANIFEST_NAME).unlink()
    return folders, "No release-manifest.json"


@pytest.mark.parametrize("name", list(REFUSALS))
def test_gather_refusals(matrix: Matrix, name: str) -> None:
    root, folders, environ = matrix
    args, expected = REFUSALS[name](root, folders)
    _gather_fails(root, rel(root, args), environ, expected)


def test_a_rerun_after_a_kill_between_the_wheels_and_the_sdist_finishes(
    matrix: Matrix, index_pair: IndexPair
) -> None:
    root, folders, environ = matrix
    assert cli(root, "gather", *rel(root, folders), env=environ).returncode == 0
    manifest = load_manifest(root / "dist")
    wheels = sorted(f.filename for f in manifest.files if f.kind == "wheel")
    test, _prod = index_pair
    with FaultProxy(test.base_url) as proxy:
        # the sdist's POST (the one after every wheel) hangs until the job is killed
        proxy.add(Rule("forward", method="POST", skip=len(wheels), delay=30, times=1))
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
        env |= environ | {
            "RELEASE_TEST_UPLOAD_URL": proxy.upload_url,
            "RELEASE_TEST_INDEX_URL": proxy.index_url,
            "PYTHONPATH": str(REPO),
        }
        job = subprocess.Popen(
            [sys.executable, "-m", "release", "upload", "--index", "test"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while proxy.count("POST") <= len(wheels) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            job.send_signal(signal.SIGKILL)
            job.wait()
        assert test.files() == wheels  # a half-release: every wheel, no sdist
        # the re-run (in CI: "re-run failed jobs", with the same dist/ artifact) finishes it
        proxy.clear()
        sent = proxy.count("POST")
        ctx = make_ctx(root, env)
        upload_command.upload(ctx, "test")
        assert proxy.count("POST") - sent == 1  # only the sdist
    assert test.files() == sorted(f.filename for f in manifest.files)


def test_a_failed_upload_then_gather_again_finishes_with_the_same_bytes(
    matrix: Matrix, index_pair: IndexPair
) -> None:
    """The index fails mid-matrix; CI re-runs from gather (the same artifacts): dist/ is the
    same bytes, and the upload sends only what is missing."""
    root, folders, environ = matrix
    assert cli(root, "gather", *rel(root, folders), env=environ).returncode == 0
    manifest = load_manifest(root / "dist")
    test, _prod = index_pair
    with FaultProxy(test.base_url) as proxy:
        proxy.add(Rule("status", method="POST", status=503, skip=3, times=None))
        env = environ | {
            "RELEASE_TEST_UPLOAD_URL": proxy.upload_url,
            "RELEASE_TEST_INDEX_URL": proxy.index_url,
        }
        with pytest.raises(UploadRejected):
            upload_command.upload(make_ctx(root, env), "test")
        landed = test.files()
        assert 0 < len(landed) < len(manifest.files)
        assert manifest.files[0].filename not in landed  # the sdist waits for every wheel
        proxy.clear()
        assert cli(root, "gather", *rel(root, folders), env=environ).returncode == 0
        assert load_manifest(root / "dist").files == manifest.files  # the same bytes
        before = len(proxy.uploads())
        upload_command.upload(make_ctx(root, env), "test")
        resent = proxy.uploads()[before:]
    assert sorted(resent) == sorted(set(f.filename for f in manifest.files) - set(landed))
    assert resent[-1] == manifest.files[0].filename
    assert test.files() == sorted(f.filename for f in manifest.files)

"""End to end: a sample project released to two real local pypiservers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from release.commands import build as build_command
from release.commands import release as release_command
from release.commands import upload as upload_command
from release.config import load_settings
from release.distdir import dist_candidates, hash_file, load_manifest
from release.errors import (
    ConfigError,
    CredentialError,
    DistError,
    ExitCode,
    GuardRefusal,
    IndexUnavailable,
    UploadRejected,
    VerificationFailed,
)
from tests.conftest import IndexPair, ProjectFactory
from tests.pipeline import environ_for, make_ctx, text

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def test_release_end_to_end(make_project: ProjectFactory, index_pair: IndexPair) -> None:
    test, prod = index_pair
    root = make_project(extra_release="smoke-command = \"python -c 'import demo_pkg'\"\n")
    ctx = make_ctx(root, environ_for(test, prod))
    release_command.release(ctx)
    manifest = load_manifest(root / "dist")
    built = sorted(f.filename for f in manifest.files)
    assert built == ["demo_pkg-1.0.0-py3-none-any.whl", "demo_pkg-1.0.0.tar.gz"]
    # Both indexes hold exactly the built files, byte for byte.
    for index in (test, prod):
        assert index.files() == built
        for f in manifest.files:
            stored = next(index.root.rglob(f.filename))
            assert hash_file(stored)[0] == f.sha256
    assert manifest.unverified() == []
    out = text(ctx)
    assert "smoke command passed" in out
    assert "listed with our sha256" in out


def test_second_release_of_same_build_is_nothing_to_do(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    release_command.release(make_ctx(root, environ_for(test, prod)))
    posts = (test.uploads, prod.uploads)
    ctx = make_ctx(root, environ_for(test, prod))
    release_command.release(ctx)  # resumes with dist/ as built: every file already there
    assert (test.uploads, prod.uploads) == posts
    assert "nothing to do" in text(ctx)
    assert "resuming with dist/ as built earlier" in text(ctx)


def test_rebuild_of_released_version_is_refused_with_next_version(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    release_command.release(make_ctx(root, environ_for(test, prod)))
    # A new build of the same version has other bytes (the wheel differs by a zip comment).
    manifest = load_manifest(root / "dist")
    wheel = root / "dist" / next(f.filename for f in manifest.files if f.kind == "wheel")
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.comment = b"another build"
    before = (prod.files(), prod.uploads)
    ctx = make_ctx(root, environ_for(test, prod))
    with pytest.raises(DistError, match="changed since build"):
        upload_command.upload(ctx, "prod")
    build_command.build(ctx)  # a real rebuild: same version, new bytes
    with pytest.raises(GuardRefusal) as refused:
        upload_command.upload(ctx, "test")
    assert refused.value.exit_code == ExitCode.REFUSED
    assert "other bytes" in refused.value.message
    assert "1.0.1" in refused.value.fix
    assert (prod.files(), prod.uploads) == before


def test_interrupted_upload_resumes_with_only_the_missing_file(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    environ = environ_for(test, prod)
    ctx = make_ctx(root, environ)
    manifest = build_command.build(ctx)
    sdist = next(f for f in manifest.files if f.kind == "sdist")
    # The earlier run died after its first file: the index has the sdist only.
    shutil.copy(root / "dist" / sdist.filename, test.root / sdist.filename)
    ctx = make_ctx(root, environ)
    plan = upload_command.upload(ctx, "test")
    assert plan.to_upload == tuple(f.filename for f in manifest.files if f.kind == "wheel")
    assert test.uploads == 1
    assert sorted(test.files()) == sorted(f.filename for f in manifest.files)
    assert "resume" in text(ctx)


def test_foreign_file_of_same_version_refused_and_index_unchanged(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod))
    manifest = build_command.build(ctx)
    sdist = next(f for f in manifest.files if f.kind == "sdist")
    (test.root / sdist.filename).write_bytes(b"not our sdist")
    with pytest.raises(GuardRefusal) as refused:
        upload_command.upload(ctx, "test")
    assert sdist.filename in refused.value.message
    assert test.uploads == 0
    assert test.files() == [sdist.filename]
    assert (test.root / sdist.filename).read_bytes() == b"not our sdist"


def test_dry_run_changes_nothing(make_project: ProjectFactory, index_pair: IndexPair) -> None:
    test, prod = index_pair
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod), dry_run=True)
    release_command.release(ctx)
    assert not (root / "dist").exists()
    assert (test.uploads, prod.uploads) == (0, 0)
    build_command.build(make_ctx(root, environ_for(test, prod)))
    ctx = make_ctx(root, environ_for(test, prod), dry_run=True)
    plan = upload_command.upload(ctx, "test")
    assert plan.to_upload
    assert test.uploads == 0
    assert "dry run: would upload 2 file(s)" in text(ctx)


def test_plan_json_for_ci(make_project: ProjectFactory, index_pair: IndexPair) -> None:
    test, prod = index_pair
    root = make_project()
    build_command.build(make_ctx(root, environ_for(test, prod)))
    proc = subprocess.run(
        [sys.executable, "-m", "release", "plan", "--json"],
        cwd=root,
        env={**environ_for(test, prod), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["result"]
    assert doc["plans"]["test"]["verdict"] == "upload"
    assert {f["fate"] for f in doc["plans"]["prod"]["files"]} == {"upload"}


def test_stray_file_in_dist_stops_upload(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod))
    build_command.build(ctx)
    (root / "dist" / "demo_pkg-0.9.0-py3-none-any.whl").write_bytes(b"old")
    with pytest.raises(DistError, match="not in the manifest"):
        upload_command.upload(ctx, "test")
    assert test.uploads == 0


def test_build_moves_stale_files_aside(make_project: ProjectFactory, index_pair: IndexPair) -> None:
    test, prod = index_pair
    root = make_project()
    (root / "dist").mkdir()
    (root / "dist" / "demo_pkg-0.9.0.tar.gz").write_bytes(b"old")
    manifest = build_command.build(make_ctx(root, environ_for(test, prod)))
    assert {p.name for p in dist_candidates(root / "dist")} == {f.filename for f in manifest.files}
    assert list((root / "dist" / ".previous").rglob("demo_pkg-0.9.0.tar.gz"))


def test_missing_manifest_and_missing_pyproject(
    tmp_path: Path, make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    with pytest.raises(ConfigError, match=r"No pyproject\.toml"):
        load_settings(tmp_path, {})
    root = make_project()
    with pytest.raises(DistError, match="nox -s build"):
        upload_command.upload(make_ctx(root, environ_for(test, prod)), "test")


def test_unreachable_index_uploads_nothing(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    environ = environ_for(test, prod, RELEASE_TEST_INDEX_URL="http://127.0.0.1:9/simple/")
    ctx = make_ctx(root, environ)
    build_command.build(ctx)
    with pytest.raises(IndexUnavailable, match="nothing was uploaded"):
        upload_command.upload(ctx, "test")
    assert test.uploads == 0


def test_upload_url_that_is_an_index_url_is_refused(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    with pytest.raises(ConfigError, match="simple index"):
        load_settings(root, environ_for(test, prod, RELEASE_TEST_UPLOAD_URL=test.index_url))


def test_wrong_password_is_explained_and_secret_never_shown(
    make_project: ProjectFactory, index_pair: IndexPair, capfd: pytest.CaptureFixture[str]
) -> None:
    test, prod = index_pair
    secret = "wrong-password-1234567890"
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod, RELEASE_TEST_PASSWORD=secret))
    build_command.build(ctx)
    # A malformed token is caught offline, before a byte is sent.
    bad_token = "pypi-" + "A" * 40
    early = make_ctx(root, environ_for(test, prod, RELEASE_TEST_PASSWORD=bad_token))
    with pytest.raises(CredentialError) as caught:
        upload_command.upload(early, "test")
    assert test.uploads == 0
    assert bad_token not in str(caught.value) + text(early)
    with pytest.raises(UploadRejected) as rejected:
        upload_command.upload(ctx, "test")
    assert rejected.value.status in (401, 403)
    assert secret not in str(rejected.value)
    assert secret not in text(ctx)
    captured = capfd.readouterr()
    assert secret not in captured.out + captured.err
    for path in root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_secret_never_in_argv_output_or_files_of_a_full_release(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    """Run the whole release as a process; watch every process's argv while it runs."""
    test, prod = index_pair
    root = make_project()
    environ = environ_for(test, prod, PYTHONPATH=str(REPO), RELEASE_DEPENDENCY_INDEX_URL="pip")
    secrets = [test.password, prod.password]
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for proc_dir in Path("/proc").iterdir():
                if not proc_dir.name.isdigit():
                    continue
                try:
                    argv = (proc_dir / "cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                seen.append(argv)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "release", "release"],
            cwd=root,
            env=environ,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        done.set()
        watcher.join()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any("pip" in argv for argv in seen), "the watcher saw no child process"
    for secret in secrets:
        assert secret not in proc.stdout + proc.stderr
        assert not [argv for argv in seen if secret in argv]
        for path in root.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_build_refuses_a_wheel_that_ships_the_release_package(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    vendored = root / "src" / "release"  # as if release/ had been copied where discovery sees it
    vendored.mkdir()
    for name in ("__init__.py", "guard.py", "sessions.py"):
        (vendored / name).write_text("", encoding="utf-8")
    with pytest.raises(DistError, match="contains nox-release's own release/ package"):
        build_command.build(make_ctx(root, environ_for(test, prod)))
    assert not (root / "dist").exists()


def test_dry_run_fails_when_a_real_run_would(
    make_project: ProjectFactory, index_pair: IndexPair, tmp_path: Path
) -> None:
    test, prod = index_pair
    root = make_project()
    build_command.build(make_ctx(root, environ_for(test, prod)))
    # every credential there: the dry run says which, and succeeds
    ctx = make_ctx(root, environ_for(test, prod), dry_run=True)
    assert release_command.release(ctx) == ExitCode.OK
    assert "would use the credential from RELEASE_TEST_PASSWORD" in text(ctx)
    # no credential for prod (and no keyring, no .pypirc, not in CI): a real run would fail
    environ = environ_for(
        test, prod, HOME=str(tmp_path), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    for key in ("RELEASE_PROD_PASSWORD", "CI", "GITHUB_ACTIONS"):
        environ.pop(key, None)
    ctx = make_ctx(root, environ, dry_run=True)
    assert release_command.release(ctx) == ExitCode.CREDENTIALS
    assert "a real run would stop at upload_prod (exit 7)" in "\n".join(ctx.reporter._summary)
    # an index that cannot be read
    environ = environ_for(test, prod, RELEASE_TEST_INDEX_URL="http://127.0.0.1:9/simple/")
    ctx = make_ctx(root, environ, dry_run=True)
    assert release_command.release(ctx) == ExitCode.INDEX_UNAVAILABLE
    assert (test.uploads, prod.uploads) == (0, 0)


def test_a_dry_run_lists_every_step_and_every_missing_credential(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    """No credential anywhere and an index that cannot be read: the real run would stop at
    the read (exit 4), and the dry run says so, naming both missing credentials too."""
    root = make_project()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELEASE_", "TWINE_", "GITHUB_", "CI")) and "TOKEN" not in k
    }
    environ |= {
        "HOME": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "RELEASE_RETRIES": "1",
        "RELEASE_TRUSTED_PUBLISHING": "off",
    }
    for name in ("TEST", "PROD"):
        environ[f"RELEASE_{name}_INDEX_URL"] = "http://127.0.0.1:9/simple/"
        environ[f"RELEASE_{name}_UPLOAD_URL"] = "http://127.0.0.1:9/"
    ctx = make_ctx(root, environ, dry_run=True)
    assert release_command.release(ctx) == ExitCode.INDEX_UNAVAILABLE
    out = text(ctx)
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(":")[0] for h in headings] == [
        "== build",
        "== upload_test",
        "== verify_test_install",
        "== upload_prod",
    ]
    assert "No credential for the test index" in out
    assert "No credential for the prod index" in out
    lines = [*out.splitlines(), ""]
    for i, line in enumerate(lines):  # no heading with nothing under it
        if line.startswith("== "):
            assert lines[i + 1].strip(), line
    summary = "\n".join(ctx.reporter._summary)
    assert "a real run would stop at upload_test (exit 4)" in summary
    assert "upload_prod (exit 7)" in summary
    assert not (root / "dist").exists()


def test_an_upload_dry_run_names_the_missing_credential_when_the_index_is_down(
    make_project: ProjectFactory, index_pair: IndexPair, tmp_path: Path
) -> None:
    test, prod = index_pair
    root = make_project()
    build_command.build(make_ctx(root, environ_for(test, prod)))
    environ = environ_for(
        test,
        prod,
        RELEASE_TEST_INDEX_URL="http://127.0.0.1:9/simple/",
        HOME=str(tmp_path),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        RELEASE_TRUSTED_PUBLISHING="off",
    )
    del environ["RELEASE_TEST_PASSWORD"]
    ctx = make_ctx(root, environ, dry_run=True)
    with pytest.raises(IndexUnavailable):  # what a real run meets first
        upload_command.upload(ctx, "test")
    assert "No credential for the test index" in text(ctx)


def test_a_dry_run_predicts_the_refusal_of_a_version_already_published(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    release_command.release(make_ctx(root, environ_for(test, prod)))
    shutil.rmtree(root / "dist")  # a real run builds again: other bytes, same version
    ctx = make_ctx(root, environ_for(test, prod), dry_run=True)
    assert release_command.release(ctx) == ExitCode.REFUSED
    assert "1.0.0 is already on the test index" in text(ctx)


def test_a_stale_version_under_another_import_name_is_reported(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project(module="other_mod")  # __version__ = "1.0.0" there
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "1.1.0"'),
        encoding="utf-8",
    )
    ctx = make_ctx(root, environ_for(test, prod))
    build_command.build(ctx)
    assert "other_mod/__init__.py in demo_pkg-1.1.0-py3-none-any.whl says __version__ = " in (
        text(ctx)
    )
    assert ctx.reporter.document["stale_versions"] == {"other_mod/__init__.py": "1.0.0"}


def test_a_wheel_with_nothing_to_import_stops_before_any_upload(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    shutil.rmtree(root / "src")  # the build now makes a wheel of metadata only
    ctx = make_ctx(root, environ_for(test, prod))
    with pytest.raises(VerificationFailed) as failed:
        release_command.release(ctx)
    assert failed.value.exit_code == ExitCode.VERIFY_FAILED
    assert int(failed.value.exit_code) == 6
    assert "installs no importable module" in failed.value.message
    assert "smoke-command" in failed.value.fix
    assert (test.uploads, prod.uploads) == (0, 0)

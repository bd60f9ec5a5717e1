"""Supply chain and inputs from disk (issue #10 §3, §4): what verify installs from where, the
hashed lock of the release environment, credential-free builds, confined manifests and paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from release import redact
from release import verify as verify_module
from release.childenv import without_credentials, without_index_settings
from release.commands import build as build_command
from release.commands import release as release_command
from release.commands import upload as upload_command
from release.commands import verify as verify_command
from release.commands.context import Context
from release.distdir import load_manifest
from release.endpoints import same_url
from release.errors import ConfigError, DistError, ExitCode, VerificationFailed
from release.installer import find_uv
from release.localindex import LocalIndex
from release.loopback import LoopbackHandler, LoopbackServer
from release.manifest import MANIFEST_NAME, check_filename
from release.paths import inside_root
from release.sessions import LOCK, LOCK_HEADER, LOCKS, input_digest, lock_problem, uv_pin
from tests.conftest import IndexPair, ProjectFactory
from tests.pipeline import environ_for, make_ctx, text

REPO = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ URLs compared as URLs

SAME = [
    ("https://test.pypi.org/simple/", "https://test.pypi.org/simple"),
    ("https://test.pypi.org/simple/", "HTTPS://Test.PyPI.org:443/simple/"),
    ("http://localhost:8080/simple/", "http://127.0.0.1:8080/simple"),
    ("http://[::1]:8080/simple/", "http://127.0.0.1:8080/simple/"),
    ("http://127.0.0.2:80/simple/", "http://localhost/simple/"),
    ("https://test.pypi.org/simple/", "https://user:pw@test.pypi.org/simple/"),
    ("https://test.pypi.org/%73imple/", "https://test.pypi.org/simple/"),
    ("  https://test.pypi.org/simple/ ", "https://test.pypi.org/simple/"),
    ("https://test.pypi.org./simple/", "https://test.pypi.org/simple/"),
]
DIFFERENT = [
    ("https://test.pypi.org/simple/", "https://pypi.org/simple/"),
    ("http://test.pypi.org/simple/", "https://test.pypi.org/simple/"),
    ("https://test.pypi.org:8443/simple/", "https://test.pypi.org/simple/"),
    ("https://test.pypi.org/simple/", "https://test.pypi.org/other/"),
    ("http://127.0.0.1:8080/simple/", "http://127.0.0.1:8081/simple/"),
    ("https://test.pypi.org:bad/simple/", "https://test.pypi.org/simple/"),
]


@pytest.mark.parametrize(("a", "b"), SAME, ids=[f"same-{i}" for i in range(len(SAME))])
def test_index_urls_that_name_the_same_index(a: str, b: str) -> None:
    assert same_url(a, b)
    assert same_url(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=[f"other-{i}" for i in range(len(DIFFERENT))])
def test_index_urls_that_name_other_indexes(a: str, b: str) -> None:
    assert not same_url(a, b)


@pytest.mark.parametrize(
    ("test_index", "spelling"), SAME, ids=[f"same-{i}" for i in range(len(SAME))]
)
def test_dependency_index_spelled_like_the_test_index_is_refused(
    tmp_path: Path, test_index: str, spelling: str
) -> None:
    """verify refuses a dependency index that is the test index written another way, before
    it reads dist/ or the network."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.0"\n')
    environ = {"RELEASE_TEST_INDEX_URL": test_index, "RELEASE_DEPENDENCY_INDEX_URL": spelling}
    ctx = make_ctx(tmp_path, environ)
    ctx.deps_from_pip_config = False
    with pytest.raises(ConfigError, match="dependency confusion"):
        verify_command.verify(ctx)


# ------------------------------------------------------------------ child environments

SECRET_NAMES = [
    "TWINE_PASSWORD",
    "RELEASE_PROD_PASSWORD",
    "PYPI_API_TOKEN",
    "TEST_PYPI_API_TOKEN",
    "GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "PYPI_ID_TOKEN",
    "CI_JOB_TOKEN",
    "MY_SERVICE_API_KEY",
    "AWS_SECRET",
]


def test_credentials_are_dropped_by_name_and_the_rest_is_kept() -> None:
    environ = {name: f"value-of-{name}" for name in SECRET_NAMES}
    environ |= {"PATH": "/bin", "HOME": "/root", "PIP_NO_CACHE_DIR": "1", "LANG": "C.UTF-8"}
    assert without_credentials(environ) == {
        "PATH": "/bin",
        "HOME": "/root",
        "PIP_NO_CACHE_DIR": "1",
        "LANG": "C.UTF-8",
    }


@given(
    name=st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True),
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8),
    prefix=st.text(alphabet="abc:/@", max_size=5),
)
def test_a_resolved_secret_leaves_under_any_name(name: str, secret: str, prefix: str) -> None:
    environ = {name: prefix + secret, "KEEP": "kept"}
    env = without_credentials(environ, [secret])
    assert secret not in "".join(env.values())
    if "kept".find(secret) < 0:
        assert env.get("KEEP") == "kept"


def test_a_registered_secret_leaves_under_an_innocent_name_a_short_one_only_whole() -> None:
    long_secret, short_secret = "pypi-AgEIcHlwaS5vcmcCJDIxNTg0Y2Zh", "x"
    redact.register(long_secret)
    redact.register(short_secret)
    try:
        env = without_credentials(
            {
                "INNOCENT": long_secret,
                "URL": f"https://__token__:{long_secret}@example.invalid/",
                "ALSO": " x ",
                "PATH": "/usr/local/bin:/usr/bin/x",
            }
        )
    finally:
        redact.clear()
    assert env == {"PATH": "/usr/local/bin:/usr/bin/x"}


def test_index_settings_are_dropped_and_config_files_switched_off() -> None:
    environ = {
        "PIP_INDEX_URL": "http://trap/",
        "PIP_EXTRA_INDEX_URL": "http://trap/",
        "PIP_FIND_LINKS": "/trap",
        "PIP_CONSTRAINT": "/trap.txt",
        "PIP_CONFIG_FILE": "/trap.conf",
        "UV_INDEX_URL": "http://trap/",
        "UV_EXTRA_INDEX_URL": "http://trap/",
        "UV_INDEX": "http://trap/",
        "UV_DEFAULT_INDEX": "http://trap/",
        "UV_FIND_LINKS": "/trap",
        "PIP_CERT": "/etc/ssl/ca.pem",
        "PATH": "/bin",
    }
    env = without_index_settings(environ)
    assert "trap" not in json.dumps(env)
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["UV_NO_CONFIG"] == "1"
    assert env["PIP_CERT"] == "/etc/ssl/ca.pem"


# ------------------------------------------------------------------ manifests and paths


@pytest.mark.parametrize(
    "filename",
    [
        "../demo_pkg-1.0.0-py3-none-any.whl",
        "/srv/demo_pkg-1.0.0-py3-none-any.whl",
        "sub/demo_pkg-1.0.0-py3-none-any.whl",
        "sub\\demo_pkg-1.0.0-py3-none-any.whl",
        "C:demo_pkg-1.0.0.tar.gz",
        "..",
        ".demo_pkg-1.0.0.tar.gz",
        "demo_pkg-1.0.0.tar.gz\n",
        "demo_pkg-1.0.0.exe",
        "release-manifest.json",
        "other_pkg-1.0.0-py3-none-any.whl",
        "demo_pkg-2.0.0-py3-none-any.whl",
        "demo_pkg-1.0.0-py3-none.whl",
        "demo_pkg-1.0.0.tar.bz2",
        "",
    ],
)
def test_manifest_filenames_must_be_plain_distribution_filenames(filename: str) -> None:
    with pytest.raises(ValueError, match=r"not"):
        check_filename(filename, "demo-pkg", Version("1.0.0"))


@pytest.mark.parametrize(
    "filename",
    [
        "demo_pkg-1.0.0-py3-none-any.whl",
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_pkg-1.0.0.tar.gz",
        "demo-pkg-1.0.0.tar.gz",
        "Demo_Pkg-1.0.0.zip",
        "demo_pkg-1.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ],
)
def test_manifest_accepts_real_distribution_filenames(filename: str) -> None:
    check_filename(filename, "demo-pkg", Version("1.0.0"))


def _tamper(dist: Path, edit: object) -> None:
    path = dist / MANIFEST_NAME
    data = json.loads(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))


def _run_release(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=root,
        env=env | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
def test_a_manifest_that_names_a_path_outside_dist_is_refused_before_anything_is_sent(
    make_project: ProjectFactory, index_pair: IndexPair, tmp_path: Path
) -> None:
    test, prod = index_pair
    root = make_project()
    env = environ_for(test, prod)
    build_command.build(make_ctx(root, env))
    dist = root / "dist"
    outside = tmp_path / "secret.whl"
    outside.write_bytes(b"not yours")
    wheel = next(dist.glob("*.whl"))

    def point_outside(data: dict[str, object]) -> None:
        files = data["files"]
        assert isinstance(files, list)
        for entry in files:
            if entry["filename"] == wheel.name:
                entry["filename"] = f"../../{outside.name}"

    _tamper(dist, point_outside)
    with pytest.raises(DistError, match="not a valid manifest"):
        load_manifest(dist)
    proc = _run_release(root, env, "upload", "--index", "test")
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "plain file name" in proc.stderr
    assert test.uploads == 0
    assert test.files() == []


@pytest.mark.slow
def test_verified_means_installed_and_verify_sdist_false_leaves_the_sdist_listed_only(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project(extra_release="verify-sdist = false\n")
    ctx = make_ctx(root, environ_for(test, prod))
    release_command.release(ctx)
    manifest = load_manifest(root / "dist")
    sdist = next(f for f in manifest.files if f.kind == "sdist")
    wheel = next(f for f in manifest.files if f.kind == "wheel")
    assert manifest.verified == {wheel.filename: wheel.sha256}
    assert manifest.listed_on_test == {sdist.filename: sdist.sha256}
    assert manifest.unverified() == [sdist.filename]
    assert manifest.unchecked() == []
    out = " ".join(text(ctx).split())  # a file's line may wrap at 80 columns
    assert f"{sdist.filename}: listed on the test index with our sha256, not installed" in out
    assert sorted(prod.files()) == sorted(f.filename for f in manifest.files)


@pytest.mark.slow
def test_upload_prod_refuses_a_manifest_whose_files_never_went_through_the_test_index(
    make_project: ProjectFactory, index_pair: IndexPair
) -> None:
    test, prod = index_pair
    root = make_project()
    env = environ_for(test, prod)
    build_command.build(make_ctx(root, env))

    def claim_listed(data: dict[str, object]) -> None:  # listed, but nothing installed
        files = data["files"]
        assert isinstance(files, list)
        data["listed_on_test"] = {f["filename"]: f["sha256"] for f in files}

    _tamper(root / "dist", claim_listed)
    with pytest.raises(DistError, match="not verified"):
        upload_command.upload(make_ctx(root, env), "prod")
    assert prod.uploads == 0


@pytest.mark.parametrize(
    "path", ["../outside", "/etc", "dist/../../outside", ".", "", "C:\\dist", "link/inside"]
)
def test_paths_from_configuration_stay_inside_the_root(tmp_path: Path, path: str) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="Give"):
        inside_root(root, path, "dist-dir")


def test_a_path_inside_the_root_is_accepted(tmp_path: Path) -> None:
    assert inside_root(tmp_path, "dist", "dist-dir") == tmp_path.resolve() / "dist"
    assert inside_root(tmp_path, "a/../b", "dist-dir") == tmp_path.resolve() / "a/../b"
    # absolute, inside the project: $GITHUB_WORKSPACE/dist in a workflow
    inside = str(tmp_path / "dist")
    assert inside_root(tmp_path, inside, "dist-dir") == tmp_path.resolve() / "dist"


def test_an_absolute_dist_dir_inside_the_project_is_used(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    from release.config import load_settings

    root = make_project()
    environ = {"RELEASE_DIST_DIR": str(root / "out" / "dist")}
    assert load_settings(root, environ).dist_dir == root / "out" / "dist"
    with pytest.raises(ConfigError, match="absolute path outside the project"):
        load_settings(root, {"RELEASE_DIST_DIR": str(tmp_path / "elsewhere")})


@pytest.mark.parametrize(
    ("release_table", "command"),
    [
        ('dist-dir = "../elsewhere"\n', ["build"]),
        ('dist-dir = "/srv"\n', ["upload", "--index", "test", "--dry-run"]),
        ('version-files = ["../outside.txt"]\n', ["bump", "patch", "--offline", "--dry-run"]),
        ('version-files = ["/etc/hostname:{version}"]\n', ["bump", "patch", "--offline"]),
    ],
)
def test_a_configured_path_outside_the_project_is_exit_2(
    make_project: ProjectFactory, tmp_path: Path, release_table: str, command: list[str]
) -> None:
    root = make_project(extra_release=release_table)
    (tmp_path / "outside.txt").write_text("1.0.0\n")
    proc = _run_release(root, dict(os.environ), *command)
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "outside the project root" in proc.stderr or "absolute path" in proc.stderr
    assert (tmp_path / "outside.txt").read_text() == "1.0.0\n"


# ------------------------------------------------------------------ builds get no credentials

SETUP_PY_DUMPS_ENV = textwrap.dedent(
    """\
    import json, os, pathlib
    from setuptools import setup
    pathlib.Path(os.environ["ENV_DUMP"]).write_text(json.dumps(dict(os.environ)))
    setup()
    """
)


@pytest.mark.slow
def test_the_build_backend_sees_no_credential(make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project()
    (root / "setup.py").write_text(SETUP_PY_DUMPS_ENV)
    dump = tmp_path / "env.json"
    secrets = {name: f"s3cr3t-{i}-{name.lower()}" for i, name in enumerate(SECRET_NAMES)}
    env = dict(os.environ) | secrets | {"ENV_DUMP": str(dump)}
    proc = _run_release(root, env, "build")
    assert proc.returncode == 0, proc.stderr
    seen = dump.read_text()
    assert json.loads(seen)["ENV_DUMP"] == str(dump)  # the dump is the backend's environment
    for name, value in secrets.items():
        assert value not in seen, name
        assert name not in json.loads(seen)


# ------------------------------------------------------------------ verify's dependencies


class _Trap(LoopbackServer):
    """A loopback 'index' that answers 404 to everything and counts what it was asked."""

    def __init__(self) -> None:
        super().__init__(name="trap-index")
        self.requests: list[str] = []

    def handler_class(self) -> type[LoopbackHandler]:
        trap = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:
                trap.requests.append(self.path)
                self.send_error(404)

        return Handler

    @property
    def url(self) -> str:
        return f"{self.base_url}/simple/"


@pytest.fixture
def trap() -> Iterator[_Trap]:
    with _Trap() as server:
        yield server


def _publish_dependency(prod: LocalIndex, make_project: ProjectFactory, folder: str) -> None:
    """Put the dependency ``dep-lib`` on the prod index (it exists nowhere else)."""
    dep_root = make_project(name="dep-lib", version="2.0.0", folder=folder)
    ctx = make_ctx(dep_root, environ_for(prod, prod))
    build_command.build(ctx)
    upload_command.upload(ctx, "test")  # environ_for(prod, prod): the "test" index is prod here


def _trap_environ(trap: _Trap, tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = {trap.url}\nfind-links = {trap.url}\n")
    return {
        "PIP_CONFIG_FILE": str(conf),
        "PIP_EXTRA_INDEX_URL": trap.url,
        "UV_EXTRA_INDEX_URL": trap.url,
        "UV_INDEX": trap.url,
    }


@pytest.fixture(params=["uv", "pip"])
def installer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """verify with the release environment's uv, and with pip (where uv cannot run)."""
    if request.param == "pip":
        monkeypatch.setattr(verify_module, "find_uv", lambda: None)
    else:
        assert find_uv(), "uv is a pinned dependency of the release environment"
    return str(request.param)


def _installed_with(ctx: Context, installer: str) -> None:
    assert f"installed with {installer}" in text(ctx)


@pytest.mark.slow
def test_dependencies_come_from_the_dependency_index_and_nothing_else(
    make_project: ProjectFactory,
    index_pair: IndexPair,
    trap: _Trap,
    tmp_path: Path,
    installer: str,
) -> None:
    test, prod = index_pair
    _publish_dependency(prod, make_project, "dep")
    root = make_project(dependencies=("dep-lib",), extra_release="verify-sdist = false\n")
    env = environ_for(test, prod) | _trap_environ(trap, tmp_path)
    ctx = make_ctx(root, env)
    ctx.deps_from_pip_config = False  # dependency-index-url unset: the prod index
    build_command.build(ctx)
    upload_command.upload(ctx, "test")
    verify_command.verify(
        ctx
    )  # passes only if dep-lib, which only the prod index has, was installed
    assert "imported demo_pkg" in text(ctx)
    _installed_with(ctx, installer)
    assert trap.requests == [], "pip or uv asked an index it was not given"


@pytest.mark.slow
def test_a_dependency_only_the_test_index_has_is_never_installed(
    make_project: ProjectFactory, index_pair: IndexPair, installer: str, tmp_path: Path
) -> None:
    """Dependency confusion, tried: dep-lib exists on the test index alone (anyone can register
    a name on TestPyPI). verify must fail, whichever installer runs, with the wheel and the
    sdist (whose build runs too)."""
    test, prod = index_pair
    dep_root = make_project(name="dep-lib", version="2.0.0", folder="dep")
    dep_ctx = make_ctx(dep_root, environ_for(test, prod))
    build_command.build(dep_ctx)
    upload_command.upload(dep_ctx, "test")  # on the test index only
    root = make_project(dependencies=("dep-lib",))
    # and the environment tries to add the test index, as pip's and uv's variables and
    # configuration files could (uv reads $XDG_CONFIG_HOME/uv/uv.toml unless told not to)
    lure = {f"{tool}_EXTRA_INDEX_URL": test.index_url for tool in ("PIP", "UV")}
    config = tmp_path / "config"
    (config / "uv").mkdir(parents=True)
    (config / "uv" / "uv.toml").write_text(f'extra-index-url = ["{test.index_url}"]\n')
    (config / "pip").mkdir()
    (config / "pip" / "pip.conf").write_text(f"[global]\nextra-index-url = {test.index_url}\n")
    lure |= {"UV_INDEX": test.index_url, "XDG_CONFIG_HOME": str(config)}
    ctx = make_ctx(root, environ_for(test, prod) | lure)
    ctx.deps_from_pip_config = False  # dependency-index-url unset: the prod index
    build_command.build(ctx)
    upload_command.upload(ctx, "test")
    with pytest.raises(VerificationFailed, match=r"dep-lib|dep_lib"):
        verify_command.verify(ctx)
    _installed_with(ctx, installer)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_bytes_served_after_the_proof_read_are_checked_again(
    make_project: ProjectFactory, index_pair: IndexPair, kind: str
) -> None:
    """verify reuses the upload's proof read, so what the index serves afterwards is checked
    by its own sha256: a file changed on the index after the proof is refused, never installed."""
    test, prod = index_pair
    root = make_project()
    ctx = make_ctx(root, environ_for(test, prod))
    build_command.build(ctx)
    upload_command.upload(ctx, "test")
    assert "test" in ctx.proofs  # the proof read that verify reuses
    served = next(
        p for p in test.root.iterdir() if p.name.endswith((".whl", ".tar.gz")[kind == "sdist"])
    )
    changed = bytearray(served.read_bytes())
    changed[len(changed) // 2] ^= 0xFF  # other bytes, same size, under our name
    served.write_bytes(bytes(changed))
    with pytest.raises(VerificationFailed, match="not a file of this build"):
        verify_command.verify(ctx)
    assert f"{kind}: demo-pkg 1.0.0 installed" not in text(ctx)  # never installed


@pytest.mark.slow
def test_dependency_index_pip_uses_the_pip_configuration_on_purpose(
    make_project: ProjectFactory,
    index_pair: IndexPair,
    trap: _Trap,
    tmp_path: Path,
    installer: str,
) -> None:
    """The control: with `dependency-index-url = "pip"` the same settings are obeyed, which
    shows the trap would see a leak."""
    test, prod = index_pair
    _publish_dependency(prod, make_project, "dep")
    root = make_project(dependencies=("dep-lib",), extra_release="verify-sdist = false\n")
    env = environ_for(test, prod, RELEASE_DEPENDENCY_INDEX_URL="pip") | _trap_environ(
        trap, tmp_path
    )
    env["PIP_INDEX_URL"] = prod.index_url
    ctx = make_ctx(root, env)
    ctx.deps_from_pip_config = False
    build_command.build(ctx)
    upload_command.upload(ctx, "test")
    verify_command.verify(ctx)
    _installed_with(ctx, installer)  # uv is told what pip's configuration says
    assert any("dep-lib" in path or "dep_lib" in path for path in trap.requests), trap.requests


# ------------------------------------------------------------------ the lock


def _pins(lock: Path) -> dict[str, list[tuple[Version, str, int]]]:
    """name -> [(version, marker text, number of hashes)] from a uv/pip-compile lock."""
    pins: dict[str, list[tuple[Version, str, int]]] = {}
    entry: list[object] | None = None
    for line in lock.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" "):
            spec, _, marker = stripped.rstrip("\\").strip().partition(";")
            name, _, version = spec.partition("==")
            entry = [Version(version.strip()), marker.strip(), 0]
            pins.setdefault(canonicalize_name(name.strip()), []).append(entry)  # type: ignore[arg-type]
        elif stripped.startswith("--hash=sha256:") and entry is not None:
            entry[2] = int(entry[2]) + 1  # type: ignore[call-overload]
    return pins


@pytest.mark.parametrize("lock", list(LOCKS), ids=lambda p: p.name)
def test_the_lock_was_made_from_the_current_requirements(lock: Path) -> None:
    requirements = LOCKS[lock]
    assert lock_problem(lock, requirements) is None, (
        f"{lock.name} is stale: run `nox -s lock` and commit the result"
    )
    assert lock.read_text().startswith(LOCK_HEADER + input_digest(requirements))


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13", "3.14"])
@pytest.mark.parametrize("lock", list(LOCKS), ids=lambda p: p.name)
def test_every_requirement_is_pinned_with_hashes_for_every_supported_python(
    lock: Path, python: str
) -> None:
    from packaging.markers import Marker

    env = {str(key): str(value) for key, value in default_environment().items()}
    env |= {"python_version": python, "python_full_version": python + ".0"}
    pins = _pins(lock)
    assert pins
    for name, entries in pins.items():
        for _version, _marker, hashes in entries:
            assert hashes >= 1, f"{name} has no hash"
    for line in LOCKS[lock].read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        live = [
            v
            for v, marker, _ in pins.get(canonicalize_name(req.name), [])
            if not marker or Marker(marker).evaluate(env)
        ]
        assert live, f"{req.name} is not pinned for Python {python}: run `nox -s lock`"
        assert all(req.specifier.contains(v, prereleases=True) for v in live), (
            f"{req.name}: the lock pins {live}, outside {req.specifier}: run `nox -s lock`"
        )


def test_the_release_environment_gets_uv_from_the_lock_with_its_hashes() -> None:
    """sessions.py installs the lock's uv first (pip, --require-hashes): its entry, whole."""
    pin = uv_pin()
    assert pin is not None
    first, *hashes = pin.splitlines()
    assert first.startswith("uv==")
    assert first.endswith("\\")
    assert hashes
    assert all(h.strip().startswith("--hash=sha256:") for h in hashes)
    assert not hashes[-1].endswith("\\")  # the last line ends the requirement
    version = Version(first.removeprefix("uv==").rstrip(" \\"))
    assert [v for v, _m, _n in _pins(LOCK)["uv"]] == [version]


def test_a_lock_made_from_other_requirements_is_reported(tmp_path: Path) -> None:
    lock, requirements = next(iter(LOCKS.items()))
    copy_lock, copy_req = tmp_path / lock.name, tmp_path / requirements.name
    copy_lock.write_bytes(lock.read_bytes())
    copy_req.write_bytes(requirements.read_bytes() + b"extra-package>=1\n")
    assert "not made from the current" in str(lock_problem(copy_lock, copy_req))
    assert "missing" in str(lock_problem(tmp_path / "absent.lock", copy_req))


WORKFLOWS = sorted(
    [
        *(REPO / "release" / "templates").glob("*.yml"),
        *(REPO / ".github" / "workflows").glob("*.yml"),
    ]
)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_install_nox_pinned_and_hashed(workflow: Path) -> None:
    installs = [ln.strip() for ln in workflow.read_text().splitlines() if "pip install" in ln]
    for line in installs:
        assert "--require-hashes -r release/requirements-nox.lock" in line, line

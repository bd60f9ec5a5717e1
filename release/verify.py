"""Install the release from the test index in brand-new environments and smoke-test it.

The package itself comes from the test index: the wheel pip would pick for this interpreter
(``packaging.tags``, the order pip uses) and the sdist, each fetched from the URL the test
index lists and checked against the manifest's sha256 before anything installs it. Its
dependencies (and, for the sdist, its build dependencies) come from the dependency index: the
prod index by default, never the test index (dependency confusion), with no pip or uv
configuration and no index variable that could add another. uv (the release environment's
pinned one, :mod:`release.installer`) makes the environments and installs; virtualenv + pip
where uv cannot run. uv's cache serves dependencies it already holds (uv still asks the index
as HTTP caching allows); the package itself is never taken from a cache (``--refresh-package``),
so the sdist is built anew each time.
"""

from __future__ import annotations

__all__ = ["Prepared", "VerifyOptions", "import_names_of", "prepare", "verify_release"]

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import shlex
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

from . import http
from .childenv import without_credentials, without_index_settings
from .contained import run_contained
from .distdir import hash_file
from .endpoints import strip_credentials
from .errors import VerificationFailed
from .indexstate import IndexFile, IndexState
from .installer import find_uv, uv_index_args
from .manifest import DistFile, Manifest
from .output import Reporter
from .retry import Transient
from .verifyadvice import (
    ImportFailure,
    Source,
    Verdict,
    import_verdict,
    install_verdict,
    smoke_verdict,
    tail,
)

# What a failed step means: (its output, its exit status or None if it could not start)
Advise = Callable[[str, int | None], Verdict]


@dataclasses.dataclass(frozen=True)
class VerifyOptions:
    test_index_url: str
    deps_index_url: str | None  # None: the user's normal pip configuration (rehearse)
    smoke_command: str
    import_names: tuple[str, ...]  # the caller fills them (from the wheel) when not configured
    verify_sdist: bool
    timeout: float = 60.0
    use_uv: bool = True
    import_names_configured: bool = False  # import-names set: every one must import


def _module_name(part: str) -> str | None:
    """``mod.py`` -> ``mod``, ``_speedups.cpython-311-x86_64-linux-gnu.so`` -> ``_speedups``."""
    if part.endswith(".py"):
        return part[:-3]
    if part.endswith((".so", ".pyd")):
        return part.split(".", 1)[0]
    return None


def _importables(paths: set[tuple[str, ...]], prefix: tuple[str, ...]) -> set[str]:
    """Modules and regular packages under ``prefix``; a folder without ``__init__`` (a PEP 420
    namespace, ``jaraco/``) is looked into, since importing it alone proves nothing."""
    found: set[str] = set()
    depth = len(prefix)
    children = {p[depth] for p in paths if len(p) > depth and p[:depth] == prefix}
    for child in sorted(children):
        below = (*prefix, child)
        if any(len(p) > depth + 1 and p[: depth + 1] == below for p in paths):  # a folder
            if not child.isidentifier() or child.startswith("_"):
                continue
            inits = {p[-1] for p in paths if len(p) == depth + 2 and p[: depth + 1] == below}
            if any(_module_name(n) == "__init__" for n in inits):
                found.add(".".join(below))
            else:
                found |= _importables(paths, below)
            continue
        name = _module_name(child)
        if name and name.isidentifier() and not name.startswith("_"):
            found.add(".".join((*prefix, name)))
    return found


def import_names_of(wheel: Path) -> tuple[str, ...]:
    """What a wheel installs that can be imported: top-level modules and packages, and for a
    namespace package the packages inside it (``jaraco.functools``, not just ``jaraco``)."""
    with zipfile.ZipFile(wheel) as zf:
        paths = {
            tuple(entry.split("/"))
            for entry in zf.namelist()
            if not entry.endswith("/")
            and not entry.split("/", 1)[0].endswith((".dist-info", ".data"))
        }
    return tuple(sorted(_importables(paths, ())))


def _run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    what: str,
    advise: Advise | None = None,
) -> str:
    """Run a step of verify; on failure, ``advise`` (output, exit status or None when the
    program could not start) says what it means (:mod:`release.verifyadvice`). pip and uv
    run the sdist's build backend, and the smoke command is the package's own code: each runs
    in a process group that ends with it (:func:`release.contained.run_contained`), so nothing
    it starts keeps running into upload_prod."""
    try:
        proc = run_contained(argv, env=env, cwd=cwd)
    except OSError as exc:
        if advise is not None:
            verdict = advise(str(exc), None)
            raise VerificationFailed(verdict.message, verdict.fix) from None
        raise VerificationFailed(
            f"{what} could not start: {exc}.", "Check the tool it names, then run it again."
        ) from None
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if advise is not None:
            verdict = advise(output, proc.returncode)
            raise VerificationFailed(verdict.message, verdict.fix)
        raise VerificationFailed(
            f"{what} failed (exit {proc.returncode}):\n    {tail(output)}",
            "This step is verify's own, not the package's: fix what the output names, then "
            "run verify_test_install again (nothing reached the prod index).",
        )
    return proc.stdout


def _clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of pip, uv and the smoke command: no credentials (by name, and by value
    for every secret this run resolved), no Python or virtualenv of ours, no pip cache (uv's
    cache serves dependencies only: see the module's docstring)."""
    env = {
        k: v
        for k, v in without_credentials(environ).items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    env["PIP_NO_CACHE_DIR"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@dataclasses.dataclass(frozen=True)
class _Installer:
    """Who installs (uv, or pip when ``uv`` is None), with which index options and
    environment: the dependency index alone, or the user's pip configuration in uv's words."""

    uv: str | None
    index_args: tuple[str, ...]
    env: dict[str, str]
    source: str  # for people: where dependencies come from


def _installer(
    deps_index_url: str | None, env: Mapping[str, str], use_uv: bool, cwd: Path
) -> _Installer:
    uv = find_uv() if use_uv else None
    if deps_index_url:
        # One index and nothing else: no configuration file, no index variable (uv also gets
        # --no-config); uv's first-index strategy, with a single index, cannot look elsewhere.
        strategy = ("--index-strategy", "first-index") if uv else ()
        return _Installer(
            uv,
            ("--index-url", deps_index_url, *strategy),
            without_index_settings(env),
            strip_credentials(deps_index_url),
        )
    if uv:
        # uv reads no pip configuration: pip says what it is, and uv is told the same.
        translated = uv_index_args(sys.executable, env, str(cwd))
        if translated is not None:
            args, extra = translated
            return _Installer(
                uv, tuple(args), without_index_settings(env) | extra, "your pip configuration"
            )
    return _Installer(None, (), dict(env), "your pip configuration")


class _Venv:
    def __init__(self, path: Path, installer: _Installer) -> None:
        self.path = path
        self.installer = installer
        self.env = dict(installer.env)
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / ("python.exe" if os.name == "nt" else "python")
        self.env["VIRTUAL_ENV"] = str(path)
        self.env["PATH"] = str(self.bin) + os.pathsep + installer.env.get("PATH", "")

    def create(self, cwd: Path) -> None:
        uv = self.installer.uv
        if uv:
            argv = [uv, "venv", "--no-config", "--quiet", "--python", sys.executable]
        else:
            argv = [sys.executable, "-m", "virtualenv", "--quiet"]
        _run([*argv, str(self.path)], env=self.env, cwd=cwd, what="Creating a fresh environment")

    def install(self, target: Path, project: str, cwd: Path, advise: Advise | None = None) -> None:
        """Install ``target`` with its dependencies (and an sdist's build requirements) from
        where the installer was told (see :func:`_installer`) and from nothing else."""
        uv, index = self.installer.uv, self.installer.index_args
        if uv:
            argv = [uv, "pip", "install", "--no-config", "--python", str(self.python)]
            # the package itself never from uv's cache: the sdist is built here, now
            argv += ["--quiet", "--refresh-package", project, *index, str(target)]
        else:
            argv = [str(self.python), "-m", "pip", "install", "--quiet", *index, str(target)]
        what = f"Installing {target.name} with its dependencies"
        _run(argv, env=self.env, cwd=cwd, what=what, advise=advise)


def _pick_wheel(manifest: Manifest, listed: IndexState) -> tuple[DistFile, IndexFile]:
    """The wheel of this release that pip would install on this interpreter, among those the
    test index lists: the one whose best tag comes first in ``packaging.tags.sys_tags()``."""
    rank = {str(tag): n for n, tag in enumerate(sys_tags())}
    best: tuple[int, DistFile, IndexFile] | None = None
    for entry in manifest.files:
        if entry.kind != "wheel":
            continue
        remote = listed.twin_of(entry.filename)
        tags = parse_wheel_filename(entry.filename)[3]
        ours = [rank[str(tag)] for tag in tags if str(tag) in rank]
        if remote is None or not ours:
            continue
        if best is None or min(ours) < best[0]:
            best = (min(ours), entry, remote)
    if best is None:
        raise VerificationFailed(
            f"No wheel of {manifest.name} {manifest.version} on the test index installs on "
            f"this interpreter (Python {sys.version.split()[0]}, {next(iter(sys_tags()))}).",
            "Build a wheel for this platform (or a pure-Python one), or run "
            "verify_test_install on a machine the wheels are for.",
        )
    return best[1], best[2]


def _download_url(url: str, dest: Path, timeout: float, size: int, name: str | None = None) -> Path:
    """Fetch a file the index listed into ``dest``, as ``name`` (default: the URL's last part).

    At most ``size`` bytes (the manifest's) are accepted: a longer answer is cut off and
    refused (:class:`release.http.AnswerTooLarge`, exit 4). No credential is sent, so
    following a redirect to another host is safe; the bytes are checked against the manifest.
    """
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / (name or url.rsplit("/", 1)[-1].split("#", 1)[0])
    try:
        with http.make_session("verify download") as session, target.open("wb") as f:
            answer, url = http.download(session, url, f, limits=http.Limits.file(timeout, size))
            if answer.status != 200:
                raise VerificationFailed(
                    f"Could not download {strip_credentials(url)}: HTTP {answer.status} "
                    f"{answer.reason}.",
                    "Check that the test index serves its files, then run verify_test_install "
                    "again.",
                )
    except Transient as exc:
        raise VerificationFailed(
            f"Could not download {strip_credentials(url)}: {exc.short}.",
            "Check that the test index serves its files, then run verify_test_install again.",
        ) from None
    return target


# Runs in the fresh environment: the installed version, the installed metadata's requirements
# (extras included) and each import's outcome, written as JSON to argv[1] (a module may print).
_IMPORTS = """\
import importlib, importlib.metadata as m, json, sys
result = {"version": m.version(sys.argv[2]), "requires": m.requires(sys.argv[2]) or [],
          "imported": [], "failed": []}
for name in sys.argv[3:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        missing, cause = None, exc
        while cause is not None and missing is None:  # blackd re-raises aiohttp's with advice
            if isinstance(cause, ImportError):
                missing = cause.name
            cause = cause.__cause__ or cause.__context__
        result["failed"].append({"name": name, "error": type(exc).__name__,
                                 "text": str(exc)[:500], "missing": missing})
    else:
        result["imported"].append(name)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(result, f)
"""


def _imports(
    venv: _Venv, manifest: Manifest, options: VerifyOptions, cwd: Path, reporter: Reporter
) -> tuple[str, list[str]]:
    """(installed version, modules imported); modules that need an optional extra are
    warned about, any other import failure stops verify with advice that matches it."""
    report = cwd / "imports.json"
    _run(
        [str(venv.python), "-c", _IMPORTS, str(report), manifest.name, *options.import_names],
        env=venv.env,
        cwd=cwd,
        what=f"Reading what {manifest.name} installed",
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    failures = [ImportFailure.from_json(item) for item in result["failed"]]
    imported = [str(name) for name in result["imported"]]
    warnings, verdict = import_verdict(
        failures,
        imported,
        manifest.name,
        [str(r) for r in result["requires"]],
        configured=options.import_names_configured,
        version=manifest.version,
    )
    if verdict is not None:
        raise VerificationFailed(verdict.message, verdict.fix)
    for warning in warnings:
        reporter.warn(warning)
    return str(result["version"]), imported


def _smoke(
    venv: _Venv,
    manifest: Manifest,
    options: VerifyOptions,
    cwd: Path,
    reporter: Reporter,
    label: str,
) -> None:
    installed, imported = _imports(venv, manifest, options, cwd, reporter)
    if installed != manifest.version:
        raise VerificationFailed(
            f"The fresh environment has {manifest.name} {installed!r}, expected "
            f"{manifest.version}.",
            "Check that the test index serves this version.",
        )
    reporter.ok(
        f"{label}: {manifest.name} {installed} installed; imported "
        f"{', '.join(imported) or 'nothing (the smoke command checks it)'}"
    )
    if options.smoke_command:
        command = options.smoke_command

        def advise(output: str, code: int | None) -> Verdict:
            return smoke_verdict(command, code, output, label, manifest.version)

        _run(shlex.split(command), env=venv.env, cwd=cwd, what=command, advise=advise)
        reporter.ok(f"{label}: smoke command passed: {command}")


@dataclasses.dataclass(frozen=True)
class _Ready:
    work: Path
    installer: _Installer
    venvs: dict[str, _Venv]


class Prepared:
    """verify's fresh environments, made in the background: a release starts them before its
    upload to the test index, so they are ready when the proof read ends. A context manager;
    the folder goes when it closes. Errors surface when :meth:`ready` is called."""

    def __init__(
        self,
        deps_index_url: str | None,
        verify_sdist: bool,
        environ: Mapping[str, str],
        *,
        use_uv: bool = True,
    ) -> None:
        self.key = (deps_index_url, verify_sdist, use_uv)
        self._tmp = tempfile.TemporaryDirectory(prefix="nox-release-verify-")
        self._pool = concurrent.futures.ThreadPoolExecutor(1)
        self._future = self._pool.submit(self._make, _clean_env(environ))

    def _make(self, env: Mapping[str, str]) -> _Ready:
        deps_index_url, verify_sdist, use_uv = self.key
        work = Path(self._tmp.name)
        installer = _installer(deps_index_url, env, use_uv, work)
        kinds = ["wheel"] + (["sdist"] if verify_sdist else [])
        venvs = {kind: _Venv(work / kind / "venv", installer) for kind in kinds}
        for kind in kinds:
            (work / kind).mkdir()
        with concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
            for future in [pool.submit(venvs[k].create, work / k) for k in kinds]:
                future.result()
        return _Ready(work, installer, venvs)

    def serves(self, options: VerifyOptions) -> bool:
        return self.key == (options.deps_index_url, options.verify_sdist, options.use_uv)

    def ready(self) -> _Ready:
        return self._future.result()

    def close(self) -> None:
        """Remove the environments in the background (thousands of files: seconds on a busy
        disk) while the release goes on; the thread is not a daemon, so the folder is gone
        before the process ends."""
        self._pool.shutdown(wait=True)
        threading.Thread(target=self._tmp.cleanup, name="verify-cleanup").start()

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def prepare(options: VerifyOptions, environ: Mapping[str, str]) -> Prepared:
    """Start making verify's environments for ``options`` (see :class:`Prepared`)."""
    return Prepared(options.deps_index_url, options.verify_sdist, environ, use_uv=options.use_uv)


def _fetch(
    kind: str, manifest: Manifest, listed: IndexState, here: Path, timeout: float
) -> tuple[DistFile, Path]:
    """The file of ``kind`` from the test index, checked against the manifest."""
    if kind == "wheel":
        entry, remote = _pick_wheel(manifest, listed)
    else:
        entry = next(f for f in manifest.files if f.kind == "sdist")
        found = listed.twin_of(entry.filename)
        if found is None:  # await_listed saw it; a page that changed since is odd
            raise VerificationFailed(
                f"The test index no longer lists {entry.filename}.",
                "Run verify_test_install again; if it persists, check the test index.",
            )
        remote = found
    # saved under our name (an index may spell or escape it otherwise): the sha256 decides
    got = _download_url(remote.url, here / "dl", timeout, entry.size, entry.filename)
    sha, _size = hash_file(got)
    if entry.sha256 != sha:
        raise VerificationFailed(
            f"The test index served {remote.filename} (sha256 {sha[:12]}…), which is not "
            "a file of this build.",
            "Something else was uploaded under this version; bump the version.",
        )
    return entry, got


def verify_release(
    manifest: Manifest,
    listed: IndexState,
    options: VerifyOptions,
    environ: Mapping[str, str],
    reporter: Reporter,
    prepared: Prepared | None = None,
) -> list[DistFile]:
    """Install each verifiable file of ``manifest`` from the test index; return those verified.

    The wheel and the sdist are checked side by side, each in its own environment and folder
    (``prepared``, when the caller started them early): both wait mostly on the network and on
    subprocesses, so this halves the step on 2 cores.
    """
    with contextlib.ExitStack() as stack:
        if prepared is None or not prepared.serves(options):
            prepared = stack.enter_context(prepare(options, environ))
        ready = prepared.ready()
        reporter.line(
            f"dependencies from {ready.installer.source}, installed with "
            f"{'uv' if ready.installer.uv else 'pip'}",
            "info",
        )

        def one(kind: str) -> DistFile:
            started = time.monotonic()
            here = ready.work / kind
            entry, got = _fetch(kind, manifest, listed, here, options.timeout)
            reporter.file(got.name, "downloaded from the test index, our sha256", "ok")
            source = Source(strip_credentials(options.deps_index_url or ""))

            def advise(output: str, code: int | None) -> Verdict:
                return install_verdict(got.name, kind, output, code or 0, source, manifest.version)

            ready.venvs[kind].install(got, manifest.name, here, advise)
            _smoke(ready.venvs[kind], manifest, options, here, reporter, kind)
            reporter.line(f"{kind}: verified in {time.monotonic() - started:.1f}s", "info")
            return entry

        kinds = list(ready.venvs)
        running = reporter.running(
            f"installing the {' and the '.join(kinds)} in fresh environments"
        )
        with running, concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
            futures = [pool.submit(one, kind) for kind in kinds]
            # Report the first failure in kind order (the wheel's), after both have finished.
            return [future.result() for future in futures]
    raise AssertionError("unreachable")  # pragma: no cover - the with block returns

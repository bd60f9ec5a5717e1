"""``python -m release init PATH [--force]``: drop nox-release into another project.

Copies the ``release/`` package (this one), a ``noxfile.py`` (only when the project has none:
an existing noxfile is never touched, the import lines to add are printed instead), the
release workflow into ``.github/workflows/release.yml``, and appends a commented
``[tool.release]`` table to ``pyproject.toml``.

Nothing is overwritten without ``--force``: every file that exists with other content is listed
and nothing at all is written. A file already there with the same bytes is left alone, so
running ``init`` twice is harmless. The plan (:func:`plan_init`) is a pure function of what the
source and the target hold; :func:`apply_plan` is the only part that writes.
"""

from __future__ import annotations

__all__ = [
    "IMPORT_LINES",
    "Action",
    "InitPlan",
    "apply_plan",
    "configure",
    "packaging_advice",
    "plan_init",
    "run",
    "source_files",
    "tool_release_snippet",
    "with_tool_release",
]

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import tomlkit

from .atomic import write_atomic
from .config import OPTIONS, env_name
from .errors import ConfigError
from .output import Reporter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_DIR / "templates"
WORKFLOW_TARGET = Path(".github") / "workflows" / "release.yml"
# --ci: which CI's release pipeline init writes (template in release/templates/, target path)
CI_PIPELINES: dict[str, tuple[str, Path]] = {
    "github": ("release.yml", WORKFLOW_TARGET),
    "gitlab": ("gitlab-ci.yml", Path(".gitlab-ci.yml")),
}

# What a project with a noxfile of its own adds to it. nox loads the noxfile by path and does not
# put its folder on sys.path, so the first line does; importing release.sessions registers the
# sessions with nox (its decorators fill nox's registry, no names need to be imported).
IMPORT_LINES = (
    "import sys\n"
    "from pathlib import Path\n"
    "\n"
    "sys.path.insert(0, str(Path(__file__).parent))  # nox does not add the noxfile's folder\n"
    "import release.sessions  # noqa: F401  (registers the release sessions with nox)\n"
)

Fate = Literal["create", "overwrite", "unchanged", "append"]


@dataclasses.dataclass(frozen=True)
class Action:
    """One file of the target: its path relative to the target root and what happens to it."""

    path: str  # POSIX, relative to the target project
    fate: Fate
    content: bytes


@dataclasses.dataclass(frozen=True)
class InitPlan:
    actions: tuple[Action, ...]
    noxfile_kept: bool  # the project has a noxfile of its own: print IMPORT_LINES instead
    noxfile_has_import: bool  # ... and it already imports release.sessions
    tool_release_kept: bool  # pyproject.toml already has a [tool.release] table
    advice: tuple[tuple[str, str], ...] = ()  # (problem, fix) the maintainer must act on

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.actions if a.fate == "overwrite")


def source_files(package_dir: Path = PACKAGE_DIR) -> dict[str, bytes]:
    """The release/ package as ``{"release/<relative path>": bytes}``, without caches."""
    files: dict[str, bytes] = {}
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if not path.is_file() or "__pycache__" in relative.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        files[f"release/{relative.as_posix()}"] = path.read_bytes()
    return files


def noxfile_source(package_dir: Path = PACKAGE_DIR) -> bytes:
    """The noxfile for a project that has none: the release sessions and room for its own.

    Not nox-release's own noxfile.py, whose tests/lint/bench sessions are about this repository.
    """
    return (package_dir / "templates" / "noxfile.py").read_bytes()


def _toml_value(value: Any) -> str:
    return str(tomlkit.item(value).as_string())


def tool_release_snippet() -> str:
    """A ``[tool.release]`` table with every option commented out at its default.

    Made from :data:`release.config.OPTIONS`, so it can never name a key that does not exist.
    """
    lines = [
        "[tool.release]",
        "# nox-release settings (see its docs/configuration.md). Every key is also an environment",
        "# variable RELEASE_<KEY> (e.g. smoke-command -> RELEASE_SMOKE_COMMAND): it wins.",
        "# Secrets never go here: use trusted publishing, keyring or RELEASE_PROD_PASSWORD.",
    ]
    for option in OPTIONS:
        lines.append("#")
        lines.append(f"# {option.doc} ({env_name(option.key)})")
        lines.append(f"# {option.key} = {_toml_value(option.default)}")
    return "\n".join(lines) + "\n"


def with_tool_release(text: str, snippet: str) -> str:
    """``text`` (a pyproject.toml) with ``snippet`` appended, every original byte kept.

    tomlkit can add the table, but it files it next to the other ``[tool.*]`` tables and moves
    comments and blank lines that sit between them; appending text keeps the maintainer's file
    exactly as it was, and tomlkit then proves the result is valid TOML with nothing else changed.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    body = text if text.endswith(("\n", "\r")) or not text else text + newline
    separator = newline if body.strip() else ""
    combined = body + separator + snippet.replace("\n", newline)
    try:
        tomlkit.parse(combined)
        before = tomllib.loads(text)
        after = tomllib.loads(combined)
    except Exception as exc:  # tomlkit and tomllib raise their own error types
        raise ConfigError(
            f"Appending a [tool.release] table would make pyproject.toml invalid ({exc}).",
            "Add a [tool.release] table by hand (nox-release's docs/configuration.md lists its "
            "keys); every other file init copies is independent of it.",
        ) from None
    tool = dict(after.get("tool", {}))
    tool.pop("release", None)
    if {**after, "tool": tool} != {**before, "tool": before.get("tool", {})}:
        raise ConfigError(
            "Appending [tool.release] would change other settings in pyproject.toml.",
            "Add the [tool.release] table by hand.",
        )
    return combined


SKIP_DIRS = {"release", "tests", "test", "docs", "doc", "examples", "scripts", "build", "dist"}


def packaging_advice(
    pyproject: Mapping[str, Any], top_level: Sequence[str], *, has_src: bool, has_setup: bool
) -> list[tuple[str, str]]:
    """(problem, fix) for build backends that would pick ``release/`` up as a package of the
    project: setuptools' automatic discovery (which then refuses a flat layout with two top-level
    packages) and pdm-backend (which ships every package of a flat layout in the wheel).

    ``top_level``: the project's own top-level package folders (those with ``__init__.py``).
    hatchling, flit-core and poetry-core choose the package by the project's name: no advice.
    """
    build_system = pyproject.get("build-system", {})
    backend = str(build_system.get("build-backend", "setuptools.build_meta:__legacy__"))
    project = pyproject.get("project", {})
    name = str(project.get("name", "")) if isinstance(project, dict) else ""
    guess = name.replace("-", "_").replace(".", "_").lower()
    own = [d for d in top_level if d not in SKIP_DIRS]
    module = guess if guess in own or not own else own[0]
    module = module or "your_package"
    tool = pyproject.get("tool", {})
    advice: list[tuple[str, str]] = []
    if has_src:
        return advice
    if backend.startswith("setuptools") and not has_setup:
        setuptools = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
        packages = setuptools.get("packages") if isinstance(setuptools, dict) else None
        find = packages.get("find") if isinstance(packages, dict) else None
        automatic = packages is None and "py-modules" not in setuptools
        unfiltered = (
            isinstance(find, dict)
            and not find.get("include")
            and not any(str(pattern).startswith("release") for pattern in find.get("exclude", []))
        )
        if automatic or unfiltered:
            advice.append(
                (
                    "setuptools finds packages on its own in this flat layout: with release/ "
                    'beside your package it refuses to build ("Multiple top-level packages '
                    'discovered") or ships release/ in your wheel.',
                    "Add to pyproject.toml:  [tool.setuptools.packages.find]  "
                    f'include = ["{module}*"]',
                )
            )
    if backend.startswith("pdm.backend"):
        pdm_build = tool.get("pdm", {}).get("build", {}) if isinstance(tool, dict) else {}
        if not (isinstance(pdm_build, dict) and pdm_build.get("includes")):
            advice.append(
                (
                    "pdm-backend puts every package of a flat layout in the wheel: release/ "
                    "would be installed as a top-level package named release.",
                    f'Add to pyproject.toml:  [tool.pdm.build]  includes = ["{module}"]',
                )
            )
    return advice


def _top_level_packages(target: Path) -> list[str]:
    return sorted(
        p.name
        for p in target.iterdir()
        if p.is_dir() and p.name != "release" and (p / "__init__.py").is_file()
    )


def _read_pyproject(target: Path) -> tuple[str, dict[str, Any]]:
    path = target / "pyproject.toml"
    if not target.is_dir():
        raise ConfigError(
            f"{target} is not a folder.", "Give init the root folder of the project to set up."
        )
    if not path.is_file():
        hint = (
            " It has a setup.py: add a pyproject.toml with a [build-system] table and a "
            '[project] table (name, version or dynamic = ["version"]) first.'
            if (target / "setup.py").is_file()
            else ""
        )
        raise ConfigError(
            f"No pyproject.toml in {target}: init sets up a Python project's root folder.{hint}",
            "Point init at the folder that holds the project's pyproject.toml "
            "(or create one first), then run it again.",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        return text, tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid UTF-8 TOML: {exc}.",
            "Fix the error it names, then run init again.",
        ) from None


def _fate(target: Path, relative: str, content: bytes) -> Fate:
    path = target / relative
    if path.is_dir():
        return "overwrite"  # a folder where a file goes: listed, and --force cannot fix it
    if not path.exists():
        return "create"
    return "unchanged" if path.read_bytes() == content else "overwrite"


def plan_init(
    target: Path,
    *,
    package: Mapping[str, bytes] | None = None,
    noxfile: bytes | None = None,
    workflow: bytes | None = None,
    ci: str = "github",
) -> InitPlan:
    """Decide every file's fate; read the target, write nothing."""
    target = target.resolve()
    if target == PACKAGE_DIR.parent:
        raise ConfigError(
            f"{target} is nox-release itself: init copies it into another project.",
            "Run: python -m release init PATH/TO/YOUR/PROJECT",
        )
    text, data = _read_pyproject(target)
    files: dict[str, bytes] = dict(source_files() if package is None else package)
    noxfile_path = target / "noxfile.py"
    noxfile_kept = noxfile_path.exists()
    has_import = noxfile_kept and b"release.sessions" in noxfile_path.read_bytes()
    if not noxfile_kept:
        files["noxfile.py"] = noxfile_source() if noxfile is None else noxfile
    template, workflow_target = CI_PIPELINES[ci]
    if workflow is None:
        workflow = (TEMPLATES / template).read_bytes()
    files[workflow_target.as_posix()] = workflow
    tool = data.get("tool", {})
    tool_release_kept = isinstance(tool, dict) and "release" in tool
    actions = [Action(rel, _fate(target, rel, content), content) for rel, content in files.items()]
    if not tool_release_kept:
        new_text = with_tool_release(text, tool_release_snippet())
        actions.append(Action("pyproject.toml", "append", new_text.encode("utf-8")))
    advice = packaging_advice(
        data,
        _top_level_packages(target),
        has_src=(target / "src").is_dir(),
        has_setup=(target / "setup.py").is_file() or (target / "setup.cfg").is_file(),
    )
    return InitPlan(tuple(actions), noxfile_kept, has_import, tool_release_kept, tuple(advice))


def apply_plan(target: Path, plan: InitPlan, *, force: bool = False) -> list[Action]:
    """Write the plan; refuse before writing anything if a file would be overwritten."""
    if plan.conflicts and not force:
        listing = "\n  ".join(plan.conflicts)
        raise ConfigError(
            f"init would overwrite {len(plan.conflicts)} file(s) in {target} that differ:\n  "
            f"{listing}\nNothing was written.",
            "Review them (git diff helps after a first init), then run init again with --force "
            "to replace them.",
        )
    written = []
    for action in plan.actions:
        if action.fate == "unchanged":
            continue
        if (target / action.path).is_dir():
            raise ConfigError(
                f"{target / action.path} is a folder, where init writes a file.",
                "Move it away, then run init again.",
            )
        write_atomic(target / action.path, action.content)
        written.append(action)
    return written


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="root folder of the project to set up")
    parser.add_argument(
        "--force", action="store_true", help="replace files that exist with other content"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument(
        "--ci",
        choices=sorted(CI_PIPELINES),
        default="github",
        help="the release pipeline to write: GitHub Actions (.github/workflows/release.yml, "
        "the default) or GitLab CI/CD (.gitlab-ci.yml)",
    )


def run(args: argparse.Namespace, environ: dict[str, str]) -> int:
    target: Path = args.path.resolve()
    out = Reporter(json_mode=args.json)
    ci = str(getattr(args, "ci", "github"))
    plan = plan_init(target, ci=ci)
    written = apply_plan(target, plan, force=args.force)
    out.heading(f"nox-release init {target}")
    marks = {"create": "+", "overwrite": "!", "unchanged": "=", "append": "+"}
    for action in plan.actions:
        if action.fate == "append":
            out.line("pyproject.toml: appended a commented [tool.release] table", "+")
            continue
        label = {"create": "created", "overwrite": "replaced", "unchanged": "unchanged"}
        out.line(f"{action.path} ({label[action.fate]})", marks[action.fate])
    if plan.tool_release_kept:
        out.line("pyproject.toml: [tool.release] already there, left as it is", "=")
    if plan.noxfile_kept:
        if plan.noxfile_has_import:
            out.line("noxfile.py already imports release.sessions, left as it is", "=")
        else:
            out.line("noxfile.py is yours and was not touched. Add these lines near its top:", "!")
            for line in IMPORT_LINES.splitlines():
                out.line(f"    {line}")
    for problem, fix in plan.advice:
        out.warn(problem)
        out.line(f"  Fix: {fix}")
    out.heading("Next")
    out.line("python -m pip install nox && nox -s rehearse   # a whole release, locally", "info")
    out.line(
        f"register the trusted publishers on TestPyPI and PyPI for {CI_PIPELINES[ci][1]} "
        "(environments testpypi and pypi): see docs/adopt.md",
        "info",
    )
    out.document = {
        "target": str(target),
        "files": [{"path": a.path, "fate": a.fate} for a in plan.actions],
        "written": [a.path for a in written],
        "noxfile": "kept" if plan.noxfile_kept else "copied",
        "noxfile_imports_release": plan.noxfile_has_import or not plan.noxfile_kept,
        "import_lines": IMPORT_LINES if plan.noxfile_kept and not plan.noxfile_has_import else "",
        "tool_release": "kept" if plan.tool_release_kept else "appended",
        "advice": [{"problem": p, "fix": f} for p, f in plan.advice],
    }
    out.emit_json()
    return 0

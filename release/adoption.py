"""What ``init`` copies into a project, and how it meets what the project already has.

The plan (:func:`plan_init`) is a function of what the source and the target hold (it reads,
never writes): the ``release/`` package, a noxfile when the project has none, the CI pipeline
(GitHub or GitLab; the cibuildwheel matrix for a compiled project), a commented
``[tool.release]`` table appended to ``pyproject.toml``, ``dist/`` and ``.nox/`` ignored.
:func:`apply_plan` is the only part that writes. ``python -m release init``
(release/commands/init.py) shows the plan, checks the layout and applies it.
"""

from __future__ import annotations

__all__ = [
    "IMPORT_LINES",
    "Action",
    "InitPlan",
    "apply_plan",
    "compiled_project",
    "gitignore_with",
    "noxfile_source",
    "plan_init",
    "source_files",
    "tool_release_snippet",
    "with_tool_release",
]

import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import tomlkit

from .atomic import write_atomic
from .errors import ConfigError

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
    pyproject_absent: bool = False  # a setup.py / setup.cfg project without pyproject.toml
    pyproject: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # parsed, or {}
    compiled: bool = False  # the workflow is the cibuildwheel matrix (release-compiled.yml)

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.actions if a.fate == "overwrite")


def source_files(package_dir: Path = PACKAGE_DIR) -> dict[str, bytes]:
    """The release/ package as ``{"release/<relative path>": bytes}``, without caches.

    Its user-facing documentation comes with it: ``release/docs/``, so every
    ``release/docs/...`` a message or a template cites exists in the adopted project too.
    """
    files: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(package_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = Path(folder) / name
            if path.suffix in {".pyc", ".pyo"} or not path.is_file():
                continue
            files[f"release/{path.relative_to(package_dir).as_posix()}"] = path.read_bytes()
    return dict(sorted(files.items()))


def noxfile_source(package_dir: Path = PACKAGE_DIR) -> bytes:
    """The noxfile for a project that has none: the release sessions and room for its own.

    Not nox-release's own noxfile.py, whose tests/lint/bench sessions are about this repository.
    """
    return (package_dir / "templates" / "noxfile.py").read_bytes()


def _toml_value(value: Any) -> str:
    return str(tomlkit.item(value).as_string())


# The keys a new project may want to set at once, commented out with an example; every other
# one is in release/docs/configuration.md (the defaults are meant to do for most projects).
SNIPPET = (
    "# smoke-command = \"python -c 'import yourpkg'\"  # run after the install from the test index",
    '# trusted-publisher = {repository = "owner/name", workflow = "release.yml", '
    'environment = "pypi"}',
)
SNIPPET_COMPILED = (
    "# expected-wheels = []  # the wheel tags every release must have: gather prints them",
)


def tool_release_snippet(*, compiled: bool = False) -> str:
    """A short ``[tool.release]`` table: where the full table is, and only the keys this
    project may want at once, commented out (``expected-wheels`` for a compiled project); a
    test checks that each is an option and that, uncommented, they load."""
    lines = [
        "[tool.release]",
        "# nox-release: every key, its RELEASE_<KEY> variable (which wins) and its default are",
        "# in release/docs/configuration.md. Secrets never go here.",
        *SNIPPET,
        *(SNIPPET_COMPILED if compiled else ()),
    ]
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
            "Add a [tool.release] table by hand (release/docs/configuration.md lists its "
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


def _read_pyproject(target: Path) -> tuple[str | None, dict[str, Any]]:
    """(text, data) of pyproject.toml; (None, {}) for a setup.py or setup.cfg project without
    one (it needs none: every [tool.release] option has a default and a RELEASE_* variable)."""
    path = target / "pyproject.toml"
    if not target.is_dir():
        raise ConfigError(
            f"{target} is not a folder.", "Give init the root folder of the project to set up."
        )
    if not path.is_file():
        if (target / "setup.py").is_file() or (target / "setup.cfg").is_file():
            return None, {}
        raise ConfigError(
            f"No pyproject.toml, setup.py or setup.cfg in {target}: init sets up a Python "
            "project's root folder.",
            "Point init at the folder that holds the project's pyproject.toml (or setup.py), "
            "then run it again.",
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


IGNORED = ("dist/", ".nox/")


def gitignore_with(text: str, entries: Sequence[str] = IGNORED) -> str:
    """``text`` (a .gitignore) with the ``entries`` it does not ignore yet appended; the same
    text when it ignores them all (``dist``, ``/dist``, ``dist/`` and ``/dist/`` all count)."""
    present = {line.strip().strip("/") for line in text.splitlines()}
    missing = [e for e in entries if e.strip("/") not in present]
    if not missing:
        return text
    body = text if not text or text.endswith("\n") else text + "\n"
    return body + "# nox-release: build output and nox's environments\n" + "\n".join(missing) + "\n"


def _fate(target: Path, relative: str, content: bytes) -> Fate:
    path = target / relative
    if path.is_dir():
        return "overwrite"  # a folder where a file goes: listed, and --force cannot fix it
    if not path.exists():
        return "create"
    return "unchanged" if path.read_bytes() == content else "overwrite"


# Build backends that exist to build compiled extensions.
COMPILED_BACKENDS = ("scikit_build_core", "mesonpy", "maturin", "enscons", "py_build_cmake")
_EXTENSION_MARKERS = ("ext_modules", "Extension(", "cythonize(", "RustExtension(")


def compiled_project(pyproject: Mapping[str, Any], setup_py: str = "") -> bool:
    """Does the project build compiled extensions (so its wheels differ per platform)?

    From the build backend, ``[tool.setuptools] ext-modules`` / ``[tool.setuptools-rust]``,
    or a setup.py that declares ``ext_modules``.
    """
    build_system = pyproject.get("build-system", {})
    backend = str(build_system.get("build-backend", "")) if isinstance(build_system, dict) else ""
    if backend.split(".")[0].split(":")[0] in COMPILED_BACKENDS:
        return True
    tool = pyproject.get("tool", {})
    if isinstance(tool, dict):
        setuptools = tool.get("setuptools", {})
        if isinstance(setuptools, dict) and setuptools.get("ext-modules"):
            return True
        if "setuptools-rust" in tool:
            return True
    return any(marker in setup_py for marker in _EXTENSION_MARKERS)


def _setup_py(target: Path) -> str:
    path = target / "setup.py"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def _pipeline(
    target: Path, data: Mapping[str, Any], ci: str, compiled: bool | None
) -> tuple[str, bool]:
    """The CI template to copy, and whether it is the compiled (cibuildwheel) one."""
    if compiled and ci != "github":
        raise ConfigError(
            f"--compiled has a GitHub Actions workflow only, not one for --ci {ci}.",
            "Use --ci github, or --no-compiled and add a wheel matrix to your pipeline "
            "(build -- --wheel --from, then gather: release/docs/compiled.md).",
        )
    if compiled is None:
        compiled = ci == "github" and compiled_project(data, _setup_py(target))
    return ("release-compiled.yml" if compiled else CI_PIPELINES[ci][0]), compiled


def _config_actions(
    target: Path,
    text: str | None,
    create_pyproject: bool,
    tool_release_kept: bool,
    *,
    compiled: bool = False,
) -> list[Action]:
    """[tool.release] in pyproject.toml (appended, or a new file when asked), .gitignore."""
    actions: list[Action] = []
    snippet = tool_release_snippet(compiled=compiled)
    if text is None:
        if create_pyproject:
            actions.append(Action("pyproject.toml", "create", snippet.encode("utf-8")))
    elif not tool_release_kept:
        new_text = with_tool_release(text, snippet)
        actions.append(Action("pyproject.toml", "append", new_text.encode("utf-8")))
    gitignore = target / ".gitignore"
    before = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    after = gitignore_with(before)
    if after != before:
        fate: Fate = "append" if gitignore.is_file() else "create"
        actions.append(Action(".gitignore", fate, after.encode("utf-8")))
    return actions


def plan_init(
    target: Path,
    *,
    package: Mapping[str, bytes] | None = None,
    noxfile: bytes | None = None,
    workflow: bytes | None = None,
    ci: str = "github",
    create_pyproject: bool = False,
    compiled: bool | None = None,
) -> InitPlan:
    """Decide every file's fate; read the target, write nothing. ``compiled``: the
    cibuildwheel workflow (True), the one-machine one (False), or detect it (None)."""
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
    template, compiled = _pipeline(target, data, ci, compiled)
    workflow_target = CI_PIPELINES[ci][1]
    if workflow is None:
        workflow = (TEMPLATES / template).read_bytes()
    files[workflow_target.as_posix()] = workflow
    tool = data.get("tool", {})
    tool_release_kept = isinstance(tool, dict) and "release" in tool
    actions = [Action(rel, _fate(target, rel, content), content) for rel, content in files.items()]
    actions += _config_actions(target, text, create_pyproject, tool_release_kept, compiled=compiled)
    return InitPlan(
        tuple(actions),
        noxfile_kept,
        has_import,
        tool_release_kept,
        pyproject_absent=text is None and not create_pyproject,
        pyproject=data,
        compiled=compiled,
    )


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

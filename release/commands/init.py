"""``python -m release init PATH [--force]``: drop nox-release into another project.

Copies the ``release/`` package (this one), a ``noxfile.py`` (only when the project has none:
an existing noxfile is never touched, the import lines to add are printed instead), the
release workflow into ``.github/workflows/release.yml``, and appends a commented
``[tool.release]`` table to ``pyproject.toml``.

Nothing is overwritten without ``--force``: every file that exists with other content is listed
and nothing at all is written. A file already there with the same bytes is left alone, so
running ``init`` twice is harmless. The plan and the writing are :mod:`release.adoption`'s.
"""

from __future__ import annotations

__all__ = ["configure", "run"]

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from .. import backendadvice, gitstate, layout, vcsversion
from ..adoption import (
    CI_PIPELINES,
    IMPORT_LINES,
    InitPlan,
    apply_plan,
    plan_init,
)
from ..metadata import root_pkg_info_version
from ..output import Reporter


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    del command  # the Command protocol's signature; one parser per command
    parser.add_argument("path", type=Path, help="root folder of the project to set up")
    parser.add_argument(
        "--force", action="store_true", help="replace files that exist with other content"
    )
    parser.add_argument(
        "--pyproject",
        action="store_true",
        help="create a pyproject.toml with a commented [tool.release] table when the project "
        "has none (a setup.py or setup.cfg project needs none)",
    )
    parser.add_argument(
        "--no-build-check",
        action="store_true",
        help="do not build the project to check that its backend leaves release/ out",
    )
    parser.add_argument(
        "--ci",
        choices=sorted(CI_PIPELINES),
        default="github",
        help="the release pipeline to write: GitHub Actions (.github/workflows/release.yml, "
        "the default) or GitLab CI/CD (.gitlab-ci.yml)",
    )
    parser.add_argument(
        "--compiled",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the workflow for compiled projects (sdist job + cibuildwheel matrix + gather); "
        "default: detected from the build backend and ext_modules",
    )


def _package_line(plan: InitPlan) -> tuple[str, str] | None:
    """The release/ package in one line: how many files, what happened to them."""
    fates: dict[str, int] = {}
    for action in plan.actions:
        if action.path.startswith("release/"):
            fates[action.fate] = fates.get(action.fate, 0) + 1
    if not fates:
        return None
    label = {"create": "created", "overwrite": "replaced", "unchanged": "unchanged"}
    counts = ", ".join(f"{n} {label.get(fate, fate)}" for fate, n in fates.items())
    mark = "!" if "overwrite" in fates else "+" if "create" in fates else "="
    total = sum(fates.values())
    return f"release/: the package and its docs, {total} files ({counts})", mark


def _print_files(out: Reporter, plan: InitPlan) -> None:
    marks = {"create": "+", "overwrite": "!", "unchanged": "=", "append": "+"}
    label = {"create": "created", "overwrite": "replaced", "unchanged": "unchanged"}
    package = _package_line(plan)
    if package is not None:
        out.line(*package)
    for action in plan.actions:
        if action.path.startswith("release/"):
            if action.fate == "overwrite":  # what --force replaced is named
                out.line(f"{action.path} (replaced)", "!")
            continue
        if action.path == "pyproject.toml" and action.fate in ("append", "create"):
            verb = "appended" if action.fate == "append" else "created with"
            out.line(f"pyproject.toml: {verb} a short, commented [tool.release] table", "+")
        elif action.path == ".gitignore":
            out.line(".gitignore: now ignores dist/ and .nox/", "+")
        else:
            out.line(f"{action.path} ({label[action.fate]})", marks[action.fate])
    _print_kept(out, plan)


def _print_kept(out: Reporter, plan: InitPlan) -> None:
    """What init left as it was, and why."""
    if plan.tool_release_kept:
        out.line("pyproject.toml: [tool.release] already there, left as it is", "=")
    if plan.pyproject_absent:
        out.line(
            "no pyproject.toml, none created: every option has its default, and a RELEASE_* "
            "variable sets it (init --pyproject writes a commented [tool.release] table)",
            "=",
        )
    if plan.noxfile_kept:
        if plan.noxfile_has_import:
            out.line("noxfile.py already imports release.sessions, left as it is", "=")
        else:
            out.line("noxfile.py is yours and was not touched. Add these lines near its top:", "!")
            for line in IMPORT_LINES.splitlines():
                out.line(f"    {line}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _leftovers(target: Path) -> backendadvice.Leftovers | None:
    names = [p.name for p in target.iterdir()] if target.is_dir() else []
    tracked = gitstate.tracked(target, "PKG-INFO")
    return backendadvice.leftovers(names, tracked)


def _check_layout(target: Path, plan: InitPlan, out: Reporter) -> dict[str, Any]:
    """Build the project as it now is (release/ beside it) and say what the backend does; a
    compiled project's sdist only (what ships), never its compiled extension."""
    what = "your sdist" if plan.compiled else "your project"
    out.heading(f"Layout check: building {what} with release/ in it (python -m build)")
    needs_git = backendadvice.sdist_needs_git(plan.pyproject)
    found = layout.probe(target, {}, compiled=plan.compiled, needs_git=needs_git)
    setup_py, setup_cfg = _read_text(target / "setup.py"), _read_text(target / "setup.cfg")
    advice = layout.advice(plan.pyproject, found, setup_py, setup_cfg)
    for item in advice:
        out.warn(item.problem)
        out.line(f"  Fix: {item.fix}")
    if not found.built and not found.breaks_build:
        out.warn("the project does not build here, so its layout was not checked:")
        for line in found.error.splitlines()[-12:]:
            out.line(f"    {line}")
    elif not advice:
        out.ok(
            "your sdist builds, and release/ is not among your wheel's top-level names"
            if plan.compiled
            else "your wheel holds your own packages and not release/"
        )
    setup_text = setup_py + "\n" + setup_cfg
    exclude = layout.sdist_exclude(plan.pyproject, found.sdist_ships, setup_text)
    if found.breaks_build:
        out.line(
            "once the fix is in, running init again (from your nox-release clone) checks the "
            "layout again and says whether release/, noxfile.py and .github/ ship in your sdist",
            "info",
        )
    elif found.sdist_ships:
        out.line(
            f"{', '.join(found.sdist_ships)} will ship in your sdist with "
            f"{backendadvice.backend_name(plan.pyproject, setup_text)}; harmless, but to leave "
            f"them out: {exclude}",
            "info",
        )
    return {
        "checked": found.built or found.breaks_build,
        "advice": [dataclasses.asdict(item) for item in advice],
        "sdist_ships": list(found.sdist_ships),
        "sdist_exclude": exclude,
        "own_packages": [*found.own_packages, *found.own_modules],
        "version": found.version,
    }


def _known_version(target: Path, built: str) -> Version | None:
    """The version the project states: what its build made, else its PKG-INFO's."""
    for text in (built, root_pkg_info_version(target)):
        try:
            return Version(text)
        except InvalidVersion:  # "" included
            continue
    return None


def _next_steps(
    target: Path, plan: InitPlan, configured_format: str | None, known: Version | None
) -> tuple[str | None, list[str]]:
    """(why, commands) that must come before the first rehearsal: for a version made from git
    tags, commit init's files and tag that commit (else the build is a development version)."""
    plugin = gitstate.vcs_plugin_of(target, plan.pyproject)
    if plugin is None:
        return None, []
    state = gitstate.read(target)
    tag_format = configured_format or vcsversion.default_tag_format(plugin)
    why = (
        f"The version comes from git tags ({plugin}): commit init's files and tag that commit, "
        "or the build is a development version (1.2.4.dev1+g…) that no index takes. The "
        "rehearsal uploads only to local indexes; `git tag -d` removes the tag if you do not "
        "release it."
    )
    if plugin == "pbr" and configured_format is None:
        why += ' pbr reads tags without a "v" (5.1.0), and bump_version tags so.'
    return why, list(vcsversion.adoption_steps(state, tag_format, known))


def _commit_steps(target: Path) -> list[str]:
    """A backend whose sdist is what git holds (meson-python): commit init's files, in a new
    repository when there is none."""
    first = [] if gitstate.read(target) is not None else ["git init"]
    return [*first, "git add -A", 'git commit -m "Adopt nox-release"']


def _remove_leftovers(target: Path) -> str:
    names = sorted(
        p.name for p in target.iterdir() if p.name == "PKG-INFO" or p.name.endswith(".egg-info")
    )
    tool = "git rm -r -q" if gitstate.tracked(target, "PKG-INFO") else "rm -r"
    return f"{tool} {' '.join(names)}"


def _all_steps(
    target: Path,
    plan: InitPlan,
    environ: dict[str, str],
    checked: dict[str, Any],
    leftover: bool,
) -> tuple[str | None, list[str], list[str]]:
    """(why, commands, [the rehearsal command]): the leftovers removed, the commit and tag a
    version from git needs (or the commit a meson-python sdist needs), a compiled project's
    repaired wheel."""
    tool = plan.pyproject.get("tool", {})
    table = tool.get("release", {}) if isinstance(tool, dict) else {}
    configured = environ.get("RELEASE_TAG_FORMAT") or table.get("tag-format")
    known = _known_version(target, str(checked.get("version", "")))
    why, commands = _next_steps(target, plan, str(configured) if configured else None, known)
    if not commands and backendadvice.sdist_needs_git(plan.pyproject):
        commands = _commit_steps(target)  # meson dist archives what git holds
    if leftover:
        commands = [_remove_leftovers(target), *commands]
    if not plan.compiled:
        return why, commands, ["nox -s rehearse"]
    *compiled, last = backendadvice.compiled_rehearsal()
    return why, [*commands, *compiled], [last]


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    target: Path = args.path.resolve()
    ci = str(getattr(args, "ci", "github"))
    plan = plan_init(target, ci=ci, create_pyproject=args.pyproject, compiled=args.compiled)
    written = apply_plan(target, plan, force=args.force)
    out.heading(f"nox-release init {target}")
    _print_files(out, plan)
    checked: dict[str, Any] = {"checked": False, "advice": [], "sdist_ships": []}
    leftover = _leftovers(target)
    if leftover:
        out.warn(leftover.problem)
        out.line(f"  Fix: {leftover.fix}")
    if not args.no_build_check:
        checked = _check_layout(target, plan, out)
    why, commands, rehearse = _all_steps(target, plan, environ, checked, leftover is not None)
    out.heading("Next")
    if checked["advice"]:
        out.line("apply the fix above to your build configuration", "info")
    if why:
        out.line(why, "info")
    if plan.compiled:
        out.line(
            "compiled project: this machine builds one wheel, and its linux_x86_64 tag is one "
            "PyPI refuses; repair it with auditwheel (as cibuildwheel does) and rehearse with it",
            "info",
        )
    for command in commands:
        out.line(f"    {command}")
    # pipx: nox in its own environment, also on a system Python that refuses pip (PEP 668).
    out.line(f"pipx run {rehearse[0]}   # a whole release, locally", "info")
    out.line(
        f"register the trusted publishers on TestPyPI and PyPI for {CI_PIPELINES[ci][1]} "
        "(environments testpypi and pypi): see release/docs/adopt.md",
        "info",
    )
    if plan.compiled:
        out.line(
            "compiled project: the workflow builds wheels with cibuildwheel on Linux x86_64 and "
            "aarch64, macOS and Windows, then gathers them; after a first run, paste the "
            "matrix gather prints into [tool.release] expected-wheels (release/docs/compiled.md)",
            "info",
        )
    out.document = {
        "target": str(target),
        "files": [{"path": a.path, "fate": a.fate} for a in plan.actions],
        "written": [a.path for a in written],
        "noxfile": "kept" if plan.noxfile_kept else "copied",
        "noxfile_imports_release": plan.noxfile_has_import or not plan.noxfile_kept,
        "import_lines": IMPORT_LINES if plan.noxfile_kept and not plan.noxfile_has_import else "",
        "tool_release": "kept"
        if plan.tool_release_kept
        else ("none" if plan.pyproject_absent else "appended"),
        "advice": checked["advice"],
        "layout": checked,
        "next_steps": [*commands, *rehearse],
        "workflow": "compiled" if plan.compiled else "pure",
    }
    return 0

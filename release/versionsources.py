"""Where a project's version is written, and the edits a bump makes there.

The sources: a static ``[project].version`` or ``[tool.poetry].version``, a literal
``__version__`` in the package, the files of a dynamic version, ``version-files`` from
[tool.release]; or none, when a VCS plugin (setuptools-scm, hatch-vcs, versioningit, pdm's scm
source) makes the version from git tags. :func:`discover` finds them (reading files),
:func:`plan_bump` computes each file's new text (writing nothing); ``python -m release bump``
(release/commands/bump.py) shows, checks and applies the plan.
"""

from __future__ import annotations

__all__ = [
    "BumpPlan",
    "Discovery",
    "FileEdit",
    "Source",
    "current_of",
    "discover",
    "plan_bump",
    "read_text",
    "tag_for",
    "version_of_tag",
]

import ast
import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
import tomlkit.items
from packaging.utils import canonicalize_name
from packaging.version import VERSION_PATTERN, InvalidVersion, Version

from . import versions
from .errors import ConfigError
from .paths import inside_root, read_capped
from .project import project_name

# A function that rewrites one file's text so that one source holds ``new``.
Rewrite = Callable[[str, str], str]

_VERSION_RE = re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Source:
    """One place that states the version."""

    label: str  # e.g. "pyproject.toml [project].version"
    path: Path
    text: str  # the version exactly as written there
    rewrite: Rewrite = dataclasses.field(compare=False, repr=False)

    @property
    def version(self) -> Version:
        return versions.parse_version(self.text, self.label)


@dataclasses.dataclass(frozen=True)
class Discovery:
    """Where the version lives: files, or (for VCS plugins) git tags."""

    sources: tuple[Source, ...]
    vcs_backend: str | None = None  # set when the version comes from git tags
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FileEdit:
    path: Path
    relpath: str
    before: str
    after: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.relpath}",
                tofile=f"b/{self.relpath}",
            )
        )


@dataclasses.dataclass(frozen=True)
class BumpPlan:
    current: Version
    new: Version
    tag: str
    edits: tuple[FileEdit, ...]  # empty for a tag-only (VCS) bump


# --------------------------------------------------------------------------- sources


def read_text(path: Path) -> str:
    """A regular file's text (capped: never a FIFO or a device); \r\n kept as it is, since
    the rewrite must change nothing but the version."""
    return read_capped(path).decode("utf-8")


def _parse_toml(text: str, path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}.", "Fix the syntax error it names and try again."
        ) from None


def _toml_rewrite(table_path: tuple[str, ...]) -> Rewrite:
    """Set ``table_path + ("version",)`` with tomlkit: comments, spacing, key order and the
    string's quote style survive; only the version's characters change."""

    def rewrite(text: str, new: str) -> str:
        doc = _parse_toml(text, Path("pyproject.toml"))
        table: Any = doc
        for key in table_path:
            table = table[key]
        old = table["version"]
        if isinstance(old, tomlkit.items.String):
            table["version"] = tomlkit.items.String.from_raw(new, type_=old.type)
        else:  # pragma: no cover - discover() only offers string versions
            table["version"] = new
        return tomlkit.dumps(doc)

    return rewrite


def _module_literal(text: str, names: Sequence[str]) -> tuple[str, ast.expr] | None:
    """A module-level ``NAME = "..."`` (or ``NAME: str = "..."``) for one of ``names``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            return target.id, value
    return None


def _lines(text: str) -> list[str]:
    # Split on \n only (\r\n stays whole); str.splitlines would also split on \x0c and
    # friends, which the Python tokenizer does not, and ast's line numbers would slip.
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _python_rewrite(name: str) -> Rewrite:
    """Replace the string literal assigned to ``name``, in place, quotes and all kept.

    Hand-written because no library rewrites one Python literal while keeping every other
    byte: ast finds the literal's exact span, and the splice is checked by re-parsing it.
    """

    def rewrite(text: str, new: str) -> str:
        found = _module_literal(text, [name])
        node = found[1] if found else None
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise ConfigError(f"{name} is no longer a string literal.", "Run the bump again.")
        old: str = node.value
        lines = _lines(text)
        # ast offsets are UTF-8 byte offsets within a line.
        start = sum(len(x) for x in lines[: node.lineno - 1]) + len(
            lines[node.lineno - 1].encode()[: node.col_offset].decode()
        )
        end_line = node.end_lineno or node.lineno
        end = sum(len(x) for x in lines[: end_line - 1]) + len(
            lines[end_line - 1].encode()[: node.end_col_offset].decode()
        )
        literal = text[start:end]
        replaced = literal.replace(old, new, 1)
        try:
            ok = old in literal and ast.literal_eval(replaced) == new
        except (SyntaxError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                f"{name} = {literal} is written in a way this tool cannot rewrite safely.",
                f'Write it as a plain string, {name} = "{old}", and try again.',
            )
        return text[:start] + replaced + text[end:]

    return rewrite


def _python_source(path: Path, root: Path, names: Sequence[str]) -> tuple[Source | None, str]:
    """A literal version in a Python file, or None plus a note saying why not."""
    rel = _rel(path, root)
    found = _module_literal(read_text(path), names)
    if found is None:
        return None, f"{rel}: no {' or '.join(names)} found"
    name, node = found
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None, f"{rel}: {name} is computed, not a literal; left alone"
    return Source(f"{rel} {name}", path, node.value, _python_rewrite(name)), ""


def _template_rewrite(regex: re.Pattern[str]) -> Rewrite:
    def rewrite(text: str, new: str) -> str:
        def one(m: re.Match[str]) -> str:
            a, b = m.start("version") - m.start(), m.end("version") - m.start()
            return m.group(0)[:a] + new + m.group(0)[b:]

        return regex.sub(one, text)

    return rewrite


def _token_regex(version_text: str) -> re.Pattern[str]:
    """``version_text`` as a whole token: not inside a longer version or word."""
    return re.compile(r"(?<![\w.!+-])(?P<version>" + re.escape(version_text) + r")(?![\w+]|[.-]\w)")


def _extra_sources(
    entries: Sequence[str], root: Path, reference: str | None
) -> tuple[list[Source], list[str]]:
    """``version-files`` entries: ``PATH`` (every whole-token occurrence of the current
    version) or ``PATH:TEMPLATE`` where TEMPLATE holds ``{version}`` once."""
    sources: list[Source] = []
    problems: list[str] = []
    for entry in entries:
        rel, _, template = entry.partition(":")
        path = inside_root(root, rel, f"version-files entry {rel.strip()!r}")
        if not path.is_file():
            raise ConfigError(
                f"version-files names {rel.strip()!r}, which is not a file under {root}.",
                "Fix the path in [tool.release] version-files (relative to pyproject.toml).",
            )
        text = read_text(path)
        if template:
            if template.count("{version}") != 1:
                raise ConfigError(
                    f"version-files entry {entry!r}: the pattern must hold {{version}} once.",
                    'Write it as PATH:TEXT{version}TEXT, e.g. docs/conf.py:release = "{version}".',
                )
            before, _, after = template.partition("{version}")
            regex = re.compile(
                re.escape(before) + r"(?P<version>" + VERSION_PATTERN + r")" + re.escape(after),
                re.VERBOSE | re.IGNORECASE,
            )
            found = [m.group("version") for m in regex.finditer(text)]
            if not found:
                problems.append(f"{rel}: the pattern {template!r} is not in the file")
                continue
            for value in dict.fromkeys(found):
                sources.append(Source(f"{rel} ({template})", path, value, _template_rewrite(regex)))
        else:
            if reference is None:
                raise ConfigError(
                    f"version-files entry {entry!r} has no pattern, and no other source says "
                    "which version to look for.",
                    "Give a pattern: PATH:TEXT{version}TEXT, e.g. VERSION.txt:{version}.",
                )
            regex = _token_regex(reference)
            if not regex.search(text):
                problems.append(f"{rel}: does not contain {reference}")
                continue
            sources.append(Source(rel, path, reference, _template_rewrite(regex)))
    return sources, problems


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _vcs_backend(data: Mapping[str, Any]) -> str | None:
    """The VCS plugin that derives a dynamic version from git tags, if any."""
    tool = data.get("tool", {})
    requires = " ".join(str(r) for r in data.get("build-system", {}).get("requires", []))
    requires = requires.lower().replace("_", "-")
    hatch_source = tool.get("hatch", {}).get("version", {}).get("source")
    if "setuptools_scm" in tool or "setuptools-scm" in tool or "setuptools-scm" in requires:
        return "setuptools-scm"
    if hatch_source == "vcs" or "hatch-vcs" in requires:
        return "hatch-vcs"
    if "versioningit" in tool or "versioningit" in requires:
        return "versioningit"
    if tool.get("pdm", {}).get("version", {}).get("source") == "scm":
        return "pdm-backend (scm)"
    return None


def _package_inits(root: Path, data: Mapping[str, Any]) -> list[Path]:
    """The package's ``__init__.py``: src/ layout first, then flat layout."""
    names: list[str] = []
    declared = project_name(data)
    if declared:
        names.append(canonicalize_name(declared).replace("-", "_"))
    for pkg in data.get("tool", {}).get("poetry", {}).get("packages", []) or []:
        if isinstance(pkg, dict) and "include" in pkg:
            names.append(str(pkg["include"]))
    found: list[Path] = []
    for name in dict.fromkeys(names):
        for base in (root / "src", root):
            candidate = base / name / "__init__.py"
            if candidate.is_file():
                found.append(candidate)
                break
        if found:
            break
    return found


def _dynamic_files(root: Path, data: Mapping[str, Any]) -> list[tuple[Path, tuple[str, ...]]]:
    """Files a non-VCS dynamic version is read from: hatch's ``[tool.hatch.version] path``
    and setuptools' ``version = {attr = "pkg.mod.NAME"}``."""
    tool = data.get("tool", {})
    out: list[tuple[Path, tuple[str, ...]]] = []
    hatch_path = tool.get("hatch", {}).get("version", {}).get("path")
    if isinstance(hatch_path, str):
        path = inside_root(root, hatch_path, "[tool.hatch.version] path")
        out.append((path, ("__version__", "VERSION")))
    attr = tool.get("setuptools", {}).get("dynamic", {}).get("version", {})
    if isinstance(attr, dict) and isinstance(attr.get("attr"), str):
        module, _, name = attr["attr"].rpartition(".")
        parts = module.split(".")
        for base in (root / "src", root):
            for candidate in (
                base.joinpath(*parts, "__init__.py"),
                base.joinpath(*parts[:-1], parts[-1] + ".py"),
            ):
                if candidate.is_file():
                    out.append((candidate, (name,)))
                    break
            else:
                continue
            break
    return out


def _table_sources(pyproject: Path, data: Mapping[str, Any], dynamic: bool) -> list[Source]:
    """The static versions in pyproject.toml: ``[project].version``, ``[tool.poetry].version``."""
    project = data.get("project", {})
    if "project" in data and not dynamic and "version" not in project:
        raise ConfigError(
            'No version in [project] of pyproject.toml, and "version" is not in its dynamic list '
            "(a build would fail).",
            'Add version = "0.1.0" to [project], or dynamic = ["version"] with its source.',
        )
    sources: list[Source] = []
    if isinstance(project.get("version"), str) and not dynamic:
        sources.append(
            Source(
                "pyproject.toml [project].version",
                pyproject,
                project["version"],
                _toml_rewrite(("project",)),
            )
        )
    poetry = data.get("tool", {}).get("poetry", {})
    if isinstance(poetry.get("version"), str):
        sources.append(
            Source(
                "pyproject.toml [tool.poetry].version",
                pyproject,
                poetry["version"],
                _toml_rewrite(("tool", "poetry")),
            )
        )
    return sources


def _module_sources(
    root: Path, data: Mapping[str, Any], dynamic: bool
) -> tuple[list[Source], list[str]]:
    """Literal versions in Python files: a dynamic version's file, the package's
    ``__version__``. With notes on files that hold no literal version."""
    sources: list[Source] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for path, names in _dynamic_files(root, data) if dynamic else []:
        if not path.is_file():
            raise ConfigError(
                f"The dynamic version is read from {_rel(path, root)}, which does not exist.",
                "Fix the path in pyproject.toml.",
            )
        source, note = _python_source(path, root, names)
        seen.add(path)
        if source:
            sources.append(source)
        elif note:
            notes.append(note)
    for init in _package_inits(root, data):
        if init in seen:
            continue
        source, note = _python_source(init, root, ["__version__"])
        if source:
            sources.append(source)
        elif note and "no __version__" not in note:
            notes.append(note)
    return sources, notes


def discover(root: Path, pyproject_text: str, extra_files: Sequence[str]) -> Discovery:
    """Every source of the version in the project at ``root``. Reads files, writes nothing."""
    data = _parse_toml(pyproject_text, root / "pyproject.toml").unwrap()
    dynamic = "version" in data.get("project", {}).get("dynamic", [])
    backend = _vcs_backend(data) if dynamic else None
    if backend is not None:
        ignored = f"version-files ignored: {backend} derives the version from git tags"
        return Discovery((), backend, (ignored,) if extra_files else ())
    sources = _table_sources(root / "pyproject.toml", data, dynamic)
    found, notes = _module_sources(root, data, dynamic)
    sources += found
    extras, problems = _extra_sources(extra_files, root, sources[0].text if sources else None)
    sources += extras
    if problems:
        listing = "; ".join(f"{s.label} = {s.text}" for s in sources) or "no other source"
        raise ConfigError(
            "The version sources disagree before the bump: "
            + "; ".join(problems)
            + f" (other sources: {listing}).",
            "Make every source hold the same version (or fix the version-files entry), "
            "commit, and run the bump again.",
        )
    if not sources:
        where = (
            "version is dynamic, but neither a VCS plugin (setuptools-scm, hatch-vcs, "
            "versioningit) nor a file it is read from was found"
            if dynamic
            else "no [project].version, no [tool.poetry].version, no __version__ literal"
        )
        raise ConfigError(
            f"No version found in {root}: {where}.",
            'Add version = "0.1.0" to [project] in pyproject.toml, or list the file that holds '
            "it in [tool.release] version-files.",
        )
    return Discovery(tuple(sources), None, tuple(notes))


def current_of(sources: Sequence[Source]) -> Version:
    """The one version every source states, or ConfigError listing them all."""
    parsed = [(s, s.version) for s in sources]
    distinct = {v for _s, v in parsed}
    if len(distinct) > 1:
        listing = "; ".join(f"{s.label} = {s.text}" for s, _v in parsed)
        raise ConfigError(
            f"The version sources disagree before the bump: {listing}.",
            "Make them all hold the same version, commit, and run the bump again.",
        )
    return parsed[0][1]


# --------------------------------------------------------------------------- plan


def tag_for(tag_format: str, version: Version) -> str:
    """The tag of ``version``; ``tag_format`` holds ``{version}`` once (config checks it)."""
    return tag_format.replace("{version}", str(version))


def version_of_tag(tag_format: str, tag: str) -> Version | None:
    before, _, after = tag_format.partition("{version}")
    if not (tag.startswith(before) and tag.endswith(after)) or len(tag) <= len(before + after):
        return None
    try:
        return Version(tag[len(before) : len(tag) - len(after)])
    except InvalidVersion:
        return None


def plan_bump(
    discovery: Discovery,
    spec: versions.Spec,
    tag_format: str,
    root: Path,
    current_tagged: Version | None = None,
) -> BumpPlan:
    """New version, tag and file contents. Reads the source files, writes nothing."""
    if discovery.vcs_backend is not None:
        current = current_tagged if current_tagged is not None else Version("0.0.0")
        new = versions.bump(current, spec)
        return BumpPlan(current, new, tag_for(tag_format, new), ())
    current = current_of(discovery.sources)
    new = versions.bump(current, spec)
    tag = tag_for(tag_format, new)
    by_path: dict[Path, list[Source]] = {}
    for source in discovery.sources:
        by_path.setdefault(source.path, []).append(source)
    edits = []
    for path, sources in by_path.items():
        before = read_text(path)
        after = before
        for source in sources:
            after = source.rewrite(after, str(new))
        if after != before:
            edits.append(FileEdit(path, _rel(path, root), before, after))
    return BumpPlan(current, new, tag, tuple(edits))

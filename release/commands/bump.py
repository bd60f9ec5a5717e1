"""``python -m release bump SPEC``: rewrite the version sources, or tag, never going backwards.

Steps, in order, and nothing is written until every check has passed:

1. find the version sources (static ``[project].version``, ``[tool.poetry].version``, a literal
   ``__version__`` in the package, dynamic-version files, ``version-files`` from [tool.release]);
   refuse when they disagree. A version from a VCS plugin (setuptools-scm, hatch-vcs,
   versioningit, pdm's scm source) is bumped by an annotated git tag instead;
2. compute the new version (:mod:`release.versions`, pure);
3. read the test and prod indexes: a version either already holds (yanked or not) is refused,
   with the next free one; an index that cannot be read refuses (fail closed) unless ``--offline``;
4. with git (``--git`` or ``git = true``): refuse a dirty tree or an existing tag;
5. ``--dry-run`` prints the unified diff, the commit and the tag, and stops; otherwise write the
   files, commit only them, tag, and push only when asked.
"""

from __future__ import annotations

__all__ = [
    "BumpPlan",
    "Discovery",
    "FileEdit",
    "Source",
    "configure",
    "discover",
    "plan_bump",
    "run",
]

import argparse
import ast
import dataclasses
import difflib
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
import tomlkit.items
from packaging.utils import canonicalize_name
from packaging.version import VERSION_PATTERN, InvalidVersion, Version

from .. import versions
from ..atomic import write_atomic
from ..config import Settings, load_settings
from ..errors import ConfigError, GitFailed, GuardRefusal, IndexUnavailable
from ..index import fetch_index_state
from ..output import Reporter
from ..paths import inside_root
from ..project import project_info, project_name
from ..retry import RetryPolicy

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


def _read_text(path: Path) -> str:
    # newline="" keeps \r\n as it is: the rewrite must change nothing but the version.
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


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
    found = _module_literal(_read_text(path), names)
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
        text = _read_text(path)
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
        before = _read_text(path)
        after = before
        for source in sources:
            after = source.rewrite(after, str(new))
        if after != before:
            edits.append(FileEdit(path, _rel(path, root), before, after))
    return BumpPlan(current, new, tag, tuple(edits))


# --------------------------------------------------------------------------- git


def _git(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed.", "Install git, or bump without --git.") from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise GitFailed(
            f"git {args[0]} failed: {detail[-1] if detail else f'exit {result.returncode}'}.",
            "Fix what git says and run the bump again (see the steps already done above).",
        )
    return result


def _git_tags(root: Path, env: Mapping[str, str]) -> list[str]:
    return _git(["tag", "--list"], root, env).stdout.split()


def _git_preflight(root: Path, env: Mapping[str, str], tag: str) -> None:
    """Refuse before anything is written: not a repository, dirty tree, existing tag."""
    inside = _git(["rev-parse", "--is-inside-work-tree"], root, env, check=False)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise ConfigError(
            f"{root} is not inside a git work tree.",
            "Run `git init` and commit, or bump without --git (and set git = false).",
        )
    head = _git(["rev-parse", "--verify", "-q", "HEAD"], root, env, check=False)
    if head.returncode != 0:
        raise ConfigError("The git repository has no commit yet.", "Commit your project first.")
    status = _git(["status", "--porcelain", "--untracked-files=no"], root, env).stdout
    dirty = [line[3:] for line in status.splitlines() if line.strip()]
    if dirty:
        raise ConfigError(
            f"The git tree has uncommitted changes: {', '.join(dirty[:10])}"
            f"{' …' if len(dirty) > 10 else ''}.",
            "Commit or stash them first: the bump commit holds only the version change.",
        )
    if _git(["check-ref-format", f"refs/tags/{tag}"], root, env, check=False).returncode != 0:
        raise ConfigError(
            f"{tag!r} is not a valid git tag name.", "Change tag-format in [tool.release]."
        )
    if tag in _git_tags(root, env):
        raise ConfigError(
            f"The git tag {tag} already exists.",
            f"Choose another version, or delete the tag if it is wrong: git tag -d {tag}.",
        )


# --------------------------------------------------------------------------- command


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    del command  # the Command protocol's signature; one parser per command
    parser.add_argument(
        "spec",
        metavar="SPEC",
        help="a part (major, minor, patch, alpha, beta, rc, post, dev, release), parts "
        "chained with commas (minor,rc), or an explicit version (2.0.0)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not read the indexes (the new version may already be published)",
    )
    parser.add_argument(
        "--git",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="commit the changed files and tag (default: [tool.release] git)",
    )
    parser.add_argument(
        "--push",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="push the commit and the tag (default: [tool.release] push; implies --git)",
    )
    parser.add_argument(
        "--sign",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sign the tag (git tag -s; default: [tool.release] sign-tags)",
    )


def _check_indexes(settings: Settings, project: str, plan: BumpPlan, out: Reporter) -> None:
    taken: set[Version] = set()
    holders: list[str] = []
    for name in ("test", "prod"):
        index = settings.index(name)
        try:
            state = fetch_index_state(
                index.index_url,
                project,
                policy=RetryPolicy.from_settings(settings),
                timeout=float(settings.get("timeout")),
            )
        except IndexUnavailable as exc:
            inner = exc.message.removesuffix("; nothing was uploaded.").rstrip(".")
            raise IndexUnavailable(
                f"{inner}. The {name} index must be read to know that {plan.new} is free; "
                "nothing was changed.",
                f"{exc.fix} Or run the bump with --offline to skip the check.",
            ) from None
        taken |= state.versions
        if plan.new in state.versions:
            yanked = all(f.yanked for f in state.files_for(plan.new))
            holders.append(f"{name} ({index.index_url}){', yanked' if yanked else ''}")
        where = "no such project yet" if not state.exists else f"{len(state.versions)} version(s)"
        out.line(f"{name} index: {where}", "info")
    if holders:
        free = versions.next_free_version(plan.new, taken)
        higher = sorted(v for v in taken if v > plan.new)
        extra = f" (the highest published is {higher[-1]})" if higher else ""
        raise GuardRefusal(
            f"{plan.new} is already published on the {' and '.join(holders)}; "
            f"an index never takes a version twice{extra}. Nothing was changed.",
            f"Bump to the next free version: python -m release bump {free}",
        )


@dataclasses.dataclass(frozen=True)
class _Options:
    """What the command line and [tool.release] ask for, resolved (the command line wins)."""

    spec: versions.Spec
    dry_run: bool
    offline: bool
    git: bool | None  # --git / --no-git as given (None: not given)
    use_git: bool
    push: bool
    sign: bool
    tag_format: str
    remote: str
    commit_message: str  # template with {old} and {new}


def _options(args: argparse.Namespace, settings: Settings) -> _Options:
    def flag(given: bool | None, key: str) -> bool:
        return bool(settings.get(key)) if given is None else bool(given)

    push = flag(args.push, "push")
    return _Options(
        spec=versions.parse_spec(args.spec),
        dry_run=bool(args.dry_run),
        offline=bool(args.offline),
        git=args.git,
        use_git=flag(args.git, "git") or push,
        push=push,
        sign=flag(args.sign, "sign-tags"),
        tag_format=str(settings.get("tag-format")),
        remote=str(settings.get("git-remote")),
        commit_message=str(settings.get("commit-message")),
    )


def _current_tagged(
    root: Path, environ: Mapping[str, str], discovery: Discovery, options: _Options, out: Reporter
) -> Version | None:
    """For a version from git tags: the highest version tagged so far (None: no tag yet)."""
    if discovery.vcs_backend is None:
        return None
    if options.git is False:
        raise ConfigError(
            f"The version comes from git tags ({discovery.vcs_backend}): a bump is a tag.",
            "Run the bump without --no-git.",
        )
    if _git(["rev-parse", "--git-dir"], root, environ, check=False).returncode != 0:
        raise ConfigError(
            f"The version comes from git tags ({discovery.vcs_backend}), but {root} is not "
            "in a git repository.",
            "Run `git init` and commit, or give [project] a static version.",
        )
    tags = _git_tags(root, environ)
    tagged = [v for t in tags if (v := version_of_tag(options.tag_format, t))]
    if not tagged:
        out.line(f"no tag matches {options.tag_format} yet: counting from 0.0.0", "info")
        return None
    return max(tagged)


def _show_plan(out: Reporter, project: str, discovery: Discovery, plan: BumpPlan) -> None:
    out.heading(f"Bump {project}: {plan.current} -> {plan.new}")
    if discovery.vcs_backend is not None:
        out.line(f"version from git tags ({discovery.vcs_backend}): the bump is the tag {plan.tag}")
        return
    for source in discovery.sources:
        out.line(f"{source.label}: {source.text}", "info")


def _show_dry_run(out: Reporter, plan: BumpPlan, options: _Options, message: str) -> None:
    for edit in plan.edits:
        out.line(edit.diff().rstrip("\n"))
    if options.use_git:
        if plan.edits:
            out.line(f"would commit {', '.join(e.relpath for e in plan.edits)}: {message}")
        out.line(f"would tag {plan.tag} (annotated{', signed' if options.sign else ''})")
        if options.push:
            out.line(f"would push to {options.remote}")
    out.ok("dry run: nothing was written")


def _apply(out: Reporter, plan: BumpPlan) -> None:
    for edit in plan.edits:
        write_atomic(edit.path, edit.after)
        out.ok(f"{edit.relpath}: {plan.current} -> {plan.new}")


def _commit_tag_push(
    root: Path,
    environ: Mapping[str, str],
    plan: BumpPlan,
    options: _Options,
    message: str,
    out: Reporter,
) -> None:
    paths = [e.relpath for e in plan.edits]
    if paths:
        _git(["add", "--", *paths], root, environ)
        _git(["commit", "-q", "-m", message, "--", *paths], root, environ)
        out.ok(f"committed {', '.join(paths)}")
    tag_args = ["tag", "-s" if options.sign else "-a", "-m", f"Release {plan.new}", plan.tag]
    _git(tag_args, root, environ)
    out.ok(f"tagged {plan.tag}{' (signed)' if options.sign else ''}")
    if not options.push:
        out.line(f"not pushed; to push: git push --atomic {options.remote} HEAD {plan.tag}", "info")
        return
    refs = (["HEAD"] if paths else []) + [f"refs/tags/{plan.tag}"]
    _push(root, environ, options, refs, out)


# In the git folder: the tag of a bump whose push failed, and the commit it tagged. The same
# bump command, run again, pushes them instead of bumping twice.
UNPUSHED = "nox-release-unpushed-bump"


def _git_dir(root: Path, environ: Mapping[str, str]) -> Path:
    found = _git(["rev-parse", "--absolute-git-dir"], root, environ).stdout.strip()
    return Path(found)


def _push(
    root: Path, environ: Mapping[str, str], options: _Options, refs: list[str], out: Reporter
) -> None:
    """Push ``refs`` atomically; a failure says that the commit and the tag are made, and how
    to finish: the same bump command again pushes them (it does not bump twice)."""
    command = ["push", "--atomic", options.remote, *refs]
    marker = _git_dir(root, environ) / UNPUSHED
    tag = refs[-1].removeprefix("refs/tags/")
    head = _git(["rev-parse", "HEAD"], root, environ).stdout.strip()
    try:
        _git(command, root, environ)
    except GitFailed as exc:
        marker.write_text(f"{tag} {head}\n", encoding="utf-8")
        raise GitFailed(
            exc.message + " The version change is committed and tagged here; only the push "
            "is missing.",
            "Fix what git says (remote, network, permissions), then run the same bump command "
            "again: it pushes what this run made and does not bump twice. Or push by hand: "
            f"git {' '.join(command)}",
        ) from None
    marker.unlink(missing_ok=True)
    out.ok(f"pushed {' and '.join(refs)} to {options.remote}")
    out.document["pushed"] = True


def _unpushed_bump(
    root: Path, environ: Mapping[str, str], plan: BumpPlan, options: _Options
) -> str | None:
    """The tag of an earlier bump whose push failed, when HEAD is still the commit it tagged
    and the tag is the current version's. None when there is no such bump to finish (a
    record left by a bump that no longer matches is removed)."""
    inside = _git(["rev-parse", "--absolute-git-dir"], root, environ, check=False)
    marker = Path(inside.stdout.strip()) / UNPUSHED
    if inside.returncode != 0 or not marker.is_file():
        return None
    tag, _, commit = marker.read_text(encoding="utf-8").strip().partition(" ")
    head = _git(["rev-parse", "HEAD"], root, environ, check=False).stdout.strip()
    tagged = _git(["rev-list", "-n", "1", f"refs/tags/{tag}"], root, environ, check=False)
    if (
        commit == head
        and tagged.stdout.strip() == head
        and tag == tag_for(options.tag_format, plan.current)
    ):
        return tag
    marker.unlink(missing_ok=True)
    return None


def _finish_earlier_bump(
    root: Path,
    environ: Mapping[str, str],
    options: _Options,
    tag: str,
    out: Reporter,
    *,
    edits: bool,
) -> None:
    """Push what an earlier run committed and tagged, instead of bumping again."""
    out.line(
        f"{tag} is at HEAD and not on {options.remote}: an earlier bump made the commit and "
        "the tag but did not push them; pushing them now (no second bump)",
        "info",
    )
    refs = (["HEAD"] if edits else []) + [f"refs/tags/{tag}"]
    if options.dry_run:
        out.line(f"would push {' and '.join(refs)} to {options.remote}")
        out.ok("dry run: nothing was written")
        return
    _push(root, environ, options, refs, out)


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    """The steps of the module docstring, in order; nothing is written before the last one."""
    root: Path = args.root
    settings = load_settings(root, environ)
    options = _options(args, settings)
    # Discover: where the version lives (files, or git tags for a VCS plugin).
    pyproject_text = _read_text(root / "pyproject.toml")
    discovery = discover(root, pyproject_text, list(settings.get("version-files")))
    if discovery.vcs_backend is not None:
        options = dataclasses.replace(options, use_git=True)
    current_tagged = _current_tagged(root, environ, discovery, options, out)
    for note in discovery.notes:
        out.line(note, "info")
    # Plan: the new version, its tag and the files' new contents.
    plan = plan_bump(discovery, options.spec, options.tag_format, root, current_tagged)
    project = project_info(settings.pyproject).name
    if options.push:
        earlier = _unpushed_bump(root, environ, plan, options)
        if earlier is not None:
            out.heading(f"Bump {project}: {plan.current}, already bumped; push")
            out.document.update(
                {
                    "current": str(plan.current),
                    "new": str(plan.current),
                    "files": [],
                    "tag": earlier,
                    "dry_run": options.dry_run,
                    "pushed": False,
                    "resumed": True,
                }
            )
            _finish_earlier_bump(root, environ, options, earlier, out, edits=bool(plan.edits))
            return 0
    _show_plan(out, project, discovery, plan)
    # Check: the indexes do not hold the new version; git is ready to commit and tag.
    if options.offline:
        out.warn(f"--offline: the indexes were not read; {plan.new} may already be published")
    else:
        _check_indexes(settings, project, plan, out)
    if options.use_git:
        _git_preflight(root, environ, plan.tag)
    # Show or apply.
    message = options.commit_message.replace("{old}", str(plan.current))
    message = message.replace("{new}", str(plan.new))
    out.document.update(
        {
            "current": str(plan.current),
            "new": str(plan.new),
            "files": [e.relpath for e in plan.edits],
            "tag": plan.tag if options.use_git else None,
            "dry_run": options.dry_run,
            "pushed": False,
        }
    )
    if options.dry_run:
        _show_dry_run(out, plan, options, message)
    else:
        _apply(out, plan)
        if options.use_git:
            _commit_tag_push(root, environ, plan, options, message, out)
    return 0

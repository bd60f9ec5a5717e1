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

__all__ = ["configure", "run"]

import argparse
import dataclasses
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.version import Version

from .. import versions
from ..atomic import write_atomic
from ..config import Settings, load_settings
from ..errors import ConfigError, GitFailed, GuardRefusal, IndexUnavailable
from ..gitstate import tag_format
from ..index import fetch_index_state
from ..indexstate import Keep, VersionSet
from ..output import Reporter
from ..project import project_info
from ..retry import RetryPolicy
from ..versionsources import (
    BumpPlan,
    Discovery,
    discover,
    plan_bump,
    read_text,
    tag_for,
    version_of_tag,
)

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
    taken = VersionSet()
    highest: list[Version] = []  # each index's, as it spells it
    holders: list[str] = []
    for name in ("test", "prod"):
        index = settings.index(name)
        try:
            state = fetch_index_state(
                index.index_url,
                project,
                policy=RetryPolicy.from_settings(settings),
                timeout=float(settings.get("timeout")),
                keep=Keep.of(plan.new),
            )
        except IndexUnavailable as exc:
            inner = exc.message.removesuffix("; nothing was uploaded.").rstrip(".")
            raise IndexUnavailable(
                f"{inner}. The {name} index must be read to know that {plan.new} is free; "
                "nothing was changed.",
                f"{exc.fix} Or run the bump with --offline to skip the check.",
            ) from None
        taken |= state.versions
        highest += [state.latest] if state.latest is not None else []
        if plan.new in state.versions:
            yanked = all(f.yanked for f in state.files_for(plan.new))
            holders.append(f"{name} ({index.index_url}){', yanked' if yanked else ''}")
        where = "no such project yet" if not state.exists else f"{len(state.versions)} version(s)"
        out.line(f"{name} index: {where}", "info")
    if holders:
        free = versions.next_free_version(plan.new, taken)
        top = max(highest, default=None)
        extra = f" (the highest published is {top})" if top is not None and top > plan.new else ""
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
        tag_format=tag_format(settings),
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
    pyproject_text = read_text(root / "pyproject.toml")
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

"""Build a release again from its commit and compare every file (I/O; decisions in reprodiff).

:func:`reproduce` takes the manifest's ``source`` (release.manifest.Source): it checks the
commit out into a detached git worktree of its own (no untracked, no ignored file; the
repository's tags as they are, so VCS versions come out the same), builds with the recorded
``SOURCE_DATE_EPOCH`` in fresh isolated environments whose build requirements are pinned to
the recorded versions, and compares the rebuilt files with dist/ or with what an index serves
for the version, member by member when they differ (release.reprodiff).
"""

from __future__ import annotations

__all__ = [
    "FileResult",
    "Outcome",
    "Rebuilt",
    "clock_bound",
    "compare",
    "download_release",
    "fits",
    "kind_of_release",
    "rebuild",
    "reproduce",
    "require_source",
]

import contextlib
import dataclasses
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from . import http, reprodiff
from .buildrun import installer, run_build
from .contained import Stoppable
from .distdir import hash_file
from .endpoints import strip_credentials
from .errors import CannotReproduce, IndexUnavailable
from .indexstate import IndexFile
from .manifest import Manifest, Source
from .project import BuildKind
from .retry import Transient


@dataclasses.dataclass(frozen=True)
class FileResult:
    filename: str
    status: reprodiff.Status
    released_sha256: str  # "" when the compared place does not hold it
    rebuilt_sha256: str  # "" when the rebuild did not make it
    comparison: reprodiff.Comparison | None = None

    @property
    def fine(self) -> bool:
        return self.status in reprodiff.FINE

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "filename": self.filename,
            "status": self.status,
            "released_sha256": self.released_sha256,
            "rebuilt_sha256": self.rebuilt_sha256,
        }
        if self.comparison is not None:
            data["differences"] = [dataclasses.asdict(d) for d in self.comparison.differences]
            data["causes"] = [dataclasses.asdict(c) for c in self.comparison.causes]
        return data


@dataclasses.dataclass(frozen=True)
class Outcome:
    against: str  # "dist/" or the index's name
    commit: str
    source_date_epoch: int | None
    files: tuple[FileResult, ...]
    seconds: float
    beside_build: bool = False  # the rebuild ran at the same time as the build it checks

    @property
    def identical(self) -> bool:
        return all(f.fine for f in self.files) and any(f.status == "identical" for f in self.files)

    def to_json(self) -> dict[str, object]:
        return {
            "against": self.against,
            "commit": self.commit,
            "source_date_epoch": self.source_date_epoch,
            "reproduced": self.identical,
            "files": [f.to_json() for f in self.files],
            "seconds": round(self.seconds, 1),
            "beside_build": self.beside_build,
        }


def require_source(manifest: Manifest) -> Source:
    """The manifest's source, when a rebuild can be tried; CannotReproduce (exit 2) when not."""
    source = manifest.source
    if source is None or not source.commit:
        raise CannotReproduce(
            f"The manifest of {manifest.name} {manifest.version} records no source commit: "
            "it was built outside a git work tree, by an older nox-release, or recorded from "
            "another tool's wheels (--from).",
            "Build the release with `nox -s build` in a git checkout of the commit to release; "
            "reproduce then rebuilds that commit.",
        )
    if not source.clean:
        raise CannotReproduce(
            f"{manifest.name} {manifest.version} was built from a tree with changes not "
            f"committed (commit {source.commit[:12]} plus local files): no commit holds what "
            "was built.",
            "Commit (or remove) the changes, build again from the clean tree, then reproduce.",
        )
    return source


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=300
    )


@contextlib.contextmanager
def _clean_export(root: Path, commit: str) -> Iterator[Path]:
    """The project's folder in a detached worktree of ``commit`` (removed afterwards)."""
    if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise CannotReproduce(
            f"Commit {commit[:12]} (the release's source) is not in the git repository at {root}.",
            "Fetch it (git fetch origin; in CI check out with fetch-depth: 0), then run "
            "reproduce again.",
        )
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()
    with tempfile.TemporaryDirectory(prefix="nox-release-reproduce-") as tmp:
        tree = Path(tmp) / "src"
        hooks = Path(tmp) / "no-hooks"  # a post-checkout hook must not change the export
        hooks.mkdir()
        added = _git(
            root,
            "-c",
            f"core.hooksPath={hooks}",
            "worktree",
            "add",
            "--detach",
            "--quiet",
            str(tree),
            commit,
        )
        if added.returncode != 0:
            raise CannotReproduce(
                f"git could not check out {commit[:12]}: {added.stderr.strip()}",
                "Fix the repository (git worktree prune), then run reproduce again.",
            )
        try:
            yield tree / prefix if prefix else tree
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))
            _git(root, "worktree", "prune")


def _plain_name(name: str) -> bool:
    """A file name to save under in our own folder: no separator, no dot file, no control."""
    return (
        bool(name)
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and all(ord(c) >= 32 for c in name)
    )


def download_release(
    files: tuple[IndexFile, ...], dest: Path, *, timeout: float, cap: int
) -> dict[str, Path]:
    """Fetch the files an index serves for the version (each at most ``cap`` bytes; no
    credential is sent, redirects are followed a few times)."""
    dest.mkdir(parents=True, exist_ok=True)
    got: dict[str, Path] = {}
    limits = http.Limits.file(timeout, cap)
    with http.make_session("reproduce download") as session:
        for f in files:
            if not _plain_name(f.filename):
                raise IndexUnavailable(
                    f"The index lists a file named {f.filename!r}, which is not a plain file "
                    "name: nothing was downloaded.",
                    "Check the index (its project page for this version).",
                )
            target = dest / f.filename
            url = f.url
            try:
                with target.open("wb") as sink:
                    answer, url = http.download(session, url, sink, limits=limits)
            except Transient as exc:
                raise IndexUnavailable(
                    f"Could not download {strip_credentials(url)}: {exc.what}.",
                    "Check that the index serves its files, then run reproduce again.",
                ) from None
            if answer.status != 200:
                raise IndexUnavailable(
                    f"Could not download {strip_credentials(url)}: HTTP {answer.status}.",
                    "Check that the index serves its files, then run reproduce again.",
                )
            got[f.filename] = target
    return got


@dataclasses.dataclass(frozen=True)
class Rebuilt:
    """A clean rebuild of ``commit``: its files in ``outdir`` (the caller removes it)."""

    commit: str
    source_date_epoch: int | None
    kind: BuildKind
    requirements: dict[str, str]  # what its isolated environments installed (name -> version)
    outdir: Path
    files: dict[str, Path]
    seconds: float


def kind_of_release(manifest: Manifest) -> BuildKind:
    kinds = {f.kind for f in manifest.files}
    return "both" if len(kinds) == 2 else "sdist" if kinds == {"sdist"} else "wheel"


def rebuild(
    root: Path,
    commit: str,
    epoch: int | None,
    kind: BuildKind,
    *,
    environ: Mapping[str, str],
    choice: str,
    pins: Mapping[str, str] | None = None,
    stoppable: Stoppable | None = None,
) -> Rebuilt:
    """Build ``kind`` of ``commit`` in a clean checkout of its own, with ``epoch`` as
    SOURCE_DATE_EPOCH and the build requirements constrained to ``pins`` when given. Needs only
    the commit: release and the rehearsal start it beside their own build (see :func:`fits`)."""
    started = time.monotonic()
    outdir = Path(tempfile.mkdtemp(prefix="nox-release-rebuilt-"))
    try:
        with _clean_export(root, commit) as project:
            record = run_build(
                project,
                outdir,
                kind,
                using=installer(choice, True),
                environ=environ,
                epoch=epoch,
                pins=pins,
                stoppable=stoppable,
            )
    except BaseException:
        shutil.rmtree(outdir, ignore_errors=True)
        raise
    files = {p.name: p for p in sorted(outdir.iterdir()) if p.is_file()}
    return Rebuilt(
        commit, epoch, kind, record.requirements, outdir, files, time.monotonic() - started
    )


def fits(rebuilt: Rebuilt, manifest: Manifest) -> str | None:
    """PURE. Why a rebuild started before the build is not the one the manifest asks for
    (another commit, SOURCE_DATE_EPOCH, kind of files, or other build requirements than the
    build installed: a pinned rebuild would have installed those), or None when it is."""
    source = require_source(manifest)
    if rebuilt.commit != source.commit:
        return f"the build is of commit {source.commit[:12]}, not {rebuilt.commit[:12]}"
    if rebuilt.source_date_epoch != source.source_date_epoch:
        return "the build used another SOURCE_DATE_EPOCH"
    if rebuilt.kind != kind_of_release(manifest):
        return "the release holds other kinds of files"
    if rebuilt.requirements != dict(source.requirements):
        changed = sorted(
            name
            for name in set(rebuilt.requirements) | set(source.requirements)
            if rebuilt.requirements.get(name) != source.requirements.get(name)
        )
        return "its build requirements resolved otherwise (" + ", ".join(changed[:3]) + ")"
    return None


def _result(
    name: str, status: reprodiff.Status, released: Mapping[str, Path], rebuilt: Mapping[str, Path]
) -> FileResult:
    old = hash_file(released[name])[0] if name in released else ""
    new = hash_file(rebuilt[name])[0] if name in rebuilt else ""
    comparison = None
    if status == "differs":
        comparison = reprodiff.compare(
            name, released[name].read_bytes(), rebuilt[name].read_bytes()
        )
    elif status == "foreign":
        comparison = reprodiff.Comparison(name, False, (), (reprodiff.CAUSES["other-file"],))
    return FileResult(name, status, old, new, comparison)


def compare(
    manifest: Manifest, released: Mapping[str, Path], rebuilt: Rebuilt, *, against: str
) -> Outcome:
    """``rebuilt`` (see :func:`fits`) against ``released`` (filename -> file)."""
    started = time.monotonic()
    fate = reprodiff.classify(
        {n: hash_file(p)[0] for n, p in released.items()},
        {n: hash_file(p)[0] for n, p in rebuilt.files.items()},
        {f.filename: f.sha256 for f in manifest.files},
    )
    results = tuple(_result(n, s, released, rebuilt.files) for n, s in fate.items())
    seconds = rebuilt.seconds + time.monotonic() - started
    return Outcome(against, rebuilt.commit, rebuilt.source_date_epoch, results, seconds)


def clock_bound(outcome: Outcome, released: Mapping[str, Path]) -> list[str]:
    """The identical files that carry times later than SOURCE_DATE_EPOCH: their bytes depend on
    when they were built, so a rebuild that ran at the same time as the build proves nothing
    for them (release and the rehearsal rebuild once more, afterwards)."""
    epoch = outcome.source_date_epoch
    if epoch is None:
        return []
    return [
        f.filename
        for f in outcome.files
        if f.status == "identical"
        and f.filename in released
        and reprodiff.stamped_after(f.filename, released[f.filename].read_bytes(), epoch)
    ]


def reproduce(
    root: Path,
    manifest: Manifest,
    released: Mapping[str, Path],
    *,
    against: str,
    environ: Mapping[str, str],
    build_installer: str = "auto",
) -> Outcome:
    """Rebuild the manifest's commit and compare with ``released`` (filename -> file)."""
    source = require_source(manifest)
    made = rebuild(
        root,
        source.commit,
        source.source_date_epoch,
        kind_of_release(manifest),
        environ=environ,
        choice=build_installer,
        pins=source.requirements,
    )
    try:
        return compare(manifest, released, made, against=against)
    finally:
        shutil.rmtree(made.outdir, ignore_errors=True)

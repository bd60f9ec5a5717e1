"""``python -m release reproduce [--index test|prod]``: build the release again from its commit
and compare every file with dist/ or with what the index serves (release/docs/reproduce.md).

Also the gate of ``release`` and the rehearsal (``reproducible = off|check|require``): after the
build, before anything is uploaded.
"""

from __future__ import annotations

__all__ = ["Beside", "beside_build", "configure", "dry_gate", "gate", "reproduce", "run"]

import argparse
import contextlib
import dataclasses
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..config import IndexName
from ..contained import Stoppable
from ..distdir import load_manifest
from ..errors import CannotReproduce, NotReproducible
from ..gitstate import project_checkout
from ..indexstate import Keep
from ..manifest import Manifest
from ..output import Reporter
from ..reprodiff import visible
from ..reproduce import (
    FileResult,
    Outcome,
    Rebuilt,
    clock_bound,
    compare,
    download_release,
    fits,
    rebuild,
    require_source,
)
from ..reproduce import reproduce as rebuild_and_compare
from .build import source_date_epoch
from .context import Context, from_args, load_checked

SHOWN = 8  # differences shown per file (the --json document has them all)
MB = 1 << 20


def _python_note(out: Reporter, manifest: Manifest) -> None:
    here = f"{platform.python_implementation().lower()}-{platform.python_version()}"
    built = {r.python for r in manifest.runners.values()}
    if built and here not in built:
        out.wrapped(
            f"the release was built with {', '.join(sorted(built))}, this is {here}: wheels "
            "(compression, compiled code) may differ for that reason alone",
            "info",
        )


def _report_file(out: Reporter, f: FileResult) -> None:
    if f.status == "identical":
        out.file(f.filename, f"identical (sha256 {f.released_sha256[:16]}…)", "ok")
        return
    if f.fine:
        why = {
            "other-platform": "a wheel for another platform: not rebuilt on this machine",
            "not-released": "made by the rebuild, not a file of the release",
        }[f.status]
        out.file(f.filename, why, "info")
        return
    out.file(f.filename, f.status, "fail")
    comparison = f.comparison
    if comparison is None:
        return
    for d in comparison.differences[:SHOWN]:
        out.wrapped(f"{d.member or '(the archive)'}: {d.aspect}: {d.detail}", indent=4)
        for text in d.diff:
            out.wrapped(visible(text), indent=8)
    if len(comparison.differences) > SHOWN:
        out.line(f"    ... {len(comparison.differences) - SHOWN} more (see --json)")
    for cause in comparison.causes:
        out.wrapped(f"cause: {cause.cause}", indent=4)
        out.wrapped(f"fix: {cause.fix}", indent=4)


def report(out: Reporter, outcome: Outcome) -> None:
    for f in outcome.files:
        _report_file(out, f)
    out.document["reproduce"] = outcome.to_json()
    verdict = "reproduced: identical" if outcome.identical else "NOT reproduced"
    beside = ", rebuilt beside the build" if outcome.beside_build else ""
    out.line(f"{verdict} ({outcome.seconds:.1f}s{beside})", "ok" if outcome.identical else "fail")


def _failure(outcome: Outcome, name: str) -> NotReproducible:
    bad = [f for f in outcome.files if not f.fine]
    fixes = dict.fromkeys(
        c.fix for f in bad if f.comparison is not None for c in f.comparison.causes
    )
    return NotReproducible(
        f"A clean rebuild of commit {outcome.commit[:12]} does not give the files of {name} "
        f"({outcome.against}): "
        + "; ".join(
            f"{f.filename} {f.status}"
            + (f" ({', '.join(f.comparison.members()[:3])})" if f.comparison else "")
            for f in bad
        )
        + ".",
        " ".join(fixes) or "See the differences above (release/docs/reproduce.md).",
    )


def _released(
    ctx: Context, manifest: Manifest, index: IndexName | None, tmp: Path
) -> dict[str, Path]:
    """filename -> file: dist/ as recorded, or what the index serves for the version."""
    if index is None:
        dist = ctx.settings.dist_dir
        return {f.filename: dist / f.filename for f in manifest.files}
    settings = ctx.settings.index(index)
    state = ctx.read(settings, manifest.name, Keep.of(manifest.parsed_version))
    files = state.files_for(manifest.parsed_version)
    ctx.reporter.line(
        f"the {index} index serves {len(files)} file(s) of {manifest.name} {manifest.version}",
        "info",
    )
    cap = int(ctx.settings.get("file-size-limit")) * MB
    return download_release(files, tmp, timeout=ctx.timeout, cap=cap)


@dataclasses.dataclass(frozen=True)
class Beside:
    """The gate's rebuild of HEAD, started before the build (see :func:`beside_build`)."""

    future: Future[Rebuilt | None]


def _rebuild_head(ctx: Context, stoppable: Stoppable) -> Rebuilt | None:
    """A clean rebuild of HEAD as the build about to run will record it, or None when the
    project's folder is no clean commit (the gate then says why, as before)."""
    settings = ctx.settings
    head = project_checkout(settings.root, settings.dist_dir)
    if head is None or not head.clean:
        return None
    return rebuild(
        settings.root,
        head.commit,
        source_date_epoch(ctx.environ, head),
        "both",
        environ=ctx.environ,
        choice=str(settings.get("build-installer")),
        stoppable=stoppable,
    )


@contextlib.contextmanager
def beside_build(ctx: Context) -> Iterator[Beside | None]:
    """``with beside_build(ctx) as beside: build(ctx); gate(ctx, beside)``: the gate's rebuild
    needs only the commit, so it runs in a thread beside the build (two builds on two cores)
    and is compared when both are done; nothing is uploaded before :func:`gate` has its
    verdict. None when the check is off, is ``require`` or this is a dry run. Two builds at
    the same time agree on any clock a build leaks: :func:`release.reproduce.clock_bound`
    catches it in archive times, not in a file's contents (a module that records the build's
    minute), so ``require``, which stops a release on the verdict, rebuilds after the build
    as before, pinned to what the build installed. On leaving, the rebuild is
    waited for and its files removed; when the build failed or was interrupted, the rebuild's
    processes are ended first (a long rebuild must not hold up the failure)."""
    if ctx.dry_run or str(ctx.settings.get("reproducible")) != "check":
        yield None
        return
    stoppable = Stoppable()
    with ThreadPoolExecutor(1, thread_name_prefix="reproduce") as pool:
        future = pool.submit(_rebuild_head, ctx, stoppable)
        try:
            yield Beside(future)
        except BaseException:
            stoppable.stop()
            raise
        finally:
            try:
                made = future.result()  # its checkout and build end before we go on
            except Exception:  # raised to the gate already, or the build failed first
                made = None
            if made is not None:
                shutil.rmtree(made.outdir, ignore_errors=True)


def _taken(ctx: Context, manifest: Manifest, beside: Beside | None) -> Rebuilt | None:
    """The rebuild made beside the build, when it is the one the manifest asks for."""
    if beside is None:
        return None
    if not beside.future.done():
        with ctx.reporter.running("waiting for the rebuild of the commit"):
            beside.future.result()
    made = beside.future.result()  # its failure is the gate's, as when rebuilt afterwards
    if made is None:
        return None
    why = fits(made, manifest)
    if why is not None:
        ctx.reporter.wrapped(f"the rebuild made beside the build does not fit: {why}", "info")
        return None
    return made


def _outcome(
    ctx: Context,
    manifest: Manifest,
    released: dict[str, Path],
    against: str,
    beside: Beside | None,
) -> Outcome:
    """The rebuild beside the build, compared; else (or when that cannot prove anything) a
    rebuild now, pinned to the build's requirements."""
    made = _taken(ctx, manifest, beside)
    if made is not None:
        outcome = dataclasses.replace(
            compare(manifest, released, made, against=against), beside_build=True
        )
        stamped = clock_bound(outcome, released)
        if not stamped:
            return outcome
        ctx.reporter.wrapped(
            f"{', '.join(stamped)}: identical, but stamped later than SOURCE_DATE_EPOCH, and "
            "the rebuild ran at the same time as the build: rebuilding once more, now",
            "info",
        )
    return rebuild_and_compare(
        ctx.settings.root,
        manifest,
        released,
        against=against,
        environ=ctx.environ,
        build_installer=str(ctx.settings.get("build-installer")),
    )


def _record_time(out: Reporter, outcome: Outcome, started: float) -> None:
    """The summary's ``time:``: the rebuild's own seconds and, when it ran beside the build,
    the seconds waited for it after the build (its comparison included)."""
    if outcome.beside_build:
        out.record_time("reproduce", outcome.seconds, beside="build")
        out.record_time("reproduce_wait", time.monotonic() - started)
    else:
        out.record_time("reproduce", time.monotonic() - started)


def reproduce(ctx: Context, index: IndexName | None, beside: Beside | None = None) -> Outcome:
    out = ctx.reporter
    # compared with dist/: its files must be the manifest's; with an index, only the manifest
    # is needed (a fresh runner with the build job's artifact, or just its manifest)
    manifest = load_checked(ctx) if index is None else load_manifest(ctx.settings.dist_dir)
    source = require_source(manifest)
    against = "dist/" if index is None else f"the {index} index"
    out.heading(f"reproduce: {manifest.name} {manifest.version} from {source.commit[:12]}")
    out.wrapped(
        f"a clean checkout of commit {source.commit[:12]}, SOURCE_DATE_EPOCH="
        f"{source.source_date_epoch}, built again and compared with {against}",
        "info",
    )
    _python_note(out, manifest)
    if ctx.dry_run:
        out.line(f"would rebuild in a clean checkout and compare with {against}")
        return Outcome(against, source.commit, source.source_date_epoch, (), 0.0)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nox-release-released-") as tmp:
        released = _released(ctx, manifest, index, Path(tmp))
        outcome = _outcome(ctx, manifest, released, against, beside)
    _record_time(out, outcome, started)
    report(out, outcome)
    verdict = "identical" if outcome.identical else "differs"
    out.add_summary(
        f"reproduce: {manifest.name} {manifest.version} from {source.commit[:12]} vs "
        f"{against}: {verdict} ({outcome.seconds:.1f}s)"
    )
    if not outcome.identical:
        raise _failure(outcome, f"{manifest.name} {manifest.version}")
    return outcome


def gate(ctx: Context, beside: Beside | None = None) -> str:
    """``reproducible`` in release and the rehearsal, after the build: "identical",
    "differs", "cannot" (no clean commit) or "off". ``require`` raises instead of returning
    anything but "identical" or "off". ``beside``: the rebuild started with the build."""
    mode = str(ctx.settings.get("reproducible"))
    if mode == "off":
        return "off"
    try:
        reproduce(ctx, None, beside)
    except CannotReproduce as exc:
        if mode == "require":
            raise
        ctx.reporter.wrapped(f"reproducible: not checked: {exc.message}", "warn")
        ctx.reporter.add_summary("reproduce: not checked (no clean commit to rebuild)")
        return "cannot"
    except NotReproducible as exc:
        if mode == "require":
            raise
        ctx.reporter.wrapped(f'{exc.message} (reproducible = "check": going on)', "warn")
        return "differs"
    return "identical"


def dry_gate(ctx: Context) -> None:
    """What the gate of a real release would do (``release --dry-run``): no rebuild, the
    commit's state only; ``require`` with nothing to rebuild fails as the real run would."""
    mode = str(ctx.settings.get("reproducible"))
    if mode == "off":
        ctx.reporter.line('reproducible = "off": no rebuild before uploading', "info")
        return
    head = project_checkout(ctx.settings.root, ctx.settings.dist_dir)
    if head is None or not head.clean:
        why = (
            "not a git work tree with a commit"
            if head is None
            else f"changes not committed: {', '.join(head.dirty[:3])}"
        )
        if mode == "require":
            raise CannotReproduce(
                f'reproducible = "require", but the build would not come from a commit ({why}).',
                "Commit (or remove) the changes, then release from the clean tree.",
            )
        ctx.reporter.wrapped(f"would not check reproducibility ({why})", "warn")
        return
    what = "a difference stops the release (exit 9)" if mode == "require" else "a difference warns"
    ctx.reporter.wrapped(
        f"would rebuild commit {head.commit[:12]} in a clean checkout and compare with the "
        f"build before uploading ({what})",
        "info",
    )


def configure(_command: str, _parser: argparse.ArgumentParser) -> None:
    """reproduce's options (--json, --dry-run and --index) are declared in release.cli."""


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    index: IndexName | None = None if args.index == "dist" else args.index
    reproduce(from_args(args, environ, out), index)
    return 0

"""``python -m release plan``: what an upload to each index would do; nothing changes."""

from __future__ import annotations

__all__ = ["configure", "plan", "run"]

import argparse

from .. import guard
from ..config import IndexName
from ..errors import (
    ExitCode,
    IndexUnavailable,
)
from ..index import for_a_read
from ..output import Reporter
from .checks import plan_for, print_plan
from .context import Context, from_args, load_checked


def plan(ctx: Context, names: tuple[IndexName, ...]) -> int:
    manifest = load_checked(ctx)
    worst = ExitCode.OK
    for name in names:
        index = ctx.settings.index(name)
        try:
            p = plan_for(ctx, index, manifest)
        except IndexUnavailable as failed:
            exc = for_a_read(failed)
            ctx.reporter.fail(str(exc))
            if exc.exit_code > worst:
                ctx.reporter.failure = (exc.message, exc.fix)
            worst = max(worst, exc.exit_code)
            continue
        print_plan(ctx.reporter, index, p)
        ctx.reporter.document.setdefault("plans", {})[name] = p.to_json()
        if p.verdict is guard.Verdict.REFUSED:
            for reason in p.reasons:
                ctx.reporter.fail(reason)
            if p.next_free:
                ctx.reporter.line(f"next free version: {p.next_free}")
            if worst < ExitCode.REFUSED:
                ctx.reporter.failure = (
                    f"The guard would refuse the upload to the {name} index:\n  - "
                    + "\n  - ".join(p.reasons),
                    p.fix or "Versions on an index are immutable; release a new version.",
                )
            worst = max(worst, ExitCode.REFUSED)
    return int(worst)


def configure(_command: str, _parser: argparse.ArgumentParser) -> None:
    """plan has no options of its own (--json and --index are declared in release.cli)."""


def run(args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
    names: tuple[IndexName, ...] = ("test", "prod") if args.index == "both" else (args.index,)
    return plan(from_args(args, environ, out), names)

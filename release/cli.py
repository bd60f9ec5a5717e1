"""``python -m release COMMAND``: the one place where exceptions become exit status."""

from __future__ import annotations

__all__ = ["COMMANDS", "main"]

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import ExitCode, ReleaseError

# name -> (module that defines `configure(parser)` and `run(args) -> int`, one-line help).
# Modules are imported only when their command runs, so `--help` stays fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("release.steps", "Build sdist + wheel into dist/ and record them in the manifest."),
    "gather": ("release.gather", "Merge build folders from many runners into dist/, complete."),
    "upload": ("release.steps", "Read the index, then upload what the guard allows."),
    "verify": ("release.steps", "Install the release from the test index in a fresh env."),
    "release": ("release.steps", "build, upload test, verify, upload prod; stop at a failure."),
    "plan": ("release.steps", "Show what an upload would do, and change nothing."),
    "rehearse": ("release.rehearsal", "The whole release against two local throw-away indexes."),
    "doctor": ("release.doctor", "Check everything an upload needs, without uploading."),
    "bump": ("release.bump", "Bump the version (PEP 440), refusing published versions."),
    "init": ("release.init", "Copy nox-release (release/, noxfile, workflow) into a project."),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m release",
        description="nox-release: build -> TestPyPI -> verify -> PyPI, never a version twice.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help="the project's root folder (default: the current folder)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    # First pass: find the command; second pass: its module adds its own options.
    known, _rest = parser.parse_known_args(args_list)
    module_name, help_text = COMMANDS[known.command]
    module = importlib.import_module(module_name)
    full = argparse.ArgumentParser(prog=f"python -m release {known.command}", description=help_text)
    full.add_argument("--root", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    module.configure(known.command, full)
    at = args_list.index(known.command)
    rest = args_list[:at] + args_list[at + 1 :]
    args = full.parse_args(rest)
    args.command = known.command
    args.root = args.root.resolve()
    try:
        return int(module.run(args, dict(os.environ)))
    except ReleaseError as exc:
        print(f"\n✗ {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  Fix: {exc.fix}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(
            "\n✗ Interrupted. Run the same command again: it resumes "
            "(files already on the index are not sent twice).",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:
        return int(ExitCode.FAILURE)

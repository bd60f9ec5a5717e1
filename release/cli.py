"""``python -m release COMMAND``: the one command boundary.

Here and only here: the shared flags (``--json``, ``--dry-run``, ``--index``) are declared, the
:class:`~release.output.Reporter` is made, exceptions become exit status, and the ``--json``
document ``{"command", "exit_code", "result", "error"}`` is printed, on every exit (usage
errors and failures before the settings load included; schema: release/docs/json.md). Everything
printed on the way out passes through :mod:`release.redact`; stdout, stderr and log records are
redacted too while a command runs, as a safety net for text that bypasses the reporter.
"""

from __future__ import annotations

__all__ = ["COMMANDS", "Command", "Spec", "document", "main", "parse"]

import argparse
import contextlib
import dataclasses
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol, TextIO

from .config import unknown_variables
from .errors import ConfigError, ExitCode, ReleaseError
from .output import Reporter, check_step_summary
from .redact import redact, register_environment
from .results import Result


class Command(Protocol):
    """What a command module provides (mypy checks each module against it, below)."""

    def configure(self, command: str, parser: argparse.ArgumentParser) -> None:
        """Add the command's own options (the shared flags are already there)."""

    def run(self, args: argparse.Namespace, environ: dict[str, str], out: Reporter) -> int:
        """Do the work; put the result in ``out.document``; raise a ReleaseError to fail."""


# Modules are imported only when their command runs, so `--help` stays fast; each loader's
# return statement is where mypy proves the module satisfies :class:`Command`.
def _build() -> Command:
    from .commands import build

    return build


def _gather() -> Command:
    from .commands import gather

    return gather


def _upload() -> Command:
    from .commands import upload

    return upload


def _verify() -> Command:
    from .commands import verify

    return verify


def _release() -> Command:
    from .commands import release

    return release


def _plan() -> Command:
    from .commands import plan

    return plan


def _rehearse() -> Command:
    from .commands import rehearse

    return rehearse


def _doctor() -> Command:
    from .commands import doctor

    return doctor


def _bump() -> Command:
    from .commands import bump

    return bump


def _reproduce() -> Command:
    from .commands import reproduce

    return reproduce


def _init() -> Command:
    from .commands import init

    return init


@dataclasses.dataclass(frozen=True)
class Spec:
    """One command: its module, its help line and which shared flags it takes."""

    load: Callable[[], Command]
    help: str
    dry_run: bool = False  # takes --dry-run
    index: tuple[str, ...] = ()  # choices of --index (none: no --index)
    index_required: bool = False


_INDEXES = ("test", "prod")
_EITHER = ("test", "prod", "both")

COMMANDS: dict[str, Spec] = {
    "build": Spec(
        _build, "Build sdist + wheel into dist/ and record them in the manifest.", dry_run=True
    ),
    "gather": Spec(_gather, "Merge build folders from many runners into dist/, complete."),
    "upload": Spec(
        _upload,
        "Read the index, then upload what the guard allows.",
        dry_run=True,
        index=_INDEXES,
        index_required=True,
    ),
    "verify": Spec(
        _verify, "Install the release from the test index in a fresh env.", dry_run=True
    ),
    "release": Spec(
        _release, "build, upload test, verify, upload prod; stop at a failure.", dry_run=True
    ),
    "plan": Spec(_plan, "Show what an upload would do, and change nothing.", index=_EITHER),
    "rehearse": Spec(_rehearse, "The whole release against two local throw-away indexes."),
    "doctor": Spec(_doctor, "Check everything an upload needs, without uploading.", index=_EITHER),
    "bump": Spec(_bump, "Bump the version (PEP 440), refusing published versions.", dry_run=True),
    "reproduce": Spec(
        _reproduce,
        "Rebuild the recorded commit; compare with dist/ or --index test|prod.",
        dry_run=True,
        index=("test", "prod", "dist"),
    ),
    "init": Spec(_init, "Copy nox-release (release/, noxfile, workflow) into a project."),
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises a usage error instead of exiting, so --json still prints."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(
            f"{self.prog}: {message}.", f"See `{self.prog} --help` for the arguments."
        )


def _shared_flags(parser: argparse.ArgumentParser, spec: Spec) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout, on every exit (human lines go to stderr)",
    )
    if spec.dry_run:
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would happen; change nothing"
        )
    if spec.index:
        parser.add_argument(
            "--index",
            choices=spec.index,
            required=spec.index_required,
            default=None if spec.index_required else spec.index[-1],
            help="which index" + ("" if spec.index_required else f" (default: {spec.index[-1]})"),
        )


def _top_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    for name, spec in COMMANDS.items():
        sub.add_parser(name, help=spec.help, description=spec.help, add_help=False)
    return parser


def parse(args_list: list[str]) -> tuple[Command, argparse.Namespace]:
    """The command's module and its parsed arguments (``args.root`` resolved).

    First pass: find the command; second pass: the shared flags and the module's own.
    """
    known, _rest = _top_parser().parse_known_args(args_list)
    spec = COMMANDS[known.command]
    module = spec.load()
    full = _Parser(prog=f"python -m release {known.command}", description=spec.help)
    full.add_argument("--root", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    _shared_flags(full, spec)
    module.configure(known.command, full)
    at = args_list.index(known.command)
    args = full.parse_args(args_list[:at] + args_list[at + 1 :])
    args.command = known.command
    args.root = args.root.resolve()
    return module, args


def _guess_command(args_list: list[str]) -> str | None:
    return next((a for a in args_list if a in COMMANDS), None)


def document(
    command: str | None, code: int, result: Result, error: tuple[str, str] | None
) -> dict[str, Any]:
    """The --json document (release/docs/json.md): the same four keys on every exit."""
    return {
        "command": command,
        "exit_code": code,
        "result": result,
        "error": None if error is None else {"message": error[0], "fix": error[1]},
    }


class _RedactingStream:
    """A text stream that redacts each complete line (and the rest on flush)."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self._inner.write(redact(done + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._inner.write(redact(self._pending))
            self._pending = ""
        self._inner.flush()

    @property
    def unredacted(self) -> TextIO:
        """The stream underneath, for text already redacted field by field (JSON)."""
        self.flush()
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextlib.contextmanager
def _redacted_io() -> Iterator[None]:
    """stdout, stderr and every log record pass through redaction while a command runs."""
    old_out, old_err = sys.stdout, sys.stderr
    old_factory = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old_factory(*args, **kwargs)
        record.msg, record.args = redact(record.getMessage()), None
        return record

    sys.stdout = _RedactingStream(old_out)
    sys.stderr = _RedactingStream(old_err)
    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(old_factory)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = old_out, old_err


def _say_error(message: str, fix: str) -> None:
    print(redact(f"\n✗ {message}"), file=sys.stderr)
    if fix:
        print(redact(f"  Fix: {fix}"), file=sys.stderr)


def _run(
    args_list: list[str], out: Reporter, collector_paused: bool = False
) -> tuple[str | None, int, tuple[str, str] | None]:
    """(command, exit code, error) of one command; every exception ends here."""
    command = _guess_command(args_list)
    try:
        module, args = parse(args_list)
        if collector_paused:  # for the start-up imports (release/__main__.py): back on, and
            gc.freeze()  # what was imported lives as long as the process: never walked again
            gc.enable()
        command = args.command
        check_step_summary(os.environ)
        code = int(module.run(args, dict(os.environ), out))
        out.print_summary()
        if code == 0:
            return command, code, None
        return command, code, out.failure or (f"{command} ended with exit status {code}.", "")
    except ReleaseError as exc:
        out.print_summary()
        _say_error(exc.message, exc.fix)
        return command, int(exc.exit_code), (exc.message, exc.fix)
    except (KeyboardInterrupt, Terminated) as exc:
        message = "Terminated (SIGTERM)." if isinstance(exc, Terminated) else "Interrupted."
        fix = (
            "Run the same command again: it resumes "
            "(files already on the index are not sent twice)."
        )
        _say_error(message, fix)
        return command, int(ExitCode.INTERRUPTED), (message, fix)
    except BrokenPipeError:
        return command, int(ExitCode.FAILURE), ("The output pipe was closed.", "")
    except Exception as exc:  # a bug: show it (redacted), and still answer with the document
        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        message = f"Unexpected error: {type(exc).__name__}: {exc}"
        return command, int(ExitCode.FAILURE), (message, "Please report this as a bug.")


class Terminated(BaseException):
    """SIGTERM (a CI cancelling the job, ``timeout``, ``kill``): ended like Ctrl-C, so that the
    --json document is still printed (release/docs/json.md: one on every exit)."""


def _on_sigterm(_signum: int, _frame: object) -> NoReturn:
    raise Terminated


@contextlib.contextmanager
def _sigterm_ends_cleanly() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while a command runs (main thread only; the
    previous handler is put back afterwards)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None, *, collector_paused: bool = False) -> int:
    """One command; its exit status. ``collector_paused``: the caller turned the cycle
    collector off for the start-up imports (``python -m release`` does); it is turned back
    on, with what was imported frozen, once the command is loaded. A program calling
    ``main`` otherwise keeps its collector as it set it."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in args_list
    out = Reporter(json_mode=json_mode)
    register_environment(os.environ)  # CI tokens and passwords are hidden even if never used
    for line in unknown_variables(os.environ):
        out.warn(line)
    with _sigterm_ends_cleanly(), _redacted_io():
        command, code, error = _run(args_list, out, collector_paused)
        if json_mode:
            with contextlib.suppress(BrokenPipeError):
                out.print_json(document(command, code, out.document, error))
    return code

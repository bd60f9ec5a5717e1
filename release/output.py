"""What a person reads: a plan before acting, one line per file, progress on waits, a summary.

With ``--json`` the human lines go to stderr and one JSON document goes to stdout for CI.
Everything written here (lines, the JSON document, ``$GITHUB_STEP_SUMMARY``) passes through
:func:`release.redact.redact`: the one boundary where registered secrets are removed.
The reporter is made by :mod:`release.cli`, which also prints the JSON document.
"""

from __future__ import annotations

__all__ = ["Reporter", "check_step_summary"]

import contextlib
import json
import os
import re
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from .errors import ConfigError
from .redact import redact, redact_data
from .results import Result
from .terminal import Heartbeat, colour, paint

MARKS = {"ok": "✓", "fail": "✗", "skip": "=", "up": "↑", "warn": "!", "info": "·", "wait": "…"}
# The colour of each mark on a terminal (release/terminal.py decides whether to colour at all).
STYLES = {
    "ok": "green",
    "fail": "red",
    "skip": "dim",
    "up": "cyan",
    "warn": "yellow",
    "info": "dim",
    "wait": "dim",
}
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
# Per-file lines fit this many columns: a longer one puts its detail on the next line.
WIDTH = 80


class Reporter:
    def __init__(self, *, json_mode: bool = False, stream: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self._stream = stream
        # The command's result: ``result`` of the --json document (see release/docs/json.md).
        self.document: Result = {}
        # (message, fix) of a command that ends non-zero without an exception (plan, doctor).
        self.failure: tuple[str, str] | None = None
        self.summary_title = "Summary"
        self._summary: list[str] = []
        self._colour: bool | None = None
        self._beat: Heartbeat | None = None  # the step running now, if it shows a heartbeat
        # Where the time went: step -> seconds (``timed``), shown with the summary and in
        # ``result.timings`` of the --json document.
        self.timings: dict[str, float] = {}
        # step -> the step it ran at the same time as (its seconds overlap that one's)
        self.beside: dict[str, str] = {}
        self.started = time.monotonic()

    @property
    def stream(self) -> TextIO:
        if self._stream is not None:
            return self._stream
        return sys.stderr if self.json_mode else sys.stdout

    @property
    def coloured(self) -> bool:
        """Colour on a terminal, none otherwise; NO_COLOR / FORCE_COLOR as nox and pip."""
        if self._colour is None:
            self._colour = colour(self.stream)
        return self._colour

    def line(self, text: str = "", mark: str | None = None) -> None:
        text = redact(text)
        if mark:
            symbol = MARKS.get(mark, mark)
            text = f"{paint(symbol, STYLES.get(mark, ''), self.coloured)} {text}"
        self._emit(text)

    def heading(self, text: str) -> None:
        self._emit("")
        self._emit(paint(redact(f"== {text}"), "bold", self.coloured))

    def _emit(self, text: str) -> None:
        beat = self._beat
        if beat is not None:
            beat.above(text)  # never on the same line as a heartbeat
        else:
            print(text, file=self.stream, flush=True)

    def file(self, filename: str, text: str, mark: str | None = None) -> None:
        """One file's line, ``filename: text``, within :data:`WIDTH` columns: when it would be
        longer, the text goes on the next lines, indented (redacted before it is cut)."""
        text = redact(text)
        width = WIDTH - (2 if mark else 0)
        if len(filename) + 2 + len(text) <= width or not text:
            self.line(f"{filename}: {text}" if text else filename, mark)
            return
        self.line(f"{filename}:", mark)
        for part in textwrap.wrap(text, WIDTH - 4, break_on_hyphens=False):
            self.line(f"    {part}")

    def wrapped(self, text: str, mark: str | None = None, *, indent: int = 0) -> None:
        """``text`` within :data:`WIDTH` columns, as :meth:`file` wraps a file's detail:
        ``indent`` spaces in, the lines after the first 4 further. Redacted whole before it is
        cut, so a secret is never split across lines where redaction could miss its halves."""
        width = WIDTH - (2 if mark else 0)
        first, *rest = textwrap.wrap(
            redact(text),
            width,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 4),
            break_on_hyphens=False,
        ) or [""]
        self.line(first, mark)
        for part in rest:
            self.line(f"  {part}" if mark else part)

    @contextlib.contextmanager
    def running(self, what: str, *, announce: bool = False) -> Iterator[Heartbeat]:
        """``with out.running("building x"):`` around a step that can take seconds: a
        counting line on a terminal, ``… still building x (10 s)`` every 5 s in a log.
        Lines printed meanwhile (from any thread) stay whole."""
        beat = Heartbeat(self.stream, redact(what), announce=announce)
        self._beat = beat
        try:
            with beat:
                yield beat
        finally:
            self._beat = None

    def ok(self, text: str) -> None:
        self.line(text, "ok")

    def warn(self, text: str) -> None:
        self.line(text, "warn")

    def fail(self, text: str) -> None:
        self.line(text, "fail")

    def add_summary(self, text: str) -> None:
        self._summary.append(text)

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Time ``step`` (added up when it runs again) and say how long it took."""
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            self.timings[step] = self.timings.get(step, 0.0) + seconds
            self.line(f"{step.replace('_', ' ')}: {seconds:.2f}s", "info")

    def record_time(self, step: str, seconds: float, *, beside: str = "") -> None:
        """Add ``seconds`` to ``step`` (measured elsewhere); ``beside``: the step it ran at
        the same time as, so that the summary does not count it twice."""
        self.timings[step] = self.timings.get(step, 0.0) + seconds
        if beside:
            self.beside[step] = beside

    def time_summary(self) -> str | None:
        """``time: build 2.1s, upload_test 0.3s, ... (total 7.9s)``; also puts the figures in
        ``document["timings"]``. None when nothing was timed."""
        if not self.timings:
            return None
        total = time.monotonic() - self.started
        figures = {step: round(seconds, 3) for step, seconds in self.timings.items()}
        self.document["timings"] = figures | {"total": round(total, 3)}
        if self.beside:
            self.document["timings_beside"] = dict(self.beside)
        parts = ", ".join(
            f"{step} {seconds:.1f}s"
            + (f" (beside {self.beside[step]})" if step in self.beside else "")
            for step, seconds in self.timings.items()
        )
        return f"time: {parts} (total {total:.1f}s, the rest: start-up, reads, checks)"

    def print_summary(self, title: str | None = None) -> None:
        timing = self.time_summary()
        if timing:
            self._summary.append(timing)
            self.timings.clear()
            self.beside.clear()
        if not self._summary:
            return
        title = title or self.summary_title
        self.heading(title)
        for text in self._summary:
            self.line(text)
        step_summary = os.environ.get(STEP_SUMMARY)
        if step_summary:
            try:
                with Path(step_summary).open("a", encoding="utf-8") as f:
                    f.write(redact(markdown_summary(title, self._summary, self.document)))
            except OSError as exc:
                self.warn(
                    f"could not append the summary to ${STEP_SUMMARY} ({step_summary}): "
                    f"{exc.strerror or type(exc).__name__}"
                )
        self._summary.clear()

    def progress(self, text: str) -> Progress:
        return Progress(self, text)

    def print_json(self, document: Mapping[str, Any]) -> None:
        """``document`` on stdout, every string in it redacted (the caller, :mod:`release.cli`,
        decides when). The text is not redacted again as a whole: a short password removed as a
        whole token must not turn ``"exit_code": 0`` into invalid JSON."""
        text = json.dumps(redact_data(document), indent=2, sort_keys=True, default=str)
        stream = getattr(sys.stdout, "unredacted", sys.stdout)  # past cli's safety net
        stream.write(text + "\n")
        stream.flush()


def check_step_summary(environ: Mapping[str, str]) -> None:
    """Refuse an unusable ``$GITHUB_STEP_SUMMARY`` before the command does anything."""
    value = environ.get(STEP_SUMMARY)
    if not value:
        return
    path = Path(value)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        problem = "is a folder"
    elif path.exists():
        problem = "" if os.access(path, os.W_OK) else "is not writable"
    elif not parent.is_dir():
        problem = "is in a folder that does not exist"
    else:
        problem = "" if os.access(parent, os.W_OK) else "is in a folder that is not writable"
    if problem:
        raise ConfigError(
            f"${STEP_SUMMARY} = {value!r} {problem}: the summary could not be written.",
            f"Point {STEP_SUMMARY} at a writable file, or unset it (outside GitHub Actions).",
        )


class Progress:
    """Progress on a long wait: a line at most every ``every`` seconds."""

    def __init__(self, reporter: Reporter, text: str, every: float = 5.0) -> None:
        self.reporter = reporter
        self.text = text
        self.every = every
        self.started = time.monotonic()
        self._last = -every

    def tick(self, detail: str = "") -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            elapsed = now - self.started
            self.reporter.line(
                f"{self.text} ({elapsed:.0f}s){': ' + detail if detail else ''}", "wait"
            )


_CODE = re.compile(r"(?<![`\w])([0-9a-f]{64}|[\w.+!-]+(?:\.whl|\.tar\.gz|\.zip))(?![`\w])")


def markdown_summary(title: str, lines: list[str], document: Result) -> str:
    """The summary as GitHub-flavoured markdown for ``$GITHUB_STEP_SUMMARY``: the summary lines
    (file names and sha256 as code), a table of the built files when the step knows them, and
    where uploads went, with a link to the release's page on PyPI or TestPyPI."""
    from .endpoints import PYPI_HOST, TESTPYPI_HOST  # imported here: twine is slow to import

    out = [f"### nox-release: {title}", ""]
    out += ["- " + _CODE.sub(r"`\1`", text) for text in lines]
    build = document.get("build") or {}
    rehearsal = document.get("rehearsal") or {}
    name = build.get("name") or rehearsal.get("project")
    version = build.get("version") or rehearsal.get("version")
    files = [(f["filename"], f["sha256"], f"{f['size']:,}") for f in build.get("files", [])]
    files += [(fn, sha, "") for fn, sha in (rehearsal.get("files") or {}).items()]
    if files:
        out += ["", "| file | sha256 | bytes |", "|---|---|---:|"]
        out += [f"| `{fn}` | `{sha}` | {size} |" for fn, sha, size in files]
    for index, upload in (document.get("uploads") or {}).items():
        url = str(upload.get("index_url", ""))
        project = upload.get("project") or name
        release = upload.get("version") or version
        where = f"**{index}** index: {url}"
        host = (urlsplit(url).hostname or "").lower()
        if host in {PYPI_HOST, TESTPYPI_HOST} and project and release:
            where += f" ([{project} {release}](https://{host}/project/{project}/{release}/))"
        outcomes = ", ".join(f"`{fn}` {fate}" for fn, fate in upload.get("files", {}).items())
        out += ["", where + (f": {outcomes}" if outcomes else "")]
    return "\n".join(out) + "\n\n"

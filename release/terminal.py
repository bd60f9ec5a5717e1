"""What the terminal can show: colour, and a heartbeat while a long step runs.

Standard library only: the nox sessions (release/sessions.py) use it in nox's own Python,
before the release environment exists.

Colour follows the ecosystem's conventions, as nox and pip read them: ``NO_COLOR`` (any value)
turns it off, ``FORCE_COLOR`` (any value but empty, ``0``, ``false``, ``no``, ``off``) turns it
on, and otherwise it is on only when the stream is a terminal (and ``TERM`` is not ``dumb``).

A step that can take more than a few seconds (creating an environment, a build, an install, a
wait for an index) runs inside :class:`Heartbeat`: on a terminal one line that counts the
seconds and is wiped when the step ends; in a CI log (not a terminal) a line every
``every`` seconds, ``… still building (10 s)``, so a log never goes silent for long.
"""

from __future__ import annotations

__all__ = ["HEARTBEAT_SECONDS", "Heartbeat", "colour", "paint"]

import os
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TextIO

HEARTBEAT_SECONDS = 5.0
_FALSE = {"", "0", "false", "no", "off"}
_SGR = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "dim": "2", "bold": "1"}


def colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what is written to ``stream`` (``NO_COLOR`` wins over ``FORCE_COLOR``,
    as in nox)."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env:
        return False
    if env.get("FORCE_COLOR", "").strip().lower() not in _FALSE:
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def paint(text: str, style: str, on: bool) -> str:
    """``text`` in ``style`` (a key of the SGR table) when ``on``, else as it is."""
    if not on or style not in _SGR or not text:
        return text
    return f"\033[{_SGR[style]}m{text}\033[0m"


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


class Heartbeat:
    """``with Heartbeat(stream, "building c20-demo"):`` while a long step runs.

    ``live`` (default: ``stream`` is a terminal) shows one line that counts the seconds and is
    wiped at the end; otherwise a line every ``every`` seconds (none when the step is quicker).
    ``prefix`` starts every line (the sessions put ``nox > `` there, like nox's own lines).
    ``announce``: say it at once (a wait), not only after the first period.
    """

    def __init__(
        self,
        stream: TextIO,
        what: str,
        *,
        every: float = HEARTBEAT_SECONDS,
        live: bool | None = None,
        prefix: str = "",
        announce: bool = False,
    ) -> None:
        self.stream = stream
        self.what = what
        self.every = every
        self.prefix = prefix
        self.announce = announce  # a first line at once, not after the first period
        self.live = _isatty(stream) if live is None else live
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._shown = False
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def __enter__(self) -> Heartbeat:
        self.started = time.monotonic()
        if self.announce:
            if self.live:
                self._write(f"\r\033[K{self.prefix}… {self.what}", shown=True)
            else:
                self._write(f"{self.prefix}… {self.what}\n", shown=False)
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self.live and self._shown:
            self._write("\r\033[K", shown=False)

    def clear(self) -> None:
        """Wipe the counting line (a terminal), before someone else writes a line; the next
        tick draws it again."""
        with self._lock:
            if self.live and self._shown:
                try:
                    self.stream.write("\r\033[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    self._stop.set()
                self._shown = False

    def above(self, text: str) -> None:
        """Print ``text`` as a line of its own: on a terminal the counting line is wiped
        first (and drawn again at the next tick), so the two never share a line."""
        with self._lock:
            try:
                if self.live and self._shown:
                    self.stream.write("\r\033[K")
                    self._shown = False
                self.stream.write(text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                self._stop.set()

    def _beat(self) -> None:
        step = 1.0 if self.live else self.every
        while not self._stop.wait(step):
            took = _elapsed(self.seconds)
            if self.live:
                self._write(f"\r\033[K{self.prefix}… {self.what} ({took})", shown=True)
            else:
                self._write(f"{self.prefix}… still {self.what} ({took})\n", shown=False)

    def _write(self, text: str, *, shown: bool = False) -> None:
        with self._lock:
            try:
                self.stream.write(text)
                self.stream.flush()
                self._shown = shown
            except (OSError, ValueError):  # a closed pipe must not kill the step
                self._stop.set()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

"""Colour as nox and pip decide it, and the heartbeat of long steps (release/terminal.py)."""

from __future__ import annotations

import io
import time

import pytest

from release.terminal import Heartbeat, colour, paint


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("environ", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": ""}, True, False),  # any value, even empty, as nox reads it
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, False, False),
        ({"FORCE_COLOR": "false"}, True, True),  # not forced: the terminal decides
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_colour_follows_no_color_force_color_and_the_terminal(
    environ: dict[str, str], tty: bool, expected: bool
) -> None:
    stream = Tty() if tty else io.StringIO()
    assert colour(stream, environ) is expected


def test_paint_adds_sgr_codes_only_when_on() -> None:
    assert paint("ok", "green", False) == "ok"
    assert paint("ok", "green", True) == "\033[32mok\033[0m"


def test_in_a_log_the_heartbeat_is_a_line_every_period() -> None:
    log = io.StringIO()
    with Heartbeat(log, "building demo", every=0.05, live=False, prefix="nox > "):
        time.sleep(0.32)
    lines = log.getvalue().splitlines()
    assert len(lines) >= 3
    assert all(line.startswith("nox > … still building demo (") for line in lines)


def test_a_quick_step_writes_nothing() -> None:
    log = io.StringIO()
    with Heartbeat(log, "building demo", every=5.0, live=False):
        pass
    assert log.getvalue() == ""


def test_on_a_terminal_the_line_counts_and_is_wiped_at_the_end() -> None:
    term = Tty()
    with Heartbeat(term, "creating the release environment") as beat:
        assert beat.live
        time.sleep(1.2)
    text = term.getvalue()
    assert "\r\033[K… creating the release environment (1 s)" in text
    assert text.endswith("\r\033[K")
    assert "\n" not in text


def test_the_reporter_colours_marks_only_on_a_terminal_or_when_forced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from release.output import Reporter

    plain = io.StringIO()
    Reporter(stream=plain).ok("built")
    assert plain.getvalue() == "✓ built\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    forced = io.StringIO()
    out = Reporter(stream=forced)
    out.ok("built")
    out.heading("build")
    assert forced.getvalue() == "\033[32m✓\033[0m built\n\n\033[1m== build\033[0m\n"
    monkeypatch.setenv("NO_COLOR", "")
    term = Tty()
    Reporter(stream=term).fail("refused")
    assert term.getvalue() == "✗ refused\n"


def test_a_file_line_fits_80_columns() -> None:
    from release.output import WIDTH, Reporter

    long_name = "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    stream = io.StringIO()
    out = Reporter(stream=stream)
    out.file("demo-1.0.tar.gz", "uploaded (0.2s)", "up")
    out.file(long_name, "upload — 2.1.0 is not on the index yet", "up")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "↑ demo-1.0.tar.gz: uploaded (0.2s)"
    assert lines[1:] == [f"↑ {long_name}:", "    upload — 2.1.0 is not on the index yet"]
    assert all(len(line) <= WIDTH for line in lines)


def test_lines_printed_during_a_heartbeat_never_share_its_line() -> None:
    from release.output import Reporter

    term = Tty()
    out = Reporter(stream=term)
    with out.running("installing"):
        time.sleep(1.2)
        out.ok("wheel installed")
        time.sleep(1.1)
    text = term.getvalue()
    # the counting line is wiped first (a terminal: the mark is coloured)
    assert "\r\033[K\033[32m✓\033[0m wheel installed\n" in text
    assert text.endswith("\r\033[K")


def test_a_wait_is_announced_at_once() -> None:
    log = io.StringIO()
    with Heartbeat(log, "waiting for the test index", every=5.0, live=False, announce=True):
        pass
    assert log.getvalue() == "… waiting for the test index\n"


def test_clear_wipes_the_counting_line_for_someone_else_s_line() -> None:
    term = Tty()
    with Heartbeat(term, "creating the release environment", announce=True) as beat:
        beat.clear()
        term.write("nox > uv pip install ...\n")
    text = term.getvalue()
    assert text.startswith("\r\033[K… creating the release environment\r\033[Knox > uv pip")

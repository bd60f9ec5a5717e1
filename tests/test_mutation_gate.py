"""tests/mutation/gate.py's own arithmetic (no mutmut run): verdicts, equivalents, the score."""

from __future__ import annotations

import pytest

from tests.mutation.gate import (
    EQUIVALENT,
    MODULES,
    _names,
    parse_results,
    read_equivalent,
    score_module,
)

RESULTS = """\
    release.guard.x_a__mutmut_1: killed
    release.guard.x_a__mutmut_2: survived
    release.guard.x_a__mutmut_3: timeout
    release.guard.x_a__mutmut_4: no tests
    release.guard.x_b__mutmut_1: survived
    release.guard.x_b__mutmut_2: not checked
    release.redact.x_c__mutmut_1: survived
"""


def test_parse_and_score() -> None:
    verdicts = parse_results(RESULTS)
    assert verdicts["release.guard.x_a__mutmut_4"] == "no tests"
    equivalent = {"release.guard.x_b__mutmut_1": "why", "release.guard.x_gone__mutmut_9": "why"}
    score = score_module("guard", verdicts, equivalent)
    assert (score.mutants, score.equivalent, score.killed) == (6, 1, 2)
    assert score.survivors == ["release.guard.x_a__mutmut_2", "release.guard.x_a__mutmut_4"]
    assert score.unchecked == ["release.guard.x_b__mutmut_2"]
    assert score.stale == ["release.guard.x_gone__mutmut_9"]  # listed, no longer made
    assert score.score == pytest.approx(40.0)  # 2 of 5
    assert score.row() == "| `guard.py` | 6 | 1 | 2 | 2 | 40.0% |"


def test_an_equivalent_mutant_the_tests_kill_is_stale() -> None:
    verdicts = parse_results("    release.redact.x_c__mutmut_1: killed\n")
    score = score_module("redact", verdicts, {"release.redact.x_c__mutmut_1": "why"})
    assert score.stale == ["release.redact.x_c__mutmut_1"]


def test_the_equivalent_list_reads_and_needs_reasons() -> None:
    listed = read_equivalent(EQUIVALENT.read_text(encoding="utf-8"))
    assert all(reason for reason in listed.values())
    assert {name.split(".")[1] for name in listed} <= set(MODULES)
    with pytest.raises(SystemExit, match="has no reason"):
        read_equivalent("release.guard.x_a__mutmut_1\n")


def test_survivor_names_from_either_form() -> None:
    text = "release.a.x_f__mutmut_1\n# release.a.x_g__mutmut_2: survived\n--- release/a.py\n"
    assert _names(text) == ["release.a.x_f__mutmut_1", "release.a.x_g__mutmut_2"]

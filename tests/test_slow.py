"""tests/slow.py: the default run leaves out the tests marked slow; --run-slow or -m brings them."""

from __future__ import annotations

import pytest

SAMPLE = """
import pytest

def test_fast():
    pass

@pytest.mark.slow
def test_slow():
    pass

class TestGroup:
    pytestmark = pytest.mark.slow

    def test_slow_in_a_class(self):
        pass
"""


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester


def test_default_run_leaves_the_slow_tests_out(sample: pytest.Pytester) -> None:
    result = sample.runpytest("-p", "tests.slow", "-v", "--strict-markers")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*slow tests: left out (deselected); run them with --run-slow*"])
    result.stdout.fnmatch_lines(["*test_fast PASSED*"])
    result.stdout.no_fnmatch_line("*test_slow*PASSED*")


def test_run_slow_runs_everything(sample: pytest.Pytester) -> None:
    result = sample.runpytest("-p", "tests.slow", "--run-slow", "--strict-markers")
    result.assert_outcomes(passed=3)


def test_a_marker_expression_chooses_for_itself(sample: pytest.Pytester) -> None:
    result = sample.runpytest("-p", "tests.slow", "-m", "slow", "--strict-markers")
    result.assert_outcomes(passed=2, deselected=1)

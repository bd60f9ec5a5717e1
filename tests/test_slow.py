"""tests/slow.py: the default run leaves out the tests marked slow; --run-slow or -m brings them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from tests.slow import THOROUGH_EXAMPLES

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
    before = settings().max_examples
    result = sample.runpytest("-p", "tests.slow", "--run-slow", "--strict-markers")
    result.assert_outcomes(passed=3)
    assert settings().max_examples == before  # the host run's profile is back


@pytest.fixture
def host_profile() -> Iterator[None]:
    """Runs inside this one share Hypothesis' global profile: put the host's back after."""
    before = settings()
    yield
    settings.register_profile("host", parent=before)
    settings.load_profile("host")


@pytest.mark.usefixtures("host_profile")
def test_run_slow_makes_property_tests_thorough(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_prop="""
        from hypothesis import given, strategies as st

        SEEN = []

        @given(st.integers())
        def test_count(n):
            SEEN.append(n)

        def test_how_many():
            print("examples:", len(SEEN))
        """
    )
    # the default profile by name: the host run may itself be a --run-slow one
    fast = pytester.runpytest(
        "-p", "tests.slow", "-s", "-p", "no:randomly", "--hypothesis-profile=default"
    )
    thorough = pytester.runpytest("-p", "tests.slow", "-s", "-p", "no:randomly", "--run-slow")
    fast.stdout.fnmatch_lines(["*examples: 100*"])
    thorough.stdout.fnmatch_lines([f"*examples: {THOROUGH_EXAMPLES}*"])


def test_a_marker_expression_chooses_for_itself(sample: pytest.Pytester) -> None:
    result = sample.runpytest("-p", "tests.slow", "-m", "slow", "--strict-markers")
    result.assert_outcomes(passed=2, deselected=1)


def test_ci_always_runs_the_slow_tests() -> None:
    """.ci/run and the CI workflow run every test: each `nox -s tests` there passes --run-slow."""
    root = Path(__file__).resolve().parents[1]
    runs = [
        line
        for line in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#") and re.search(r"\bnox\b.*-s (\S+ )*tests\b", line)
    ]
    workflow = yaml.safe_load((root / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    runs += [
        str(step["run"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "nox -s tests" in str(step.get("run", ""))
    ]
    assert len(runs) >= 2, runs
    assert all("--run-slow" in run for run in runs), runs

"""The fast default suite: tests marked ``slow`` run only with ``--run-slow``.

``slow`` marks the tests that build packages, run whole releases in subprocesses, or start
devpi (seconds each). ``nox -s tests`` leaves them out; ``nox -s tests -- --run-slow`` and
``.ci/run`` run everything. A ``-m`` expression chooses by marker itself (``-m slow`` runs only
them). Loaded by ``tests/conftest.py`` as a plugin, so that its own test can load it alone.

Property tests (Hypothesis) try 100 examples each by default and 400 with ``--run-slow`` (the
"thorough" profile), unless a test sets its own ``max_examples``; ``nox -s mutate`` runs them
with the "mutation" profile (``--hypothesis-profile=mutation``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

THOROUGH_EXAMPLES = 400
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES)
# `nox -s mutate` (tests/mutation/gate.py) reruns a module's tests for every mutant: fewer
# examples, the same ones on every run (a mutant's verdict must not depend on luck), no database,
# and no timing checks (mutmut traces every call, on a loaded machine).
MUTATION_EXAMPLES = 20
settings.register_profile(
    "mutation",
    max_examples=MUTATION_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


_BEFORE = pytest.StashKey[settings]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds packages, runs whole releases or starts devpi")
    if config.getoption("--run-slow"):
        config.stash[_BEFORE] = settings()  # the current defaults
        settings.load_profile("thorough")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put back the profile that was active (a run inside a run must not change its host's)."""
    before = config.stash.get(_BEFORE, None)
    if before is not None:
        settings.register_profile("before-run-slow", parent=before)
        settings.load_profile("before-run-slow")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (builds, whole releases, devpi); CI always does",
    )


def _runs_slow(config: pytest.Config) -> bool:
    return bool(config.getoption("--run-slow")) or bool(config.getoption("markexpr"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _runs_slow(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_report_header(config: pytest.Config) -> str:
    if _runs_slow(config):
        return "slow tests: included"
    return "slow tests: left out (deselected); run them with --run-slow"

"""PyPI's own code is the judge: nox-release's verdict equals Warehouse's on every case.

The cases (tests/data/warehouse_cases.json) were taken from pypi/warehouse's code and unit tests
at the commit the file names; tests/warehouse_cases.py asks nox-release the same question.
A case where nox-release decides otherwise on purpose is listed in :data:`EXCEPTIONS`, with
its reason, and documented in release/docs/pypi-rules.md ("Where nox-release and PyPI differ").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from release.pypi_rules import check_files, errors, stdlib_name_problem
from tests import warehouse_cases as wc

DOCS = Path(__file__).parent.parent / "release" / "docs" / "pypi-rules.md"

# case id -> why nox-release decides otherwise (each one is in release/docs/pypi-rules.md)
EXCEPTIONS = {
    "Author-email invalid": "emails are checked by PyPI only (email-validator)",
    "Maintainer-email invalid": "emails are checked by PyPI only (email-validator)",
}

CASES = wc.cases()


def test_the_cases_name_the_warehouse_commit_the_docs_cite() -> None:
    commit = wc.load()["warehouse"]["commit"]
    assert len(commit) == 40
    assert f"pypi/warehouse@{commit[:7]}" in DOCS.read_text(encoding="utf-8")


def test_every_case_has_a_source_and_a_verdict() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"
    assert all(c.pypi in ("accept", "refuse") and c.source for c in CASES)
    assert {c.kind for c in CASES} == set(wc.ADAPTERS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nox_release_decides_as_pypi(case: wc.Case, tmp_path: Path) -> None:
    ours = wc.verdict(case, tmp_path)
    if case.id in EXCEPTIONS:
        assert ours != case.pypi, f"{case.id!r} agrees now: drop it from EXCEPTIONS and the docs"
        return
    assert ours == case.pypi, f"PyPI: {case.pypi}, nox-release: {ours} ({case.source})"


def test_every_exception_is_a_case_and_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    ids = {c.id for c in CASES}
    assert set(EXCEPTIONS) <= ids
    assert all(f"`{case_id}`" in docs for case_id in EXCEPTIONS)


def test_every_standard_library_name_pypi_refuses_is_refused() -> None:
    """Warehouse's STDLIB_PROHIBITED at the commit (stdlib-list 0.12.0, every Python version,
    dotted submodules, leading underscores stripped): each one, a new project name PyPI
    refuses."""
    names = wc.load()["lists"]["stdlib_prohibited"]
    assert len(names) > 2000
    allowed = [n for n in names if stdlib_name_problem(n) is None]
    assert not allowed, f"{len(allowed)} names PyPI refuses pass: {allowed[:10]}"


def _refused_classifiers(classifiers: list[str]) -> set[str]:
    """The classifiers nox-release refuses among ``classifiers``, all in one file's metadata
    (each refusal names its classifier)."""
    headers = [["Name", "demo"], ["Version", "1.0"], ["Description-Content-Type", "text/plain"]]
    headers += [["Classifier", c] for c in classifiers]
    meta = wc.metadata_bytes(headers, "A README.\n", metadata_version="2.1")
    found = errors(check_files([wc._facts("demo-1.0-py3-none-any.whl", meta)]))
    return {c for c in classifiers for f in found if repr(c) in f.message}


def test_every_classifier_pypi_accepts_is_accepted_and_every_deprecated_one_refused() -> None:
    """trove-classifiers as Warehouse pinned it: the installed version (the floor in
    release/requirements.txt is that pin) accepts each one and refuses each deprecated one;
    a newer version may add classifiers, which PyPI takes once it updates (within days)."""
    lists = wc.load()["lists"]
    deprecated = sorted(lists["deprecated_classifiers"])
    accepted = [c for c in lists["classifiers"] if c not in deprecated]
    assert len(accepted) > 800
    assert _refused_classifiers(accepted) == set()
    assert _refused_classifiers(deprecated) == set(deprecated)
    assert _refused_classifiers(["Topic :: Not A Classifier"]) == {"Topic :: Not A Classifier"}


def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """A verdict turned around is caught: the comparison is not vacuous."""
    case = next(c for c in CASES if c.id == "wheel with a lzma member")
    flipped = wc.Case(case.id, case.kind, case.input, "accept", case.source)
    assert wc.verdict(flipped, tmp_path) != flipped.pypi

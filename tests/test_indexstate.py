"""The index's pure data model: no HTTP stack behind the guard, and listings compared by twin."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.utils import canonicalize_name
from pypi_simple import PYPI_SIMPLE_ENDPOINT
from twine.utils import DEFAULT_REPOSITORY, TEST_REPOSITORY

from release import endpoints
from release.indexstate import IndexState, Listing, index_file, listing_of
from release.manifest import DistFile

OURS = "a" * 64
OTHER = "b" * 64


def test_endpoints_are_the_libraries_constants() -> None:
    assert endpoints.PROD_UPLOAD_URL == DEFAULT_REPOSITORY
    assert endpoints.PROD_INDEX_URL == PYPI_SIMPLE_ENDPOINT
    assert endpoints.TEST_UPLOAD_URL == TEST_REPOSITORY
    assert TEST_REPOSITORY.replace("/legacy/", "/simple/") == endpoints.TEST_INDEX_URL


def state(*listed: tuple[str, str | None]) -> IndexState:
    files = tuple(
        index_file(
            name, f"https://files.example/{name}", {"sha256": sha} if sha else {}, False, None
        )
        for name, sha in listed
    )
    return IndexState("https://index.example/simple/", canonicalize_name("demo-pkg"), True, files)


WHEEL = DistFile("demo_pkg-1.0.0-py3-none-any.whl", OURS, 10, "wheel")
SDIST = DistFile("demo_pkg-1.0.0.tar.gz", OURS, 10, "sdist")


@dataclasses.dataclass(frozen=True)
class Case:
    listed: tuple[tuple[str, str | None], ...]
    expected: Listing


CASES = {
    "nothing listed": Case((), Listing((WHEEL.filename, SDIST.filename), (), ())),
    "both ours": Case(((WHEEL.filename, OURS), (SDIST.filename, OURS)), Listing((), (), ())),
    "old-style sdist name is the twin": Case(
        ((WHEEL.filename, OURS), ("Demo.Pkg-1.0.tar.gz", OURS)), Listing((), (), ())
    ),
    "other bytes": Case(
        ((WHEEL.filename, OTHER), (SDIST.filename, OURS)), Listing((), (WHEEL.filename,), ())
    ),
    "no sha256 yet": Case(
        ((WHEEL.filename, None),), Listing((SDIST.filename,), (), (WHEEL.filename,))
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_listing_of(case: Case) -> None:
    listing = listing_of(state(*case.listed), [WHEEL, SDIST])
    assert listing == case.expected
    assert listing.complete == (case.expected == Listing((), (), ()))

"""The index's pure data model: no HTTP stack behind the guard, and listings compared by twin."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from pypi_simple import PYPI_SIMPLE_ENDPOINT
from twine.utils import DEFAULT_REPOSITORY, TEST_REPOSITORY

from release import endpoints
from release.indexstate import (
    EVERYTHING,
    VERSIONS,
    IndexState,
    Keep,
    Listing,
    PageReader,
    UntrustedPage,
    VersionSet,
    index_file,
    listing_of,
    version_key,
)
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


# ---------------------------------------------------------------- reading a page link by link

SAME = [
    ("1.0", "1.0.0"),
    ("1", "1.0.0.0"),
    ("1.0a", "1.0a0"),
    ("1.0-1", "1.0.post1"),
    ("1.0+01", "1.0+1"),
    ("1.0+Ab-c", "1+ab.c"),
    ("1!2.0", "1!2"),
    ("1.0.DEV", "1.0.dev0"),
    ("v1.0", "1.0"),
]
OTHERS = [
    ("1.0", "1.0.1"),
    ("1.0", "1.0+1"),
    ("1.0a1", "1.0b1"),
    ("1!1", "1"),
    ("1.0", "1.0.post0"),
]


@pytest.mark.parametrize(("a", "b"), SAME + OTHERS)
def test_version_key_is_what_makes_two_versions_one(a: str, b: str) -> None:
    """The compact key agrees with packaging's ``==`` (which the files_for of old compared)."""
    va, vb = Version(a), Version(b)
    assert (version_key(va) == version_key(vb)) is (va == vb)
    assert (va in VersionSet.of([vb])) is (va == vb)


def test_a_version_set_is_a_set_of_versions() -> None:
    versions = VersionSet.of([Version("1.0"), Version("2.0.0"), Version("1")])
    assert len(versions) == 2
    assert Version("2") in versions
    assert "2" not in versions  # a version, not its spelling
    both = versions | {Version("3.0")}
    assert isinstance(both, VersionSet)
    assert Version("3") in both
    assert len({Version("0.1")} | versions) == 3
    assert max(versions) == Version("2")
    assert versions == VersionSet.of([Version("1"), Version("2")])
    plain = frozenset({Version("1"), Version("2")})
    assert versions == plain
    assert plain == versions
    assert hash(versions) == hash(plain)  # equal objects hash alike: one key in a dict
    assert len({versions, plain, VersionSet.of([Version("2.0"), Version("1.0.0")])}) == 1
    assert versions & {Version("1.0.0")} == {Version("1")}


def _reader(keep: Keep) -> PageReader:
    return PageReader("https://index.example/simple/", canonicalize_name("demo-pkg"), keep)


def _add(reader: PageReader, filename: str, sha: str | None = OURS) -> None:
    reader.add(
        filename, f"https://f.example/{filename}", {"sha256": sha} if sha else {}, False, None
    )


PAGE = [
    "demo_pkg-0.9.tar.gz",
    "demo_pkg-1.0-py3-none-any.whl",
    "Demo.Pkg-1.0.0.linux-x86_64.exe",  # no parser reads it: it may be a file of 1.0
    "demo_pkg-1.0.tar.gz",
    "demo_pkg-2.0.tar.gz",
    "demo_pkg-1.5.tar.gz",
]


def test_a_reader_keeps_the_files_it_is_told_to_and_every_version() -> None:
    reader = _reader(Keep.of(Version("1.0.0")))
    for name in PAGE:
        _add(reader, name)
    state = reader.state(declared=False)
    assert [f.filename for f in state.files] == PAGE[1:4]
    assert [f.filename for f in state.files_for(Version("1"))] == [PAGE[1], PAGE[3]]
    assert state.versions == VersionSet.of(Version(v) for v in ("0.9", "1.0", "2.0", "1.5"))
    assert state.latest == Version("2.0")
    with pytest.raises(LookupError):
        state.files_for(Version("0.9"))
    with pytest.raises(LookupError):
        state.twin_of("demo_pkg-2.0.tar.gz")
    assert state.twin_of("demo_pkg-1.0.0.tar.gz") == state.files[2]


def test_a_reader_can_keep_the_latest_version_s_files() -> None:
    reader = _reader(Keep.of(Version("0.9"), latest=True))
    for name in PAGE:
        _add(reader, name)
    state = reader.state(declared=False)
    assert [f.filename for f in state.files] == [PAGE[0], PAGE[4]]
    assert [f.filename for f in state.files_for(Version("2"))] == [PAGE[4]]


def test_everything_kept_is_every_file() -> None:
    reader = _reader(EVERYTHING)
    for name in PAGE:
        _add(reader, name)
    assert [f.filename for f in reader.state(declared=False).files] == PAGE


@pytest.mark.parametrize("keep", [EVERYTHING, Keep.of(Version("1.0")), VERSIONS])
@pytest.mark.parametrize(
    ("filename", "url", "sha", "says"),
    [
        ("demo_pkg-1.0.tar.gz", "https://f.example/other.tar.gz", None, "points at"),
        ("", "https://f.example/", None, "no usable filename"),
        ("a/b.tar.gz", "https://f.example/a/b.tar.gz", None, "no usable filename"),
        ("demo_pkg-3.0.tar.gz", "https://f.example/demo_pkg-3.0.tar.gz", "abc", "malformed"),
    ],
)
def test_every_link_is_checked_whatever_is_kept(
    keep: Keep, filename: str, url: str, sha: str | None, says: str
) -> None:
    reader = _reader(keep)
    _add(reader, "demo_pkg-0.1.tar.gz")
    with pytest.raises(UntrustedPage, match=f"link 2 .*{says}"):
        reader.add(filename, url, {"sha256": sha} if sha else {}, False, None)


@pytest.mark.parametrize("keep", [EVERYTHING, Keep.of(Version("1.0")), Keep.of(latest=True)])
def test_a_kept_file_listed_twice_with_two_sha256_is_refused(keep: Keep) -> None:
    reader = _reader(keep)
    _add(reader, "demo_pkg-1.0.tar.gz", OURS)
    _add(reader, "demo_pkg-0.5.tar.gz", OURS)
    _add(reader, "demo_pkg-1.0.tar.gz", OURS)  # the same twice is fine
    with pytest.raises(UntrustedPage, match="listed twice with different sha256"):
        _add(reader, "demo_pkg-1.0.tar.gz", OTHER)


def test_a_twin_among_files_not_kept_cannot_steer_anything() -> None:
    """Only its version is read, the same for both listings: the page reads as it would
    without the second one (documented in PageReader)."""
    reader = _reader(Keep.of(Version("2.0")))
    _add(reader, "demo_pkg-1.0.tar.gz", OURS)
    _add(reader, "demo_pkg-1.0.tar.gz", OTHER)
    state = reader.state(declared=False)
    assert state.files == ()
    assert Version("1.0") in state.versions


def test_a_page_without_links_must_declare_itself() -> None:
    with pytest.raises(UntrustedPage, match="lists no files"):
        _reader(EVERYTHING).state(declared=False)
    assert _reader(EVERYTHING).state(declared=True).files == ()


def test_a_page_of_more_versions_than_the_cap_is_refused() -> None:
    """The cap bounds the memory of a page of any shape (each version costs its string)."""
    reader = PageReader(
        "https://index.example/simple/", canonicalize_name("demo-pkg"), VERSIONS, max_versions=3
    )
    for name in ("demo_pkg-1.tar.gz", "demo_pkg-1.0-py3-none-any.whl", "demo_pkg-2.tar.gz"):
        _add(reader, name)
    _add(reader, "demo_pkg-3.0.tar.gz")
    with pytest.raises(UntrustedPage, match="more than 3 versions"):
        _add(reader, "demo_pkg-4.0.tar.gz")


def test_a_page_of_more_kept_files_than_the_cap_is_refused() -> None:
    """Files of the version read are kept whole: their number is capped too (a page of 200,000
    wheels of the very version being released cost 173 MB of file records)."""
    reader = PageReader(
        "https://index.example/simple/",
        canonicalize_name("demo-pkg"),
        Keep.of(Version("1.0")),
        max_kept=3,
    )
    _add(reader, "demo_pkg-2.0.tar.gz")  # not kept: not counted
    for n in range(3):
        _add(reader, f"demo_pkg-1.0-{n}-py3-none-any.whl")
    with pytest.raises(UntrustedPage, match="more than 3 files"):
        _add(reader, "demo_pkg-1.0-3-py3-none-any.whl")
    everything = PageReader(
        "https://index.example/simple/", canonicalize_name("demo-pkg"), EVERYTHING, max_kept=3
    )
    for n in range(5):
        _add(everything, f"demo_pkg-1.0-{n}-py3-none-any.whl")
    assert len(everything.state(declared=True).files) == 5

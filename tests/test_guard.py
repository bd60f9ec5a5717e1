"""The guard as a table over every case, and as properties (Hypothesis).

The guard is pure: these tests build manifests and index states as data. That the index
reader turns real server answers into exactly this data is tests/test_index.py's job.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from release import pypi_rules
from release.endpoints import Warehouse
from release.guard import Fate, Plan, Rules, Verdict, decide, examples, file_key
from release.indexstate import IndexFile, IndexState, parse_filename
from release.manifest import DistFile, Manifest
from release.pypi_rules import Finding

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
SHA_SDIST = "a" * 64
SHA_WHEEL = "b" * 64
OTHER = "f" * 64
INDEX = "http://127.0.0.1:1/simple/"


def ours(version: str = "1.0.0", name: str = "demo-pkg", *, wheel: bool = True) -> Manifest:
    stem = canonicalize_name(name).replace("-", "_")
    v = str(Version(version))
    files = [DistFile(f"{stem}-{v}.tar.gz", SHA_SDIST, 100, "sdist")]
    if wheel:
        files.append(DistFile(f"{stem}-{v}-py3-none-any.whl", SHA_WHEEL, 200, "wheel"))
    return Manifest(name=name, version=v, files=tuple(files))


def rf(
    filename: str,
    sha256: str | None,
    *,
    yanked: bool = False,
    age: timedelta | None = None,
    version: str | None = None,
) -> IndexFile:
    """A file as the index reader reports it (name and version parsed from the filename)."""
    parsed = parse_filename(filename)
    project, ver = parsed if parsed else (None, Version(version) if version else None)
    return IndexFile(
        filename=filename,
        project=project,
        version=ver,
        sha256=sha256,
        yanked=yanked,
        url=INDEX + "demo-pkg/" + filename,
        upload_time=None if age is None else NOW - age,
    )


def state(*files: IndexFile, project: str = "demo-pkg", exists: bool = True) -> IndexState:
    return IndexState(
        index_url=INDEX, project=canonicalize_name(project), exists=exists, files=files
    )


PYPI = Rules(warehouse=Warehouse.PYPI, is_prod=True, now=NOW)
TESTPYPI = Rules(warehouse=Warehouse.TESTPYPI, now=NOW)
PRIVATE = Rules(now=NOW)
PRIVATE_PROD = Rules(is_prod=True, now=NOW)

SDIST, WHEEL = "demo_pkg-1.0.0.tar.gz", "demo_pkg-1.0.0-py3-none-any.whl"
U, P, R = Fate.UPLOAD, Fate.PRESENT, Fate.REFUSE


@dataclasses.dataclass(frozen=True)
class Case:
    manifest: Manifest
    index: IndexState
    rules: Rules
    verdict: Verdict
    fates: tuple[Fate, ...]  # in manifest order: (sdist, wheel)
    says: str = ""  # a phrase the reasons (refused) or whys must contain
    next_free: str | None = None


CASES: dict[str, Case] = {
    # -- version absent
    "project absent (404): first release": Case(
        ours(), state(exists=False), PYPI, Verdict.UPLOAD, (U, U), "not on the index"
    ),
    "project present, version absent": Case(
        ours(),
        state(rf("demo_pkg-0.9.tar.gz", OTHER), rf("demo_pkg-0.9-py3-none-any.whl", OTHER)),
        PYPI,
        Verdict.UPLOAD,
        (U, U),
    ),
    # -- present, ours, identical
    "present identical, all files: nothing to do": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST), rf(WHEEL, SHA_WHEEL)),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),  # the fate says it all: "already there, identical"
    ),
    "present identical, sha256 in capitals": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST.upper()), rf(WHEEL, SHA_WHEEL.upper())),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "present identical, partial: resume the missing only": Case(
        ours(), state(rf(SDIST, SHA_SDIST)), PYPI, Verdict.UPLOAD, (P, U), "resume"
    ),
    "present identical, wheel first: resume the sdist": Case(
        ours(), state(rf(WHEEL, SHA_WHEEL)), PRIVATE, Verdict.UPLOAD, (U, P)
    ),
    # -- present, not ours or not identical
    "a foreign file of that version": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST), rf("demo_pkg-1.0.0-cp311-cp311-linux_x86_64.whl", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "demo_pkg-1.0.0-cp311-cp311-linux_x86_64.whl is on the index but was not built",
        "1.0.1",
    ),
    "a foreign zip sdist next to ours (PyPI: one sdist per release)": Case(
        ours(wheel=False),
        state(rf("demo_pkg-1.0.0.zip", OTHER)),
        PRIVATE,
        Verdict.REFUSED,
        (R,),
        "demo_pkg-1.0.0.zip",
    ),
    "a wheel with a build tag is another file": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST), rf("demo_pkg-1.0.0-1-py3-none-any.whl", SHA_WHEEL)),
        PRIVATE,
        Verdict.REFUSED,
        (R, R),
        "not built by this release",
    ),
    "a file of ours with other bytes": Case(
        ours(),
        state(rf(SDIST, OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "other bytes",
        "1.0.1",
    ),
    "ours with other bytes although the rest is identical": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST), rf(WHEEL, OTHER)),
        PRIVATE,
        Verdict.REFUSED,
        (R, R),
        f"{WHEEL} is on the index with other bytes",
    ),
    "index file without sha256": Case(
        ours(),
        state(rf(SDIST, None), rf(WHEEL, SHA_WHEEL)),
        PRIVATE,
        Verdict.REFUSED,
        (R, R),
        "without a sha256",
    ),
    # -- names as PyPI sees them
    "manifest name Demo_Pkg, index files normalised": Case(
        ours(name="Demo_Pkg"),
        state(rf(SDIST, SHA_SDIST), rf(WHEEL, SHA_WHEEL)),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "manifest name demo.pkg": Case(
        ours(name="demo.pkg"), state(rf(SDIST, SHA_SDIST)), PYPI, Verdict.UPLOAD, (P, U)
    ),
    "old-style sdist name with dots and capitals, identical": Case(
        ours(),
        state(rf("Demo.Pkg-1.0.0.tar.gz", SHA_SDIST)),
        PYPI,
        Verdict.UPLOAD,
        (P, U),
        "on the index as Demo.Pkg-1.0.0.tar.gz",
    ),
    "old-style sdist name with hyphens, other bytes": Case(
        ours(),
        state(rf("demo-pkg-1.0.0.tar.gz", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "demo-pkg-1.0.0.tar.gz is on the index with other bytes",
    ),
    "old-style wheel name in capitals, identical": Case(
        ours(),
        state(rf("Demo_Pkg-1.0.0-py3-none-any.whl", SHA_WHEEL), rf(SDIST, SHA_SDIST)),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "old-style wheel name with a dot, other bytes": Case(
        ours(),
        state(rf("Demo.Pkg-1.0.0-py3-none-any.whl", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "other bytes",
    ),
    # -- versions as PyPI sees them
    "1.0 on the index is our 1.0.0 (identical)": Case(
        ours(),
        state(rf("demo_pkg-1.0.tar.gz", SHA_SDIST), rf("demo_pkg-1.0-py3-none-any.whl", SHA_WHEEL)),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "1.0 on the index is our 1.0.0 (other bytes)": Case(
        ours(),
        state(rf("demo_pkg-1.0.tar.gz", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "demo_pkg-1.0.tar.gz",
    ),
    "our 1.0 is 1.0.0 on the index": Case(
        ours("1.0"),
        state(rf(SDIST, OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        SDIST,
    ),
    "epoch 1!1.0.0 is not 1.0.0": Case(
        ours("1!1.0.0"),
        state(rf(SDIST, OTHER), rf(WHEEL, OTHER)),
        PYPI,
        Verdict.UPLOAD,
        (U, U),
    ),
    "epoch 1!1.0.0 present with other bytes": Case(
        ours("1!1.0.0"),
        state(rf("demo_pkg-1!1.0.0.tar.gz", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "other bytes",
        "1!1.0.1",
    ),
    "0!1.0.0 is 1.0.0": Case(
        ours("1.0.0"),
        state(rf("demo_pkg-0!1.0.0.tar.gz", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
    ),
    # -- versions PyPI refuses
    "local version on PyPI": Case(
        ours("1.0.0+abc"),
        state(exists=False),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "local version label (+abc)",
        "1.0.0",
    ),
    "local version on TestPyPI": Case(
        ours("1.0.0+abc"), state(exists=False), TESTPYPI, Verdict.REFUSED, (R, R), "local"
    ),
    "local version on a private index": Case(
        ours("1.0.0+abc"), state(exists=False), PRIVATE_PROD, Verdict.UPLOAD, (U, U)
    ),
    "local version on PyPI, public version taken": Case(
        ours("1.0.0+abc"),
        state(rf(SDIST, OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "local",
        "1.0.1",
    ),
    ".dev to PyPI without opt-in": Case(
        ours("1.0.0.dev3"),
        state(exists=False),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "development release",
    ),
    ".dev to a private prod index without opt-in": Case(
        ours("1.0.0.dev3"),
        state(exists=False),
        PRIVATE_PROD,
        Verdict.REFUSED,
        (R, R),
        "allow-dev-to-prod",
    ),
    ".dev to PyPI with opt-in": Case(
        ours("1.0.0.dev3"),
        state(exists=False),
        dataclasses.replace(PYPI, allow_dev=True),
        Verdict.UPLOAD,
        (U, U),
    ),
    ".dev to TestPyPI needs no opt-in": Case(
        ours("1.0.0.dev3"), state(exists=False), TESTPYPI, Verdict.UPLOAD, (U, U)
    ),
    # -- the 14-day rule on resume
    "resume a 20-day-old release on PyPI": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, age=timedelta(days=20))),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "more than 14 days ago",
        "1.0.1",
    ),
    "resume a 20-day-old release on TestPyPI": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, age=timedelta(days=20))),
        TESTPYPI,
        Verdict.REFUSED,
        (R, R),
        "14 days",
    ),
    "resume a 13-day-old release on PyPI": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, age=timedelta(days=13))),
        PYPI,
        Verdict.UPLOAD,
        (P, U),
    ),
    "the oldest file counts": Case(
        ours("1.0.0"),
        state(
            rf(SDIST, SHA_SDIST, age=timedelta(days=30)),
            rf("demo_pkg-1.0.0-py3-none-win32.whl", None, age=timedelta(days=1)),
        ),
        PYPI,
        Verdict.REFUSED,
        (R, R),
    ),
    "resume a 20-day-old release on a private index": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, age=timedelta(days=20))),
        PRIVATE_PROD,
        Verdict.UPLOAD,
        (P, U),
    ),
    "a 20-day-old release, complete: nothing to do": Case(
        ours(),
        state(
            rf(SDIST, SHA_SDIST, age=timedelta(days=20)),
            rf(WHEEL, SHA_WHEEL, age=timedelta(days=20)),
        ),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "no upload times (HTML index): the rule cannot apply": Case(
        ours(), state(rf(SDIST, SHA_SDIST)), PYPI, Verdict.UPLOAD, (P, U)
    ),
    # -- yanked counts as existing
    "yanked, complete and identical: nothing to do": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, yanked=True), rf(WHEEL, SHA_WHEEL, yanked=True)),
        PYPI,
        Verdict.NOTHING_TO_DO,
        (P, P),
    ),
    "yanked, partial: refused": Case(
        ours(),
        state(rf(SDIST, SHA_SDIST, yanked=True)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "yanked",
        "1.0.1",
    ),
    "yanked with other bytes": Case(
        ours(), state(rf(SDIST, OTHER, yanked=True)), PYPI, Verdict.REFUSED, (R, R), "other bytes"
    ),
    # -- next free version, free on both indexes
    "next free skips versions taken here, yanked ones too": Case(
        ours(),
        state(
            rf(SDIST, OTHER),
            rf("demo_pkg-1.0.1.tar.gz", OTHER, yanked=True),
            rf("demo_pkg-1.0.2-py3-none-any.whl", OTHER),
        ),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        next_free="1.0.3",
    ),
    "next free skips versions taken on the other index": Case(
        ours(),
        state(rf(SDIST, OTHER)),
        dataclasses.replace(PYPI, other_versions=frozenset({Version("1.0.1"), Version("1.0.3")})),
        Verdict.REFUSED,
        (R, R),
        next_free="1.0.2",
    ),
    "next free of a pre-release": Case(
        ours("2.0.0rc1"),
        state(rf("demo_pkg-2.0.0rc1.tar.gz", OTHER), rf("demo_pkg-2.0.0rc2.tar.gz", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        next_free="2.0.0rc3",
    ),
    # -- the index read does not fit the manifest
    "index read for another project": Case(
        ours(), state(project="other-pkg", exists=False), PYPI, Verdict.REFUSED, (R, R), "other-pkg"
    ),
    "a file whose version cannot be read, naming ours": Case(
        ours(),
        state(rf("demo_pkg-1.0.0.win32.exe", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "demo_pkg-1.0.0.win32.exe",
    ),
    "a file whose version cannot be read, naming 1.0 (= 1.0.0)": Case(
        ours(),
        state(rf("Demo.Pkg-1.0.linux-x86_64.exe", OTHER)),
        PYPI,
        Verdict.REFUSED,
        (R, R),
        "cannot be read",
    ),
    "a file whose version cannot be read, naming another version": Case(
        ours(),
        state(rf("demo_pkg-0.9.win32.exe", OTHER)),
        PYPI,
        Verdict.UPLOAD,
        (U, U),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_guard_table(case: Case) -> None:
    plan = decide(case.manifest, case.index, case.rules)
    assert plan.verdict is case.verdict, plan
    assert tuple(f.filename for f in plan.files) == tuple(f.filename for f in case.manifest.files)
    assert tuple(f.fate for f in plan.files) == case.fates, plan
    text = " | ".join([*plan.reasons, *(f.why for f in plan.files), plan.fix])
    assert case.says in text, text
    if case.verdict is Verdict.REFUSED:
        assert plan.reasons
        assert plan.to_upload == ()
        assert plan.fix
    else:
        assert plan.reasons == ()
    if case.next_free is not None:
        assert plan.next_free == Version(case.next_free)


def test_yanked_is_reported() -> None:
    plan = decide(
        ours(),
        state(rf(SDIST, SHA_SDIST, yanked=True), rf(WHEEL, SHA_WHEEL, yanked=True)),
        PYPI,
    )
    assert plan.verdict is Verdict.NOTHING_TO_DO
    assert any("yanked" in w for w in plan.warnings)


def test_local_refusal_suggests_the_public_version_when_free() -> None:
    plan = decide(ours("1.0.0+abc"), state(exists=False), PYPI)
    assert plan.next_free == Version("1.0.0")
    assert "+abc" in plan.fix


def test_dev_refusal_names_the_opt_in() -> None:
    plan = decide(ours("1.0.0.dev3"), state(exists=False), PYPI)
    assert "RELEASE_ALLOW_DEV_TO_PROD" in plan.fix


def test_naive_now_is_taken_as_utc() -> None:
    rules = dataclasses.replace(PYPI, now=NOW.replace(tzinfo=None))
    plan = decide(ours(), state(rf(SDIST, SHA_SDIST, age=timedelta(days=20))), rules)
    assert plan.verdict is Verdict.REFUSED


def test_plan_json_is_complete() -> None:
    plan = decide(ours(), state(rf(SDIST, OTHER)), PYPI)
    data = plan.to_json()
    assert data["verdict"] == "refused"
    assert data["next_free_version"] == "1.0.1"
    assert data["fix"] == plan.fix
    files = data["files"]
    assert isinstance(files, list)
    assert [f["fate"] for f in files] == ["refused", "refused"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Demo.Pkg-1.0.tar.gz", "demo_pkg-1.0.0.tar.gz"),
        ("demo-pkg-1.0.zip", "demo_pkg-1.0.tar.gz"),
        ("DEMO_PKG-1.0-py3-none-any.whl", "demo_pkg-1.0.0-py3-none-any.whl"),
        ("demo_pkg-1.0-py2.py3-none-any.whl", "demo_pkg-1.0-py3.py2-none-any.whl"),
    ],
)
def test_file_key_same(a: str, b: str) -> None:
    assert file_key(a) is not None
    assert file_key(a) == file_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("demo_pkg-1.0.tar.gz", "demo_pkg-1!1.0.tar.gz"),
        ("demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0-1-py3-none-any.whl"),
        ("demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0-cp311-cp311-win32.whl"),
        ("demo_pkg-1.0.tar.gz", "demo_pkg-1.0-py3-none-any.whl"),
        ("demo_pkg-1.0.tar.gz", "demo_pkg2-1.0.tar.gz"),
    ],
)
def test_file_key_different(a: str, b: str) -> None:
    assert file_key(a) != file_key(b)


# ---------------------------------------------------------------------------- properties

VERSION = Version("1.0.0")
# The files a release of demo-pkg 1.0.0 may have, each in several spellings an index may show.
KINDS = {
    "sdist": ["demo_pkg-1.0.0.tar.gz", "Demo.Pkg-1.0.tar.gz", "demo-pkg-1.0.0.tar.gz"],
    "pure": ["demo_pkg-1.0.0-py3-none-any.whl", "Demo_Pkg-1.0-py3-none-any.whl"],
    "cp311": ["demo_pkg-1.0.0-cp311-cp311-linux_x86_64.whl"],
    "win": ["DEMO.PKG-1.0.0-cp311-cp311-win_amd64.whl"],
}
SHAS = st.sampled_from(["1" * 64, "2" * 64, "3" * 64])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Manifest, IndexState, Rules]:
    ours_kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, unique=True))
    files = tuple(
        DistFile(KINDS[k][0], draw(SHAS), 1, "sdist" if k == "sdist" else "wheel")
        for k in ours_kinds
    )
    manifest = Manifest("demo-pkg", str(VERSION), files)
    remote: list[IndexFile] = []
    for kind in draw(st.lists(st.sampled_from(sorted(KINDS)), unique=True)):
        name = draw(st.sampled_from(KINDS[kind]))
        sha = draw(st.one_of(SHAS, st.none()))
        remote.append(rf(name, sha, yanked=draw(st.booleans())))
    for v in draw(st.lists(st.sampled_from(["0.9", "1.0.1", "1.0.2", "1.1.0", "2.0"]))):
        remote.append(rf(f"demo_pkg-{v}.tar.gz", draw(SHAS)))
    other = draw(st.frozensets(st.sampled_from([Version(v) for v in ("1.0.1", "1.0.3", "1.0.4")])))
    rules = Rules(other_versions=other)
    return manifest, state(*remote, exists=bool(remote) or draw(st.booleans())), rules


def identical_twin(f: IndexFile, manifest: Manifest) -> bool:
    return any(
        file_key(m.filename) == file_key(f.filename) and f.sha256 == m.sha256
        for m in manifest.files
    )


def twin_on_index(filename: str, index: IndexState) -> bool:
    return any(file_key(f.filename) == file_key(filename) for f in index.files)


@settings(deadline=None)
@given(scenarios())
def test_never_upload_a_file_whose_twin_is_on_the_index(
    scenario: tuple[Manifest, IndexState, Rules],
) -> None:
    manifest, index, rules = scenario
    plan = decide(manifest, index, rules)
    by_name = manifest.by_filename()
    for f in plan.files:
        if f.fate is Fate.UPLOAD:
            assert not twin_on_index(f.filename, index)
        if f.fate is Fate.PRESENT:  # "already there" only with proof: a twin, same sha256
            assert any(
                file_key(r.filename) == file_key(f.filename)
                and r.sha256 == by_name[f.filename].sha256
                for r in index.files
            )


@settings(deadline=None)
@given(scenarios())
def test_refused_whenever_a_remote_file_of_the_version_is_not_ours_byte_for_byte(
    scenario: tuple[Manifest, IndexState, Rules],
) -> None:
    manifest, index, rules = scenario
    plan = decide(manifest, index, rules)
    remote = index.files_for(VERSION)
    foreign = [f for f in remote if not identical_twin(f, manifest)]
    missing = [m for m in manifest.files if not twin_on_index(m.filename, index)]
    yanked_resume = bool(missing) and any(f.yanked for f in remote)
    assert (plan.verdict is Verdict.REFUSED) == (bool(foreign) or yanked_resume)
    if plan.verdict is Verdict.REFUSED:
        assert all(f.fate is Fate.REFUSE for f in plan.files)
        for f in foreign:
            assert any(f.filename in r for r in plan.reasons)


@settings(deadline=None)
@given(scenarios())
def test_nothing_to_do_iff_every_file_is_there_identical(
    scenario: tuple[Manifest, IndexState, Rules],
) -> None:
    manifest, index, rules = scenario
    plan = decide(manifest, index, rules)
    remote = index.files_for(VERSION)
    all_there = all(
        any(file_key(r.filename) == file_key(m.filename) and r.sha256 == m.sha256 for r in remote)
        for m in manifest.files
    )
    clean = all(identical_twin(f, manifest) for f in remote)
    assert (plan.verdict is Verdict.NOTHING_TO_DO) == (all_there and clean)
    if plan.verdict is Verdict.UPLOAD:
        assert plan.to_upload
        assert all(f.fate in (Fate.UPLOAD, Fate.PRESENT) for f in plan.files)


@settings(deadline=None)
@given(scenarios())
def test_next_free_version_is_greater_and_free_on_both_indexes(
    scenario: tuple[Manifest, IndexState, Rules],
) -> None:
    manifest, index, rules = scenario
    plan = decide(manifest, index, rules)
    if plan.verdict is Verdict.REFUSED:
        assert plan.next_free is not None
        assert plan.next_free > VERSION
        assert plan.next_free not in index.versions
        assert plan.next_free not in rules.other_versions
    else:
        assert plan.next_free is None


versions = st.builds(
    lambda epoch, rel, pre, dev: Version(
        (f"{epoch}!" if epoch else "")
        + ".".join(map(str, rel))
        + (f"rc{pre}" if pre is not None else "")
        + (f".dev{dev}" if dev is not None else "")
    ),
    st.sampled_from([0, 0, 0, 1]),
    st.lists(st.integers(0, 3), min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 3)),
)


@settings(deadline=None)
@given(current=versions, here=st.frozensets(versions, max_size=8), there=st.frozensets(versions))
def test_next_free_over_any_versions(
    current: Version, here: frozenset[Version], there: frozenset[Version]
) -> None:
    """Whatever the indexes hold, a refusal suggests a version above ours, free on both."""
    manifest = Manifest(
        "demo-pkg", str(current), (DistFile(f"demo_pkg-{current}.tar.gz", SHA_SDIST, 1, "sdist"),)
    )
    files = [rf(f"demo_pkg-{v}.tar.gz", OTHER) for v in here | {current}]
    plan: Plan = decide(manifest, state(*files), Rules(other_versions=there))
    assert plan.verdict is Verdict.REFUSED
    assert plan.next_free is not None
    assert plan.next_free > current
    assert plan.next_free not in here | there | {current}


def test_many_foreign_files_are_a_count_and_three_examples() -> None:
    manifest = ours()
    foreign = [rf(f"demo_pkg-1.0.0-cp3{i:02d}-none-any.whl", OTHER) for i in range(63)]
    plan = decide(manifest, state(*foreign), PYPI)
    assert plan.verdict is Verdict.REFUSED
    (reason,) = plan.reasons
    assert reason.startswith("63 files of 1.0.0 are on the index but were not built by this")
    assert "e.g. demo_pkg-1.0.0-cp300-none-any.whl, " in reason
    assert reason.endswith("and 60 more)")
    few = decide(manifest, state(*foreign[:2]), PYPI)
    assert len(few.reasons) == 2  # a short list is named file by file


# ------------------------------------------------------------------ the whole plan, exactly
# release/docs/json.md's plan shape with every value pinned: each file's why, the reasons, the next
# free version in the fix, the warnings (found missing by `nox -s mutate`).

BUMP = (
    "Versions on an index are immutable: release a new version (the next free one is {v}: "
    "`nox -s bump_version -- {v}`), then build and release again."
)


def _plan(
    verdict: str,
    files: list[tuple[str, str, str]],
    *,
    reasons: tuple[str, ...] = (),
    next_free: str | None = None,
    warnings: tuple[str, ...] = (),
    fix: str = "",
    version: str = "1.0.0",
    project: str = "demo-pkg",
) -> dict[str, object]:
    return {
        "project": project,
        "version": version,
        "index_url": INDEX,
        "verdict": verdict,
        "files": [{"filename": n, "fate": fate, "why": why} for n, fate, why in files],
        "reasons": list(reasons),
        "next_free_version": next_free,
        "warnings": list(warnings),
        "fix": fix,
    }


def _refused(*whys: str, names: tuple[str, ...] = (SDIST, WHEEL)) -> list[tuple[str, str, str]]:
    return [(n, "refused", why) for n, why in zip(names, whys, strict=True)]


NOT_YET = "1.0.0 is not on the index yet"
# pypi_rules' words (tests/test_pypi_rules.py pins them); the guard's part is where they go.
STDLIB = pypi_rules.stdlib_name_problem("json") or Finding("", "", "")
RESUME = "1.0.0 is there, this file is missing (resume)"
VR = "refused with the rest of 1.0.0"

EXACT_PLANS: dict[str, tuple[Manifest, IndexState, Rules, dict[str, object]]] = {
    "first release": (
        ours(),
        state(exists=False),
        PYPI,
        _plan("upload", [(SDIST, "upload", NOT_YET), (WHEEL, "upload", NOT_YET)]),
    ),
    "resume": (
        ours(),
        state(rf(SDIST, SHA_SDIST)),
        PYPI,
        _plan(
            "upload",
            [
                (SDIST, "already there, identical", ""),
                (WHEEL, "upload", RESUME),
            ],
        ),
    ),
    "nothing to do, old spelling": (
        ours(),
        state(rf("Demo.Pkg-1.0.tar.gz", SHA_SDIST), rf(WHEEL, SHA_WHEEL)),
        PRIVATE,
        _plan(
            "nothing to do",
            [
                (SDIST, "already there, identical", "on the index as Demo.Pkg-1.0.tar.gz"),
                (WHEEL, "already there, identical", ""),
            ],
        ),
    ),
    "other bytes": (
        ours(),
        state(rf(SDIST, "F" * 64)),
        PYPI,
        _plan(
            "refused",
            _refused("on the index with other bytes", VR),
            reasons=(
                f"{SDIST} is on the index with other bytes (index sha256 ffffffffffff…, "
                "ours aaaaaaaaaaaa…)",
            ),
            next_free="1.0.1",
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "no sha256": (
        ours(),
        state(rf(WHEEL, None), rf("demo_pkg-1.0.1.tar.gz", OTHER)),
        PRIVATE,
        _plan(
            "refused",
            _refused(VR, "on the index, hash unknown"),
            reasons=(
                f"{WHEEL} is on the index without a sha256, so it cannot be proved identical "
                "to ours",
            ),
            next_free="1.0.2",
            fix=BUMP.format(v="1.0.2"),
        ),
    ),
    "three foreign files, each named": (
        ours(wheel=False),
        state(*(rf(f"demo_pkg-1.0.0-cp31{i}-cp31{i}-win32.whl", OTHER) for i in range(3))),
        PRIVATE,
        _plan(
            "refused",
            _refused(VR, names=(SDIST,)),
            reasons=tuple(
                f"demo_pkg-1.0.0-cp31{i}-cp31{i}-win32.whl is on the index but was not built "
                "by this release"
                for i in range(3)
            ),
            next_free="1.0.1",
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "four foreign files, a count": (
        ours(wheel=False),
        state(*(rf(f"demo_pkg-1.0.0-cp31{i}-cp31{i}-win32.whl", OTHER) for i in range(4))),
        PRIVATE,
        _plan(
            "refused",
            _refused(VR, names=(SDIST,)),
            reasons=(
                "4 files of 1.0.0 are on the index but were not built by this release (e.g. "
                "demo_pkg-1.0.0-cp310-cp310-win32.whl, demo_pkg-1.0.0-cp311-cp311-win32.whl, "
                "demo_pkg-1.0.0-cp312-cp312-win32.whl and 1 more)",
            ),
            next_free="1.0.1",
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "a file whose version cannot be read": (
        ours(wheel=False),
        state(rf("demo_pkg-1.0.0.win32.exe", OTHER)),
        PRIVATE,
        _plan(
            "refused",
            _refused(VR, names=(SDIST,)),
            reasons=(
                "demo_pkg-1.0.0.win32.exe is on the index and its version cannot be read, but "
                "its name says 1.0.0: it may be a file of this release that is not ours",
            ),
            next_free="1.0.1",
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "another project": (
        ours(),
        state(project="other-pkg"),
        PYPI,
        _plan(
            "refused",
            _refused(VR, VR),
            reasons=("the index was read for 'other-pkg' but the manifest is for 'demo-pkg'",),
            fix="Run the upload from the project that built dist/ (its pyproject.toml names "
            "the project that is read on the index).",
        ),
    ),
    "local version, public one free": (
        ours("1.0.0+abc"),
        state(exists=False),
        TESTPYPI,
        _plan(
            "refused",
            _refused(
                VR + "+abc",
                VR + "+abc",
                names=("demo_pkg-1.0.0+abc.tar.gz", "demo_pkg-1.0.0+abc-py3-none-any.whl"),
            ),
            reasons=(
                "1.0.0+abc has a local version label (+abc); testpypi refuses local versions",
            ),
            next_free="1.0.0",
            fix="Drop the local label (+abc): set the version to 1.0.0, build and release "
            "again. Local versions are for private indexes only.",
            version="1.0.0+abc",
        ),
    ),
    "local version, public one taken": (
        ours("1.0.0+abc"),
        state(rf(SDIST, OTHER)),
        dataclasses.replace(PRIVATE, pypi_rules=True, other_versions=frozenset({Version("1.0.1")})),
        _plan(
            "refused",
            _refused(
                VR + "+abc",
                VR + "+abc",
                names=("demo_pkg-1.0.0+abc.tar.gz", "demo_pkg-1.0.0+abc-py3-none-any.whl"),
            ),
            reasons=(
                '1.0.0+abc has a local version label (+abc); PyPI (index-rules = "pypi") '
                "refuses local versions",
            ),
            next_free="1.0.2",
            fix="Drop the local label (+abc): set the version to 1.0.2, build and release "
            "again. Local versions are for private indexes only.",
            version="1.0.0+abc",
        ),
    ),
    "a development release to PyPI": (
        ours("1.0.0.dev3"),
        state(exists=False),
        PYPI,
        _plan(
            "refused",
            _refused(
                VR + ".dev3",
                VR + ".dev3",
                names=("demo_pkg-1.0.0.dev3.tar.gz", "demo_pkg-1.0.0.dev3-py3-none-any.whl"),
            ),
            reasons=(
                "1.0.0.dev3 is a development release, and the prod index takes those only on "
                "request",
            ),
            fix="Release a final or pre-release version to prod, or allow development releases "
            "there: RELEASE_ALLOW_DEV_TO_PROD=1 (or allow-dev-to-prod = true in [tool.release]).",
            version="1.0.0.dev3",
        ),
    ),
    "resume after 14 days and a second": (
        ours(),
        state(rf(SDIST, SHA_SDIST, age=timedelta(days=14, seconds=1))),
        PYPI,
        _plan(
            "refused",
            _refused(VR, VR),
            reasons=(
                "1.0.0 was first uploaded on 2026-11-08, more than 14 days ago; pypi refuses "
                "new files in releases older than 14 days",
            ),
            next_free="1.0.1",
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "resume a yanked release": (
        ours(),
        state(rf(SDIST, SHA_SDIST, yanked=True)),
        PRIVATE,
        _plan(
            "refused",
            _refused(VR, VR),
            reasons=(
                "1.0.0 is yanked on the index; adding files to a yanked release would offer "
                "them to nobody (installers skip yanked versions)",
            ),
            next_free="1.0.1",
            warnings=(f"1.0.0 is yanked on {INDEX}: {SDIST}",),
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "yanked with other bytes: refused, and the warning stays": (
        ours(),
        state(rf(WHEEL, SHA_WHEEL, yanked=True), rf(SDIST, OTHER, yanked=True)),
        PYPI,
        _plan(
            "refused",
            _refused("on the index with other bytes", "identical there; the version is refused"),
            reasons=(
                f"{SDIST} is on the index with other bytes (index sha256 ffffffffffff…, "
                "ours aaaaaaaaaaaa…)",
            ),
            next_free="1.0.1",
            warnings=(f"1.0.0 is yanked on {INDEX}: {WHEEL}, {SDIST}",),
            fix=BUMP.format(v="1.0.1"),
        ),
    ),
    "a new project named like a stdlib module, on PyPI": (
        ours(name="json"),
        state(project="json", exists=False),
        PYPI,
        _plan(
            "refused",
            _refused(VR, VR, names=("json-1.0.0.tar.gz", "json-1.0.0-py3-none-any.whl")),
            reasons=(STDLIB.message,),
            fix=STDLIB.fix,
            project="json",
        ),
    ),
    "a new project named like a stdlib module, index-rules = pypi: a warning": (
        ours(name="json"),
        state(project="json", exists=False),
        dataclasses.replace(PRIVATE, pypi_rules=True),
        _plan(
            "upload",
            [
                ("json-1.0.0.tar.gz", "upload", NOT_YET),
                ("json-1.0.0-py3-none-any.whl", "upload", NOT_YET),
            ],
            warnings=(STDLIB.message,),
            project="json",
        ),
    ),
    "a stdlib name that exists already": (
        ours(name="json", wheel=False),
        state(rf("json-0.9.tar.gz", OTHER), project="json"),
        PYPI,
        _plan("upload", [("json-1.0.0.tar.gz", "upload", NOT_YET)], project="json"),
    ),
    "a stdlib name on a private index": (
        ours(name="json", wheel=False),
        state(project="json", exists=False),
        PRIVATE,
        _plan("upload", [("json-1.0.0.tar.gz", "upload", NOT_YET)], project="json"),
    ),
}

FINDINGS = (
    Finding("one-sdist", "two sdists", "keep one"),
    Finding("wheel-platform", "bad tag", "fix the tag", "error", WHEEL),
    Finding("wheel-platform", "bad tag too", "fix the tag", "error", WHEEL),
    Finding("sdist-only-compiled", "only an sdist", "build wheels", "warning"),
    Finding("classifier", "odd classifier", "check it", "warning", SDIST),
)
EXACT_PLANS |= {
    "rule findings refuse on PyPI; release-level warnings only": (
        ours(),
        state(exists=False),
        dataclasses.replace(PYPI, findings=FINDINGS),
        _plan(
            "refused",
            _refused(VR, "pypi refuses it: wheel-platform"),
            reasons=("two sdists", "bad tag", "bad tag too"),
            warnings=("only an sdist",),
            fix="keep one fix the tag",
        ),
    ),
    "rule findings on a private index: warnings, no refusal": (
        ours(),
        state(exists=False),
        dataclasses.replace(PRIVATE, findings=FINDINGS),
        _plan(
            "upload",
            [(SDIST, "upload", NOT_YET), (WHEEL, "upload", NOT_YET)],
            warnings=("only an sdist",),
        ),
    ),
}


@pytest.mark.parametrize("name", EXACT_PLANS)
def test_exact_plan(name: str) -> None:
    manifest, index, rules, expected = EXACT_PLANS[name]
    assert decide(manifest, index, rules).to_json() == expected


@pytest.mark.parametrize(
    ("age", "refused"),
    [
        (timedelta(days=14), False),
        (timedelta(days=14, microseconds=1), True),
        (timedelta(days=13, hours=23), False),
    ],
)
def test_the_14_day_boundary(age: timedelta, refused: bool) -> None:
    plan = decide(ours(), state(rf(SDIST, SHA_SDIST, age=age)), TESTPYPI)
    assert (plan.verdict is Verdict.REFUSED) is refused


@pytest.mark.parametrize(
    "zone", [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
def test_upload_times_in_any_zone(zone: timezone) -> None:
    """The rule counts elapsed time, whatever zone the index or the clock speaks; the date in
    the message is the UTC date."""
    first = (NOW - timedelta(days=14)).astimezone(zone)
    exactly = dataclasses.replace(rf(SDIST, SHA_SDIST), upload_time=first)
    late = dataclasses.replace(exactly, upload_time=first - timedelta(minutes=1))
    for now in (NOW, NOW.astimezone(zone), NOW.replace(tzinfo=None)):
        rules = dataclasses.replace(PYPI, now=now)
        assert decide(ours(), state(exactly), rules).verdict is Verdict.UPLOAD
        plan = decide(ours(), state(late), rules)
        assert plan.verdict is Verdict.REFUSED
        assert plan.reasons[0].startswith("1.0.0 was first uploaded on 2026-11-08, more than")
    naive = dataclasses.replace(
        exactly, upload_time=(NOW - timedelta(days=14)).replace(tzinfo=None)
    )
    assert decide(ours(), state(naive), PYPI).verdict is Verdict.UPLOAD  # naive = UTC


@pytest.fixture
def _new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time zone is New York's for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("_new_york")
def test_the_date_is_utc() -> None:
    # 23:30 on the 7th in New York is 04:30 on the 8th in UTC, on a machine in New York too.
    upload = datetime(2026, 11, 7, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    late = dataclasses.replace(rf(SDIST, SHA_SDIST), upload_time=upload)
    plan = decide(ours(), state(late), PYPI)
    assert "first uploaded on 2026-11-08," in plan.reasons[0]


def test_examples() -> None:
    assert examples([]) == ""
    assert examples(["a", "b", "c"]) == "a, b, c"
    assert examples(["a", "b", "c", "d"]) == "e.g. a, b, c and 1 more"


def test_rules_names() -> None:
    assert PYPI.applies_pypi
    assert TESTPYPI.applies_pypi
    assert not PRIVATE.applies_pypi
    assert dataclasses.replace(PRIVATE, pypi_rules=True).applies_pypi
    assert PYPI.who == "pypi"
    assert dataclasses.replace(PRIVATE, pypi_rules=True).who == 'PyPI (index-rules = "pypi")'

"""release.manifest, the data model (pure): the JSON it writes and reads back, every refusal
of a tampered manifest, and the questions later steps ask it (unverified, unchecked, runner_of).

The file I/O (dist/, atomic writes) is release.distdir's, tested through the commands."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from packaging.version import Version

from release.manifest import MANIFEST_NAME, DistFile, Manifest, Runner, Source, check_filename

SDIST = "demo_pkg-1.0.0.tar.gz"
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
A, B, C = "a" * 64, "b" * 64, "c" * 64
RUNNER = Runner("linux-x86_64", "cpython-3.12", "github: release/build run 7 attempt 1")


def _manifest(**changes: Any) -> Manifest:
    base = Manifest(
        name="Demo.Pkg",
        version="1.0.0",
        files=(DistFile(SDIST, A, 10, "sdist"), DistFile(WHEEL, B, 20, "wheel", RUNNER.id)),
    )
    return Manifest(**{**base.__dict__, **changes})


FULL = _manifest(
    verified={WHEEL: B},
    verified_on="http://127.0.0.1:1/simple/",
    listed_on_test={SDIST: A},
    attestations={WHEEL: {f"{WHEEL}.publish.attestation": C}},
    runners={RUNNER.id: RUNNER},
    partial=True,
    allowed_missing=("cp314-*-win_amd64",),
)

FULL_JSON = {
    "format": 1,
    "name": "Demo.Pkg",
    "version": "1.0.0",
    "files": [
        {"filename": SDIST, "sha256": A, "size": 10, "kind": "sdist", "runner": ""},
        {"filename": WHEEL, "sha256": B, "size": 20, "kind": "wheel", "runner": RUNNER.id},
    ],
    "verified": {WHEEL: B},
    "verified_on": "http://127.0.0.1:1/simple/",
    "listed_on_test": {SDIST: A},
    "attestations": {WHEEL: {f"{WHEEL}.publish.attestation": C}},
    "runners": {
        RUNNER.id: {
            "platform": "linux-x86_64",
            "python": "cpython-3.12",
            "ci_job": "github: release/build run 7 attempt 1",
        }
    },
    "partial": True,
    "allowed_missing": ["cp314-*-win_amd64"],
}


def test_the_json_of_a_full_manifest() -> None:
    assert MANIFEST_NAME == "release-manifest.json"
    assert FULL.to_json() == FULL_JSON
    assert Manifest.from_json(copy.deepcopy(FULL_JSON)) == FULL


def test_the_json_of_a_plain_manifest_leaves_the_optional_keys_out() -> None:
    plain = _manifest()
    data = plain.to_json()
    assert data == {
        "format": 1,
        "name": "Demo.Pkg",
        "version": "1.0.0",
        "files": FULL_JSON["files"],
        "verified": {},
        "verified_on": "",
        "listed_on_test": {},
    }
    assert Manifest.from_json(data) == plain


def test_a_manifest_written_before_the_additions_still_reads() -> None:
    data = {
        "format": 1,
        "name": "demo-pkg",
        "version": "1.0",
        "files": [{"filename": "demo_pkg-1.0.tar.gz", "sha256": A, "size": 0, "kind": "sdist"}],
    }
    m = Manifest.from_json(data)
    assert m.files == (DistFile("demo_pkg-1.0.tar.gz", A, 0, "sdist", ""),)
    assert (m.verified, m.verified_on, m.listed_on_test, m.attestations) == ({}, "", {}, {})
    assert (m.runners, m.partial, m.allowed_missing) == ({}, False, ())
    assert m.version == "1.0"
    assert m.parsed_version == Version("1.0.0")
    assert m.canonical_name == "demo-pkg"


def test_a_runner() -> None:
    assert RUNNER.id == "github: release/build run 7 attempt 1 (linux-x86_64, cpython-3.12)"
    local = Runner("win-amd64", "cpython-3.13")
    assert local.id == "local (win-amd64, cpython-3.13)"
    assert Runner.from_json({"platform": "p", "python": "y"}) == Runner("p", "y", "")
    assert Runner.from_json({"platform": 1, "python": 2, "ci_job": 3}) == Runner("1", "2", "3")
    with pytest.raises(ValueError, match=r"^a runner is not a table$"):
        Runner.from_json(["p", "y"])


def _tampered(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(FULL_JSON)
    change(data)
    return data


# (what is changed, the exact ValueError message)
REFUSED = {
    "not a table": (lambda d: d.clear(), "not a nox-release manifest of format 1"),
    "format 2": (lambda d: d.update(format=2), "not a nox-release manifest of format 1"),
    "no format": (lambda d: d.pop("format"), "not a nox-release manifest of format 1"),
    "a file listed twice": (
        lambda d: d["files"].append(dict(d["files"][0])),
        f"{SDIST!r} is listed twice",
    ),
    "a wheel called an sdist": (
        lambda d: d["files"][1].update(kind="sdist"),
        f"bad entry for {WHEEL}",
    ),
    "a short sha256": (lambda d: d["files"][0].update(sha256="a" * 63), f"bad entry for {SDIST}"),
    "a sha256 in capitals": (
        lambda d: d["files"][0].update(sha256="A" * 64),
        f"bad entry for {SDIST}",
    ),
    "a sha256 that is not hex": (
        lambda d: d["files"][0].update(sha256="g" * 64),
        f"bad entry for {SDIST}",
    ),
    "a negative size": (lambda d: d["files"][0].update(size=-1), f"bad entry for {SDIST}"),
    "runners not a table": (lambda d: d.update(runners=["x"]), "runners is not a table"),
    "verified not a table": (lambda d: d.update(verified=[WHEEL]), "verified is not a table"),
    "verified names another file": (
        lambda d: d.update(verified={"demo_pkg-1.0.0.zip": A}),
        "verified names 'demo_pkg-1.0.0.zip', which is not a file of this manifest",
    ),
    "verified with a bad sha256": (
        lambda d: d.update(verified={WHEEL: "x"}),
        f"verified names {WHEEL!r}, which is not a file of this manifest",
    ),
    "listed_on_test names another file": (
        lambda d: d.update(listed_on_test={"other.tar.gz": A}),
        "listed_on_test names 'other.tar.gz', which is not a file of this manifest",
    ),
    "attestations not a table of tables": (
        lambda d: d.update(attestations={WHEEL: "x"}),
        "attestations is not a table of tables",
    ),
    "attestations a list": (
        lambda d: d.update(attestations=[]),
        "attestations is not a table of tables",
    ),
    "attestations of another file": (
        lambda d: d.update(attestations={"x.whl": {}}),
        "attestations names 'x.whl', which is not a file of this manifest",
    ),
    "an attestation of another file": (
        lambda d: d.update(attestations={WHEEL: {f"{SDIST}.publish.attestation": C}}),
        f"attestations of {WHEEL!r}: '{SDIST}.publish.attestation' is not a plain "
        "attestation file name",
    ),
    "an attestation with another suffix": (
        lambda d: d.update(attestations={WHEEL: {f"{WHEEL}.publish.json": C}}),
        f"attestations of {WHEEL!r}: '{WHEEL}.publish.json' is not a plain attestation file name",
    ),
    "an attestation kind with a path in it": (
        lambda d: d.update(attestations={WHEEL: {f"{WHEEL}.a/../b.attestation": C}}),
        f"attestations of {WHEEL!r}: '{WHEEL}.a/../b.attestation' is not a plain attestation "
        "file name",
    ),
    "an attestation without a kind": (
        lambda d: d.update(attestations={WHEEL: {f"{WHEEL}..attestation": C}}),
        f"attestations of {WHEEL!r}: '{WHEEL}..attestation' is not a plain attestation file name",
    ),
    "an attestation with a bad sha256": (
        lambda d: d.update(attestations={WHEEL: {f"{WHEEL}.publish.attestation": "c"}}),
        f"attestations of {WHEEL!r}: '{WHEEL}.publish.attestation' is not a plain attestation "
        "file name",
    ),
    "a file of another version": (
        lambda d: d["files"][0].update(filename="demo_pkg-1.0.1.tar.gz"),
        "'demo_pkg-1.0.1.tar.gz' is not a file of Demo.Pkg 1.0.0",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_tampered_manifest_is_refused(case: str) -> None:
    change, message = REFUSED[case]
    data: Any = _tampered(change) if case != "not a table" else ["not", "a", "table"]
    with pytest.raises(ValueError) as info:  # noqa: PT011 - the whole message is compared
        Manifest.from_json(data)
    assert str(info.value) == message


def test_only_partial_true_is_partial() -> None:
    for value, partial in ((True, True), ("yes", False), (1, False), (None, False)):
        data = _tampered(lambda d, v=value: d.update(partial=v))
        assert Manifest.from_json(data).partial is partial


def test_an_empty_attestation_list_is_not_recorded() -> None:
    m = _manifest(attestations={SDIST: {f"{SDIST}.publish.attestation": A}})
    added = m.with_attestations({WHEEL: {f"{WHEEL}.publish.attestation": C}, SDIST: {}})
    assert added.attestations == {
        SDIST: {f"{SDIST}.publish.attestation": A},
        WHEEL: {f"{WHEEL}.publish.attestation": C},
    }
    assert m.attestations == {SDIST: {f"{SDIST}.publish.attestation": A}}  # unchanged


def test_verified_listed_unverified_unchecked() -> None:
    m = _manifest()
    assert m.unverified() == [SDIST, WHEEL]
    assert m.unchecked() == [SDIST, WHEEL]
    sdist, wheel = m.files
    done = m.with_verified([wheel], "http://127.0.0.1:1/simple/", listed=[sdist])
    assert done.verified == {WHEEL: B}
    assert done.listed_on_test == {SDIST: A}
    assert done.verified_on == "http://127.0.0.1:1/simple/"
    assert done.unverified() == [SDIST]
    assert done.unchecked() == []
    assert m.verified == {}  # the original is not changed
    # A recorded sha256 that is not the file's own counts for nothing.
    stale = _manifest(verified={WHEEL: C}, listed_on_test={SDIST: C})
    assert stale.unverified() == [SDIST, WHEEL]
    assert stale.unchecked() == [SDIST, WHEEL]
    again = done.with_verified([sdist], "http://127.0.0.1:2/simple/")
    assert again.verified == {WHEEL: B, SDIST: A}
    assert again.listed_on_test == {SDIST: A}
    assert again.verified_on == "http://127.0.0.1:2/simple/"


def test_runner_of() -> None:
    m = _manifest()
    assert m.runner_of(WHEEL) == RUNNER.id
    assert m.runner_of(SDIST) == "unknown runner"
    assert m.runner_of("nothing.whl") == "unknown runner"
    assert m.by_filename() == {SDIST: m.files[0], WHEEL: m.files[1]}


@pytest.mark.parametrize(
    "filename",
    [
        "demo_pkg-1.0.0.tar.gz",
        "demo_pkg-1.0.0.zip",
        "Demo.Pkg-1.0.tar.gz",
        "demo_pkg-1.0.0-py3-none-any.whl",
        "demo_pkg-1.0.0-1-cp312-cp312-win_amd64.whl",
    ],
)
def test_check_filename_takes_plain_distribution_names(filename: str) -> None:
    check_filename(filename, "demo-pkg", Version("1.0.0"))


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("", "'' is not a plain file name inside dist/"),
        (".", "'.' is not a plain file name inside dist/"),
        ("..", "'..' is not a plain file name inside dist/"),
        (
            "../demo_pkg-1.0.0.tar.gz",
            "'../demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "a/demo_pkg-1.0.0.tar.gz",
            "'a/demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "a\\demo_pkg-1.0.0.tar.gz",
            "'a\\\\demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            ".demo_pkg-1.0.0.tar.gz",
            "'.demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "~demo_pkg-1.0.0.tar.gz",
            "'~demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "demo_pkg-1.0.0\x1f.tar.gz",
            "'demo_pkg-1.0.0\\x1f.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "C:demo_pkg-1.0.0.tar.gz",
            "'C:demo_pkg-1.0.0.tar.gz' is not a plain file name inside dist/",
        ),
        (
            "demo_pkg-1.0.0.tar.gz|x",
            "'demo_pkg-1.0.0.tar.gz|x' is not a plain file name inside dist/",
        ),
        (
            "demo_pkg-1.0.0.tar.bz2",
            "'demo_pkg-1.0.0.tar.bz2' is not a distribution filename (.whl, .tar.gz)",
        ),
        ("demo_pkg-1.0.0-py3-none.whl", None),
        ("demo_pkg-x.y.tar.gz", None),
        ("demo_pkg-1.0.1.tar.gz", "'demo_pkg-1.0.1.tar.gz' is not a file of demo-pkg 1.0.0"),
        ("other_pkg-1.0.0.tar.gz", "'other_pkg-1.0.0.tar.gz' is not a file of demo-pkg 1.0.0"),
        (
            "other_pkg-1.0.0-py3-none-any.whl",
            "'other_pkg-1.0.0-py3-none-any.whl' is not a file of demo-pkg 1.0.0",
        ),
    ],
)
def test_check_filename_refuses(filename: str, message: str | None) -> None:
    with pytest.raises(ValueError) as info:  # noqa: PT011 - the whole message is compared
        check_filename(filename, "demo-pkg", Version("1.0.0"))
    if message is None:
        assert str(info.value).startswith(f"{filename!r} is not a valid distribution filename (")
    else:
        assert str(info.value) == message


def test_check_filename_edges() -> None:
    check_filename("Demo_X-1.0.0.tar.gz", "demo-x", Version("1.0.0"))  # capitals are plain
    check_filename("demo_pkg-1!1.0.0.tar.gz", "demo-pkg", Version("1!1.0.0"))  # "!" of an epoch
    for name in ("demo_pkg-1.0.0 .tar.gz", "demo_pkg-1.0.0\t.tar.gz"):  # packaging strips them
        with pytest.raises(ValueError, match="is not a plain file name inside dist/"):
            check_filename(name, "demo-pkg", Version("1.0.0"))


def test_attestation_names_edges() -> None:
    one_letter = _tampered(lambda d: d.update(attestations={WHEEL: {f"{WHEEL}.x.attestation": C}}))
    assert Manifest.from_json(one_letter).attestations == {WHEEL: {f"{WHEEL}.x.attestation": C}}
    for name in (f"{WHEEL}.publishattestation", f"{WHEEL}.1x.attestation"):
        bad = _tampered(lambda d, n=name: d.update(attestations={WHEEL: {n: C}}))
        with pytest.raises(ValueError, match="is not a plain attestation file name"):
            Manifest.from_json(bad)


def test_a_sha256_is_lower_case_hex_only() -> None:
    for sha in ("X" * 64, "0123456789abcdeX" * 4):
        data = _tampered(lambda d, s=sha: d["files"][0].update(sha256=s))
        with pytest.raises(ValueError, match=f"^bad entry for {SDIST}$"):
            Manifest.from_json(data)


# ------------------------------------------------------------------ the source it was built from

SOURCE = Source(
    commit="0123456789abcdef0123456789abcdef01234567",
    clean=True,
    source_date_epoch=1_700_000_000,
    backend="setuptools.build_meta",
    requirements={"wheel": "0.45.1", "setuptools": "80.9.0"},
)
SOURCE_JSON = {
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "clean": True,
    "source_date_epoch": 1_700_000_000,
    "backend": "setuptools.build_meta",
    "requirements": {"setuptools": "80.9.0", "wheel": "0.45.1"},  # sorted
}


def test_the_source_in_json() -> None:
    assert SOURCE.to_json() == SOURCE_JSON
    assert list(SOURCE.to_json()["requirements"]) == ["setuptools", "wheel"]
    assert Source.from_json(SOURCE_JSON) == SOURCE
    m = _manifest(source=SOURCE)
    assert m.to_json()["source"] == SOURCE_JSON
    assert Manifest.from_json(m.to_json()) == m
    assert "source" not in _manifest().to_json()
    assert Manifest.from_json({**_manifest().to_json(), "source": None}).source is None


def test_a_source_with_nothing_recorded() -> None:
    assert Source.from_json({}) == Source("", False, None, "", {})
    assert Source.from_json({"commit": None, "backend": None, "requirements": None}) == Source()
    assert Source.from_json({"clean": "yes"}).clean is False  # only true is true
    sha256_commit = "a" * 64  # a SHA-256 repository's object name
    assert Source.from_json({"commit": sha256_commit}).commit == sha256_commit
    assert Source.from_json({"source_date_epoch": 0}).source_date_epoch == 0
    assert Source.from_json({"requirements": {"a": 1}}).requirements == {"a": "1"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["x"], "source is not a table"),
        ({"commit": "abc"}, "source commit 'abc' is not a full git object name"),
        ({"commit": "A" * 40}, f"source commit {'A' * 40!r} is not a full git object name"),
        ({"commit": "g" * 40}, f"source commit {'g' * 40!r} is not a full git object name"),
        ({"commit": "a" * 41}, f"source commit {'a' * 41!r} is not a full git object name"),
        ({"source_date_epoch": -1}, "source_date_epoch is not a number of seconds"),
        ({"source_date_epoch": "1"}, "source_date_epoch is not a number of seconds"),
        ({"source_date_epoch": 1.5}, "source_date_epoch is not a number of seconds"),
        ({"requirements": ["a"]}, "source requirements is not a table"),
    ],
)
def test_a_bad_source_is_refused(data: object, message: str) -> None:
    with pytest.raises(ValueError) as info:  # noqa: PT011 - the whole message is compared
        Source.from_json(data)
    assert str(info.value) == message

"""expected-wheels and the merge of many runners' folders, as tables (both are pure)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from release.config import split_outside_braces
from release.errors import ConfigError
from release.indexstate import IndexFile, IndexState, parse_filename
from release.manifest import DistFile, Manifest, Runner, Source
from release.matrix import (
    audit_release,
    check_expected,
    expand_braces,
    expand_patterns,
    matrix_table,
    suggested_patterns,
)
from release.merge import (
    FIX_CHANGED,
    FIX_CLASH,
    FIX_IDENTITY,
    FIX_NO_SDIST,
    FIX_SDISTS,
    Part,
    Problem,
    merge,
)

PYS = ("310", "311", "312", "313", "314")
LINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"
CIBW_DEFAULT = [
    *(f"demo-1.0-cp{p}-cp{p}-{LINUX}.whl" for p in PYS),
    *(f"demo-1.0-cp{p}-cp{p}-manylinux_2_17_aarch64.manylinux2014_aarch64.whl" for p in PYS),
    *(f"demo-1.0-cp{p}-cp{p}-macosx_11_0_arm64.whl" for p in PYS),
    *(f"demo-1.0-cp{p}-cp{p}-win_amd64.whl" for p in PYS),
]


# ---------------------------------------------------------------- braces and patterns


@pytest.mark.parametrize(
    ("pattern", "expanded"),
    [
        ("py3-none-any", ["py3-none-any"]),
        ("cp3{10,11}-*-win_amd64", ["cp310-*-win_amd64", "cp311-*-win_amd64"]),
        ("cp3{9,1{0,1}}-x", ["cp39-x", "cp310-x", "cp311-x"]),
        ("{a,b}-{c,d}", ["a-c", "a-d", "b-c", "b-d"]),
        ("cp3{12}-*-any", ["cp312-*-any"]),
    ],
)
def test_brace_expansion(pattern: str, expanded: list[str]) -> None:
    assert expand_braces(pattern) == expanded


@pytest.mark.parametrize("bad", ["cp3{10,11-*-x", "cp310}-*-x", "cp3}{-a-b"])
def test_unbalanced_braces_are_a_usage_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="unbalanced braces"):
        expand_braces(bad)


@pytest.mark.parametrize("bad", ["cp312", "cp312-win_amd64", "a-b-c-d", "-none-any"])
def test_a_pattern_must_be_one_tag(bad: str) -> None:
    with pytest.raises(ConfigError, match="INTERPRETER-ABI-PLATFORM"):
        expand_patterns([bad])


def test_an_environment_list_keeps_braces_whole() -> None:
    assert split_outside_braces("cp3{10,11}-*-win_amd64,py3-none-any") == [
        "cp3{10,11}-*-win_amd64",
        "py3-none-any",
    ]


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4, unique=True))
def test_expansion_has_one_result_per_choice(choices: list[str]) -> None:
    assert expand_braces("x{" + ",".join(choices) + "}y") == [f"x{c}y" for c in choices]


# ---------------------------------------------------------------- completeness


@dataclasses.dataclass(frozen=True)
class Case:
    patterns: list[str]
    wheels: list[str]
    missing: list[str]
    allow: list[str] = dataclasses.field(default_factory=list)
    allowed: list[str] = dataclasses.field(default_factory=list)
    unexpected: list[str] = dataclasses.field(default_factory=list)


CASES = {
    "pure project": Case(["*-none-any"], ["demo-1.0-py3-none-any.whl"], []),
    "pure project, no wheel": Case(["py3-none-any"], [], ["py3-none-any"]),
    "cibuildwheel default, complete": Case(
        [
            "cp3{10,11,12,13,14}-*-manylinux_*_{x86_64,aarch64}",
            "cp3{10,11,12,13,14}-*-macosx_*_arm64",
            "cp3{10,11,12,13,14}-*-win_amd64",
        ],
        CIBW_DEFAULT,
        [],
    ),
    "cibuildwheel default, one runner missing (windows)": Case(
        ["cp3{10,11,12,13,14}-*-manylinux_*_x86_64", "cp3{10,11,12,13,14}-*-win_amd64"],
        [w for w in CIBW_DEFAULT if "win" not in w and "x86_64" in w],
        [f"cp{p}-*-win_amd64" for p in PYS],
    ),
    "a compressed tag set matches on any of its tags": Case(
        ["cp312-cp312-manylinux2014_x86_64"], [f"demo-1.0-cp312-cp312-{LINUX}.whl"], []
    ),
    "abi3: one wheel per platform": Case(
        ["cp39-abi3-manylinux_*_x86_64", "cp39-abi3-win_amd64"],
        ["demo-1.0-cp39-abi3-manylinux_2_28_x86_64.whl"],
        ["cp39-abi3-win_amd64"],
    ),
    "allow-missing excuses an expanded pattern": Case(
        ["cp3{13,14}-*-win_amd64"],
        ["demo-1.0-cp313-cp313-win_amd64.whl"],
        [],
        allow=["cp314-*"],
        allowed=["cp314-*-win_amd64"],
    ),
    "allow-missing excuses only what it names": Case(
        ["cp3{13,14}-*-win_amd64"], [], ["cp313-*-win_amd64"], ["cp314-*"], ["cp314-*-win_amd64"]
    ),
    "a wheel nothing expects is reported, not refused": Case(
        ["cp313-*-win_amd64"],
        ["demo-1.0-cp313-cp313-win_amd64.whl", "demo-1.0-cp313-cp313-win32.whl"],
        [],
        unexpected=["demo-1.0-cp313-cp313-win32.whl"],
    ),
    "free-threaded is its own ABI": Case(
        ["cp313-cp313t-win_amd64"],
        ["demo-1.0-cp313-cp313-win_amd64.whl"],
        ["cp313-cp313t-win_amd64"],
        unexpected=["demo-1.0-cp313-cp313-win_amd64.whl"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_completeness(case: Case) -> None:
    result = check_expected(case.patterns, case.wheels, case.allow)
    assert list(result.missing) == case.missing
    assert list(result.allowed) == case.allowed
    assert list(result.unexpected) == case.unexpected
    assert result.complete is (not case.missing)


def test_an_allowance_that_excuses_nothing_is_reported() -> None:
    result = check_expected(["py3-none-any"], ["d-1.0-py3-none-any.whl"], ["cp314-*"])
    assert result.unused_allowances == ("cp314-*",)


# ---------------------------------------------------------------- the matrix found


def test_suggested_patterns_are_satisfied_exactly_by_what_was_found() -> None:
    suggested = suggested_patterns(CIBW_DEFAULT)
    assert suggested == [
        "cp3{10,11,12,13,14}-*-macosx_*_arm64",
        "cp3{10,11,12,13,14}-*-manylinux_*_aarch64",
        "cp3{10,11,12,13,14}-*-manylinux_*_x86_64",
        "cp3{10,11,12,13,14}-*-win_amd64",
    ]
    assert check_expected(suggested, CIBW_DEFAULT).complete
    assert not check_expected(suggested, CIBW_DEFAULT[1:]).complete
    assert check_expected(suggested, CIBW_DEFAULT).unexpected == ()


@pytest.mark.parametrize(
    "wheels",
    [
        ["d-1.0-py3-none-any.whl"],
        ["d-1.0-cp39-abi3-win_amd64.whl", "d-1.0-cp39-abi3-macosx_10_9_x86_64.whl"],
        ["d-1.0-cp313-cp313t-win_amd64.whl", "d-1.0-cp313-cp313-win_amd64.whl"],
        ["d-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl", "d-1.0-cp310-cp310-win32.whl"],
    ],
)
def test_suggestions_round_trip(wheels: list[str]) -> None:
    suggested = suggested_patterns(wheels)
    result = check_expected(suggested, wheels)
    assert result.complete
    assert result.unexpected == ()


def test_matrix_table_is_python_by_platform() -> None:
    table = matrix_table([w for w in CIBW_DEFAULT if "cp314" not in w or "win" not in w])
    lines = table.splitlines()
    assert lines[0] == (
        "| python | `macosx_*_arm64` | `manylinux_*_aarch64` | `manylinux_*_x86_64` | `win_amd64` |"
    )
    assert [ln.split(" | ")[0] for ln in lines[2:]] == [f"| cp{p}" for p in PYS]
    assert lines[-1] == "| cp314 | x | x | x |   |"
    assert matrix_table([]) == "(no wheels)"


# ---------------------------------------------------------------- merging runners' folders

SDIST = "demo-1.0.tar.gz"
WIN = "demo-1.0-cp313-cp313-win_amd64.whl"
MAC = "demo-1.0-cp313-cp313-macosx_11_0_arm64.whl"


def part(
    folder: str,
    files: dict[str, str],
    *,
    actual: dict[str, str] | None = None,
    version: str = "1.0",
    name: str = "demo",
    runner: str = "",
) -> Part:
    r = Runner(platform=folder, python="cpython-3.13", ci_job=runner or f"job {folder}")
    entries = tuple(
        DistFile(fn, sha, 10, "wheel" if fn.endswith(".whl") else "sdist", r.id)
        for fn, sha in files.items()
    )
    manifest = Manifest(name, version, entries, runners={r.id: r}, partial=True)
    on_disk = files if actual is None else actual
    return Part(folder, manifest, {fn: (sha, 10) for fn, sha in on_disk.items()})


def problems_of(*parts: Part, **kw: object) -> list[str]:
    merged = merge(parts, **kw)  # type: ignore[arg-type]
    assert (merged.manifest is None) == bool(merged.problems)
    return [p.what for p in merged.problems]


def test_merge_of_a_complete_matrix() -> None:
    merged = merge([part("sdist", {SDIST: "a" * 64}), part("win", {WIN: "b" * 64})])
    assert merged.manifest is not None
    assert [f.filename for f in merged.manifest.files] == [SDIST, WIN]
    assert not merged.manifest.partial
    assert len(merged.manifest.runners) == 2
    assert merged.sources == {SDIST: "sdist", WIN: "win"}


def test_identical_copies_from_two_runners_are_taken_once() -> None:
    merged = merge([part("a", {SDIST: "a" * 64, WIN: "b" * 64}), part("b", {WIN: "b" * 64})])
    assert merged.manifest is not None
    assert len(merged.manifest.files) == 2
    assert merged.notes
    assert "identical copies" in merged.notes[0]


MERGE_REFUSALS = {
    "different versions": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, version="1.1")],
        "different versions",
    ),
    "different projects": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, name="other")],
        "different projects",
    ),
    "one name, two contents (names both runners)": (
        [
            part("s", {SDIST: "a" * 64}),
            part("mac13", {MAC: "b" * 64}, runner="macos-13"),
            part("mac14", {MAC: "c" * 64}, runner="macos-14"),
        ],
        "built twice with different bytes: by macos-13",
    ),
    "bytes differ from the partial manifest": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, actual={WIN: "e" * 64})],
        "w/" + WIN + ": its bytes differ from its partial manifest",
    ),
    "a stray file": (
        [part("s", {SDIST: "a" * 64}, actual={SDIST: "a" * 64, WIN: "b" * 64})],
        "in the folder but not in its partial manifest",
    ),
    "a missing file": (
        [part("s", {SDIST: "a" * 64, WIN: "b" * 64}, actual={SDIST: "a" * 64})],
        "in its partial manifest but not in the folder",
    ),
    "two sdists": (
        [part("s1", {SDIST: "a" * 64}), part("s2", {"demo-1.0.zip": "d" * 64})],
        "more than one sdist",
    ),
    "no sdist": ([part("w", {WIN: "b" * 64})], "no sdist"),
    "nothing": ([], "no folders"),
}


@pytest.mark.parametrize(("parts", "expected"), MERGE_REFUSALS.values(), ids=list(MERGE_REFUSALS))
def test_merge_refusals(parts: list[Part], expected: str) -> None:
    found = problems_of(*parts)
    assert any(expected in p for p in found), found


def test_merge_checks_the_static_version_and_the_wheel_rule() -> None:
    parts = [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64})]
    assert problems_of(*parts, expected_version=Version("2.0")) == [
        "the folders hold version 1.0, pyproject.toml says 2.0"
    ]
    found = problems_of(
        *parts, wheel_problem=lambda fn: Problem(f"{fn}: bad tag", "fix") if "win" in fn else None
    )
    assert found == [f"{WIN}: bad tag (from w)"]
    assert problems_of(part("w", {WIN: "b" * 64}), allow_no_sdist=True) == []


# ---------------------------------------------------------------- post-publish audit


def state_of(*filenames: str) -> IndexState:
    files = []
    for fn in filenames:
        parsed = parse_filename(fn)
        assert parsed is not None
        files.append(IndexFile(fn, parsed[0], parsed[1], "a" * 64, False, "", None))
    return IndexState("http://127.0.0.1:1/simple/", canonicalize_name("demo"), True, tuple(files))


def released(*filenames: str, allowed: tuple[str, ...] = ()) -> Manifest:
    return Manifest(
        "demo",
        "1.0",
        tuple(
            DistFile(f, "a" * 64, 1, "wheel" if f.endswith(".whl") else "sdist") for f in filenames
        ),
        allowed_missing=allowed,
    )


AUDITS = {
    "all there": (released(SDIST, WIN), state_of(SDIST, WIN), ["cp313-*-win_amd64"], {}),
    "another spelling is the same file": (
        released(SDIST, WIN),
        state_of("Demo-1.0.tar.gz", WIN),
        [],
        {},
    ),
    "a file of ours missing": (
        released(SDIST, WIN),
        state_of(WIN),
        [],
        {"missing_files": (SDIST,)},
    ),
    "an extra file on the index": (
        released(SDIST, WIN),
        state_of(SDIST, WIN, MAC, "demo-0.9.tar.gz"),
        [],
        {"extra_files": (MAC,)},
    ),
    "an expected wheel was never built": (
        released(SDIST, WIN),
        state_of(SDIST, WIN),
        ["cp313-*-win_amd64", "cp313-*-macosx_*_arm64"],
        {"missing_patterns": ("cp313-*-macosx_*_arm64",)},
    ),
    "allowed missing when gathered": (
        released(SDIST, WIN, allowed=("cp313-*-macosx_*_arm64",)),
        state_of(SDIST, WIN),
        ["cp313-*-win_amd64", "cp313-*-macosx_*_arm64"],
        {"allowed_missing": ("cp313-*-macosx_*_arm64",)},
    ),
}


@pytest.mark.parametrize(
    ("manifest", "state", "patterns", "found"), AUDITS.values(), ids=list(AUDITS)
)
def test_post_publish_audit(
    manifest: Manifest, state: IndexState, patterns: list[str], found: dict[str, tuple[str, ...]]
) -> None:
    result = audit_release(manifest, state, patterns)
    empty = {"missing_files": (), "extra_files": (), "missing_patterns": (), "allowed_missing": ()}
    assert dataclasses.asdict(result) == empty | found
    assert result.complete is not bool(found.get("missing_files") or found.get("missing_patterns"))


# ------------------------------------------------------------ every problem, exactly
# The words gather prints and the fix a person acts on (found missing by `nox -s mutate`).

JOB = "(%s, cpython-3.13)"
EXACT_PROBLEMS: dict[str, tuple[list[Part], dict[str, object], list[tuple[str, str]]]] = {
    "different versions and projects": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, version="1.1", name="other")],
        {"expected_version": Version("2.0")},
        [
            ("the folders hold different projects: s: demo; w: other", FIX_IDENTITY),
            ("the folders hold different versions: s: 1.0; w: 1.1", FIX_IDENTITY),
        ],
    ),
    "1.0 and 1.0.0 are one version; Demo and demo one project": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, version="1.0.0", name="Demo")],
        {"expected_version": Version("1.0")},
        [],
    ),
    "another version than pyproject.toml's": (
        [part("s", {SDIST: "a" * 64})],
        {"expected_version": Version("1.0.1")},
        [("the folders hold version 1.0, pyproject.toml says 1.0.1", FIX_IDENTITY)],
    ),
    "one name, two contents": (
        [
            part("s", {SDIST: "a" * 64}),
            part("mac13", {MAC: "b" * 64}, runner="macos-13"),
            part("mac14", {MAC: "c" * 64}, runner="macos-14"),
        ],
        {},
        [
            (
                f"{MAC} was built twice with different bytes: by macos-13 {JOB % 'mac13'} "
                f"(folder mac13) and by macos-14 {JOB % 'mac14'} (folder mac14)",
                FIX_CLASH,
            )
        ],
    ),
    "bytes changed after the build": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64}, actual={WIN: "e" * 64})],
        {},
        [
            (
                f"w/{WIN}: its bytes differ from its partial manifest (sha256 eeeeeeeeeeee…, "
                f"recorded bbbbbbbbbbbb…, 10 bytes vs 10): changed after job w {JOB % 'w'} "
                "built it",
                FIX_CHANGED,
            )
        ],
    ),
    "a stray file and a missing one": (
        [part("s", {SDIST: "a" * 64, MAC: "c" * 64}, actual={SDIST: "a" * 64, WIN: "b" * 64})],
        {},
        [
            (f"s/{WIN}: in the folder but not in its partial manifest", FIX_CHANGED),
            (f"s/{MAC}: in its partial manifest but not in the folder", FIX_CHANGED),
        ],
    ),
    "two sdists": (
        [part("s1", {SDIST: "a" * 64}), part("s2", {"demo-1.0.zip": "d" * 64})],
        {},
        [
            (
                f"more than one sdist: {SDIST} from job s1 {JOB % 's1'} (folder s1); "
                f"demo-1.0.zip from job s2 {JOB % 's2'} (folder s2)",
                FIX_SDISTS,
            )
        ],
    ),
    "no sdist": ([part("w", {WIN: "b" * 64})], {}, [("no sdist in any folder", FIX_NO_SDIST)]),
    "no sdist, allowed": ([part("w", {WIN: "b" * 64})], {"allow_no_sdist": True}, []),
    "nothing": (
        [],
        {},
        [
            ("no sdist in any folder", FIX_NO_SDIST),
            ("no folders to gather", "Name the build folders: gather DIR..."),
        ],
    ),
    "a wheel the index would refuse (not the sdist)": (
        [part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64, MAC: "c" * 64})],
        {"wheel_problem": lambda fn: Problem(f"{fn}: refused", f"fix {fn}")},
        [(f"{MAC}: refused (from w)", f"fix {MAC}"), (f"{WIN}: refused (from w)", f"fix {WIN}")],
    ),
}


@pytest.mark.parametrize("name", EXACT_PROBLEMS)
def test_merge_problems_exactly(name: str) -> None:
    parts, options, expected = EXACT_PROBLEMS[name]
    merged = merge(parts, **options)  # type: ignore[arg-type]
    assert [(p.what, p.fix) for p in merged.problems] == expected
    assert (merged.manifest is None) is bool(expected)
    if expected:
        assert merged.sources == {}


def test_the_merged_manifest_exactly() -> None:
    unused = Runner("unused", "cpython-3.13")
    win = part("win", {WIN: "b" * 64})
    win = dataclasses.replace(
        win,
        manifest=dataclasses.replace(
            win.manifest, runners={**win.manifest.runners, unused.id: unused}
        ),
    )
    merged = merge(
        [
            part("mac", {MAC: "c" * 64}),
            win,
            part("sdist", {SDIST: "a" * 64}),
            part("b", {WIN: "b" * 64}),
        ]
    )
    assert merged.problems == ()
    assert merged.notes == (f"{WIN}: identical copies from win and b; taking one",)
    assert merged.sources == {MAC: "mac", WIN: "win", SDIST: "sdist"}
    runner = {f: Runner(f, "cpython-3.13", f"job {f}") for f in ("mac", "win", "sdist")}
    assert merged.manifest == Manifest(
        name="demo",
        version="1.0",
        files=(
            DistFile(SDIST, "a" * 64, 10, "sdist", runner["sdist"].id),
            DistFile(MAC, "c" * 64, 10, "wheel", runner["mac"].id),
            DistFile(WIN, "b" * 64, 10, "wheel", runner["win"].id),
        ),
        runners={r.id: r for r in runner.values()},
        partial=False,
    )


def test_a_file_listed_but_absent_is_not_taken_from_that_folder() -> None:
    merged = merge(
        [
            part("a", {SDIST: "a" * 64, WIN: "e" * 64}, actual={SDIST: "a" * 64}),
            part("b", {WIN: "b" * 64}),
        ]
    )
    assert [p.what for p in merged.problems] == [
        f"a/{WIN}: in its partial manifest but not in the folder"
    ]
    assert merged.notes == ()  # no clash with b's copy: a's was never there


# ------------------------------------------------------------ patterns and tables, exactly

BRACES_FIX = 'Write alternatives as {a,b}, e.g. "cp3{10,11,12}-*-win_amd64".'
TAG_FIX = (
    'Write one wheel tag with globs, e.g. "cp312-*-manylinux_*_x86_64", '
    '"cp3*-abi3-macosx_*_arm64" or "py3-none-any".'
)


@pytest.mark.parametrize("bad", ["cp3{10,11-*-x", "cp310}-*-x", "a-b-}{", "{{a}-b-c"])
def test_unbalanced_braces_exactly(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        expand_patterns([bad])
    assert (info.value.message, info.value.fix) == (
        f"expected-wheels pattern {bad!r} has unbalanced braces.",
        BRACES_FIX,
    )


def test_a_pattern_that_is_not_one_tag_exactly() -> None:
    with pytest.raises(ConfigError) as info:
        expand_patterns(["py3-none-any", " cp3{12,13}-win_amd64 "])
    assert (info.value.message, info.value.fix) == (
        "expected-wheels pattern 'cp312-win_amd64' (from ' cp3{12,13}-win_amd64 ') is not "
        "INTERPRETER-ABI-PLATFORM.",
        TAG_FIX,
    )
    for bad in ("a--c", "a-b-", "-b-c"):
        with pytest.raises(ConfigError, match="is not INTERPRETER-ABI-PLATFORM"):
            expand_patterns([bad])


def test_patterns_are_stripped_expanded_and_kept_once() -> None:
    assert expand_patterns([" cp3{12,13}-*-win_amd64", "cp312-*-win_amd64 ", "py3-none-any"]) == [
        "cp312-*-win_amd64",
        "cp313-*-win_amd64",
        "py3-none-any",
    ]
    assert expand_braces("a{b,c{d,e}}f{g,h}") == [
        "abfg",
        "abfh",
        "acdfg",
        "acdfh",
        "acefg",
        "acefh",
    ]


def test_allowances_exactly() -> None:
    result = check_expected(
        ["cp3{12,13,14}-*-win_amd64"],
        ["d-1.0-cp312-cp312-win_amd64.whl", "not a wheel.whl"],
        ["cp313-*-win_amd64", "cp314-*", "cp315-*"],
    )
    assert result.missing == ()
    assert result.allowed == ("cp313-*-win_amd64", "cp314-*-win_amd64")
    assert result.unused_allowances == ("cp315-*",)
    assert result.unexpected == ("not a wheel.whl",)
    assert result.complete


def test_suggested_patterns_exactly() -> None:
    wheels = [
        "d-1.0-pp310-pypy310_pp73-manylinux2014_x86_64.whl",
        "d-1.0-pp39-pypy39_pp73-manylinux1_i686.whl",
        "d-1.0-cp39-abi3-win_amd64.whl",
        "d-1.0-cp313-cp313t-win_amd64.whl",
        "d-1.0-cp313-cp313-macosx_10_9_universal2.whl",
        "d-1.0-cp312-cp312-macosx_10_9_universal2.whl",
        "d-1.0-py2-none-any.whl",
        "d-1.0-py3-none-any.whl",
        "d-1.0-cp38-cp38-musllinux_1_2_x86_64.whl",
        "d-1.0-cp310-cp310-linux_armv7l.whl",
        "not-a-wheel.whl",
    ]
    assert suggested_patterns(wheels) == [
        "{py2,py3}-none-any",
        "cp310-*-linux_armv7l",
        "cp3{12,13}-*-macosx_*_universal2",
        "pp39-pypy39_pp73-manylinux_*_i686",
        "pp310-pypy310_pp73-manylinux_*_x86_64",
        "cp38-*-musllinux_*_x86_64",
        "cp39-abi3-win_amd64",
        "cp313-cp313t-win_amd64",
    ]


def test_matrix_table_exactly() -> None:
    wheels = [
        "d-1.0-pp310-pypy310_pp73-manylinux2014_x86_64.whl",
        "d-1.0-cp39-abi3-win_amd64.whl",
        "d-1.0-cp313-cp313t-win_amd64.whl",
        "d-1.0-cp310-cp310-win_amd64.whl",
        "d-1.0-cp39-cp39-win_amd64.whl",
        "d-1.0-py3-none-any.whl",
        "not-a-wheel.whl",
    ]
    assert matrix_table(wheels) == "\n".join(
        [
            "| python | `any` | `manylinux_*_x86_64` | `win_amd64` |",
            "|---|---|---|---|",
            "| cp39 |   |   | x |",
            "| cp39-abi3 |   |   | x |",
            "| cp310 |   |   | x |",
            "| cp313-cp313t |   |   | x |",
            "| pp310-pypy310_pp73 |   | x |   |",
            "| py3-none | x |   |   |",
        ]
    )
    assert matrix_table(["not-a-wheel.whl"]) == "(no wheels)"


def test_python_order_and_wheels_without_tags() -> None:
    wheels = [
        "not-a-wheel.whl",  # first: the wheels after it still count
        "d-1.0-cp310-cp310-win_amd64.whl",
        "d-1.0-cp39-cp39-win_amd64.whl",
        "d-1.0-cp30-cp30-win_amd64.whl",
        "d-1.0-cp27-cp27m-win_amd64.whl",
    ]
    assert [line.split(" | ")[0] for line in matrix_table(wheels).splitlines()[2:]] == [
        "| cp27-cp27m",  # not CPython 3: before every CPython 3 minor, 3.0 included
        "| cp30",
        "| cp39",
        "| cp310",
    ]
    assert suggested_patterns(wheels) == ["cp3{0,9,10}-*-win_amd64", "cp27-cp27m-win_amd64"]


def test_a_file_absent_from_its_folder_does_not_hide_the_next_one() -> None:
    first = part("a", {WIN: "e" * 64, SDIST: "a" * 64}, actual={SDIST: "a" * 64})
    assert [p.what for p in merge([first]).problems] == [
        f"a/{WIN}: in its partial manifest but not in the folder"
    ]
    both = part("b", {MAC: "c" * 64, WIN: "b" * 64}, actual={WIN: "e" * 64})
    assert [p.what for p in merge([part("s", {SDIST: "a" * 64}), both]).problems] == [
        f"b/{MAC}: in its partial manifest but not in the folder",
        f"b/{WIN}: its bytes differ from its partial manifest (sha256 eeeeeeeeeeee…, recorded "
        f"bbbbbbbbbbbb…, 10 bytes vs 10): changed after job b {JOB % 'b'} built it",
    ]


def test_a_file_without_a_runner_says_so() -> None:
    def bare(folder: str, filename: str, sha: str) -> Part:
        entry = DistFile(filename, sha, 10, "sdist")
        return Part(folder, Manifest("demo", "1.0", (entry,), partial=True), {filename: (sha, 10)})

    merged = merge([bare("s1", SDIST, "a" * 64), bare("s2", SDIST, "b" * 64)])
    assert [p.what for p in merged.problems] == [
        f"{SDIST} was built twice with different bytes: by an unknown runner (folder s1) and "
        "by an unknown runner (folder s2)"
    ]


def test_the_source_of_the_merged_release() -> None:
    one = Source(commit="a" * 40, clean=True, backend="setuptools.build_meta")
    other = Source(commit="b" * 40)

    def with_source(p: Part, source: Source | None) -> Part:
        return dataclasses.replace(p, manifest=dataclasses.replace(p.manifest, source=source))

    sdist, win = part("s", {SDIST: "a" * 64}), part("w", {WIN: "b" * 64})
    cases = [
        ((one, None), one),  # wheels built --from the sdist record none
        ((one, one), one),
        ((one, other), None),  # two commits: no one source to rebuild
        ((None, None), None),
    ]
    for (a, b), expected in cases:
        merged = merge([with_source(sdist, a), with_source(win, b)])
        assert merged.manifest is not None
        assert merged.manifest.source == expected, (a, b)

"""release.versions: release/docs/bump.md's table of bumps, refusals, and the ordering
properties."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release.errors import ConfigError
from release.versions import Spec, bump, next_free_version, parse_spec, parse_version, successor

# (current, SPEC, result): release/docs/bump.md's table, row for row.
TABLE = [
    ("1.2.4", "major", "2.0.0"),
    ("1.2.4", "minor", "1.3.0"),
    ("1.2.4", "patch", "1.2.5"),
    ("1.2.4", "minor,rc", "1.3.0rc1"),
    ("1.2.4", "major,alpha", "2.0.0a1"),
    ("1.2.4", "patch,dev", "1.2.5.dev1"),
    ("1.2.4", "minor,beta,dev", "1.3.0b1.dev1"),
    ("1.2.4", "post", "1.2.4.post1"),
    ("1.2.4.post1", "post", "1.2.4.post2"),
    ("1.2.0rc1", "patch", "1.2.0"),
    ("1.2.0rc1", "minor", "1.2.0"),
    ("1.2.3rc1", "minor", "1.3.0"),
    ("2.0.0b2", "major", "2.0.0"),
    ("1.2.0rc1", "rc", "1.2.0rc2"),
    ("1.2.0a2", "beta", "1.2.0b1"),
    ("1.2.0b1", "rc", "1.2.0rc1"),
    ("1.2.0rc1", "release", "1.2.0"),
    ("1.2.0.dev3", "release", "1.2.0"),
    ("1.2.0.dev3", "dev", "1.2.0.dev4"),
    ("1.2.0.dev3", "patch", "1.2.0"),
    ("1.2.0.dev3", "rc", "1.2.0rc1"),
    ("1.3.0rc1.dev2", "rc", "1.3.0rc1"),
    ("1.3.0rc1", "minor,rc", "1.4.0rc1"),
    ("1.2.0rc1", "rc,dev", "1.2.0rc2.dev1"),
    ("1.2.4.post1.dev1", "post", "1.2.4.post1"),
    ("1!1.2.4", "major", "1!2.0.0"),
    ("1.2", "patch", "1.2.1"),
    ("1.2", "major", "2.0"),
    ("1.2.4+local.7", "patch", "1.2.5"),
    ("1.2.4", "2.0.0b1", "2.0.0b1"),
    ("1.2.4", "v1.3", "1.3"),
    ("1.2.4", "1.3.0-RC.1", "1.3.0rc1"),  # normalised
    ("1.2.4", "micro", "1.2.5"),  # Hatch's spelling
    ("1.2.4", " Minor , RC ", "1.3.0rc1"),
]


@pytest.mark.parametrize(("current", "spec", "expected"), TABLE)
def test_table(current: str, spec: str, expected: str) -> None:
    assert str(bump(Version(current), spec)) == expected


# (current, SPEC, a fragment of the refusal)
REFUSED = [
    ("1.2.4", "rc", "patch,rc (-> 1.2.5rc1), minor,rc (-> 1.3.0rc1), major,rc (-> 2.0.0rc1)"),
    ("1.2.4", "dev", "sorts below"),
    ("1.2.0rc1", "dev", "rc,dev (-> 1.2.0rc2.dev1)"),
    ("1.2.0rc1", "alpha", "minor,alpha (-> 1.3.0a1)"),
    ("1.2.4", "release", "no pre-release or dev segment"),
    ("1.2.4", "1.2.3", "1.2.3 is below the current version 1.2.4"),
    ("1.2.4", "1.2.4.0", "equal to"),
]


@pytest.mark.parametrize(("current", "spec", "fragment"), REFUSED)
def test_refusals_say_why_and_what_works(current: str, spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        bump(Version(current), spec)
    assert fragment in str(info.value)
    assert info.value.fix


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "No SPEC"),
        ("minr", "neither a part nor a valid PEP 440 version"),
        ("minor,foo", "Unknown part(s) in 'minor,foo': foo"),
        ("rc,minor", "from the largest to the smallest"),
        ("minor,patch", "from the largest to the smallest"),
        ("release,dev", "cannot be chained"),
        ("1.2.3+abc", "local version label"),
        ("1.2.3.4.x", "neither a part nor a valid PEP 440 version"),
    ],
)
def test_bad_specs(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- properties

RELEASE_HEADS = ["", "major", "minor", "patch"]
PRE = ["", "alpha", "beta", "rc"]
ALL_SPECS = [
    ",".join(p for p in combo if p)
    for combo in itertools.product(RELEASE_HEADS, PRE, ["", "post"], ["", "dev"])
    if any(combo)
] + ["release"]


@st.composite
def versions(draw: st.DrawFn, local: bool = True) -> Version:
    text = ""
    epoch = draw(st.integers(0, 3))
    if epoch:
        text += f"{epoch}!"
    text += ".".join(str(x) for x in draw(st.lists(st.integers(0, 12), min_size=1, max_size=5)))
    pre = draw(st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 5)))
    if pre:
        text += f"{pre[0]}{pre[1]}"
    post = draw(st.none() | st.integers(0, 5))
    if post is not None:
        text += f".post{post}"
    dev = draw(st.none() | st.integers(0, 5))
    if dev is not None:
        text += f".dev{dev}"
    if local and draw(st.booleans()):
        text += "+" + draw(st.text("abcxyz0123456789", min_size=1, max_size=5))
    return Version(text)


@given(current=versions(), spec=st.sampled_from(ALL_SPECS))
def test_a_bump_always_goes_up_or_is_refused(current: Version, spec: str) -> None:
    try:
        new = bump(current, spec)
    except ConfigError as exc:
        # Only a SPEC without a release part may be refused (it stays inside the release).
        assert spec.split(",")[0] not in {"major", "minor", "patch"}, (current, spec)
        assert "never goes backwards" in exc.message  # noqa: PT017 - a property, not one case
        return
    assert new > current
    assert new.epoch == current.epoch
    assert new.local is None
    assert str(Version(str(new))) == str(new)  # normalised


@given(current=versions(), target=versions(local=False))
def test_an_explicit_version_is_taken_only_when_greater(current: Version, target: Version) -> None:
    if target > current:
        assert bump(current, str(target)) == target
    else:
        with pytest.raises(ConfigError):
            bump(current, str(target))


@given(
    current=versions(),
    taken=st.sets(versions(local=False), max_size=8),
)
def test_next_free_version_is_free_and_greater(current: Version, taken: set[Version]) -> None:
    free = next_free_version(current, taken | {successor(Version(current.public))})
    assert free > current
    assert free not in taken


@given(current=versions())
def test_release_parts_never_refuse(current: Version) -> None:
    for part in ("major", "minor", "patch"):
        assert bump(current, part) > current
    assert bump(current, "major") >= bump(current, "minor") >= bump(current, "patch")


def _readme_rows() -> list[list[str]]:
    section = (Path(__file__).parents[1] / "release" / "docs" / "bump.md").read_text(
        encoding="utf-8"
    )
    return [
        [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def test_readme_tables_are_true() -> None:
    rows = _readme_rows()
    done = [r for r in rows if len(r) == 3 and not r[0].startswith(("version-files", "tag-"))]
    refused = [r for r in rows if len(r) == 4 and r[1] != "env" and not r[1].startswith("RELEASE_")]
    assert len(done) >= 20
    assert len(refused) >= 5
    documented = {spec for _current, spec, _new in done}
    assert {"major", "minor", "patch", "alpha", "beta", "rc", "post", "dev", "release"} <= {
        part for spec in documented for part in spec.split(",")
    }
    for current, spec, new in done:
        assert str(bump(Version(current), spec)) == new, (current, spec)
    for current, spec, _why, _try in refused:
        with pytest.raises(ConfigError):
            bump(Version(current), spec)


# --------------------------------------------------------------------------- exact values
# The rows above say a bump goes up; these pin what it goes *to*, and the exact words a person
# reads when it is refused (the fix is what they act on). Found missing by `nox -s mutate`.

EXACT = [
    # every segment below the bumped one is cleared, post and dev included
    ("1.2.3.post2", "minor", "1.3.0"),
    ("1.2.3.post2.dev1", "patch", "1.2.4"),
    ("1.3.0rc1.post1", "minor", "1.3.0"),  # a post of rc1 still comes before 1.3.0: finished
    ("1.3.0rc1.post1", "patch", "1.3.0"),
    ("1.3.0rc1.post1", "major", "2.0.0"),
    ("1.3.0rc1.post1.dev2", "minor", "1.3.0"),
    ("1.3.0rc1.post1", "minor,rc", "1.4.0rc1"),
    ("1.2.0rc1.post1", "rc", "1.2.0rc2"),
    ("1.2.0rc1.dev2", "rc,dev", "1.2.0rc2.dev1"),
    ("1.2.0a1.post1", "beta", "1.2.0b1"),
    ("1.2.4.dev3", "post", "1.2.4.post1"),
    ("1.2.4.post1.dev1", "post,dev", "1.2.4.post2.dev1"),
    ("1.2.0rc1.post1", "release", "1.2.0"),
    ("1.2.0rc1.dev1", "release", "1.2.0"),
    ("1.2.4.post1.dev1", "release", "1.2.4.post1"),
    ("1.2rc1", "patch", "1.2.0"),  # padded to the bumped level
    ("1.2.dev1", "minor", "1.2"),
    ("1!1.2.0rc1", "rc", "1!1.2.0rc2"),
    ("1!1.2.4", "post", "1!1.2.4.post1"),
]


@pytest.mark.parametrize(("current", "spec", "expected"), EXACT)
def test_exact_results(current: str, spec: str, expected: str) -> None:
    assert str(bump(Version(current), spec)) == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("1.2.3", "1.2.4"),
        ("1.2", "1.2.1"),
        ("1", "1.0.1"),
        ("1.2.3.4", "1.2.4.4"),
        ("1.2.3rc1", "1.2.3rc2"),
        ("1.2.3b4", "1.2.3b5"),
        ("1.2.3.post1", "1.2.3.post2"),
        ("1.2.3.dev4", "1.2.3.dev5"),
        ("1.2.3rc1.dev4", "1.2.3rc1.dev5"),
        ("1.2.3rc1.post2", "1.2.3rc2.post2"),
        ("2!1.2.3", "2!1.2.4"),
    ],
)
def test_successor_is_exact(current: str, expected: str) -> None:
    assert str(successor(Version(current))) == expected


def test_next_free_version_is_the_first_free_successor() -> None:
    v = Version
    assert next_free_version(v("1.2.3"), []) == v("1.2.4")
    assert next_free_version(v("1.2.3"), [v("1.2.4"), v("1.2.5"), v("1.2.7")]) == v("1.2.6")
    assert next_free_version(v("1.2.3+local"), [v("1.2.4")]) == v("1.2.5")
    assert next_free_version(v("1.0rc1"), [v("1.0rc2")]) == v("1.0rc3")


HELP = (
    "Give a part (major, minor, patch, alpha, beta, rc, post, dev, release), parts chained in "
    "that order with commas (e.g. minor,rc), or an explicit PEP 440 version (e.g. 2.0.0)."
)

# (current, SPEC, the whole refusal: message, then fix)
REFUSED_EXACTLY = [
    (
        "1.2.4",
        "1.2.3",
        "1.2.3 is below the current version 1.2.4: a bump never goes backwards.",
        "Name a version above 1.2.4, or a part: patch (-> 1.2.5), minor (-> 1.3.0), "
        "major (-> 2.0.0)",
    ),
    (
        "1.2.4",
        "1.2.4",
        "1.2.4 is equal to the current version 1.2.4: a bump never goes backwards.",
        "Name a version above 1.2.4, or a part: patch (-> 1.2.5), minor (-> 1.3.0), "
        "major (-> 2.0.0)",
    ),
    (
        "1.2.0rc1",
        "1.1",
        "1.1 is below the current version 1.2.0rc1: a bump never goes backwards.",
        "Name a version above 1.2.0rc1, or a part: rc (-> 1.2.0rc2), patch (-> 1.2.0), "
        "minor (-> 1.2.0), major (-> 2.0.0)",
    ),
    (
        "1.2.4",
        "rc",
        "'rc' on 1.2.4 gives 1.2.4rc1, which sorts below it (a pre-release or dev release "
        "comes before its release): a bump never goes backwards.",
        "Use a SPEC that goes up from 1.2.4: patch,rc (-> 1.2.5rc1), minor,rc (-> 1.3.0rc1), "
        "major,rc (-> 2.0.0rc1).",
    ),
    (
        "1.2.4",
        "release",
        "1.2.4 has no pre-release or dev segment to drop: a bump never goes backwards.",
        "Use a SPEC that goes up from 1.2.4: patch (-> 1.2.5), minor (-> 1.3.0), major (-> 2.0.0).",
    ),
    (
        "1.2.4.post1",
        "release",
        "1.2.4.post1 has no pre-release or dev segment to drop: a bump never goes backwards.",
        "Use a SPEC that goes up from 1.2.4.post1: patch (-> 1.2.5), minor (-> 1.3.0), "
        "major (-> 2.0.0).",
    ),
    (
        "1.2.0rc1",
        "alpha",
        "'alpha' on 1.2.0rc1 gives 1.2.0a1, which sorts below it (a pre-release or dev release "
        "comes before its release): a bump never goes backwards.",
        "Use a SPEC that goes up from 1.2.0rc1: patch,alpha (-> 1.2.1a1), "
        "minor,alpha (-> 1.3.0a1), major,alpha (-> 2.0.0a1).",
    ),
    (
        "1.2.0rc1",
        "dev",
        "'dev' on 1.2.0rc1 gives 1.2.0rc1.dev1, which sorts below it (a pre-release or dev "
        "release comes before its release): a bump never goes backwards.",
        "Use a SPEC that goes up from 1.2.0rc1: rc,dev (-> 1.2.0rc2.dev1), "
        "patch,dev (-> 1.2.1.dev1), minor,dev (-> 1.3.0.dev1), major,dev (-> 2.0.0.dev1).",
    ),
]


@pytest.mark.parametrize(("current", "spec", "message", "fix"), REFUSED_EXACTLY)
def test_refusals_exactly(current: str, spec: str, message: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        bump(Version(current), spec)
    assert (info.value.message, info.value.fix) == (message, fix)


@pytest.mark.parametrize(
    ("spec", "message", "fix"),
    [
        ("", "No SPEC given.", HELP),
        (" ", "No SPEC given.", HELP),
        ("minor,foo,bar", "Unknown part(s) in 'minor,foo,bar': foo, bar.", HELP),
        ("minr", "'minr' is neither a part nor a valid PEP 440 version.", HELP),
        (
            "release,dev",
            "'release,dev': 'release' drops the pre-release and dev segments and cannot be "
            "chained.",
            "Use 'release' alone.",
        ),
        (
            "rc,minor",
            "'rc,minor': parts must be chained from the largest to the smallest, each kind once "
            "(one of major/minor/patch, then one of alpha/beta/rc, then post, then dev).",
            "Reorder them, e.g. minor,rc or patch,dev.",
        ),
        (
            "1.2.3+abc",
            "'1.2.3+abc' has a local version label (+abc); PyPI and TestPyPI refuse local "
            "versions.",
            "Use the public part: 1.2.3.",
        ),
    ],
)
def test_bad_specs_exactly(spec: str, message: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    assert (info.value.message, info.value.fix) == (message, fix)


def test_a_spec_keeps_what_was_typed() -> None:
    assert parse_spec(" Minor , RC ") == Spec(text="Minor , RC", parts=("minor", "rc"))
    assert parse_spec("v2.0") == Spec(text="v2.0", explicit=Version("2.0"))


def test_an_unknown_part_built_by_hand_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        bump(Version("1.0"), Spec(text="bogus", parts=("bogus",)))
    assert (info.value.message, info.value.fix) == ("Unknown part 'bogus'.", HELP)


def test_parse_version() -> None:
    assert parse_version("1.2.3") == Version("1.2.3")
    fix = (
        "Write it like 1.2.3, 1.2.3rc1, 1.2.3.post1 or 1.2.3.dev1 "
        "(see https://packaging.python.org/en/latest/specifications/version-specifiers/)."
    )
    for where, origin in (((), ""), (("",), ""), (("pyproject.toml",), " (in pyproject.toml)")):
        with pytest.raises(ConfigError) as info:
            parse_version("one", *where)
        assert (info.value.message, info.value.fix) == (
            f"'one'{origin} is not a valid PEP 440 version.",
            fix,
        )

"""release.versions: docs/bump.md's table of bumps, refusals, and the ordering properties."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release.errors import ConfigError
from release.versions import bump, next_free_version, parse_spec, successor

# (current, SPEC, result): docs/bump.md's table, row for row.
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
    section = (Path(__file__).parents[1] / "docs" / "bump.md").read_text(encoding="utf-8")
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

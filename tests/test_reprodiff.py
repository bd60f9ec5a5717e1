"""release.reprodiff: why two builds of a file differ, as a table of archives and findings."""

from __future__ import annotations

import dataclasses
import gzip
import io
import tarfile
import zipfile
from collections.abc import Callable

import pytest

from release.reprodiff import CAUSES, classify, compare, visible

Member = tuple[str, bytes]
BASE: tuple[Member, ...] = (
    ("demo/__init__.py", b'"""Demo."""\n\n\ndef main():\n    return 1\n'),
    ("demo/data.bin", bytes(range(256)) * 4),
    ("demo-1.0.dist-info/METADATA", b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"),
    ("demo-1.0.dist-info/RECORD", b"demo/__init__.py,sha256=x,40\n"),
)


def wheel(
    members: tuple[Member, ...] = BASE,
    *,
    date: tuple[int, int, int, int, int, int] = (2024, 1, 1, 0, 0, 0),
    mode: int = 0o644,
    compress: int = zipfile.ZIP_DEFLATED,
    level: int | None = None,
    comment: bytes = b"",
    dates: dict[str, tuple[int, int, int, int, int, int]] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, (dates or {}).get(name, date))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = compress
            zf.writestr(info, data, compresslevel=level)
        zf.comment = comment
    return buf.getvalue()


def sdist(
    members: tuple[Member, ...] = BASE,
    *,
    mtime: int = 1_700_000_000,
    gzip_mtime: int = 0,
    mode: int = 0o644,
    owner: str = "",
    gzip_name: str = "",
    mtimes: dict[str, int] | None = None,
) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size, info.mode = len(data), mode
            info.mtime = (mtimes or {}).get(name, mtime)
            info.uname = info.gname = owner
            tf.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(gzip_name, "wb", fileobj=out, mtime=gzip_mtime) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def replaced(name: str, data: bytes) -> tuple[Member, ...]:
    return tuple((n, data if n == name else d) for n, d in BASE)


@dataclasses.dataclass(frozen=True)
class Case:
    filename: str
    released: Callable[[], bytes]
    rebuilt: Callable[[], bytes]
    aspects: set[str]  # the aspects found, exactly
    member: str  # a member that must be named ("" for none)
    causes: list[str]  # cause ids, in order


W, S = "demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"
TIME_HOOK = b"BUILT = '2026-12-05 15:42:07'\n"

CASES = {
    "wheel identical": Case(W, wheel, wheel, set(), "", []),
    "sdist identical": Case(S, sdist, sdist, set(), "", []),
    "wheel: build time in member dates": Case(
        W,
        wheel,
        lambda: wheel(date=(2026, 12, 5, 15, 42, 6)),
        {"timestamp"},
        "demo/__init__.py",
        ["wheel-epoch"],
    ),
    "sdist: checkout times in tar members": Case(
        S,
        sdist,
        lambda: sdist(mtimes={"demo/data.bin": 1_800_000_000}),
        {"timestamp"},
        "demo-1.0/demo/data.bin",
        ["sdist-epoch"],
    ),
    "sdist: gzip header holds the build time": Case(
        S, sdist, lambda: sdist(gzip_mtime=1_800_000_000), {"gzip-header"}, "", ["sdist-epoch"]
    ),
    "sdist: gzip header names a temporary file": Case(
        S,
        sdist,
        lambda: sdist(gzip_name="/home/runner/demo-1.0.tar"),
        {"gzip-header"},
        "",
        ["sdist-epoch"],
    ),
    "build hook writes the time": Case(
        W,
        wheel,
        lambda: wheel((*BASE, ("demo/_built.py", TIME_HOOK))),
        {"added"},
        "demo/_built.py",
        ["members"],
    ),
    "build hook changes the time in a module": Case(
        W,
        lambda: wheel(replaced("demo/__init__.py", b"BUILT = '2026-12-05 15:40:00'\n")),
        lambda: wheel(replaced("demo/__init__.py", TIME_HOOK)),
        {"content"},
        "demo/__init__.py",
        ["embedded-time"],
    ),
    "version file written at build time": Case(
        W,
        lambda: wheel((*BASE, ("demo/_version.py", b"version = '1.0'\n"))),
        lambda: wheel((*BASE, ("demo/_version.py", b"version = '1.0.dev1+g1234'\n"))),
        {"content"},
        "demo/_version.py",
        ["version-file"],
    ),
    "path of the build folder embedded": Case(
        W,
        lambda: wheel(replaced("demo/__init__.py", b"ROOT = '/tmp/build-env-abc/demo'\n")),
        lambda: wheel(replaced("demo/__init__.py", b"ROOT = '/tmp/build-env-xyz/demo'\n")),
        {"content"},
        "demo/__init__.py",
        ["embedded-path"],
    ),
    "compiled extension differs": Case(
        "demo-1.0-cp312-cp312-linux_x86_64.whl",
        lambda: wheel((*BASE, ("demo/_speed.cpython-312-x86_64-linux-gnu.so", b"\x7fELF\0a"))),
        lambda: wheel((*BASE, ("demo/_speed.cpython-312-x86_64-linux-gnu.so", b"\x7fELF\0b"))),
        {"content"},
        "demo/_speed.cpython-312-x86_64-linux-gnu.so",
        ["compiled"],
    ),
    "a member left out": Case(
        W, wheel, lambda: wheel(BASE[1:]), {"removed"}, "demo/__init__.py", ["members"]
    ),
    "permissions from the checkout": Case(
        W, wheel, lambda: wheel(mode=0o755), {"permissions"}, "demo/data.bin", ["permissions"]
    ),
    "sdist owner from the build user": Case(
        S,
        sdist,
        lambda: sdist(owner="runner"),
        {"permissions"},
        "demo-1.0/demo/__init__.py",
        ["permissions"],
    ),
    "member order from the file system": Case(
        W,
        wheel,
        lambda: wheel((BASE[1], BASE[0], *BASE[2:])),
        {"order"},
        "demo/__init__.py",
        ["order"],
    ),
    "stored instead of deflated": Case(
        W,
        wheel,
        lambda: wheel(compress=zipfile.ZIP_STORED),
        {"compression"},
        "demo/data.bin",
        ["compression"],
    ),
    "another compression level": Case(
        W,
        lambda: wheel(level=9),
        lambda: wheel(level=1),
        {"compression"},
        "demo/data.bin",
        ["compression"],
    ),
    "only the zip comment": Case(
        W, wheel, lambda: wheel(comment=b"built on a tuesday"), {"archive"}, "", []
    ),
    "not an archive": Case(W, lambda: b"PK not really", wheel, {"unreadable"}, "", []),
    "someone else's file": Case(
        W,
        wheel,
        lambda: wheel(tuple((n, d + b"# evil\n") for n, d in BASE)),
        {"content"},
        "demo/__init__.py",
        ["other-file"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_differences_are_found_and_explained(case: Case) -> None:
    result = compare(case.filename, case.released(), case.rebuilt())
    assert result.identical == (not case.aspects)
    assert {d.aspect for d in result.differences} == case.aspects
    if case.member:
        assert case.member in result.members()
    assert [c.id for c in result.causes] == case.causes
    for cause in result.causes:
        assert cause.fix


def test_text_content_shows_a_short_diff() -> None:
    old = wheel(replaced("demo/__init__.py", b"".join(b"line %d\n" % i for i in range(100))))
    new = wheel(replaced("demo/__init__.py", b"".join(b"LINE %d\n" % i for i in range(100))))
    (diff,) = [d for d in compare(W, old, new).differences if d.member == "demo/__init__.py"]
    assert diff.diff[0].startswith("@@")
    assert "-line 0" in diff.diff
    assert diff.diff[-1].startswith("... ")
    assert diff.diff[-1].endswith("more diff line(s)")
    assert len(diff.diff) <= 13


def test_record_differing_with_its_members_is_no_cause_of_its_own() -> None:
    old = wheel(replaced("demo-1.0.dist-info/RECORD", b"a,sha256=1,1\n"))
    new = wheel(replaced("demo-1.0.dist-info/RECORD", b"a,sha256=2,1\n"))
    result = compare(W, old, new)
    assert result.members() == ["demo-1.0.dist-info/RECORD"]
    assert result.causes == ()


def test_a_bomb_is_refused_not_read() -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("demo-1.0/huge")
        info.size = 3 << 30  # declares 3 GiB
        tf.addfile(info)  # header only: the archive is truncated
    bomb = gzip.compress(raw.getvalue())
    result = compare(S, sdist(), bomb)
    assert [d.aspect for d in result.differences] == ["unreadable"]


def test_every_cause_has_a_fix() -> None:
    assert all(c.cause and c.fix and c.id == key for key, c in CAUSES.items())


def test_json_form() -> None:
    result = compare(W, wheel(), wheel(mode=0o600)).to_json()
    assert result["identical"] is False
    assert result["causes"][0]["id"] == "permissions"  # type: ignore[index]


SD, PW = "demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"
LW, MW = "demo-1.0-cp312-cp312-linux_x86_64.whl", "demo-1.0-cp312-cp312-macosx_11_0_arm64.whl"
FATES = {
    "all identical": (
        {SD: "a", PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "identical", PW: "identical"},
    ),
    "wheel differs": (
        {SD: "a", PW: "b"},
        {SD: "a", PW: "x"},
        {SD: "a", PW: "b"},
        {SD: "identical", PW: "differs"},
    ),
    "someone else's file on the index": (
        {SD: "a", PW: "b", LW: "c"},
        {SD: "a", PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "identical", PW: "identical", LW: "foreign"},
    ),
    "the index lacks our sdist": (
        {PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "missing", PW: "identical"},
    ),
    "the rebuild made no sdist": (
        {SD: "a", PW: "b"},
        {PW: "b"},
        {SD: "a", PW: "b"},
        {SD: "not-rebuilt", PW: "identical"},
    ),
    "another platform's wheel is not rebuilt here": (
        {SD: "a", LW: "c", MW: "d"},
        {SD: "a", LW: "c"},
        {SD: "a", LW: "c", MW: "d"},
        {SD: "identical", LW: "identical", MW: "other-platform"},
    ),
    "a linux wheel the release repaired is not released": (
        {SD: "a"},
        {SD: "a", LW: "c"},
        {SD: "a"},
        {SD: "identical", LW: "not-released"},
    ),
}


@pytest.mark.parametrize(
    ("released", "rebuilt", "ours", "expected"), FATES.values(), ids=FATES.keys()
)
def test_each_file_has_a_fate(
    released: dict[str, str],
    rebuilt: dict[str, str],
    ours: dict[str, str],
    expected: dict[str, str],
) -> None:
    assert classify(released, rebuilt, ours) == expected


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("-x = 1", "-x = 1"),
        ("+x = 1\r", "+'x = 1\\r'"),
        ("+x = 1  ", "+'x = 1  '"),
        ("-\tx = 1", "-'\\tx = 1'"),
        ("... 3 more diff line(s)", "... 3 more diff line(s)"),
        ("@@ -1 +1 @@", "@@ -1 +1 @@"),
    ],
)
def test_a_whitespace_difference_is_visible(line: str, shown: str) -> None:
    """CRLF against LF, trailing blanks, a tab: the two sides must not print alike."""
    assert visible(line) == shown

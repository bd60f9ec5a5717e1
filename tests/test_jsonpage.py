"""The PEP 691 reader that streams (release/jsonpage.py) against pypi-simple's, and against
pages that could be read two ways.

The differential tests hold the streaming reader to pypi-simple's ``ProjectPage.from_json_data``
(the oracle, kept installed for this): for honest pages, synthetic ones and a real devpi-server
page, fed whole or in pieces of any size, both give the very same IndexState, whatever the read
keeps. The strictness tests try what pypi-simple's models never see as a whole page: a file
object outside ``files``, a value that never ends, a page cut anywhere.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from packaging.utils import canonicalize_name
from packaging.version import Version
from pypi_simple import ProjectPage

from release import http
from release.index import read_answer
from release.indexstate import EVERYTHING, VERSIONS, IndexState, Keep, PageReader, UntrustedPage
from release.jsonpage import WINDOW, read_json_page
from tests.devpi import DevpiIndex, twine_upload
from tests.sample_projects import write_sdist, write_wheel

JSON = "application/vnd.pypi.simple.v1+json"
PAGE_URL = "https://index.example.invalid/simple/demo-pkg/"
DEMO = canonicalize_name("demo-pkg")
A, B, C = "a" * 64, "B" * 64, "c" * 64
KEEPS = [EVERYTHING, VERSIONS, Keep.of(Version("1.0"), latest=True)]


def file(filename: str, url: str | None = None, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": filename, "url": url or f"/files/{filename}"}
    entry["hashes"] = fields.pop("hashes", {"sha256": A})
    return entry | {k.replace("_", "-"): v for k, v in fields.items()}


def page(files: list[Any], name: str = "demo-pkg", **meta: Any) -> dict[str, Any]:
    return {"meta": {"api-version": "1.1", **meta}, "name": name, "files": files}


HONEST: dict[str, dict[str, Any]] = {
    "warehouse": {
        "meta": {"api-version": "1.4", "_last-serial": 123, "tracks": []},
        "name": "demo-pkg",
        "versions": ["0.9", "1.0", "1.1rc1"],
        "alternate-locations": [],
        "project-status": {"status": "active"},
        "files": [
            file(
                "demo_pkg-0.9.tar.gz",
                "https://files.example.invalid/packages/aa/bb/demo_pkg-0.9.tar.gz",
                hashes={"sha256": A, "blake2b_256": C, "md5": "d" * 32},
                requires_python=">=3.9",
                size=1234,
                upload_time="2026-01-02T03:04:05.678901Z",
                yanked="broken build: ünïcode and 🐍",
                data_dist_info_metadata=False,
                core_metadata=False,
            ),
            file(
                "demo_pkg-1.0-py3-none-any.whl",
                "https://files.example.invalid/packages/cc/dd/demo_pkg-1.0-py3-none-any.whl",
                hashes={"sha256": B},
                size=4321,
                upload_time="2026-11-01T00:00:00Z",
                yanked=False,
                core_metadata={"sha256": C},
                provenance="https://index.example.invalid/integrity/demo-pkg/1.0/p.json",
            ),
            file("demo_pkg-1.0.tar.gz", upload_time="2026-11-01T00:00:01.5+02:00", yanked=""),
            file("demo_pkg-1.1rc1.tar.gz", hashes={"sha256": C}, upload_time=None, yanked=True),
        ],
    },
    "relative urls": page(
        [
            file("demo_pkg-1.0.tar.gz", "demo_pkg-1.0.tar.gz"),
            file("demo_pkg-1.0-py3-none-any.whl", "../../packages/demo_pkg-1.0-py3-none-any.whl"),
            file("demo_pkg-0.1.zip", "/p/demo_pkg-0.1.zip?x=1#frag", hashes={}),
            file("demo_pkg-0.2.tar.gz", "//mirror.example.invalid/p/demo_pkg-0.2.tar.gz"),
        ]
    ),
    "old names and odd files": page(
        [
            file("Demo.Pkg-1.0.tar.gz", upload_time="2020-05-06T07:08:09"),
            file("demo_pkg-1.0.win32.exe", hashes={"md5": "e" * 32}),
            file("Demo.Pkg-1.0.linux-x86_64.exe"),
            file("demo_pkg-1.0rc1-py2.7.egg", upload_time="2020-05-06T07:08:09.123-05:30"),
            file("README"),
        ],
        name="Demo_Pkg",
    ),
    "files before meta": {
        "files": [file("demo_pkg-2.0.tar.gz"), file("demo_pkg-1.0.tar.gz", hashes={})],
        "name": "demo.pkg",
        "meta": {"api-version": "1.0"},
    },
    "no files": page([]),
}


def oracle(body: bytes, keep: Keep, base_url: str = PAGE_URL) -> IndexState:
    """pypi-simple's reading of the page, through the same PageReader."""
    parsed = ProjectPage.from_json_data(json.loads(body), base_url)
    reader = PageReader(base_url, canonicalize_name(parsed.project), keep)
    for p in parsed.packages:
        reader.add(p.filename, p.url, p.digests, p.is_yanked, p.version, p.upload_time)
    return reader.state(declared=parsed.repository_version is not None)


def pieces(body: bytes, size: int) -> Iterator[bytes]:
    return (body[i : i + size] for i in range(0, len(body), size))


def streamed(
    body: bytes, keep: Keep, size: int, base_url: str = PAGE_URL, project: str = DEMO
) -> IndexState:
    """The streaming reader as the index reads a page, the body in pieces of ``size`` bytes."""
    answer = http.Answer(base_url, 200, "OK", {"content-type": JSON}, b"")
    reader = PageReader(base_url, canonicalize_name(project), keep)
    return read_answer(answer, pieces(body, size), reader)


def read(body: bytes, size: int = 1 << 20, keep: Keep = EVERYTHING) -> IndexState:
    return streamed(body, keep, size)


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("keep", KEEPS, ids=["everything", "versions", "1.0+latest"])
@pytest.mark.parametrize("name", HONEST.keys())
def test_honest_pages_read_as_pypi_simple_reads_them(name: str, keep: Keep, size: int) -> None:
    body = json.dumps(HONEST[name], ensure_ascii=name != "warehouse").encode()
    assert streamed(body, keep, size) == oracle(body, keep)


def test_the_differential_sees_the_fields() -> None:
    """The comparison above is not vacuous: the fields it compares are set."""
    state = read(json.dumps(HONEST["warehouse"]).encode())
    old, new, sdist, rc = state.files
    assert old.url == "https://files.example.invalid/packages/aa/bb/demo_pkg-0.9.tar.gz"
    assert (old.yanked, new.yanked, sdist.yanked, rc.yanked) == (True, False, True, True)
    assert new.sha256 == B.lower()
    assert sdist.url == "https://index.example.invalid/files/demo_pkg-1.0.tar.gz"
    assert sdist.upload_time is not None
    assert sdist.upload_time.utcoffset() is not None
    assert rc.upload_time is None
    relative = read(json.dumps(HONEST["relative urls"]).encode()).by_filename()
    assert relative["demo_pkg-1.0.tar.gz"].url == PAGE_URL + "demo_pkg-1.0.tar.gz"
    assert relative["demo_pkg-1.0-py3-none-any.whl"].url == (
        "https://index.example.invalid/packages/demo_pkg-1.0-py3-none-any.whl"
    )


@pytest.mark.slow
def test_a_devpi_page_reads_as_pypi_simple_reads_it(devpi_index: DevpiIndex, tmp_path: Any) -> None:
    upload_url, index_url, user, password = devpi_index
    for path in (
        write_sdist(tmp_path, "diff-pkg", "1.0"),
        write_wheel(tmp_path, "diff-pkg", "1.0"),
        write_sdist(tmp_path, "diff-pkg", "2.0rc1"),
    ):
        assert twine_upload(upload_url, user, password, path).ok
    url = index_url + "diff-pkg/"
    answer = requests.get(url, headers={"Accept": JSON}, timeout=30)
    assert answer.headers["Content-Type"] == JSON
    body = answer.content
    for keep in (*KEEPS, Keep.of(Version("2.0rc1"))):
        expected = oracle(body, keep, answer.url)
        if keep is EVERYTHING:
            assert len(expected.files) == 3
        for size in (5, 1 << 20):
            assert streamed(body, keep, size, answer.url, "diff-pkg") == expected


# ------------------------------------------------------------------ pages read two ways


def refused(body: bytes, says: str) -> None:
    """Refused (UntrustedPage, or another ValueError: a page that does not parse), in small
    pieces and whole."""
    for size in (3, 1 << 20):
        reader = PageReader(PAGE_URL, DEMO, EVERYTHING)
        with pytest.raises(ValueError, match=says):
            read_json_page(pieces(body, size), PAGE_URL, reader, lambda _name: None)


GOOD = file("demo_pkg-1.0.tar.gz")


@pytest.mark.parametrize(
    "document",
    [
        page([GOOD], versions=[GOOD]),  # in meta
        page([GOOD]) | {"versions": ["1.0", file("demo_pkg-2.0.tar.gz")]},
        page([GOOD]) | {"_extra": {"files": [file("demo_pkg-2.0.tar.gz")]}},
        {"_x": {"hashes": {"sha256": A}}, **page([GOOD])},  # hashes alone: file-shaped
        page([file("demo_pkg-1.0.tar.gz", core_metadata=file("demo_pkg-2.0.tar.gz"))]),
        page([[GOOD]]),
        page([{"file": GOOD}]),
    ],
    ids=["meta", "versions", "extra", "hashes-before", "inside-a-file", "list", "wrapped"],
)
def test_a_file_object_outside_files_is_refused(document: Any) -> None:
    refused(json.dumps(document).encode(), "file object")
    with pytest.raises(UntrustedPage):
        read(json.dumps(document).encode())


def dumps(document: Any) -> bytes:
    return json.dumps(document).encode()


def one(**fields: Any) -> bytes:
    """A page of one file, ``fields`` set in it."""
    return dumps(page([GOOD | {k.replace("_", "-"): v for k, v in fields.items()}]))


HEAD = b'{"meta": {"api-version": "1.1"}, "name": "demo-pkg", '
STRICT: dict[str, tuple[bytes, str]] = {
    "duplicate top-level key": (HEAD + b'"files": [], "name": "x"}', "duplicate key 'name'"),
    "duplicate nested key": (
        b'{"meta": {"api-version": "1.1", "api-version": "9"}, "name": "demo-pkg", "files": []}',
        "duplicate key 'api-version'",
    ),
    "trailing data": (dumps(page([GOOD])) + b" {}", "goes on after its end"),
    "cut before the end": (dumps(page([GOOD]))[:-1], "expected one of"),
    "trailing comma": (HEAD + b'"files": [' + dumps(GOOD) + b",]}", "Expecting value"),
    "not utf-8": (b"\xff" + dumps(page([])), "decode"),
    "bad utf-8 inside": (dumps(page([GOOD])).replace(b"demo-pkg", b"demo-pkg\xc3"), "decode"),
    "utf-8 cut at the end": (dumps(page([GOOD])) + b"\xc3", "decode"),
    "deep": (HEAD + b'"files": [' + b"[" * 5000 + b"]" * 5000 + b"]}", "nested too deeply"),
    "a file past the window": (one(requires_python=" " * WINDOW), "does not end within"),
    "a value past the window": (dumps(page([]) | {"_pad": "x" * WINDOW}), "does not end within"),
    "yanked null": (one(yanked=None), "yanked"),
    "yanked 1": (one(yanked=1), "yanked"),
    "url null": (one(url=None), "url"),
    "filename a number": (one(filename=1), "filename"),
    "hash not a string": (one(hashes={"sha256": 1}), "hashes"),
    "hashes a list": (one(hashes=[A]), "hashes"),
    "upload-time a number": (one(upload_time=1700000000), "upload-time"),
    "upload-time no such day": (one(upload_time="2026-02-30T00:00:00Z"), "no such time"),
    "upload-time with junk": (one(upload_time="2026-02-03T00:00:00Zjunk"), "upload-time"),
    "api-version a number": (HEAD.replace(b'"1.1"', b"1") + b'"files": []}', "api-version"),
    "no meta": (dumps({"name": "demo-pkg", "files": []}), "api-version"),
    "name a list": (dumps(page([]) | {"name": ["demo-pkg"]}), "project name"),
    "another project": (dumps(page([], name="demo-pkg-2")), "for project 'demo-pkg-2'"),
    "files an object": (HEAD + b'"files": {}}', "not a list"),
    "no files": (HEAD[:-2] + b"}", "no files list"),
    "a key not a string": (b'{1: "x"}', "Expecting property name|key"),
    "an array": (b"[]", "expected one of '{'"),
    "empty": (b"", "found the end"),
}


@pytest.mark.parametrize(("document", "says"), STRICT.values(), ids=STRICT.keys())
def test_strictness(document: bytes, says: str) -> None:
    refused(document, says)


def test_a_value_that_never_ends_is_not_read_past_the_window() -> None:
    """A string that goes on to the page cap: refused after about twice the window, never
    read to its end (nor held)."""
    taken: list[int] = []

    def endless() -> Iterator[bytes]:
        yield HEAD + b'"_pad": "'
        for n in range(32 * 1024):  # 32 MiB, the page cap
            taken.append(n)
            yield b"x" * 1024

    reader = PageReader(PAGE_URL, DEMO, EVERYTHING)
    with pytest.raises(UntrustedPage, match="does not end within"):
        read_json_page(endless(), PAGE_URL, reader, lambda _name: None)
    assert len(taken) * 1024 < 3 * WINDOW


def test_a_page_cut_anywhere_is_refused() -> None:
    """No prefix of an honest page reads as a page (a number cut in its digits included)."""
    body = json.dumps(HONEST["warehouse"]).encode()
    for end in range(len(body)):
        with pytest.raises(ValueError, match=r"."):
            read_json_page(
                pieces(body[:end], 64),
                PAGE_URL,
                PageReader(PAGE_URL, DEMO, EVERYTHING),
                lambda _name: None,
            )


def test_a_bom_and_any_whitespace_read() -> None:
    body = json.dumps(page([GOOD]), indent="\t").replace("\n", "\r\n").encode()
    assert (
        read(b"\xef\xbb\xbf" + body, size=2).files == read(json.dumps(page([GOOD])).encode()).files
    )


def test_numbers_cut_between_pieces_read_whole() -> None:
    body = json.dumps(page([GOOD]) | {"_n": 1234567, "_f": 1.5e300}).encode()
    for size in range(1, 12):
        assert len(read(body, size=size).files) == 1


# ------------------------------------------------------------------ memory


def _pages(count: int) -> Iterator[bytes]:
    yield b'{"meta":{"api-version":"1.1"},"name":"demo-pkg","files":['
    for n in range(count):
        name = f"demo_pkg-{n}.0.tar.gz"
        comma = "," if n else ""
        entry = {
            "filename": name,
            "url": f"https://files.example.invalid/packages/{n % 256:02x}/{n:060x}/{name}",
            "hashes": {"sha256": f"{n:064x}", "blake2b_256": f"{n:064x}"},
            "requires-python": ">=3.10",
            "size": 123456,
            "upload-time": "2026-01-02T03:04:05.678901Z",
            "yanked": False,
            "core-metadata": False,
        }
        yield (comma + json.dumps(entry)).encode()
    yield b"]}"


def test_a_page_of_many_files_is_never_held_whole() -> None:
    """20,000 files (7 MB of JSON, as Warehouse writes them) read keeping one version: the peak
    is the reader's versions and a window, less than half the page (a reader that holds the
    body or its text whole takes more than the page at once)."""
    body = b"".join(_pages(20_000))
    answer = http.Answer(PAGE_URL, 200, "OK", {"content-type": JSON}, b"")
    reader = PageReader(PAGE_URL, canonicalize_name("demo-pkg"), Keep.of(Version("1.0")))
    tracemalloc.start()
    try:
        state = read_answer(answer, pieces(body, 65536), reader)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(state.versions) == 20_000
    assert [f.filename for f in state.files] == ["demo_pkg-1.0.tar.gz"]
    assert peak < len(body) / 2, (peak, len(body))

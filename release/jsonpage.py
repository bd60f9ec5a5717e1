"""A PEP 691 (JSON) project page read as it arrives, one file object at a time, pure.

pypi-simple's ``ProjectPage.from_json_data`` needs the whole document decoded, and builds a
pydantic model for every file: a page of 200,000 files under the 32 MiB cap cost some 500 MB
that way (bench/bench_hostile.py --links-json). So the fields nox-release decides on are read
here, from the stdlib's own JSON scanner (``JSONDecoder.raw_decode``), one value at a time: the
top-level object and its arrays are walked here, every other value (a file object, ``meta``,
``name``, one element of ``versions``) is decoded whole by the scanner, at most :data:`WINDOW`
characters of text at a time. Each file object goes to the
:class:`~release.indexstate.PageReader` as soon as it is decoded, and is dropped. Neither the
body nor its text is ever held whole: the memory is the reader's (what its ``Keep`` names)
plus one window, whatever the page's size or its characters.

Read strictly, as pypi-simple's models would, for what is read:

- JSON: a key twice in one object (which value would a reader believe?), nesting too deep to
  parse, anything after the document, text that is not UTF-8;
- the page: an object with ``meta`` (an object whose ``api-version`` is a string), ``name``
  (a string) and ``files`` (an array of file objects);
- each file: ``filename`` and ``url`` strings, ``hashes`` an object of strings, ``yanked`` a
  boolean or a reason (a string), ``upload-time`` (PEP 700) null or an RFC 3339 time; the URL
  joined to the page's; then every check of :meth:`PageReader.add <release.indexstate.
  PageReader.add>` (filename == the URL's last part, a well-formed sha256, no conflicting twin
  among the files kept, the version cap);
- a file-shaped object (one with a ``filename`` or ``hashes`` key) anywhere but as an element
  of the top-level ``files``: a page that could be read two ways is not trusted.

The project name and the API version are checked once the page has ended (they may come after
``files``); the caller checks the version's major. Fields nox-release does not decide on
(``size``, ``requires-python``, ``core-metadata``, ``provenance``, ``versions``...) are not
validated. tests/test_jsonpage.py holds this reader to pypi-simple's on honest pages.
"""

from __future__ import annotations

__all__ = ["WINDOW", "read_json_page"]

import codecs
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin

from packaging.utils import canonicalize_name

from .indexstate import PageReader, UntrustedPage, parse_filename

# The most text one value of the page may take, a file object included (an honest one is under
# 2 KB). Its worst cost in memory is a few MB (``[[],[],...]``: some 20 bytes a character).
WINDOW = 256 * 1024

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own (json.decoder.WHITESPACE)
_NUMBER_GOES_ON = re.compile(r"[0-9eE+\-.]*")  # what may follow a number's digits, cut
_ARRAY = object()  # a top-level array, walked and not kept
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6})\d*)?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))?",
    re.ASCII,
)


class _Text:
    """The body as text, decoded from UTF-8 piece by piece: only the part not yet consumed
    is held, and values are decoded from it by the stdlib's scanner, each at most
    :data:`WINDOW` characters. Raises ValueError (and UntrustedPage) for what is not JSON."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")()  # strict, like json.loads
        self._text = ""
        self._at = 0
        self._ended = False
        self._decoder = json.JSONDecoder(object_pairs_hook=self._object)
        self.shaped = 0  # file-shaped objects decoded so far

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    raise ValueError(f"duplicate key {key[:80]!r} in one JSON object")
                seen.add(key)
        if "filename" in result or "hashes" in result:
            self.shaped += 1
        return result

    def _more(self) -> bool:
        """The next piece of the body, after what is not consumed yet; False at its end."""
        if self._ended:
            return False
        piece = next(self._pieces, None)
        if piece is None:
            self._ended = True
            self._utf8.decode(b"", final=True)  # a sequence cut at the end raises
            return False
        self._text = self._text[self._at :] + self._utf8.decode(piece)
        self._at = 0
        return True

    def peek(self) -> str:
        """The next character after whitespace, "" at the end."""
        while True:
            self._at = _WHITESPACE.match(self._text, self._at).end()  # type: ignore[union-attr]
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def expect(self, chars: str) -> str:
        """The next character, one of ``chars``, consumed."""
        found = self.peek()
        if not found or found not in chars:
            shown = repr(found) if found else "the end"
            raise ValueError(f"expected one of {chars!r} in the JSON page, found {shown}")
        self._at += 1
        return found

    def value(self) -> Any:
        """The next JSON value, whole: at most :data:`WINDOW` characters."""
        if not self.peek():
            raise ValueError("the JSON page ends where a value should be")
        while True:  # (an attempt on a part of a value may count a file object inside it
            try:  # twice: a value with one inside is refused either way)
                value, end = self._decoder.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if self._ended:
                    raise
            except RecursionError:
                raise ValueError("JSON nested too deeply to parse") from None
            else:
                if end - self._at > WINDOW:
                    self._too_long()
                if self._ended or not self._may_go_on(value, end):
                    self._at = end
                    return value
            self._read_on()

    def _may_go_on(self, value: Any, end: int) -> bool:
        """A number the text ends in may go on in the next piece (``1.5`` of ``1.5e3``)."""
        if not isinstance(value, (int, float)):
            return False  # strings, objects, arrays and literals end with their last character
        return _NUMBER_GOES_ON.match(self._text, end).end() == len(self._text)  # type: ignore[union-attr]

    def _too_long(self) -> None:
        raise UntrustedPage(
            f"a value of the JSON page does not end within {WINDOW // 1024} KiB "
            "(a file's entry is a few hundred bytes)"
        )

    def _read_on(self) -> None:
        """Twice as much text after the value being decoded (its end may be in it)."""
        pending = len(self._text) - self._at
        if pending > WINDOW:
            self._too_long()
        while len(self._text) - self._at < 2 * pending + 1 and self._more():
            pass


def read_json_page(
    pieces: Iterable[bytes],
    base_url: str,
    reader: PageReader,
    version_hint: Callable[[str], str | None],
) -> str:
    """Read a PEP 691 page from the decoded ``pieces`` of its body into ``reader``, each file
    as it comes; the page's ``meta.api-version`` (the caller checks its major).
    ``version_hint``: the version pypi-simple reads in a filename (for old-style names).
    Raises :class:`~release.indexstate.UntrustedPage`, or ValueError for what is not a PEP
    691 page."""
    text = _Text(pieces)
    top: dict[str, Any] = {}
    text.expect("{")
    if text.peek() == "}":
        text.expect("}")
    else:
        while True:
            key = text.value()
            if not isinstance(key, str):
                raise ValueError("a key of the JSON page is not a string")
            if key in top:
                raise ValueError(f"duplicate key {key[:80]!r} in one JSON object")
            text.expect(":")
            top[key] = _member(text, key, base_url, reader, version_hint)
            if text.expect(",}") == "}":
                break
    if text.peek():
        raise ValueError("the JSON page goes on after its end")
    return _checked_page(top, reader)


def _member(
    text: _Text,
    key: str,
    base_url: str,
    reader: PageReader,
    version_hint: Callable[[str], str | None],
) -> Any:
    """One member of the page: an array walked element by element (``files`` into ``reader``,
    the others dropped), any other value decoded whole."""
    if text.peek() != "[":
        if key == "files":
            raise ValueError("the page's files are not a list")
        return _plain(text)
    text.expect("[")
    if text.peek() == "]":
        text.expect("]")
        return _ARRAY
    while True:
        if key == "files":
            before = text.shaped
            entry = text.value()
            if text.shaped - before != 1 or not isinstance(entry, dict) or not _shaped(entry):
                raise UntrustedPage(
                    f"entry {reader.count + 1} of files is not one file object (a filename, "
                    "its url and hashes), or holds another"
                )
            _add(reader, entry, base_url, version_hint)
        else:
            _plain(text)
        if text.expect(",]") == "]":
            return _ARRAY


def _shaped(entry: dict[str, Any]) -> bool:
    return "filename" in entry or "hashes" in entry


def _plain(text: _Text) -> Any:
    """A value outside ``files``: no file-shaped object may hide in it."""
    before = text.shaped
    value = text.value()
    if text.shaped != before:
        raise UntrustedPage(
            "a file object (with a filename or hashes) outside the page's files list: "
            "a page that reads two ways"
        )
    return value


def _add(
    reader: PageReader,
    entry: dict[str, Any],
    base_url: str,
    version_hint: Callable[[str], str | None],
) -> None:
    """A file object, its fields as pypi-simple's ``File`` model types them, to ``reader``."""
    n = reader.count + 1
    filename, url, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
    yanked = entry.get("yanked", False)
    if not isinstance(filename, str) or not isinstance(url, str):
        raise UntrustedPage(f"file {n} has no filename or url string")
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        raise UntrustedPage(f"file {n} ({filename[:80]}) has no hashes object of strings")
    if not isinstance(yanked, (bool, str)):
        raise UntrustedPage(
            f"file {n} ({filename[:80]}): yanked is neither true/false nor a reason"
        )
    reader.add(
        filename,
        urljoin(base_url, url),
        hashes,
        yanked if isinstance(yanked, bool) else True,
        None if parse_filename(filename) else version_hint(filename),  # read only then
        _upload_time(entry.get("upload-time"), n),
    )


def _upload_time(value: Any, n: int) -> datetime | None:
    """PEP 700's ``upload-time``: an RFC 3339 time, UTC as ``Z``. Parsed here, not by
    ``datetime.fromisoformat``, which reads ``Z`` only from Python 3.11 on."""
    if value is None:
        return None
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise UntrustedPage(f"file {n}'s upload-time {str(value)[:40]!r} is not an ISO 8601 time")
    year, month, day, hour, minute, second, fraction, utc, sign, hh, mm = match.groups()
    zone = None
    if utc:
        zone = timezone.utc
    elif sign:
        offset = timedelta(hours=int(hh), minutes=int(mm))
        zone = timezone(-offset if sign == "-" else offset)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        raise UntrustedPage(f"file {n}'s upload-time {value[:40]!r} is no such time") from None


def _checked_page(top: dict[str, Any], reader: PageReader) -> str:
    """The page's own fields, once it has ended: the API version (returned) and its name."""
    meta, name = top.get("meta"), top.get("name")
    if top.get("files") is not _ARRAY:
        raise ValueError("the JSON page has no files list")
    if not isinstance(meta, dict) or not isinstance(meta.get("api-version"), str):
        raise ValueError("the JSON page has no meta.api-version")
    if not isinstance(name, str):
        raise ValueError("the JSON page has no project name")
    if canonicalize_name(name) != reader.project:
        raise UntrustedPage(f"the page is for project {name[:80]!r}, not {reader.project!r}")
    version: str = meta["api-version"]
    return version

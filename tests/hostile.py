"""A hostile index on loopback: the answers no real index gives, for the bounds of release.http.

One :class:`HostileIndex` answers every request by its ``mode`` (set it between requests):

* ``page``          - a good PEP 691 JSON page for ``demo-pkg`` (one wheel, with its sha256);
* ``stall``         - no answer at all (until ``stop()``);
* ``trickle``       - a 200 with a long Content-Length, then one byte every ``interval`` s;
* ``gzip_bomb``     - ``bomb_mb`` MB of spaces, gzip-compressed (about 1000:1), as JSON (JSON
  whitespace: a reader that streams the page reads on until a cap stops it);
* ``huge``          - a ``huge_mb`` MB HTML page, streamed, its Content-Length saying so;
* ``huge_unannounced`` - the same size of plain text without a Content-Length (read until
  the connection closes: only counting the bytes stops it);
* ``echo_auth``     - 403 whose reason phrase and body repeat the Authorization header;
* ``redirect``      - 302 to ``redirect_to`` + the same path (another host, another scheme);
* ``duplicate_keys``- a JSON page with its ``files`` key twice (the second one hides a file);
* ``deep_json``     - a JSON page whose ``files`` list holds ``[`` nested ``depth`` times;
* ``duplicate_file``- the same filename listed twice with different sha256;
* ``long_file``     - any GET of ``/files/...`` answers ``file_bytes`` (longer than promised);
* ``bad_chunked``   - chunked transfer encoding with a chunk size that is not hex;
* ``short_body``    - a Content-Length longer than the body, then the connection closes;
* ``many_links``    - an HTML page (under the 32 MiB cap) listing ``links`` files of
  ``demo-pkg``, each with its sha256: a project with very many files. ``planted`` replaces
  the link at a position (0-based) with other markup: one bad link deep in the page.
* ``many_links_json`` - the same as a PEP 691 JSON page (``planted``: a file object's JSON),
  of sdists, whose shorter names keep 200,000 files under the 32 MiB cap.

It records every request (method, path, Authorization) in ``requests``: the tests assert what
was sent, never how long it took. Request bodies are read and thrown away in pieces. Every
streaming answer stops when ``stop()`` is called or the client goes away.
"""

from __future__ import annotations

__all__ = ["FILENAME", "SHA", "HostileIndex", "Seen", "json_file"]

import dataclasses
import functools
import json
import threading
import time
import zlib
from typing import Any

from release.loopback import LoopbackHandler, LoopbackServer

FILENAME = "demo_pkg-1.0-py3-none-any.whl"
SHA = "a" * 64
JSON = "application/vnd.pypi.simple.v1+json"
MB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str | None
    host: str | None


def page(files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A PEP 691 page of demo-pkg."""
    if files is None:
        files = [{"filename": FILENAME, "url": f"/files/{FILENAME}", "hashes": {"sha256": SHA}}]
    return {"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": files}


@functools.lru_cache(maxsize=2)
def gzip_spaces(megabytes: int) -> bytes:
    """``megabytes`` MB of spaces, gzip-compressed piece by piece (never held decoded); made
    once per process (about a second for 200 MB). Spaces are JSON whitespace, so a reader
    that parses as the body comes must read on: only the decoded cap stops it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * MB
    parts = [compressor.compress(block) for _ in range(megabytes)]
    parts.append(compressor.flush())
    return b"".join(parts)


class HostileIndex(LoopbackServer):
    def __init__(self, mode: str = "page") -> None:
        super().__init__(name="hostile-index")
        self.mode = mode
        self.interval = 0.2
        self.depth = 100_000
        self.links = 200_000
        self.planted: dict[int, bytes] = {}
        self.bomb_mb = 200
        self.huge_mb = 200
        self.redirect_to = ""
        self.file_bytes = b""
        self.requests: list[Seen] = []
        self.halt = threading.Event()
        self._bomb: bytes | None = None
        self._lock = threading.Lock()

    @property
    def index_url(self) -> str:
        return self.base_url + "/simple/"

    @property
    def upload_url(self) -> str:
        return self.base_url + "/legacy/"

    def bomb(self) -> bytes:
        with self._lock:
            if self._bomb is None:
                self._bomb = gzip_spaces(self.bomb_mb)
            return self._bomb

    def sent_authorization(self) -> list[Seen]:
        return [r for r in self.requests if r.authorization]

    def stop(self) -> None:
        self.halt.set()
        super().stop()

    def handler_class(self) -> type[_Handler]:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        return Handler


class _Handler(LoopbackHandler):
    server_owner: HostileIndex
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._drain()
        self._answer()

    def _drain(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            got = self.rfile.read(min(left, 64 * 1024))
            if not got:
                return
            left -= len(got)

    def _answer(self) -> None:
        owner = self.server_owner
        owner.requests.append(
            Seen(self.command, self.path, self.headers.get("Authorization"), self.headers["Host"])
        )
        mode = owner.mode
        try:
            getattr(self, f"_{mode}")()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- the modes -------------------------------------------------------------------------
    def _page(self) -> None:
        if self.path.startswith("/files/"):
            self._long_file()
            return
        self.send_body(200, json.dumps(page()).encode(), JSON)

    def _stall(self) -> None:
        self.server_owner.halt.wait(60)
        self.close_connection = True

    def _trickle(self) -> None:
        owner = self.server_owner
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.flush()
        for _ in range(100000):
            if owner.halt.wait(owner.interval):
                break
            self.wfile.write(b" ")
            self.wfile.flush()
        self.close_connection = True

    def _gzip_bomb(self) -> None:
        body = self.server_owner.bomb()
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _huge(self, announced: bool = True) -> None:
        owner = self.server_owner
        size = owner.huge_mb * MB
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if announced:
            self.send_header("Content-Length", str(size))
            line = b'<a href="/files/x-1.0.tar.gz">x-1.0.tar.gz</a>\n' * 1300  # ~64 KB
        else:
            self.send_header("Connection", "close")
            line = b"x" * 64 * 1024
        self.end_headers()
        sent = 0
        while sent < size and not owner.halt.is_set():
            piece = line[: size - sent]
            self.wfile.write(piece)
            sent += len(piece)
        self.close_connection = True

    def _huge_unannounced(self) -> None:
        self._huge(announced=False)

    def _echo_auth(self) -> None:
        said = self.headers.get("Authorization") or "(none)"
        self.send_response(403, f"Forbidden: you sent {said}")
        body = f"<html><body>Invalid credentials: Authorization: {said}</body></html>".encode()
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self) -> None:
        target = self.server_owner.redirect_to.rstrip("/") + self.path
        self.send_body(302, b"", "text/plain", [("Location", target)])

    def _duplicate_keys(self) -> None:
        hidden = json.dumps([{"filename": FILENAME, "url": f"/files/{FILENAME}", "hashes": {}}])
        body = (
            '{"meta": {"api-version": "1.1"}, "name": "demo-pkg", '
            f'"files": {hidden}, "files": []}}'
        )
        self.send_body(200, body.encode(), JSON)

    def _deep_json(self) -> None:
        depth = self.server_owner.depth
        head = b'{"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": ['
        self.send_body(200, head + b"[" * depth + b"]" * depth + b"]}", JSON)

    def _duplicate_file(self) -> None:
        one = {"filename": FILENAME, "url": f"/files/{FILENAME}", "hashes": {"sha256": SHA}}
        other = dict(one, hashes={"sha256": "b" * 64})
        self.send_body(200, json.dumps(page([one, other])).encode(), JSON)

    def _server_error(self) -> None:
        self.send_body(500, b"Internal Server Error", "text/plain")

    def _bad_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b'5\r\n{"a":\r\nzz-not-hex\r\nbroken\r\n')
        self.wfile.flush()
        self.close_connection = True

    def _short_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"meta": {"api-version": "1.1"}')
        self.wfile.flush()
        self.close_connection = True

    def _many_links(self) -> None:
        count, planted = self.server_owner.links, self.server_owner.planted
        body = (
            b"<!DOCTYPE html><html><body>\n"
            + b"".join(
                planted.get(n)
                or b'<a href="/files/demo_pkg-%d.0-py3-none-any.whl#sha256=%064x">'
                b"demo_pkg-%d.0-py3-none-any.whl</a><br>\n"
                % (n, n, n)
                for n in range(count)
            )
            + b"</body></html>\n"
        )
        self.send_body(200, body, "text/html")

    def _many_links_json(self) -> None:
        count, planted = self.server_owner.links, self.server_owner.planted
        body = (
            b'{"meta":{"api-version":"1.1"},"name":"demo-pkg","files":['
            + b",".join(planted.get(n) or json_file(n, n) for n in range(count))
            + b"]}"
        )
        self.send_body(200, body, JSON)

    def _long_file(self) -> None:
        self.send_body(200, self.server_owner.file_bytes, "application/octet-stream")


def json_file(n: int, sha: int) -> bytes:
    """File ``n`` of the ``many_links_json`` page: ``demo_pkg-<n>.0.tar.gz``, sha256 ``sha``."""
    name = b"demo_pkg-%d.0.tar.gz" % n
    return b'{"filename":"%s","url":"/files/%s","hashes":{"sha256":"%064x"}}' % (name, name, sha)


def wait_for(predicate: Any, seconds: float = 5.0) -> bool:
    """Poll ``predicate`` until true (for a server thread that records after answering)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())

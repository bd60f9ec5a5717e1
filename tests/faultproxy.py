"""A loopback reverse proxy that injects faults in front of a real index (pypiserver).

It stands between nox-release (or twine, or pip) and a :class:`release.localindex.LocalIndex`
on 127.0.0.1 and does what real indexes and CDNs do on a bad day, by a small scriptable rule
set (:class:`Rule`, first match wins):

* ``drop_request``  - read the request line and headers, then close the socket: the index
  never sees the request (a connection reset before anything was stored).
* ``drop_response`` - forward the whole request (an upload *is* stored), then close the
  socket instead of answering (the client cannot know whether its upload landed).
* ``status``        - answer ``status`` (503, 429, ...) with an optional ``Retry-After``
  without forwarding; an upload body is drained first (and discarded).
* ``forward``       - pass it through; with ``delay`` (before forwarding) and
  ``response_delay`` (after the index answered) for slow responses and per-request latency,
  and ``per_mib`` seconds more before forwarding for each MiB of the request's declared body
  (a connection's upload rate: a 4 MiB wheel at ``per_mib=0.25`` waits one second more).

``lag`` seconds of CDN lag: a file whose upload the proxy saw less than ``lag`` seconds ago is
stripped from the project's simple page (PEP 503 HTML and PEP 691 JSON), as a stale cache
would serve it; a page left with no file at all answers 404, as the cached page of a project
from before its first upload would.

Request bodies are streamed in 64 KiB pieces (a chunked body is spooled to a temporary
file, never held whole in memory), so a 500 MB upload goes through in constant memory.
Every request is counted by (method, path). Everything is bounded: sockets time out, bodies
have a size limit, the proxy serves at most ``max_requests`` requests and stops itself after
``lifetime`` seconds.

Hand-written on the standard library because no testing library injects these faults at the
HTTP level in front of a real server (mitmproxy would, at the cost of a large dependency).
"""

from __future__ import annotations

__all__ = ["FaultProxy", "Rule"]

import collections
import contextlib
import dataclasses
import http.client
import json
import re
import shutil
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import IO, Literal
from urllib.parse import urlsplit

from release.loopback import LoopbackHandler, LoopbackServer

Action = Literal["forward", "drop_request", "drop_response", "status"]

CHUNK = 64 * 1024
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
# The file part of an upload form: `Content-Disposition: form-data; name="content"; filename="x"`.
_FILENAME_RE = re.compile(rb'filename="([^"\r\n]{1,255})"')
_SNIFF_TAIL = 512


@dataclasses.dataclass
class Rule:
    """One fault. Matches ``method`` (None: any) and a path starting with ``path``.

    The first ``skip`` matching requests pass untouched, then the rule fires ``times`` times
    (None: on every matching request from then on).
    """

    action: Action = "forward"
    method: str | None = None
    path: str = "/"
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    response_delay: float = 0.0
    per_mib: float = 0.0
    times: int | None = 1
    skip: int = 0
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.delay <= 120 or not 0 <= self.response_delay <= 120:
            raise ValueError("delays are bounded to 0..120 seconds")
        if not 0 <= self.per_mib <= 60:
            raise ValueError("per_mib is bounded to 0..60 seconds")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)

    def wait_before(self, body_length: int | None) -> float:
        """Seconds to wait before forwarding a request whose body is ``body_length`` bytes
        (None: chunked, its length unknown, so ``delay`` only)."""
        return self.delay + self.per_mib * (body_length or 0) / 2**20

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclasses.dataclass(frozen=True)
class Event:
    """What the proxy did with one request."""

    method: str
    path: str
    action: str
    status: int | None  # what the client got (None: the connection was dropped)
    filename: str | None = None  # the uploaded file's name, for uploads


class FaultProxy(LoopbackServer):
    """``FaultProxy(upstream_base_url, rules=[...], lag=0.0)``; a context manager.

    ``base_url`` / ``upload_url`` / ``index_url`` point at the proxy with the same paths as the
    upstream (pypiserver: uploads at ``/``, Simple API at ``/simple/``).
    """

    def __init__(
        self,
        upstream: str,
        rules: list[Rule] | None = None,
        *,
        lag: float = 0.0,
        lifetime: float = 900.0,
        max_requests: int = 20_000,
        max_body: int = 2 * 1024**3,
        timeout: float = 60.0,
        capture: int = 0,
    ) -> None:
        super().__init__(name="faultproxy")
        # Keep the bodies of up to ``capture`` upload POSTs (each at most 16 MiB), with their
        # Content-Type, to read the form the client sent (``captured``).
        self.capture = capture
        self.captured: list[tuple[str, bytes]] = []
        parts = urlsplit(upstream)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("FaultProxy only fronts a loopback upstream")
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_base = f"{parts.scheme}://{parts.netloc}"
        self.rules: list[Rule] = list(rules or [])
        self.lag = lag
        self.lifetime = lifetime
        self.max_requests = max_requests
        self.max_body = max_body
        self.timeout = timeout
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.events: list[Event] = []
        self.uploaded_at: dict[str, float] = {}  # filename -> monotonic time of its upload
        self.lock = threading.Lock()
        self._watchdog: threading.Timer | None = None

    # -- set-up ---------------------------------------------------------------------------

    @property
    def upload_url(self) -> str:
        return self.base_url + "/"

    @property
    def index_url(self) -> str:
        return self.base_url + "/simple/"

    def handler_class(self) -> type[_Handler]:
        proxy = self

        class Handler(_Handler):
            owner = proxy
            timeout = proxy.timeout

        return Handler

    def start(self) -> FaultProxy:
        super().start()
        self._watchdog = threading.Timer(self.lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def stop(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.cancel()
        super().stop()

    # -- scripting and inspection ----------------------------------------------------------

    def add(self, *rules: Rule) -> None:
        with self.lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def count(self, method: str | None = None, path: str = "/") -> int:
        """Requests seen (before any fault) with ``method`` and a path starting with ``path``."""
        with self.lock:
            return sum(
                n
                for (m, p), n in self.counts.items()
                if (method is None or m == method) and p.startswith(path)
            )

    def uploads(self) -> list[str]:
        """Filenames of every upload POST the proxy forwarded, in order (repeats included)."""
        with self.lock:
            return [
                e.filename
                for e in self.events
                if e.method == "POST" and e.filename and e.action != "drop_request"
            ]

    def _match(self, method: str, path: str) -> Rule | None:
        with self.lock:
            self.counts[(method, path)] += 1
            if sum(self.counts.values()) > self.max_requests:
                threading.Thread(target=self.stop, daemon=True).start()
                return Rule(action="drop_request")
            for rule in self.rules:
                if not rule.matches(method, path) or rule.spent:
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                rule.fired += 1
                return rule
        return None

    def _record(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)
            if len(self.events) > self.max_requests:
                del self.events[0]

    def lagging(self, now: float | None = None) -> set[str]:
        """Files uploaded less than ``lag`` seconds ago: the ones a stale page leaves out."""
        if self.lag <= 0:
            return set()
        current = time.monotonic() if now is None else now
        with self.lock:
            return {f for f, t in self.uploaded_at.items() if current - t < self.lag}


def count_files(body: bytes, content_type: str) -> int:
    """How many files a simple page lists."""
    if "json" in content_type:
        return len(json.loads(body).get("files", []))
    return len(re.findall(rb"<a\b", body, flags=re.IGNORECASE))


def strip_files(body: bytes, content_type: str, hidden: set[str]) -> bytes:
    """A simple page without the links (HTML) or entries (JSON) of ``hidden`` files."""
    if not hidden:
        return body
    if "json" in content_type:
        data = json.loads(body)
        data["files"] = [f for f in data.get("files", []) if f.get("filename") not in hidden]
        return json.dumps(data).encode()
    text = body.decode("utf-8", "replace")
    for name in hidden:
        text = re.sub(
            r"<a\b[^>]*>\s*" + re.escape(name) + r"\s*</a>\s*(<br\s*/?>)?\s*",
            "",
            text,
            flags=re.IGNORECASE,
        )
    return text.encode("utf-8")


class _Handler(LoopbackHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _body_length(self) -> int | None:
        """Content-Length of the request; None when the body is chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        return int(self.headers.get("Content-Length") or 0)

    def _read_chunked(self, sink: IO[bytes]) -> int:
        """De-chunk the request body into ``sink``; bounded by ``max_body``."""
        total = 0
        for _ in range(10_000_000):  # bounded: at most this many chunks
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                for _trailer in range(100):
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                return total
            total += size
            if total > self.owner.max_body:
                raise ValueError("request body over the proxy's limit")
            left = size
            while left:
                piece = self.rfile.read(min(CHUNK, left))
                if not piece:
                    raise ConnectionError("client closed mid-body")
                sink.write(piece)
                left -= len(piece)
            self.rfile.readline(8)
        raise ValueError("too many chunks")

    def _drain(self) -> None:
        length = self._body_length()
        if length is None:
            with tempfile.TemporaryFile() as sink:
                self._read_chunked(sink)
            return
        left = min(length, self.owner.max_body)
        while left > 0:
            piece = self.rfile.read(min(CHUNK, left))
            if not piece:
                break
            left -= len(piece)

    def _send_stale_404(self) -> None:
        self.send_body(
            404, b"404 Not Found (a stale page from before the project's first upload)\n"
        )

    def _send_status(self, rule: Rule) -> None:
        headers = [("Connection", "close")]
        if rule.retry_after is not None:
            headers.append(("Retry-After", rule.retry_after))
        self.send_body(
            rule.status, f"{rule.status} injected by faultproxy\n".encode(), headers=headers
        )
        self.close_connection = True

    def _forward_body(self, upstream: http.client.HTTPConnection) -> str | None:
        """Send the request (headers + streamed body) upstream; the uploaded filename if any."""
        length = self._body_length()
        spool: IO[bytes] | None = None
        if length is None:
            spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - closed below, after streaming
            length = self._read_chunked(spool)
            spool.seek(0)
        elif length > self.owner.max_body:
            raise ValueError("request body over the proxy's limit")
        self._send_head(upstream, length)
        try:
            return self._stream_body(upstream, spool, length)
        finally:
            if spool is not None:
                spool.close()

    def _send_head(self, upstream: http.client.HTTPConnection, length: int) -> None:
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for key, value in self.headers.items():
            if key.lower() not in HOP_BY_HOP:
                upstream.putheader(key, value)
        if length or self.command in {"POST", "PUT"}:
            upstream.putheader("Content-Length", str(length))
        upstream.putheader("Connection", "close")
        upstream.endheaders()

    def _stream_body(
        self, upstream: http.client.HTTPConnection, spool: IO[bytes] | None, length: int
    ) -> str | None:
        """Send ``length`` body bytes upstream; the uploaded file's name, sniffed on the way."""
        source = spool if spool is not None else self.rfile
        owner = self.owner
        keep = (
            self.command == "POST"
            and length <= 16 * 1024 * 1024
            and len(owner.captured) < owner.capture
        )
        kept: list[bytes] = []
        filename: str | None = None
        tail = b""
        left = length
        while left > 0:
            piece = source.read(min(CHUNK, left))
            if not piece:
                raise ConnectionError("client closed mid-body")
            left -= len(piece)
            if filename is None:
                window = tail + piece
                found = _FILENAME_RE.search(window)
                if found:
                    filename = found.group(1).decode("utf-8", "replace")
                tail = window[-_SNIFF_TAIL:]
            upstream.send(piece)
            if keep:
                kept.append(piece)
        if keep:
            with owner.lock:
                owner.captured.append((self.headers.get("Content-Type", ""), b"".join(kept)))
        return filename

    def _handle(self) -> None:
        owner = self.owner
        method, path = self.command, self.path
        rule = owner._match(method, path)
        if rule is not None and (rule.delay or rule.per_mib):
            time.sleep(rule.wait_before(self._body_length()))
        action: Action = rule.action if rule is not None else "forward"
        if action == "drop_request":
            owner._record(Event(method, path, action, None))
            self._drop()
            return
        if action == "status":
            assert rule is not None
            self._drain()
            self._send_status(rule)
            owner._record(Event(method, path, action, rule.status))
            return
        upstream = http.client.HTTPConnection(
            owner.upstream_host, owner.upstream_port, timeout=owner.timeout
        )
        try:
            filename = self._forward_body(upstream)
            response = upstream.getresponse()
            if filename and method == "POST" and response.status == 200:
                with owner.lock:
                    owner.uploaded_at.setdefault(filename, time.monotonic())
            if action == "drop_response":
                shutil.copyfileobj(response, _Null(), CHUNK)
                owner._record(Event(method, path, action, None, filename))
                self._drop()
                return
            if rule is not None and rule.response_delay:
                time.sleep(rule.response_delay)
            # Recorded before the client hears back, so a client that got its answer sees it.
            owner._record(Event(method, path, action, response.status, filename))
            self._relay(response)
        finally:
            upstream.close()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        owner = self.owner
        content_type = response.getheader("Content-Type", "")
        hidden = owner.lagging() if self.path.startswith("/simple/") else set()
        body: bytes | None = None
        if hidden and response.status == 200 and self.command == "GET":
            body = strip_files(response.read(64 * 1024 * 1024), content_type, hidden)
            if count_files(body, content_type) == 0:
                # A stale cache of a project that had no files yet: it did not exist then.
                self._send_stale_404()
                return
        self.send_response_only(response.status, response.reason)
        self._relay_headers(response)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        length = response.getheader("Content-Length")
        if length is not None:
            self.send_header("Content-Length", length)
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        for _ in range(owner.max_body // CHUNK + 2):
            piece = response.read(CHUNK)
            if not piece:
                break
            self.wfile.write(piece)

    def _relay_headers(self, response: http.client.HTTPResponse) -> None:
        """The index's headers, without hop-by-hop ones; its redirects point at the proxy."""
        upstream_base = self.owner.upstream_base
        for key, value in response.getheaders():
            low = key.lower()
            if low in HOP_BY_HOP:
                continue
            if low == "location" and value.startswith(upstream_base):
                value = self_base(self) + value[len(upstream_base) :]
            self.send_header(key, value)


def self_base(handler: BaseHTTPRequestHandler) -> str:
    address = handler.server.server_address
    assert isinstance(address, tuple)
    return f"http://{address[0]!s}:{address[1]}"


class _Null:
    def write(self, data: bytes) -> int:
        return len(data)

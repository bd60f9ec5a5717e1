"""The one way nox-release speaks HTTP: every network caller (index reads, uploads, doctor's
auth probe, trusted publishing, verify's download) builds its session and reads its answers here.

The rules, in one place:

* **Session** (:func:`make_session`): a User-Agent naming nox-release, its version and the
  purpose. The environment is trusted for proxies and CA bundles (``HTTPS_PROXY``,
  ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``: CI runners behind a proxy need them) but **never** for
  credentials: ``~/.netrc`` is not read, so a request carries the one credential its caller
  passes, or none.
* **Redirects are never followed here.** A caller that follows one (the index reader, same host
  only) does it itself with a new request, so a credential can never ride a redirect to
  another host.
* **Time**: ``timeout`` bounds each connect and each read; ``deadline`` bounds the whole
  exchange (request, headers and body). A server that trickles one byte a second passes every
  read timeout; the deadline ends it (:class:`AnswerTooSlow`, exit 4, not retried). A server
  that has not even sent its headers by then stalled: that is a timeout, retried like one.
* **Size**: the body is read in pieces and counted twice, as it comes over the wire
  (compressed) and decoded; past either cap the read stops (:class:`AnswerTooLarge`, exit 4).
  We decompress ourselves (gzip and deflate only, asked for by name), never more than the room
  left under the cap, so a gzip bomb costs at most the cap in memory.
* **Streaming** (:func:`exchange_read`): a caller that reads the body as it comes (the index
  reader parses a page link by link) gets the decoded pieces under the same caps, inside the
  same deadline, and the body is never held whole.
* **JSON** (:func:`strict_json`): a duplicate key or nesting deeper than Python can parse is
  a :class:`ValueError` ("untrusted"), never a traceback or a silent last-one-wins.

Every error text made here passes :func:`release.redact.redact`. Connection failures and read
timeouts raise :class:`release.retry.Transient` (worth another
attempt); the deadline and the caps raise :class:`AnswerError`, an
:class:`~release.errors.IndexUnavailable`, which is not retried: a hostile answer would be
hostile again.
"""

from __future__ import annotations

__all__ = [
    "DECODED_CAP",
    "ERROR_PAGE_CAP",
    "MIN_TRANSFER_RATE",
    "PAGE_CAP",
    "Answer",
    "AnswerError",
    "AnswerTooLarge",
    "AnswerTooSlow",
    "Limits",
    "download",
    "exchange",
    "exchange_read",
    "make_session",
    "strict_json",
    "transfer_deadline",
]

import contextlib
import dataclasses
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from email.message import Message
from typing import IO, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.auth import AuthBase

from . import __version__, redact
from .endpoints import strip_credentials
from .errors import IndexUnavailable
from .retry import Transient

PAGE_CAP = 32 * 1024 * 1024  # an index page, decoded (PyPI's largest project pages are ~10 MB)
DECODED_CAP = PAGE_CAP
ERROR_PAGE_CAP = 1024 * 1024  # the answer to an upload, a probe or a token exchange
MIN_TRANSFER_RATE = 64 * 1024  # bytes/s an upload or download is allowed to sink to
CHUNK = 16 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
T = TypeVar("T")


class AnswerError(IndexUnavailable):
    """An answer that broke a bound (time, size, encoding): abandoned, never retried.

    Its text passes :func:`release.redact.redact` here, where it is made (a URL or a server's
    words may carry a secret), besides the boundary in :mod:`release.cli`."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(redact.redact(message), redact.redact(fix))


def _transient(exc: Exception, method: str, url: str) -> Transient:
    """A connection failure or timeout, named and placed, its text redacted; a host name that
    does not resolve is named as such (and retried with longer waits, release.retry)."""
    where = f"{_verb(method)} {strip_credentials(url)}"
    if _unresolved(exc):
        host = urlsplit(url).hostname or "?"
        return Transient(
            redact.redact(f"the name {host} does not resolve (DNS) {where}"),
            unresolved_host=redact.redact(host),
        )
    return Transient(redact.redact(f"{type(exc).__name__} {where}"))


def _unresolved(exc: BaseException) -> bool:
    """A DNS failure somewhere in the chain: urllib3's NameResolutionError (inside requests'
    ConnectionError, inside MaxRetryError) or the socket's gaierror."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (socket.gaierror, urllib3.exceptions.NameResolutionError)):
            return True
        todo += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
    return False


class AnswerTooSlow(AnswerError):
    """The whole exchange did not finish within its deadline."""


class AnswerTooLarge(AnswerError):
    """The body, on the wire or decoded, is larger than its cap."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds of one exchange. ``timeout``: each connect and read; ``deadline``: everything;
    ``wire_cap`` / ``body_cap``: bytes over the wire (compressed) / decoded."""

    timeout: float = 60.0
    deadline: float = 60.0
    wire_cap: int = PAGE_CAP
    body_cap: int = DECODED_CAP

    @classmethod
    def page(cls, timeout: float) -> Limits:
        """An index page: the configured timeout is also the deadline."""
        return cls(timeout=timeout, deadline=timeout)

    @classmethod
    def file(cls, timeout: float, size: int) -> Limits:
        """A file of at most ``size`` bytes, at no less than :data:`MIN_TRANSFER_RATE`."""
        return cls(
            timeout=timeout,
            deadline=transfer_deadline(timeout, size),
            wire_cap=size + ERROR_PAGE_CAP,
            body_cap=size,
        )

    @classmethod
    def short(cls, timeout: float, *, sending: int = 0) -> Limits:
        """An answer that is a status and a message (upload, probe, token exchange); sending
        ``sending`` bytes first stretches the deadline at :data:`MIN_TRANSFER_RATE`."""
        return cls(
            timeout=timeout,
            deadline=transfer_deadline(timeout, sending),
            wire_cap=ERROR_PAGE_CAP,
            body_cap=ERROR_PAGE_CAP,
        )


def transfer_deadline(timeout: float, size: int) -> float:
    """Deadline for moving ``size`` bytes: the timeout plus the time at the slowest allowed
    rate (:data:`MIN_TRANSFER_RATE`). Pure."""
    return timeout + size / MIN_TRANSFER_RATE


@dataclasses.dataclass(frozen=True)
class Answer:
    """A whole answer, read under :class:`Limits` (``body`` is empty when it went to a sink)."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive (requests' CaseInsensitiveDict)
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def is_redirect(self) -> bool:
        return self.status in _REDIRECTS and "location" in self.headers

    @property
    def location(self) -> str:
        """Where a redirect points, absolute."""
        return urljoin(self.url, self.headers.get("location", ""))

    @property
    def content_type(self) -> str:
        return _content_type(self.headers)[0]

    @property
    def charset(self) -> str | None:
        return _content_type(self.headers)[1]

    @property
    def text(self) -> str:
        """The body as text: its declared charset, or UTF-8 when it names none we know."""
        try:
            return self.body.decode(self.charset or "utf-8", "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    @property
    def shown_text(self) -> str:
        """:attr:`text` with every secret removed, as the server sent it, before anything
        collapses, cuts or quotes it: what a message may show."""
        return redact.redact(self.text)

    def json(self) -> Any:
        """The body as JSON, strictly (:func:`strict_json`)."""
        return strict_json(self.body)


def _content_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    message = Message()
    message["content-type"] = headers.get("content-type", "text/html")
    charset = message.get_param("charset")
    return message.get_content_type(), charset if isinstance(charset, str) else None


class _NoNetrc(AuthBase):
    """Set as the session's auth so that requests never reads ``~/.netrc`` (it does when
    ``trust_env`` is on and no auth is set); a request's own auth still wins."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def make_session(purpose: str) -> requests.Session:
    """The session every network caller uses (see the module's rules)."""
    session = requests.Session()
    session.headers["User-Agent"] = (
        f"nox-release/{__version__} ({purpose}) python-requests/{requests.__version__}"
    )
    session.headers["Accept-Encoding"] = "gzip, deflate"  # what _Decoder understands
    session.trust_env = True  # proxies and CA bundles from the environment...
    session.auth = _NoNetrc()  # ...but never credentials from ~/.netrc
    return session


def strict_json(data: bytes | str) -> Any:
    """``json.loads`` that refuses what cannot be trusted: a key twice in one object (which
    value would a reader believe?) and nesting too deep to parse. Raises ValueError."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"duplicate key {key[:80]!r} in one JSON object")
            result[key] = value
        return result

    try:
        return json.loads(data, object_pairs_hook=pairs)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


class _Decoder:
    """Content-Encoding undone piece by piece (gzip, deflate or none)."""

    def __init__(self, encoding: str) -> None:
        name = encoding.strip().lower()
        self.zlib: Any = None
        if name in ("gzip", "x-gzip"):
            self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self.zlib = zlib.decompressobj()
        elif name not in ("", "identity"):
            raise ValueError(f"content encoding {encoding[:40]!r} (asked for gzip or deflate)")

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``, at most :data:`CHUNK` * 4 bytes each, so that the
        caller can stop at its cap before a bomb has gone off in memory."""
        if self.zlib is None:
            yield data
            return
        pending = data
        while pending:
            out: bytes = self.zlib.decompress(pending, CHUNK * 4)
            pending = self.zlib.unconsumed_tail
            if out:
                yield out
            elif not pending:
                return


@dataclasses.dataclass
class _Call:
    method: str
    url: str
    limits: Limits
    kwargs: dict[str, Any]
    sink: IO[bytes] | None
    # Reads the body as it comes, given the answer's head (body b"") and the decoded pieces.
    reader: Callable[[Answer, Iterator[bytes]], Any] | None = None
    read: Any = None  # what ``reader`` returned
    response: requests.Response | None = None
    cancelled: bool = False


def _too_large(call: _Call, what: str, cap: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"The answer of {strip_credentials(call.url)} is larger than {cap // 1024} KiB "
        f"{what}; it was abandoned unread.",
        "Check the index URL: a proxy, a login page or a misbehaving server answers like "
        "this. Nothing was trusted from it.",
    )


def _pieces(call: _Call, response: requests.Response) -> Iterator[bytes]:
    """The body, decoded, piece by piece, under the call's caps (raises :class:`AnswerError`)."""
    limits = call.limits
    try:
        decoder = _Decoder(response.headers.get("content-encoding", ""))
    except ValueError as exc:
        raise AnswerError(
            f"The answer of {strip_credentials(call.url)} uses an unsupported {exc}.",
            "Check the index URL, or a proxy in between that re-encodes answers.",
        ) from None
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.wire_cap:  # refused before it is read
        raise _too_large(call, "on the wire", limits.wire_cap)
    wire = 0
    size = 0
    while not call.cancelled:
        data = response.raw.read(CHUNK, decode_content=False)
        if not data:
            break
        wire += len(data)
        if wire > limits.wire_cap:
            raise _too_large(call, "on the wire", limits.wire_cap)
        decoded = decoder.feed(data)
        while True:
            try:
                piece = next(decoded, None)
            except zlib.error:
                raise AnswerError(
                    f"The answer of {strip_credentials(call.url)} does not decompress.",
                    "Check the index URL, or a proxy in between that re-encodes answers.",
                ) from None
            if piece is None:
                break
            size += len(piece)
            if size > limits.body_cap:
                raise _too_large(call, "decoded", limits.body_cap)
            yield piece


def _read_body(call: _Call, response: requests.Response) -> bytes:
    if call.sink is None:
        return b"".join(_pieces(call, response))
    for piece in _pieces(call, response):
        call.sink.write(piece)
    return b""


# A connection that failed, timed out or broke mid-answer: a bad chunk, a Content-Length longer
# than the body (urllib3's ProtocolError / IncompleteRead, which requests does not wrap when the
# body is read from ``response.raw``). Transient: retried, then exit 4.
_BROKEN: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.HTTPError,
)
_BROKEN_READING: tuple[type[Exception], ...] = (*_BROKEN, OSError)


def _verb(method: str) -> str:
    return "reading" if method in ("GET", "HEAD") else "sending to"


def _run(session: requests.Session, call: _Call) -> Answer:
    timeout = (call.limits.timeout, call.limits.timeout)
    try:
        response = session.request(
            call.method,
            call.url,
            stream=True,
            allow_redirects=False,
            timeout=timeout,
            **call.kwargs,
        )
    except _BROKEN as exc:
        raise _transient(exc, call.method, call.url) from None
    call.response = response
    # The reason phrase is shown as it is: secrets go before anything reformats it.
    reason = redact.redact(response.reason or "")
    head = Answer(call.url, response.status_code, reason, response.headers, b"")
    try:
        if call.reader is not None:
            call.read = call.reader(head, _pieces(call, response))
            return head
        body = _read_body(call, response)
    except _BROKEN_READING as exc:
        raise _transient(exc, call.method, call.url) from None
    finally:
        response.close()
    return dataclasses.replace(head, body=body)


def _abandon(call: _Call) -> None:
    """Stop the worker of an exchange past its deadline: flag it, and shut its socket when
    the answer has begun (a worker still in the headers ends at its next read or at exit)."""
    call.cancelled = True
    response = call.response
    connection = getattr(getattr(response, "raw", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    limits: Limits,
    sink: IO[bytes] | None = None,
    **kwargs: Any,
) -> Answer:
    """One request and its whole answer, under ``limits``. ``kwargs`` go to
    ``session.request`` (headers, data, json, auth); redirects are never followed.

    Raises :class:`~release.retry.Transient` for connection failures and read timeouts,
    :class:`AnswerTooSlow` / :class:`AnswerTooLarge` / :class:`AnswerError` for the bounds.
    """
    return _exchange(session, _Call(method.upper(), url, limits, kwargs, sink))


def exchange_read(
    session: requests.Session,
    method: str,
    url: str,
    reader: Callable[[Answer, Iterator[bytes]], T],
    *,
    limits: Limits,
    **kwargs: Any,
) -> tuple[Answer, T]:
    """:func:`exchange`, the body read as it comes: ``reader`` gets the answer's head
    (``body`` empty) and the decoded pieces of the body, under ``limits``' caps, and what it
    returns comes back with the head. It runs inside the exchange, so the deadline bounds the
    reading too; what it leaves unread is dropped. Its exceptions reach the caller as they
    are, except those of a connection that broke (a :class:`~release.retry.Transient`)."""
    call = _Call(method.upper(), url, limits, kwargs, None, reader)
    answer = _exchange(session, call)
    read: T = call.read
    return answer, read


def _exchange(session: requests.Session, call: _Call) -> Answer:
    limits, url = call.limits, call.url
    outcome: list[Answer | BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(_run(session, call))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)
        finally:
            done.set()

    # The exchange runs in a daemon thread so that the deadline holds even while a read is
    # blocked (each byte of a trickle arrives within the read timeout).
    threading.Thread(target=work, name="nox-release-http", daemon=True).start()
    if not done.wait(limits.deadline):
        _abandon(call)
        if call.response is None:  # not even the headers: a stall, worth another attempt
            raise _transient(requests.Timeout(), call.method, url)
        raise AnswerTooSlow(
            f"{strip_credentials(url)} did not finish answering within {limits.deadline:.0f}s "
            "(the deadline of one exchange); the answer was abandoned.",
            "Check the URL and the connection (a proxy or server that trickles its answer ends "
            "like this); if the index is only slow, raise RELEASE_TIMEOUT.",
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def download(
    session: requests.Session, url: str, sink: IO[bytes], *, limits: Limits, hops: int = 5
) -> tuple[Answer, str]:
    """GET ``url`` into ``sink``, following at most ``hops`` redirects (each answer replaces
    the last one's bytes): the last answer and the URL it came from. Only for requests that
    carry no credential, where following a redirect to another host is safe; the caller checks
    the status and the bytes."""
    answer = exchange(session, "GET", url, limits=limits, sink=sink)
    for _hop in range(hops - 1):
        if not answer.is_redirect:
            break
        url = answer.location
        sink.seek(0)
        sink.truncate()
        answer = exchange(session, "GET", url, limits=limits, sink=sink)
    return answer, url

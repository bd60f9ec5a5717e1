"""One way to run a local HTTP server: on 127.0.0.1, an ephemeral port, a daemon thread.

:class:`LoopbackServer` is the base of every server nox-release runs in its own process: the
rehearsal's pypiserver (``release/localindex.py``) and the test suite's fault proxy, OIDC double
and small index doubles. It starts a threading server on ``127.0.0.1:0`` in a daemon thread and
stops it cleanly (``shutdown``, close the socket, join the thread), from any thread, once.

Use it directly with a handler class, or subclass it and override :meth:`handler_class` (a
handler that needs its owner) or :meth:`make_server` (another server class, e.g. WSGI)::

    with LoopbackServer(MyHandler) as server:
        requests.get(server.base_url + "/")
"""

from __future__ import annotations

__all__ = ["LoopbackHandler", "LoopbackServer", "QuietHangUps", "ThreadingLoopbackServer"]

import socketserver
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar

HOST = "127.0.0.1"

_S = TypeVar("_S", bound="LoopbackServer")

HandlerFactory = Callable[..., socketserver.BaseRequestHandler]


class QuietHangUps:
    """A socketserver mixin: a client that hangs up mid-request (a reset, a broken pipe: an
    upload retried, a read abandoned at its deadline) is part of the conversation, not a
    server error, so no traceback is printed for it; any other error is printed as usual."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)  # type: ignore[misc]


class ThreadingLoopbackServer(QuietHangUps, ThreadingHTTPServer):
    """A threading HTTP server whose request threads never keep the process alive."""

    daemon_threads = True
    allow_reuse_address = True


class LoopbackHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and sends a whole answer in one call."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_body(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Status line, headers (with Content-Type and Content-Length), then ``body``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class LoopbackServer:
    """A server on 127.0.0.1:<ephemeral port>, served from a daemon thread.

    ``start()`` returns the server itself; ``stop()`` may be called from any thread (also a
    request's or a timer's), any number of times. A context manager.
    """

    poll_interval = 0.05  # seconds between serve_forever's checks for shutdown (stop waits one)

    def __init__(self, handler: HandlerFactory | None = None, *, name: str = "loopback") -> None:
        self._handler = handler
        self.name = name
        self._server: socketserver.TCPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._state_lock = threading.Lock()

    # -- what subclasses change ------------------------------------------------------------
    def handler_class(self) -> HandlerFactory:
        """The request handler (class or factory); by default the one given to ``__init__``."""
        if self._handler is None:
            raise TypeError(f"{type(self).__name__} needs a handler class or a handler_class()")
        return self._handler

    def make_server(self) -> socketserver.TCPServer:
        """The bound, not yet serving, server; by default a threading HTTP server."""
        return ThreadingLoopbackServer((HOST, 0), self.handler_class())

    # -- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port it listens on (still known after ``stop``, for "nothing listens" tests)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- life cycle --------------------------------------------------------------------------
    def start(self: _S) -> _S:
        with self._state_lock:
            if self._server is not None:
                raise RuntimeError(f"{type(self).__name__} is already started")
            server = self.make_server()
            self._port = int(server.server_address[1])
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": self.poll_interval},
                name=f"{self.name}:{self._port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        with self._state_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        if thread is threading.current_thread():
            # shutdown() waits for serve_forever to return: never call it from that thread.
            threading.Thread(target=_close, args=(server,), daemon=True).start()
            return
        _close(server)
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _close(server: socketserver.BaseServer) -> None:
    server.shutdown()
    server.server_close()

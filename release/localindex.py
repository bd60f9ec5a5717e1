"""A real pypiserver on 127.0.0.1, in this process: the throw-away indexes of ``rehearse``
and of the test suite.

pypiserver runs in a thread behind a threading WSGI server on an ephemeral port, with
``disable_fallback`` (unknown projects answer 404 instead of redirecting to PyPI) and
uploads behind a generated username and password that exist only in memory.
"""

from __future__ import annotations

__all__ = ["LocalIndex"]

import secrets
import shutil
import socketserver
import tempfile
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .loopback import LoopbackServer, QuietHangUps


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(QuietHangUps, socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class LocalIndex(LoopbackServer):
    """A pypiserver on 127.0.0.1:<ephemeral port>.

    ``upload_url`` takes uploads (``/``), ``index_url`` is the Simple API root (``/simple/``).
    Packages live in ``root`` (a temporary folder unless given). Use as a context manager.
    """

    def __init__(
        self, root: Path | None = None, *, username: str = "uploader", password: str | None = None
    ) -> None:
        super().__init__(name="pypiserver")
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="nox-release-index-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(24)
        self.uploads = 0  # POSTs seen, successful or not

    @property
    def upload_url(self) -> str:
        return self.base_url + "/"

    @property
    def index_url(self) -> str:
        return self.base_url + "/simple/"

    def _auther(self, username: str, password: str) -> bool:
        return secrets.compare_digest(username, self.username) and secrets.compare_digest(
            password, self.password
        )

    def make_server(self) -> WSGIServer:
        import pypiserver

        app = pypiserver.app(
            roots=[self.root],
            authenticate=["update"],
            auther=self._auther,
            disable_fallback=True,
            hash_algo="sha256",
        )

        def counting_app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("REQUEST_METHOD") == "POST":
                self.uploads += 1
            return app(environ, start_response)

        return make_server(
            "127.0.0.1",
            0,
            counting_app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )

    def stop(self) -> None:
        super().stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def files(self) -> list[str]:
        """Filenames stored on this index (from disk)."""
        return sorted(p.name for p in self.root.rglob("*") if p.is_file())

"""release.loopback: the one way servers run here (127.0.0.1, ephemeral port, daemon thread)."""

from __future__ import annotations

import threading

import pytest
import requests

from release.loopback import LoopbackHandler, LoopbackServer


class Echo(LoopbackHandler):
    def do_GET(self) -> None:
        self.send_body(200, self.path.encode(), headers=[("X-Echo", "yes")])


def test_serves_on_loopback_and_stops_cleanly() -> None:
    with LoopbackServer(Echo, name="echo") as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.running
        answer = requests.get(server.base_url + "/a/b?c=1", timeout=5)
        assert (answer.status_code, answer.text, answer.headers["X-Echo"]) == (
            200,
            "/a/b?c=1",
            "yes",
        )
        assert answer.headers["Content-Length"] == str(len("/a/b?c=1"))
        threads = {t.name for t in threading.enumerate()}
        assert f"echo:{server.port}" in threads
    assert not server.running
    assert f"echo:{server.port}" not in {t.name for t in threading.enumerate()}
    with pytest.raises(requests.ConnectionError):
        requests.get(server.base_url + "/", timeout=5)


def test_stop_is_idempotent_and_works_from_another_thread() -> None:
    server = LoopbackServer(Echo).start()
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    server.stop()
    assert not server.running


def test_a_request_can_stop_its_own_server() -> None:
    holder: list[LoopbackServer] = []

    class StopMe(LoopbackHandler):
        def do_GET(self) -> None:
            # Stop first, then answer: the client may read "bye" before a stop() that came
            # after it has run (the suite once saw exactly that race).
            holder[0].stop()
            self.send_body(200, b"bye")

    server = LoopbackServer(StopMe).start()
    holder.append(server)
    assert requests.get(server.base_url + "/", timeout=5).text == "bye"
    assert not server.running


def test_head_gets_headers_without_a_body() -> None:
    class Head(LoopbackHandler):
        def do_HEAD(self) -> None:
            self.send_body(200, b"twelve bytes")

    with LoopbackServer(Head) as server:
        answer = requests.head(server.base_url + "/", timeout=5)
    assert (answer.status_code, answer.headers["Content-Length"], answer.content) == (
        200,
        "12",
        b"",
    )


def test_misuse_is_an_error() -> None:
    server = LoopbackServer()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    with pytest.raises(TypeError, match="handler"):
        server.start()
    with LoopbackServer(Echo) as running, pytest.raises(RuntimeError, match="already started"):
        running.start()


class _Failing(LoopbackHandler):
    def do_GET(self) -> None:
        raise {"/reset": ConnectionResetError, "/pipe": BrokenPipeError}.get(self.path, KeyError)(
            self.path
        )


@pytest.mark.parametrize(("path", "printed"), [("/reset", False), ("/pipe", False), ("/bug", True)])
def test_a_client_that_hangs_up_prints_no_traceback(
    path: str, printed: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reset or a broken pipe is a client going away (socketserver would print a traceback
    for each, into the output of a rehearsal or a benchmark); any other error still shows."""
    with LoopbackServer(_Failing) as server, pytest.raises(requests.ConnectionError):
        requests.get(server.base_url + path, timeout=10)
    err = capsys.readouterr().err
    assert ("Traceback" in err) is printed, err

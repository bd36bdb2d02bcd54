"""gunicorn's Tornado worker (``gunicorn -k tornado``) on our stack.

The worker (gunicorn/workers/gtornado.py) imports ``tornado.web``,
``tornado.httpserver``, ``tornado.ioloop`` and ``tornado.wsgi`` -- ours --
and serves a ``tornado.web.Application`` directly, or any other WSGI
callable through ``WSGIContainer``.  It patches ``RequestHandler.clear`` to
add itself to the ``Server`` header, counts requests through
``HTTPServer.on_close`` (``--max-requests``), and stops with
``HTTPServer.stop`` and ``IOLoop.stop``.  Real gunicorn on a free port,
started as the deployment guide says.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WSGI_APP = '''\
"""A plain WSGI application, no Tornado in sight."""

import json


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "body": environ["wsgi.input"].read(length).decode(),
        "agent": environ.get("HTTP_USER_AGENT"),
        "scheme": environ["wsgi.url_scheme"],
    }
    body = json.dumps(answer).encode()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Wsgi", "yes")])
    return [body]
'''


class Gunicorn:
    """A running gunicorn: its port, the worker pids it booted, its log."""

    def __init__(self, proc: subprocess.Popen[str], port: int, workers: list[int]) -> None:
        self.proc = proc
        self.port = port
        self.workers = workers

    def next_worker(self) -> int:
        """Read the log until gunicorn boots one more worker; its pid."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            booted = re.search(r"Booting worker with pid: (\d+)", line)
            if booted:
                self.workers.append(int(booted.group(1)))
                return self.workers[-1]
        raise AssertionError(f"gunicorn exited with {self.proc.wait()}")


@pytest.fixture
def gunicorn(
    spawn: Callable[..., subprocess.Popen[str]], free_port: Callable[[], int]
) -> Iterator[Callable[..., Gunicorn]]:
    """Factory: ``gunicorn -k tornado ARGS... -b 127.0.0.1:PORT``, waiting
    for its workers to boot (connections made before a worker accepts wait
    in the listening socket's backlog).  Afterwards each is stopped with
    SIGTERM, as a supervisor does, and must exit cleanly with no error logged."""
    started: list[Gunicorn] = []

    def start(*args: str, workers: int = 1) -> Gunicorn:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "-k", "tornado", "-w", str(workers)]
        # No control socket: it would live in $HOME and be shared by runs.
        command += ["-b", f"127.0.0.1:{port}", "--no-control-socket", *args]
        proc = spawn(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = Gunicorn(proc, port, [])
        started.append(server)
        for _ in range(workers):
            server.next_worker()
        return server

    yield start
    for server in started:
        server.proc.terminate()
        assert server.proc.stderr is not None
        rest = server.proc.stderr.read()
        assert server.proc.wait() == 0, rest
        assert "Traceback" not in rest and "[ERROR]" not in rest, rest
        assert "Shutting down: Master" in rest, rest


def fetch(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: status, headers, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_gunicorn_serves_our_application(gunicorn: Callable[..., Gunicorn]) -> None:
    # The guide's command: gunicorn -k tornado --chdir demos/chat 'app:make_app()'
    server = gunicorn("--chdir", str(ROOT / "demos" / "chat"), "app:make_app()")
    status, headers, body = fetch(server.port, "GET", "/a/status")
    assert status == 200
    assert int(headers["X-Served-By"]) == server.workers[0]
    # gunicorn's worker patched our RequestHandler.clear to name itself.
    assert re.fullmatch(r"TornadoServer/\S+ \(Gunicorn/\S+\)", headers["Server"])
    assert json.loads(body)["pid"] == server.workers[0]
    status, headers, page = fetch(server.port, "GET", "/")
    assert status == 200 and b"/static/chat.js?v=" in page
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="_xsrf" value="([^"]+)"', page)
    assert token is not None
    form = urllib.parse.urlencode({"body": "via gunicorn", "_xsrf": token.group(1).decode()})
    status, _, posted = fetch(
        server.port,
        "POST",
        "/a/message/new",
        form,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and json.loads(posted)["body"] == "via gunicorn"
    assert json.loads(fetch(server.port, "GET", "/a/status")[2])["messages"] == 1


def test_gunicorn_serves_a_wsgi_app_through_our_wsgi_container(
    gunicorn: Callable[..., Gunicorn], tmp_path: Path
) -> None:
    (tmp_path / "plain_wsgi.py").write_text(WSGI_APP)
    # The guide's command: gunicorn -k tornado --chdir DIR plain_wsgi:app
    server = gunicorn("--chdir", str(tmp_path), "plain_wsgi:app")
    status, headers, body = fetch(
        server.port, "PUT", "/some/path?x=1&y=%20", "a body", {"User-Agent": "test/1"}
    )
    assert (status, headers["X-Wsgi"], headers["Content-Type"]) == (201, "yes", "text/plain")
    assert json.loads(body) == {
        "method": "PUT",
        "path": "/some/path",
        "query": "x=1&y=%20",
        "body": "a body",
        "agent": "test/1",
        "scheme": "http",
    }


def test_gunicorn_max_requests_restarts_the_worker(gunicorn: Callable[..., Gunicorn]) -> None:
    # --max-requests counts connections through HTTPServer.on_close: after
    # two, the worker stops itself and gunicorn boots a fresh one.
    server = gunicorn(
        "--max-requests", "2", "--chdir", str(ROOT / "demos" / "chat"), "app:make_app()"
    )
    first = server.workers[0]
    served = [int(fetch(server.port, "GET", "/a/status")[1]["X-Served-By"]) for _ in range(2)]
    assert served == [first, first]
    second = server.next_worker()
    assert second != first
    assert int(fetch(server.port, "GET", "/a/status")[1]["X-Served-By"]) == second


def test_gunicorn_workers_share_the_room_through_redis(
    redis_url: str, gunicorn: Callable[..., Gunicorn]
) -> None:
    # redis_url first: set up before gunicorn, so torn down after it.
    # The guide's command:
    #   gunicorn -k tornado -w 2 --chdir demos/chat 'app:make_app(redis="redis://...")'
    server = gunicorn(
        "--chdir", str(ROOT / "demos" / "chat"), f'app:make_app(redis="{redis_url}")', workers=2
    )
    # Find one keep-alive connection to each worker (where gunicorn's shared
    # socket hands a connection is the kernel's choice; bounded by count).
    conns: dict[int, http.client.HTTPConnection] = {}
    for _ in range(400):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", "/")
        response = conn.getresponse()
        page, pid = response.read(), int(response.headers["X-Served-By"])
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        if pid in conns:
            conn.close()
            continue
        conns[pid] = conn
        if len(conns) == 2:
            break
    assert set(conns) == set(server.workers), conns
    token = re.search(rb'name="_xsrf" value="([^"]+)"', page)
    assert token is not None
    form = {"_xsrf": token.group(1).decode()}
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    waiting, posting = (conns[pid] for pid in server.workers)
    waiting.request("POST", "/a/message/updates", urllib.parse.urlencode(form), headers)
    # Post only once the poll waits: ask that worker on a second connection.
    probe = _connection_to(server.port, server.workers[0])
    for _ in range(1000):
        probe.request("GET", "/a/status")
        if json.loads(probe.getresponse().read())["waiters"] == 1:
            break
    else:
        raise AssertionError("the poll never registered")
    posting.request(
        "POST", "/a/message/new", urllib.parse.urlencode({**form, "body": "across"}), headers
    )
    posted = json.loads(posting.getresponse().read())
    reply = waiting.getresponse()
    assert reply.status == 200
    assert json.loads(reply.read())["messages"] == [posted]
    for conn in (*conns.values(), probe):
        conn.close()


def _connection_to(port: int, pid: int) -> http.client.HTTPConnection:
    for _ in range(400):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/a/status")
        response = conn.getresponse()
        response.read()
        if int(response.headers["X-Served-By"]) == pid:
            return conn
        conn.close()
    raise AssertionError(f"no connection landed on {pid}")

"""Production recipes end to end: many processes, many hosts, nginx in front.

Every peer is real and runs as users run it: demos/chat/app.py as a
subprocess (forked workers included), redis-server on a free port without
persistence, nginx with a generated configuration.  Each answer of the demo
names the process that served it (the ``X-Served-By`` header, and ``pid``
in ``/a/status``), which is how the tests see where connections land.  The
commands are the ones the deployment guide in the README gives.
"""

from __future__ import annotations

import asyncio
import collections
import importlib.util
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis
import trustme

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

CHAT = Path(__file__).resolve().parents[1] / "demos" / "chat" / "app.py"

# The chat_demo, redis_url and free_port fixtures live in conftest.py.
StartDemo = Callable[..., Any]


class Reply:
    """One HTTP response, headers by lower-case name."""

    def __init__(self, code: int, headers: dict[str, list[str]], body: bytes) -> None:
        self.code = code
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def served_by(self) -> int:
        return int(self.headers["x-served-by"][0])


class Conn:
    """A keep-alive HTTP/1.1 connection over asyncio streams: the tests
    choose which connection (and so which process) carries each request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(
        cls, port: int, *, source: str | None = None, tls: ssl.SSLContext | None = None
    ) -> Conn:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            port,
            local_addr=(source, 0) if source else None,
            ssl=tls,
            server_hostname="127.0.0.1" if tls else None,
        )
        return cls(reader, writer)

    async def send(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> None:
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if form is not None:
            head.append("Content-Type: application/x-www-form-urlencoded")
            if chunked:
                # Three chunks of uneven sizes, then the last-chunk.
                head.append("Transfer-Encoding: chunked")
                third = len(body) // 3
                pieces = [body[:third], body[third : 2 * third], body[2 * third :]]
                body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
            else:
                head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()

    async def reply(self) -> Reply:
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status, *lines = head.strip().split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"][0]))
        elif "chunked" in headers.get("transfer-encoding", [""])[0]:
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
        else:
            body = b""
        return Reply(int(status.split()[1]), headers, body)

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        await self.send(method, path, **kwargs)
        return await self.reply()

    async def status(self) -> dict[str, Any]:
        reply = await self.request("GET", "/a/status")
        assert reply.code == 200, reply.body
        result: dict[str, Any] = reply.json()
        assert result["pid"] == reply.served_by
        return result

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


class Room:
    """A browser's credentials for the room (the xsrf cookie and token, which
    every process accepts), and the connections the test opened."""

    def __init__(self) -> None:
        self.cookie = ""
        self.token = ""
        self.conns: list[Conn] = []
        self.sockets: list[WebSocketClientConnection] = []

    async def connect(self, port: int, **kwargs: Any) -> Conn:
        conn = await Conn.open(port, **kwargs)
        self.conns.append(conn)
        return conn

    async def join(self, port: int, **kwargs: Any) -> str:
        """Load the page through a new connection; return its HTML."""
        conn = await self.connect(port, **kwargs)
        reply = await conn.request("GET", "/")
        assert reply.code == 200
        for header in reply.headers.get("set-cookie", []):
            if header.startswith("_xsrf="):
                self.cookie = header.split(";", 1)[0]
        match = re.search(r'name="_xsrf" value="([^"]+)"', reply.body.decode())
        assert match is not None and self.cookie
        self.token = match.group(1)
        return reply.body.decode()

    def credentials(self, **form: str) -> dict[str, Any]:
        return {"form": {"_xsrf": self.token, **form}, "headers": {"Cookie": self.cookie}}

    async def post(self, conn: Conn, body: str, **kwargs: Any) -> dict[str, Any]:
        reply = await conn.request(
            "POST", "/a/message/new", **self.credentials(body=body), **kwargs
        )
        assert reply.code == 200, reply.body
        message: dict[str, Any] = reply.json()
        return message

    async def start_poll(self, conn: Conn, cursor: str | None = None) -> None:
        extra = {"cursor": cursor} if cursor else {}
        await conn.send("POST", "/a/message/updates", **self.credentials(**extra))

    async def connection_to(self, port: int, pid: int) -> Conn:
        """A new connection that lands on process ``pid`` (others are closed)."""
        # Bounded by a count, not by time: where a connection lands is the
        # kernel's choice, and every worker takes a fair share.
        for _ in range(400):
            conn = await Conn.open(port)
            if (await conn.status())["pid"] == pid:
                self.conns.append(conn)
                return conn
            await conn.close()
        raise AssertionError(f"no connection landed on {pid}")

    async def socket_to(self, port: int, pid: int | None = None) -> WebSocketClientConnection:
        """A WebSocket to the room (on process ``pid`` if given)."""
        for _ in range(400):
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/a/message/socket")
            assert ws.headers is not None  # the handshake's response headers
            if pid is None or int(ws.headers["X-Served-By"]) == pid:
                self.sockets.append(ws)
                return ws
            ws.close()
            assert await ws.read_message() is None
        raise AssertionError(f"no WebSocket landed on {pid}")

    async def close(self) -> None:
        for ws in self.sockets:
            ws.close()
            # Wait for the closing handshake so nothing is left pending.
            while await ws.read_message() is not None:
                pass
        for conn in self.conns:
            await conn.close()


@pytest_asyncio.fixture
async def room() -> AsyncIterator[Room]:
    room = Room()
    yield room
    await room.close()


async def wait_status(conn: Conn, key: str, value: int) -> None:
    """Ask the process behind ``conn`` until its status ``key`` is ``value``."""
    for _ in range(1000):
        if (await conn.status())[key] == value:
            return
    raise AssertionError(f"{key} never reached {value}")


async def next_message(ws: WebSocketClientConnection) -> dict[str, Any]:
    raw = await ws.read_message()
    assert isinstance(raw, str), raw
    message: dict[str, Any] = json.loads(raw)
    return message


async def poll_result(conn: Conn) -> list[dict[str, Any]]:
    reply = await conn.reply()
    assert reply.code == 200, reply.body
    messages: list[dict[str, Any]] = reply.json()["messages"]
    return messages


# --- Many processes behind one port -----------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("count", "mode"),
    [(2, "shared socket"), (2, "--reuse-port"), (4, "--reuse-port")],
)
async def test_workers_behind_one_port_share_the_room(
    count: int, mode: str, redis_url: str, chat_demo: StartDemo, room: Room
) -> None:
    # The guide's command: python demos/chat/app.py --processes N [--reuse-port] --redis URL
    flags = ["--reuse-port"] if mode == "--reuse-port" else []
    demo = chat_demo("--processes", str(count), *flags, "--redis", redis_url)
    assert len(set(demo.pids)) == count and demo.proc.pid not in demo.pids

    # New connections spread over every worker.
    served: collections.Counter[int] = collections.Counter()
    for _ in range(50 * count):
        conn = await Conn.open(demo.port)
        served[(await conn.status())["pid"]] += 1
        await conn.close()
    assert set(served) == set(demo.pids), served

    # A long poll waits on every worker, and a WebSocket on the last one.
    await room.join(demo.port)
    polls = {pid: await room.connection_to(demo.port, pid) for pid in demo.pids}
    probes = {pid: await room.connection_to(demo.port, pid) for pid in demo.pids}
    for conn in polls.values():
        await room.start_poll(conn)
    for probe in probes.values():
        await wait_status(probe, "waiters", 1)
    ws = await room.socket_to(demo.port, demo.pids[-1])
    await wait_status(probes[demo.pids[-1]], "sockets", 1)

    # A post on the first worker reaches all of them.
    posted = await room.post(probes[demo.pids[0]], "hello from worker 0")
    for conn in polls.values():
        assert [m["id"] for m in await poll_result(conn)] == [posted["id"]]
    assert await next_message(ws) == posted

    # And a message sent over the WebSocket reaches every worker's polls.
    for conn in polls.values():
        await room.start_poll(conn, cursor=posted["id"])
    for probe in probes.values():
        await wait_status(probe, "waiters", 1)
    await ws.write_message(json.dumps({"body": "from the <socket>"}))
    echoed = await next_message(ws)
    assert echoed["body"] == "from the <socket>" and "&lt;socket&gt;" in echoed["html"]
    for conn in polls.values():
        assert await poll_result(conn) == [echoed]
    # Every worker keeps the same recent messages.
    for probe in probes.values():
        assert (await probe.status())["messages"] == 2


def test_one_process_per_cpu_with_processes_0(chat_demo: StartDemo) -> None:
    demo = chat_demo("--processes", "0")
    assert len(set(demo.pids)) == os.cpu_count()


@pytest.mark.asyncio
async def test_workers_stop_when_their_parent_exits(chat_demo: StartDemo) -> None:
    demo = chat_demo("--processes", "2")
    # SIGTERM to the parent alone, as a supervisor that signals one pid does.
    demo.proc.terminate()
    assert demo.proc.wait(timeout=20) == 0
    # The workers see their pipe to the parent close and exit.  They hold
    # the write end of the demo's stdout too: end-of-file there means every
    # one has exited (the timeout only guards against a hang).
    assert demo.proc.stdout is not None
    rest = await asyncio.wait_for(asyncio.to_thread(demo.proc.stdout.read), 30)
    assert rest == ""
    with pytest.raises(ConnectionError):
        await Conn.open(demo.port)


# --- Separate hosts sharing one Redis ---------------------------------------


@pytest.mark.asyncio
async def test_two_hosts_share_the_room_through_redis(
    redis_url: str, chat_demo: StartDemo, room: Room
) -> None:
    # Two "hosts": separate processes on separate ports, one Redis.
    a = chat_demo("--redis", redis_url)
    b = chat_demo("--redis", redis_url)
    assert a.port != b.port
    await room.join(a.port)
    poll_b, probe_b = await room.connect(b.port), await room.connect(b.port)
    await room.start_poll(poll_b)
    ws_b = await room.socket_to(b.port)
    await wait_status(probe_b, "waiters", 1)
    await wait_status(probe_b, "sockets", 1)

    on_a = await room.connect(a.port)
    posted = await room.post(on_a, "posted on host a")
    assert await poll_result(poll_b) == [posted]
    assert await next_message(ws_b) == posted

    # A host that joins later loads the shared recent messages: its page
    # shows them and it knows the cursor, so its poll waits for what is new.
    c = chat_demo("--redis", redis_url)
    page = await room.join(c.port)
    assert "posted on host a" in page
    poll_c, probe_c = await room.connect(c.port), await room.connect(c.port)
    await room.start_poll(poll_c, cursor=posted["id"])
    await wait_status(probe_c, "waiters", 1)
    await ws_b.write_message(json.dumps({"body": "from b's socket"}))
    from_b = await next_message(ws_b)
    assert await poll_result(poll_c) == [from_b]

    # The shared list is capped like the in-memory cache (200 messages).
    for n in range(200):
        await room.post(on_a, f"filler {n}")
    shared = redis.Redis.from_url(redis_url)
    try:
        assert shared.llen("chat:recent") == 200
        assert json.loads(shared.lindex("chat:recent", -1) or b"")["body"] == "filler 199"
    finally:
        shared.close()
    for probe in (probe_b, probe_c):
        assert (await probe.status())["messages"] == 200


def test_a_process_exits_when_redis_goes_away(
    tmp_path: Path,
    peer_binary: Callable[[str], str],
    spawn: Callable[..., subprocess.Popen[str]],
    free_port: Callable[[], int],
) -> None:
    # Not through chat_demo: this run is expected to log an error.
    port = free_port()
    server = spawn(
        [
            *(peer_binary("redis-server"), "--port", str(port), "--bind", "127.0.0.1"),
            *("--dir", str(tmp_path), "--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.PIPE,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if "Ready to accept connections" in line:
            break
    demo = spawn(
        [sys.executable, str(CHAT), "--port", "0", "--redis", f"redis://127.0.0.1:{port}/0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert demo.stdout is not None and demo.stderr is not None
    assert demo.stdout.readline().startswith("serving on ")
    server.terminate()
    # A process whose bus is gone stops serving and exits non-zero, so
    # fork_processes or a supervisor restarts it.
    assert demo.wait(timeout=60) != 0
    err = demo.stderr.read()
    assert "the Redis subscription ended" in err and "the message bus failed" in err, err


@pytest.mark.asyncio
async def test_without_redis_hosts_do_not_share(chat_demo: StartDemo, room: Room) -> None:
    # The control: the in-memory bus (the default) stays in its process.
    a, b = chat_demo(), chat_demo()
    await room.join(a.port)
    await room.post(await room.connect(a.port), "only on a")
    assert (await (await room.connect(a.port)).status())["messages"] == 1
    assert (await (await room.connect(b.port)).status())["messages"] == 0


# --- nginx in front ---------------------------------------------------------


class Nginx:
    """A running nginx: its plain and TLS ports and a client TLS context."""

    def __init__(
        self, port: int, tls_port: int, plain_port: int, client_tls: ssl.SSLContext
    ) -> None:
        #: Proxies to the two --xheaders demos.
        self.port = port
        #: The same over TLS.
        self.tls_port = tls_port
        #: Proxies to a demo without --xheaders (the control).
        self.plain_port = plain_port
        self.client_tls = client_tls


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log stderr notice;
{user}
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    # WebSocket upgrades pass through; other requests close the upstream
    # connection as usual.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream chat {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    upstream plain {{
        server 127.0.0.1:{plain};
    }}

    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        client_max_body_size 8m;

        location / {{
            proxy_pass http://chat;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # Long polls and WebSockets stay open longer than the default 60 s.
            proxy_read_timeout 1h;
        }}
    }}
    server {{
        listen 127.0.0.1:{plain_port};
        location / {{
            proxy_pass http://plain;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@pytest.fixture
def nginx(
    tmp_path: Path,
    redis_url: str,
    chat_demo: StartDemo,
    free_port: Callable[[], int],
    peer_binary: Callable[[str], str],
    spawn: Callable[..., subprocess.Popen[str]],
) -> Iterator[Nginx]:
    """nginx with a generated configuration in front of two --xheaders demos
    sharing Redis (and of a third one without --xheaders)."""
    binary = peer_binary("nginx")
    a = chat_demo("--redis", redis_url, "--xheaders")
    b = chat_demo("--redis", redis_url, "--xheaders")
    plain = chat_demo("--redis", redis_url)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    port, tls_port, plain_port = free_port(), free_port(), free_port()
    # As root nginx would hand its workers to "nobody", who cannot enter the
    # test's private temporary folder.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp_path,
            user=user,
            a=a.port,
            b=b.port,
            plain=plain.port,
            port=port,
            tls_port=tls_port,
            plain_port=plain_port,
        )
    )
    # The guide's command: nginx -p DIR -c DIR/nginx.conf -e stderr
    proc = spawn(
        [binary, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines = []
    # nginx logs this notice once its sockets listen and a worker runs.
    for line in proc.stderr:
        lines.append(line)
        if "start worker process" in line:
            break
    else:
        pytest.fail(f"nginx exited with {proc.wait()}: " + "".join(lines))
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    yield Nginx(port, tls_port, plain_port, client_tls)
    # Whatever nginx logged after starting: an upstream error would show here.
    proc.terminate()
    rest = proc.stderr.read()
    assert "[error]" not in rest and "[crit]" not in rest and "[alert]" not in rest, rest


@pytest.mark.asyncio
async def test_nginx_balances_over_the_processes(nginx: Nginx, room: Room) -> None:
    # Round robin: nginx opens one upstream connection per request.
    conn = await room.connect(nginx.port)
    served = collections.Counter([(await conn.status())["pid"] for _ in range(10)])
    assert len(served) == 2 and set(served.values()) == {5}, served


@pytest.mark.asyncio
async def test_nginx_xheaders_give_the_client_address_and_scheme(nginx: Nginx, room: Room) -> None:
    # The client connects from 127.0.0.2 (loopback, but not nginx's own
    # address toward the upstream, 127.0.0.1) and tries to spoof its address.
    spoof = {"X-Forwarded-For": "198.51.100.9"}
    conn = await room.connect(nginx.port, source="127.0.0.2")
    for _ in range(2):  # both upstream processes
        reply = await conn.request("GET", "/a/status", headers=spoof)
        assert (reply.json()["remote_ip"], reply.json()["protocol"]) == ("127.0.0.2", "http")
    tls = await room.connect(nginx.tls_port, source="127.0.0.2", tls=nginx.client_tls)
    status = await tls.status()
    assert (status["remote_ip"], status["protocol"]) == ("127.0.0.2", "https")
    # Without --xheaders the demo sees nginx itself, whatever the headers say.
    plain = await room.connect(nginx.plain_port, source="127.0.0.2")
    status = await plain.status()
    assert (status["remote_ip"], status["protocol"]) == ("127.0.0.1", "http")


@pytest.mark.asyncio
async def test_nginx_long_poll_and_websocket_through_the_proxy(nginx: Nginx, room: Room) -> None:
    await room.join(nginx.port)
    poll = await room.connect(nginx.port)
    await room.start_poll(poll)
    # The WebSocket upgrade goes through the proxy too (to either process).
    ws = await room.socket_to(nginx.port)
    # Statuses through nginx alternate over both processes: wait until the
    # poll and the socket are registered wherever they landed.
    probe = await room.connect(nginx.port)
    for _ in range(1000):
        one, two = await probe.status(), await probe.status()
        if one["waiters"] + two["waiters"] == 1 and one["sockets"] + two["sockets"] == 1:
            break
    else:
        raise AssertionError("the poll and the socket never registered")
    posted = await room.post(probe, "through nginx")
    assert await poll_result(poll) == [posted]
    assert await next_message(ws) == posted
    await ws.write_message(json.dumps({"body": "socket through nginx"}))
    assert (await next_message(ws))["body"] == "socket through nginx"


@pytest.mark.asyncio
@pytest.mark.parametrize("chunked", [False, True])
async def test_nginx_passes_request_bodies(nginx: Nginx, room: Room, chunked: bool) -> None:
    await room.join(nginx.port)
    conn = await room.connect(nginx.port)
    # ~550 kB (get_argument strips surrounding whitespace: none here).
    body = "\n".join(f"line {n} of a long message" for n in range(20000))
    message = await room.post(conn, body, chunked=chunked)
    assert message["body"] == body
    # Over TLS as well.
    tls = await room.connect(nginx.tls_port, tls=nginx.client_tls)
    assert (await room.post(tls, body[::-1], chunked=chunked))["body"] == body[::-1]


@pytest.mark.asyncio
async def test_websocket_through_nginx_over_tls(nginx: Nginx, room: Room) -> None:
    request = HTTPRequest(
        f"wss://127.0.0.1:{nginx.tls_port}/a/message/socket", ssl_options=nginx.client_tls
    )
    ws = await websocket_connect(request)
    room.sockets.append(ws)
    await ws.write_message(json.dumps({"body": "wss"}))
    assert (await next_message(ws))["body"] == "wss"


# --- The deployment guide says what these tests run ---------------------------

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "deployment.md"


def _guide_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), re.DOTALL)


def test_guide_demo_commands_parse() -> None:
    spec = importlib.util.spec_from_file_location("chat_demo_for_guide", CHAT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commands = [
        line.split("#")[0].replace("...", "")
        for block in _guide_blocks("sh")
        for line in block.splitlines()
        if line.startswith("python demos/chat/app.py")
    ]
    assert len(commands) >= 4
    for command in commands:
        args = module.make_parser().parse_args(shlex.split(command)[2:])
        assert args.port in (8888, 8001), command


def test_guide_nginx_configuration_is_the_tested_one() -> None:
    (guide,) = _guide_blocks("nginx")
    tested = {
        line.strip() for line in NGINX_CONF.replace("{{", "{").replace("}}", "}").splitlines()
    }
    # Every line of the guide's configuration is in the one the tests run,
    # except the ports and certificate paths, which the tests choose.
    variable = re.compile(r"(server|listen) 127\.0\.0\.1:\d+|ssl_certificate")
    for line in guide.splitlines():
        if line.strip() and not variable.match(line.strip()):
            assert line.strip() in tested, line


# --- Graceful drain on SIGTERM ----------------------------------------------


@pytest.mark.asyncio
async def test_sigterm_drains_the_chat_demo(chat_demo: StartDemo, room: Room) -> None:
    demo = chat_demo("--grace", "1")
    await room.join(demo.port)
    poster = await room.connect(demo.port)
    latest = await room.post(poster, "before the signal")
    # A long poll that waits (it has the latest message), a WebSocket and an
    # idle keep-alive connection are open when the signal comes.
    poll = await room.connect(demo.port)
    await room.start_poll(poll, cursor=latest["id"])
    await wait_status(poster, "waiters", 1)
    ws = await websocket_connect(f"ws://127.0.0.1:{demo.port}/a/message/socket")
    os.kill(demo.proc.pid, signal.SIGTERM)
    # The WebSocket (which first gets the room's history) is told the
    # server is going away ...
    while await ws.read_message() is not None:
        pass
    assert ws.close_code == 1001
    # ... new connections are refused from then on ...
    with pytest.raises(ConnectionRefusedError):
        await Conn.open(demo.port)
    # ... the idle connection is closed at once, and the waiting poll is cut
    # at the deadline (--grace 1).
    assert await poster.reader.read() == b""
    assert await poll.reader.read() == b""
    assert await asyncio.to_thread(demo.proc.wait, 20) == 0
    assert demo.proc.stdout is not None
    assert re.search(r"drained: 1 finished, 1 cut", demo.proc.stdout.read())

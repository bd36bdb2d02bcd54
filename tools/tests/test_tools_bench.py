"""``tools bench``: the option parser, the table, wrk's output, and every
benchmark server answering real requests on 127.0.0.1 (no figures asserted)."""

from __future__ import annotations

import http.client
import importlib.util
import json
import shutil
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tools.__main__ import main as tools_main
from tools.bench import matrix
from tools.bench.matrix import Cell, Options, Side

ROOT = Path(__file__).resolve().parents[2]


def ours(env: dict[str, str] | None = None) -> Side:
    """Our tornado from this interpreter (the workspace environment)."""
    return Side(
        "speedups", "ours speedups", "tornado", sys.executable, matrix._clean_env(**(env or {}))
    )


def request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --- options ------------------------------------------------------------------


def test_defaults_run_the_whole_matrix() -> None:
    suites, opts = matrix.parse_options([])
    assert suites == ["matrix"]
    assert opts.workloads == list(matrix.WORKLOAD_SPECS)
    assert opts.servers == list(matrix.SIDE_KEYS)
    assert opts.loops == ["asyncio", "uvloop"]
    assert (opts.rounds, opts.duration, opts.memory_connections) == (2, 5, 10_000)
    assert opts.pin


def test_quick_shrinks_and_explicit_options_win() -> None:
    _, opts = matrix.parse_options(["--quick"])
    assert (opts.rounds, opts.duration, opts.memory_connections, opts.import_runs) == (
        1,
        2,
        1000,
        5,
    )
    suites, opts = matrix.parse_options(
        [
            "--quick",
            "--rounds=3",
            "--duration",
            "7",
            "--workloads",
            "hello,idle",
            "--servers=pure,raw",
            "--loops",
            "uvloop",
            "--memory-connections",
            "50",
            "--no-pin",
            "template",
        ]
    )
    assert suites == ["template"]
    assert (opts.rounds, opts.duration, opts.memory_connections) == (3, 7, 50)
    assert opts.workloads == ["hello", "idle"]
    assert opts.servers == ["pure", "raw"]
    assert opts.loops == ["uvloop"]
    assert not opts.pin


@pytest.mark.parametrize(
    "argv",
    [
        ["--workloads", "hello,nope"],
        ["--servers", "tornado"],
        ["--loops", "trio"],
        ["--rounds", "0"],
        ["--duration", "x"],
    ],
)
def test_bad_options_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        matrix.parse_options(argv)
    assert info.value.code == 2
    assert "tools bench" in capsys.readouterr().err


def test_cli_passes_options_to_bench_and_still_refuses_them_elsewhere(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        tools_main(["--root", str(ROOT), "bench", "--servers", "nobody"])
    assert info.value.code == 2
    assert "nobody" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tools_main(["--root", str(ROOT), "check", "--quick"])
    assert "unrecognized arguments: --quick" in capsys.readouterr().err
    assert tools_main(["--root", str(ROOT), "bench", "no-such-suite"]) == 2
    assert "unknown suite" in capsys.readouterr().out


# --- the table ----------------------------------------------------------------


def sides_for_table() -> list[Side]:
    return [
        Side("upstream", "upstream 6.6.1", "tornado"),
        Side("pure", "ours pure", "tornado"),
        Side("speedups", "ours speedups", "tornado"),
        Side("aiohttp", "aiohttp 9", "aiohttp", peer=True),
        Side("uvicorn", "uvicorn 1 + Starlette 2", "uvicorn", peer=True, unavailable="no wheel"),
        Side("raw", "raw asyncio Protocol", "raw"),
    ]


def test_table_has_medians_ratios_and_reasons() -> None:
    results: matrix.Results = {
        ("idle", "asyncio"): {
            "upstream": Cell([10.0]),
            "pure": Cell([6.0]),
            "speedups": Cell([5.0]),
            "aiohttp": Cell([8.0]),
            "uvicorn": Cell(reason="no wheel"),
            "raw": Cell([1.0]),
        },
        ("hello", "uvloop"): {
            "upstream": Cell([900.0, 1000.0, 5000.0]),
            "pure": Cell([3000.0, 3000.0]),
            "speedups": Cell([4000.0]),
            "aiohttp": Cell([2000.0]),
            "uvicorn": Cell(reason="no wheel"),
            "raw": Cell([90000.0]),
        },
        ("import", ""): {
            "upstream": Cell([100.0]),
            "pure": Cell([70.0]),
            "speedups": Cell([80.0]),
            "aiohttp": Cell(reason="-"),
            "uvicorn": Cell(reason="no wheel"),
            "raw": Cell(reason="-"),
        },
    }
    text = matrix.format_table(results, sides_for_table(), Options())
    lines = text.splitlines()
    assert lines[0].startswith("| workload | loop | upstream 6.6.1 | ours pure | ours speedups |")
    assert "pure ÷ upstream" in lines[0] and "speedups ÷ best peer" in lines[0]
    assert set(lines[1]) == {"|", "-"}
    # Rows come in workload order (hello before the memory rows), whatever the dict order.
    hello, idle, imports = lines[2], lines[3], lines[4]
    cells = [c.strip() for c in hello.strip("|").split("|")]
    # median of 900, 1000, 5000 is 1000; ours 4000 / 1000 = 4x; aiohttp is the only peer.
    assert cells[:8] == [
        "RequestHandler hello world (keep-alive), req/s",
        "uvloop",
        "1,000",
        "3,000",
        "4,000",
        "2,000",
        "n/a (no wheel)",
        "90,000",
    ]
    assert cells[8:] == ["3.00x", "4.00x", "1.50x (aiohttp)", "2.00x (aiohttp)"]
    cells = [c.strip() for c in idle.strip("|").split("|")]
    assert cells[2:6] == ["10.0", "6.0", "5.0", "8.0"]
    assert cells[8:] == ["0.60x", "0.50x", "0.75x (aiohttp)", "0.62x (aiohttp)"]
    cells = [c.strip() for c in imports.strip("|").split("|")]
    assert cells[1] == "-" and cells[5] == "-" and cells[7] == "-"
    assert cells[8:10] == ["0.70x", "0.80x"]


def test_best_peer_is_the_fastest_for_rates_and_the_smallest_for_memory() -> None:
    sides = sides_for_table()
    sides[4].unavailable = ""
    results: matrix.Results = {
        ("hello", "asyncio"): {
            "speedups": Cell([100.0]),
            "aiohttp": Cell([50.0]),
            "uvicorn": Cell([200.0]),
        },
        ("longpoll", "asyncio"): {
            "speedups": Cell([9.0]),
            "aiohttp": Cell([12.0]),
            "uvicorn": Cell([6.0]),
        },
    }
    lines = matrix.format_table(results, sides, Options()).splitlines()
    assert lines[2].endswith("| 0.50x (uvicorn) |")
    assert lines[3].endswith("| 1.50x (uvicorn) |")


def test_describe_says_how_it_ran_and_that_it_is_noisy() -> None:
    text = matrix.describe(
        Options(), sides_for_table(), ["uvicorn: n/a, no wheel"], 20000, (3.25, 1.5)
    )
    assert "taskset" in text and "median of 2 round(s)" in text
    assert "3.2 at the start, 1.5 at the end" in text
    assert "noisy" in text
    assert "- uvicorn: n/a, no wheel" in text


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:41234/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  300.00us   9.00ms   90.00%
    Req/Sec    23.91k     1.00k   25.00k    80.00%
  119020 requests in 5.00s, 17.15MB read
  Socket errors: connect 0, read 3, write 1, timeout 0
  Non-2xx or 3xx responses: 7
Requests/sec:  23802.61
Transfer/sec:      3.43MB
"""


def test_parse_wrk() -> None:
    r = matrix.parse_wrk(WRK_OUTPUT)
    assert (r.rate, r.requests, r.socket_errors, r.non_2xx) == (23802.61, 119020, 4, 7)
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    assert matrix.parse_wrk(clean).socket_errors == 0
    with pytest.raises(ValueError, match="cannot read wrk output"):
        matrix.parse_wrk("wrk: connection refused")


# --- the servers, one real request each ----------------------------------------------


def check_full_app(port: int) -> None:
    """Every path of the ``full`` app answers what the workloads expect."""
    status, headers, body = request(port, "GET", "/")
    assert (status, body) == (200, b"Hello, world")
    status, headers, body = request(port, "GET", "/json")
    assert status == 200 and json.loads(body)["count"] == 20
    status, headers, body = request(port, "GET", "/page")
    assert status == 200 and body.count(b"<tr") == 20 and b"&lt;3&gt;" in body
    status, headers, body = request(port, "POST", "/upload", b"x" * 65536)
    assert (status, body) == (200, b"65536")
    status, headers, body = request(port, "GET", "/stream")
    assert status == 200 and headers.get("transfer-encoding") == "chunked"
    assert body == b"x" * 1024 * 16
    assert request(port, "GET", "/count")[2] == b"0"


SERVER_CASES = [
    ("tornado", {}, "asyncio"),
    ("tornado", {"TORNADO_NO_SPEEDUPS": "1"}, "asyncio"),
    ("tornado", {}, "uvloop"),
    ("raw", {}, "asyncio"),
    ("raw", {}, "uvloop"),
]


@pytest.mark.parametrize(("server", "env", "loop"), SERVER_CASES)
def test_our_servers_answer_every_workload(server: str, env: dict[str, str], loop: str) -> None:
    side = ours(env)
    side.server = server
    with matrix.server_process(side, loop, "full", pin=False) as (_, port):
        if server == "raw":
            # Canned replies: only the framing is real.
            assert request(port, "GET", "/")[2] == b"Hello, world"
            assert request(port, "POST", "/upload", b"x" * 65536)[2] == b"65536"
            assert request(port, "GET", "/stream")[2] == b"x" * 1024 * 16
            assert json.loads(request(port, "GET", "/json")[2])["count"] == 20
        else:
            check_full_app(port)
    with matrix.server_process(side, loop, "bare", pin=False) as (_, port):
        assert request(port, "GET", "/")[:3:2] == (200, b"Hello, world")


def test_connection_close_is_honoured_by_the_raw_ceiling() -> None:
    side = ours()
    side.server = "raw"
    with matrix.server_process(side, "asyncio", "full", pin=False) as (_, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/", headers={"Connection": "close"})
        response = conn.getresponse()
        assert response.getheader("Connection") == "close"
        assert response.read() == b"Hello, world"
        conn.close()


PEER_PYTHON = matrix.cache_dir() / f"peers-py{matrix._pyver()}" / "bin" / "python"


@pytest.mark.skipif(
    not PEER_PYTHON.exists(), reason="no peers environment in the cache (hatch run bench makes it)"
)
@pytest.mark.parametrize("server", ["aiohttp", "uvicorn"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_peer_servers_answer_every_workload(server: str, loop: str) -> None:
    side = Side(server, server, server, str(PEER_PYTHON), matrix._clean_env())
    with matrix.server_process(side, loop, "full", pin=False) as (_, port):
        check_full_app(port)
    with matrix.server_process(side, loop, "bare", pin=False) as (_, port):
        assert request(port, "GET", "/")[:3:2] == (200, b"Hello, world")


def test_a_server_that_cannot_start_says_why() -> None:
    side = Side("x", "x", "aiohttp", sys.executable, matrix._clean_env())
    if importlib.util.find_spec("aiohttp") is not None:
        pytest.skip("aiohttp is importable here")
    with (
        pytest.raises(matrix.ServerError, match=r"server did not start: .*aiohttp"),
        matrix.server_process(side, "asyncio", "full", pin=False),
    ):
        pass


@pytest.mark.parametrize("mode", ["idle", "longpoll"])
def test_memory_case_holds_every_connection(mode: str) -> None:
    # measure_memory waits until the server reports every long poll waiting
    # (or the client every keep-alive answer read): it fails if one is lost.
    per_connection = matrix.measure_memory(
        ours(), "asyncio", matrix.WORKLOAD_SPECS[mode], 40, pin=False, settle=0
    )
    assert isinstance(per_connection, float)


def test_memory_case_on_the_raw_ceiling() -> None:
    side = ours()
    side.server = "raw"
    spec = matrix.WORKLOAD_SPECS["longpoll"]
    assert isinstance(matrix.measure_memory(side, "uvloop", spec, 40, pin=False, settle=0), float)


def test_import_row_times_a_fresh_interpreter() -> None:
    assert matrix.measure_import(ours(), 1, pin=False, modules=("tornado.web",)) > 0
    with pytest.raises(matrix.ServerError, match="import failed"):
        matrix.measure_import(ours(), 1, pin=False, modules=("tornado.no_such_module",))


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_one_matrix_cell_end_to_end() -> None:
    opts = Options(
        rounds=1,
        duration=1,
        workloads=["close", "import"],
        servers=["raw"],
        loops=["asyncio"],
        pin=False,
    )
    sides = [ours()]
    sides[0].server = "raw"
    sides[0].key = "raw"
    notes: list[str] = []
    results = matrix.run_matrix(opts, sides, notes)
    cell = results[("close", "asyncio")]["raw"]
    assert cell.reason == "" and len(cell.samples) == 1 and cell.samples[0] > 0
    assert notes == []  # the ceiling answers `Connection: close` without socket errors
    assert results[("import", "")]["raw"].reason == "-"


def test_import_problem_names_the_missing_module() -> None:
    assert matrix.import_problem(sys.executable, ("json", "tornado.web")) == ""
    problem = matrix.import_problem(sys.executable, ("json", "no_such_peer_module"))
    assert "No module named 'no_such_peer_module'" in problem


def test_our_columns_run_the_parser_they_are_named_after() -> None:
    sides, notes = matrix.prepare_sides(["pure", "speedups", "raw"], ROOT)
    assert [s.key for s in sides] == ["pure", "speedups", "raw"]
    assert all(not s.unavailable for s in sides), [s.unavailable for s in sides]
    assert sides[0].env["TORNADO_NO_SPEEDUPS"] == "1"
    assert "TORNADO_NO_SPEEDUPS" not in sides[1].env
    assert not [n for n in notes if "SPEEDUPS" in n or "cannot tell" in n], notes
    assert any(n.startswith("versions: ours tornado-http ") for n in notes), notes


def load_apps() -> ModuleType:
    """`workloads/http_apps.py` as a module (it is a script, not a package member)."""
    spec = importlib.util.spec_from_file_location("bench_http_apps", matrix.APPS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_listening_socket_lets_asyncio_disable_nagle() -> None:
    # With proto 0 asyncio leaves TCP_NODELAY off on accepted sockets and
    # uvicorn on the default loop answers one request per delayed ACK.
    sock = load_apps().listening_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname())
        sock.setblocking(True)
        accepted, _ = sock.accept()
        with client, accepted:
            assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_import_row_takes_one_sample_per_run_for_each_side() -> None:
    pure = ours({"TORNADO_NO_SPEEDUPS": "1"})
    pure.key, pure.imports = "pure", True
    speedups = ours()
    speedups.imports = True
    opts = Options(workloads=["import"], servers=["pure", "speedups"], import_runs=3, pin=False)
    results = matrix.run_matrix(opts, [pure, speedups], [])
    row = results[("import", "")]
    assert [len(row[k].samples) for k in ("pure", "speedups")] == [3, 3]
    assert all(sample > 0 for k in ("pure", "speedups") for sample in row[k].samples)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # Field 5 of /proc/PID/stat is the process group (after the
                # parenthesised command name, which may hold spaces).
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


@pytest.mark.parametrize("processes", [1, 2])
def test_processes_suite_serves_with_its_workers(processes: int) -> None:
    import os
    import signal
    import subprocess
    import time

    script = ROOT / "tools" / "bench" / "workloads" / "processes_scaling.py"
    server = subprocess.Popen(
        [sys.executable, str(script), "serve", str(processes)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=script.parent,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/")
                response = connection.getresponse()
                break
            except ConnectionError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.05)
        assert (response.status, response.read()) == (200, b"Hello, world")
        connection.close()
        # The parent and, when forked, one worker per process.
        expected = 1 if processes == 1 else processes + 1
        while len(_group_members(server.pid)) != expected:
            assert time.monotonic() < deadline, _group_members(server.pid)
            time.sleep(0.05)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        assert server.stdout is not None
        server.stdout.close()


def test_processes_suite_is_a_runner_suite() -> None:
    from tools.bench.runner import SUITES

    (workload,) = SUITES["processes"]
    assert workload.script == "processes_scaling.py"
    assert (ROOT / "tools" / "bench" / "workloads" / workload.script).exists()


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) not installed")
@pytest.mark.parametrize("kind", ["ours-h2", "ours-h1", "hypercorn"])
def test_http2_suite_servers_answer_h2load(kind: str) -> None:
    import os
    import signal

    workloads = ROOT / "tools" / "bench" / "workloads"
    spec = importlib.util.spec_from_file_location("http2_servers", workloads / "http2_servers.py")
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(workloads))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # At least one request per connection of the HTTP/1.1 case.
        module.REQUESTS = 200  # type: ignore[attr-defined]
        proc, port = module.start(kind)
        try:
            # h2load itself checks that every request succeeded.
            assert module.h2load(port, http1=kind == "ours-h1") > 0
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    finally:
        sys.path.remove(str(workloads))

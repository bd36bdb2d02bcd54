"""Open many HTTP connections to a server and hold them: the memory workloads' client.

Usage::

    python hold_client.py PORT COUNT MODE

MODE ``idle``: each connection sends one keep-alive ``GET /`` and reads the
whole answer, so the server holds COUNT idle keep-alive connections.  MODE
``wait``: each connection sends ``GET /wait`` (a long poll that never
answers), so the server holds COUNT waiting requests.

At most CONCURRENCY connects are in flight at once, so the listen backlog
never overflows into SYN retries.  When every connection is in place the
client prints one JSON line (``{"held": COUNT}``) and keeps them open until
its standard input closes, then exits.  Standard library only; the process
needs COUNT file descriptors (the runner raises RLIMIT_NOFILE).
"""

from __future__ import annotations

import asyncio
import json
import sys

CONCURRENCY = 200


async def open_one(port: int, mode: str, gate: asyncio.Semaphore) -> asyncio.StreamWriter:
    """One connection in the state MODE asks for; returns its writer (kept open)."""
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        path = "/" if mode == "idle" else "/wait"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        if mode == "idle":
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head!r}")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
        else:
            await writer.drain()
        # Keep a reference to the reader: it owns the receive side.
        writer._bench_reader = reader  # type: ignore[attr-defined]
        return writer


async def main(port: int, count: int, mode: str) -> None:
    """Open, report, hold until stdin closes, close."""
    if mode not in ("idle", "wait"):
        raise SystemExit(f"unknown mode {mode!r}")
    gate = asyncio.Semaphore(CONCURRENCY)
    writers = await asyncio.gather(*(open_one(port, mode, gate) for _ in range(count)))
    print(json.dumps({"held": len(writers)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for writer in writers:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))

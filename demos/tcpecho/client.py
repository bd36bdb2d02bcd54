"""TCP echo client: sends each message as a line and prints what comes back.

``hatch run python demos/tcpecho/client.py --port 8889 hello world``
prints ``hello`` and ``world``.  With ``--count N`` it also sends N
numbered lines and checks every echo (exit status 1 on a mismatch).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tornado.tcpclient import TCPClient


async def run(host: str, port: int, messages: list[str], count: int) -> int:
    """Send the messages (and ``count`` numbered lines); return an exit status."""
    stream = await TCPClient().connect(host, port)
    try:
        for message in messages:
            await stream.write(message.encode() + b"\n")
            reply = await stream.read_until(b"\n")
            print(reply.decode().rstrip("\n"))
        for i in range(count):
            expected = b"line %d\n" % i
            await stream.write(expected)
            if await stream.read_until(b"\n") != expected:
                print(f"bad echo for line {i}", file=sys.stderr)
                return 1
        if count:
            print(f"{count} lines echoed")
    finally:
        stream.close()
    return 0


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the client."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8889)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("messages", nargs="*")
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(run(args.host, args.port, args.messages, args.count)))


if __name__ == "__main__":
    main()

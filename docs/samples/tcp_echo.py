"""A TCP echo server and a client talking to it, in one process."""

# output: echoed: hello
# output: echoed: world

import asyncio

from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpclient import TCPClient
from tornado.tcpserver import TCPServer


class EchoServer(TCPServer):
    async def handle_stream(self, stream: IOStream, address: tuple[str, int]) -> None:
        try:
            while True:
                line = await stream.read_until(b"\n")
                await stream.write(line)
        except StreamClosedError:
            pass  # the client went away


async def main() -> None:
    sockets = bind_sockets(0, "127.0.0.1")  # port 0: any free port
    port = sockets[0].getsockname()[1]
    server = EchoServer()
    server.add_sockets(sockets)

    stream = await TCPClient().connect("127.0.0.1", port)
    for word in ("hello", "world"):
        await stream.write(word.encode() + b"\n")
        reply = await stream.read_until(b"\n")
        print("echoed:", reply.decode().strip())
    stream.close()
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())

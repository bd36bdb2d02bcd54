"""A WebSocket echo handler and the WebSocket client, in one process."""

# output: opened
# output: reply: echo: hello
# output: reply: echo: world
# output: closed with code 1000

import asyncio

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application
from tornado.websocket import WebSocketHandler, websocket_connect


class EchoWebSocket(WebSocketHandler):
    def open(self) -> None:
        print("opened")

    async def on_message(self, message: str | bytes) -> None:
        await self.write_message(f"echo: {message!s}")

    def on_close(self) -> None:
        # The client's close code and reason are known here.
        print("closed with code", self.close_code)


async def main() -> None:
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    server = HTTPServer(Application([(r"/ws", EchoWebSocket)]))
    server.add_sockets(sockets)

    conn = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
    for word in ("hello", "world"):
        await conn.write_message(word)
        print("reply:", await conn.read_message())
    conn.close(1000)
    # read_message returns None once the connection is closed.
    while await conn.read_message() is not None:
        pass
    server.stop()
    await server.close_all_connections()


if __name__ == "__main__":
    asyncio.run(main())

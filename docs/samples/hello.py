"""Hello, world: the smallest web application.

Run it with ``python hello.py [PORT]`` and open http://127.0.0.1:8888/.
"""

# expect: GET / -> Hello, world
# expect: GET /greet/Ada -> Hello, Ada

import asyncio
import sys

from tornado.web import Application, RequestHandler


class MainHandler(RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class GreetHandler(RequestHandler):
    def get(self, name: str) -> None:
        # The path argument is the regex group of the route.
        self.write(f"Hello, {name}")


def make_app() -> Application:
    return Application([(r"/", MainHandler), (r"/greet/([^/]+)", GreetHandler)])


async def main(port: int) -> None:
    app = make_app()
    app.listen(port, address="127.0.0.1")
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    await asyncio.Event().wait()  # serve until interrupted


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))

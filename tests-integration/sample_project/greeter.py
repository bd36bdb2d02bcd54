"""A small Tornado application: the code under test of this sample project."""

from __future__ import annotations

import asyncio

from tornado.web import Application, HTTPError, RequestHandler


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write("Hello, " + self.get_argument("name", "world"))


class GreetingHandler(RequestHandler):
    """Greets by path, in JSON; refuses names that are too long."""

    async def get(self, name: str) -> None:
        if len(name) > 20:
            raise HTTPError(400, "name too long")
        await asyncio.sleep(0)  # stands for a database lookup
        self.write({"greeting": f"Hello, {name}!"})


class EchoHandler(RequestHandler):
    def post(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(self.request.body)


def make_app() -> Application:
    return Application(
        [
            (r"/", HelloHandler),
            (r"/greet/(\w+)", GreetingHandler),
            (r"/echo", EchoHandler),
        ]
    )


if __name__ == "__main__":

    async def main() -> None:
        make_app().listen(8888)
        await asyncio.Event().wait()

    asyncio.run(main())

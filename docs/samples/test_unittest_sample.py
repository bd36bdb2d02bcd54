"""Testing an application with the unittest helpers of tornado.testing.

Run it with ``python -m unittest test_unittest_sample`` (or pytest).
"""

import unittest

from tornado import gen
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, gen_test
from tornado.web import Application, RequestHandler


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello " + self.get_argument("name", "world"))


class AppTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application([("/", Hello)])

    def test_home(self) -> None:
        response = self.fetch("/?name=you")  # synchronous; the path is relative to the server
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"hello you")

    def test_missing(self) -> None:
        self.assertEqual(self.fetch("/nope").code, 404)  # returned, not raised

    @gen_test(timeout=10)
    async def test_async_client(self) -> None:
        response = await self.http_client.fetch(self.get_url("/"))
        self.assertEqual(response.body, b"hello world")


class LoopTest(AsyncTestCase):
    @gen_test
    async def test_sleep(self) -> None:
        # Every test has its own IOLoop, self.io_loop.
        await gen.sleep(0)
        self.assertIsNotNone(self.io_loop)


if __name__ == "__main__":
    unittest.main()

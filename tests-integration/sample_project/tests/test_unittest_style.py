"""The same kind of tests, written with tornado.testing's unittest classes."""

import json

from greeter import make_app

from tornado.testing import AsyncHTTPTestCase, gen_test


class GreeterTest(AsyncHTTPTestCase):
    def get_app(self):
        return make_app()

    def test_hello(self):
        response = self.fetch("/")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, world")

    def test_greeting(self):
        response = self.fetch("/greet/Linus")
        self.assertEqual(json.loads(response.body), {"greeting": "Hello, Linus!"})

    def test_missing_page(self):
        self.assertEqual(self.fetch("/nowhere").code, 404)

    @gen_test
    async def test_echo_with_the_client(self):
        response = await self.http_client.fetch(self.get_url("/echo"), method="POST", body="pong")
        self.assertEqual(response.body, b"pong")

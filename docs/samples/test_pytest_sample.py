"""Testing an application with the pytest plugin of tornado-testing.

Installing tornado-testing registers the plugin: run ``pytest test_pytest_sample.py``.
"""

import pytest

from tornado.web import Application, RequestHandler


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello " + self.get_argument("name", "world"))


@pytest.fixture
def app() -> Application:
    # The one fixture you write: the application under test.
    return Application([("/", Hello)])


async def test_hello(fetch) -> None:  # type: ignore[no-untyped-def]
    response = await fetch("/?name=you")
    assert response.code == 200
    assert response.body == b"hello you"


async def test_not_found(fetch) -> None:  # type: ignore[no-untyped-def]
    assert (await fetch("/missing")).code == 404  # returned, not raised


async def test_client(http_client, base_url) -> None:  # type: ignore[no-untyped-def]
    response = await http_client.fetch(base_url + "/")  # raises on error statuses
    assert response.body == b"hello world"


@pytest.mark.gen_test(timeout=2)
async def test_with_a_timeout(io_loop) -> None:  # type: ignore[no-untyped-def]
    assert await io_loop.run_in_executor(None, sum, [1, 2]) == 3

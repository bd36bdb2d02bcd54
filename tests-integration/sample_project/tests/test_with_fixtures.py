"""Tests written with the fixtures of tornado-testing's pytest plugin."""

import json

import pytest

from tornado.httpclient import HTTPClientError


async def test_hello(fetch):
    response = await fetch("/")
    assert response.code == 200
    assert response.body == b"Hello, world"


async def test_hello_with_name(fetch):
    response = await fetch("/?name=Ada")
    assert response.body == b"Hello, Ada"


async def test_greeting_is_json(fetch):
    response = await fetch("/greet/Grace")
    assert json.loads(response.body) == {"greeting": "Hello, Grace!"}


async def test_long_name_is_refused(fetch):
    response = await fetch("/greet/" + "x" * 30)
    assert response.code == 400


async def test_client_raises_on_errors(http_client, base_url):
    with pytest.raises(HTTPClientError) as info:
        await http_client.fetch(base_url + "/nowhere")
    assert info.value.code == 404


async def test_echo(fetch):
    response = await fetch("/echo", method="POST", body="ping")
    assert response.body == b"ping"


@pytest.mark.gen_test(timeout=5)
def test_old_style_generator(http_client, base_url):
    response = yield http_client.fetch(base_url + "/")
    assert response.code == 200


async def test_https(https_fetch):
    response = await https_fetch("/")
    assert response.effective_url.startswith("https://")
    assert response.code == 200

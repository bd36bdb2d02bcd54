"""A FastAPI application on our engine: mounted with `ASGIHandler` and
under ``python -m tornado.asgi``, driven by httpx and the websockets client."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from tornado.asgi import ASGIHandler, shutdown_lifespans
from tornado.web import Application

from . import apps_fastapi
from .conftest import ServeTornado, StartProcess


async def exercise(base: str, prefix: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.get(prefix + "/orders/5?verbose=true")).json() == {
            "order_id": 5,
            "verbose": True,
        }
        created = await client.post(prefix + "/orders", json={"item": "tea", "quantity": 4})
        assert created.status_code == 201 and created.json() == {"item": "tea", "total": 12}
        invalid = await client.post(prefix + "/orders", json={"item": "tea"})
        assert invalid.status_code == 422
        assert invalid.json()["detail"][0]["loc"] == ["body", "quantity"]
        assert (await client.get(prefix + "/count")).text == "0\n1\n2\n"
        assert (await client.get(prefix + "/docs")).status_code == 200
    async with ws_connect(base.replace("http", "ws") + prefix + "/echo") as ws:
        await ws.send(json.dumps({"n": 1}))
        assert json.loads(await ws.recv()) == {"echo": {"n": 1}}


@pytest.mark.asyncio
async def test_fastapi_mounted_with_asgi_handler(serve_tornado: ServeTornado) -> None:
    application = Application([(r"/shop(/.*)", ASGIHandler, {"app": apps_fastapi.app})])
    base = await serve_tornado(application)
    await exercise(base, "/shop")
    await shutdown_lifespans(application)


@pytest.mark.asyncio
async def test_fastapi_under_python_m_tornado_asgi(start_process: StartProcess) -> None:
    base = start_process("tornado", "apps_fastapi:app", probe="/count")
    await exercise(base, "")

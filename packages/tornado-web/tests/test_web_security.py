"""Cookies, signed cookies, xsrf protection and authentication, end to end
and at the function level."""

from __future__ import annotations

import base64
import re
from http.cookies import CookieError, SimpleCookie
from typing import Any

import pytest

from tornado.web import (
    Application,
    RequestHandler,
    authenticated,
    create_signed_value,
    decode_signed_value,
    get_signature_key_version,
)

SECRET = "a-long-test-secret-0123456789"


def cookie_values(response: Any) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


# -- signed values, no server ------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_signed_value_round_trip(version: int) -> None:
    signed = create_signed_value(SECRET, "user", "ada|lovelace", version=version)
    assert decode_signed_value(SECRET, "user", signed) == b"ada|lovelace"
    assert decode_signed_value(SECRET, "user", signed.decode()) == b"ada|lovelace"


@pytest.mark.parametrize("version", [1, 2])
def test_signed_value_rejects_tampering(version: int) -> None:
    signed = create_signed_value(SECRET, "user", "ada", version=version)
    forged_value = base64.b64encode(b"admin")
    tampered = signed.replace(base64.b64encode(b"ada"), forged_value)
    if version == 2:
        # Keep the length prefix honest so only the signature can catch it.
        tampered = tampered.replace(b"4:YWRh", b"8:" + forged_value)
    assert tampered != signed
    assert decode_signed_value(SECRET, "user", tampered) is None
    flipped = signed[:-1] + (b"0" if signed[-1:] != b"0" else b"1")
    assert decode_signed_value(SECRET, "user", flipped) is None
    assert decode_signed_value("another-secret", "user", signed) is None
    assert decode_signed_value(SECRET, "other-name", signed) is None
    assert decode_signed_value(SECRET, "user", b"garbage") is None
    assert decode_signed_value(SECRET, "user", None) is None


@pytest.mark.parametrize("version", [1, 2])
def test_signed_value_expiry(version: int) -> None:
    signed = create_signed_value(SECRET, "n", "v", version=version, clock=lambda: 1_000_000)
    assert decode_signed_value(SECRET, "n", signed, clock=lambda: 1_000_000 + 30 * 86400) == b"v"
    assert decode_signed_value(SECRET, "n", signed, clock=lambda: 1_000_000 + 32 * 86400) is None
    assert (
        decode_signed_value(
            SECRET, "n", signed, max_age_days=1, clock=lambda: 1_000_000 + 2 * 86400
        )
        is None
    )


def test_signed_value_min_version() -> None:
    v1 = create_signed_value(SECRET, "n", "v", version=1)
    assert decode_signed_value(SECRET, "n", v1, min_version=2) is None
    v2 = create_signed_value(SECRET, "n", "v", version=2)
    assert decode_signed_value(SECRET, "n", v2, min_version=2) == b"v"
    with pytest.raises(ValueError):
        decode_signed_value(SECRET, "n", v2, min_version=3)
    with pytest.raises(ValueError):
        create_signed_value(SECRET, "n", "v", version=7)


def test_v2_format_and_key_versions() -> None:
    signed = create_signed_value(SECRET, "name", "value", clock=lambda: 1234567890)
    assert signed.startswith(b"2|1:0|10:1234567890|4:name|8:dmFsdWU=|")
    assert re.fullmatch(rb".*\|[0-9a-f]{64}", signed)
    secrets = {0: "old-secret", 1: "new-secret"}
    signed = create_signed_value(secrets, "n", "v", key_version=1)
    assert get_signature_key_version(signed) == 1
    assert decode_signed_value(secrets, "n", signed) == b"v"
    assert decode_signed_value({0: "old-secret"}, "n", signed) is None
    assert decode_signed_value({1: "wrong"}, "n", signed) is None
    assert get_signature_key_version(create_signed_value(SECRET, "n", "v", version=1)) is None


# -- through a server ---------------------------------------------------------


class CookieHandler(RequestHandler):
    def get(self) -> None:
        action = self.get_argument("action")
        if action == "set":
            self.set_cookie("plain", "1", domain="example.com", httponly=True, secure=True)
            self.set_cookie("lax", "2", samesite="Lax", max_age=60, expires_days=1)
            self.set_cookie("chips", "3", secure=True, samesite="None", partitioned=True)
            self.set_cookie("quoted", "a;b")
        elif action == "clear":
            self.clear_cookie("plain", path="/p")
        elif action == "clear_all":
            self.clear_all_cookies()
        elif action == "read":
            self.write(self.get_cookie("plain", "none") or "")
        elif action == "bad":
            refused = []
            for name, value, kwargs in (
                ("bad name", "x", {}),
                ("semi;colon", "x", {}),
                ("ok", "new\nline", {}),
                ("ok", "x", {"max_age": "1; Path=/x"}),
            ):
                try:
                    self.set_cookie(name, value, **kwargs)
                except (CookieError, ValueError):
                    refused.append(name)
            self.write("refused" if len(refused) == 4 else repr(refused))


class SignedHandler(RequestHandler):
    def get(self) -> None:
        if self.get_argument("set", None):
            self.set_signed_cookie("user", self.get_argument("set"))
        else:
            value = self.get_signed_cookie("user")
            self.write(value if value is not None else b"<none>")


@pytest.mark.asyncio
async def test_cookie_attributes(serve: Any) -> None:
    client = await serve(Application([(r"/", CookieHandler)]))
    response = await client.fetch("/?action=set")
    headers = response.headers.get_list("Set-Cookie")
    plain = next(h for h in headers if h.startswith("plain="))
    assert "Domain=example.com" in plain and "HttpOnly" in plain and "Secure" in plain
    assert "Path=/" in plain
    lax = next(h for h in headers if h.startswith("lax="))
    assert "SameSite=Lax" in lax and "Max-Age=60" in lax and "expires=" in lax
    chips = next(h for h in headers if h.startswith("chips="))
    assert "Partitioned" in chips and "SameSite=None" in chips
    assert cookie_values(response)["quoted"] == "a;b"
    response = await client.fetch("/?action=clear")
    cleared = response.headers["Set-Cookie"]
    assert cleared.startswith("plain=") and "Path=/p" in cleared and "expires=" in cleared
    response = await client.fetch("/?action=read", headers={"Cookie": "plain=hello"})
    assert response.body == b"hello"
    response = await client.fetch("/?action=clear_all", headers={"Cookie": "a=1; b=2"})
    assert sorted(cookie_values(response)) == ["a", "b"]
    assert (await client.fetch("/?action=bad")).body == b"refused"


@pytest.mark.asyncio
async def test_signed_cookie_round_trip_and_tampering(serve: Any) -> None:
    client = await serve(Application([(r"/", SignedHandler)], cookie_secret=SECRET))
    response = await client.fetch("/?set=ada")
    signed = cookie_values(response)["user"]
    assert signed.startswith("2|")
    response = await client.fetch("/", headers={"Cookie": f'user="{signed}"'})
    assert response.body == b"ada"
    forged = signed.replace(base64.b64encode(b"ada").decode(), base64.b64encode(b"eve").decode())
    response = await client.fetch("/", headers={"Cookie": f'user="{forged}"'})
    assert response.body == b"<none>"
    unsigned = "eve"
    response = await client.fetch("/", headers={"Cookie": f"user={unsigned}"})
    assert response.body == b"<none>"


@pytest.mark.asyncio
async def test_signed_cookie_without_secret_is_500(serve: Any) -> None:
    client = await serve(Application([(r"/", SignedHandler)]))
    assert (await client.fetch("/?set=x")).code == 500


class FormHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.xsrf_form_html())

    def post(self) -> None:
        self.write("accepted")

    def put(self) -> None:
        self.write("put accepted")


def xsrf_app(**settings: Any) -> Application:
    return Application([(r"/form", FormHandler)], xsrf_cookies=True, **settings)


@pytest.mark.asyncio
async def test_xsrf_missing_or_wrong_token_is_403(serve: Any) -> None:
    client = await serve(xsrf_app())
    response = await client.fetch("/form")
    cookie = cookie_values(response)["_xsrf"]
    form_token = re.search(r'value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]

    # No token at all.
    response = await client.fetch("/form", method="POST", body=b"")
    assert response.code == 403
    # A token but no cookie.
    response = await client.fetch("/form", method="POST", body=f"_xsrf={form_token}")
    assert response.code == 403
    # Cookie and a different, well-formed token.
    other = "2|00000000|" + "ab" * 16 + "|1700000000"
    response = await client.fetch(
        "/form", method="POST", headers={"Cookie": f"_xsrf={cookie}"}, body=f"_xsrf={other}"
    )
    assert response.code == 403
    # Malformed token.
    response = await client.fetch(
        "/form", method="POST", headers={"Cookie": f"_xsrf={cookie}"}, body="_xsrf=2|zz|zz|1"
    )
    assert response.code == 403
    # The right token in the form, then in a header.
    response = await client.fetch(
        "/form", method="POST", headers={"Cookie": f"_xsrf={cookie}"}, body=f"_xsrf={form_token}"
    )
    assert (response.code, response.body) == (200, b"accepted")
    response = await client.fetch(
        "/form",
        method="PUT",
        headers={"Cookie": f"_xsrf={cookie}", "X-XSRFToken": form_token},
        body=b"",
    )
    assert (response.code, response.body) == (200, b"put accepted")


@pytest.mark.asyncio
async def test_xsrf_token_is_masked_per_request(serve: Any) -> None:
    client = await serve(xsrf_app())
    response = await client.fetch("/form")
    cookie = cookie_values(response)["_xsrf"]
    tokens = set()
    for _ in range(3):
        response = await client.fetch("/form", headers={"Cookie": f"_xsrf={cookie}"})
        assert "Set-Cookie" not in response.headers
        tokens.add(re.search(r'value="([^"]+)"', response.text).group(1))  # type: ignore[union-attr]
    assert len(tokens) == 3
    for token in tokens:
        response = await client.fetch(
            "/form", method="POST", headers={"Cookie": f"_xsrf={cookie}"}, body=f"_xsrf={token}"
        )
        assert response.code == 200


@pytest.mark.asyncio
async def test_xsrf_version_1_and_cookie_kwargs(serve: Any) -> None:
    client = await serve(
        xsrf_app(xsrf_cookie_version=1, xsrf_cookie_kwargs={"httponly": True, "path": "/form"})
    )
    response = await client.fetch("/form")
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "Path=/form" in header
    cookie = cookie_values(response)["_xsrf"]
    assert re.fullmatch("[0-9a-f]{32}", cookie)
    response = await client.fetch(
        "/form", method="POST", headers={"Cookie": f"_xsrf={cookie}"}, body=f"_xsrf={cookie}"
    )
    assert response.code == 200


class LoginRequired(RequestHandler):
    def get_current_user(self) -> Any:
        return self.get_cookie("who")

    @authenticated
    def get(self) -> None:
        self.write("hi " + self.current_user)

    @authenticated
    def post(self) -> None:
        self.write("posted")


@pytest.mark.asyncio
async def test_authenticated(serve: Any) -> None:
    client = await serve(Application([(r"/private", LoginRequired)], login_url="/login"))
    response = await client.fetch("/private?x=1")
    assert response.code == 302
    assert response.headers["Location"] == "/login?next=%2Fprivate%3Fx%3D1"
    assert (await client.fetch("/private", method="POST", body=b"")).code == 403
    response = await client.fetch("/private", headers={"Cookie": "who=ada"})
    assert response.body == b"hi ada"

    client = await serve(
        Application([(r"/private", LoginRequired)], login_url="https://login.example/in")
    )
    response = await client.fetch("/private")
    assert response.headers["Location"].startswith(
        "https://login.example/in?next=http%3A%2F%2F127.0.0.1"
    )


class OriginHandler(RequestHandler):
    def get(self) -> None:
        self.write("read")

    def post(self) -> None:
        self.write("ok")


@pytest.mark.asyncio
async def test_cross_origin_protection(serve: Any) -> None:
    client = await serve(
        Application(
            [(r"/", OriginHandler)],
            cross_origin_protection=True,
            trusted_origins=["https://trusted.example"],
        )
    )
    own = f"http://127.0.0.1:{client.port}"
    cases = [
        ({}, 200),
        ({"Sec-Fetch-Site": "same-origin"}, 200),
        ({"Sec-Fetch-Site": "none"}, 200),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site", "Origin": "https://sibling.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site", "Origin": own}, 403),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://trusted.example"}, 200),
        ({"Origin": own}, 200),
        ({"Origin": "https://evil.example", "Referer": own + "/"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "https://trusted.example/"}, 403),
        ({"Origin": "https://trusted.example"}, 200),
    ]
    for headers, code in cases:
        response = await client.fetch(
            "/", method="POST", body=b"", headers={**headers, "Host": f"127.0.0.1:{client.port}"}
        )
        assert response.code == code, headers
    response = await client.fetch(
        "/", headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    )
    assert response.body == b"read"


@pytest.mark.asyncio
async def test_cross_origin_protection_keeps_404(serve: Any) -> None:
    client = await serve(Application([(r"/", OriginHandler)], cross_origin_protection=True))
    response = await client.fetch(
        "/missing", method="POST", body=b"", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.code == 404

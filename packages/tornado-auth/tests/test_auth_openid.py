"""OpenIdMixin against a fake OpenID 2.0 provider that signs its assertions
and checks them again in ``check_authentication`` (OpenID 2.0 sections
10 and 11.4.2), with a browser (httpx) following the redirects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tornado.auth import AuthError, OpenIdMixin
from tornado.web import Application, HTTPError, RequestHandler

# OpenIdMixin is deprecated since Tornado 6.6: every handler made with it
# warns, which these tests of its behaviour expect.
pytestmark = pytest.mark.filterwarnings("ignore:OpenIdMixin is deprecated:DeprecationWarning")

AX = "http://openid.net/srv/ax/1.0"


@pytest.mark.filterwarnings("error")
def test_handler_with_the_mixin_warns_that_it_is_deprecated() -> None:
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    class Login(RequestHandler, OpenIdMixin):
        _OPENID_ENDPOINT = "https://openid.example/endpoint"

    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", "/login", "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "app.example"}),
    )
    with pytest.warns(DeprecationWarning, match="OpenIdMixin is deprecated") as caught:
        Login(Application(), request)
    # Attributed to the code that made the handler, not to Tornado.
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="OpenIdMixin is deprecated"):
        OpenIdMixin()


class Provider:
    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)  # the provider's private association
        self.used_nonces: set[str] = set()
        self.checkid_requests: list[dict[str, str]] = []
        self.fail_with: int | None = None

    def signature(self, fields: dict[str, str], signed: list[str]) -> str:
        # Key-value form of the signed fields (OpenID 2.0 section 6.1).
        message = "".join(f"{name}:{fields['openid.' + name]}\n" for name in signed)
        return base64.b64encode(
            hmac.new(self.key, message.encode(), hashlib.sha256).digest()
        ).decode()


class EndpointHandler(RequestHandler):
    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def get(self) -> None:
        """checkid_setup: user "alice" approves; the browser goes back with
        a signed positive assertion."""
        args = {name: self.get_argument(name) for name in self.request.arguments}
        if args.get("openid.mode") != "checkid_setup":
            raise HTTPError(400)
        self.provider.checkid_requests.append(args)
        endpoint = f"{self.request.protocol}://{self.request.host}{self.request.path}"
        # The AX alias is the provider's choice: not "ax" as requested.
        fields = {
            "openid.ns": "http://specs.openid.net/auth/2.0",
            "openid.mode": "id_res",
            "openid.op_endpoint": endpoint,
            "openid.claimed_id": endpoint + "/id/alice",
            "openid.identity": endpoint + "/id/alice",
            "openid.return_to": args["openid.return_to"],
            "openid.response_nonce": "2026-01-01T00:00:00Z" + secrets.token_hex(4),
            "openid.assoc_handle": "private-1",
            "openid.ns.ext1": AX,
            "openid.ext1.mode": "fetch_response",
            "openid.ext1.type.first": "http://axschema.org/namePerson/first",
            "openid.ext1.value.first": "Alice",
            "openid.ext1.type.last": "http://axschema.org/namePerson/last",
            "openid.ext1.value.last": "Liddell",
            "openid.ext1.type.mail": "http://axschema.org/contact/email",
            "openid.ext1.value.mail": "alice@example.com",
            "openid.ext1.type.lang": "http://axschema.org/pref/language",
            "openid.ext1.value.lang": "en-GB",
            "openid.ext1.type.nick": "http://axschema.org/namePerson/friendly",
            "openid.ext1.value.nick": "alice",
        }
        signed = [name[len("openid.") :] for name in fields if name != "openid.ns"]
        fields["openid.signed"] = ",".join(signed)
        fields["openid.sig"] = self.provider.signature(fields, signed)
        self.redirect(args["openid.return_to"] + "?" + urllib.parse.urlencode(fields))

    def post(self) -> None:
        """check_authentication: is this assertion ours, unchanged, unused?"""
        if self.provider.fail_with is not None:
            raise HTTPError(self.provider.fail_with)
        fields = {name: self.get_body_argument(name) for name in self.request.body_arguments}
        if fields.get("openid.mode") != "check_authentication":
            raise HTTPError(400)
        # The assertion was signed as id_res; only the mode changed since
        # (OpenID 2.0 section 11.4.2.1).
        fields["openid.mode"] = "id_res"
        signed = fields.get("openid.signed", "").split(",")
        valid = all("openid." + name in fields for name in signed) and hmac.compare_digest(
            self.provider.signature(fields, signed), fields.get("openid.sig", "")
        )
        nonce = fields.get("openid.response_nonce", "")
        if nonce in self.provider.used_nonces:
            valid = False
        self.provider.used_nonces.add(nonce)
        self.set_header("Content-Type", "text/plain")
        self.finish(f"ns:http://specs.openid.net/auth/2.0\nis_valid:{str(valid).lower()}\n")


class LoginHandler(RequestHandler, OpenIdMixin):
    def initialize(self, endpoint: str) -> None:  # type: ignore[override]
        self._OPENID_ENDPOINT = endpoint

    async def get(self) -> None:
        if self.get_argument("openid.mode", None):
            user = await self.get_authenticated_user()
            self.finish(user)
        else:
            self.authenticate_redirect()


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def start(serve: Any, provider: Provider, make_provider_app: Callable[..., Application]) -> Any:
    async def start() -> tuple[str, str]:
        provider_url = await serve(
            make_provider_app([(r"/openid", EndpointHandler, {"provider": provider})])
        )
        endpoint = provider_url + "/openid"
        app_url = await serve(
            Application([(r"/auth/openid", LoginHandler, {"endpoint": endpoint})])
        )
        return endpoint, app_url

    return start


@pytest.mark.asyncio
async def test_openid_login_dance(
    start: Any, browser: httpx.AsyncClient, provider: Provider
) -> None:
    endpoint, app_url = await start()

    response = await browser.get(app_url + "/auth/openid")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "first_name": "Alice",
        "last_name": "Liddell",
        "name": "Alice Liddell",
        "email": "alice@example.com",
        "locale": "en-gb",
        "username": "alice",
        "claimed_id": endpoint + "/id/alice",
    }
    (request,) = provider.checkid_requests
    assert request["openid.return_to"] == app_url + "/auth/openid"
    assert request["openid.realm"] == app_url + "/"
    assert request["openid.ns.ax"] == AX
    assert request["openid.ax.mode"] == "fetch_request"
    assert set(request["openid.ax.required"].split(",")) == {
        "firstname",
        "fullname",
        "lastname",
        "email",
        "language",
        "username",
    }
    assert request["openid.ax.type.email"] == "http://axschema.org/contact/email"


@pytest.mark.asyncio
async def test_tampered_assertion_is_refused(
    start: Any,
    browser: httpx.AsyncClient,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await start()
    first = await browser.get(app_url + "/auth/openid", follow_redirects=False)
    assertion = await browser.get(first.headers["Location"], follow_redirects=False)
    callback = httpx.URL(assertion.headers["Location"])
    # The user edits the assertion on its way back: another e-mail address.
    tampered = callback.copy_set_param("openid.ext1.value.mail", "mallory@example.com")

    response = await browser.get(tampered)

    assert response.status_code == 500
    assert "Traceback" not in response.text
    assert "mallory" not in response.text
    (error,) = find_auth_errors(logs)
    assert "did not confirm the assertion (is_valid: false)" in str(error)


@pytest.mark.asyncio
async def test_replayed_assertion_is_refused(
    start: Any,
    browser: httpx.AsyncClient,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await start()
    first = await browser.get(app_url + "/auth/openid")
    assert first.status_code == 200
    replay = await browser.get(first.url)
    assert replay.status_code == 500
    (error,) = find_auth_errors(logs)
    assert "is_valid: false" in str(error)


@pytest.mark.asyncio
async def test_provider_error_during_verification(
    start: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    endpoint, app_url = await start()
    provider.fail_with = 503
    response = await browser.get(app_url + "/auth/openid")
    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert str(error).startswith(f"Error from {endpoint}: HTTP 503")


class CallbackHandler(RequestHandler, OpenIdMixin):
    _OPENID_ENDPOINT = "https://openid.example/endpoint"

    def get(self) -> None:
        self.authenticate_redirect(callback_uri="/done?next=%2Fhome", ax_attrs=["email"])


@pytest.mark.asyncio
async def test_authenticate_redirect_with_callback_and_attributes(serve: Any) -> None:
    app_url = await serve(Application([(r"/start", CallbackHandler)]))
    async with httpx.AsyncClient() as client:
        response = await client.get(app_url + "/start")
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert location.netloc == "openid.example"
    args = dict(urllib.parse.parse_qsl(location.query))
    assert args["openid.mode"] == "checkid_setup"
    assert args["openid.return_to"] == app_url + "/done?next=%2Fhome"
    assert args["openid.claimed_id"] == "http://specs.openid.net/auth/2.0/identifier_select"
    assert args["openid.ax.required"] == "email"
    assert not any(
        name.startswith("openid.ax.type.") and name != "openid.ax.type.email" for name in args
    )

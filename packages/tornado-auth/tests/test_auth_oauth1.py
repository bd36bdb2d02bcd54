"""OAuthMixin (1.0 and 1.0a) and TwitterMixin against a fake OAuth 1.0a
provider that checks every HMAC-SHA1 signature for real (RFC 5849), with a
browser (httpx) following the redirects and carrying the cookies."""

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

from tornado.auth import AuthError, OAuthMixin, TwitterMixin
from tornado.httpclient import HTTPClientError
from tornado.web import Application, HTTPError, RequestHandler

CONSUMER_KEY = "consumer-key-1"
CONSUMER_SECRET = "consumer-secret-that-must-not-leak"


def pct(value: str) -> str:
    """RFC 5849 section 3.6 percent-encoding."""
    return urllib.parse.quote(value.encode("utf-8"), safe="-._~")


def expected_signature(
    method: str, url: str, params: list[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    """HMAC-SHA1 signature of RFC 5849 section 3.4, computed by the provider
    from the request as received."""
    parts = urllib.parse.urlsplit(url)
    base_uri = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"
    normalized = "&".join(f"{k}={v}" for k, v in sorted((pct(k), pct(v)) for k, v in params))
    base = "&".join(pct(p) for p in (method.upper(), base_uri, normalized))
    key = f"{pct(consumer_secret)}&{pct(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Provider:
    """State of the fake OAuth 1.0a provider."""

    def __init__(self) -> None:
        self.consumers = {CONSUMER_KEY: CONSUMER_SECRET}
        self.request_tokens: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.nonces: set[tuple[str, str, str]] = set()
        self.signed_requests: list[dict[str, str]] = []


class ProviderHandler(RequestHandler):
    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # OAuth 1.0 providers explain refusals as oauth_problem (the
        # Problem Reporting extension).
        self.finish("oauth_problem=" + (self._reason or "unknown"))

    def verify(self, token_secret: Callable[[str], str | None] | None) -> dict[str, str]:
        """Check the request's signature, nonce and consumer; return its
        parameters.  ``token_secret`` finds the secret of ``oauth_token``."""
        params = [
            (name, value.decode())
            for name, values in self.request.query_arguments.items()
            for value in values
        ]
        if self.request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            params += [
                (name, value.decode())
                for name, values in self.request.body_arguments.items()
                for value in values
            ]
        signature = [v for k, v in params if k == "oauth_signature"]
        params = [(k, v) for k, v in params if k != "oauth_signature"]
        fields = dict(params)
        consumer_secret = self.provider.consumers.get(fields.get("oauth_consumer_key", ""))
        if consumer_secret is None:
            raise HTTPError(401, reason="consumer_key_unknown")
        if fields.get("oauth_signature_method") != "HMAC-SHA1" or len(signature) != 1:
            raise HTTPError(400, reason="signature_method_rejected")
        nonce = (fields["oauth_consumer_key"], fields["oauth_timestamp"], fields["oauth_nonce"])
        if nonce in self.provider.nonces:
            raise HTTPError(401, reason="nonce_used")
        secret = ""
        if token_secret is not None:
            found = token_secret(fields.get("oauth_token", ""))
            if found is None:
                raise HTTPError(401, reason="token_rejected")
            secret = found
        url = f"{self.request.protocol}://{self.request.host}{self.request.path}"
        wanted = expected_signature(
            self.request.method or "GET", url, params, consumer_secret, secret
        )
        if not hmac.compare_digest(wanted, signature[0]):
            raise HTTPError(401, reason="signature_invalid")
        self.provider.nonces.add(nonce)
        self.provider.signed_requests.append(fields)
        return fields


class RequestTokenHandler(ProviderHandler):
    def get(self) -> None:
        fields = self.verify(None)
        key, secret = secrets.token_urlsafe(8), secrets.token_urlsafe(12)
        self.provider.request_tokens[key] = {
            "secret": secret,
            "callback": fields.get("oauth_callback"),
            # 1.0a when the consumer sent a callback here: a verifier is
            # then required at the access token step.
            "verifier": secrets.token_urlsafe(6) if "oauth_callback" in fields else None,
            "authorized": False,
        }
        self.finish(
            urllib.parse.urlencode(
                {
                    "oauth_token": key,
                    "oauth_token_secret": secret,
                    "oauth_callback_confirmed": "true",
                }
            )
        )


class AuthorizeHandler(ProviderHandler):
    """The page the browser lands on; user "alice" approves at once."""

    def get(self) -> None:
        key = self.get_argument("oauth_token")
        token = self.provider.request_tokens.get(key)
        if token is None:
            raise HTTPError(400, reason="token_rejected")
        token["authorized"] = True
        callback = token["callback"] or self.get_argument("oauth_callback")
        args = {"oauth_token": key}
        if token["verifier"]:
            args["oauth_verifier"] = token["verifier"]
        self.redirect(callback + ("&" if "?" in callback else "?") + urllib.parse.urlencode(args))


class AccessTokenHandler(ProviderHandler):
    def get(self) -> None:
        def request_secret(key: str) -> str | None:
            token = self.provider.request_tokens.get(key)
            return token["secret"] if token and token["authorized"] else None

        fields = self.verify(request_secret)
        token = self.provider.request_tokens.pop(fields["oauth_token"])
        if token["verifier"] and fields.get("oauth_verifier") != token["verifier"]:
            raise HTTPError(401, reason="verifier_invalid")
        key, secret = secrets.token_urlsafe(8), secrets.token_urlsafe(12)
        self.provider.access_tokens[key] = {"secret": secret, "user": "alice"}
        self.finish(
            urllib.parse.urlencode(
                {"oauth_token": key, "oauth_token_secret": secret, "screen_name": "alice"}
            )
        )


class ApiHandler(ProviderHandler):
    """A Twitter 1.1 API stand-in: every call must be signed with an access
    token."""

    def access_secret(self, key: str) -> str | None:
        token = self.provider.access_tokens.get(key)
        return token["secret"] if token else None

    def get(self, path: str) -> None:
        fields = self.verify(self.access_secret)
        if path == "account/verify_credentials":
            self.finish({"screen_name": "alice", "name": "Alice Liddell", "id": 42})
        elif path.startswith("users/show/"):
            name = path[len("users/show/") :]
            if name == "nobody":
                self.set_status(404)
                self.finish({"errors": [{"code": 50, "message": "User not found."}]})
                return
            self.finish({"screen_name": name, "count": fields.get("count")})
        else:
            raise HTTPError(404)

    def post(self, path: str) -> None:
        self.verify(self.access_secret)
        if path != "statuses/update":
            raise HTTPError(404)
        self.finish({"text": self.get_body_argument("status")})


def provider_routes(provider: Provider) -> list[Any]:
    kwargs = {"provider": provider}
    return [
        (r"/oauth/request_token", RequestTokenHandler, kwargs),
        (r"/oauth/authorize", AuthorizeHandler, kwargs),
        (r"/oauth/authenticate", AuthorizeHandler, kwargs),
        (r"/oauth/access_token", AccessTokenHandler, kwargs),
        (r"/1.1/(.+)\.json", ApiHandler, kwargs),
    ]


class TwitterLoginHandler(RequestHandler, TwitterMixin):
    """Our application's login handler."""

    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self._OAUTH_REQUEST_TOKEN_URL = provider_url + "/oauth/request_token"
        self._OAUTH_AUTHORIZE_URL = provider_url + "/oauth/authorize"
        self._OAUTH_AUTHENTICATE_URL = provider_url + "/oauth/authenticate"
        self._OAUTH_ACCESS_TOKEN_URL = provider_url + "/oauth/access_token"
        self._TWITTER_BASE_URL = provider_url + "/1.1"

    async def get(self) -> None:
        if self.get_argument("oauth_token", None):
            user = await self.get_authenticated_user()
            self.finish({"user": user})
        elif self.get_argument("authenticate", None):
            await self.authenticate_redirect(callback_uri="/login")
        else:
            await self.authorize_redirect(callback_uri="/login")


class TwitterApiHandler(TwitterLoginHandler):
    async def get(self) -> None:
        token = {"key": self.get_argument("key"), "secret": self.get_argument("secret")}
        if self.get_argument("status", None) is not None:
            result = await self.twitter_request(
                "/statuses/update",
                access_token=token,
                post_args={"status": self.get_argument("status")},
            )
        else:
            result = await self.twitter_request(
                "/users/show/" + self.get_argument("name"), access_token=token, count="5"
            )
        self.finish(result)


def twitter_app(provider_url: str, consumer_secret: str = CONSUMER_SECRET) -> Application:
    kwargs = {"provider_url": provider_url}
    return Application(
        [(r"/login", TwitterLoginHandler, kwargs), (r"/api", TwitterApiHandler, kwargs)],
        twitter_consumer_key=CONSUMER_KEY,
        twitter_consumer_secret=consumer_secret,
    )


@pytest.fixture
def provider() -> Provider:
    return Provider()


Setup = Callable[..., Any]


@pytest.fixture
def twitter(serve: Any, provider: Provider, make_provider_app: Callable[..., Application]) -> Setup:
    """``provider_url, app_url = await twitter()`` starts the fake provider
    and our application."""

    async def start(**kwargs: Any) -> tuple[str, str]:
        provider_url = await serve(make_provider_app(provider_routes(provider)))
        app_url = await serve(twitter_app(provider_url, **kwargs))
        return provider_url, app_url

    return start


def assert_no_secrets(text: str, provider: Provider) -> None:
    assert CONSUMER_SECRET not in text
    for token in provider.access_tokens.values():
        assert token["secret"] not in text


@pytest.mark.asyncio
@pytest.mark.parametrize("entry", ["authorize", "authenticate"])
async def test_twitter_login_dance(
    entry: str,
    twitter: Setup,
    browser: httpx.AsyncClient,
    provider: Provider,
    logs: pytest.LogCaptureFixture,
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider_url, app_url = await twitter()
    start = app_url + "/login" + ("?authenticate=1" if entry == "authenticate" else "")

    response = await browser.get(start)

    assert response.status_code == 200, response.text
    hops = [str(r.url).split("?")[0] for r in response.history]
    assert hops == [app_url + "/login", provider_url + "/oauth/" + entry]
    user = response.json()["user"]
    ((access_key, access),) = provider.access_tokens.items()
    assert user == {
        "screen_name": "alice",
        "name": "Alice Liddell",
        "id": 42,
        "username": "alice",
        "access_token": {"key": access_key, "secret": access["secret"], "screen_name": "alice"},
    }
    # Request token, access token and verify_credentials were all signed.
    assert len(provider.signed_requests) == 3
    # 1.0a: the callback went with the request token, the verifier back.
    assert provider.signed_requests[0]["oauth_callback"] == app_url + "/login"
    assert "oauth_verifier" in provider.signed_requests[1]
    # The request-token cookie was used once and cleared.
    assert "_oauth_request_token" not in browser.cookies
    assert CONSUMER_SECRET not in all_logs(logs)
    # (The access token secret is in this test's response body by design.)
    for hop in response.history:
        assert_no_secrets(hop.text + str(hop.headers), provider)


@pytest.mark.asyncio
async def test_wrong_consumer_secret_is_refused_by_the_provider(
    twitter: Setup,
    browser: httpx.AsyncClient,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    wrong_secret = "not-the-registered-consumer-secret"
    _, app_url = await twitter(consumer_secret=wrong_secret)

    response = await browser.get(app_url + "/login")

    assert response.status_code == 500
    assert "Traceback" not in response.text
    (error,) = find_auth_errors(logs)
    assert "HTTP 401" in str(error)
    assert "oauth_problem=signature_invalid" in str(error)
    assert isinstance(error, HTTPClientError)
    assert wrong_secret not in all_logs(logs)
    assert wrong_secret not in response.text


async def stop_at_callback(browser: httpx.AsyncClient, app_url: str) -> httpx.URL:
    """Go through the login up to (not including) the return to our
    application; return the callback URL the provider sent the browser to."""
    first = await browser.get(app_url + "/login", follow_redirects=False)
    authorize = await browser.get(first.headers["Location"], follow_redirects=False)
    assert authorize.status_code == 302
    return httpx.URL(authorize.headers["Location"])


def set_request_token_cookie(browser: httpx.AsyncClient, value: str) -> None:
    browser.cookies.delete("_oauth_request_token")
    browser.cookies.set("_oauth_request_token", value, domain="127.0.0.1", path="/")


@pytest.mark.asyncio
async def test_tampered_token_secret_in_cookie_breaks_the_signature(
    twitter: Setup,
    browser: httpx.AsyncClient,
    provider: Provider,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await twitter()
    callback = await stop_at_callback(browser, app_url)
    key = callback.params["oauth_token"]
    forged = base64.b64encode(key.encode()).decode() + "|" + base64.b64encode(b"forged").decode()
    set_request_token_cookie(browser, forged)

    response = await browser.get(callback)

    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert "oauth_problem=signature_invalid" in str(error)
    assert provider.access_tokens == {}


@pytest.mark.asyncio
async def test_cookie_for_another_token_is_refused(
    twitter: Setup,
    browser: httpx.AsyncClient,
    provider: Provider,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await twitter()
    callback = await stop_at_callback(browser, app_url)
    other = base64.b64encode(b"other").decode() + "|" + base64.b64encode(b"secret").decode()
    set_request_token_cookie(browser, other)

    response = await browser.get(callback)

    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert str(error) == "Request token does not match cookie"
    # Nothing was asked of the provider after the request token.
    assert len(provider.signed_requests) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("cookie", "message"),
    [
        (None, "Missing OAuth request token cookie"),
        ("no-separator", "Malformed OAuth request token cookie"),
        ("!!!|???", "Malformed OAuth request token cookie"),
    ],
)
async def test_missing_or_malformed_cookie(
    cookie: str | None,
    message: str,
    twitter: Setup,
    browser: httpx.AsyncClient,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await twitter()
    callback = await stop_at_callback(browser, app_url)
    browser.cookies.delete("_oauth_request_token")
    if cookie is not None:
        set_request_token_cookie(browser, cookie)
    response = await browser.get(callback)
    assert response.status_code == 500
    assert "Traceback" not in response.text
    (error,) = find_auth_errors(logs)
    assert str(error) == message


@pytest.mark.asyncio
async def test_replayed_callback_is_refused(
    twitter: Setup,
    browser: httpx.AsyncClient,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    _, app_url = await twitter()
    callback = await stop_at_callback(browser, app_url)
    assert (await browser.get(callback)).status_code == 200
    again = await browser.get(callback)
    assert again.status_code == 500
    (error,) = find_auth_errors(logs)
    assert str(error) == "Missing OAuth request token cookie"


@pytest.mark.asyncio
async def test_twitter_request_get_and_post_are_signed(
    twitter: Setup,
    browser: httpx.AsyncClient,
    provider: Provider,
) -> None:
    provider.access_tokens["tok"] = {"secret": "tok-secret", "user": "alice"}
    _, app_url = await twitter()
    credentials = {"key": "tok", "secret": "tok-secret"}

    shown = await browser.get(app_url + "/api", params={**credentials, "name": "bob"})
    assert shown.json() == {"screen_name": "bob", "count": "5"}

    # Characters that RFC 5849 encoding must get right: space, reserved
    # characters, non-ASCII.
    status = "Hello, wörld! a+b=c&d ~*'()"
    posted = await browser.get(app_url + "/api", params={**credentials, "status": status})
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"text": status}
    assert provider.signed_requests[-1]["oauth_token"] == "tok"


@pytest.mark.asyncio
async def test_twitter_request_error(
    twitter: Setup,
    browser: httpx.AsyncClient,
    provider: Provider,
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider.access_tokens["tok"] = {"secret": "tok-secret-value", "user": "alice"}
    _, app_url = await twitter()
    response = await browser.get(
        app_url + "/api", params={"key": "tok", "secret": "tok-secret-value", "name": "nobody"}
    )
    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert isinstance(error, HTTPClientError) and error.code == 404
    assert "User not found." in str(error)
    # The secret never left our side; the request's own URL (oauth_token)
    # is not quoted either.
    assert "tok-secret-value" not in str(error)


class OAuth10LoginHandler(RequestHandler, OAuthMixin):
    """A plain OAuth 1.0 (not 1.0a) consumer: the callback goes in the
    authorize URL and there is no verifier."""

    _OAUTH_VERSION = "1.0"

    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self.provider_url = provider_url
        self._OAUTH_REQUEST_TOKEN_URL = provider_url + "/oauth/request_token"
        self._OAUTH_AUTHORIZE_URL = provider_url + "/oauth/authorize"
        self._OAUTH_ACCESS_TOKEN_URL = provider_url + "/oauth/access_token"

    def _oauth_consumer_token(self) -> dict[str, Any]:
        return {"key": CONSUMER_KEY, "secret": CONSUMER_SECRET}

    async def _oauth_get_user_future(self, access_token: dict[str, Any]) -> dict[str, Any]:
        # The user's identity came with the access token.
        return {"screen_name": access_token["screen_name"]}

    async def get(self) -> None:
        if self.get_argument("oauth_token", None):
            user = await self.get_authenticated_user()
            self.finish({"user": user["screen_name"], "key": user["access_token"]["key"]})
        else:
            await self.authorize_redirect(callback_uri="/login10")


@pytest.mark.asyncio
async def test_oauth10_login_dance(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(
        Application([(r"/login10", OAuth10LoginHandler, {"provider_url": provider_url})])
    )
    response = await browser.get(app_url + "/login10")
    assert response.status_code == 200, response.text
    (access_key,) = provider.access_tokens
    assert response.json() == {"user": "alice", "key": access_key}
    request_token_request, access_token_request = provider.signed_requests
    assert "oauth_callback" not in request_token_request
    assert "oauth_verifier" not in access_token_request
    authorize_query = urllib.parse.parse_qs(
        urllib.parse.urlsplit(str(response.history[1].url)).query
    )
    assert authorize_query["oauth_callback"] == [app_url + "/login10"]


class OutOfBandHandler(OAuth10LoginHandler):
    _OAUTH_VERSION = "1.0a"

    async def get(self) -> None:
        await self.authorize_redirect(callback_uri="oob")


class NoCallbacksHandler(OAuth10LoginHandler):
    _OAUTH_NO_CALLBACKS = True

    async def get(self) -> None:
        try:
            await self.authorize_redirect(callback_uri="/somewhere")
        except Exception as e:
            self.finish(str(e))


@pytest.mark.asyncio
async def test_out_of_band_and_no_callbacks(
    serve: Any,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    kwargs = {"provider_url": provider_url}
    app_url = await serve(
        Application([(r"/oob", OutOfBandHandler, kwargs), (r"/nocb", NoCallbacksHandler, kwargs)])
    )
    async with httpx.AsyncClient() as client:
        oob = await client.get(app_url + "/oob")
        nocb = await client.get(app_url + "/nocb")
    # "oob": the authorization URL is the response, to show to the user.
    assert oob.status_code == 200
    (token,) = provider.request_tokens
    assert oob.text == f"{provider_url}/oauth/authorize?oauth_token={token}"
    assert provider.signed_requests[0]["oauth_callback"] == "oob"
    assert "_oauth_request_token" in oob.cookies
    assert nocb.text == "This service does not support oauth_callback"

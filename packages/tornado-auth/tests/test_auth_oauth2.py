"""OAuth2Mixin, GoogleOAuth2Mixin and FacebookGraphMixin through the whole
redirect dance: a browser (httpx) goes from our application to a fake
provider and back, and our application talks to the provider's token and
API endpoints, all over real sockets on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tornado.auth import AuthError, FacebookGraphMixin, GoogleOAuth2Mixin, OAuth2Mixin
from tornado.httpclient import HTTPClientError
from tornado.web import Application, HTTPError, RequestHandler

CLIENT_ID = "client-1234"
CLIENT_SECRET = "s3cr3t-client-secret-that-must-not-leak"
FB_APP_SECRET = "fb-app-secret-that-must-not-leak"
COOKIE_SECRET = "cookie-secret-for-tests"


class Provider:
    """State of a fake OAuth 2 provider (RFC 6749, authorization-code grant):
    registered clients, issued codes and tokens, and its users."""

    def __init__(self, client_secret: str = CLIENT_SECRET) -> None:
        self.clients = {CLIENT_ID: client_secret}
        self.redirect_uris: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> client, redirect, user
        self.tokens: dict[str, str] = {}  # access token -> user
        self.users = {
            "alice": {"id": "42", "name": "Alice Liddell", "email": "alice@example.com"},
        }
        self.token_requests: list[dict[str, str]] = []
        # The error the token endpoint answers with, when a test sets one.
        self.token_error: tuple[int, dict[str, Any]] | None = None


class AuthorizeHandler(RequestHandler):
    """The page the browser is sent to; the user "alice" approves at once."""

    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def get(self) -> None:
        client_id = self.get_argument("client_id")
        redirect_uri = self.get_argument("redirect_uri")
        if client_id not in self.provider.clients:
            raise HTTPError(400, reason="unknown client")
        if self.provider.redirect_uris.get(client_id, redirect_uri) != redirect_uri:
            raise HTTPError(400, reason="redirect_uri not registered")
        code = secrets.token_urlsafe(16)
        self.provider.codes[code] = (client_id, redirect_uri, "alice")
        args = {"code": code}
        if self.get_argument("state", None) is not None:
            args["state"] = self.get_argument("state")
        self.redirect(redirect_uri + "?" + urllib.parse.urlencode(args))


def exchange_code(provider: Provider, args: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The token endpoint's decision (RFC 6749 section 4.1.3): status and
    JSON body."""
    provider.token_requests.append(args)
    if provider.token_error is not None:
        return provider.token_error
    client_id = args.get("client_id", "")
    expected_secret = provider.clients.get(client_id)
    if expected_secret is None or not hmac.compare_digest(
        expected_secret, args.get("client_secret", "")
    ):
        return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
    grant = provider.codes.pop(args.get("code", ""), None)
    if grant is None or grant[0] != client_id or grant[1] != args.get("redirect_uri"):
        return 400, {"error": "invalid_grant", "error_description": "bad or used code"}
    token = secrets.token_urlsafe(16)
    provider.tokens[token] = grant[2]
    return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}


class GoogleTokenHandler(RequestHandler):
    """Google's token endpoint: a form POST."""

    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def post(self) -> None:
        assert self.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        args = {name: self.get_body_argument(name) for name in self.request.body_arguments}
        if args.get("grant_type") != "authorization_code":
            status, body = 400, {"error": "unsupported_grant_type"}
        else:
            status, body = exchange_code(self.provider, args)
        self.set_status(status)
        self.finish(body)


class UserinfoHandler(RequestHandler):
    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def get(self) -> None:
        user = self.provider.tokens.get(self.get_argument("access_token", ""))
        if user is None:
            self.set_status(401)
            self.finish({"error": "invalid_token", "error_description": "token not recognised"})
            return
        self.finish(self.provider.users[user])

    def post(self) -> None:
        # A write call: echoes what was posted, for the POST test.
        user = self.provider.tokens.get(self.get_argument("access_token", ""))
        if user is None:
            raise HTTPError(401)
        self.finish({"user": user, "posted": self.get_body_argument("message")})


class FacebookTokenHandler(RequestHandler):
    """Graph API's token endpoint: a GET with the arguments in the query."""

    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def get(self) -> None:
        args = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        status, body = exchange_code(self.provider, args)
        if status != 200:
            # Graph's error format.
            body = {"error": {"message": body["error_description"], "type": "OAuthException"}}
        self.set_status(status)
        self.finish(body)


class GraphMeHandler(RequestHandler):
    """``/me`` of the Graph API: checks the token and its appsecret_proof,
    returns the fields asked for."""

    def initialize(self, provider: Provider) -> None:  # type: ignore[override]
        self.provider = provider

    def get(self) -> None:
        token = self.get_argument("access_token", "")
        user = self.provider.tokens.get(token)
        expected = hmac.new(FB_APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        if user is None or not hmac.compare_digest(
            expected, self.get_argument("appsecret_proof", "")
        ):
            self.set_status(400)
            self.finish(
                {"error": {"message": "Invalid appsecret_proof", "type": "GraphMethodException"}}
            )
            return
        profile = {
            "id": "42",
            "name": "Alice Liddell",
            "first_name": "Alice",
            "last_name": "Liddell",
            "locale": "en_GB",
            "email": "alice@example.com",
        }
        fields = self.get_argument("fields").split(",")
        self.finish({name: profile[name] for name in fields if name in profile})


class NotJsonHandler(RequestHandler):
    """An API that answers 200 with an HTML page (a captive portal, a
    misconfigured proxy)."""

    def get(self) -> None:
        self.finish("<html><body>Please sign in to the Wi-Fi</body></html>")


def provider_routes(provider: Provider) -> list[Any]:
    kwargs = {"provider": provider}
    return [
        (r"/html", NotJsonHandler),
        (r"/authorize", AuthorizeHandler, kwargs),
        (r"/token", GoogleTokenHandler, kwargs),
        (r"/userinfo", UserinfoHandler, kwargs),
        (r"/graph/oauth/access_token", FacebookTokenHandler, kwargs),
        (r"/graph/me", GraphMeHandler, kwargs),
    ]


class GoogleLoginHandler(RequestHandler, GoogleOAuth2Mixin):
    """Our application's login handler, written as Tornado's docs show, with
    a ``state`` kept in a signed cookie."""

    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self._OAUTH_AUTHORIZE_URL = provider_url + "/authorize"
        self._OAUTH_ACCESS_TOKEN_URL = provider_url + "/token"
        self._OAUTH_USERINFO_URL = provider_url + "/userinfo"

    async def get(self) -> None:
        redirect_uri = self.request.protocol + "://" + self.request.host + "/login"
        code = self.get_argument("code", None)
        if code is None:
            state = secrets.token_urlsafe(16)
            self.set_signed_cookie("oauth_state", state)
            self.authorize_redirect(
                redirect_uri=redirect_uri,
                client_id=self.get_google_oauth_settings()["key"],
                scope=["profile", "email"],
                extra_params={"state": state},
            )
            return
        expected_state = self.get_signed_cookie("oauth_state")
        self.clear_cookie("oauth_state")
        if expected_state is None or not hmac.compare_digest(
            expected_state, self.get_argument("state", "").encode()
        ):
            raise HTTPError(403, "OAuth state mismatch")
        access = await self.get_authenticated_user(redirect_uri=redirect_uri, code=code)
        user = await self.oauth2_request(
            self._OAUTH_USERINFO_URL, access_token=access["access_token"]
        )
        self.set_signed_cookie("user", json.dumps(user))
        self.redirect("/")


class HomeHandler(RequestHandler):
    def get(self) -> None:
        user = self.get_signed_cookie("user")
        if user is None:
            self.finish("not logged in")
        else:
            self.finish({"hello": json.loads(user)})


def google_app(provider_url: str, **settings: Any) -> Application:
    settings.setdefault("google_oauth", {"key": CLIENT_ID, "secret": CLIENT_SECRET})
    return Application(
        [
            (r"/login", GoogleLoginHandler, {"provider_url": provider_url}),
            (r"/", HomeHandler),
        ],
        cookie_secret=COOKIE_SECRET,
        **settings,
    )


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.mark.asyncio
async def test_google_login_dance(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(google_app(provider_url))

    response = await browser.get(app_url + "/login")

    assert response.status_code == 200
    assert response.json() == {"hello": provider.users["alice"]}
    # The browser went: our /login -> provider /authorize -> our /login -> /.
    hops = [str(r.url).split("?")[0] for r in response.history]
    assert hops == [app_url + "/login", provider_url + "/authorize", app_url + "/login"]
    authorize_query = urllib.parse.parse_qs(
        urllib.parse.urlsplit(str(response.history[1].url)).query
    )
    assert authorize_query["client_id"] == [CLIENT_ID]
    assert authorize_query["scope"] == ["profile email"]
    assert authorize_query["response_type"] == ["code"]
    assert authorize_query["redirect_uri"] == [app_url + "/login"]
    # The token request was a real RFC 6749 exchange.
    (token_request,) = provider.token_requests
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["client_secret"] == CLIENT_SECRET
    # The client secret went only to the token endpoint: never to the
    # browser, never to a log.
    for hop in [*response.history, response]:
        assert CLIENT_SECRET not in str(hop.url)
        assert CLIENT_SECRET not in hop.text
        assert CLIENT_SECRET not in str(hop.headers)
    assert CLIENT_SECRET not in all_logs(logs)
    assert not any(token in all_logs(logs) for token in provider.tokens)


@pytest.mark.asyncio
async def test_google_client_credentials_from_settings_override(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    """get_google_oauth_settings is the hook for credentials kept elsewhere."""

    class VaultLoginHandler(GoogleLoginHandler):
        def get_google_oauth_settings(self) -> dict[str, str]:
            return {"key": CLIENT_ID, "secret": CLIENT_SECRET}

    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app = Application(
        [(r"/login", VaultLoginHandler, {"provider_url": provider_url}), (r"/", HomeHandler)],
        cookie_secret=COOKIE_SECRET,
    )
    app_url = await serve(app)
    response = await browser.get(app_url + "/login")
    assert response.json() == {"hello": provider.users["alice"]}


@pytest.mark.asyncio
async def test_wrong_state_is_refused_before_the_code_is_used(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(google_app(provider_url))
    # A login the user did not start (CSRF): a valid code, a forged state,
    # and no state cookie in this browser.
    provider.codes["stolen"] = (CLIENT_ID, app_url + "/login", "alice")
    response = await browser.get(app_url + "/login?code=stolen&state=forged")
    assert response.status_code == 403
    assert "Traceback" not in response.text
    assert provider.token_requests == []
    assert "stolen" in provider.codes


@pytest.mark.asyncio
async def test_wrong_client_secret_gives_auth_error_with_provider_message(
    serve: Any,
    browser: httpx.AsyncClient,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider = Provider(client_secret="the-provider-expects-another-secret")
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(google_app(provider_url))

    response = await browser.get(app_url + "/login")

    assert response.status_code == 500
    assert "Traceback" not in response.text
    assert CLIENT_SECRET not in response.text
    (error,) = find_auth_errors(logs)
    assert "invalid_client" in str(error)
    assert "client authentication failed" in str(error)
    assert provider_url + "/token" in str(error)
    # Code written for Tornado 6 catches HTTPClientError here.
    assert isinstance(error, HTTPClientError)
    assert error.code == 401
    assert CLIENT_SECRET not in all_logs(logs)


@pytest.mark.asyncio
async def test_provider_echoing_the_secret_is_redacted(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    """A careless provider quotes the secret in its error: neither the log
    nor the debug traceback page repeats it."""
    provider.token_error = (
        400,
        {
            "error": "invalid_request",
            "error_description": f"client_secret {CLIENT_SECRET} or "
            f"{urllib.parse.quote_plus(CLIENT_SECRET)} is malformed",
        },
    )
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(google_app(provider_url, serve_traceback=True))

    response = await browser.get(app_url + "/login")

    assert response.status_code == 500
    # serve_traceback shows the traceback (that is what it is for), but the
    # secret is blanked out of the error message.
    assert "tornado.auth._ProviderHTTPError" in response.text
    assert "invalid_request" in response.text
    assert CLIENT_SECRET not in response.text
    (error,) = find_auth_errors(logs)
    assert "[redacted]" in str(error)
    assert CLIENT_SECRET not in all_logs(logs)


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose port refuses connections: the socket is
    bound (so no one else gets the port) but never listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.asyncio
async def test_unreachable_provider_gives_auth_error(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    refusing_url: str,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))

    class TokenEndpointDown(GoogleLoginHandler):
        def initialize(self, provider_url: str) -> None:  # type: ignore[override]
            super().initialize(provider_url)
            self._OAUTH_ACCESS_TOKEN_URL = refusing_url + "/token"

    app = Application(
        [(r"/login", TokenEndpointDown, {"provider_url": provider_url}), (r"/", HomeHandler)],
        cookie_secret=COOKIE_SECRET,
        google_oauth={"key": CLIENT_ID, "secret": CLIENT_SECRET},
    )
    app_url = await serve(app)

    response = await browser.get(app_url + "/login")

    assert response.status_code == 500
    assert "Traceback" not in response.text
    (error,) = find_auth_errors(logs)
    assert str(error).startswith(f"Could not reach {refusing_url}/token: ")


class OAuth2ApiHandler(RequestHandler, OAuth2Mixin):
    """Calls a protected API with oauth2_request (GET and POST)."""

    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self.provider_url = provider_url

    async def get(self) -> None:
        token = self.get_argument("token")
        if self.get_argument("html", None):
            result = await self.oauth2_request(self.provider_url + "/html", access_token=token)
        elif self.get_argument("post", None):
            result = await self.oauth2_request(
                self.provider_url + "/userinfo",
                access_token=token,
                post_args={"message": "hello there"},
            )
        else:
            result = await self.oauth2_request(self.provider_url + "/userinfo", access_token=token)
        self.finish(result)


@pytest.mark.asyncio
async def test_oauth2_request_get_and_post(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    provider.tokens["valid-token"] = "alice"
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(
        Application([(r"/api", OAuth2ApiHandler, {"provider_url": provider_url})])
    )

    got = await browser.get(app_url + "/api?token=valid-token")
    assert got.json() == provider.users["alice"]
    posted = await browser.get(app_url + "/api?token=valid-token&post=1")
    assert posted.json() == {"user": "alice", "posted": "hello there"}


@pytest.mark.asyncio
async def test_oauth2_request_with_bad_token_gives_auth_error(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(
        Application([(r"/api", OAuth2ApiHandler, {"provider_url": provider_url})])
    )
    response = await browser.get(app_url + "/api?token=revoked-token-value")
    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert "invalid_token: token not recognised" in str(error)
    # The token travelled in the query; the message names the endpoint only.
    assert "revoked-token-value" not in str(error)


class RedirectOnlyHandler(RequestHandler, OAuth2Mixin):
    _OAUTH_AUTHORIZE_URL = "https://provider.example/authorize?prompt=consent"

    def get(self) -> None:
        self.authorize_redirect(
            redirect_uri="https://app.example/cb",
            client_id="abc",
            scope=["read", "write"],
            response_type="token",
            extra_params={"state": "xyz"},
        )


@pytest.mark.asyncio
async def test_authorize_redirect_arguments(serve: Any) -> None:
    app_url = await serve(Application([(r"/", RedirectOnlyHandler)]))
    async with httpx.AsyncClient() as client:
        response = await client.get(app_url + "/")
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "provider.example",
        "/authorize",
    )
    assert urllib.parse.parse_qs(location.query) == {
        "prompt": ["consent"],
        "response_type": ["token"],
        "redirect_uri": ["https://app.example/cb"],
        "client_id": ["abc"],
        "scope": ["read write"],
        "state": ["xyz"],
    }


class DeprecatedSecretHandler(RequestHandler, OAuth2Mixin):
    _OAUTH_AUTHORIZE_URL = "https://provider.example/authorize"

    def get(self) -> None:
        with pytest.warns(DeprecationWarning, match="client_secret"):
            self.authorize_redirect(client_id="abc", client_secret=CLIENT_SECRET)


@pytest.mark.asyncio
async def test_authorize_redirect_client_secret_is_deprecated_and_never_sent(serve: Any) -> None:
    app_url = await serve(Application([(r"/", DeprecatedSecretHandler)]))
    async with httpx.AsyncClient() as client:
        response = await client.get(app_url + "/")
    assert response.status_code == 302
    assert CLIENT_SECRET not in response.headers["Location"]


class FacebookLoginHandler(RequestHandler, FacebookGraphMixin):
    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self._OAUTH_AUTHORIZE_URL = provider_url + "/authorize?"
        self._OAUTH_ACCESS_TOKEN_URL = provider_url + "/graph/oauth/access_token?"
        self._FACEBOOK_BASE_URL = provider_url + "/graph"

    async def get(self) -> None:
        redirect_uri = self.request.protocol + "://" + self.request.host + "/fb"
        if self.get_argument("code", None):
            user = await self.get_authenticated_user(
                redirect_uri=redirect_uri,
                client_id=CLIENT_ID,
                client_secret=self.settings["facebook_secret"],
                code=self.get_argument("code"),
                extra_fields=["email"],
            )
            self.finish({"user": user})
        else:
            self.authorize_redirect(
                redirect_uri=redirect_uri, client_id=CLIENT_ID, extra_params={"scope": "email"}
            )


def facebook_app(provider_url: str, secret: str = FB_APP_SECRET) -> Application:
    return Application(
        [(r"/fb", FacebookLoginHandler, {"provider_url": provider_url})], facebook_secret=secret
    )


@pytest.mark.asyncio
async def test_facebook_login_dance(
    serve: Any,
    browser: httpx.AsyncClient,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider = Provider(client_secret=FB_APP_SECRET)
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(facebook_app(provider_url))

    response = await browser.get(app_url + "/fb")

    assert response.status_code == 200
    user = response.json()["user"]
    (token,) = provider.tokens
    assert user == {
        "id": "42",
        "name": "Alice Liddell",
        "first_name": "Alice",
        "last_name": "Liddell",
        "locale": "en_GB",
        "picture": None,
        "link": None,
        "email": "alice@example.com",
        "access_token": token,
        "session_expires": "3600",
    }
    assert FB_APP_SECRET not in all_logs(logs)


@pytest.mark.asyncio
async def test_facebook_wrong_app_secret(
    serve: Any,
    browser: httpx.AsyncClient,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
    all_logs: Callable[[pytest.LogCaptureFixture], str],
) -> None:
    provider = Provider(client_secret=FB_APP_SECRET)
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    wrong = "a-wrong-app-secret-value"
    app_url = await serve(facebook_app(provider_url, secret=wrong))

    response = await browser.get(app_url + "/fb")

    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    # Graph's error format is understood.
    assert "OAuthException: client authentication failed" in str(error)
    # The secret was in the token URL's query; the message has no query.
    assert wrong not in all_logs(logs)
    assert wrong not in response.text


class FacebookApiHandler(RequestHandler, FacebookGraphMixin):
    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self._FACEBOOK_BASE_URL = provider_url + "/graph"

    async def get(self) -> None:
        token = self.get_argument("token")
        proof = hmac.new(FB_APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        me = await self.facebook_request(
            "/me", access_token=token, appsecret_proof=proof, fields="id,name"
        )
        self.finish(me)


@pytest.mark.asyncio
async def test_facebook_request(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
) -> None:
    provider.tokens["fb-token"] = "alice"
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(
        Application([(r"/me", FacebookApiHandler, {"provider_url": provider_url})])
    )
    response = await browser.get(app_url + "/me?token=fb-token")
    assert response.json() == {"id": "42", "name": "Alice Liddell"}


@pytest.mark.asyncio
async def test_oauth2_request_answer_that_is_not_json(
    serve: Any,
    browser: httpx.AsyncClient,
    provider: Provider,
    make_provider_app: Callable[..., Application],
    logs: pytest.LogCaptureFixture,
    find_auth_errors: Callable[[pytest.LogCaptureFixture], list[AuthError]],
) -> None:
    provider_url = await serve(make_provider_app(provider_routes(provider)))
    app_url = await serve(
        Application([(r"/api", OAuth2ApiHandler, {"provider_url": provider_url})])
    )
    response = await browser.get(app_url + "/api?token=some-token-value&html=1")
    assert response.status_code == 500
    (error,) = find_auth_errors(logs)
    assert str(error) == f"Invalid API response from {provider_url}/html: not JSON"

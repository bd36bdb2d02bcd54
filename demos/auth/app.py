"""Auth demo: "Sign in with a provider" over OAuth 2, without the internet.

One command starts two servers in one process: the application (``--port``,
default 8888) and a stand-in OAuth 2 provider (``--provider-port``, default
any free port) with a consent page, a token endpoint and a userinfo API.
The application logs users in with `tornado.auth.GoogleOAuth2Mixin`, its
endpoints pointed at the stand-in, exactly as it would with Google.

Run it with ``python demos/auth/app.py`` and open the printed URL.  It
prints ``serving on http://127.0.0.1:PORT/`` and then
``provider on http://127.0.0.1:PORT/`` once both listen.

What it shows:

* the ``state`` parameter, kept in a signed cookie and compared on return,
  so a login the user did not start is refused (403);
* a refusal by the user (``error=access_denied``) shown as a 403 page;
* a provider failure (`tornado.auth.AuthError`) shown as a 502 page, with
  the error logged; the client secret is never in a page or a log line.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import secrets
import signal
import urllib.parse
from typing import Any

from tornado.auth import AuthError, GoogleOAuth2Mixin
from tornado.escape import xhtml_escape
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

log = logging.getLogger("auth-demo")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def page(title: str, body: str) -> str:
    """A minimal HTML page; ``title`` is escaped, ``body`` is HTML."""
    return PAGE.format(title=xhtml_escape(title), body=body)


# --- the application ---------------------------------------------------------


class HomeHandler(RequestHandler):
    """Greets the signed-in user, or offers to sign in."""

    def get(self) -> None:
        raw = self.get_signed_cookie("user")
        if raw is None:
            self.finish(page("Welcome", '<p><a href="/login">Sign in with the provider</a></p>'))
            return
        user = json.loads(raw)
        self.finish(
            page(
                f"Hello, {user['name']}",
                f"<p>Signed in as {xhtml_escape(user['email'])}.</p>"
                '<p><a href="/logout">Sign out</a></p>',
            )
        )


class LoginHandler(RequestHandler, GoogleOAuth2Mixin):
    """The OAuth 2 login: to the provider and back."""

    def initialize(self, provider_url: str) -> None:  # type: ignore[override]
        self._OAUTH_AUTHORIZE_URL = provider_url + "/authorize"
        self._OAUTH_ACCESS_TOKEN_URL = provider_url + "/token"
        self._OAUTH_USERINFO_URL = provider_url + "/userinfo"

    def redirect_uri(self) -> str:
        # A real application takes this from its configuration: providers
        # compare it exactly with the registered one.
        return f"{self.request.protocol}://{self.request.host}/login"

    async def get(self) -> None:
        if self.get_argument("code", None) is None and self.get_argument("error", None) is None:
            state = secrets.token_urlsafe(16)
            self.set_signed_cookie("oauth_state", state, httponly=True, samesite="Lax")
            self.authorize_redirect(
                redirect_uri=self.redirect_uri(),
                client_id=self.get_google_oauth_settings()["key"],
                scope=["profile", "email"],
                extra_params={"state": state},
            )
            return
        # Coming back from the provider: first, is this the login we started?
        expected = self.get_signed_cookie("oauth_state")
        self.clear_cookie("oauth_state")
        if expected is None or not hmac.compare_digest(
            expected, self.get_argument("state", "").encode()
        ):
            raise HTTPError(403, "OAuth state mismatch")
        if self.get_argument("error", None) is not None:
            raise HTTPError(403, "provider said %s", self.get_argument("error"))
        try:
            tokens = await self.get_authenticated_user(
                redirect_uri=self.redirect_uri(), code=self.get_argument("code")
            )
            user = await self.oauth2_request(
                self._OAUTH_USERINFO_URL, access_token=tokens["access_token"]
            )
        except AuthError as e:
            # The message quotes the provider, never the secret.
            log.warning("login failed: %s", e)
            raise HTTPError(502) from None
        self.set_signed_cookie(
            "user", json.dumps({"name": user["name"], "email": user["email"]}), httponly=True
        )
        self.redirect("/")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            403: "Sign-in was refused or was not started here.",
            502: "The provider could not complete the sign-in. Try again later.",
        }
        text = messages.get(status_code, "Something went wrong.")
        self.finish(page(f"Sign-in failed ({status_code})", f"<p>{text}</p><a href='/'>Home</a>"))


class LogoutHandler(RequestHandler):
    def get(self) -> None:
        self.clear_cookie("user")
        self.redirect("/")


def make_app(provider_url: str, client_id: str, client_secret: str) -> Application:
    """The demo application, registered with the provider at ``provider_url``."""
    return Application(
        [
            (r"/", HomeHandler),
            (r"/login", LoginHandler, {"provider_url": provider_url}),
            (r"/logout", LogoutHandler),
        ],
        cookie_secret=secrets.token_urlsafe(32),
        google_oauth={"key": client_id, "secret": client_secret},
    )


# --- the stand-in provider ---------------------------------------------------


class ProviderState:
    """Registered client, issued codes and tokens."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.codes: dict[str, tuple[str, dict[str, str]]] = {}  # code -> redirect_uri, user
        self.tokens: dict[str, dict[str, str]] = {}


class ProviderHandler(RequestHandler):
    def initialize(self, state: ProviderState) -> None:  # type: ignore[override]
        self.state = state

    def check_client(self, client_id: str) -> None:
        if client_id != self.state.client_id:
            raise HTTPError(400, "unknown client")


class ConsentHandler(ProviderHandler):
    """The provider's consent page: a form to sign in and allow or deny."""

    def get(self) -> None:
        self.check_client(self.get_argument("client_id"))
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{xhtml_escape(self.get_argument(name, ""))}">'
            for name in ("redirect_uri", "state", "scope")
        )
        self.finish(
            page(
                "Demo provider: sign in",
                f'<form method="post" action="/authorize">{hidden}'
                '<label>Name <input name="name" value="Ada Lovelace"></label> '
                '<label>E-mail <input name="email" value="ada@example.com"></label> '
                '<button name="decision" value="allow">Allow</button> '
                '<button name="decision" value="deny">Deny</button></form>',
            )
        )

    def post(self) -> None:
        redirect_uri = self.get_argument("redirect_uri")
        args = {"state": self.get_argument("state", "")}
        if self.get_argument("decision") == "allow":
            code = secrets.token_urlsafe(16)
            user = {"name": self.get_argument("name"), "email": self.get_argument("email")}
            self.state.codes[code] = (redirect_uri, user)
            args["code"] = code
        else:
            args["error"] = "access_denied"
        self.redirect(redirect_uri + "?" + urllib.parse.urlencode(args))

    def check_xsrf_cookie(self) -> None:
        # The stand-in has no sessions to protect; a real provider would.
        pass


class TokenHandler(ProviderHandler):
    """RFC 6749 section 4.1.3: the code, the client's credentials, the same
    redirect_uri."""

    def post(self) -> None:
        client_ok = self.get_argument("client_id", "") == self.state.client_id and (
            hmac.compare_digest(self.get_argument("client_secret", ""), self.state.client_secret)
        )
        if not client_ok:
            self.set_status(401)
            self.finish({"error": "invalid_client"})
            return
        grant = self.state.codes.pop(self.get_argument("code", ""), None)
        if grant is None or grant[0] != self.get_argument("redirect_uri", ""):
            self.set_status(400)
            self.finish({"error": "invalid_grant", "error_description": "unknown or used code"})
            return
        token = secrets.token_urlsafe(16)
        self.state.tokens[token] = grant[1]
        self.finish({"access_token": token, "token_type": "Bearer", "expires_in": 3600})


class UserinfoHandler(ProviderHandler):
    def get(self) -> None:
        user = self.state.tokens.get(self.get_argument("access_token", ""))
        if user is None:
            self.set_status(401)
            self.finish({"error": "invalid_token"})
            return
        self.finish(user)


def make_provider(state: ProviderState) -> Application:
    """The stand-in provider.  Its access log is off: it would show the
    credentials it receives, which is the provider's business, not the
    demo's."""
    kwargs = {"state": state}
    return Application(
        [
            (r"/authorize", ConsentHandler, kwargs),
            (r"/token", TokenHandler, kwargs),
            (r"/userinfo", UserinfoHandler, kwargs),
        ],
        log_function=lambda handler: None,
    )


async def main(
    port: int, provider_port: int, client_secret: str | None, provider_secret: str | None
) -> None:
    """Serve the provider and the application until SIGINT or SIGTERM."""
    client_id = "auth-demo"
    client_secret = client_secret or secrets.token_urlsafe(24)
    provider_secret = provider_secret or client_secret

    provider_sockets = bind_sockets(provider_port, "127.0.0.1")
    provider_url = f"http://127.0.0.1:{provider_sockets[0].getsockname()[1]}"
    provider = HTTPServer(make_provider(ProviderState(client_id, provider_secret)))
    provider.add_sockets(provider_sockets)

    app_sockets = bind_sockets(port, "127.0.0.1")
    app = HTTPServer(make_app(provider_url, client_id, client_secret))
    app.add_sockets(app_sockets)

    print(f"serving on http://127.0.0.1:{app_sockets[0].getsockname()[1]}/", flush=True)
    print(f"provider on {provider_url}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in (app, provider):
        server.stop()
        await server.close_all_connections()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--provider-port", type=int, default=0)
    parser.add_argument(
        "--client-secret", default=None, help="the client secret (default: a random one)"
    )
    parser.add_argument(
        "--provider-secret",
        default=None,
        help="the secret the provider expects (default: the client secret); "
        "set another one to see a misconfigured application fail cleanly",
    )
    args = parser.parse_args()
    asyncio.run(main(args.port, args.provider_port, args.client_secret, args.provider_secret))

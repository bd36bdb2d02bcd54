"""Signing in with Google (OAuth 2) through tornado.auth's mixin.

Needs credentials from Google's console in the settings; run it with
``python auth_google.py`` after filling them in.  (The documentation's test
only imports this module and builds the application: it cannot sign in.)
"""

import asyncio

import tornado.escape
from tornado.auth import GoogleOAuth2Mixin
from tornado.web import Application, RequestHandler, authenticated


class GoogleLoginHandler(RequestHandler, GoogleOAuth2Mixin):
    async def get(self) -> None:
        redirect_uri = "http://127.0.0.1:8888/auth/google"
        if self.get_argument("code", None):
            # Back from Google: exchange the code for tokens, then the profile.
            tokens = await self.get_authenticated_user(
                redirect_uri=redirect_uri, code=self.get_argument("code")
            )
            user = await self.oauth2_request(
                "https://www.googleapis.com/oauth2/v1/userinfo",
                access_token=tokens["access_token"],
            )
            self.set_signed_cookie("user", tornado.escape.json_encode(user["email"]))
            self.redirect("/")
        else:
            # First visit: send the browser to Google's consent page.
            self.authorize_redirect(
                redirect_uri=redirect_uri,
                client_id=self.settings["google_oauth"]["key"],
                scope=["openid", "email"],
                response_type="code",
                extra_params={"approval_prompt": "auto"},
            )


class HomeHandler(RequestHandler):
    def get_current_user(self) -> str | None:
        cookie = self.get_signed_cookie("user")
        return tornado.escape.json_decode(cookie) if cookie else None

    @authenticated  # redirects to login_url when there is no current user
    def get(self) -> None:
        self.write(f"signed in as {self.current_user}")


def make_app() -> Application:
    return Application(
        [("/", HomeHandler), ("/auth/google", GoogleLoginHandler)],
        login_url="/auth/google",
        cookie_secret="change me: a long random string",
        google_oauth={"key": "YOUR-CLIENT-ID", "secret": "YOUR-CLIENT-SECRET"},
    )


async def main() -> None:
    make_app().listen(8888, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())

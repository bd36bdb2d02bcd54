"""The web framework: routing, templates, UI modules, static files, cookies, xsrf, locale.

Run it with ``python web_app.py [PORT]``.
"""

# expect: GET / -> <li class="entry">first post</li>
# expect: GET /entry/2 -> second post
# expect: GET /entry/99 -> 404
# expect: GET /static/site.css -> color: #333
# expect: GET /hello?name=Ada -> Hello, Ada
# expect: GET /visits -> visit 1
# expect: GET /bonjour -> Bonjour
# expect: POST /login -> 403

import asyncio
import sys
from pathlib import Path

import tornado.escape
import tornado.locale
from tornado.template import DictLoader
from tornado.web import Application, HTTPError, RequestHandler, UIModule, url

HERE = Path(__file__).parent
ENTRIES = {1: "first post", 2: "second post"}


# Templates usually live in files (the template_path setting); a DictLoader
# keeps this sample in one file.
TEMPLATES = DictLoader(
    {
        "home.html": "<ul>{% for text in entries %}{% module Entry(text) %}{% end %}</ul>",
        "entry.html": '<li class="entry">{{ text }}</li>',
    }
)


class Entry(UIModule):
    """A UI module: a reusable piece of page, ``{% module Entry(text) %}`` in templates."""

    def render(self, text: str) -> str:
        return self.render_string("entry.html", text=text).decode()


class HomeHandler(RequestHandler):
    def get(self) -> None:
        self.render("home.html", entries=ENTRIES.values())


class EntryHandler(RequestHandler):
    def get(self, entry_id: str) -> None:
        text = ENTRIES.get(int(entry_id))
        if text is None:
            raise HTTPError(404)  # rendered by write_error
        self.write({"id": int(entry_id), "text": text})  # a dict is sent as JSON


class HelloHandler(RequestHandler):
    def get(self) -> None:
        name = self.get_argument("name", "world")  # query or form argument
        self.write(f"Hello, {tornado.escape.xhtml_escape(name)}")


class VisitsHandler(RequestHandler):
    def get(self) -> None:
        # A signed cookie: the client cannot forge it (cookie_secret signs it).
        count = int(self.get_signed_cookie("visits") or b"0") + 1
        self.set_signed_cookie("visits", str(count))
        self.write(f"visit {count}")


class LoginHandler(RequestHandler):
    def post(self) -> None:
        # Reached only with a valid _xsrf argument or X-XSRFToken header.
        self.write("logged in")


class LocaleHandler(RequestHandler):
    def get_user_locale(self) -> tornado.locale.Locale:
        return tornado.locale.get("fr_FR")

    def get(self) -> None:
        self.write(self.locale.translate("Hello"))


def make_app() -> Application:
    # One CSV file per locale (web_locale/fr_FR.csv: "Hello","Bonjour").
    tornado.locale.load_translations(str(HERE / "web_locale"))
    return Application(
        [
            url(r"/", HomeHandler, name="home"),
            url(r"/entry/(\d+)", EntryHandler, name="entry"),
            (r"/hello", HelloHandler),
            (r"/visits", VisitsHandler),
            (r"/login", LoginHandler),
            (r"/bonjour", LocaleHandler),
        ],
        static_path=str(HERE / "web_static"),  # served at /static/
        template_loader=TEMPLATES,
        ui_modules={"Entry": Entry},
        cookie_secret="change me: a long random string",
        xsrf_cookies=True,
    )


async def main(port: int) -> None:
    make_app().listen(port, address="127.0.0.1")
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))

"""What importing the web layer costs, and that the deferred pieces still work.

`tornado.web` (with `tornado.httputil`, `tornado.locale` and `tornado.auth`)
imports the heavier standard-library modules where they are first used, not
at import: a fresh interpreter shows which modules an import pulled in.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import subprocess
import sys
import textwrap
from typing import Any

from tornado import httputil
from tornado.web import Application, RequestHandler

#: Modules that a plain ``import tornado.web`` (or tornado.auth) must not
#: load; each is imported by the feature that needs it.
DEFERRED = (
    "email",
    "email.utils",
    "http.client",
    "http.cookies",
    "mimetypes",
    "calendar",
    "unicodedata",
    "csv",
    "gettext",
    "glob",
    "json",
    "uuid",
    "platform",
    "_curses",
)


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(result.stdout.split())


def test_import_web_and_auth_defers_heavy_modules() -> None:
    loaded = _modules_after("import tornado.web, tornado.auth, tornado.locale, tornado.routing")
    assert "tornado.web" in loaded and "tornado.auth" in loaded
    assert sorted(loaded.intersection(DEFERRED)) == []


def test_deferred_modules_load_on_use() -> None:
    code = textwrap.dedent(
        """
        import datetime
        from tornado import httputil
        httputil.format_timestamp(datetime.datetime(2013, 1, 27, 18, 43, 20))
        httputil.HTTPServerRequest(uri="/", headers=httputil.HTTPHeaders({"Cookie": "a=b"})).cookies
        """
    )
    loaded = _modules_after(code)
    assert {"email.utils", "calendar", "http.cookies"} <= loaded


def test_responses_table_is_the_standard_librarys() -> None:
    assert httputil.responses == http.client.responses
    assert httputil.responses[404] == "Not Found"
    assert httputil.responses[418] == "I'm a Teapot"


class CookieHandler(RequestHandler):
    def get(self) -> None:
        self.set_cookie("name", "a value; with specials", partitioned=True, secure=True)
        self.write("ok")


async def test_date_header_is_an_imf_fixdate(serve: Any) -> None:
    client = await serve(Application([("/", CookieHandler)]))
    response = await client.fetch("/")
    assert response.code == 200
    date = response.headers["Date"]
    # The cached per-second value is exactly what email.utils writes.
    parsed = email.utils.parsedate_to_datetime(date)
    assert date == email.utils.formatdate(parsed.timestamp(), usegmt=True)
    # The cookie class and coder are made on first use.
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith('name="a value\\073 with specials"; ')
    assert "Partitioned" in cookie and "Secure" in cookie


def test_cookie_morsels_pickle_in_a_fresh_process() -> None:
    # The Morsel class of set_cookie is made on first use; pickles of its
    # instances still load where it has not been made yet.
    import pickle

    from tornado import web

    morsel_class, _coder = web._cookie_tools()
    morsel = morsel_class()
    morsel.set("name", "value", "value")
    morsel["partitioned"] = True
    data = pickle.dumps(morsel)
    code = textwrap.dedent(
        f"""
        import pickle, sys
        morsel = pickle.loads({data!r})
        print(type(morsel).__module__, type(morsel).__qualname__, morsel.OutputString())
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split(None, 2) == [
        "tornado.web",
        "_CookieMorsel",
        "name=value; Partitioned\n",
    ]

"""tornado.routing: matchers, reversing, rule routers, nested routers and
applications, host-based routing (end to end where a server is involved)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tornado import httputil
from tornado.routing import (
    AnyMatches,
    HostMatches,
    PathMatches,
    ReversibleRuleRouter,
    Rule,
    RuleRouter,
    URLSpec,
)
from tornado.web import Application, RedirectHandler, RequestHandler, url


def request(path: str, host: str = "127.0.0.1", headers: dict[str, str] | None = None) -> Any:
    all_headers = httputil.HTTPHeaders({"Host": host, **(headers or {})})
    return httputil.HTTPServerRequest(method="GET", uri=path, headers=all_headers)


def test_path_matches_groups() -> None:
    assert PathMatches("/a/([0-9]+)").match(request("/a/42")) == {
        "path_args": [b"42"],
        "path_kwargs": {},
    }
    assert PathMatches("/a/([0-9]+)").match(request("/a/42/more")) is None
    assert PathMatches(r"/n/(?P<x>[^/]+)").match(request("/n/a%20b")) == {
        "path_args": [],
        "path_kwargs": {"x": b"a b"},
    }
    assert PathMatches(r"/o(/x)?").match(request("/o")) == {"path_args": [None], "path_kwargs": {}}
    assert PathMatches(re.compile("/exact$")).match(request("/exact")) is not None


def test_plain_text_patterns_match_as_their_regex_does() -> None:
    # Plain-text patterns are compared as strings; the answers are the
    # regex's, including "$" matching before a final newline.
    for pattern, paths in (
        ("/", ("/", "/\n", "", "/x", "//", "/\n\n")),
        ("/about", ("/about", "/about\n", "/about/", "/abou", "/aboutx", "/ABOUT")),
        ("/a b$", ("/a b", "/a b\n", "/a  b")),
        ("/v1.0", ("/v1.0", "/v1x0")),  # "." is regex syntax: the regex path
    ):
        matcher = PathMatches(pattern)
        regex = re.compile(pattern if pattern.endswith("$") else pattern + "$")
        for path in paths:
            expected = {"path_args": [], "path_kwargs": {}} if regex.match(path) else None
            assert matcher.match(request(path)) == expected, (pattern, path)


def test_assigned_regex_is_used() -> None:
    matcher = PathMatches("/old")
    matcher.regex = re.compile("/new$")
    assert matcher.match(request("/old")) is None
    assert matcher.match(request("/new")) == {"path_args": [], "path_kwargs": {}}


class _Named(RequestHandler):
    def initialize(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def get(self, *args: str) -> None:
        self.write(type(self).__name__)


class _First(_Named):
    pass


class _Second(_Named):
    pass


async def test_get_handler_delegate_override_may_decline(serve: Any) -> None:
    # An application whose get_handler_delegate returns None for a handler
    # class passes the request on to the next rule, as Tornado's routing
    # does; it is called with the same keyword arguments.
    calls: list[dict[str, Any]] = []

    class Picky(Application):
        def get_handler_delegate(self, request: Any, target_class: Any, **kwargs: Any) -> Any:
            calls.append(kwargs)
            if target_class is _First:
                return None
            return super().get_handler_delegate(request, target_class, **kwargs)

    app = Picky([("/x", _First, {}), (r"/(x)", _Second, {"unused": 1})])
    client = await serve(app)
    response = await client.fetch("/x")
    assert response.text == "_Second"
    assert calls == [
        {"path_args": [], "path_kwargs": {}},
        {"target_kwargs": {"unused": 1}, "path_args": [b"x"], "path_kwargs": {}},
    ]


class _ExtraParams(PathMatches):
    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        params = super().match(request)
        if params is not None:
            params["extra"] = True
        return params


def test_custom_matcher_params_reach_get_handler_delegate() -> None:
    # A matcher of another type goes the general way: its whole dict is
    # passed on as keyword arguments (here one get_handler_delegate refuses).
    app = Application([Rule(_ExtraParams("/"), _First)])
    with pytest.raises(TypeError, match="extra"):
        app.find_handler(request("/"))


def test_path_matches_reverse() -> None:
    assert PathMatches("/a/([0-9]+)/b").reverse(5) == "/a/5/b"
    # As Tornado does, "/" stays unescaped in reversed groups.
    assert PathMatches("/s/(.+)").reverse("x y/é&") == "/s/x%20y/%C3%A9%26"
    assert PathMatches(r"/favicon\.ico").reverse() == "/favicon.ico"
    assert PathMatches("/p/100%").reverse() == "/p/100%"
    with pytest.raises(ValueError):
        PathMatches("/a/(?:x|y)").reverse()
    with pytest.raises(ValueError):
        PathMatches("/a/([0-9]+)").reverse()


def test_host_matches() -> None:
    matcher = HostMatches(r"(www\.)?example\.com")
    assert matcher.match(request("/", host="www.example.com:8080")) == {}
    assert matcher.match(request("/", host="EXAMPLE.com")) == {}
    assert matcher.match(request("/", host="example.com.evil")) is None


def test_rule_router_and_reverse() -> None:
    inner = ReversibleRuleRouter([Rule(PathMatches("/inner/([a-z]+)"), object(), name="inner")])
    router = ReversibleRuleRouter(
        [
            ("/one", object(), {}, "one"),
            Rule(AnyMatches(), inner),
        ]
    )
    assert router.reverse_url("one") == "/one"
    assert router.reverse_url("inner", "abc") == "/inner/abc"
    assert router.reverse_url("missing") is None
    with pytest.raises(ValueError):
        RuleRouter([("/too", object(), {}, "x", "y")])


def test_urlspec_and_url_alias() -> None:
    spec = url(r"/u/(\d+)", RequestHandler, {"k": 1}, name="u")
    assert isinstance(spec, URLSpec)
    assert spec.regex.pattern == r"/u/(\d+)$"
    assert spec.handler_class is RequestHandler
    assert spec.kwargs == {"k": 1}
    assert spec.reverse(7) == "/u/7"
    assert "URLSpec" in repr(spec)


def test_string_target_is_imported() -> None:
    rule = Rule(AnyMatches(), "tornado.web.RequestHandler")
    assert rule.target is RequestHandler


class WhoHandler(RequestHandler):
    def initialize(self, who: str) -> None:
        self.who = who

    def get(self, *args: str) -> None:
        self.write(self.who + ":" + ",".join(args))


@pytest.mark.asyncio
async def test_nested_routers_and_applications(serve: Any) -> None:
    nested_app = Application([(r"/sub/app", WhoHandler, {"who": "nested-app"})])

    def plain_callback(req: httputil.HTTPServerRequest) -> None:
        body = b"callback:" + req.path.encode()
        assert req.connection is not None
        req.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 200, "OK"),
            httputil.HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        req.connection.finish()

    app = Application(
        [
            (r"/list/.*", [(r"/list/(a|b)", WhoHandler, {"who": "list"})]),
            Rule(PathMatches(r"/sub/.*"), nested_app),
            Rule(PathMatches(r"/cb/.*"), plain_callback),
            (r"/redir/(\w+)", RedirectHandler, {"url": "/to/{0}"}),
            (r"/", WhoHandler, {"who": "root"}),
        ]
    )
    client = await serve(app)
    assert (await client.fetch("/list/b")).body == b"list:b"
    assert (await client.fetch("/list/c")).code == 404
    assert (await client.fetch("/sub/app")).body == b"nested-app:"
    assert (await client.fetch("/sub/none")).code == 404
    assert (await client.fetch("/cb/x")).body == b"callback:/cb/x"
    response = await client.fetch("/redir/abc?q=1")
    assert (response.code, response.headers["Location"]) == (301, "/to/abc?q=1")
    assert (await client.fetch("/")).body == b"root:"


@pytest.mark.asyncio
async def test_add_handlers_by_host_and_default_host(serve: Any) -> None:
    app = Application([(r"/any", WhoHandler, {"who": "any"})], default_host="www.example.com")
    app.add_handlers(r"www\.example\.com", [(r"/", WhoHandler, {"who": "www"})])
    app.add_handlers(r"api\.example\.com", [(r"/v1", WhoHandler, {"who": "api"})])
    client = await serve(app)
    assert (await client.fetch("/", headers={"Host": "www.example.com"})).body == b"www:"
    assert (await client.fetch("/v1", headers={"Host": "api.example.com"})).body == b"api:"
    assert (await client.fetch("/v1", headers={"Host": "other.example"})).code == 404
    # Unknown hosts fall back to the default host's handlers.
    assert (await client.fetch("/", headers={"Host": "other.example"})).body == b"www:"
    # Behind a proxy (X-Real-Ip), the default host does not apply.
    response = await client.fetch("/", headers={"Host": "other.example", "X-Real-Ip": "1.2.3.4"})
    assert response.code == 404
    assert (await client.fetch("/any", headers={"Host": "www.example.com"})).body == b"any:"


@pytest.mark.asyncio
async def test_redirect_handler_refuses_open_redirects(serve: Any) -> None:
    client = await serve(
        Application(
            [
                (r"/a/(.*)/(.*)", RedirectHandler, {"url": "/{1}/a/{0}"}),
                (r"/any/(.*)", RedirectHandler, {"url": "/{0}"}),
            ]
        )
    )
    response = await client.fetch("/a/example.com/b")
    assert (response.code, response.headers["Location"]) == (301, "/b/a/example.com")
    for path in (
        "/any//evil.example/x",
        "/any/%5Cevil.example",
        "/any/%0Afoo",
        "/any/a%00b",
        "/any/%2F%2F%5B",
    ):
        response = await client.fetch(path)
        assert response.code == 400, path
        assert "Location" not in response.headers
    response = await client.fetch("/any/fine/path?q=1")
    assert (response.code, response.headers["Location"]) == (301, "/fine/path?q=1")


@pytest.mark.asyncio
async def test_redirect_handler_substitution_cannot_supply_scheme_or_host(serve: Any) -> None:
    client = await serve(
        Application(
            [
                (r"/hostless/(.*)", RedirectHandler, {"url": "https://{0}"}),
                (r"/schemeonly/(.*)", RedirectHandler, {"url": "https:{0}"}),
                (r"/moved(.*)", RedirectHandler, {"url": "https://example.com{0}"}),
            ]
        )
    )
    # Browsers skip any run of slashes (or none) after "https:", so each of
    # these would send the user to evil.com.
    for path in (
        "/hostless/evil.com",
        "/hostless//evil.com",
        "/schemeonly/evil.com",
        "/schemeonly/evil.com?x=1",
        "/schemeonly////evil.com",
        "/schemeonly/%5C%5Cevil.com",
        "/moved.evil.com/x",
        "/moved@evil.com/x",
        "/moved:8080/x",
    ):
        response = await client.fetch(path)
        assert response.code == 400, path
        assert "Location" not in response.headers
    response = await client.fetch("/moved/x")
    assert (response.code, response.headers["Location"]) == (301, "https://example.com/x")

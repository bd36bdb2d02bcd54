"""Flexible routing: map HTTP requests to the code that handles them.

A `Router` is an `~tornado.httputil.HTTPServerConnectionDelegate`, so any
router can be handed to `~tornado.httpserver.HTTPServer` directly.  For each
request it picks an `~tornado.httputil.HTTPMessageDelegate` with
`Router.find_handler`.  `tornado.web.Application` is one such router.

`RuleRouter` holds an ordered list of `Rule` objects; each rule pairs a
`Matcher` (which decides whether a request matches and what parameters it
extracts) with a target.  A target can be:

* another `Router` (its ``find_handler`` is asked in turn, so routers nest);
* an `~tornado.httputil.HTTPServerConnectionDelegate` (for example a whole
  `tornado.web.Application`);
* a callable taking the `~tornado.httputil.HTTPServerRequest` (plus the
  matcher's parameters as keyword arguments), which is called once the
  request body has been read.

Subclasses such as the application's router interpret other targets
(``RequestHandler`` subclasses) by overriding `RuleRouter.get_target_delegate`.

Matchers provided here: `AnyMatches`, `HostMatches`, `DefaultHostMatches` and
`PathMatches` (a regular expression over the request path, with capturing
groups passed on as ``path_args`` or ``path_kwargs``).  `ReversibleRuleRouter`
can rebuild a URL from a rule's name with `ReversibleRouter.reverse_url`.

Strategy: all regular expressions are compiled when a rule is added, and the
reversing template of a path pattern is computed once, so matching a request
is one ``re.match`` per rule tried.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Union

from tornado import httputil
from tornado.escape import url_escape, url_unescape, utf8
from tornado.log import app_log
from tornado.util import import_object, re_unescape

if TYPE_CHECKING:
    from tornado.web import Application

__all__ = [
    "AnyMatches",
    "DefaultHostMatches",
    "HostMatches",
    "Matcher",
    "PathMatches",
    "ReversibleRouter",
    "ReversibleRuleRouter",
    "Router",
    "Rule",
    "RuleRouter",
    "URLSpec",
]


class Router(httputil.HTTPServerConnectionDelegate):
    """Abstract router: chooses the message delegate for each request.

    Subclasses implement `find_handler`.
    """

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Return an `~tornado.httputil.HTTPMessageDelegate` for ``request``,
        or None if this router has nothing for it.

        ``kwargs`` carry routing parameters from an enclosing router.  The
        default implementation raises `NotImplementedError`.
        """
        raise NotImplementedError()

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """Return a delegate that routes the request once its headers arrive."""
        return _RoutingDelegate(self, server_conn, request_conn)


class ReversibleRouter(Router):
    """A router that can also build URLs from route names."""

    def reverse_url(self, name: str, *args: Any) -> str | None:
        """Return the URL of the route called ``name`` with ``args`` substituted
        for its groups, or None if no route has that name."""
        raise NotImplementedError()


class _RoutingDelegate(httputil.HTTPMessageDelegate):
    """Defers the routing decision until the start line and headers are known,
    then forwards every event to the chosen delegate."""

    __slots__ = ("delegate", "request_conn", "router", "server_conn")

    def __init__(
        self, router: Router, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> None:
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.router = router
        self.delegate: httputil.HTTPMessageDelegate | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        request = httputil.HTTPServerRequest(
            connection=self.request_conn,
            server_connection=self.server_conn,
            start_line=start_line,
            headers=headers,
        )
        delegate = self.router.find_handler(request)
        if delegate is None:
            app_log.debug(
                "Delegate for %s %s request not found", start_line.method, start_line.path
            )
            delegate = _NotFoundDelegate(self.request_conn)
        self.delegate = delegate
        return delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        assert self.delegate is not None
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        assert self.delegate is not None
        self.delegate.finish()

    def on_connection_close(self) -> None:
        if self.delegate is not None:
            self.delegate.on_connection_close()


class _NotFoundDelegate(httputil.HTTPMessageDelegate):
    """Answers 404 when no router claims a request."""

    def __init__(self, connection: httputil.HTTPConnection) -> None:
        self.connection = connection

    def finish(self) -> None:
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 404, "Not Found"),
            httputil.HTTPHeaders({"Content-Length": "0"}),
        )
        self.connection.finish()


class _CallableDelegate(httputil.HTTPMessageDelegate):
    """Collects the request body, then calls a plain request callback."""

    def __init__(
        self,
        callback: Callable[[httputil.HTTPServerRequest], None],
        request: httputil.HTTPServerRequest,
    ) -> None:
        self.callback = callback
        self.request = request
        self.chunks: list[bytes] = []

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        return None

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def finish(self) -> None:
        self.request.body = b"".join(self.chunks)
        self.request._parse_body()
        self.callback(self.request)

    def on_connection_close(self) -> None:
        self.chunks = []


class Matcher:
    """Decides whether a request matches a rule (abstract)."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return a dict of parameters for the target (possibly empty) if
        ``request`` matches, or None if it does not."""
        raise NotImplementedError()

    def reverse(self, *args: Any) -> str | None:
        """Rebuild a URL from ``args``, or return None if this matcher cannot."""
        return None


class AnyMatches(Matcher):
    """Matches every request."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return an empty parameter dict: every request matches."""
        return {}


class HostMatches(Matcher):
    """Matches requests whose host name (``request.host_name``) matches a
    regular expression (a string, anchored at the end if it is not, or a
    compiled pattern)."""

    def __init__(self, host_pattern: str | re.Pattern[str]) -> None:
        if isinstance(host_pattern, str):
            if not host_pattern.endswith("$"):
                host_pattern += "$"
            #: The compiled host pattern (anchored at the end).
            self.host_pattern = re.compile(host_pattern)
        else:
            self.host_pattern = host_pattern

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return ``{}`` if the request's host name matches, else None."""
        if self.host_pattern.match(request.host_name):
            return {}
        return None


class DefaultHostMatches(Matcher):
    """Matches when ``host_pattern`` matches the application's
    ``default_host`` setting, for requests without ``X-Real-Ip`` (requests
    coming through a proxy are routed by their own host)."""

    def __init__(self, application: Application, host_pattern: re.Pattern[str]) -> None:
        #: The application whose ``default_host`` is matched.
        self.application = application
        self.host_pattern = host_pattern

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return ``{}`` if the default host matches and no proxy is involved."""
        default_host = self.application.default_host
        if (
            default_host is not None
            and "X-Real-Ip" not in request.headers
            and self.host_pattern.match(default_host)
        ):
            return {}
        return None


def _unquote_or_none(value: str | None) -> bytes | None:
    # Unmatched optional groups stay None; matched ones are percent-decoded
    # to bytes so the handler can choose how to decode them.
    if value is None:
        return None
    return url_unescape(value, encoding=None, plus=False)


# Characters with a meaning in a regular expression; a path pattern without
# any of them (but its final "$") matches exactly its own text.
_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()")


class PathMatches(Matcher):
    """Matches the request path against a regular expression.

    The pattern is anchored at the end (``$`` is appended when missing).
    Named groups become ``path_kwargs``, otherwise unnamed groups become
    ``path_args``; both are percent-decoded `bytes` (or None for an optional
    group that did not take part).  Mixing named and unnamed groups is
    allowed, but then only the named ones are passed.
    """

    def __init__(self, path_pattern: str | re.Pattern[str]) -> None:
        if isinstance(path_pattern, str):
            if not path_pattern.endswith("$"):
                path_pattern += "$"
            #: The compiled path pattern (anchored at the end).
            self.regex = re.compile(path_pattern)
        else:
            self.regex = path_pattern
        self._path, self._group_count = self._find_groups()
        # A pattern that is plain text ("/", "/about") is matched by string
        # comparison.  The regex's "$" also matches before a final newline,
        # hence the second spelling.  Remembered with the regex it was made
        # from: assigning another `regex` turns the shortcut off.
        self._literal: tuple[str, str] | None = None
        self._literal_of = self.regex
        body = self.regex.pattern[:-1]
        if isinstance(path_pattern, str) and not _REGEX_SYNTAX.intersection(body):
            self._literal = (body, body + "\n")

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return ``{"path_args": [...], "path_kwargs": {...}}`` if the path
        matches, else None."""
        literal = self._literal
        if literal is not None and self.regex is self._literal_of:
            path = request.path
            if path == literal[0] or path == literal[1]:
                return {"path_args": [], "path_kwargs": {}}
            return None
        match = self.regex.match(request.path)
        if match is None:
            return None
        if not self.regex.groups:
            return {"path_args": [], "path_kwargs": {}}
        if self.regex.groupindex:
            return {
                "path_args": [],
                "path_kwargs": {k: _unquote_or_none(v) for k, v in match.groupdict().items()},
            }
        return {"path_args": [_unquote_or_none(g) for g in match.groups()], "path_kwargs": {}}

    def reverse(self, *args: Any) -> str | None:
        """Substitute ``args`` (str, bytes or anything `str` accepts) for the
        groups, percent-encoded.

        Raises `ValueError` if the pattern is too complex to reverse or the
        number of arguments differs from the number of groups.
        """
        if self._path is None:
            raise ValueError("Cannot reverse url regex " + self.regex.pattern)
        if len(args) != self._group_count:
            raise ValueError(
                "reverse of %r needs %d arguments, got %d"
                % (self.regex.pattern, self._group_count, len(args))
            )
        parts = []
        for arg in args:
            if not isinstance(arg, (str, bytes)):
                arg = str(arg)
            parts.append(url_escape(utf8(arg), plus=False))
        return self._path % tuple(parts)

    def _find_groups(self) -> tuple[str | None, int]:
        """Turn the pattern into a ``%s`` template, e.g. ``/a/([0-9]+)/b``
        becomes ``("/a/%s/b", 1)``; ``(None, n)`` when it cannot be done
        (nested groups, or regex syntax outside the groups)."""
        pattern = self.regex.pattern
        if pattern.startswith("^"):
            pattern = pattern[1:]
        if pattern.endswith("$"):
            pattern = pattern[:-1]
        if self.regex.groups != pattern.count("("):
            # "(" that are not capturing groups, or escaped parens: give up.
            return None, self.regex.groups
        pieces = []
        for fragment in pattern.split("("):
            if ")" in fragment:
                paren = fragment.index(")")
                try:
                    literal = re_unescape(fragment[paren + 1 :])
                except ValueError:
                    return None, self.regex.groups
                pieces.append("%s" + literal.replace("%", "%%"))
            else:
                try:
                    literal = re_unescape(fragment)
                except ValueError:
                    return None, self.regex.groups
                pieces.append(literal.replace("%", "%%"))
        return "".join(pieces), self.regex.groups


#: What may be given in place of a `Rule`: a rule, or a tuple of
#: ``(matcher or path pattern, target[, target_kwargs[, name]])``.
_RuleList = Sequence[Union["Rule", tuple[Any, ...], list[Any]]]


class Rule:
    """One routing rule: a `Matcher`, a target, keyword arguments for the
    target and an optional name (used by `ReversibleRouter.reverse_url`).

    A string target is imported with `tornado.util.import_object`.
    """

    def __init__(
        self,
        matcher: Matcher,
        target: Any,
        target_kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(target, str):
            target = import_object(target)
        #: The `Matcher` that decides whether a request is for this rule.
        self.matcher = matcher
        #: What a matching request is routed to: a handler class, a router, or a callable.
        self.target = target
        #: Keyword arguments for the target (a handler's ``initialize`` arguments).
        self.target_kwargs = target_kwargs if target_kwargs else {}
        #: The rule's name for `ReversibleRouter.reverse_url`, or None.
        self.name = name

    def reverse(self, *args: Any) -> str | None:
        """Rebuild a URL with the rule's matcher (see `Matcher.reverse`)."""
        return self.matcher.reverse(*args)

    def __repr__(self) -> str:
        return "%s(%r, %s, kwargs=%r, name=%r)" % (
            type(self).__name__,
            self.matcher,
            self.target,
            self.target_kwargs,
            self.name,
        )


class RuleRouter(Router):
    """A router that tries its rules in order and uses the first match."""

    def __init__(self, rules: _RuleList | None = None) -> None:
        """``rules`` are `Rule` instances or tuples ``(matcher, target)``,
        ``(matcher, target, kwargs)`` or ``(matcher, target, kwargs, name)``
        where a string matcher is a `PathMatches` pattern."""
        #: The `Rule` objects, tried in order.
        self.rules: list[Rule] = []
        if rules:
            self.add_rules(rules)

    def add_rules(self, rules: _RuleList) -> None:
        """Append rules (in the forms the constructor accepts).

        Raises `TypeError`/`ValueError` for a malformed tuple.
        """
        for rule in rules:
            if isinstance(rule, (tuple, list)):
                if not 2 <= len(rule) <= 4:
                    raise ValueError("a rule tuple needs 2 to 4 items, got %r" % (rule,))
                if isinstance(rule[0], (str, re.Pattern)):
                    rule = Rule(PathMatches(rule[0]), *rule[1:])
                else:
                    rule = Rule(*rule)
            self.rules.append(self.process_rule(rule))

    def process_rule(self, rule: Rule) -> Rule:
        """Hook to check or transform each rule as it is added; returns it."""
        return rule

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Return the delegate of the first rule that matches and whose target
        accepts the request, or None."""
        for rule in self.rules:
            params = rule.matcher.match(request)
            if params is not None:
                if rule.target_kwargs:
                    params["target_kwargs"] = rule.target_kwargs
                delegate = self.get_target_delegate(rule.target, request, **params)
                if delegate is not None:
                    return delegate
        return None

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Turn a rule's target into a message delegate for ``request``.

        Handles routers, connection delegates and plain callables; returns
        None for anything else (subclasses extend this).
        """
        if isinstance(target, Router):
            return target.find_handler(request, **target_params)
        if isinstance(target, httputil.HTTPServerConnectionDelegate):
            assert request.connection is not None
            return target.start_request(request.server_connection, request.connection)
        if callable(target):
            extra = target_params.get("target_kwargs", {})
            return _CallableDelegate(partial(target, **extra), request)
        return None


class ReversibleRuleRouter(ReversibleRouter, RuleRouter):
    """A rule router that remembers named rules so URLs can be rebuilt."""

    def __init__(self, rules: _RuleList | None = None) -> None:
        """See `RuleRouter`."""
        #: Named rules by name, for `reverse_url`.
        self.named_rules: dict[str, Rule] = {}
        super().__init__(rules)

    def process_rule(self, rule: Rule) -> Rule:
        """Register the rule's name; a duplicate name is logged and the later
        rule wins."""
        rule = super().process_rule(rule)
        if rule.name:
            if rule.name in self.named_rules:
                app_log.warning("Multiple handlers named %s; replacing previous value", rule.name)
            self.named_rules[rule.name] = rule
        return rule

    def reverse_url(self, name: str, *args: Any) -> str | None:
        """Rebuild the URL of rule ``name``; nested reversible routers are
        asked too.  Returns None if no rule has that name."""
        if name in self.named_rules:
            return self.named_rules[name].matcher.reverse(*args)
        for rule in self.rules:
            if isinstance(rule.target, ReversibleRouter):
                url = rule.target.reverse_url(name, *args)
                if url is not None:
                    return url
        return None


class URLSpec(Rule):
    """A `Rule` with a `PathMatches` matcher and a handler target: the
    classic ``(regex, handler, kwargs, name)`` entry of an application.

    Attributes ``regex`` (the compiled pattern), ``handler_class`` and
    ``kwargs`` mirror the constructor.
    """

    def __init__(
        self,
        pattern: str | re.Pattern[str],
        handler: Any,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        matcher = PathMatches(pattern)
        super().__init__(matcher, handler, kwargs, name)
        self.regex = matcher.regex
        self.handler_class = self.target
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return "%s(%r, %s, kwargs=%r, name=%r)" % (
            type(self).__name__,
            self.regex.pattern,
            self.handler_class,
            self.kwargs,
            self.name,
        )

"""Escaping and unescaping for HTML, URLs and JSON, and bytes/str conversion.

Also holds a few string helpers that templates use (`squeeze`,
`linkify`).  Most functions are thin wrappers over the standard library
(`html`, `urllib.parse`, `json`); what they add is accepting both `bytes`
and `str` and always returning `str`, which is what the template engine
and request handlers want.  Those standard modules are imported on first
use, so that importing this module (and so ``tornado.template``) is cheap.

The exact output of these functions is part of the contract: templates
rendered with them must be byte-identical to Tornado's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, overload

__all__ = [
    "json_decode",
    "json_encode",
    "linkify",
    "native_str",
    "parse_qs_bytes",
    "recursive_unicode",
    "squeeze",
    "to_basestring",
    "to_unicode",
    "url_escape",
    "url_unescape",
    "utf8",
    "xhtml_escape",
    "xhtml_unescape",
]


def xhtml_escape(value: str | bytes) -> str:
    """Escape ``value`` for use in HTML or XML text and quoted attributes.

    ``&``, ``<``, ``>``, ``"`` and ``'`` become ``&amp;``, ``&lt;``,
    ``&gt;``, ``&quot;`` and ``&#x27;`` (as `html.escape` does).  Bytes are
    decoded as UTF-8 first; the result is always `str`.

    Raises `TypeError` if ``value`` is neither `str` nor `bytes`.
    """
    return _escape_str(to_unicode(value))


def _escape_str(text: str) -> str:
    """`xhtml_escape` of a `str`, without the type handling (template hot path)."""
    # The same replacements, in the same order, as html.escape; spelled out
    # so that importing this module does not import html (and its large
    # entity table), which matters for template import time.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def xhtml_unescape(value: str | bytes) -> str:
    """Replace named and numeric character references by their characters.

    Equivalent to `html.unescape` but accepts UTF-8 `bytes` and always
    returns `str`.  Raises `TypeError` for other types.
    """
    import html

    return html.unescape(to_unicode(value))


def url_escape(value: str | bytes, plus: bool = True) -> str:
    """Percent-encode ``value`` for use in a URL.

    With ``plus`` true (the default) spaces become ``+`` and ``/`` is
    encoded, which suits query strings and form values; with ``plus``
    false spaces become ``%20`` and ``/`` is left alone, which suits path
    segments.  `str` input is encoded as UTF-8 first.

    Raises `TypeError` if ``value`` is neither `str` nor `bytes`.
    """
    import urllib.parse

    data = utf8(value)
    if plus:
        return urllib.parse.quote_plus(data)
    return urllib.parse.quote(data)


@overload
def url_unescape(value: str | bytes, encoding: None, plus: bool = True) -> bytes: ...


@overload
def url_unescape(value: str | bytes, encoding: str = "utf-8", plus: bool = True) -> str: ...


def url_unescape(
    value: str | bytes, encoding: str | None = "utf-8", plus: bool = True
) -> str | bytes:
    """Decode a percent-encoded URL component.

    ``value`` may be `str` or `bytes`.  With ``encoding`` None the result
    is the raw `bytes`; otherwise the bytes are decoded with ``encoding``
    (undecodable sequences become U+FFFD).  With ``plus`` true (the
    default) ``+`` means a space, as in query strings; pass ``plus=False``
    for path segments, where ``+`` is literal.

    Raises `TypeError` if ``value`` is neither `str` nor `bytes`.
    """
    import urllib.parse

    if encoding is None:
        if not plus:
            # Bytes go straight through, so a path with undecodable octets
            # still round-trips.
            return urllib.parse.unquote_to_bytes(value)
        return urllib.parse.unquote_to_bytes(to_unicode(value).replace("+", " "))
    text = to_unicode(value)
    if plus:
        text = text.replace("+", " ")
    return urllib.parse.unquote(text, encoding=encoding)


_PERCENT_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


@functools.cache
def _escaped_bytes() -> dict[bytes, bytes]:
    """Every two-hex-digit spelling (any case) mapped to its byte.

    Built on first use (not at import time); decoding an escape then
    returns a shared one-byte object instead of allocating one.
    """
    table: dict[bytes, bytes] = {}
    for code in range(256):
        byte = bytes((code,))
        hi, lo = b"%02x" % code
        for a in {hi, bytes((hi,)).upper()[0]}:
            for b in {lo, bytes((lo,)).upper()[0]}:
                table[bytes((a, b))] = byte
    return table


def _percent_byte(match: re.Match[bytes]) -> bytes:
    """The single byte a ``%XX`` escape stands for."""
    return _escaped_bytes()[match.group(1)]


#: Input is decoded this many bytes at a time: `re.sub` needs tens of bytes
#: of scratch memory per escape, so a long value is never handed to it whole.
_UNQUOTE_CHUNK = 8192


def _unquote_to_bytes(value: str | bytes) -> bytes:
    """Replace every ``%XX`` escape (two hex digits) in *value* with its byte.

    The same result as `urllib.parse.unquote_to_bytes`: a ``%`` that is
    not followed by two hex digits stays as it is, ``+`` is not touched,
    and a `str` argument is UTF-8 encoded first.  Unlike the standard
    library, it allocates no object per escape, so the memory it needs
    stays a small multiple of the input size.
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if b"%" not in data:
        return data
    if len(data) <= _UNQUOTE_CHUNK:
        return _PERCENT_ESCAPE.sub(_percent_byte, data)
    pieces = []
    start = 0
    while start < len(data):
        end = start + _UNQUOTE_CHUNK
        if end < len(data):
            # An escape is a '%' and the two hex digits after it, and no
            # escape contains a '%' past its first byte: cutting just before
            # a '%' in the last two bytes never splits one.
            if data[end - 1] == 0x25:
                end -= 1
            elif data[end - 2] == 0x25:
                end -= 2
        pieces.append(_PERCENT_ESCAPE.sub(_percent_byte, data[start:end]))
        start = end
    return b"".join(pieces)


def parse_qs_bytes(
    qs: str | bytes,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    *,
    max_num_fields: int | None = None,
) -> dict[str, list[bytes]]:
    """Parse a query string into a dict of names to lists of `bytes` values.

    Like `urllib.parse.parse_qs`, but the values stay undecoded bytes so
    the caller can choose their charset (names are decoded as latin-1,
    which maps bytes to code points one to one).  ``strict_parsing`` makes
    malformed pairs raise `ValueError`; so does a query string with more
    than ``max_num_fields`` fields (separated by ``&``) when that limit is
    given.
    """
    data = qs.encode("latin1") if isinstance(qs, str) else bytes(qs)
    sep = b"&"
    if max_num_fields is not None and data.count(sep) + 1 > max_num_fields:
        raise ValueError("Max number of fields exceeded")
    # Percent-escapes are decoded straight to bytes (never through a str
    # per escape, as the standard library does), which keeps the memory a
    # long escaped value costs within a small multiple of its size.
    result: dict[str, list[bytes]] = {}
    if not data:
        # Even with strict_parsing an empty query string is just empty.
        return result
    for field in data.split(sep):
        if not field and not strict_parsing:
            continue
        name, equals, value = field.partition(b"=")
        if not equals:
            if strict_parsing:
                raise ValueError(f"bad query field: {field.decode('latin1')!r}")
            if not keep_blank_values:
                continue
        if not value and not keep_blank_values:
            continue
        key = _unquote_to_bytes(name.replace(b"+", b" ")).decode("latin1")
        result.setdefault(key, []).append(_unquote_to_bytes(value.replace(b"+", b" ")))
    return result


def json_encode(value: Any) -> str:
    """Serialize ``value`` to JSON that is safe to embed in a ``<script>`` block.

    ``</`` is written as ``<\\/`` (an equivalent JSON escape) so that a
    string containing ``</script>`` cannot end the script element early.

    Raises `TypeError` for values `json` cannot serialize.
    """
    import json

    return json.dumps(value).replace("</", "<\\/")


def json_decode(value: str | bytes) -> Any:
    """Parse a JSON document given as `str` or UTF-8 `bytes`.

    Raises `json.JSONDecodeError` (a `ValueError`) for malformed input.
    """
    import json

    return json.loads(value)


_CONTROL_AND_SPACE_RUNS = re.compile(r"[\x00-\x20]+")


def squeeze(value: str) -> str:
    """Collapse each run of whitespace and control characters to one space.

    Also strips leading and trailing whitespace.
    """
    return _CONTROL_AND_SPACE_RUNS.sub(" ", value).strip()


def _type_error(value: object) -> TypeError:
    return TypeError(f"Expected bytes, unicode, or None; got {type(value)!r}")


@overload
def utf8(value: bytes) -> bytes: ...


@overload
def utf8(value: str) -> bytes: ...


@overload
def utf8(value: None) -> None: ...


def utf8(value: str | bytes | None) -> bytes | None:
    """Return ``value`` as `bytes`, encoding a `str` as UTF-8.

    `bytes` and None are returned unchanged.  Raises `TypeError` for any
    other type, naming it: ``Expected bytes, unicode, or None; got
    <class 'int'>``.
    """
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise _type_error(value)
    return value.encode("utf-8")


@overload
def to_unicode(value: str) -> str: ...


@overload
def to_unicode(value: bytes) -> str: ...


@overload
def to_unicode(value: None) -> None: ...


def to_unicode(value: str | bytes | None) -> str | None:
    """Return ``value`` as `str`, decoding `bytes` as UTF-8.

    `str` and None are returned unchanged.  Raises `TypeError` for any
    other type (naming it, as `utf8` does) and `UnicodeDecodeError` for
    bytes that are not valid UTF-8.
    """
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise _type_error(value)
    return value.decode("utf-8")


#: Deprecated alias of `to_unicode` (from the Python 2 era, when the
#: native string type differed between versions).
native_str = to_unicode

#: Deprecated alias of `to_unicode`.
to_basestring = to_unicode

# Short private name used by other Tornado modules.
_unicode = to_unicode


def recursive_unicode(obj: Any) -> Any:
    """Decode every `bytes` inside nested dicts, lists and tuples to `str`.

    Dict keys are converted too.  Other objects are returned unchanged.
    Raises `UnicodeDecodeError` for bytes that are not valid UTF-8.
    """
    if isinstance(obj, dict):
        return {recursive_unicode(k): recursive_unicode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recursive_unicode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(recursive_unicode(item) for item in obj)
    if isinstance(obj, bytes):
        return to_unicode(obj)
    return obj


# linkify runs on text that has already been HTML-escaped, so the only
# entities it can meet are &amp; &lt; &gt; &quot; and &#x27;.  A URL may
# contain &amp; and &quot; (escaped & and "), but the other entities end it:
# they stand for characters that cannot appear in a bare URL.
_URL_CHAR = r"(?:[^\s&()]|&amp;|&quot;)"
# A URL does not end with punctuation, so "see http://x.com." links only
# "http://x.com".
_URL_LAST_CHAR = r"[^\s!\"#$%&'()*+,.:;<=>?@\[\]^`{|}~]"
# Parentheses are allowed only when balanced (Wikipedia-style URLs).
_URL_PAREN_GROUP = rf"\({_URL_CHAR}*\)"
_URL_START = r"(?:([\w-]+):(/{1,3})|www[.])"
_URL_SOURCE = rf"\b({_URL_START}(?:{_URL_CHAR}*{_URL_LAST_CHAR}|{_URL_PAREN_GROUP})+)"


@functools.cache
def _url_pattern() -> re.Pattern[str]:
    # Compiled on first use: importers that never call linkify (most
    # templates) should not pay for compiling this pattern.
    return re.compile(_URL_SOURCE)


# Displayed link text is shortened to roughly this many characters.
_SHORTEN_TARGET = 30


def _shorten_link_text(url: str, proto: str | None, slashes: str | None) -> str | None:
    """Return a shortened display text for ``url``, or None to keep it whole."""
    if proto:
        prefix_len = len(proto) + 1 + len(slashes or "")
    else:
        prefix_len = 0
    text = url
    host, *path = url[prefix_len:].split("/")
    if path:
        # Keep the host and a hint of the first path segment; the rest of
        # a long path (slugs, ids) tells the reader little.
        hint = path[0][:8].split("?")[0].split(".")[0]
        text = url[:prefix_len] + host + "/" + hint
    if len(text) > _SHORTEN_TARGET * 1.5:
        text = text[:_SHORTEN_TARGET]
    if text == url:
        return None
    # Do not leave half an entity such as "&am" dangling at the end.
    amp = text.rfind("&")
    if amp > _SHORTEN_TARGET - 5:
        text = text[:amp]
    text += "..."
    if len(text) >= len(url):
        return None
    return text


def linkify(
    text: str | bytes,
    shorten: bool = False,
    extra_params: str | Callable[[str], str] = "",
    require_protocol: bool = False,
    permitted_protocols: list[str] = ["http", "https"],  # noqa: B006
) -> str:
    """HTML-escape ``text`` and turn the URLs in it into ``<a>`` links.

    A URL is either ``scheme://...`` or starts with ``www.``; links without
    a scheme get ``http://`` in their ``href``.

    Parameters:

    * ``shorten``: shorten long URLs in the displayed text (the full URL
      becomes the link's ``title``).
    * ``extra_params``: extra attributes for the ``<a>`` tag, such as
      ``'rel="nofollow" class="external"'``, or a callable that takes the
      link's URL and returns such a string.
    * ``require_protocol``: only link URLs that have a scheme (so
      ``www.x.com`` stays plain text).
    * ``permitted_protocols``: schemes that may be linked; URLs with any
      other scheme (``javascript:``, ``data:`` ...) stay plain text.  The
      default allows ``http`` and ``https``.

    Raises `TypeError` if ``text`` is neither `str` nor `bytes`.
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def make_link(match: re.Match[str]) -> str:
        url = match.group(1)
        proto = match.group(2)
        if (require_protocol and not proto) or (proto and proto not in permitted_protocols):
            return url
        href = url if proto else "http://" + url
        if callable(extra_params):
            params = " " + extra_params(href).strip()
        else:
            params = extra_params
        if shorten and len(url) > _SHORTEN_TARGET:
            short = _shorten_link_text(url, proto, match.group(3))
            if short is not None:
                # The full URL stays visible on hover.
                params += f' title="{href}"'
                url = short
        return f'<a href="{href}"{params}>{url}</a>'

    # Escaping first means everything we emit, including the href, is
    # already safe; the pattern is written for escaped text.
    return _url_pattern().sub(make_link, xhtml_escape(text))

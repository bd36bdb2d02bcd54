"""Tests for tornado.escape."""

from __future__ import annotations

import html
import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tornado.escape import (
    _unquote_to_bytes,
    json_decode,
    json_encode,
    linkify,
    native_str,
    parse_qs_bytes,
    recursive_unicode,
    squeeze,
    to_basestring,
    to_unicode,
    url_escape,
    url_unescape,
    utf8,
    xhtml_escape,
    xhtml_unescape,
)

# --- xhtml_escape / xhtml_unescape -------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("<b>", "&lt;b&gt;"),
        ("a & b", "a &amp; b"),
        ('say "hi"', "say &quot;hi&quot;"),
        ("it's", "it&#x27;s"),
        ("&amp;", "&amp;amp;"),
        ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
        (b"<bytes>", "&lt;bytes&gt;"),
        ("caf\u00e9".encode(), "caf\u00e9"),
    ],
)
def test_xhtml_escape_known_values(raw: str | bytes, escaped: str) -> None:
    assert xhtml_escape(raw) == escaped


def test_xhtml_escape_returns_str_for_bytes() -> None:
    assert type(xhtml_escape(b"x")) is str


@pytest.mark.parametrize(
    ("escaped", "raw"),
    [
        ("&lt;b&gt;", "<b>"),
        ("&amp;amp;", "&amp;"),
        ("&quot;&#39;&#x27;&#X27;", "\"'''"),
        ("&eacute;&nbsp;&copy;", "\u00e9\u00a0\u00a9"),
        ("&#233;&#xe9;", "\u00e9\u00e9"),
        ("&zzunknown;", "&zzunknown;"),
        ("&notit;", "\u00acit;"),
        ("a & b", "a & b"),
        (b"&lt;bytes&gt;", "<bytes>"),
    ],
)
def test_xhtml_unescape_known_values(escaped: str | bytes, raw: str) -> None:
    assert xhtml_unescape(escaped) == raw


@given(st.text())
def test_xhtml_escape_round_trips(text: str) -> None:
    assert xhtml_unescape(xhtml_escape(text)) == text


@given(st.text())
def test_xhtml_escape_leaves_no_markup_characters(text: str) -> None:
    escaped = xhtml_escape(text)
    for ch in "<>\"'":
        assert ch not in escaped
    # Every ampersand starts one of the five entities we emit.
    stripped = escaped
    for entity in ("&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"):
        stripped = stripped.replace(entity, "")
    assert "&" not in stripped


@pytest.mark.parametrize("func", [xhtml_escape, xhtml_unescape])
def test_html_functions_reject_other_types(func: Any) -> None:
    with pytest.raises(TypeError, match=r"Expected bytes, unicode, or None; got <class 'int'>"):
        func(42)


# --- url_escape / url_unescape ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plus", "escaped"),
    [
        ("a b", True, "a+b"),
        ("a b", False, "a%20b"),
        ("a/b", True, "a%2Fb"),
        ("a/b", False, "a/b"),
        ("a+b", True, "a%2Bb"),
        ("a+b", False, "a%2Bb"),
        ("\u00e9", True, "%C3%A9"),
        (b"\xe9", True, "%E9"),
        ("~_.-", True, "~_.-"),
        ("?&=#", True, "%3F%26%3D%23"),
    ],
)
def test_url_escape_known_values(raw: str | bytes, plus: bool, escaped: str) -> None:
    assert url_escape(raw, plus=plus) == escaped


def test_url_escape_defaults_to_plus() -> None:
    assert url_escape("a b") == "a+b"


@pytest.mark.parametrize(
    ("escaped", "kwargs", "result"),
    [
        ("a+b%20c", {}, "a b c"),
        ("a+b%20c", {"plus": False}, "a+b c"),
        ("%C3%A9", {}, "\u00e9"),
        (b"%C3%A9", {}, "\u00e9"),
        ("%E9", {"encoding": "latin1"}, "\u00e9"),
        ("%E9", {}, "\ufffd"),
        ("%C3%A9+x", {"encoding": None}, b"\xc3\xa9 x"),
        ("%C3%A9+x", {"encoding": None, "plus": False}, b"\xc3\xa9+x"),
        (b"\xff%20+", {"encoding": None, "plus": False}, b"\xff +"),
    ],
)
def test_url_unescape_known_values(
    escaped: str | bytes, kwargs: dict[str, Any], result: str | bytes
) -> None:
    assert url_unescape(escaped, **kwargs) == result


@given(st.text(), st.booleans())
def test_url_escape_round_trips_text(text: str, plus: bool) -> None:
    assert url_unescape(url_escape(text, plus=plus), plus=plus) == text


@given(st.binary(), st.booleans())
def test_url_escape_round_trips_bytes(data: bytes, plus: bool) -> None:
    assert url_unescape(url_escape(data, plus=plus), encoding=None, plus=plus) == data


@given(st.text())
def test_url_escape_with_plus_matches_form_encoding(text: str) -> None:
    assert url_escape(text) == urllib.parse.urlencode({"k": text})[2:]


@pytest.mark.parametrize("func", [url_escape, url_unescape])
def test_url_functions_reject_other_types(func: Any) -> None:
    with pytest.raises(TypeError, match="got <class 'float'>"):
        func(1.5)


# --- parse_qs_bytes -----------------------------------------------------------


def test_parse_qs_bytes_keeps_values_as_bytes() -> None:
    result = parse_qs_bytes(b"a=1&a=%E9&b=%C3%A9&c=x+y")
    assert result == {"a": [b"1", b"\xe9"], "b": [b"\xc3\xa9"], "c": [b"x y"]}


def test_parse_qs_bytes_accepts_str() -> None:
    assert parse_qs_bytes("k=v") == {"k": [b"v"]}


def test_parse_qs_bytes_names_are_latin1_strings() -> None:
    assert parse_qs_bytes(b"%E9=1") == {"\u00e9": [b"1"]}


def test_parse_qs_bytes_blank_values() -> None:
    assert parse_qs_bytes("a=&b=1") == {"b": [b"1"]}
    assert parse_qs_bytes("a=&b=1", keep_blank_values=True) == {"a": [b""], "b": [b"1"]}


def test_parse_qs_bytes_strict_parsing_rejects_malformed_pairs() -> None:
    assert parse_qs_bytes("a=1&junk") == {"a": [b"1"]}
    with pytest.raises(ValueError, match="junk"):
        parse_qs_bytes("a=1&junk", strict_parsing=True)


def test_parse_qs_bytes_max_num_fields() -> None:
    assert parse_qs_bytes("a=1&b=2", max_num_fields=2) == {"a": [b"1"], "b": [b"2"]}
    with pytest.raises(ValueError):
        parse_qs_bytes("a=1&b=2", max_num_fields=1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain",
        b"%41%3d%3D%25",
        b"%%41",
        b"%%%",
        b"%zz%4",
        b"a%",
        b"%\r\nb",
        b"=%41=",
        b"+%20+",
    ],
)
def test_unquote_to_bytes_edge_cases(data: bytes) -> None:
    assert _unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)


@given(st.lists(st.sampled_from(["%", "4", "1", "z", "=", "\n", "+", "%4", "%e9", "a"])))
def test_unquote_to_bytes_matches_stdlib(pieces: list[str]) -> None:
    data = "".join(pieces)
    assert _unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)
    assert _unquote_to_bytes(data.encode()) == urllib.parse.unquote_to_bytes(data.encode())


@pytest.mark.parametrize("shift", range(5))
@pytest.mark.parametrize("filler", [b"%41", b"%", b"%%4", b"x%4"])
def test_unquote_to_bytes_long_input_across_chunks(shift: int, filler: bytes) -> None:
    # Long inputs are decoded in pieces; escapes around every cut must survive.
    data = b"y" * shift + filler * 10_000 + b"%4a%"
    assert _unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)


@pytest.mark.parametrize("value", [b"%41" * 100_000, b"%" * 300_000])
def test_parse_qs_bytes_memory_stays_proportional(value: bytes) -> None:
    import tracemalloc

    query = b"a=" + value
    tracemalloc.start()
    try:
        parse_qs_bytes(query)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * len(query)


def _outcome(parse: Any) -> Any:
    try:
        return parse()
    except ValueError:
        return "ValueError"


@given(
    st.lists(st.sampled_from(["a", "=", "&", "+", "%41", "%", "%e9", "b", "==", ";", "\r"])),
    st.booleans(),
    st.booleans(),
)
def test_parse_qs_bytes_agrees_with_stdlib(
    pieces: list[str], keep_blank: bool, strict: bool
) -> None:
    query = "".join(pieces)

    def stdlib() -> dict[str, list[bytes]]:
        parsed = urllib.parse.parse_qs(query, keep_blank, strict, encoding="latin1")
        return {k: [v.encode("latin1") for v in vs] for k, vs in parsed.items()}

    expected = _outcome(stdlib)
    assert _outcome(lambda: parse_qs_bytes(query, keep_blank, strict)) == expected
    encoded = query.encode("latin1")
    assert _outcome(lambda: parse_qs_bytes(encoded, keep_blank, strict)) == expected


def test_parse_qs_bytes_empty_query_is_empty_even_when_strict() -> None:
    assert parse_qs_bytes(b"", strict_parsing=True) == {}
    assert parse_qs_bytes("", keep_blank_values=True) == {}


@given(st.dictionaries(st.text(min_size=1), st.binary(min_size=1)))
def test_parse_qs_bytes_inverts_urlencode(pairs: dict[str, bytes]) -> None:
    query = "&".join(url_escape(k) + "=" + url_escape(v) for k, v in pairs.items())
    parsed = parse_qs_bytes(query)
    expected = {k.encode("utf-8").decode("latin1"): [v] for k, v in pairs.items()}
    assert parsed == expected


# --- JSON ---------------------------------------------------------------------


def test_json_encode_escapes_closing_tags() -> None:
    assert json_encode("</script>") == '"<\\/script>"'
    assert json_encode({"k": ["</a>"]}) == '{"k": ["<\\/a>"]}'


def test_json_encode_plain_values_match_json_dumps() -> None:
    value = {"a": 1, "b": [True, None, 1.5], "c": "\u00e9"}
    assert json_encode(value) == json.dumps(value)


def test_json_encode_rejects_unserializable() -> None:
    with pytest.raises(TypeError, match="set"):
        json_encode({1, 2})


@pytest.mark.parametrize("doc", ['{"a": [1, "x"]}', b'{"a": [1, "x"]}'])
def test_json_decode_accepts_str_and_bytes(doc: str | bytes) -> None:
    assert json_decode(doc) == {"a": [1, "x"]}


def test_json_decode_rejects_malformed() -> None:
    with pytest.raises(ValueError):
        json_decode("{not json")


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_json_round_trip(value: Any) -> None:
    encoded = json_encode(value)
    assert "</" not in encoded
    assert json_decode(encoded) == value


# --- squeeze ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "squeezed"),
    [
        ("  a  b\t\tc\n\n", "a b c"),
        ("a\x00\x01b", "a b"),
        ("", ""),
        ("a\u00a0\u00a0b", "a\u00a0\u00a0b"),
        ("one", "one"),
    ],
)
def test_squeeze(raw: str, squeezed: str) -> None:
    assert squeeze(raw) == squeezed


# --- bytes / str conversion -----------------------------------------------------


def test_utf8() -> None:
    assert utf8("\u00e9") == b"\xc3\xa9"
    data = b"\xff"
    assert utf8(data) is data
    assert utf8(None) is None


def test_to_unicode() -> None:
    assert to_unicode(b"\xc3\xa9") == "\u00e9"
    text = "x"
    assert to_unicode(text) is text
    assert to_unicode(None) is None


def test_to_unicode_rejects_invalid_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        to_unicode(b"\xff")


@pytest.mark.parametrize("func", [utf8, to_unicode, native_str, to_basestring])
@pytest.mark.parametrize("value", [1, 1.0, [b"x"], bytearray(b"x")])
def test_conversions_reject_other_types_naming_the_type(func: Any, value: object) -> None:
    expected = f"Expected bytes, unicode, or None; got {type(value)!r}"
    with pytest.raises(TypeError) as info:
        func(value)
    assert str(info.value) == expected


def test_aliases_behave_like_to_unicode() -> None:
    for func in (native_str, to_basestring):
        assert func(b"a") == "a"
        assert func("b") == "b"
        assert func(None) is None


def test_recursive_unicode() -> None:
    value = {b"k": [b"v", (b"t", 1)], "s": b"\xc3\xa9", 3: None}
    assert recursive_unicode(value) == {"k": ["v", ("t", 1)], "s": "\u00e9", 3: None}
    result = recursive_unicode((b"a",))
    assert type(result) is tuple


@given(st.text(), st.text())
def test_utf8_to_unicode_round_trip(a: str, b: str) -> None:
    assert to_unicode(utf8(a)) == a
    assert recursive_unicode([utf8(a), {utf8(b): utf8(a)}]) == [a, {b: a}]


# --- linkify ------------------------------------------------------------------

LINKIFY_CASES: list[tuple[str | bytes, dict[str, Any], str]] = [
    ("no links here", {}, "no links here"),
    (
        "see http://example.com",
        {},
        'see <a href="http://example.com">http://example.com</a>',
    ),
    (
        "go to www.example.com now",
        {},
        'go to <a href="http://www.example.com">www.example.com</a> now',
    ),
    (
        "trailing dot http://example.com/a.",
        {},
        'trailing dot <a href="http://example.com/a">http://example.com/a</a>.',
    ),
    (
        "(http://example.com)",
        {},
        '(<a href="http://example.com">http://example.com</a>)',
    ),
    (
        "http://en.wikipedia.org/wiki/Foo_(bar)",
        {},
        '<a href="http://en.wikipedia.org/wiki/Foo_(bar)">http://en.wikipedia.org/wiki/Foo_(bar)</a>',
    ),
    (
        "http://x.com/?a=1&b=2",
        {},
        '<a href="http://x.com/?a=1&amp;b=2">http://x.com/?a=1&amp;b=2</a>',
    ),
    (
        '<http://x.com/"q">',
        {},
        '&lt;<a href="http://x.com/&quot;q">http://x.com/&quot;q</a>&quot;&gt;',
    ),
    ("http://x.com/it's", {}, '<a href="http://x.com/it">http://x.com/it</a>&#x27;s'),
    ("javascript:alert(1)", {}, "javascript:alert(1)"),
    ("ftp://files.example.com/x", {}, "ftp://files.example.com/x"),
    (
        "ftp://files.example.com/x",
        {"permitted_protocols": ["ftp"]},
        '<a href="ftp://files.example.com/x">ftp://files.example.com/x</a>',
    ),
    (
        "https://secure.example.com",
        {"permitted_protocols": ["http"]},
        "https://secure.example.com",
    ),
    ("www.example.com", {"require_protocol": True}, "www.example.com"),
    (
        "http://example.com",
        {"require_protocol": True},
        '<a href="http://example.com">http://example.com</a>',
    ),
    (
        "http://example.com",
        {"extra_params": '  rel="nofollow" '},
        '<a href="http://example.com" rel="nofollow">http://example.com</a>',
    ),
    (
        "www.example.com",
        {"extra_params": lambda href: f' data-u="{href}"'},
        '<a href="http://www.example.com" data-u="http://www.example.com">www.example.com</a>',
    ),
    (
        "http://a.example.com/short",
        {"shorten": True},
        '<a href="http://a.example.com/short">http://a.example.com/short</a>',
    ),
    (
        "http://www.example.com/wpstyle/?p=364&x=long",
        {"shorten": True},
        '<a href="http://www.example.com/wpstyle/?p=364&amp;x=long"'
        ' title="http://www.example.com/wpstyle/?p=364&amp;x=long">'
        "http://www.example.com/wpstyle...</a>",
    ),
    (
        "http://www.example.com/abcdefghijkl.html?x=1",
        {"shorten": True},
        '<a href="http://www.example.com/abcdefghijkl.html?x=1"'
        ' title="http://www.example.com/abcdefghijkl.html?x=1">'
        "http://www.example.com/abcdefgh...</a>",
    ),
    (
        "http://www.example.com/a.b?c=12345678901234567890",
        {"shorten": True},
        '<a href="http://www.example.com/a.b?c=12345678901234567890"'
        ' title="http://www.example.com/a.b?c=12345678901234567890">'
        "http://www.example.com/a...</a>",
    ),
    (
        # No slash after the host: clipped to 30 characters, then the dangling
        # "&amp" entity start is removed.
        "http://www.example.com?a=1&bcdefghijklmnopqrstuvwxyz",
        {"shorten": True},
        '<a href="http://www.example.com?a=1&amp;bcdefghijklmnopqrstuvwxyz"'
        ' title="http://www.example.com?a=1&amp;bcdefghijklmnopqrstuvwxyz">'
        "http://www.example.com?a=1...</a>",
    ),
    (
        # Shortening that does not shorten keeps the whole URL and no title.
        "www.example-long-hostname.com/a",
        {"shorten": True},
        '<a href="http://www.example-long-hostname.com/a">www.example-long-hostname.com/a</a>',
    ),
    (
        "a custom-proto://x and http:/one-slash",
        {"permitted_protocols": ["custom-proto", "http"]},
        'a <a href="custom-proto://x">custom-proto://x</a> and'
        ' <a href="http:/one-slash">http:/one-slash</a>',
    ),
    ("line\nhttp://a.b\n", {}, 'line\n<a href="http://a.b">http://a.b</a>\n'),
    (
        b"bytes www.x.org",
        {},
        'bytes <a href="http://www.x.org">www.x.org</a>',
    ),
]


@pytest.mark.parametrize(("text", "kwargs", "expected"), LINKIFY_CASES)
def test_linkify(text: str | bytes, kwargs: dict[str, Any], expected: str) -> None:
    assert linkify(text, **kwargs) == expected


def test_linkify_callable_extra_params_receives_href() -> None:
    seen: list[str] = []

    def params(href: str) -> str:
        seen.append(href)
        return 'class="ext"'

    assert linkify("www.a.com and https://b.com", extra_params=params) == (
        '<a href="http://www.a.com" class="ext">www.a.com</a> and'
        ' <a href="https://b.com" class="ext">https://b.com</a>'
    )
    assert seen == ["http://www.a.com", "https://b.com"]


def test_linkify_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="got <class 'int'>"):
        linkify(5)  # type: ignore[arg-type]


@given(st.text())
def test_linkify_output_without_links_is_escaped_text(text: str) -> None:
    # With no protocol permitted and protocols required nothing is linked, so
    # linkify reduces to HTML escaping.
    assert linkify(text, require_protocol=True, permitted_protocols=[]) == html.escape(text)


@given(st.text(alphabet=st.sampled_from("ab.:/w()&<>\"' ")))
def test_linkify_never_emits_unescaped_text(text: str) -> None:
    out = linkify(text)
    # Strip the tags we generate; what is left must be escaped text.
    import re

    body = re.sub(r'<a href="[^"<>]*">|</a>', "", out)
    assert "<" not in body and ">" not in body
    assert xhtml_unescape(body) == text


@given(st.text() | st.binary().map(lambda b: b.decode("utf-8", "replace").encode()))
def test_xhtml_escape_matches_html_escape(value: str | bytes) -> None:
    text = value.decode() if isinstance(value, bytes) else value
    assert xhtml_escape(value) == html.escape(text)

"""The HTTP/1.x grammar: every rule the parsers, serialisers and clients of
tornado-http match against, in one place.

Strategy
--------

Each rule of RFC 9110 (HTTP semantics) and RFC 9112 (HTTP/1.1 message
syntax), with URIs from RFC 3986, is one compiled regular expression on
`ABNF`, built from the pattern text of the rules it is made of, so a rule
is written once and every larger rule reuses it.  No other module of the
distribution is to compile an HTTP grammar regex of its own:
`tornado.httputil` (``_ABNF`` is this class), the sans-IO parser
``tornado._http1``, ``tornado.http1connection`` and both HTTP clients take
their rules from here, and the read patterns with a size limit
(`head_end_within`, `trailer_end_within`, `chunk_line_end_within`) too.

Conventions:

* Text rules (`str` patterns) are matched with ``fullmatch`` on latin-1
  decoded bytes, so ``obs-text`` (bytes 0x80-0xFF) is U+0080 to U+00FF and
  one character is one byte.  Character classes spell out ASCII ranges,
  never ``\\d`` or ``\\s``, which match other Unicode characters (the one
  exception is `ABNF.lenient_parameter`, a reader that has always taken
  any whitespace around parameters).
* Rules for bytes that have not been decoded yet (the end of a head, a
  chunk-size line) are `bytes` patterns; their names say so in their
  docstrings.
* Where a recipient may be more lenient than the ABNF (RFC 9112 allows it
  in places), the lenient rule has its own name (``lenient_...`` or
  ``client_...``) next to the strict one, and its docstring says exactly
  what it adds.

The status line
---------------

There are two status-line rules, and which one applies depends on who
reads the line:

* `ABNF.status_line` is RFC 9112 section 4 as written:
  ``HTTP-version SP status-code SP [ reason-phrase ]``.  It is the rule of
  the public `tornado.httputil.parse_response_start_line` (as upstream
  Tornado's) and what our server sends: its serialiser always writes the
  space before the reason phrase, even an empty one.
* `ABNF.client_status_line` is what our HTTP clients accept from a server
  (``simple_httpclient``, ``curl_httpclient`` and the WebSocket client
  answer every status line alike, through
  ``tornado.httputil._parse_client_status_line``).  It was chosen against
  what libcurl (7.88 and 8.23) and Chromium (156) do with the same bytes
  on a real socket.  Chromium reads nearly anything (``ICY 200 OK``,
  ``HTTP/1.1 abc``, leading spaces) and refuses only a NUL; libcurl is the
  stricter of the two, and the curl client cannot read a line libcurl
  refuses, so the rule is a subset of what libcurl 8 accepts (and the curl
  client refuses, after libcurl, the lines libcurl reads and the rule
  does not):

  - the version is exactly ``HTTP/1.0`` or ``HTTP/1.1`` (case-sensitive,
    RFC 9112 section 2.3).  libcurl refuses ``HTTP/0.9``, ``HTTP/1.2`` to
    ``HTTP/1.9``, ``HTTP/1`` and ``HTTP/1.10``; we also refuse the
    ``HTTP/2.0`` and lower-case ``http/1.1`` it lets through;
  - exactly one SP after the version (libcurl 8 refuses two spaces,
    libcurl 7 a tab);
  - a status code of three ASCII digits from 100 to 999: libcurl refuses
    000 to 099 and accepts 600 to 999, as browsers do;
  - then either the end of the line (``HTTP/1.1 200``: no reason phrase and
    no space before it, which some servers send and every client reads),
    or SP and a reason phrase, which may be empty and is kept verbatim
    (spaces and tabs included): HTAB, SP, visible ASCII and obs-text;
  - nothing else: no other control character in the reason (libcurl and
    Chromium refuse NUL, libcurl 8 a CR; RFC 9110 5.5 the rest), no
    character glued to the code (``200OK``, ``2000``, ``200\\tOK``), no
    leading whitespace.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Generic, TypeVar

_S = TypeVar("_S", str, bytes)

__all__ = ["ABNF", "chunk_line_end_within", "head_end_within", "trailer_end_within"]


def _ipv6_address() -> str:
    """RFC 3986 section 3.2.2 ``IPv6address``: eight 16-bit pieces, where
    one run of zero pieces may be written as ``::`` and the last two may be
    an IPv4 address."""
    h16 = "[0-9A-Fa-f]{1,4}"
    dec_octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    ls32 = rf"(?:{h16}:{h16}|{dec_octet}(?:\.{dec_octet}){{3}})"
    forms = [f"(?:{h16}:){{6}}{ls32}", f"::(?:{h16}:){{5}}{ls32}"]
    # The RFC's other alternatives: "[ *n( h16 ":" ) h16 ] "::"" and what
    # may follow it, for n = 0 to 6 (fewer pieces after "::" as n grows).
    tails = [f"(?:{h16}:){{4}}{ls32}", f"(?:{h16}:){{3}}{ls32}", f"(?:{h16}:){{2}}{ls32}"]
    tails += [f"{h16}:{ls32}", ls32, h16, ""]
    for n, tail in enumerate(tails):
        forms.append(f"(?:(?:{h16}:){{0,{n}}}{h16})?::{tail}")
    return "(?:" + "|".join(forms) + ")"


def _text_to_bytes(pattern: re.Pattern[str]) -> bytes:
    """The text rule ``pattern`` as a bytes pattern (the rules are ASCII,
    with obs-text as ``\\x80-\\xff`` escapes, so they mean the same on
    latin-1 text and on the bytes it was decoded from)."""
    return pattern.pattern.encode("latin-1")


def _bytes_not_matching(pattern: re.Pattern[str]) -> bytes:
    """The bytes whose latin-1 character ``pattern`` does not match."""
    return bytes(b for b in range(256) if pattern.match(chr(b)) is None)


class _CompiledOnFirstUse(Generic[_S]):
    """A rule whose regex is compiled the first time it is read from `ABNF`
    (and then stored there in its place).

    Only for rules that nothing reads while serving requests (the exact
    URI forms of the request target, used by tests and generators): their
    IPv6 alternatives make them the costliest patterns of the grammar to
    compile, about 15 ms, which every ``import tornado.web`` would pay.
    Larger rules are built from ``.pattern`` as with a compiled rule.
    """

    def __init__(self, pattern: _S) -> None:
        """Keep the pattern text; nothing is compiled yet."""
        self.pattern: _S = pattern
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: Any, owner: type) -> re.Pattern[_S]:
        compiled = re.compile(self.pattern)
        setattr(owner, self._name, compiled)
        return compiled


class ABNF:
    """The HTTP/1.x grammar, one compiled regex per rule (see the module
    docstring for the conventions).  Match text rules with ``fullmatch``.

    ``tornado.httputil._ABNF`` is this class.
    """

    # -- Tokens and field lines (RFC 9110 section 5, RFC 9112 section 5) ---

    _tchar = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
    token = re.compile(f"{_tchar}+")
    """RFC 9110 5.6.2 ``token = 1*tchar``: field names, methods, chunk
    extension names and transfer codings."""

    _field_vchar = r"[\x21-\x7e\x80-\xff]"
    field_name = token
    """RFC 9110 5.1 ``field-name = token``."""

    field_content = re.compile(rf"{_field_vchar}(?:[\t\x20-\x7e\x80-\xff]*{_field_vchar})?")
    """RFC 9110 5.5 ``field-content``: starts and ends with a field-vchar
    (VCHAR / obs-text), with SP, HTAB and field-vchar between."""

    field_value = re.compile(f"(?:{field_content.pattern})?")
    """RFC 9110 5.5 ``field-value = *field-content``: field-contents run
    together, which is one field-content or nothing; no surrounding
    whitespace (that belongs to the field line's OWS)."""

    padded_field_value = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
    """RFC 9112 5 ``OWS field-value OWS``, what follows the colon of a field
    line: exactly the strings of field-vchar, SP and HTAB, which one
    character class matches without backtracking."""

    field_line = re.compile(f"{field_name.pattern}:{padded_field_value.pattern}")
    """RFC 9112 5 ``field-line = field-name ":" OWS field-value OWS``; no
    whitespace before the colon (section 5.1)."""

    field_lines = re.compile(rf"{field_line.pattern}(?:\n{field_line.pattern})*")
    """RFC 9112 2.1 ``*( field-line CRLF )`` with line ends normalised to
    LF and no empty line: a whole header block checked in one match."""

    obs_fold = re.compile(r"\n[ \t]+")
    """RFC 9112 5.2 ``obs-fold = OWS CRLF RWS`` in a header block whose line
    ends are normalised to LF: a line that starts with whitespace continues
    the one before.  A server refuses it; a user agent replaces each match
    with one SP (section 5.2) and checks the block again."""

    unsafe_field_char = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
    """A character no field value, reason phrase or request target may hold
    whatever its encoding: the C0 controls other than HTAB, and DEL (RFC
    9110 5.5: field values are VCHAR, obs-text, SP and HTAB).  CR and LF
    are among them, which is what stops header injection.  Search for it
    (``search``), e.g. in text that is not latin-1, where the full rules
    cannot apply."""

    head_safe_bytes = _bytes_not_matching(unsafe_field_char)
    """Not a regex: the bytes `unsafe_field_char` does not match, as a
    ``bytes.translate`` deletion table.  Deleting them from a serialised
    head leaves exactly its CRLF line ends, unless a value smuggled in a
    CR, LF, NUL or other control (one C-level pass instead of a search per
    value)."""

    cr_or_lf = re.compile(b"[\r\n]")
    """(bytes) A CR or an LF, which must never reach a header line from a
    value (RFC 9112 2.2; header injection).  ``search`` for it."""

    # -- URIs (RFC 3986) and the request target (RFC 9112 section 3.2) -----

    _unreserved = r"A-Za-z0-9\-._~"
    _sub_delims = r"!$&'()*+,;="
    _pct_encoded = "%[0-9A-Fa-f]{2}"
    _pchar = f"(?:[{_unreserved}{_sub_delims}:@]|{_pct_encoded})"
    _segment = f"{_pchar}*"
    _query = f"(?:{_pchar}|[/?])*"
    _scheme = r"[A-Za-z][A-Za-z0-9+\-.]*"
    _userinfo = f"(?:[{_unreserved}{_sub_delims}:]|{_pct_encoded})*"
    _ipvfuture = rf"[vV][0-9A-Fa-f]+\.[{_unreserved}{_sub_delims}:]+"
    _ip_literal = rf"\[(?:{_ipv6_address()}|{_ipvfuture})\]"
    # IPv4address is also a reg-name, so reg-name alone covers both.
    _reg_name = f"(?:[{_unreserved}{_sub_delims}]|{_pct_encoded})*"
    _host = f"(?:{_ip_literal}|{_reg_name})"
    _port = "[0-9]*"
    _authority = f"(?:{_userinfo}@)?{_host}(?::{_port})?"
    _hier_part = (
        f"(?://{_authority}(?:/{_segment})*"  # "//" authority path-abempty
        f"|/(?:{_pchar}+(?:/{_segment})*)?"  # path-absolute
        f"|{_pchar}+(?:/{_segment})*"  # path-rootless
        ")?"  # path-empty
    )

    origin_form = re.compile(f"(?:/{_segment})+(?:[?]{_query})?")
    """RFC 9112 3.2.1 ``origin-form = absolute-path [ "?" query ]``."""

    absolute_form = _CompiledOnFirstUse(f"{_scheme}:{_hier_part}(?:[?]{_query})?")
    """RFC 9112 3.2.2 ``absolute-form = absolute-URI`` (RFC 3986 4.3)."""

    authority_form = _CompiledOnFirstUse(f"{_host}:{_port}")
    """RFC 9112 3.2.3 ``authority-form = uri-host ":" port`` (CONNECT)."""

    asterisk_form = re.compile(r"\*")
    """RFC 9112 3.2.4 ``asterisk-form = "*"`` (server-wide OPTIONS)."""

    request_target = _CompiledOnFirstUse(
        f"{origin_form.pattern}|{absolute_form.pattern}"
        f"|{authority_form.pattern}|{asterisk_form.pattern}"
    )
    """RFC 9112 3.2 ``request-target``: one of the four forms above."""

    lenient_request_target = re.compile(r"[\x21-\x7e\x80-\xff]+")
    """What a request line actually accepts as its target (and what a
    client may send): any visible ASCII or obs-text.  `request_target` is
    ASCII-only and leaves out characters (``|``, ``{``, ``^``, raw UTF-8)
    that clients send unescaped, and refusing them would break working
    applications; spaces and controls, which would let the line be
    misread, still fail."""

    # -- Start lines (RFC 9112 sections 2.3, 3 and 4) ----------------------

    method = token
    """RFC 9112 3.1 ``method = token``."""

    http1_version = re.compile(r"HTTP/1\.[0-9]")
    """RFC 9112 2.3 ``HTTP-version = HTTP-name "/" DIGIT "." DIGIT``, held to
    major version 1 (this distribution reads HTTP/1.x only); any minor
    version, which a server reads as the highest it supports."""

    client_http_version = re.compile(r"HTTP/1\.[01]")
    """The versions a client reads a response of: ``HTTP/1.0`` and
    ``HTTP/1.1`` only, as libcurl (see the module docstring)."""

    request_line = re.compile(
        f"({method.pattern}) ({lenient_request_target.pattern}) ({http1_version.pattern})"
    )
    """RFC 9112 3 ``request-line = method SP request-target SP
    HTTP-version``, with `lenient_request_target`; single spaces only.
    Groups: method, target, version."""

    leading_empty_lines = re.compile(rb"(?:\r?\n)*")
    """(bytes) RFC 9112 2.2: the empty lines a server ignores before a
    request line (a client's stray CRLF after a previous body).  ``match``
    it at the start of the buffer; it matches the empty string too."""

    status_code = re.compile("[0-9]{3}")
    """RFC 9110 15 / RFC 9112 4 ``status-code = 3DIGIT``."""

    client_status_code = re.compile("[1-9][0-9]{2}")
    """The status codes a client reads: three digits from 100 to 999 (RFC
    9110 15 defines 100-599; codes up to 999 are read, as libcurl and
    browsers do, and libcurl refuses the ones below 100)."""

    reason_phrase = re.compile(r"[\t\x20-\x7e\x80-\xff]+")
    """RFC 9112 4 ``reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )``."""

    status_line = re.compile(
        f"({http1_version.pattern}) ({status_code.pattern}) ({reason_phrase.pattern})?"
    )
    """RFC 9112 4 ``status-line = HTTP-version SP status-code SP
    [ reason-phrase ]``, strictly: the space before an empty reason phrase
    is there.  Groups: version, code, reason (None when empty).  The rule
    of `tornado.httputil.parse_response_start_line` and what our server
    sends."""

    client_status_line = re.compile(
        f"({client_http_version.pattern}) ({client_status_code.pattern})"
        rf"(?: ({padded_field_value.pattern}))?"
    )
    """The one status-line rule of our HTTP clients (see the module
    docstring for how it was chosen): `client_http_version` SP
    `client_status_code`, then nothing, or SP and a possibly empty
    reason phrase (HTAB, SP, VCHAR, obs-text) kept verbatim.  Groups:
    version, code, reason (None when the line ends after the code)."""

    libcurl_h2_status_line = re.compile(r"HTTP/[23] ([0-9]{3}) ?")
    """Not HTTP/1 syntax: the status line libcurl hands its header callback
    for an HTTP/2 or HTTP/3 response (``HTTP/2 200 ``), which has no text
    status line on the wire (RFC 9113 8.3.2) and so no reason phrase.
    libcurl refuses this line from an HTTP/1 server ("Version mismatch"),
    so a match is always libcurl's own.  Group: code."""

    lenient_status_line = client_status_line
    """The former name of `client_status_line`."""

    # -- Inside field values (RFC 9110 sections 5.6.6 and 14.1) -----------

    lenient_parameter = re.compile(
        r';\s*([^\s=;]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;]*)))?', re.DOTALL
    )
    """One parameter of a header value as `tornado.httputil` reads them
    (``Content-Disposition``, ``Content-Type``, WebSocket extensions), more
    leniently than RFC 9110 5.6.6 ``parameter = parameter-name "="
    parameter-value`` with BWS: ``; name=value``, ``; name="quoted"`` (with
    escapes and semicolons inside) or a bare ``; name``.  An unterminated
    quoted string runs to the end instead of failing: a failed quote would
    be rescanned from every later ";", quadratic on ``;a=";a=";a="...``.
    ``finditer`` it over ``";" + rest``.  Groups: name, quoted value, plain
    value."""

    quoted_pair = re.compile(r"\\(.)", re.DOTALL)
    """RFC 9110 5.6.4 ``quoted-pair = "\\" ( HTAB / SP / VCHAR / obs-text )``,
    any character after the backslash; ``sub`` with ``r"\1"`` unquotes."""

    single_byte_range = re.compile(r"bytes=([0-9]*)-([0-9]*)")
    """RFC 9110 14.1.2 ``ranges-specifier`` with one ``int-range`` or
    ``suffix-range`` (``bytes=0-99``, ``bytes=100-``, ``bytes=-100``): the
    ranges `tornado.web.StaticFileHandler` serves.  Groups: first, last
    (either may be empty)."""

    # -- Numbers, Host, chunked coding (RFC 9110 7.2 and 8.6, RFC 9112 7) --

    digits = re.compile("[0-9]+")
    """RFC 5234 ``1*DIGIT``, e.g. ``Content-Length`` (RFC 9110 8.6): no
    sign, spaces, underscores or non-ASCII digits, all of which `int`
    alone would take."""

    hexdigits = re.compile("[0-9A-Fa-f]+")
    """RFC 5234 ``1*HEXDIG``, e.g. ``chunk-size`` (RFC 9112 7.1): no ``0x``,
    sign, spaces or underscores."""

    host_header = re.compile(rf"(?:\[[0-9A-Za-z:.]+\]|[{_unreserved}{_sub_delims}%]*)(?::{_port})?")
    """The ``Host`` header as a server reads it, RFC 9110 7.2
    ``uri-host [ ":" port ]``, with any hex digits, colons and dots inside
    the brackets of an IP literal; no spaces, slashes, ``@`` or controls."""

    quoted_string = re.compile(
        r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
    )
    """RFC 9110 5.6.4 ``quoted-string = DQUOTE *( qdtext / quoted-pair )
    DQUOTE``."""

    chunk_ext = re.compile(
        rf"(?:[ \t]*;[ \t]*{token.pattern}"
        rf"(?:[ \t]*=[ \t]*(?:{token.pattern}|{quoted_string.pattern}))?)*"
    )
    """RFC 9112 7.1.1 ``chunk-ext = *( BWS ";" BWS chunk-ext-name
    [ BWS "=" BWS chunk-ext-val ] )``."""

    chunk_size_line = re.compile(rb"([0-9A-Fa-f]{1,16})(" + _text_to_bytes(chunk_ext) + rb")\r\n")
    """(bytes) RFC 9112 7.1 ``chunk-size [ chunk-ext ] CRLF``, the line before
    each chunk's data, CRLF included; chunk-size is held to 16 hex digits
    (64 bits).  Groups: size, extensions."""

    bare_cr = re.compile(r"\r(?!\n)")
    """RFC 9112 2.2: a CR not followed by LF, which a recipient must treat
    as invalid (or replace with SP) anywhere but in a content body: our
    parsers refuse the message.  ``search`` for it in latin-1 text, e.g. to
    point at it in an error message."""

    line_end = re.compile(rb"\n")
    """(bytes) The end of a line: LF, after an optional CR (RFC 9112 2.2
    lets a recipient take a bare LF as a line terminator)."""

    head_end = re.compile(rb"\r?\n\r?\n")
    """(bytes) RFC 9112 2.1: the empty line that ends a message head (CRLF
    CRLF, or its LF-only variants).  ``search`` for it."""

    trailer_end = re.compile(rb"^\r?\n|\r?\n\r?\n")
    """(bytes) RFC 9112 7.1.2: the end of the trailer section, searched from
    just after the last-chunk line: an empty line at once (no trailer
    fields), or the empty line after them.  (``^`` matches only at the
    start of the buffer, where the search begins.)"""


@functools.lru_cache(maxsize=64)
def head_end_within(max_header_size: int) -> re.Pattern[bytes]:
    """(bytes) `ABNF.head_end` for a reader with a size limit: the empty line
    that ends a head, or else the first line end past ``max_header_size``
    bytes (so the head can be refused with 431 instead of the read failing
    on its own).

    The pattern starts with a literal LF, so the regex engine scans with a
    fast character search, and the look-behind is tried only at line ends
    (it fails at once below the limit).  A match looks at most 3 bytes
    past the LF it starts at.  One compiled pattern per limit (cached)."""
    return re.compile(rb"\n(?:\r?\n|(?<=[\s\S]{%d}))" % max_header_size)


@functools.lru_cache(maxsize=64)
def trailer_end_within(max_header_size: int) -> re.Pattern[bytes]:
    """(bytes) As `head_end_within`, for `ABNF.trailer_end`: the trailer
    section after the last chunk may also be just an empty line."""
    return re.compile(rb"\A\r?\n|\n(?:\r?\n|(?<=[\s\S]{%d}))" % max_header_size)


@functools.lru_cache(maxsize=64)
def chunk_line_end_within(max_line_size: int) -> re.Pattern[bytes]:
    """(bytes) The end of a chunk-size line for a reader: its LF
    (`ABNF.line_end`), or ``max_line_size`` bytes without one, so an
    overlong line is refused with 400 instead of the read failing."""
    return re.compile(rb"\n|(?<=[\s\S]{%d})" % max_line_size)

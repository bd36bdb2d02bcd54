"""Tests for tornado.util."""

from __future__ import annotations

import asyncio
import builtins
import datetime
import errno
import gzip
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tornado.util
from tornado.escape import to_unicode
from tornado.util import (
    ArgReplacer,
    Configurable,
    GzipDecompressor,
    ObjectDict,
    TimeoutError,
    basestring_type,
    errno_from_exception,
    exec_in,
    import_object,
    raise_exc_info,
    re_unescape,
    timedelta_to_seconds,
    unicode_type,
)

# --- simple aliases -----------------------------------------------------------


def test_timeout_error_is_the_asyncio_and_builtin_one() -> None:
    assert TimeoutError is builtins.TimeoutError
    assert TimeoutError is asyncio.TimeoutError


def test_string_type_aliases() -> None:
    assert unicode_type is str
    assert basestring_type is str


# --- ObjectDict ---------------------------------------------------------------


def test_object_dict_attribute_access() -> None:
    d = ObjectDict(a=1)
    assert d.a == 1
    d.b = 2
    assert d["b"] == 2
    assert dict(d) == {"a": 1, "b": 2}


def test_object_dict_missing_attribute_raises_attribute_error() -> None:
    d = ObjectDict()
    with pytest.raises(AttributeError, match="missing"):
        d.missing  # noqa: B018
    assert getattr(d, "missing", "dflt") == "dflt"
    assert not hasattr(d, "missing")


# --- GzipDecompressor ---------------------------------------------------------


def test_gzip_decompressor_round_trip_in_chunks() -> None:
    payload = b"hello world " * 1000
    compressed = gzip.compress(payload)
    d = GzipDecompressor()
    out = b""
    for i in range(0, len(compressed), 7):
        chunk = compressed[i : i + 7]
        while chunk:
            out += d.decompress(chunk, 256)
            chunk = d.unconsumed_tail
    out += d.flush()
    assert out == payload


def _drive(d: GzipDecompressor, data: bytes, read_size: int, limit: int) -> bytes:
    """Feed *data* in *read_size* pieces, passing each unconsumed tail back in."""
    out = bytearray()
    for i in range(0, len(data), read_size):
        chunk = data[i : i + read_size]
        while chunk:
            piece = d.decompress(chunk, limit)
            assert len(piece) <= limit
            assert piece or len(d.unconsumed_tail) < len(chunk)
            out += piece
            chunk = d.unconsumed_tail
    out += d.flush()
    return bytes(out)


@pytest.mark.parametrize("read_size", [1, 5, 64, 100_000])
@pytest.mark.parametrize("limit", [1, 10, 300, 100_000])
def test_gzip_decompressor_concatenated_members(read_size: int, limit: int) -> None:
    parts = [b"first " * 50, b"", os.urandom(700), b"z"]
    data = b"".join(gzip.compress(p) for p in parts)
    assert _drive(GzipDecompressor(), data, read_size, limit) == b"".join(parts)


def test_gzip_decompressor_member_ending_exactly_at_limit() -> None:
    data = gzip.compress(b"a" * 100) + gzip.compress(b"next")
    assert _drive(GzipDecompressor(), data, len(data), 100) == b"a" * 100 + b"next"


@pytest.mark.parametrize("trailer", [b"\0", b"\r\n", b"junk", b"\x1f", b"\x1f\x8b"])
@pytest.mark.parametrize("read_size", [1, 4096])
def test_gzip_decompressor_rejects_bytes_after_a_member(trailer: bytes, read_size: int) -> None:
    with pytest.raises(zlib.error):
        _drive(GzipDecompressor(), gzip.compress(b"body") + trailer, read_size, 1024)


@pytest.mark.parametrize("cut", [1, 8, 20])
def test_gzip_decompressor_flush_rejects_truncated_stream(cut: int) -> None:
    data = gzip.compress(os.urandom(100))
    with pytest.raises(zlib.error):
        _drive(GzipDecompressor(), data[:-cut], 4096, 1024)


def test_gzip_decompressor_empty_stream_flushes_nothing() -> None:
    assert GzipDecompressor().flush() == b""


def test_gzip_decompressor_flush_refuses_unconsumed_tail() -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)
    d = GzipDecompressor()
    assert len(d.decompress(bomb, 1024)) == 1024
    assert d.unconsumed_tail
    with pytest.raises(ValueError, match="unconsumed"):
        d.flush()


def test_gzip_decompressor_without_max_length_is_deprecated() -> None:
    d = GzipDecompressor()
    with pytest.warns(DeprecationWarning, match="max_length"):
        out = d.decompress(gzip.compress(b"one ") + gzip.compress(b"two"))
    assert out == b"one two"
    assert d.unconsumed_tail == b""
    assert d.flush() == b""


def test_gzip_decompressor_max_length_leaves_unconsumed_tail() -> None:
    payload = os.urandom(4096) + b"\0" * 100_000
    compressed = gzip.compress(payload)
    d = GzipDecompressor()
    pieces = []
    chunk = d.decompress(compressed, 1000)
    pieces.append(chunk)
    assert len(chunk) == 1000
    assert d.unconsumed_tail  # input remains to be processed
    while d.unconsumed_tail:
        chunk = d.decompress(d.unconsumed_tail, 1000)
        assert len(chunk) <= 1000
        pieces.append(chunk)
    pieces.append(d.flush())
    assert b"".join(pieces) == payload


def test_gzip_decompressor_rejects_non_gzip() -> None:
    d = GzipDecompressor()
    with pytest.raises(zlib.error):
        d.decompress(zlib.compress(b"zlib framing, not gzip"), 1024)


@given(st.binary(), st.integers(min_value=1, max_value=64))
def test_gzip_decompressor_property(data: bytes, limit: int) -> None:
    d = GzipDecompressor()
    out = [d.decompress(gzip.compress(data), limit)]
    while d.unconsumed_tail:
        out.append(d.decompress(d.unconsumed_tail, limit))
    out.append(d.flush())
    assert all(len(piece) <= limit for piece in out[:-1])
    assert b"".join(out) == data


def test_bytes_type_alias_and_doctests_suite() -> None:
    import unittest

    assert tornado.util.bytes_type is bytes
    suite = tornado.util.doctests()
    assert isinstance(suite, unittest.TestSuite)
    result = unittest.TestResult()
    suite.run(result)
    assert result.wasSuccessful()


# --- websocket masking (private helper) ------------------------------------------


@given(st.binary(min_size=4, max_size=4), st.binary(max_size=300))
def test_websocket_mask_matches_bytewise_xor_and_inverts(mask: bytes, data: bytes) -> None:
    masked = tornado.util._websocket_mask_python(mask, data)
    assert masked == bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert tornado.util._websocket_mask_python(mask, masked) == data
    assert tornado.util._websocket_mask is tornado.util._websocket_mask_python


def test_websocket_mask_takes_buffers() -> None:
    # The WebSocket protocol unmasks straight out of its receive buffer
    # (a memoryview of a bytearray), without copying the payload first.
    buffer = bytearray(b"..payload bytes..")
    view = memoryview(buffer)[2:-2]
    expected = bytes(b ^ b"wxyz"[i % 4] for i, b in enumerate(b"payload bytes"))
    assert tornado.util._websocket_mask_python(b"wxyz", view) == expected
    assert tornado.util._websocket_mask_python(bytearray(b"wxyz"), bytearray(view)) == expected


# --- import_object --------------------------------------------------------------


def test_import_object_module() -> None:
    assert import_object("os") is os
    assert import_object("os.path") is os.path


def test_import_object_attribute() -> None:
    assert import_object("tornado.escape.to_unicode") is to_unicode
    assert import_object("tornado.util.ObjectDict") is ObjectDict


def test_import_object_missing_attribute() -> None:
    with pytest.raises(ImportError, match="No module named missing_name"):
        import_object("tornado.escape.missing_name")


def test_import_object_missing_module() -> None:
    with pytest.raises(ImportError) as info:
        import_object("tornado.no_such_module")
    assert str(info.value) == "No module named no_such_module"
    with pytest.raises(ImportError, match="no_such_top_level_xyz"):
        import_object("no_such_top_level_xyz")


# --- exec_in ------------------------------------------------------------------


def test_exec_in_string_and_code() -> None:
    ns: dict[str, Any] = {"x": 2}
    exec_in("y = x * 21", ns)
    assert ns["y"] == 42
    exec_in(compile("z = y + 1", "<test>", "exec"), ns)
    assert ns["z"] == 43


def test_exec_in_separate_locals() -> None:
    glob: dict[str, Any] = {"x": 1}
    loc: dict[str, Any] = {}
    exec_in("y = x + 1", glob, loc)
    assert loc == {"y": 2}
    assert "y" not in glob


def test_exec_in_does_not_inherit_future_annotations() -> None:
    # This test module uses "from __future__ import annotations"; exec_in must
    # compile the code as a fresh module, where annotations are evaluated.
    ns: dict[str, Any] = {}
    exec_in("def f(a: int) -> str: pass\nann = f.__annotations__", ns)
    assert ns["ann"] == {"a": int, "return": str}


def test_exec_in_propagates_errors() -> None:
    with pytest.raises(SyntaxError):
        exec_in("def (", {})
    with pytest.raises(ZeroDivisionError):
        exec_in("1 / 0", {})


# --- raise_exc_info -------------------------------------------------------------


def _fail() -> None:
    raise ValueError("original")


def test_raise_exc_info_keeps_traceback() -> None:
    try:
        _fail()
    except ValueError:
        info = sys.exc_info()
    with pytest.raises(ValueError, match="original") as caught:
        raise_exc_info(info)
    names = [entry.name for entry in caught.traceback]
    assert "_fail" in names


def test_raise_exc_info_without_exception() -> None:
    with pytest.raises(TypeError, match="no exception"):
        raise_exc_info((None, None, None))


# --- errno_from_exception -------------------------------------------------------


def test_errno_from_exception() -> None:
    assert errno_from_exception(OSError(errno.ECONNRESET, "reset")) == errno.ECONNRESET
    assert errno_from_exception(OSError()) is None
    assert errno_from_exception(Exception(errno.EPIPE, "x")) == errno.EPIPE
    assert errno_from_exception(Exception()) is None


# --- re_unescape ----------------------------------------------------------------


@given(st.text())
def test_re_unescape_inverts_re_escape(text: str) -> None:
    assert re_unescape(re.escape(text)) == text


@pytest.mark.parametrize("escape", ["\\d", "\\w", "\\1", "\\b", "\\Z"])
def test_re_unescape_rejects_special_escapes(escape: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"cannot unescape '\\\\{escape[1]}'")):
        re_unescape("abc" + escape)


def test_re_unescape_plain() -> None:
    assert re_unescape(r"a\.b\\c\/d\-") == "a.b\\c/d-"
    assert re_unescape("no escapes") == "no escapes"


# --- timedelta_to_seconds -------------------------------------------------------


def test_timedelta_to_seconds() -> None:
    assert timedelta_to_seconds(datetime.timedelta(days=1, milliseconds=500)) == 86400.5
    assert timedelta_to_seconds(datetime.timedelta(seconds=-3)) == -3.0


# --- Configurable ---------------------------------------------------------------


class Base(Configurable):
    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        return Base

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        return DefaultImpl

    def initialize(self, pos: Any = None, a: Any = None, b: Any = None) -> None:
        self.pos = pos
        self.a = a
        self.b = b


class DefaultImpl(Base):
    pass


class OtherImpl(Base):
    def initialize(self, pos: Any = None, a: Any = None, b: Any = None) -> None:
        super().initialize(pos, a, b)
        self.other = True


class NestedBase(Base):
    """A subclass that is itself the base of a second configurable hierarchy."""

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        return NestedBase

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        return NestedDefault


class NestedDefault(NestedBase):
    pass


class NestedOther(NestedBase):
    pass


class Unrelated(Configurable):
    pass


@pytest.fixture(autouse=True)
def restore_configuration() -> Iterator[None]:
    saved = Base._save_configuration()
    saved_nested = NestedBase._save_configuration()
    yield
    Base._restore_configuration(saved)
    NestedBase._restore_configuration(saved_nested)


def test_configurable_default() -> None:
    obj = Base(1, a=2)
    assert type(obj) is DefaultImpl
    assert (obj.pos, obj.a, obj.b) == (1, 2, None)
    assert Base.configured_class() is DefaultImpl


def test_configurable_configure_with_class_and_kwargs() -> None:
    Base.configure(OtherImpl, a="configured", b="configured")
    obj = Base(b="explicit")
    assert type(obj) is OtherImpl
    assert obj.other is True
    # Explicit arguments override the configured ones.
    assert (obj.a, obj.b) == ("configured", "explicit")
    assert Base.configured_class() is OtherImpl


def test_configurable_subclass_constructed_directly_ignores_configuration() -> None:
    Base.configure(OtherImpl, a="configured")
    obj = DefaultImpl(b=1)
    assert type(obj) is DefaultImpl
    assert obj.a is None


def test_configurable_configure_by_name() -> None:
    Base.configure(f"{__name__}.OtherImpl")
    assert Base.configured_class() is OtherImpl
    assert type(Base()) is OtherImpl


def test_configurable_configure_none_resets_to_default() -> None:
    Base.configure(OtherImpl, a=1)
    Base.configure(None)
    obj = Base()
    assert type(obj) is DefaultImpl
    assert obj.a is None


def test_configurable_rejects_non_subclass() -> None:
    with pytest.raises(ValueError, match="Invalid subclass of"):
        Base.configure(Unrelated)
    with pytest.raises(ValueError, match="Invalid subclass of"):
        Base.configure("tornado.util.ObjectDict")
    # A failed configure leaves the previous configuration in place.
    assert Base.configured_class() is DefaultImpl


def test_configurable_configure_unknown_name() -> None:
    with pytest.raises(ImportError, match="NoSuchImpl"):
        Base.configure(f"{__name__}.NoSuchImpl")


def test_configurable_nested_hierarchy() -> None:
    Base.configure(NestedBase, a="outer")
    obj = Base()
    # NestedBase picks its own default implementation, with Base's kwargs.
    assert type(obj) is NestedDefault
    assert obj.a == "outer"
    NestedBase.configure(NestedOther, b="inner")
    obj = Base()
    assert type(obj) is NestedOther
    assert (obj.a, obj.b) == ("outer", "inner")
    # Configuring the nested hierarchy did not change the outer one.
    assert Base.configured_class() is NestedBase


def test_configurable_save_and_restore() -> None:
    saved = Base._save_configuration()
    Base.configure(OtherImpl, a=5)
    assert Base().a == 5
    Base._restore_configuration(saved)
    assert type(Base()) is DefaultImpl


def test_configurable_base_without_hooks_raises() -> None:
    with pytest.raises(NotImplementedError):
        Unrelated()


def test_configurable_positional_arguments() -> None:
    obj = Base("p", "q")
    assert (obj.pos, obj.a) == ("p", "q")


# --- ArgReplacer ----------------------------------------------------------------


def _target(a: Any, b: Any, callback: Any = None, *, kw: Any = None) -> None:
    pass


def test_arg_replacer_positional() -> None:
    r = ArgReplacer(_target, "callback")
    args = (1, 2, "cb")
    assert r.get_old_value(args, {}) == "cb"
    old, new_args, new_kwargs = r.replace("new", args, {})
    assert old == "cb"
    assert list(new_args) == [1, 2, "new"]
    assert new_kwargs == {}
    assert args == (1, 2, "cb")


def test_arg_replacer_keyword() -> None:
    r = ArgReplacer(_target, "callback")
    kwargs: dict[str, Any] = {"callback": "cb"}
    assert r.get_old_value((1, 2), kwargs) == "cb"
    old, new_args, new_kwargs = r.replace("new", (1, 2), kwargs)
    assert old == "cb"
    assert list(new_args) == [1, 2]
    assert new_kwargs == {"callback": "new"}


def test_arg_replacer_absent() -> None:
    r = ArgReplacer(_target, "callback")
    assert r.get_old_value((1, 2), {}) is None
    assert r.get_old_value((1, 2), {}, default="d") == "d"
    old, _, new_kwargs = r.replace("new", (1, 2), {})
    assert old is None
    assert new_kwargs == {"callback": "new"}


def test_arg_replacer_keyword_only() -> None:
    r = ArgReplacer(_target, "kw")
    assert r.arg_pos is None
    assert r.get_old_value((1, 2, 3, 4), {"kw": 9}) == 9


# --- import hygiene -------------------------------------------------------------


def test_core_modules_do_not_import_asyncio() -> None:
    code = (
        "import sys, tornado.util, tornado.escape, tornado.log, tornado.options; "
        "print(sorted(m for m in sys.modules if m == 'asyncio' or m.startswith('asyncio.')))"
    )
    # A fresh interpreter: this test process has asyncio loaded already.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_template_dependencies_import_only_light_modules() -> None:
    # tornado.template imports util, escape and log; these heavier standard
    # modules are imported lazily, on first use, to keep that import fast.
    # (curses is not among them: tornado.log.curses is module-level data, the
    # module or None, as in Tornado; importing it costs about a millisecond.)
    heavy = ("inspect", "html", "json", "urllib.parse", "logging.handlers", "socket")
    code = (
        "import sys, tornado.util, tornado.escape, tornado.log; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_module_all_names_exist() -> None:
    for name in tornado.util.__all__:
        assert hasattr(tornado.util, name), name


@pytest.mark.parametrize("mask", [b"", b"a", b"ab", b"abc", b"abcde"])
def test_websocket_mask_refuses_masks_that_are_not_four_bytes(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        tornado.util._websocket_mask_python(mask, b"data")
    with pytest.raises(ValueError, match="4 bytes"):
        tornado.util._websocket_mask_python(mask, b"")


def test_core_modules_defer_zlib_and_curses() -> None:
    # tornado-core is what the standalone template engine imports: zlib
    # (GzipDecompressor) and the curses extension (LogFormatter colours)
    # are loaded by the code that uses them, not by the imports.
    script = (
        "import sys\n"
        "import tornado.util, tornado.escape, tornado.log\n"
        "print(sorted({'zlib', '_curses'} & set(sys.modules)))\n"
        "tornado.util.GzipDecompressor()\n"
        "print('zlib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True"]

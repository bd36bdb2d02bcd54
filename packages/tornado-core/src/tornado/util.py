"""Miscellaneous utilities shared by the other Tornado modules.

Most of what lives here is small glue: attribute-style dictionaries,
dynamic imports, a streaming gzip decompressor with an output limit, and
the `Configurable` base class that lets an abstract interface (``IOLoop``,
``AsyncHTTPClient``, ``Resolver``) pick its concrete implementation at
construction time.

This module imports only the standard library and never imports
``asyncio``, so the template engine can use it without pulling in an
event loop.
"""

from __future__ import annotations

import builtins
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from types import CodeType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import unittest
    from datetime import timedelta

__all__ = [
    "ArgReplacer",
    "Configurable",
    "GzipDecompressor",
    "ObjectDict",
    "TimeoutError",
    "basestring_type",
    "bytes_type",
    "errno_from_exception",
    "exec_in",
    "import_object",
    "raise_exc_info",
    "re_unescape",
    "timedelta_to_seconds",
    "unicode_type",
]

#: Exception raised by ``tornado.gen.with_timeout`` and ``IOLoop.run_sync``.
#:
#: Since Tornado 6.2 this is an alias of `asyncio.TimeoutError`, which on
#: every Python we support is the builtin `TimeoutError`.  Using the builtin
#: directly keeps this module free of an ``asyncio`` import.
TimeoutError = builtins.TimeoutError

#: Alias of `str`, kept because Tornado 6 still exports it.
unicode_type = str

#: Alias of `str`, kept because Tornado 6 still exports it.
basestring_type = str

#: Alias of `bytes`, kept because Tornado 6 still exports it.
bytes_type = bytes


class ObjectDict(dict[str, Any]):
    """A `dict` whose keys can also be read and written as attributes.

    ``d.key`` is ``d["key"]``; a missing key raises `AttributeError`
    (not `KeyError`) so that `hasattr` and `getattr` with a default work.
    """

    def __getattr__(self, name: str) -> Any:
        """Return ``self[name]``; raise `AttributeError` if the key is absent."""
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        """Set ``self[name] = value``."""
        self[name] = value


class GzipDecompressor:
    """Incremental decompressor for a gzip-framed stream.

    Built on `zlib.decompressobj` configured for the gzip container (not
    raw deflate and not zlib framing).  A stream may hold several gzip
    members one after another (as ``gzip.compress(a) + gzip.compress(b)``
    does); their outputs are concatenated.  Feed chunks to `decompress`
    with an output limit, pass `unconsumed_tail` back in, and call `flush`
    once the input is exhausted.

    Corrupt input, bytes after a member that do not start another gzip
    member, and a stream that ends inside a member raise `zlib.error`
    (the last one from `flush`).
    """

    def __init__(self) -> None:
        self._member = self._new_member()
        # Whether the current member has been given any input: a member
        # that was started but never reached its end is a truncated stream.
        self._fed = False
        self._tail = b""

    @staticmethod
    def _new_member() -> Any:
        # zlib is imported here, not with the module: tornado.template
        # imports this module and never decompresses.
        import zlib

        # 16 + MAX_WBITS selects the gzip header and trailer.
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def decompress(self, value: bytes, max_length: int = 0) -> bytes:
        """Decompress a chunk of input and return the bytes produced.

        At most ``max_length`` bytes are returned; input that was not yet
        processed is kept in `unconsumed_tail`, and the caller must pass it
        back in (possibly followed by more data) to continue.  This bounds
        the memory a small, highly compressed body can make us allocate.

        Calling without a positive ``max_length`` (no limit) is deprecated
        and emits a `DeprecationWarning`; the whole chunk is decompressed.

        Raises `zlib.error` if the data is not valid gzip.
        """
        if not max_length or max_length <= 0:
            import warnings

            warnings.warn(
                "GzipDecompressor.decompress without a positive max_length is deprecated;"
                " pass an output limit and feed unconsumed_tail back in",
                DeprecationWarning,
                stacklevel=2,
            )
            max_length = 0
        pieces: list[bytes] = []
        produced = 0
        data = bytes(value)
        while data:
            if self._member.eof:
                # The previous member ended; what follows must be another one.
                self._member = self._new_member()
                self._fed = False
            room = max_length - produced if max_length else 0
            if max_length and room <= 0:
                break
            piece = self._member.decompress(data, room)
            self._fed = True
            pieces.append(piece)
            produced += len(piece)
            if self._member.eof:
                data = self._member.unused_data
            else:
                data = self._member.unconsumed_tail
                if data:
                    # The output limit stopped this member mid-way.
                    break
        self._tail = data
        return b"".join(pieces)

    @property
    def unconsumed_tail(self) -> bytes:
        """Input left over because the last `decompress` hit ``max_length``."""
        return self._tail

    def flush(self) -> bytes:
        """Return whatever output is still buffered, checking the stream is complete.

        Call once the input is exhausted; no other method may be called
        afterwards.  Raises `ValueError` if `unconsumed_tail` was not fed
        back to `decompress` first (flushing it would lift the output
        limit), and `zlib.error` if the stream ends inside a member.
        """
        if self._tail:
            raise ValueError(
                "GzipDecompressor.flush called with unconsumed input;"
                " pass unconsumed_tail back to decompress first"
            )
        pieces: list[bytes] = []
        while True:
            ended_before = self._member.eof
            pieces.append(self._member.flush())
            if self._fed and not self._member.eof:
                import zlib

                raise zlib.error("incomplete or truncated gzip stream")
            rest = b"" if ended_before else self._member.unused_data
            if not rest:
                return b"".join(pieces)
            # Output that zlib still held completed this member inside
            # flush; what follows it is the next member.
            self._member = self._new_member()
            self._fed = True
            pieces.append(self._member.decompress(rest))


def import_object(name: str) -> Any:
    """Import and return the object named by a dotted path.

    ``import_object("x")`` is ``import x``; ``import_object("x.y.z")`` is
    ``from x.y import z`` (which also works when ``z`` is a submodule).

    Raises `ImportError` (with a message of the form
    ``No module named z``) if the module or the final attribute does not
    exist.
    """
    module_name, dot, attribute = name.rpartition(".")
    if not dot:
        return __import__(name)
    # A non-empty fromlist makes __import__ return the leaf module and
    # import the named submodule if there is one.
    module = __import__(module_name, fromlist=[attribute])
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"No module named {attribute}") from None


def exec_in(
    code: str | CodeType,
    glob: dict[str, Any],
    loc: Mapping[str, object] | None = None,
) -> None:
    """Execute ``code`` (source text or a code object) in the given namespaces.

    Source text is compiled without inheriting this module's future
    flags, so the code behaves as it would at the top of a fresh module.
    Whatever the code raises propagates; `SyntaxError` for bad source.
    """
    if isinstance(code, str):
        code = compile(code, "<string>", "exec", dont_inherit=True)
    exec(code, glob, loc)


def raise_exc_info(
    exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None],
) -> NoReturn:
    """Re-raise the exception described by a `sys.exc_info` style tuple.

    The original traceback is kept.  Raises `TypeError` if the tuple holds
    no exception.
    """
    error = exc_info[1]
    try:
        if error is None:
            raise TypeError("raise_exc_info called with no exception")
        raise error.with_traceback(exc_info[2])
    finally:
        # Drop our references so the traceback's frames (which include
        # this one) do not keep each other alive in a cycle.
        error = None
        exc_info = (None, None, None)


def errno_from_exception(e: BaseException) -> int | None:
    """Return the errno carried by an exception, or None.

    Uses the ``errno`` attribute when the exception has one (as `OSError`
    does); otherwise falls back to the first constructor argument, which
    is where older socket and select errors kept it.
    """
    if hasattr(e, "errno"):
        return e.errno  # type: ignore[no-any-return]
    if e.args:
        return e.args[0]  # type: ignore[no-any-return]
    return None


_ALPHANUMERIC = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape_one(match: re.Match[str]) -> str:
    escaped = match.group(1)
    # An escaped letter or digit is a character class or back-reference
    # (\d, \w, \1 ...), which has no single literal equivalent.
    if escaped in _ALPHANUMERIC:
        raise ValueError(f"cannot unescape '\\\\{escaped}'")
    return escaped


def re_unescape(s: str) -> str:
    r"""Undo `re.escape`: turn ``\.`` into ``.``, ``\\`` into ``\`` and so on.

    Raises `ValueError` for escapes that stand for something other than a
    literal character (``\d``, ``\w``, back-references ...), because those
    cannot be reversed.

    .. versionadded:: 4.4
    """
    return _BACKSLASH_ESCAPE.sub(_unescape_one, s)


def timedelta_to_seconds(td: timedelta) -> float:
    """Return the length of ``td`` in seconds as a float.

    Equivalent to ``td.total_seconds()``.
    """
    return td.total_seconds()


def _websocket_mask_python(mask: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated over its length.

    The masking of WebSocket frame payloads (RFC 6455 section 5.3); applying
    it twice gives back the data.  Done as one XOR of two big integers,
    which CPython runs in C at memory speed: far faster in pure Python than
    a loop over the bytes.

    Raises `ValueError` if ``mask`` is not exactly 4 bytes long.
    """
    if len(mask) != 4:
        raise ValueError(f"the WebSocket mask must be 4 bytes long, not {len(mask)}")
    size = len(data)
    if not size:
        return b""
    mask = bytes(mask)
    key = mask * (size >> 2) + mask[: size & 3]
    mixed = int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
    return mixed.to_bytes(size, "little")


#: The WebSocket masking function (there is no C speedup in this package).
_websocket_mask = _websocket_mask_python


# Configuration of a Configurable base lives in the base class's own
# __dict__ under these names, so a subclass hierarchy with its own
# configurable_base (e.g. a configurable subclass of IOLoop) keeps a separate
# configuration instead of inheriting its parent's.
_IMPL_ATTR = "_configurable_impl_class"
_KWARGS_ATTR = "_configurable_impl_kwargs"


class Configurable:
    """Base class for interfaces whose implementation is chosen at run time.

    A configurable interface has a *base* class (returned by
    `configurable_base`) and a default implementation (returned by
    `configurable_default`).  Constructing the base class actually builds
    an instance of the implementation selected with `configure`, or the
    default.  Constructing a concrete subclass directly builds that
    subclass.

    Subclasses put their constructor logic in `initialize`, not
    ``__init__``: ``__new__`` calls ``initialize`` with the constructor
    arguments merged with the keyword arguments saved by `configure`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Build an instance of the configured implementation and initialize it."""
        base = cls.configurable_base()
        init_kwargs: dict[str, Any] = {}
        if cls is base:
            impl = cls.configured_class()
            init_kwargs.update(base.__dict__.get(_KWARGS_ATTR) or {})
        else:
            impl = cls
        # Explicit constructor arguments win over configured defaults.
        init_kwargs.update(kwargs)
        if impl.configurable_base() is not base:
            # The implementation is itself the base of a nested
            # configurable hierarchy: let it pick its own implementation.
            return impl(*args, **init_kwargs)
        instance = super().__new__(impl)
        instance.initialize(*args, **init_kwargs)
        return instance

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """Return the base class of this configurable hierarchy.

        Subclasses must override this; the default raises
        `NotImplementedError`.
        """
        raise NotImplementedError()

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """Return the implementation used when none has been configured.

        Subclasses must override this; the default raises
        `NotImplementedError`.
        """
        raise NotImplementedError()

    def _initialize(self) -> None:
        pass

    #: Called by ``__new__`` with the constructor arguments.  Subclasses
    #: override this instead of ``__init__``.
    #:
    #: .. versionchanged:: 4.2
    #:    Now accepts positional arguments as well as keyword arguments.
    initialize: Callable[..., None] = _initialize

    @classmethod
    def configure(cls, impl: str | type[Configurable] | None, **kwargs: Any) -> None:
        """Select the implementation that constructing the base class builds.

        ``impl`` is a subclass, the dotted import path of one (resolved with
        `import_object`), or None to go back to `configurable_default`.
        ``kwargs`` are saved and passed to `initialize` of every instance
        built through the base class.

        Raises `ValueError` if ``impl`` is not a subclass of this class, and
        `ImportError` if a dotted path cannot be imported.
        """
        base = cls.configurable_base()
        if isinstance(impl, str):
            impl = import_object(impl)
        if impl is not None and not (isinstance(impl, type) and issubclass(impl, cls)):
            raise ValueError(f"Invalid subclass of {cls}")
        setattr(base, _IMPL_ATTR, impl)
        setattr(base, _KWARGS_ATTR, kwargs)

    @classmethod
    def configured_class(cls) -> type[Configurable]:
        """Return the implementation currently selected for this hierarchy."""
        base = cls.configurable_base()
        impl: type[Configurable] | None = base.__dict__.get(_IMPL_ATTR)
        if impl is None:
            # Resolve the default lazily and remember it, so that it is
            # computed once and stays stable until the next configure().
            impl = cls.configurable_default()
            setattr(base, _IMPL_ATTR, impl)
        return impl

    @classmethod
    def _save_configuration(cls) -> tuple[type[Configurable] | None, dict[str, Any] | None]:
        """Return the current configuration, for `_restore_configuration`."""
        base = cls.configurable_base()
        return (base.__dict__.get(_IMPL_ATTR), base.__dict__.get(_KWARGS_ATTR))

    @classmethod
    def _restore_configuration(
        cls, saved: tuple[type[Configurable] | None, dict[str, Any] | None]
    ) -> None:
        """Reinstate a configuration returned by `_save_configuration`."""
        base = cls.configurable_base()
        setattr(base, _IMPL_ATTR, saved[0])
        setattr(base, _KWARGS_ATTR, saved[1])


class ArgReplacer:
    """Find and replace one named argument of calls to a given function.

    Works whether the argument is passed by position or by keyword, which
    is what decorators that wrap a ``callback`` argument need.
    """

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        """Prepare to handle argument ``name`` of ``func``."""
        #: The name of the argument this replacer reads and replaces.
        self.name = name
        names = self._positional_names(func)
        #: The argument's position among ``func``'s positional parameters, or None when it can only be passed by keyword.
        self.arg_pos: int | None = names.index(name) if name in names else None

    @staticmethod
    def _positional_names(func: Callable[..., Any]) -> list[str]:
        # inspect is slow to import and only needed here, so it is not
        # imported with the module (tornado.template imports us).
        import inspect

        try:
            return inspect.getfullargspec(func).args
        except TypeError:
            # Compiled functions (e.g. Cython) may not support inspection
            # but still expose a code object.
            code = getattr(func, "__code__", None)
            if code is None:
                raise
            return list(code.co_varnames[: code.co_argcount])

    def get_old_value(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], default: Any = None
    ) -> Any:
        """Return the argument's value in this call, or ``default`` if absent."""
        if self.arg_pos is not None and len(args) > self.arg_pos:
            return args[self.arg_pos]
        return kwargs.get(self.name, default)

    def replace(
        self, new_value: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> tuple[Any, Sequence[Any], dict[str, Any]]:
        """Substitute ``new_value`` for the argument.

        Returns ``(old_value, args, kwargs)``: the value that was passed
        (None if it was not passed) and the updated arguments.  If the
        argument was not passed by position it is set in ``kwargs``, which
        is modified in place.
        """
        if self.arg_pos is not None and len(args) > self.arg_pos:
            new_args = list(args)
            old_value = new_args[self.arg_pos]
            new_args[self.arg_pos] = new_value
            return old_value, new_args, kwargs
        old_value = kwargs.get(self.name)
        kwargs[self.name] = new_value
        return old_value, args, kwargs


def doctests() -> unittest.TestSuite:
    """Return a `unittest` suite of the doctest examples in this module's docstrings."""
    import doctest

    return doctest.DocTestSuite(sys.modules[__name__])

"""C-backed WebSocket masking, the optional extra ``tornado-websocket[speedups]``.

Tornado ships a C extension under this name whose one function,
`websocket_mask`, XORs frame payloads with their mask.  Ours borrows the C
function of the well-kept `websockets <https://websockets.readthedocs.io>`_
package (its ``websockets.speedups`` extension), which the extra installs,
instead of building a C extension of our own.

As with Tornado's, importing this module raises `ImportError` when the C code
is not available (the extra is not installed, or the platform's websockets
wheel carries no extension); `tornado.websocket` then masks in pure Python
(``tornado.util``), with the same results.  Setting ``TORNADO_NO_SPEEDUPS=1``
(or Tornado's ``TORNADO_NO_EXTENSION=1``) keeps `tornado.websocket` on the pure
Python path even when this module imports.

The extension file is loaded on its own, without running the websockets
package's ``__init__``: that would import ``importlib.metadata`` and add
about 30 ms to ``import tornado.websocket`` for one function.

.. versionadded:: 7.0
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from collections.abc import Callable
from types import ModuleType

__all__ = ["websocket_mask"]


def _load_extension() -> ModuleType:
    """The ``websockets.speedups`` extension module, or ImportError."""
    spec = importlib.util.find_spec("websockets")  # locates the package, runs nothing
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "speedups" + suffix)
            if not os.path.isfile(path):
                continue
            loader = importlib.machinery.ExtensionFileLoader("websockets.speedups", path)
            ext_spec = importlib.util.spec_from_file_location(
                "websockets.speedups", path, loader=loader
            )
            if ext_spec is None:
                continue
            module = importlib.util.module_from_spec(ext_spec)
            loader.exec_module(module)
            return module
    raise ImportError(
        "tornado.speedups needs the C extension of the 'websockets' package "
        "(pip install 'tornado-websocket[speedups]')"
    )


_apply_mask: Callable[[bytes | bytearray | memoryview, bytes], bytes] = _load_extension().apply_mask


def websocket_mask(mask: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated over its length (RFC 6455 5.3).

    Applying it twice gives back the data.  Raises `ValueError` if ``mask`` is
    not exactly 4 bytes long.
    """
    # The extension checks the mask's length itself (ValueError "mask must
    # contain 4 bytes"), so the hot path is one call.
    return _apply_mask(data, mask)

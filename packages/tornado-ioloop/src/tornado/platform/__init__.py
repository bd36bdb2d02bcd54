"""Integration of Tornado with event loops and platform services.

``tornado.platform`` is shared by several distributions: ``tornado-ioloop``
ships `tornado.platform.asyncio` (and owns this file), ``tornado-iostream``
adds ``tornado.platform.caresresolver``.  ``__path__`` is extended so that
their portions merge, also when installed editable from separate source
folders.
"""

from tornado import _extend_namespace_path

__path__ = _extend_namespace_path(__path__, __name__)

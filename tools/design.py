"""The package split fixed by ``DESIGN.md``, as data.

``tools check`` compares the declared dependencies of every distribution
with this table, so that a change of the architecture is a deliberate edit
here (through an issue) rather than drift in one ``pyproject.toml``.
"""

from __future__ import annotations

#: The distribution that owns ``tornado/__init__.py``.
NAMESPACE_OWNER = "tornado-core"

#: The code-free distribution that pins every other one.
META_PACKAGE = "tornado"

#: Direct dependencies of every distribution, in layer order.
DESIGN_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "tornado-core": (),
    "tornado-ioloop": ("tornado-core",),
    "tornado-iostream": ("tornado-ioloop",),
    "tornado-http": ("tornado-iostream",),
    "tornado-template": ("tornado-core",),
    "tornado-web": ("tornado-http", "tornado-template"),
    "tornado-websocket": ("tornado-web",),
    "tornado-auth": ("tornado-web",),
    "tornado-testing": ("tornado-web",),
    # DESIGN.md says "web, websocket"; websocket already depends on web, and
    # `tools check` refuses a declared dependency that adds nothing to the
    # closure, so the declared edge is websocket alone.
    "tornado-asgi": ("tornado-websocket",),
    "tornado-http2": ("tornado-http",),
    "tornado": (
        "tornado-core",
        "tornado-ioloop",
        "tornado-iostream",
        "tornado-http",
        "tornado-template",
        "tornado-web",
        "tornado-websocket",
        "tornado-auth",
        "tornado-testing",
        "tornado-asgi",
        "tornado-http2",
    ),
}


#: Public top-level modules that ``tornado.__all__`` leaves out, as upstream's
#: does: ``speedups`` is an optional accelerator, not an API module, and
#: ``asgi`` and ``http2`` are modules upstream does not have (listing them
#: would change upstream's ``tornado.__all__``).
NOT_IN_NAMESPACE_ALL: frozenset[str] = frozenset({"speedups", "asgi", "http2"})

#: Modules that import a third-party package their distribution does not
#: require: an optional extra's, or pytest for the plugin pytest itself loads.
OPTIONAL_EXTRA_MODULES: dict[str, str] = {
    "tornado.platform.caresresolver": "cares",
    "tornado.platform.twisted": "twisted",
    "tornado.platform._twisted_resolver": "twisted",
    "tornado.curl_httpclient": "curl",
    "tornado.speedups": "speedups",
    "tornado._pytest_plugin": "pytest (the plugin is loaded by pytest)",
}

"""Tornado-compatible web framework and asynchronous networking library.

This portion of the ``tornado`` package is owned by the ``tornado-core``
distribution.  The other distributions (``tornado-ioloop``, ``tornado-web``,
...) install their modules into the same package; ``__path__`` is extended
so that editable installs from separate source folders merge as well.
"""

__path__ = __import__("pkgutil").extend_path(__path__, __name__)

#: The version of this release as a string, e.g. ``"7.0.0"``.
version = "7.0.0.dev0"

#: The version as a tuple that compares in release order.  The fourth
#: element is zero for a final release and negative for a pre-release,
#: so ``version_info >= (6, 5)`` holds for every release of ours.
version_info = (7, 0, 0, -100)

"""``tools conformance``: upstream Tornado's own test suite, run against our packages.

The tornado 6.6.1 sdist is downloaded from the package index at run time
into a cache folder outside the repository (never installed, never
committed) and only its ``tornado/test/`` folder is extracted.  That folder
is put on ``sys.path`` as an extra portion of the ``tornado`` namespace
(our ``tornado/__init__.py`` extends ``__path__`` pkgutil-style), so
``tornado.test.*`` is upstream's while every other ``tornado.*`` module is
ours.  The runner refuses to start if any of our modules would resolve
outside ``packages/``.

Each upstream test module runs in its own subprocess with a time limit, so
a hang or crash costs one module, not the run.  The per-test outcomes are
compared with the reviewed list of known failures: a failure that is not
listed, or a listed test that now passes, fails the command.
"""

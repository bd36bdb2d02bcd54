"""Repository tooling for the tornado micro-packages monorepo.

Run it as ``python -m tools <command>`` from the repository root (the hatch
scripts in ``hatch.toml`` do exactly that).  Commands: ``check``, ``bump``,
``graph``, ``build``, ``release``, ``fragments``, ``typecheck`` and ``bench``.
"""

"""Shared helpers: inner pytest sessions that load the tornado-testing plugin."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

PLUGIN_MODULE = "tornado._pytest_plugin"


def _registered_by_entry_point() -> bool:
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))


@pytest.fixture
def plugin_args() -> list[str]:
    """Arguments that make an inner pytest load the plugin exactly once.

    Once tornado-testing's ``pytest11`` entry point is installed, pytest
    loads the plugin by itself (``-p`` would register it twice); in an
    environment installed before the entry point existed, ``-p`` loads it.
    """
    return [] if _registered_by_entry_point() else ["-p", PLUGIN_MODULE]

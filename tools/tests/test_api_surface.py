"""The describer and comparison behind tests-integration/test_api_surface.py."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import api_surface

SAMPLE = """
import socket
from collections import OrderedDict  # re-exported for callers
from os.path import join

LIMIT = 10
try:
    import zlib as compressor
except ImportError:
    compressor = None


class _Base:
    hidden = 1

    def inherited(self, x, *, y=None):
        self.from_base = x


class Thing(_Base):
    KIND = "thing"

    def __init__(self, a, b=b"x", *args, family=socket.AF_INET, opts={}, **kw):
        self.a = a
        self._private = b

    @property
    def size(self):
        return 1

    @staticmethod
    def make(n=1.5):
        return Thing(n)

    @classmethod
    def build(cls, /, name):
        return cls(name)

    def _helper(self):
        pass


def run(x, y="ok"):
    return join(x, y)


alias = run
"""


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "tornado_surface_sample.py").write_text(textwrap.dedent(SAMPLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tornado_surface_sample"
    sys.modules.pop("tornado_surface_sample", None)


def test_module_facts_of_a_sample(sample: str) -> None:
    facts = api_surface.module_facts(sample)
    p = sample
    assert facts == {
        f"{p}.LIMIT": "data",
        f"{p}.compressor": "data",
        f"{p}.OrderedDict": "import of collections.OrderedDict",
        f"{p}.Thing": f"class({p}._Base)",
        f"{p}.Thing.KIND": "attribute",
        f"{p}.Thing.__init__": (
            "method(self, a, b=b'x', *args, family=<AddressFamily.AF_INET: 2>, opts=..., **kw)"
        ),
        f"{p}.Thing.a": "attribute",
        f"{p}.Thing.build": "classmethod(cls, /, name)",
        f"{p}.Thing.from_base": "attribute",
        f"{p}.Thing.hidden": "attribute",
        f"{p}.Thing.inherited": "method(self, x, *, y=None)",
        f"{p}.Thing.make": "staticmethod(n=1.5)",
        f"{p}.Thing.size": "property",
        f"{p}.alias": f"alias of {p}.run",
        f"{p}.run": "function(x, y='ok')",
    }


def test_compare_reports_missing_and_different() -> None:
    record = {"m": {"m.f": "function(a, b=None)", "m.C": "class()", "m.C.x": "attribute"}}
    ours = {"m": {"m.f": "function(a, b=1)", "m.C": "class()", "m.extra": "data"}}
    assert api_surface.compare(record, ours) == [
        "m.f: ours is function(a, b=1), upstream's is function(a, b=None)",
        "m.C.x: missing (upstream: attribute)",
    ]
    assert api_surface.extras(record, ours) == ["m.extra: data"]
    assert api_surface.compare({"n": {}}, ours) == ["n: module missing (or fails to import)"]


@pytest.mark.parametrize(
    ("recorded", "ours", "ok"),
    [
        ("method(self, a, b=1)", "method(self, a, b=1)", True),
        ("method(self, a, b=1)", "method(self, a, b=1, *, c=2)", True),
        ("method(self, a, **kw)", "method(self, a, *, p=False, **kw)", True),
        ("method(self, a, *, x=1)", "method(self, a, *, x=1, y=2)", True),
        ("method(self, a, *args)", "method(self, a, *args, q=1)", True),
        ("method(self, a)", "method(self, a, b=1)", False),  # positional extra
        ("method(self, a)", "method(self, a, *, b)", False),  # required keyword
        ("method(self, a, b=1)", "method(self, a)", False),
        ("method(self, a)", "classmethod(self, a)", False),
        ("property", "attribute", False),
    ],
)
def test_compatible_signatures(recorded: str, ours: str, ok: bool) -> None:
    assert api_surface._compatible(recorded, ours) is ok

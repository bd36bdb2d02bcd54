"""The objects.inv reader and the coverage check of ``tools docs-coverage``."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from tools import docs_coverage
from tools.docs_coverage import Entry, InventoryError, missing, parse_inventory, read_snapshot

HEADER = b"# Sphinx inventory version 2\n# Project: P\n# Version: 1\n# The remainder of this file is compressed using zlib.\n"


def _inventory(lines: list[str]) -> bytes:
    return HEADER + zlib.compress("".join(line + "\n" for line in lines).encode())


def test_parse_expands_abbreviations() -> None:
    data = _inventory(
        [
            "tornado.web py:module 0 api/tornado.web.html#module-$ -",
            "tornado.web.RequestHandler.write py:method 1 api/tornado.web.html#$ -",
            "dist-tornado-web std:label -1 packages/tornado-web.html#$ tornado-web",
            "a label with spaces std:label -1 page.html#x A label with spaces",
        ]
    )
    entries = parse_inventory(data)
    assert entries[0] == Entry(
        "tornado.web", "py", "module", 0, "api/tornado.web.html#module-tornado.web", "tornado.web"
    )
    assert entries[1].uri == "api/tornado.web.html#tornado.web.RequestHandler.write"
    assert entries[2].display == "tornado-web"
    assert entries[3].name == "a label with spaces" and entries[3].role == "label"
    assert docs_coverage.documented_names(entries) == {
        "tornado.web",
        "tornado.web.RequestHandler.write",
    }


@pytest.mark.parametrize(
    "data",
    [
        b"# Sphinx inventory version 1\n# a\n# b\n# zlib\n",
        HEADER[:-1],
        HEADER + b"not zlib at all",
        HEADER + zlib.compress(b"onlyonefield\n"),
    ],
)
def test_parse_rejects_what_is_not_an_inventory(data: bytes) -> None:
    with pytest.raises(InventoryError):
        parse_inventory(data)


def test_missing_names_and_the_dunder_rule() -> None:
    snapshot = {
        "tornado.locks": {
            "tornado.locks.Lock": "class()",
            "tornado.locks.Lock.__init__": "method(self)",
            "tornado.locks.Lock.acquire": "method(self, timeout=None)",
            "tornado.locks.Event": "class()",
            "tornado.locks.Event.__repr__": "method(self)",
        }
    }
    documented = {"tornado.locks", "tornado.locks.Lock"}
    # Lock.__init__ is covered by its documented class; Event is not
    # documented, so neither is its __repr__.
    assert missing(snapshot, documented) == [
        "tornado.locks.Event",
        "tornado.locks.Event.__repr__",
        "tornado.locks.Lock.acquire",
    ]
    assert missing({"tornado.gen": {}}, set()) == ["tornado.gen"]


def test_read_both_snapshot_forms(tmp_path: Path) -> None:
    facts = {"tornado": {"tornado.version": "data", "tornado.version_info": "data"}}
    as_json = tmp_path / "api_surface.json"
    as_json.write_text(json.dumps({"modules": facts, "tornado_version": "6.6.1"}))
    as_text = tmp_path / "api.txt"
    as_text.write_text("[tornado]\ntornado.version: data\ntornado.version_info: data\n\n")
    assert read_snapshot(as_json) == facts == read_snapshot(as_text)
    bad = tmp_path / "bad.txt"
    bad.write_text("tornado.version: data\n")
    with pytest.raises(ValueError, match="before any"):
        read_snapshot(bad)


def test_main_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = tmp_path / "api.txt"
    snapshot.write_text("[tornado]\ntornado.version: data\n")
    inv = tmp_path / "objects.inv"
    inv.write_bytes(_inventory(["tornado py:module 0 index.html#module-$ -"]))
    assert docs_coverage.main(["--inventory", str(inv), "--snapshot", str(snapshot)]) == 1
    assert "undocumented: tornado.version" in capsys.readouterr().out
    inv.write_bytes(
        _inventory(
            [
                "tornado py:module 0 index.html#module-$ -",
                "tornado.version py:data 1 index.html#$ -",
            ]
        )
    )
    (tmp_path / "undescribed.txt").write_text("tornado.version\n")
    assert docs_coverage.main(["--inventory", str(inv), "--snapshot", str(snapshot)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 public names" in out and "no description yet: tornado.version" in out
    assert (
        docs_coverage.main(["--inventory", str(tmp_path / "none"), "--snapshot", str(snapshot)])
        == 2
    )


def test_the_repository_snapshot_is_readable() -> None:
    facts = read_snapshot(docs_coverage.DEFAULT_SNAPSHOT)
    assert sum(len(f) for f in facts.values()) > 1100

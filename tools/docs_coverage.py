"""Is every public name of the API snapshot documented on the site?

``python -m tools docs-coverage [--inventory PATH] [--snapshot PATH]`` reads
the ``objects.inv`` that the Sphinx HTML build writes (our own parser, below)
and the API snapshot that ``tests-integration/test_api_surface.py`` checks our
surface against, and lists every snapshot name that has no entry in the
inventory's Python domain.  Exit status 1 when any is missing.

The snapshot is, by default, the record in the repository
(``tests-integration/fixtures/api_surface.json``: upstream Tornado 6.6.1's
surface observed by ``tools/api_surface.py``), so CI needs no download.  The
same facts as text (``name: descriptor`` lines under ``[module]`` headers, the
shape of ``python -m tools.api_surface`` and of the ``api.txt`` kept beside
the upstream tests in the conformance cache) are read too: pass its path.

The inventory format (version 2): four ``#`` header lines, then the rest of
the file compressed with zlib, one object per line::

    name domain:role priority uri display-name

where ``uri`` may end with ``$`` (short for the name) and ``display-name`` is
``-`` when it equals the name.  Names never contain spaces in the ``py``
domain, but labels of the ``std`` domain may, so a line is split from the
right of the name with a pattern rather than by whitespace.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INVENTORY = REPO / "build" / "docs" / "html" / "objects.inv"
DEFAULT_SNAPSHOT = REPO / "tests-integration" / "fixtures" / "api_surface.json"

_HEADER_LINES = 4
_LINE = re.compile(
    r"(?P<name>.+?)\s+(?P<domain>[^\s:]+):(?P<role>\S+)\s+(?P<prio>-?\d+)\s+(?P<uri>\S*)\s+(?P<disp>.*)"
)


class InventoryError(ValueError):
    """The file is not a version-2 Sphinx inventory."""


@dataclass(frozen=True)
class Entry:
    """One object of an inventory."""

    name: str
    domain: str
    role: str
    priority: int
    uri: str
    display: str


def parse_inventory(data: bytes) -> list[Entry]:
    """Parse the bytes of an ``objects.inv`` (version 2) into its entries."""
    lines = data.split(b"\n", _HEADER_LINES)
    if len(lines) <= _HEADER_LINES:
        raise InventoryError("shorter than the four header lines")
    if lines[0].rstrip() != b"# Sphinx inventory version 2":
        raise InventoryError(f"not a version-2 inventory: {lines[0][:60]!r}")
    if b"zlib" not in lines[3]:
        raise InventoryError("the fourth header line does not announce zlib compression")
    try:
        body = zlib.decompress(lines[_HEADER_LINES]).decode("utf-8")
    except zlib.error as e:
        raise InventoryError(f"the compressed body does not inflate: {e}") from e
    entries = []
    for line in body.splitlines():
        if not line.strip():
            continue
        m = _LINE.fullmatch(line)
        if m is None:
            raise InventoryError(f"unparsable inventory line: {line!r}")
        name = m["name"]
        uri = m["uri"]
        # `$` at the end of a uri abbreviates the object's own name (the anchor).
        if uri.endswith("$"):
            uri = uri[:-1] + name
        display = name if m["disp"] == "-" else m["disp"]
        entries.append(Entry(name, m["domain"], m["role"], int(m["prio"]), uri, display))
    return entries


def read_snapshot(path: Path) -> dict[str, dict[str, str]]:
    """The snapshot's facts per module: the JSON record or the ``[module]`` text form."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
        modules: dict[str, dict[str, str]] = document.get("modules", document)
        return modules
    facts: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = facts.setdefault(line[1:-1], {})
            continue
        if current is None:
            raise ValueError(f"{path}: a fact before any [module] header: {line!r}")
        name, sep, descriptor = line.partition(": ")
        if not sep:
            raise ValueError(f"{path}: not a 'name: descriptor' line: {line!r}")
        current[name] = descriptor
    return facts


def documented_names(entries: list[Entry]) -> set[str]:
    """The dotted names that the inventory documents in the Python domain."""
    return {e.name for e in entries if e.domain == "py"}


def _is_dunder(name: str) -> bool:
    last = name.rpartition(".")[2]
    return len(last) > 4 and last.startswith("__") and last.endswith("__")


def missing(snapshot: dict[str, dict[str, str]], documented: set[str]) -> list[str]:
    """Every snapshot name (modules included) that is not documented, sorted.

    A special method (``Cls.__init__``, ``Cls.__iter__``, ...) counts as
    documented with its class: the reference shows the constructor's
    parameters in the class's signature and describes the protocols a class
    supports in its own text, rather than giving each dunder an entry.  Its
    class must be documented, so a missing class is still reported (with its
    special methods).
    """
    wanted: set[str] = set()
    for modname, facts in snapshot.items():
        wanted.add(modname)
        wanted.update(facts)
    return sorted(
        name
        for name in wanted - documented
        if not (_is_dunder(name) and name.rpartition(".")[0] in documented)
    )


def undescribed(inventory: Path) -> list[str]:
    """Names the site lists without prose (``undescribed.txt`` beside the inventory)."""
    path = inventory.parent / "undescribed.txt"
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    """Print the undocumented names; return 1 when there are any, 2 on unreadable input."""
    parser = argparse.ArgumentParser(
        prog="tools docs-coverage", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    args = parser.parse_args(argv)
    try:
        entries = parse_inventory(args.inventory.read_bytes())
        snapshot = read_snapshot(args.snapshot)
    except (OSError, ValueError) as e:
        print(f"docs-coverage: {e}", file=sys.stderr)
        return 2
    absent = missing(snapshot, documented_names(entries))
    total = len(snapshot) + sum(len(f) for f in snapshot.values())
    for name in absent:
        print(f"undocumented: {name}")
    # Informational: names listed by docs/_ext/instance_members.py with no
    # description yet (each has an entry, so it counts as documented).
    waiting = undescribed(args.inventory)
    if waiting:
        print(f"docs-coverage: {len(waiting)} names are listed without a description yet:")
        for name in waiting:
            print(f"  no description yet: {name}")
    print(
        f"docs-coverage: {total - len(absent)} of {total} public names of {args.snapshot.name} "
        f"documented in {args.inventory}"
    )
    return 1 if absent else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Command-line entry point: ``python -m tools <command> [options]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.repo import Repo, RepoError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tools", description=__doc__)
    parser.add_argument(
        "--root", type=Path, default=None, help="repository root (default: found from the cwd)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "check", help="versions, pins, dependency graph, imports, ownership, README graph"
    )
    p = sub.add_parser("bump", help="set every version and sibling pin")
    p.add_argument("version")
    p = sub.add_parser("graph", help="print the Mermaid dependency graph")
    p.add_argument("--write", action="store_true", help="update the copy embedded in README.md")
    p = sub.add_parser("build", help="build and verify the sdist and wheel of every distribution")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument(
        "--no-verify-sdists", action="store_true", help="skip rebuilding wheels from the sdists"
    )
    p = sub.add_parser("release", help="bump + towncrier build + build, on a clean tree")
    p.add_argument("version")
    p.add_argument("--out-dir", type=Path, default=None)
    p = sub.add_parser(
        "fragments", help="source changes since the last release without a news fragment"
    )
    p.add_argument("--since", default=None, help="git ref (default: the newest v* tag)")
    # The bench runner parses its own options (tools/bench/matrix.py).
    p = sub.add_parser(
        "bench", help="benchmarks against upstream Tornado and peers", add_help=False
    )
    p = sub.add_parser("conformance", help="upstream Tornado's test suite against our packages")
    p.add_argument("modules", nargs="*", help="upstream test modules (default: all)")
    p.add_argument(
        "--upstream",
        type=Path,
        default=None,
        help="an extracted upstream folder (default: download)",
    )
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per test module")
    p.add_argument(
        "--report",
        type=Path,
        default=None,
        help="JSON report path (default: build/conformance/report.json)",
    )
    p.add_argument("--known-failures", type=Path, default=None)
    p.add_argument(
        "--baseline",
        action="store_true",
        help="also run the modules on upstream Tornado (a throwaway uv environment in the "
        "cache) and print how many of upstream's passes pass on ours",
    )
    p = sub.add_parser(
        "docs", help="build the documentation site (warnings as errors), check its links"
    )
    p.add_argument(
        "--serve",
        nargs="?",
        type=int,
        const=8000,
        default=None,
        metavar="PORT",
        help="then serve it on 127.0.0.1 (default port 8000)",
    )
    p = sub.add_parser(
        "docs-coverage", help="every public name of the API snapshot is in the site's objects.inv"
    )
    p.add_argument("--inventory", default=None, help="objects.inv (default: the last docs build)")
    p.add_argument("--snapshot", default=None, help="the API snapshot (JSON record or text)")
    p = sub.add_parser("typecheck", help="mypy over the merged tornado namespace")
    p.add_argument("mypy_args", nargs="*")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status."""
    parser = _parser()
    # `bench` hands everything after it to its own parser.
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        repo = Repo.load(args.root)
    except RepoError as e:
        print(f"tools: {e}", file=sys.stderr)
        return 2
    if args.command == "check":
        from tools import check

        return check.main(repo)
    if args.command == "bump":
        from tools import bump

        return bump.main(repo, args.version)
    if args.command == "graph":
        from tools import graph

        if args.write:
            changed = graph.write_embedded(repo.root / "README.md", repo)
            print("README.md graph updated" if changed else "README.md graph already current")
        else:
            print(graph.mermaid(repo), end="")
        return 0
    if args.command == "build":
        from tools import build

        return build.main(repo, args.out_dir, verify_sdists=not args.no_verify_sdists)
    if args.command == "release":
        from tools import release

        return release.main(repo, args.version, args.out_dir)
    if args.command == "fragments":
        from tools import fragments

        return fragments.main(repo, args.since)
    if args.command == "bench":
        from tools.bench import runner

        return runner.main(repo, rest)
    if args.command == "conformance":
        from tools.conformance import harness

        return harness.main(
            repo,
            args.upstream,
            args.modules,
            args.timeout,
            args.report,
            args.known_failures or harness.KNOWN_FAILURES,
            harness.baseline_or_none(harness.default_cache()) if args.baseline else None,
        )
    if args.command == "docs":
        from tools import docs_build

        return docs_build.main(args.serve)
    if args.command == "docs-coverage":
        from tools import docs_coverage

        forwarded = []
        if args.inventory:
            forwarded += ["--inventory", args.inventory]
        if args.snapshot:
            forwarded += ["--snapshot", args.snapshot]
        return docs_coverage.main(forwarded)
    if args.command == "typecheck":
        from tools import typecheck

        return typecheck.main(repo, args.mypy_args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())

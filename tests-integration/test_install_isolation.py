"""Install-isolation tests: built wheels installed into fresh virtual environments."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tools import design
from tools.repo import Repo, closure
from tools.venvs import Venv

pytestmark = pytest.mark.integration


def _ours(installed: dict[str, str], repo: Repo) -> dict[str, str]:
    return {name: v for name, v in installed.items() if name in repo.distributions}


def test_template_alone_installs_only_core_and_renders(
    make_venv: Callable[[], Venv], repo: Repo, tmp_path: Path
) -> None:
    venv = make_venv()
    venv.install("tornado-template")
    version = repo.distributions["tornado-core"].version
    assert _ours(venv.installed(), repo) == {"tornado-template": version, "tornado-core": version}
    # Nothing else at all: the template engine has no third-party dependencies.
    assert set(venv.installed()) == {"tornado-template", "tornado-core"}

    templates = tmp_path / "templates"
    (templates / "parts").mkdir(parents=True)
    (templates / "base.html").write_text(
        "<title>{% block title %}default{% end %}</title>\n<body>{% block body %}{% end %}</body>\n"
    )
    (templates / "parts" / "row.html").write_text("<li>{{ item }}</li>\n")
    (templates / "page.html").write_text(
        textwrap.dedent("""\
        {% extends "base.html" %}
        {% block title %}{{ title }}{% end %}
        {% block body %}<ul>{% for item in items %}{% include "parts/row.html" %}{% end %}</ul>{% end %}
        """)
    )
    code = textwrap.dedent(f"""\
        import json, sys
        import tornado.template
        loader = tornado.template.Loader({str(templates)!r})
        out = loader.load("page.html").generate(title="A & B", items=["<x>", "y"])
        ours = sorted(m for m in sys.modules if m == "tornado" or m.startswith("tornado."))
        print(json.dumps({{"out": out.decode(), "modules": ours,
                          "asyncio": any(m == "asyncio" or m.startswith("asyncio.") for m in sys.modules)}}))
        """)
    result = json.loads(venv.run(code))
    assert result["out"] == (
        "<title>A &amp; B</title>\n<body><ul><li>&lt;x&gt;</li>\n<li>y</li>\n</ul></body>\n"
    )
    for forbidden in (
        "tornado.ioloop",
        "tornado.concurrent",
        "tornado.gen",
        "tornado.platform.asyncio",
    ):
        assert forbidden not in result["modules"]
    assert set(result["modules"]) <= {
        "tornado",
        "tornado.template",
        "tornado.escape",
        "tornado.util",
        "tornado.log",
    }
    assert result["asyncio"] is False


def test_meta_package_installs_all_twelve_at_one_version(
    make_venv: Callable[[], Venv], repo: Repo
) -> None:
    venv = make_venv()
    venv.install("tornado")
    ours = _ours(venv.installed(), repo)
    assert set(ours) == set(repo.distributions) and len(ours) == 12
    assert set(ours.values()) == {repo.distributions["tornado"].version}
    assert (
        venv.run("import tornado; print(tornado.version)").strip()
        == repo.distributions["tornado"].version
    )


@pytest.mark.parametrize("name", sorted(design.DESIGN_DEPENDENCIES))
def test_single_distribution_pulls_exactly_its_closure(
    name: str, make_venv: Callable[[], Venv], repo: Repo
) -> None:
    venv = make_venv()
    venv.install(name)
    expected = closure(repo.declared_graph(), name) | {name}
    assert set(_ours(venv.installed(), repo)) == expected
    # Every module the closure ships imports from the installed wheels; the
    # modules of optional extras are at least found (their extra is not installed).
    modules = sorted(m for d in expected for m in repo.distributions[d].module_names())
    plain = [m for m in modules if m not in design.OPTIONAL_EXTRA_MODULES]
    extras = [m for m in modules if m in design.OPTIONAL_EXTRA_MODULES]
    code = "import importlib, importlib.util\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in plain)
    code += "".join(f"assert importlib.util.find_spec({m!r}) is not None\n" for m in extras)
    venv.run(code)

"""The template engine on its own: no event loop, no web framework.

Needs only ``pip install tornado-template``.
"""

# output: <h1>Fruit &amp; vegetables</h1>
# output: <li>apple (3)</li>
# output: <li>pear (1)</li>
# output: Dear Ada, welcome.

from tornado.template import DictLoader, Template

# A template compiles once and renders many times; expressions are
# autoescaped (xhtml_escape) by default.
page = Template(
    """<h1>{{ title }}</h1>
{% for name, count in items %}<li>{{ name }} ({{ count }})</li>
{% end %}"""
)
print(page.generate(title="Fruit & vegetables", items=[("apple", 3), ("pear", 1)]).decode())

# A loader resolves {% extends %} and {% include %} by name.
loader = DictLoader(
    {
        "base.txt": "Dear {{ name }}, {% block body %}{% end %}",
        "welcome.txt": '{% extends "base.txt" %}{% block body %}welcome.{% end %}',
    },
    autoescape=None,
)
print(loader.load("welcome.txt").generate(name="Ada").decode())

"""Template compile and render rates: a 100-row table with escaped fields.

Usage: ``python template_render.py tornado|jinja2`` prints JSON result lines.
"""

from __future__ import annotations

import sys

from _harness import emit, rate

ROWS = [
    {
        "id": i,
        "name": f'user <{i}> & "friends"',
        "email": f"u{i}@example.com",
        "score": i * 7 % 101,
        "active": i % 3 == 0,
    }
    for i in range(100)
]

TORNADO_SOURCE = """<table>
{% for row in rows %}<tr class="{{ 'on' if row['active'] else 'off' }}">
<td>{{ row['id'] }}</td><td>{{ row['name'] }}</td><td>{{ row['email'] }}</td><td>{{ row['score'] }}</td>
</tr>
{% end %}</table>
"""

JINJA_SOURCE = """<table>
{% for row in rows %}<tr class="{{ 'on' if row['active'] else 'off' }}">
<td>{{ row['id'] }}</td><td>{{ row['name'] }}</td><td>{{ row['email'] }}</td><td>{{ row['score'] }}</td>
</tr>
{% endfor %}</table>
"""


def tornado_cases() -> None:
    from tornado.template import Template

    template = Template(TORNADO_SOURCE)
    out = template.generate(rows=ROWS)
    assert b"user &lt;3&gt; &amp; &quot;friends&quot;" in out, out[:300]
    emit("render 100-row table", rate(lambda: template.generate(rows=ROWS)), "renders/s")
    emit("compile table template", rate(lambda: Template(TORNADO_SOURCE)), "compiles/s")


def jinja2_cases() -> None:
    import jinja2

    env = jinja2.Environment(autoescape=True)
    template = env.from_string(JINJA_SOURCE)
    out = template.render(rows=ROWS)
    assert "user &lt;3&gt; &amp; &#34;friends&#34;" in out, out[:300]
    # Encode to bytes as Tornado's generate() does, so both produce the same kind of result.
    emit("render 100-row table", rate(lambda: template.render(rows=ROWS).encode()), "renders/s")
    emit("compile table template", rate(lambda: env.from_string(JINJA_SOURCE)), "compiles/s")


if __name__ == "__main__":
    {"tornado": tornado_cases, "jinja2": jinja2_cases}[sys.argv[1]]()

"""Templates: the contract fields appear, hostile article text stays inert, route templates are sandboxed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from alerts.config import EVENT_KINDS, AlertSettings, DigestConfig, RouteConfig
from alerts.render import render_alert, render_digest, safe_href

HOSTILE = (
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} <script>alert('x')</script> "
    "[click](javascript:evil) *bold*"
)


def test_default_title_and_body_carry_the_contract_fields(make_payload: Any) -> None:
    msg = render_alert("change", make_payload(entity="Kenya"))
    assert msg.title == "mandate_end (Kenya) changed to 2026-10-02 (was 2025-10-02)"
    for expected in (
        "Old value: 2025-10-02",
        "New value: 2026-10-02",
        "The council extended the mission until 2 October 2026.",
        "https://news.example.org/world/council-extends-mission",
        "Example News",
        "2025-09-30",
        "Independent sources: 3",
        "https://b.example.org/2",  # the timeline
    ):
        assert expected in msg.body


@pytest.mark.parametrize(
    ("event", "title"),
    [
        ("initial", "mandate_end: first value 2026-10-02"),
        ("reported", "mandate_end reported as 2026-10-02, not yet confirmed"),
        ("conflict", "mandate_end: sources disagree, 2026-10-02 vs 2025-10-02"),
    ],
)
def test_titles_name_fact_and_new_value_for_each_event(make_payload: Any, event: str, title: str) -> None:
    assert render_alert(event, make_payload()).title == title


def test_history_link_from_settings(make_payload: Any) -> None:
    msg = render_alert("change", make_payload(), history_url="https://dash.example.org/facts/{fact}")
    assert "Full history: https://dash.example.org/facts/mandate_end" in msg.body


def test_hostile_article_text_is_data_in_text_and_markdown(make_payload: Any) -> None:
    payload = make_payload(evidence=HOSTILE, publisher="{{ config }}")
    text = render_alert("change", payload).body
    assert "{{ 7*7 }}" in text and "49" not in text
    assert "{% for x in range(3) %}" in text and "looploop" not in text
    md = render_alert("change", payload, fmt="markdown").body
    assert "49" not in md and "looploop" not in md
    assert "\\*bold\\*" in md  # Markdown metacharacters escaped
    assert "[click](javascript" not in md


def test_hostile_article_text_is_escaped_in_html(make_payload: Any) -> None:
    payload = make_payload(evidence=HOSTILE, url="javascript:alert(1)", entity="<img src=x onerror=alert(1)>")
    html = render_alert("change", payload, fmt="html").body
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html and 'href="#"' in html
    assert "{{ 7*7 }}" in html and "49" not in html
    digest = render_digest([("change", payload, "t <b>")], fmt="html", route="r", window="w").body
    assert "<script>" not in digest and "t &lt;b&gt;" in digest


def test_route_template_runs_sandboxed(make_payload: Any) -> None:
    escape = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    msg = render_alert("change", make_payload(), body_template=escape)
    assert "failed to render" in msg.body and "unsafe" in msg.body
    assert "<class" not in msg.body


def test_route_templates_replace_defaults(make_payload: Any) -> None:
    msg = render_alert(
        "change",
        make_payload(evidence="{{ 1+1 }}"),
        title_template="NEW {{ fact|upper }} = {{ new_value }}",
        body_template="ev={{ evidence }} n={{ independent_sources + 1 }}",
    )
    assert msg.title == "NEW MANDATE_END = 2026-10-02"
    assert msg.body == "ev={{ 1+1 }} n=4\n"


def test_bad_route_template_is_a_config_error_naming_the_route() -> None:
    with pytest.raises(ValidationError, match=r"route 'desk'.*body_template.*line 1"):
        RouteConfig(name="desk", urls=["json://127.0.0.1/x"], body_template="{% if %}")


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://ok.example.org/a b", "https://ok.example.org/a%20b"),
        ("javascript:alert(1)", "#"),
        ('https://x.example.org/"onmouseover="1', "https://x.example.org/%22onmouseover=%221"),
        (None, "#"),
    ],
)
def test_safe_href(href: str | None, expected: str) -> None:
    assert safe_href(href) == expected


@pytest.mark.parametrize("model", [RouteConfig, AlertSettings, DigestConfig])
def test_every_setting_is_documented(model: type[BaseModel]) -> None:
    undocumented = [name for name, info in model.model_fields.items() if not info.description]
    assert undocumented == []


def test_default_templates_cover_every_event_and_format(make_payload: Any) -> None:
    for event in EVENT_KINDS:
        for fmt in ("text", "markdown", "html"):
            msg = render_alert(event, {**make_payload(), "source": "wire", "error": "boom"}, fmt=fmt)  # type: ignore[arg-type]
            assert msg.title and "failed to render" not in msg.body

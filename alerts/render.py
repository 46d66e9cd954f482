"""Turn an alert's payload into a title and a body, in text, Markdown or HTML.

Article text is untrusted: evidence sentences, publishers and URLs come from whatever a site served. It
only ever enters templates as *data* (Jinja never evaluates a variable's content), HTML output is
autoescaped, Markdown output escapes its metacharacters through the `md` filter, and links pass through
`href`, which drops `javascript:` and other non-web schemes. Templates themselves come from configuration,
so they run in Jinja's sandbox: a route's template cannot reach Python internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from jinja2 import FileSystemLoader, Template, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from alerts.config import SOURCE_EVENTS

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
Format = Literal["text", "markdown", "html"]
_SUFFIX: dict[str, str] = {"text": "txt", "markdown": "md", "html": "html"}
TITLE_MAX = 200

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    format: Format = "text"


def show(value: Any) -> str:
    """How a value reads in a message: absent values say so instead of printing `None`."""
    if value is None or isinstance(value, Undefined) or value == "":
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return str(value)


def when(value: Any) -> str:
    """ISO timestamps as people read them: the date alone at midnight (day precision), else minutes, UTC."""
    text = show(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    if (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
        return parsed.date().isoformat()
    return parsed.strftime("%Y-%m-%d %H:%M") + (" UTC" if parsed.tzinfo is not None else "")


def md_escape(value: Any) -> str:
    return _MD_SPECIAL.sub(r"\\\1", "" if value is None or isinstance(value, Undefined) else str(value))


def code_span(value: Any) -> str:
    """Inside backticks nothing is markup, but a backtick would end the span."""
    return ("" if value is None or isinstance(value, Undefined) else str(value)).replace("`", "'")


def safe_href(value: Any) -> str:
    """A link target that cannot run script or break out of an attribute or a Markdown link."""
    if value is None or isinstance(value, Undefined):
        return "#"
    text = str(value).strip()
    if not text.lower().startswith(_SAFE_SCHEMES):
        return "#"
    return quote(text, safe=":/?#[]@!$&'*+,;=%~-._").replace("'", "%27")


def _environment(autoescape: bool, undefined: type[Undefined] = Undefined) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        undefined=undefined,
        keep_trailing_newline=False,
        trim_blocks=False,
    )
    env.filters.update(show=show, when=when, md=md_escape, code=code_span, href=safe_href)
    return env


@cache
def environment(fmt: str) -> SandboxedEnvironment:
    """One environment per format: HTML autoescapes, text and Markdown do not (Markdown uses `md`)."""
    return _environment(autoescape=fmt == "html")


def check_template(source: str, *, fmt: str = "text") -> None:
    """Compile a template from configuration; ValueError names the line of a syntax error."""
    try:
        environment(fmt).from_string(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise ValueError(f"template error{f' on line {line}' if line else ''}: {exc}") from None


@cache
def _compiled(source: str, fmt: str) -> Template:
    return environment(fmt).from_string(source)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"


def history_link(payload: Mapping[str, Any], history_url: str | None) -> str | None:
    if payload.get("history_url"):
        return str(payload["history_url"])
    if not history_url or not payload.get("fact"):
        return None
    return history_url.format(
        fact=quote(str(payload["fact"])), entity=quote(str(payload.get("entity") or ""))
    )


def context(event: str, payload: Mapping[str, Any], *, history_url: str | None = None) -> dict[str, Any]:
    ctx = dict(payload)
    # `title` in a template is the alert's title; the article's own headline stays reachable
    ctx["article_title"] = payload.get("article_title") or payload.get("title")
    ctx["event"] = event
    ctx["history_link"] = history_link(payload, history_url)
    return ctx


def _safe_render(template: Template, ctx: Mapping[str, Any], what: str) -> str:
    try:
        return template.render(ctx)
    except TemplateError as exc:
        # A route's own template failed at render time (e.g. a sandbox refusal): say so in the message
        # rather than losing the alert.
        logger.warning("%s failed to render: %s", what, exc)
        return f"[{what} failed to render: {exc}]"


def render_title(
    event: str, payload: Mapping[str, Any], *, template: str | None = None, history_url: str | None = None
) -> str:
    ctx = context(event, payload, history_url=history_url)
    tpl = _compiled(template, "text") if template else environment("text").get_template("title.txt")
    return _one_line(_safe_render(tpl, ctx, "title template"))


def render_alert(
    event: str,
    payload: Mapping[str, Any],
    *,
    fmt: Format = "text",
    title_template: str | None = None,
    body_template: str | None = None,
    history_url: str | None = None,
) -> Message:
    """Title and body of one alert; the route's templates replace the defaults when given."""
    title = render_title(event, payload, template=title_template, history_url=history_url)
    ctx = context(event, payload, history_url=history_url)
    ctx["title"] = title
    if body_template:
        tpl = _compiled(body_template, fmt)
    else:
        kind = "source" if event in SOURCE_EVENTS else "fact"
        tpl = environment(fmt).get_template(f"{kind}.{_SUFFIX[fmt]}")
    body = _safe_render(tpl, ctx, "body template").strip() + "\n"
    return Message(title=title, body=body, format=fmt)


def render_digest(
    items: Sequence[tuple[str, Mapping[str, Any], str]],
    *,
    fmt: Format = "text",
    route: str,
    window: str,
    more: int = 0,
) -> Message:
    """One message listing several alerts; items are (event, payload, title)."""
    count = len(items)
    title = _one_line(f"factwatch digest ({route}): {count} alert{'s' if count != 1 else ''}, {window}")
    rows = [{**dict(payload), "event": event, "title": item_title} for event, payload, item_title in items]
    tpl = environment(fmt).get_template(f"digest.{_SUFFIX[fmt]}")
    body = _safe_render(tpl, {"title": title, "items": rows, "more": more, "route": route}, "digest template")
    return Message(title=title, body=body.strip() + "\n", format=fmt)

"""Small helpers shared by every tool's Gradio builder (no heavy imports here)."""

from __future__ import annotations

import html
import re


def event_api(name: str, expose_api: bool, *, internal: bool = False) -> dict:
    """Keyword arguments for an event listener.

    A tool is built twice: once in its tab of the main page (``expose_api=True``: the event is
    public in the API and the MCP server under ``name``) and once on its own embeddable page
    (``expose_api=False``: the event works in the browser but stays out of the API, so every
    endpoint is listed once). ``internal=True`` marks UI plumbing (refreshing a widget, stopping
    a run): it works in the browser but is never listed in the API or as an MCP tool.
    """
    if expose_api and not internal:
        return {"api_name": name, "api_visibility": "public"}
    return {"api_name": name if expose_api else f"{name}_page", "api_visibility": "private"}


# Gradio 6.31 renders gr.Info/Warning/Error as HTML (sanitized, but links and images pass), and
# gr.Markdown renders Markdown and HTML: a visitor's text shown in either must be made literal.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def visitor_text(value: object, limit: int = 60) -> str:
    """A visitor-supplied value (an address-bar parameter, a typed field) as literal text for a
    notice (gr.Info/Warning/Error): shortened to ``limit`` characters, markup escaped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text, quote=False)


def visitor_markdown(value: object, limit: int = 60) -> str:
    """The same, for a Markdown component: HTML and Markdown syntax (links, images) escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", visitor_text(value, limit))

"""Small helpers shared by every tool's Gradio builder (no heavy imports here)."""

from __future__ import annotations


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

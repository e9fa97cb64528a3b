"""Talk to the Space's MCP server as an MCP client does: the `mcp` package over streamable HTTP.

Reusable by any test (point it at an in-process or a subprocess server)::

    from tests.mcp_client import McpClient, mcp_app

    with mcp_app() as url:                      # the whole Space, MCP on, in this process
        client = McpClient(url)
        names = [tool.name for tool in client.list_tools()]
        result = client.call("estimate", {"model": "gpt2"})
        assert not result.is_error, result.text

``McpClient(url)`` takes the Space's base URL (``app_url`` of tests/conftest.py works too, since
`python app.py` serves MCP unless COURSE_MCP_SERVER is off). Each method opens one MCP session
(initialize, then the request), as a model's client does for a fresh conversation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MCP_PATH = "/gradio_api/mcp/"


@dataclass
class ToolResult:
    """What a tool call returned: its text parts, its structured content, and the error flag."""

    is_error: bool
    texts: list[str]
    structured: Any

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def json(self) -> Any:
        """The first text part as JSON (Gradio returns a tool's outputs that way)."""
        return json.loads(self.texts[0])


class McpClient:
    def __init__(self, base_url: str, timeout: float = 120):
        self.url = base_url.rstrip("/") + MCP_PATH
        self.timeout = timeout

    async def _session(self, work):
        import httpx
        from mcp import ClientSession
        from mcp.client.streamable_http import streamable_http_client

        http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout, read=self.timeout))
        async with http, streamable_http_client(self.url, http_client=http) as streams:
            read, write, _ = streams
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    def _run(self, work):
        return asyncio.run(asyncio.wait_for(self._session(work), self.timeout))

    def list_tools(self) -> list:
        """The server's tools (``mcp.types.Tool``: name, description, inputSchema)."""

        async def work(session):
            return (await session.list_tools()).tools

        return self._run(work)

    def tool(self, name: str):
        """One tool by name; fails the test with the names on offer if it is missing."""
        tools = {tool.name: tool for tool in self.list_tools()}
        assert name in tools, f"no MCP tool {name!r}; the server offers {sorted(tools)}"
        return tools[name]

    def tools_by_endpoint(self) -> dict[str, str]:
        """API name -> MCP tool name (Gradio names a tool after the event's Python function)."""
        import httpx

        schema = httpx.get(self.url + "schema", timeout=self.timeout).json()
        return {tool["meta"]["endpoint_name"]: tool["name"] for tool in schema}

    def call(self, name: str, arguments: dict | None = None) -> ToolResult:
        """Call tool ``name`` with ``arguments`` exactly as given (a model's JSON)."""

        async def work(session):
            return await session.call_tool(name, arguments or {})

        return _result(self._run(work))

    def call_many(self, calls: list[tuple[str, dict]]) -> list[ToolResult]:
        """Several calls in one MCP session, in order."""

        async def work(session):
            return [await session.call_tool(name, args) for name, args in calls]

        return [_result(r) for r in self._run(work)]


def _result(raw) -> ToolResult:
    texts = [part.text for part in raw.content if getattr(part, "type", "") == "text"]
    return ToolResult(bool(raw.isError), texts, getattr(raw, "structuredContent", None))


@contextmanager
def mcp_app(course=None, **launch) -> Iterator[str]:
    """The whole Space in this process with its MCP server on; yields the base URL."""
    from tests.servers import app_in_process

    with app_in_process(course, mcp_server=True, **launch) as demo:
        yield demo.local_url.rstrip("/")

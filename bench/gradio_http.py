"""A light client of Gradio's REST API, for benchmarks and tests that must not cap themselves.

Each call is Gradio's own two-step protocol: POST /gradio_api/call/<name> queues the event,
GET /gradio_api/call/<name>/<event_id> streams its result as server-sent events. No
gradio_client: that costs tens of milliseconds of CPU per call on the same 2 cores as the
server, and with 16 of them the harness, not the server, set the pace (about 13 calls/s with no
model at all; see bench/advice.py throughput).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Reply:
    """What one call ended with: ``complete`` (``data`` holds the outputs) or ``error``."""

    status: int  # HTTP status of the POST
    event: str  # the last SSE event: complete, error; or "" when the POST was refused
    data: Any  # the last event's data (JSON-decoded), or the POST's body when refused
    seconds: float

    @property
    def ok(self) -> bool:
        return self.event == "complete"


def _last_event(stream_text: str) -> tuple[str, Any]:
    event, data = "", None
    for block in stream_text.split("\n\n"):
        lines = block.strip().splitlines()
        name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), "")
        payload = next((ln[5:].strip() for ln in lines if ln.startswith("data:")), None)
        if name in ("complete", "error", "generating"):
            event = name
            try:
                data = json.loads(payload) if payload is not None else None
            except json.JSONDecodeError:
                data = payload
    return event, data


async def call(
    client: httpx.AsyncClient, base_url: str, name: str, data: list, session_hash: str | None
) -> Reply:
    """Call endpoint ``name`` with ``data`` in session ``session_hash`` (None: a new session)."""
    base = base_url.rstrip("/")
    name = name.strip("/")
    started = time.perf_counter()
    body: dict = {"data": data}
    if session_hash is not None:
        body["session_hash"] = session_hash
    response = await client.post(f"{base}/gradio_api/call/{name}", json=body)
    if response.status_code != 200:
        try:
            detail = response.json()
        except ValueError:
            detail = response.text
        return Reply(response.status_code, "", detail, time.perf_counter() - started)
    event_id = response.json()["event_id"]
    async with client.stream("GET", f"{base}/gradio_api/call/{name}/{event_id}") as stream:
        text = "".join([chunk async for chunk in stream.aiter_text()])
    event, last = _last_event(text)
    return Reply(200, event, last, time.perf_counter() - started)


def call_sync(base_url: str, name: str, data: list, session_hash: str | None = None) -> Reply:
    """One call from synchronous code (tests)."""

    async def one() -> Reply:
        async with httpx.AsyncClient(timeout=120) as client:
            return await call(client, base_url, name, data, session_hash)

    return asyncio.run(one())


def positional(info: dict, name: str, arguments: dict) -> list:
    """``arguments`` by parameter name, as the positional ``data`` list endpoint ``name`` takes.

    ``info`` is /gradio_api/info; a parameter left out takes its documented default.
    """
    endpoint = info["named_endpoints"]["/" + name.strip("/")]
    unknown = set(arguments) - {p["parameter_name"] for p in endpoint["parameters"]}
    if unknown:
        raise KeyError(f"{name} has no parameter {sorted(unknown)}")
    return [
        arguments.get(p["parameter_name"], p.get("parameter_default"))
        for p in endpoint["parameters"]
    ]

"""How the Space is served to the public: limits, and clean answers to calls it does not offer.

``app.build_app()`` ends with ``prepare(demo)`` and ``app.main()`` passes ``launch_options()``
to ``demo.launch()``; the tests' in-process servers (``tests/servers.app_in_process``) do the
same, so what they check is what the Space runs. CONTRIBUTING.md ("Security") says what each
limit protects.
"""

from __future__ import annotations

import json
import re

from demos import sessions

#: The course takes no file from a visitor, but Gradio's /gradio_api/upload always exists and
#: serves back what it stored: 1 MB is room for any text a future tool might take.
MAX_UPLOAD = "1mb"
#: Every half hour, delete uploads and generated files (the lab's debrief downloads) older
#: than an hour (Gradio's ``Blocks.delete_cache``: frequency, age, in seconds).
CACHE_SWEEP = (1800, 3600)

# Gradio's REST routes that name an endpoint. /call/<name> and /call/v2/<name> take a name only;
# /run/<name> and /api/<name> also take an event index in the body (the page sends events that
# skip the queue there, with the index), and /queue/join takes the index only.
_CALL_BY_NAME = re.compile(r"/gradio_api/call/(?:v2/)?(?P<name>[^/]+)/?$")
_RUN_BY_NAME = re.compile(r"/gradio_api/(?:run|api)/(?P<name>[^/]+)/?$")
_QUEUE_JOIN = re.compile(r"/gradio_api/queue/join/?$")


def prepare(demo):
    """Settings of the built Blocks that the Space needs before launch(); returns ``demo``."""
    sessions.install()  # a new visitor's session costs what they change, not a copy of the app
    _fix_mcp_state_outputs()
    demo.delete_cache = CACHE_SWEEP
    # As on a Space (where Gradio sets it so itself): a REST call waits its turn in the queue,
    # under each event's concurrency limit, rather than running at once beside it.
    demo.api_open = False
    return demo


def _without_state_outputs(components, data):
    """Gradio's MCP server's ``pop_returned_state``, for both ways it gets a tool's outputs.

    Gradio 6.31 pops the position of every gr.State output from the outputs it got, which is
    right on its direct path (all outputs, in order; though each pop shifts the next) and wrong
    on its queued path, where gradio_client has already left State (and Button) outputs out: a
    tool that returns a State failed with "pop index out of range".
    """
    from gradio.components import State

    if not isinstance(data, list) or len(data) != len(components):
        return data  # the client already left out what the API does not show
    return [value for component, value in zip(components, data) if not isinstance(component, State)]


def _fix_mcp_state_outputs() -> None:
    from gradio import mcp

    mcp.GradioMCPServer.pop_returned_state = staticmethod(_without_state_outputs)


def launch_options(exception_handlers: dict | None = None) -> dict:
    """Keyword arguments for ``demo.launch()`` that bound what one visitor can make the Space hold."""
    from starlette.middleware import Middleware

    return {
        "max_file_size": MAX_UPLOAD,
        # /monitoring/summary would show anyone the timings of every event; the owner has the logs.
        "enable_monitoring": False,
        "app_kwargs": {
            "exception_handlers": dict(exception_handlers or {}),
            "middleware": [Middleware(OfferedEndpointsOnly)],
        },
    }


def public_api_names(blocks) -> set[str]:
    """Endpoint names a client may call by name: every event with a function, not private."""
    return {
        fn.api_name
        for fn in blocks.fns.values()
        if fn.api_name and fn.fn is not None and fn.api_visibility != "private"
    }


class OfferedEndpointsOnly:
    """ASGI middleware: a call to an endpoint the Space does not offer gets a clean 404.

    Gradio 6.31 answers an unknown endpoint name or event index with HTTP 500 and an ASGI
    traceback in the log, and runs a call by the name of a private endpoint (an embeddable
    page's twin of a public one, UI plumbing) that its own client libraries refuse to make.
    The page sends every event with its index (queued ones to /queue/join, the others to
    /run/<name>), so it is unaffected; a call by name alone must name a public endpoint.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        refusal = None
        if match := _CALL_BY_NAME.search(path):
            refusal = self._refuse_name(scope, match.group("name"))
        elif (match := _RUN_BY_NAME.search(path)) or _QUEUE_JOIN.search(path):
            body, receive = await _read_body(receive)
            readable, index = _fn_index(body)
            if not readable:
                pass  # not a JSON object: Gradio's own validation answers 422
            elif index is not None:  # Gradio goes by the index when there is one
                if index not in scope["app"].get_blocks().fns:
                    refusal = f"No event has the index {_short(str(index))}."
            elif match:
                refusal = self._refuse_name(scope, match.group("name"))
            else:
                refusal = "Name the event to join the queue with (fn_index)."
        if refusal:
            await _not_found(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _refuse_name(scope, name: str) -> str | None:
        if name in public_api_names(scope["app"].get_blocks()):
            return None
        return f"No API endpoint is named '{_short(name)}'."


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _fn_index(body: bytes) -> tuple[bool, int | None]:
    """(whether the body is a JSON object, its integer fn_index or None)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False, None
    if not isinstance(parsed, dict):
        return False, None
    index = parsed.get("fn_index")
    return True, index if isinstance(index, int) and not isinstance(index, bool) else None


async def _read_body(receive):
    """The request body, and a ``receive`` that hands it on to the app unchanged."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _not_found(detail: str):
    from fastapi.responses import JSONResponse

    return JSONResponse({"detail": f"{detail} /gradio_api/info lists the API."}, status_code=404)

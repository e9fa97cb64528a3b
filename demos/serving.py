"""How the Space is served to the public: launch() limits and clean answers to unknown calls.

``app.py`` passes ``launch_options()`` to ``demo.launch()``; the tests' in-process servers pass
the same, so what they check is what the Space runs with. CONTRIBUTING.md ("Security") says
what each limit protects.
"""

from __future__ import annotations

import re

#: The course takes no file from a visitor, but Gradio's /gradio_api/upload always exists and
#: serves back what it stored: 1 MB is room for any text a future tool might take.
MAX_UPLOAD = "1mb"
#: Every half hour, delete uploads and generated files (the lab's debrief downloads) older
#: than an hour (gr.Blocks(delete_cache=(frequency, age)), in seconds; app.build_app sets it).
CACHE_SWEEP = (1800, 3600)

# Gradio's REST API by endpoint name: POST /gradio_api/call/<name> and /gradio_api/call/v2/<name>.
_CALL_BY_NAME = re.compile(r"/gradio_api/call/(?:v2/)?(?P<name>[^/]+)/?$")


def public_api_names(blocks) -> set[str]:
    """Endpoint names a client may call by name: every event not marked private."""
    return {
        fn.api_name
        for fn in blocks.fns.values()
        if fn.api_name and fn.fn is not None and fn.api_visibility != "private"
    }


class NamedCallsToPublicEndpointsOnly:
    """ASGI middleware: a call by name to an endpoint that is not public gets a clean 404.

    Gradio 6.31 answers an unknown name with HTTP 500 and an ASGI traceback in the log, and
    accepts the name of a private endpoint (an embeddable page's twin of a public one, or UI
    plumbing), which its own client libraries refuse to call. The page itself never calls by
    name (it joins the queue by event index), so it is unaffected.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _CALL_BY_NAME.search(scope["path"])
            if match:
                blocks = scope["app"].get_blocks()
                name = match.group("name")
                if name not in public_api_names(blocks):
                    await _not_found(name)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _not_found(name: str):
    from fastapi.responses import JSONResponse

    shown = name if len(name) <= 60 else name[:57] + "..."
    return JSONResponse(
        {"detail": f"No API endpoint is named '{shown}'. /gradio_api/info lists them."},
        status_code=404,
    )


def launch_options(exception_handlers: dict | None = None) -> dict:
    """Keyword arguments for ``demo.launch()`` that bound what one visitor can make the Space hold."""
    from starlette.middleware import Middleware

    return {
        "max_file_size": MAX_UPLOAD,
        # /monitoring/summary would show anyone the timings of every event; the owner has the logs.
        "enable_monitoring": False,
        "app_kwargs": {
            "exception_handlers": dict(exception_handlers or {}),
            "middleware": [Middleware(NamedCallsToPublicEndpointsOnly)],
        },
    }

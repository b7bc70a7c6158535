"""A request id for every HTTP request: the caller's X-Request-ID when it is a sane token
(a balancer's or a client's), else a new one. It is bound to structlog's context for the
request, so every log line written while handling it (Charla's own and the standard
library's: console/runtime/logs.py) carries `request_id`, and it is echoed in the
response's X-Request-ID. Engine.IO's connections are left alone: their events carry their
own ids (chat, tenant), and the message path stays as cheap as it was."""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from aiohttp import web

HEADER = "X-Request-ID"
SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
ENGINE_IO = "/socket.io/"


def request_id_of(request: web.Request) -> str:
    given = request.headers.get(HEADER, "")
    return given if SANE.match(given) else uuid.uuid4().hex


@web.middleware
async def request_id_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith(ENGINE_IO):
        response: web.StreamResponse = await handler(request)
        return response
    request_id = request_id_of(request)
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        response = await handler(request)
    if not response.prepared:
        response.headers[HEADER] = request_id
    return response

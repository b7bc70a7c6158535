"""`GET /api/supervisor/stats`: the supervisor's tiles over HTTP (the console gets them live
as the `stats` event on `/agent`). Premium tenants only; others get `plan_required`."""

from __future__ import annotations

from aiohttp import web

from console.domain.errors import ProtocolError
from console.supervision.live import check_supervisor, floor_stats
from console.web.http import require_agent
from console.web.keys import HUB, STORE


async def stats(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    tenant = await request.app[STORE].get_tenant(agent.tenant_id)
    if tenant is None:
        raise ProtocolError("not_found", "your tenant no longer exists")
    check_supervisor(agent, tenant)
    return web.json_response(await floor_stats(request.app[HUB].ctx, tenant))


def routes() -> list[web.RouteDef]:
    return [web.get("/api/supervisor/stats", stats)]

"""`GET /api/supervisor/stats`: the supervisor's tiles over HTTP (the console gets them live
as the `stats` event on `/agent`). Premium tenants only; others get `plan_required`."""

from __future__ import annotations

from aiohttp import web

from console.supervision.live import check_supervisor, floor_stats
from console.web.http import require_agent, tenant_of
from console.web.keys import HUB

routes = web.RouteTableDef()


@routes.get("/api/supervisor/stats")
async def stats(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    tenant = await tenant_of(request, agent)
    check_supervisor(agent, tenant)
    return web.json_response(await floor_stats(request.app[HUB].ctx, tenant))

"""Leads over HTTP: a tenant's agents read them with the state of each delivery."""

from __future__ import annotations

from aiohttp import web

from console.domain.errors import ProtocolError
from console.web.http import require_agent
from console.web.keys import STORE

MAX_LIMIT = 500
routes = web.RouteTableDef()


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ProtocolError(
            "invalid_payload", f"limit must be a whole number from 1 to {MAX_LIMIT}"
        )
    return int(raw)


@routes.get("/api/leads")
async def list_leads(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    status = request.query.get("delivery_status")
    if status not in (None, "pending", "delivered", "failed"):
        raise ProtocolError(
            "invalid_payload", "delivery_status must be pending, delivered or failed"
        )
    leads = await request.app[STORE].leads.list(
        agent.tenant_id, limit=_limit(request), delivery_status=status
    )
    return web.json_response({"leads": [lead.to_wire() for lead in leads]})


@routes.get("/api/leads/{lead_id}")
async def get_lead(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    lead = await request.app[STORE].leads.get(agent.tenant_id, request.match_info["lead_id"])
    if lead is None:
        raise ProtocolError("not_found", "no such lead in your tenant")
    return web.json_response(lead.to_wire())

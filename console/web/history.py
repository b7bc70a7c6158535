"""History (PROTOCOL 1.2, "Chat history"): `GET /api/chats` with its search, and what the
transcript view adds to `GET /api/chats/{chat_id}` (the CSAT comment, the lead's id).

An agent sees their own chats; a supervisor or admin the tenant's. The route is in
console/web/agents.py beside the chat's own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from console.domain.contact import DEFAULT_REGION, normalize_email, normalize_phone
from console.domain.errors import ProtocolError
from console.domain.types import Agent, Chat, Tenant, iso
from console.store.history import Search, decode_cursor
from console.web.http import tenant_of
from console.web.keys import STORE

STATUSES = frozenset({"queued", "active", "bot", "offline", "closed"})


def region(tenant: Tenant) -> str:
    """The country a number without a country code is read in: the tenant's holiday
    calendar's (`PR`, `US-FL`...), else the US (Puerto Rico dials as the US does)."""
    code = (tenant.holidays or "").split("-")[0].upper()
    return code if len(code) == 2 else DEFAULT_REGION


def local_day(value: str, field: str, tenant: Tenant) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ProtocolError("invalid_payload", f"{field}: a date as YYYY-MM-DD") from None
    return datetime.combine(day, time(), tzinfo=ZoneInfo(tenant.timezone))


def search_of(query: Any, agent: Agent, tenant: Tenant) -> Search:
    """The query string as a search, or `invalid_payload` naming the field."""
    start = end = None
    if query.get("from"):
        start = local_day(query["from"], "from", tenant)
    if query.get("to"):
        end = local_day(query["to"], "to", tenant) + timedelta(days=1)
    statuses = tuple(s for s in (query.get("status") or "").split(",") if s)
    if not STATUSES.issuperset(statuses):
        raise ProtocolError("invalid_payload", f"status: one of {', '.join(sorted(STATUSES))}")
    has_lead = query.get("has_lead")
    if has_lead not in (None, "", "true", "false"):
        raise ProtocolError("invalid_payload", "has_lead: true or false")
    try:
        phone = normalize_phone(query["phone"], region(tenant)) if query.get("phone") else None
        email = normalize_email(query["email"]).lower() if query.get("email") else None
    except ValueError as exc:
        field = "phone" if query.get("phone") and "phone" in str(exc) else "email"
        raise ProtocolError("invalid_payload", f"{field}: {exc}") from None
    cursor = query.get("cursor") or None
    if cursor:
        try:
            decode_cursor(cursor)
        except ValueError as exc:
            raise ProtocolError("invalid_payload", str(exc)) from None
    return Search(
        tenant_id=tenant.id,
        start=start,
        end=end,
        statuses=statuses,
        # an agent sees their own chats only, whatever they ask for
        agent_id=query.get("agent_id") or None if agent.supervises else agent.id,
        language=(query.get("language") or "").lower() or None,
        phone=phone,
        email=email,
        name=query.get("name") or None,
        has_lead=None if not has_lead else has_lead == "true",
        cursor=cursor,
    )


async def history(request: web.Request, agent: Agent) -> web.Response:
    tenant = await tenant_of(request, agent)
    search = search_of(request.query, agent, tenant)
    chats, cursor = await request.app[STORE].history.search(search)
    body: dict[str, Any] = {"chats": chats}
    if cursor is not None:
        body["next_cursor"] = cursor
    return web.json_response(body)


async def transcript_extras(request: web.Request, chat: Chat) -> dict[str, Any]:
    """What the transcript view shows beside the chat: its rating and its lead's id."""
    store = request.app[STORE]
    score, comment, rated_at = await store.engagement.rating(chat.id)
    extras: dict[str, Any] = {}
    if score is not None:
        csat: dict[str, Any] = {"score": score, "rated_at": iso(rated_at)}
        if comment:
            csat["comment"] = comment
        extras["csat"] = csat
    lead = await store.leads.for_chat(chat.tenant_id, chat.id)
    if lead is not None:
        extras["lead_id"] = lead.id
    return extras

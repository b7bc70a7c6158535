"""Tickets over HTTP: an agent writes one; everyone lists them in the order to work them
(overdue callbacks first), opens one with its lead, and works it (console/tickets/)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.contact import checked, normalize_email, normalize_phone
from console.domain.errors import ProtocolError
from console.domain.types import TICKET_STATUSES
from console.realtime.schemas import MAX_TEXT
from console.tickets.work import STATUS_CHOICES, TicketPatch, work
from console.web.audit_log import record
from console.web.http import read_json, require_agent, tenant_of
from console.web.keys import HUB, STORE

routes = web.RouteTableDef()


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_TEXT, strip_whitespace=True)
    ]
    chat_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}$")] | None = None
    name: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


@routes.post("/api/tickets")
async def create_ticket(request: web.Request) -> web.Response:
    """An agent writes a ticket: a follow-up that the chat could not settle."""
    agent = await require_agent(request)
    body = await read_json(request, TicketIn)
    store = request.app[STORE]
    tenant = await tenant_of(request, agent)
    visitor_id = None
    language = (body.language or tenant.primary_language).lower()
    name, email, phone = body.name or None, body.email or None, body.phone or None
    if body.chat_id is not None:
        chat = await store.get_chat(body.chat_id)
        if chat is None or chat.tenant_id != agent.tenant_id:
            raise ProtocolError("not_found", f"no chat {body.chat_id} in your tenant")
        visitor = await store.get_visitor(chat.visitor_id)
        visitor_id = chat.visitor_id
        language = (body.language or chat.language).lower()
        if visitor is not None:
            name = name or visitor.name
            email = email or visitor.email
            phone = phone or visitor.phone
    ticket = await store.add_ticket(
        reason="agent",
        tenant_id=agent.tenant_id,
        chat_id=body.chat_id,
        visitor_id=visitor_id,
        language=language,
        text=body.text,
        name=name,
        email=checked("email", normalize_email, email),
        phone=checked("phone", normalize_phone, phone),
    )
    await request.app[HUB].chats.ticket_filed(tenant, ticket)
    return web.json_response(ticket.to_wire(), status=201)


@routes.get("/api/tickets")
async def list_tickets(request: web.Request) -> web.Response:
    """`?status=` one of the statuses (default: all): overdue callbacks first, then by due
    time, then the newest; with the tenant's counts per status."""
    agent = await require_agent(request)
    status = request.query.get("status")
    if status is not None and status not in TICKET_STATUSES:
        raise ProtocolError("invalid_payload", f"status must be one of {STATUS_CHOICES}")
    store = request.app[STORE]
    tickets = await store.tickets.search(
        agent.tenant_id, statuses=(status,) if status else TICKET_STATUSES
    )
    now = store.clock.now()
    return web.json_response(
        {
            "tickets": [t.to_wire(now) for t in tickets],
            "counts": await store.tickets.counts(agent.tenant_id),
        }
    )


@routes.get("/api/tickets/{ticket_id}")
async def get_ticket(request: web.Request) -> web.Response:
    """One ticket with its notes and, when its chat left one, the lead."""
    agent = await require_agent(request)
    store = request.app[STORE]
    ticket = await store.tickets.get(agent.tenant_id, request.match_info["ticket_id"])
    if ticket is None:
        raise ProtocolError("not_found", "no such ticket in your tenant")
    body = {"ticket": ticket.to_wire(store.clock.now())}
    if ticket.chat_id:
        lead = await store.leads.for_chat(agent.tenant_id, ticket.chat_id)
        if lead is not None:
            body["lead"] = lead.to_wire(with_deliveries=False)
    return web.json_response(body)


@routes.patch("/api/tickets/{ticket_id}")
async def patch_ticket(request: web.Request) -> web.Response:
    """Take, note, resolve, reopen (console/tickets/work.py says who may do what)."""
    agent = await require_agent(request)
    body = await read_json(request, TicketPatch)
    ticket_id = request.match_info["ticket_id"]
    store = request.app[STORE]
    ticket = await work(store, agent, ticket_id, body)
    await record(
        request,
        "ticket.updated",
        ticket_id,
        detail={
            "status": body.status,
            "assignee_id": ticket.assignee_id,
            "note": body.note is not None,
        },
    )
    return web.json_response(ticket.to_wire(store.clock.now()))

"""Tickets an agent writes: a follow-up that a chat could not settle (agents.py lists them)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.contact import checked, normalize_email, normalize_phone
from console.domain.errors import ProtocolError
from console.realtime.schemas import MAX_TEXT
from console.web.http import read_json, require_agent, tenant_of
from console.web.keys import STORE

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
    return web.json_response(ticket.to_wire(), status=201)

"""What agents call over HTTP: login, a chat's transcript, tickets."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.errors import ProtocolError
from console.web.http import client_ip, read_json, require_agent
from console.web.keys import HUB, LOGIN_LIMITS, PASSWORDS, SIGNER, STORE

# Verified against when the e-mail is unknown, so that a wrong e-mail costs as much as a
# wrong password and login timing does not reveal who has an account.
TIMING_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$zw9PhWmgQC9kP5e6B7lVqw"
    "$HRyjCmAFVJoyeaDs9KuBwYp8BzPuFMp3cJGJWtrYdMw"
)
routes = web.RouteTableDef()


class LoginIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginIn)
    limits = request.app[LOGIN_LIMITS]
    keys = (client_ip(request), body.email.strip().lower())
    if not all(limits.available(key) for key in keys):
        raise ProtocolError("rate_limited", "too many failed logins; wait a minute and retry")
    store = request.app[STORE]
    passwords = request.app[PASSWORDS]
    found = await store.get_agent_login(body.email)
    if found is None:
        await passwords.verify(TIMING_HASH, body.password)
    if found is None or not found[0].active or not await passwords.verify(found[1], body.password):
        for key in keys:
            limits.take(key)
        raise ProtocolError("unauthorized", "wrong e-mail or password")
    agent, password_hash = found
    if passwords.needs_rehash(password_hash):
        await store.set_password_hash(agent.id, await passwords.hash(body.password))
    token = request.app[SIGNER].issue(agent.id, agent.tenant_id, agent.role)
    return web.json_response({"token": token, "agent": agent.to_login_wire()})


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    return web.json_response({"agent": agent.to_login_wire()})


@routes.get("/api/chats")
async def list_chats(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    status = request.query.get("status")
    statuses = tuple(status.split(",")) if status else ("queued", "active", "bot")
    chats = await request.app[STORE].list_chats(tenant_id=agent.tenant_id, statuses=statuses)
    return web.json_response({"chats": [c.to_wire() for c in chats]})


@routes.get("/api/chats/{chat_id}")
async def get_chat(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    chat = await request.app[STORE].get_chat(request.match_info["chat_id"])
    if chat is None or chat.tenant_id != agent.tenant_id:
        raise ProtocolError("not_found", "no such chat in your tenant")
    return web.json_response(await request.app[HUB].conversation.chat_wire(chat))


@routes.get("/api/tickets")
async def list_tickets(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    tickets = await request.app[STORE].list_tickets(agent.tenant_id)
    return web.json_response({"tickets": [t.to_wire() for t in tickets]})

"""What agents call over HTTP: login, a chat's transcript (tickets: console/web/tickets.py)."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.errors import ProtocolError
from console.security.tokens import ENROLMENT, FULL
from console.web.audit_log import record
from console.web.history import history, transcript_extras
from console.web.http import client_ip, read_json, require_agent
from console.web.keys import HUB, LOGIN_GUARD, PASSWORDS, SETTINGS, SIGNER, STORE
from console.web.mfa import requires_factor, second_factor

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
    otp: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginIn)
    guard = request.app[LOGIN_GUARD]
    address, account = client_ip(request), body.email.strip().lower()
    if await guard.locked(address, account):
        raise ProtocolError("rate_limited", "too many failed logins; wait 15 minutes and retry")
    store = request.app[STORE]
    passwords = request.app[PASSWORDS]
    found = await store.get_agent_login(body.email)
    if found is None:
        await passwords.verify(TIMING_HASH, body.password)
    if found is None or not found[0].active or not await passwords.verify(found[1], body.password):
        await guard.failed(address, account)
        tenant_id = found[0].tenant_id if found else None
        await record(
            request,
            "login.failed",
            account[:200],
            tenant_id=tenant_id,
            actor=f"agent:{found[0].id}" if found else "anonymous",
            detail={"reason": "password"},
        )
        raise ProtocolError("unauthorized", "wrong e-mail or password")
    agent, password_hash = found
    if passwords.needs_rehash(password_hash):
        await store.set_password_hash(agent.id, await passwords.hash(body.password))
    actor = f"agent:{agent.id}"
    factor = await store.mfa.factor(agent.id)
    scope = FULL
    if factor is not None and factor.confirmed:
        if body.otp is None:
            raise ProtocolError(
                "mfa_required",
                "send otp too: the 6-digit code of your authenticator app, or a recovery code",
            )
        used = await second_factor(request, agent.id, body.otp)
        if used is None:
            await guard.failed(address, account)
            await record(
                request,
                "login.failed",
                agent.id,
                tenant_id=agent.tenant_id,
                actor=actor,
                detail={"reason": "otp"},
            )
            raise ProtocolError("unauthorized", "otp: wrong or already used code")
        if used == "recovery":
            await record(
                request, "mfa.recovery_code_used", agent.id, tenant_id=agent.tenant_id, actor=actor
            )
    elif await requires_factor(store, request.app[SETTINGS], agent):
        scope = ENROLMENT
    token = request.app[SIGNER].issue(agent.id, agent.tenant_id, agent.role, scope=scope)
    await record(
        request,
        "login.succeeded",
        agent.id,
        tenant_id=agent.tenant_id,
        actor=actor,
        detail={"mfa": factor is not None and factor.confirmed},
    )
    answer: dict[str, Any] = {"token": token, "agent": agent.to_login_wire()}
    if scope == ENROLMENT:
        answer["mfa_enrollment_required"] = True
    return web.json_response(answer)


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    return web.json_response({"agent": agent.to_login_wire()})


@routes.get("/api/chats")
async def list_chats(request: web.Request) -> web.Response:
    """History's search (console/web/history.py)."""
    return await history(request, await require_agent(request))


@routes.get("/api/chats/{chat_id}")
async def get_chat(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    chat = await request.app[STORE].get_chat(request.match_info["chat_id"])
    if chat is None or chat.tenant_id != agent.tenant_id:
        raise ProtocolError("not_found", "no such chat in your tenant")
    wire = await request.app[HUB].conversation.chat_wire(chat)
    return web.json_response(wire | await transcript_extras(request, chat))

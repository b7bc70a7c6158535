"""Shared HTTP plumbing: the error middleware, JSON bodies, and who is calling."""

from __future__ import annotations

import hmac
import json
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from console.contract.plans import REQUIRED, Feature, allows
from console.domain.errors import ProtocolError, from_validation
from console.domain.types import Agent, Tenant
from console.security.addresses import request_address
from console.security.tokens import InvalidToken
from console.web.keys import ACTOR, SETTINGS, SIGNER, STORE

log = structlog.get_logger("charla.http")
M = TypeVar("M", bound=BaseModel)


def error_response(exc: ProtocolError) -> web.Response:
    return web.json_response(exc.body(), status=exc.status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ProtocolError as exc:
        return error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        return error_response(ProtocolError("too_large", "the request body is too large"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            404: "not_found",
            405: "invalid_payload",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status, "invalid_payload")
        reason = exc.reason or "error"
        body = {"error": {"code": code, "message": f"{reason}: {request.method} {request.path}"}}
        return web.json_response(body, status=exc.status)
    except OperationalError:
        log.exception("store_unavailable", path=request.path)
        return error_response(ProtocolError("unavailable", "the store is unavailable; retry"))
    except Exception:
        log.exception("request_failed", path=request.path)
        return error_response(ProtocolError("unavailable", "the hub failed on this request; retry"))


async def read_json(request: web.Request, model: type[M]) -> M:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ProtocolError("too_large", "the request body is too large") from None
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("invalid_payload", "the body must be JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_payload", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProtocolError("unauthorized", "send the header Authorization: Bearer <token>")
    return token.strip()


OPERATOR_ROLE = "operator"
PROVIDER = "provider"


def require_admin(request: web.Request) -> str:
    """The provider's admin: CHARLA_ADMIN_TOKEN, or an operator's own token (from
    /api/operator/login, second factor included). Returns who, for the audit log."""
    expected = request.app[SETTINGS].admin_token
    if not expected:
        raise ProtocolError(
            "forbidden", "the admin API is disabled: set CHARLA_ADMIN_TOKEN to enable it"
        )
    token = bearer(request)
    if token.count(".") == 2:  # a JWT: an operator's (an agent's is no admin token)
        try:
            claims = request.app[SIGNER].verify(token)
        except InvalidToken as exc:
            raise ProtocolError("unauthorized", str(exc)) from None
        if claims.role != OPERATOR_ROLE or claims.tenant_id != PROVIDER:
            raise ProtocolError("unauthorized", "wrong admin token")
        actor = f"operator:{claims.agent_id}"
    elif hmac.compare_digest(token.encode(), expected.encode()):
        actor = "provider:admin_token"
    else:
        raise ProtocolError("unauthorized", "wrong admin token")
    request[ACTOR] = (None, actor)
    return actor


async def require_agent(request: web.Request, *, any_scope: bool = False) -> Agent:
    """The agent of the request's token; `any_scope` also takes a token limited to
    enrolling a second factor (the MFA endpoints' own)."""
    signer = request.app[SIGNER]
    try:
        token = bearer(request)
        claims = signer.verify_any(token) if any_scope else signer.verify(token)
    except InvalidToken as exc:
        raise ProtocolError("unauthorized", str(exc)) from None
    agent = await request.app[STORE].get_agent(claims.agent_id)
    if agent is None or agent.tenant_id != claims.tenant_id or not agent.active:
        raise ProtocolError("unauthorized", "this agent no longer exists; log in again")
    request[ACTOR] = (agent.tenant_id, f"agent:{agent.id}")
    return agent


def client_ip(request: web.Request) -> str:
    """The caller's address behind the trusted proxies (console/security/addresses.py)."""
    return request_address(request, request.app[SETTINGS].trusted_proxies)


async def require_tenant_admin(request: web.Request, *, feature: Feature | None = None) -> Agent:
    """An agent whose role is `admin`; with `feature`, their tenant's plan must allow it."""
    agent = await require_agent(request)
    if agent.role != "admin":
        raise ProtocolError("forbidden", "only a tenant admin can do this")
    if feature is not None:
        await admins_tenant(request, agent, feature=feature)
    return agent


async def tenant_of(request: web.Request, agent: Agent) -> Tenant:
    """The caller's own tenant (`not_found` if it was deleted since they logged in)."""
    tenant = await request.app[STORE].get_tenant(agent.tenant_id)
    if tenant is None:
        raise ProtocolError("not_found", "your tenant no longer exists")
    return tenant


async def admins_tenant(
    request: web.Request, admin: Agent | None = None, *, feature: Feature | None = None
) -> tuple[Agent, Tenant]:
    """A tenant admin and their tenant, read once (on a plan that allows `feature`, if given)."""
    admin = admin or await require_tenant_admin(request)
    tenant = await tenant_of(request, admin)
    if feature is not None and not allows(tenant.plan, feature):
        raise ProtocolError("plan_required", f"this needs the {REQUIRED[feature]} plan or above")
    return admin, tenant

"""The audit log over HTTP: the middleware that records every change a signed-in caller
makes, the helper handlers use for what is not a change (logins, exports), and the reads:
`GET /api/audit` (a tenant admin: their tenant's chain; the provider: its own chain or one
tenant's, paged) and `GET /api/admin/audit` (the provider: every chain, or one tenant's)
with `GET /api/admin/audit/check`. A bare date is a day of the tenant's zone (UTC for the
provider's chain).

What a change carries: the route, the ids in its path, and the names of the fields sent
(a role's new value too), never their values: no message text, no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from console.domain.errors import ProtocolError
from console.security.tokens import InvalidToken
from console.web.http import (
    OPERATOR_ROLE,
    bearer,
    client_ip,
    require_admin,
    require_tenant_admin,
)
from console.web.keys import ACTOR, AUDITED, BODY, CLOCK, SIGNER, STORE

routes = web.RouteTableDef()
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# values worth keeping beside the field names: none of them can carry text or a secret
KEPT_VALUES = frozenset({"role", "plan", "status", "enabled", "events", "mfa_roles"})
MAX_EVENTS = 1000
MAX_ACTIONS = 20
MAX_ACTION_LEN = 100


async def record(
    request: web.Request,
    action: str,
    target: str | None = None,
    *,
    tenant_id: str | None = None,
    actor: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append an event about this request (marks it so the middleware adds none)."""
    who = request.get(ACTOR)
    await request.app[STORE].audit.record(
        tenant_id if tenant_id is not None else (who[0] if who else None),
        actor or (who[1] if who else "anonymous"),
        action,
        target,
        ip=client_ip(request),
        detail=detail,
    )
    request[AUDITED] = True


@web.middleware
async def audit_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    who = request.get(ACTOR)
    if (
        request.method in CHANGES
        and who is not None
        and response.status < 400
        and not request.get(AUDITED)
    ):
        info = request.match_info
        route = info.route.resource.canonical if info.route.resource else request.path
        ids = dict(info.items())
        tenant_id = who[0] or ids.get("tenant_id")
        target = next(iter(ids.values()), None)
        await request.app[STORE].audit.record(
            tenant_id,
            who[1],
            f"{request.method} {route}",
            target,
            ip=client_ip(request),
            detail=await _fields(request) | ({"path": ids} if len(ids) > 1 else {}),
        )
    return response


async def _fields(request: web.Request) -> dict[str, Any]:
    """The names of the fields the body set (and a few harmless values)."""
    body: Any = request.get(BODY)
    if body is None and request.content_type == "application/json":
        raw = await request.read()  # read by the handler already: aiohttp kept it
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return {}
    if not isinstance(body, dict):
        return {}
    detail: dict[str, Any] = {"fields": sorted(str(k) for k in body)[:50]}
    for key in KEPT_VALUES & body.keys():
        value = body[key]
        if isinstance(value, str | bool | int) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            detail[key] = value
    return detail


def _when(raw: str | None, name: str, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """A bound of the range: a bare date is a whole day of `zone` (`to` includes it); a
    time in ISO 8601 is that instant (UTC when it names no zone)."""
    if not raw:
        return None
    if len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ProtocolError("invalid_payload", f"{name}: a date as YYYY-MM-DD") from None
        start = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=zone)
        return start.astimezone(UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise ProtocolError(
            "invalid_payload", f"{name}: a date (YYYY-MM-DD) or a time in ISO 8601"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "500")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_EVENTS:
        raise ProtocolError("invalid_payload", f"limit: a whole number from 1 to {MAX_EVENTS}")
    return int(raw)


def _actions(request: web.Request) -> list[str]:
    actions = [a for a in request.query.getall("action", []) if a]
    if len(actions) > MAX_ACTIONS or any(len(a) > MAX_ACTION_LEN for a in actions):
        raise ProtocolError(
            "invalid_payload",
            f"action: at most {MAX_ACTIONS}, each up to {MAX_ACTION_LEN} characters",
        )
    return actions


def _cursor(request: web.Request) -> int | None:
    raw = request.query.get("cursor")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ProtocolError("invalid_payload", "cursor: pass next_cursor as the hub gave it")
    return int(raw)


def _from_provider(request: web.Request) -> bool:
    """Whether the caller holds a provider's credential (the admin token or an operator's
    token) rather than an agent's: only a JWT whose role is `operator` or no JWT at all."""
    token = bearer(request)
    if token.count(".") != 2:
        return True
    try:
        return request.app[SIGNER].verify_any(token).role == OPERATOR_ROLE
    except InvalidToken:
        return False  # an agent's expired token: require_agent says so


async def _zone(request: web.Request, tenant_id: str | None, *, known: bool = True) -> tzinfo:
    """The zone a bare date is read in: the tenant's, UTC for the provider's chain (and,
    with `known=False`, for a tenant that no longer exists: its chain stays readable)."""
    tenant = await request.app[STORE].get_tenant(tenant_id) if tenant_id else None
    if tenant is not None:
        return ZoneInfo(tenant.timezone)
    if tenant_id and known:
        raise ProtocolError("not_found", "tenant_id: no such tenant")
    return UTC


@routes.get("/api/audit")
async def read_audit(request: web.Request) -> web.Response:
    """A tenant admin reads their tenant's chain; the provider (an operator, or the admin
    token) the provider's own chain, or with `tenant_id` that tenant's. Dates are the
    tenant's days (the provider's chain: UTC days). One page, newest first, with the
    `next_cursor` of the page before it."""
    tenant_id = request.query.get("tenant_id") or None
    if _from_provider(request):
        require_admin(request)
    else:
        admin = await require_tenant_admin(request)
        if tenant_id not in (None, admin.tenant_id):
            raise ProtocolError("forbidden", "tenant_id: a tenant admin reads their own tenant")
        tenant_id = admin.tenant_id
    zone = await _zone(request, tenant_id)
    limit = _limit(request)
    events = await request.app[STORE].audit.events(
        tenant_id,
        since=_when(request.query.get("from"), "from", zone),
        until=_when(request.query.get("to"), "to", zone, end=True),
        limit=limit + 1,
        actions=_actions(request),
        before_seq=_cursor(request),
    )
    body: dict[str, Any] = {"events": [e.to_wire() for e in events[:limit]]}
    if len(events) > limit:
        body["next_cursor"] = str(events[limit - 1].seq)
    return web.json_response(body)


@routes.get("/api/admin/audit")
async def provider_audit(request: web.Request) -> web.Response:
    require_admin(request)
    tenant_id = request.query.get("tenant_id")
    zone = await _zone(request, tenant_id or None, known=False)
    events = await request.app[STORE].audit.events(
        tenant_id,
        since=_when(request.query.get("from"), "from", zone),
        until=_when(request.query.get("to"), "to", zone, end=True),
        limit=_limit(request),
        every_chain=tenant_id is None and request.query.get("chain") != "provider",
        actions=_actions(request),
    )
    return web.json_response({"events": [e.to_wire() for e in events]})


@routes.get("/api/admin/audit/check")
async def check_audit(request: web.Request) -> web.Response:
    require_admin(request)
    checked, broken = await request.app[STORE].audit.check()
    return web.json_response(
        {
            "checked": checked,
            "intact": not broken,
            "broken": [{"chain": b.chain, "seq": b.seq, "problem": b.problem} for b in broken],
            "at": request.app[CLOCK].now().isoformat(),
        }
    )

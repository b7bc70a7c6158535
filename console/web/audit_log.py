"""The audit log over HTTP: the middleware that records every change a signed-in caller
makes, the helper handlers use for what is not a change (logins, exports), and the reads:
`GET /api/audit` (a tenant admin: their tenant's chain) and `GET /api/admin/audit` (the
provider: every chain, or one tenant's) with `GET /api/admin/audit/check`.

What a change carries: the route, the ids in its path, and the names of the fields sent
(a role's new value too), never their values: no message text, no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp import web

from console.domain.errors import ProtocolError
from console.web.http import client_ip, require_admin, require_tenant_admin
from console.web.keys import ACTOR, AUDITED, BODY, CLOCK, STORE

routes = web.RouteTableDef()
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# values worth keeping beside the field names: none of them can carry text or a secret
KEPT_VALUES = frozenset({"role", "plan", "status", "enabled", "events", "mfa_roles"})
MAX_EVENTS = 1000


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


def _day(raw: str | None, name: str, *, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw)
    except ValueError:
        raise ProtocolError(
            "invalid_payload", f"{name}: a date (YYYY-MM-DD) or a time in ISO 8601"
        ) from None
    if len(raw) == 10:  # a whole day: `to` includes it
        day = datetime.combine(day.date(), time(), UTC) + (
            timedelta(days=1) if end else timedelta()
        )
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "500")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_EVENTS:
        raise ProtocolError("invalid_payload", f"limit: a whole number from 1 to {MAX_EVENTS}")
    return int(raw)


@routes.get("/api/audit")
async def tenant_audit(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    since = _day(request.query.get("from"), "from")
    until = _day(request.query.get("to"), "to", end=True)
    events = await request.app[STORE].audit.events(
        admin.tenant_id, since=since, until=until, limit=_limit(request)
    )
    return web.json_response({"events": [e.to_wire() for e in events]})


@routes.get("/api/admin/audit")
async def provider_audit(request: web.Request) -> web.Response:
    require_admin(request)
    tenant_id = request.query.get("tenant_id")
    since = _day(request.query.get("from"), "from")
    until = _day(request.query.get("to"), "to", end=True)
    events = await request.app[STORE].audit.events(
        tenant_id,
        since=since,
        until=until,
        limit=_limit(request),
        every_chain=tenant_id is None and request.query.get("chain") != "provider",
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

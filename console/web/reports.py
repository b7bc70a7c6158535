"""`GET /api/reports/*`: service levels, chats, CSAT, invitation rules and staffing, for a
tenant's admins and supervisors on every plan (PROTOCOL 1.1, "Reports")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from console.contract.hours import Schedule
from console.contract.sla import parse_month
from console.domain.errors import ProtocolError
from console.domain.types import Tenant
from console.reports.sla import NoAgreementError, month_report, terms_of
from console.reports.tables import (
    CHAT_COLUMNS,
    Period,
    chat_rows,
    csat_groups,
    csv_text,
    funnel_rows,
    parse_period,
    staffing_rows,
)
from console.web.http import require_agent, tenant_of
from console.web.keys import CLOCK, STORE

routes = web.RouteTableDef()
GROUPS = ("agent", "language", "day")


async def reader(request: web.Request) -> Tenant:
    """The caller's tenant, if they are its admin or supervisor."""
    agent = await require_agent(request)
    if not agent.supervises:
        raise ProtocolError("forbidden", "reports are for the tenant's supervisors and admins")
    return await tenant_of(request, agent)


def wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ProtocolError("invalid_payload", f"format: {fmt[:20]!r} is not json or csv")
    return fmt == "csv"


def period_of(request: web.Request, tenant: Tenant) -> Period:
    return parse_period(tenant, request.query.get("from"), request.query.get("to"))


def table(
    request: web.Request,
    name: str,
    period: Period,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
) -> web.Response:
    if wants_csv(request):
        filename = f"{name}-{period.first}-{period.last}.csv"
        return web.Response(
            text=csv_text(columns, rows),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return web.json_response(
        {"from": period.first.isoformat(), "to": period.last.isoformat(), name: rows}
    )


@routes.get("/api/reports/sla")
async def sla(request: web.Request) -> web.Response:
    tenant = await reader(request)
    try:
        year, month = parse_month(request.query.get("month"))
    except ValueError as exc:
        raise ProtocolError("invalid_payload", str(exc)) from None
    now = request.app[CLOCK].now()
    local = now.astimezone(Schedule(tenant.timezone).zone)
    if (year, month) > (local.year, local.month):
        raise ProtocolError("invalid_payload", f"month: {year:04d}-{month:02d} has not begun")
    try:
        report = await month_report(request.app[STORE], tenant, year, month, now)
    except NoAgreementError as exc:
        raise ProtocolError("not_found", f"{exc}; the provider sets it") from None
    terms = await terms_of(request.app[STORE], tenant.id, report.version)
    return web.json_response({**report.to_wire(), "terms": terms})


@routes.get("/api/reports/chats")
async def chats(request: web.Request) -> web.Response:
    tenant = await reader(request)
    period = period_of(request, tenant)
    wants_csv(request)
    rows = await chat_rows(request.app[STORE], tenant, period, request.app[CLOCK].now())
    return table(request, "chats", period, CHAT_COLUMNS, rows)


@routes.get("/api/reports/csat")
async def csat(request: web.Request) -> web.Response:
    tenant = await reader(request)
    period = period_of(request, tenant)
    group_by = request.query.get("group_by", "agent")
    if group_by not in GROUPS:
        raise ProtocolError("invalid_payload", f"group_by: one of {', '.join(GROUPS)}")
    wants_csv(request)
    store = request.app[STORE]
    names = {a.id: a.name for a in await store.list_agents(tenant.id)}
    facts = await store.reports.chats(tenant.id, period.start, period.end)
    rows = csat_groups(facts, group_by, names, period.zone)
    if wants_csv(request):
        flat = [{**r, **{f"score_{n}": r["distribution"][n] for n in "12345"}} for r in rows]
        columns = ("key", "label", "chats", "rated", "response_rate_pct", "avg")
        return table(request, "csat", period, (*columns, *(f"score_{n}" for n in "12345")), flat)
    return web.json_response(
        {"from": str(period.first), "to": str(period.last), "group_by": group_by, "csat": rows}
    )


@routes.get("/api/reports/invitation-rules")
async def invitation_rules(request: web.Request) -> web.Response:
    tenant = await reader(request)
    period = period_of(request, tenant)
    wants_csv(request)
    rows = await funnel_rows(request.app[STORE], tenant, period)
    columns = ("rule_id", "name", "by", "shown", "accepted", "chats", "leads", "delivered")
    return table(request, "rules", period, columns, rows)


@routes.get("/api/reports/staffing")
async def staffing(request: web.Request) -> web.Response:
    tenant = await reader(request)
    period = period_of(request, tenant)
    wants_csv(request)
    store = request.app[STORE]
    events = await store.reports.presence(tenant.id, period.start, period.end)
    facts = await store.reports.chats(tenant.id, period.start, period.end)
    rows = staffing_rows(events, facts, period, request.app[CLOCK].now())
    columns = ("hour", "agents_online", "agent_minutes", "chats")
    return table(request, "staffing", period, columns, rows)

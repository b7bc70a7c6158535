"""The provider's side of the service agreement: its versions, one-off closed days, a
tenant's month as billing reads it, and the monthly freeze (Bearer $CHARLA_ADMIN_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.contract.agreement import AgreementError, parse_agreement
from console.contract.sla import parse_month
from console.domain.errors import ProtocolError
from console.reports.sla import NoAgreementError, freeze_due, month_report, terms_of
from console.reports.tables import parse_day
from console.store.agreements import AgreementVersionConflictError
from console.web.admin import path_tenant
from console.web.http import read_json, require_admin
from console.web.keys import CLOCK, STORE

routes = web.RouteTableDef()


class AgreementBody(BaseModel):
    """The fields the agreement may have; their values are checked by the contract's parser
    (percentages as two-place strings, the ladder, the cap...)."""

    model_config = ConfigDict(extra="forbid")

    effective_from: Any = None
    answer_s: Any = None
    target_pct: Any = None
    max_abandon_pct: Any = None
    csat_min: Any = None
    csat_min_sample: Any = None
    coverage: Any = None
    credits: Any = None
    csat_credit_pct: Any = None
    cap_pct: Any = None
    incentive: Any = None


class ClosureBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


@routes.put("/api/admin/tenants/{tenant_id}/agreement")
async def put_agreement(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    body = await read_json(request, AgreementBody)
    try:
        agreement = parse_agreement(body.model_dump())
    except AgreementError as exc:
        raise ProtocolError("invalid_payload", str(exc)) from None
    try:
        version = await request.app[STORE].agreements.add_agreement(tenant.id, agreement)
    except AgreementVersionConflictError:
        raise ProtocolError(
            "conflict", "another version was saved at the same time; retry"
        ) from None
    return web.json_response(version.to_wire())


@routes.get("/api/admin/tenants/{tenant_id}/agreement")
async def list_agreement(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    versions = await request.app[STORE].agreements.versions(tenant.id)
    return web.json_response({"versions": [v.to_wire() for v in versions]})


@routes.get("/api/admin/tenants/{tenant_id}/closures")
async def list_closures(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    closures = await request.app[STORE].agreements.closures(tenant.id)
    return web.json_response(
        {"closures": [{"date": day.isoformat(), "reason": reason} for day, reason in closures]}
    )


@routes.put("/api/admin/tenants/{tenant_id}/closures/{day}")
async def put_closure(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    day = parse_day(request.match_info["day"], "date")
    body = await read_json(request, ClosureBody)
    await request.app[STORE].agreements.set_closure(tenant.id, day, body.reason)
    return web.json_response({"date": day.isoformat(), "reason": body.reason})


@routes.delete("/api/admin/tenants/{tenant_id}/closures/{day}")
async def delete_closure(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    day = parse_day(request.match_info["day"], "date")
    if not await request.app[STORE].agreements.delete_closure(tenant.id, day):
        raise ProtocolError("not_found", f"{day} is not a closed day of this tenant")
    return web.json_response({"deleted": day.isoformat()})


@routes.get("/api/admin/tenants/{tenant_id}/sla")
async def tenant_sla(request: web.Request) -> web.Response:
    """A tenant's month as the provider (and billing) reads it: the same body as
    `GET /api/reports/sla`."""
    tenant = await path_tenant(request)
    try:
        year, month = parse_month(request.query.get("month"))
    except ValueError as exc:
        raise ProtocolError("invalid_payload", str(exc)) from None
    try:
        report = await month_report(
            request.app[STORE], tenant, year, month, request.app[CLOCK].now()
        )
    except NoAgreementError as exc:
        raise ProtocolError("not_found", str(exc)) from None
    terms = await terms_of(request.app[STORE], tenant.id, report.version)
    return web.json_response({**report.to_wire(), "terms": terms})


@routes.post("/api/admin/sla/freeze")
async def freeze(request: web.Request) -> web.Response:
    """Run the monthly freeze now (it also runs by itself): the months it closed."""
    require_admin(request)
    closed = await freeze_due(request.app[STORE], request.app[CLOCK].now())
    return web.json_response(
        {"closed": [{"tenant_id": tenant, "month": month} for tenant, month in closed]}
    )

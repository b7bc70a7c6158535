"""A tenant's data protection over HTTP (tenant admins): retention periods and the purge
records, legal holds, one visitor's export and erasure, the roles that must use a second
factor, and the widget's privacy notice. Every call is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from console.domain.contact import checked, normalize_email, normalize_phone
from console.domain.errors import ProtocolError
from console.web.attachments import sweep as sweep_files
from console.web.audit_log import record
from console.web.history import region
from console.web.http import admins_tenant, read_json, require_admin, require_tenant_admin
from console.web.keys import STORE

routes = web.RouteTableDef()
Days = Annotated[int, Field(ge=30, le=3650)]
Notice = Annotated[str, StringConstraints(min_length=1, max_length=600, strip_whitespace=True)]
LANGUAGE_TAG = r"^[a-z]{2,3}$"


class RetentionIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    transcripts_days: Days
    visitor_data_days: Days | None = None
    page_views_days: Days | None = None


class EraseIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    visitor_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(min_length=3, max_length=40)] | None = None

    @model_validator(mode="after")
    def _one(self) -> EraseIn:
        given = [k for k in ("visitor_id", "email", "phone") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of visitor_id, email or phone")
        return self


class HoldIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class SecurityIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    mfa_roles: list[Literal["agent", "supervisor", "admin"]]


class PrivacyNoticeIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    notice: dict[Annotated[str, StringConstraints(pattern=LANGUAGE_TAG)], Notice] = Field(
        max_length=10
    )


@routes.get("/api/retention")
async def get_retention(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    policy = await request.app[STORE].privacy.policy(admin.tenant_id)
    return web.json_response(policy.retention_wire())


@routes.put("/api/retention")
async def put_retention(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, RetentionIn)
    changes = body.model_dump(exclude_none=True)
    policy = await request.app[STORE].privacy.set_policy(admin.tenant_id, **changes)
    await record(request, "retention.changed", admin.tenant_id, detail=changes)
    return web.json_response(policy.retention_wire())


@routes.get("/api/purges")
async def tenant_purges(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    runs = await request.app[STORE].retention.last_runs(admin.tenant_id)
    return web.json_response({"purges": [r.to_wire() for r in runs]})


@routes.get("/api/admin/purges")
async def provider_purges(request: web.Request) -> web.Response:
    require_admin(request)
    runs = await request.app[STORE].retention.last_runs(request.query.get("tenant_id"))
    return web.json_response({"purges": [r.to_wire() for r in runs]})


@routes.get("/api/legal-holds")
async def list_holds(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    return web.json_response({"holds": await request.app[STORE].privacy.holds(admin.tenant_id)})


@routes.put("/api/legal-holds/{chat_id}")
async def put_hold(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, HoldIn)
    chat_id = request.match_info["chat_id"]
    placed = await request.app[STORE].privacy.hold(
        admin.tenant_id, chat_id, body.reason, f"agent:{admin.id}"
    )
    if not placed:
        raise ProtocolError("not_found", "no such chat in your tenant")
    await record(request, "legal_hold.placed", chat_id)
    return web.json_response({"chat_id": chat_id, "reason": body.reason})


@routes.delete("/api/legal-holds/{chat_id}")
async def delete_hold(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    chat_id = request.match_info["chat_id"]
    if not await request.app[STORE].privacy.release(admin.tenant_id, chat_id):
        raise ProtocolError("not_found", "this chat has no legal hold")
    await record(request, "legal_hold.released", chat_id)
    return web.json_response({"chat_id": chat_id, "released": True})


@routes.get("/api/visitors/{visitor_id}/export")
async def export_visitor(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    visitor_id = request.match_info["visitor_id"]
    document = await request.app[STORE].privacy.export(admin.tenant_id, visitor_id)
    if document is None:
        raise ProtocolError("not_found", "no such visitor in your tenant")
    await record(request, "visitor.exported", visitor_id)
    return web.json_response(
        document,
        headers={"Content-Disposition": f'attachment; filename="visitor-{visitor_id}.json"'},
    )


@routes.post("/api/visitors/erase")
async def erase_visitor(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request)
    body = await read_json(request, EraseIn)
    email = checked("email", normalize_email, body.email)
    country = region(tenant)  # a number without a country code, as History reads it
    phone = checked("phone", lambda raw: normalize_phone(raw, country), body.phone)
    store = request.app[STORE]
    visitor_ids = await store.privacy.find_visitors(
        tenant.id, visitor_id=body.visitor_id, email=email, phone=phone, region=country
    )
    if body.visitor_id is not None and not visitor_ids:
        raise ProtocolError("not_found", "no such visitor in your tenant")
    erasure = await store.privacy.erase(tenant, visitor_ids)
    await sweep_files(request.app)  # their attachments' files go now, not at the next sweep
    by = "visitor_id" if body.visitor_id else "email" if email else "phone"
    await record(
        request,
        "visitor.erased",
        ",".join(visitor_ids)[:200] or None,
        detail={"by": by, **erasure.counts, "crm_ids": len(erasure.crm_ids)},
    )
    answer: dict[str, Any] = erasure.to_wire() | {"visitor_ids": erasure.visitor_ids}
    return web.json_response(answer)


@routes.get("/api/security")
async def get_security(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    policy = await request.app[STORE].privacy.policy(admin.tenant_id)
    return web.json_response(
        {"mfa_roles": list(policy.mfa_roles), "privacy_notice": policy.privacy_notice}
    )


@routes.put("/api/security/mfa-roles")
async def put_mfa_roles(request: web.Request) -> web.Response:
    """Roles of this tenant that must use a second factor, beyond the provider's."""
    admin = await require_tenant_admin(request)
    body = await read_json(request, SecurityIn)
    roles = tuple(dict.fromkeys(body.mfa_roles))
    policy = await request.app[STORE].privacy.set_policy(admin.tenant_id, mfa_roles=roles)
    await record(request, "mfa.roles_changed", admin.tenant_id, detail={"mfa_roles": list(roles)})
    return web.json_response({"mfa_roles": list(policy.mfa_roles)})


@routes.put("/api/privacy-notice")
async def put_privacy_notice(request: web.Request) -> web.Response:
    """The short notice the widget shows before the first message, per language (an
    empty object: the default wording)."""
    admin = await require_tenant_admin(request)
    body = await read_json(request, PrivacyNoticeIn)
    policy = await request.app[STORE].privacy.set_policy(
        admin.tenant_id, privacy_notice=dict(body.notice)
    )
    await record(request, "privacy_notice.changed", admin.tenant_id)
    return web.json_response({"notice": policy.privacy_notice})

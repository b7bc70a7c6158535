"""The provider's admin API: tenants and their agents (Bearer $CHARLA_ADMIN_TOKEN)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from console.contract.hours import validate_holiday_calendar, validate_hours, validate_timezone
from console.domain.contact import normalize_email
from console.domain.errors import ProtocolError
from console.domain.types import Agent, Plan, Role, Tenant
from console.engagement.payloads import WidgetSettings, merge_settings
from console.store.repository import StoreConflictError
from console.web.http import read_json, require_admin
from console.web.keys import ORIGINS, ORIGINS_LOCK, PASSWORDS, STORE

LANGUAGE = re.compile(r"^[a-z]{2,3}$")
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
routes = web.RouteTableDef()


def check_languages(value: list[str]) -> list[str]:
    cleaned = [v.strip().lower() for v in value]
    for tag in cleaned:
        if not LANGUAGE.match(tag):
            raise ValueError(f"{tag!r} is not a BCP 47 primary language tag such as 'es' or 'en'")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("a language is listed twice")
    return cleaned


def check_origin(origin: str) -> str:
    if origin.strip() == "*":
        raise ValueError("'*' is not allowed: list each origin, e.g. https://dealer.example")
    parts = urlsplit(origin.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{origin!r} is not an origin: write scheme://host[:port], no path")
    return f"{parts.scheme}://{parts.netloc}".lower()


class ScheduleFields(BaseModel):
    """A tenant's time zone, weekly hours and holiday calendar, as both admin APIs take them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    timezone: str | None = None
    hours: dict[str, Any] | None = None
    holidays: str | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return validate_timezone(value) if value is not None else None

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        checked = validate_hours(value)
        if checked is None:
            return None
        return {day: [list(r) for r in ranges] for day, ranges in checked.items()}

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        return validate_holiday_calendar(value)


class TenantFields(ScheduleFields):
    name: Name | None = None
    plan: Plan | None = None
    languages: Annotated[list[str], Field(min_length=1, max_length=10)] | None = None
    allowed_origins: Annotated[list[str], Field(max_length=50)] | None = None
    bot_enabled: bool | None = None
    overflow_after_s: Annotated[int, Field(ge=0, le=3600)] | None = None
    # Tenant options that are not routing; a PATCH merges them key by key
    settings: WidgetSettings | None = None

    _languages = field_validator("languages")(
        lambda v: check_languages(v) if v is not None else None
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return sorted({check_origin(o) for o in value}) if value is not None else None


class TenantCreate(TenantFields):
    name: Name
    plan: Plan
    languages: Annotated[list[str], Field(min_length=1, max_length=10)]
    timezone: str = "America/Puerto_Rico"
    allowed_origins: Annotated[list[str], Field(max_length=50)]


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    name: Name
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    languages: Annotated[list[str], Field(min_length=1, max_length=10)]
    max_chats: Annotated[int, Field(ge=1, le=50)] = 3
    role: Role = "agent"

    _languages = field_validator("languages")(check_languages)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value).lower()


async def refresh_origins(app: web.Application) -> None:
    """The union of every tenant's origins, for the Engine.IO handshake's first check."""
    async with app[ORIGINS_LOCK]:
        origins: set[str] = set()
        for tenant in await app[STORE].list_tenants():
            origins.update(tenant.allowed_origins)
        app[ORIGINS].clear()
        app[ORIGINS].update(origins)


async def add_agent(
    request: web.Request, tenant: Tenant, body: AgentCreate, *, taken: str | None = None
) -> Agent:
    """A new agent of `tenant` (both admin APIs): the password hashed; an e-mail already in
    use is a `conflict`, said as `taken` when given."""
    password_hash = await request.app[PASSWORDS].hash(body.password)
    try:
        return await request.app[STORE].create_agent(
            tenant_id=tenant.id,
            password_hash=password_hash,
            **body.model_dump(exclude={"password"}),
        )
    except StoreConflictError as exc:
        raise ProtocolError("conflict", taken or str(exc)) from None


async def path_tenant(request: web.Request) -> Tenant:
    """The tenant that the path names (after the admin token is checked)."""
    require_admin(request)
    tenant = await request.app[STORE].get_tenant(request.match_info["tenant_id"])
    if tenant is None:
        raise ProtocolError("not_found", "no such tenant")
    return tenant


@routes.post("/api/admin/tenants")
async def create_tenant(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, TenantCreate)
    fields = body.model_dump(exclude_none=True)
    settings = fields.pop("settings", None)
    tenant = await request.app[STORE].create_tenant(**fields)
    if settings:
        tenant = await request.app[STORE].update_tenant(tenant.id, {"settings": settings}) or tenant
    await refresh_origins(request.app)
    return web.json_response(tenant.to_wire(), status=201)


@routes.get("/api/admin/tenants")
async def list_tenants(request: web.Request) -> web.Response:
    require_admin(request)
    tenants = await request.app[STORE].list_tenants()
    return web.json_response({"tenants": [t.to_wire() for t in tenants]})


@routes.get("/api/admin/tenants/{tenant_id}")
async def get_tenant(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    return web.json_response(tenant.to_wire())


@routes.patch("/api/admin/tenants/{tenant_id}")
async def patch_tenant(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, TenantFields)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "plan", "languages", "timezone", "allowed_origins", "bot_enabled"):
        if required in changes and changes[required] is None:
            raise ProtocolError("invalid_payload", f"{required}: cannot be null")
    store = request.app[STORE]
    if "settings" in changes:
        current = await store.get_tenant(request.match_info["tenant_id"])
        changes["settings"] = merge_settings(
            current.settings if current else {}, changes["settings"] or {}
        )
    tenant = await store.update_tenant(request.match_info["tenant_id"], changes)
    if tenant is None:
        raise ProtocolError("not_found", "no such tenant")
    await refresh_origins(request.app)
    return web.json_response(tenant.to_wire())


@routes.post("/api/admin/tenants/{tenant_id}/agents")
async def create_agent(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    body = await read_json(request, AgentCreate)
    if not set(body.languages) & set(tenant.languages):
        raise ProtocolError(
            "invalid_payload",
            f"languages: the agent must speak one of the tenant's: {', '.join(tenant.languages)}",
        )
    agent = await add_agent(request, tenant, body)
    return web.json_response(agent.to_wire(), status=201)


@routes.get("/api/admin/tenants/{tenant_id}/agents")
async def list_agents(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    agents = await request.app[STORE].list_agents(tenant.id)
    return web.json_response({"agents": [a.to_wire() for a in agents]})

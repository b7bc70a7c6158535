"""The tenant admin API (role `admin`, always the caller's own tenant): canned responses,
the team, hours, holidays and settings, and the export/import of the tenant's own data.

Reading what an agent needs at work (canned responses, the team and its statuses, the
tenant's languages) is open to every agent of the tenant; changing it is for admins.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bots.script import load_script
from console.contract.plans import REQUIRED, plan_allows
from console.domain.contact import normalize_email, normalize_phone
from console.domain.errors import ProtocolError, from_validation
from console.domain.types import Agent, Plan, Tenant
from console.engagement.payloads import WidgetSettings, merge_settings
from console.realtime.schemas import MAX_TEXT
from console.store.repository import StoreConflictError
from console.store.tenant_config import ConfigConflictError
from console.web.admin import AgentCreate, ScheduleFields, check_languages
from console.web.http import admins_tenant, read_json, require_agent, require_tenant_admin
from console.web.integrations import check_destination
from console.web.invitations import MAX_RULES, RuleIn, checked_text
from console.web.keys import HUB, PASSWORDS, STORE
from integrations.adf.config import AdfSettings
from integrations.salesforce.config import SalesforceSettings
from integrations.webhooks.config import ImportedWebhook

MAX_IMPORT_BYTES = 1024 * 1024
MAX_SETTINGS_BYTES = 16 * 1024
MAX_BOT_SCRIPT_BYTES = 256 * 1024
SHORTCUT = re.compile(r"^/[\w\-.]{1,63}$")

LanguageTexts = Annotated[dict[str, str], Field(min_length=1, max_length=10)]


def check_texts(value: dict[str, str]) -> dict[str, str]:
    """Texts per language, e.g. {"es": "...", "en": "..."}: each a known tag, none empty."""
    check_languages(list(value))
    cleaned = {k.strip().lower(): v.strip() for k, v in value.items()}
    for lang, text in cleaned.items():
        if not text:
            raise ValueError(f"text.{lang} is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text.{lang}: at most {MAX_TEXT} characters")
    return cleaned


def check_json_size(value: dict[str, Any] | None, limit: int, what: str) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > limit:
        raise ValueError(f"{what} is larger than {limit // 1024} KiB once written as JSON")
    return value


class CannedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    shortcut: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    text: LanguageTexts

    @field_validator("shortcut")
    @classmethod
    def _shortcut(cls, value: str) -> str:
        if not SHORTCUT.match(value):
            raise ValueError(
                "a shortcut starts with / and has letters, digits, - or . (e.g. /hours)"
            )
        return value.lower()

    _text = field_validator("text")(check_texts)


class AgentPatch(BaseModel):
    """Any of an agent's working settings; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    languages: Annotated[list[str], Field(min_length=1, max_length=10)]
    max_chats: Annotated[int, Field(ge=1, le=50)]
    role: Literal["agent", "supervisor", "admin"]

    _languages = field_validator("languages")(check_languages)


class TenantPatch(ScheduleFields):
    """What a tenant admin may change about their own tenant (plan and languages are the
    provider's, through the provider admin API)."""

    settings: dict[str, Any] | None = None
    bot_script: dict[str, Any] | None = None

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_json_size(value, MAX_SETTINGS_BYTES, "settings")
        if value is not None:
            # The same keys as the provider's API: a typo is refused, never kept unused.
            WidgetSettings.model_validate({k: v for k, v in value.items() if v is not None})
        return value

    @field_validator("bot_script")
    @classmethod
    def _bot_script(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_json_size(value, MAX_BOT_SCRIPT_BYTES, "bot_script")
        if value is not None:
            # The bot reads it as its script: check it here, where the admin can fix it.
            load_script(value)
        return value


# Each connector's own settings schema, as its API validates them (integrations/*/config.py)
CONNECTOR_SCHEMAS: dict[str, type[BaseModel]] = {
    "salesforce": SalesforceSettings,
    "adf": AdfSettings,
}


class IntegrationIn(BaseModel):
    """An exported integration: its config is checked against the connector's schema once
    the plan allows the section (`connector_configs`)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    kind: Literal["salesforce", "adf"]
    config: dict[str, Any]
    secret: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Any]) -> dict[str, Any]:
        checked = check_json_size(value, 4096, "config")
        return checked or {}


class ImportIn(TenantPatch):
    """An export document (GET /api/export), maybe edited; sections left out stay as they are."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal["charla-tenant-config"] | None = None
    version: Literal[1] = 1
    exported_at: str | None = None
    canned_responses: Annotated[list[CannedIn], Field(max_length=1000)] = []
    invitation_rules: Annotated[list[RuleIn], Field(max_length=MAX_RULES)] = []
    integrations: Annotated[list[IntegrationIn], Field(max_length=10)] = []
    webhooks: Annotated[list[ImportedWebhook], Field(max_length=50)] = []


def import_plan_needs(body: ImportIn) -> list[tuple[str, Plan]]:
    """The sections of an import that need a plan, with the plan each needs."""
    needs: list[tuple[str, Plan]] = []
    if body.invitation_rules:
        needs.append(("invitation_rules", REQUIRED["invitation_rules"]))
    if body.webhooks:
        needs.append(("webhooks", REQUIRED["webhook"]))
    for item in body.integrations:
        needs.append((f"integrations.{item.kind}", REQUIRED[item.kind]))
    return needs


def connector_configs(body: ImportIn) -> list[dict[str, Any]]:
    """The imported integrations, each config validated by its connector's schema (the
    secret travels beside the config, as `secret`)."""
    checked = []
    for index, item in enumerate(body.integrations):
        try:
            config = CONNECTOR_SCHEMAS[item.kind].model_validate(item.config)
        except ValidationError as exc:
            error = from_validation(exc)
            raise ProtocolError(
                error.code, f"integrations.{index}.config.{error.message}"
            ) from None
        checked.append(
            {
                "kind": item.kind,
                "config": config.model_dump(exclude={"client_secret"}, exclude_none=True),
                "secret": item.secret,
            }
        )
    return checked


# -- helpers ------------------------------------------------------------------------------


async def own_tenant(request: web.Request, agent: Agent) -> Tenant:
    tenant = await request.app[STORE].get_tenant(agent.tenant_id)
    if tenant is None:
        raise ProtocolError("not_found", "your tenant no longer exists")
    return tenant


async def read_object(request: web.Request, limit: int = 64 * 1024) -> dict[str, Any]:
    """A JSON object body up to `limit` bytes (the app-wide limit is sized for chat, not for
    an import file), for bodies validated after merging or with a larger limit."""
    raw = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        raw.extend(chunk)
        if len(raw) > limit:
            raise ProtocolError("too_large", f"the document is larger than {limit // 1024} KiB")
    try:
        data = json.loads(bytes(raw) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("invalid_payload", "the body must be JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_payload", "the body must be a JSON object")
    return data


def team_member(agent: Agent, presence: dict[str, Any], *, with_email: bool) -> dict[str, Any]:
    wire = {
        "id": agent.id,
        "name": agent.name,
        "role": agent.role,
        "languages": list(agent.languages),
        "max_chats": agent.max_chats,
        "active": agent.active,
        "status": presence.get("status", "offline"),
        "load": presence.get("load", 0),
    }
    if with_email:
        wire["email"] = agent.email
    return wire


def tenant_wire(
    tenant: Tenant, settings: dict[str, Any], bot_script: Any, *, admin: bool
) -> dict[str, Any]:
    wire = tenant.to_wire()
    wire["settings"] = settings
    if admin:
        wire["bot_script"] = bot_script
    else:
        for key in ("site_key", "allowed_origins"):
            wire.pop(key, None)
    return wire


# -- canned responses ---------------------------------------------------------------------


async def list_canned(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    canned = await request.app[STORE].config.list_canned(agent.tenant_id)
    return web.json_response({"canned_responses": [c.to_wire() for c in canned]})


async def create_canned(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, CannedIn)
    try:
        canned = await request.app[STORE].config.create_canned(
            admin.tenant_id, shortcut=body.shortcut, text=body.text
        )
    except ConfigConflictError as exc:
        raise ProtocolError("conflict", f"{exc}; delete it first or pick another") from None
    return web.json_response(canned.to_wire(), status=201)


async def delete_canned(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    canned_id = request.match_info["canned_id"]
    if not await request.app[STORE].config.delete_canned(admin.tenant_id, canned_id):
        raise ProtocolError("not_found", f"no canned response {canned_id} in your tenant")
    return web.Response(status=204)


# -- the team -----------------------------------------------------------------------------


async def list_team(request: web.Request) -> web.Response:
    me = await require_agent(request)
    store = request.app[STORE]
    agents = [a for a in await store.list_agents(me.tenant_id) if a.active or me.role == "admin"]
    presence = await request.app[HUB].state.presence(me.tenant_id, [a.id for a in agents])
    by_id = {p.agent_id: {"status": p.status, "load": p.load} for p in presence}
    return web.json_response(
        {
            "agents": [
                team_member(a, by_id.get(a.id, {}), with_email=me.role == "admin") for a in agents
            ]
        }
    )


async def create_team_member(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request)
    body = await read_json(request, AgentCreate)
    if not set(body.languages) <= set(tenant.languages):
        raise ProtocolError(
            "invalid_payload",
            f"languages: your tenant serves {', '.join(tenant.languages)}",
        )
    password_hash = await request.app[PASSWORDS].hash(body.password)
    try:
        agent = await request.app[STORE].create_agent(
            tenant_id=tenant.id,
            email=body.email,
            name=body.name,
            password_hash=password_hash,
            languages=body.languages,
            max_chats=body.max_chats,
            role=body.role,
        )
    except StoreConflictError:
        # The e-mail is the login across the whole provider: say so without naming the tenant.
        raise ProtocolError(
            "conflict", f"the e-mail {body.email} is taken already; every agent needs their own"
        ) from None
    return web.json_response(team_member(agent, {}, with_email=True), status=201)


async def _team_agent(request: web.Request, admin: Agent) -> Agent:
    agent_id = request.match_info["agent_id"]
    agent = await request.app[STORE].get_agent(agent_id)
    if agent is None or agent.tenant_id != admin.tenant_id:
        raise ProtocolError("not_found", f"no agent {agent_id} in your tenant")
    return agent


async def update_team_member(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    agent = await _team_agent(request, admin)
    tenant = await own_tenant(request, admin)
    current = {
        "name": agent.name,
        "languages": list(agent.languages),
        "max_chats": agent.max_chats,
        "role": agent.role,
    }
    if not agent.active:
        raise ProtocolError("conflict", "this agent is deactivated; create a new one instead")
    # Validated whole (the stored values fill what the body leaves out), so that each
    # field's rule is written once.
    body = _validated(AgentPatch, {**current, **await read_object(request)})
    if not set(body.languages) <= set(tenant.languages):
        raise ProtocolError(
            "invalid_payload", f"languages: your tenant serves {', '.join(tenant.languages)}"
        )
    if agent.id == admin.id and body.role != "admin":
        raise ProtocolError("conflict", "you cannot take the admin role from yourself")
    changes = {k: v for k, v in body.model_dump().items() if v != current[k]}
    updated = await request.app[STORE].config.update_agent(admin.tenant_id, agent.id, changes)
    if updated is None:
        raise ProtocolError("not_found", f"no agent {agent.id} in your tenant")
    await request.app[HUB].agents.changed(updated)
    return web.json_response(team_member(updated, {}, with_email=True))


async def deactivate_team_member(request: web.Request) -> web.Response:
    """The agent can no longer log in; their open chats go back to the queue at once."""
    admin = await require_tenant_admin(request)
    agent = await _team_agent(request, admin)
    if agent.id == admin.id:
        raise ProtocolError("conflict", "you cannot deactivate yourself; ask another admin")
    updated = await request.app[STORE].config.deactivate_agent(admin.tenant_id, agent.id)
    if updated is None:
        raise ProtocolError("not_found", f"no agent {agent.id} in your tenant")
    await request.app[HUB].agents.deactivated(agent)
    return web.json_response(team_member(updated, {}, with_email=True))


# -- the tenant ---------------------------------------------------------------------------


async def get_tenant(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    tenant = await own_tenant(request, agent)
    settings, bot_script = await request.app[STORE].config.tenant_settings(tenant.id)
    return web.json_response(tenant_wire(tenant, settings, bot_script, admin=agent.role == "admin"))


async def patch_tenant(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, TenantPatch)
    changes = body.model_dump(include=body.model_fields_set)
    if "timezone" in changes and changes["timezone"] is None:
        raise ProtocolError("invalid_payload", "timezone: cannot be null")
    store = request.app[STORE]
    if "settings" in changes:
        # Key by key, as the provider's PATCH: a null goes back to the default.
        current = await own_tenant(request, admin)
        changes["settings"] = merge_settings(current.settings, changes["settings"] or {})
    tenant = await store.update_tenant(admin.tenant_id, changes)
    if tenant is None:
        raise ProtocolError("not_found", "your tenant no longer exists")
    settings, bot_script = await store.config.tenant_settings(tenant.id)
    return web.json_response(tenant_wire(tenant, settings, bot_script, admin=True))


# -- export and import --------------------------------------------------------------------


async def export_config(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    document = await request.app[STORE].config.export(admin.tenant_id)
    return web.json_response(
        document,
        headers={"Content-Disposition": 'attachment; filename="charla-config.json"'},
    )


async def import_config(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request)
    body = _validated(ImportIn, await read_object(request, MAX_IMPORT_BYTES))
    for section, plan in import_plan_needs(body):
        if not plan_allows(tenant.plan, plan):
            raise ProtocolError(
                "plan_required",
                f"{section} needs the {plan} plan or above; remove that section to import the rest",
            )
    shortcuts = [c.shortcut for c in body.canned_responses]
    if len(set(shortcuts)) != len(shortcuts):
        raise ProtocolError("invalid_payload", "canned_responses: a shortcut is listed twice")
    document: dict[str, Any] = {
        key: getattr(body, key)
        for key in ("timezone", "hours", "holidays", "settings", "bot_script")
        if key in body.model_fields_set
    }
    if "timezone" in document and document["timezone"] is None:
        raise ProtocolError("invalid_payload", "timezone: cannot be null")
    document["canned_responses"] = [c.model_dump() for c in body.canned_responses]
    document["invitation_rules"] = [
        {
            **r.model_dump(),
            "text": _rule_text(tenant, i, r.text),
            "conditions": r.conditions.model_dump(exclude_none=True),
        }
        for i, r in enumerate(body.invitation_rules)
    ]
    if "settings" in document and document["settings"] is not None:
        document["settings"] = {k: v for k, v in document["settings"].items() if v is not None}
    for index, hook in enumerate(body.webhooks):
        check_destination(request, hook.url, f"webhooks.{index}.url")
    document["integrations"] = connector_configs(body)
    for index, item in enumerate(document["integrations"]):
        if item["kind"] == "salesforce":
            check_destination(
                request, item["config"]["login_url"], f"integrations.{index}.config.login_url"
            )
    document["webhooks"] = [w.model_dump() for w in body.webhooks]
    outcome = await request.app[STORE].config.import_(tenant.id, document)
    return web.json_response(outcome.to_wire())


def _rule_text(tenant: Tenant, index: int, text: dict[str, str]) -> dict[str, str]:
    """A rule's texts as the invitation rules API checks them, the error naming the rule."""
    try:
        return checked_text(tenant, text)
    except ProtocolError as exc:
        raise ProtocolError(exc.code, f"invitation_rules.{index}.{exc.message}") from None


def _validated(model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


# -- tickets ------------------------------------------------------------------------------


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


async def create_ticket(request: web.Request) -> web.Response:
    """An agent writes a ticket: a follow-up that the chat could not settle."""
    agent = await require_agent(request)
    body = await read_json(request, TicketIn)
    store = request.app[STORE]
    tenant = await own_tenant(request, agent)
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
    try:
        email = normalize_email(email) if email else None
    except ValueError as exc:
        raise ProtocolError("invalid_payload", f"email: {exc}") from None
    try:
        phone = normalize_phone(phone) if phone else None
    except ValueError as exc:
        raise ProtocolError("invalid_payload", f"phone: {exc}") from None
    ticket = await store.add_ticket(
        reason="agent",
        tenant_id=agent.tenant_id,
        chat_id=body.chat_id,
        visitor_id=visitor_id,
        language=language,
        text=body.text,
        name=name,
        email=email,
        phone=phone,
    )
    return web.json_response(ticket.to_wire(), status=201)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/canned-responses", list_canned),
        web.post("/api/canned-responses", create_canned),
        web.delete("/api/canned-responses/{canned_id}", delete_canned),
        web.get("/api/agents", list_team),
        web.post("/api/agents", create_team_member),
        web.patch("/api/agents/{agent_id}", update_team_member),
        web.delete("/api/agents/{agent_id}", deactivate_team_member),
        web.get("/api/tenant", get_tenant),
        web.patch("/api/tenant", patch_tenant),
        web.get("/api/export", export_config),
        web.post("/api/import", import_config),
        web.post("/api/tickets", create_ticket),
    ]

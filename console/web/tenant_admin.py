"""The tenant admin API (role `admin`, always the caller's own tenant): the team, hours,
holidays and settings, and the export/import of the tenant's own data (canned responses:
canned.py; the tickets agents write: tickets.py).

Reading what an agent needs at work (the team and its statuses, the tenant's languages) is
open to every agent of the tenant; changing it is for admins.
"""

from __future__ import annotations

import json
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
from console.domain.errors import ProtocolError, from_validation
from console.domain.types import Agent, Plan, Role, Tenant
from console.engagement.payloads import WidgetSettings, merge_settings
from console.web.admin import AgentCreate, ScheduleFields, add_agent, check_languages
from console.web.canned import CannedIn
from console.web.http import (
    admins_tenant,
    read_json,
    require_agent,
    require_tenant_admin,
    tenant_of,
)
from console.web.integrations import check_destination
from console.web.invitations import MAX_RULES, RuleIn, checked_text
from console.web.keys import BODY, HUB, STORE
from integrations.adf.config import AdfSettings
from integrations.notify.config import NotifySettings
from integrations.salesforce.config import SalesforceSettings
from integrations.webhooks.config import ImportedWebhook

MAX_IMPORT_BYTES = 1024 * 1024
MAX_SETTINGS_BYTES = 16 * 1024
MAX_BOT_SCRIPT_BYTES = 256 * 1024
routes = web.RouteTableDef()


def check_json_size(value: dict[str, Any] | None, limit: int, what: str) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > limit:
        raise ValueError(f"{what} is larger than {limit // 1024} KiB once written as JSON")
    return value


class AgentPatch(BaseModel):
    """Any of an agent's working settings; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    languages: Annotated[list[str], Field(min_length=1, max_length=10)]
    max_chats: Annotated[int, Field(ge=1, le=50)]
    role: Role

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
    "notify": NotifySettings,
}


class IntegrationIn(BaseModel):
    """An exported integration: its config is checked against the connector's schema once
    the plan allows the section (`connector_configs`)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    kind: Literal["salesforce", "adf", "notify"]
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
        if item.kind != "notify":  # ticket notices: every plan
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
    request[BODY] = data  # streamed, not kept by aiohttp: the audit log names its fields
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


# -- the team -----------------------------------------------------------------------------


def _check_serves(tenant: Tenant, languages: list[str]) -> None:
    """A team member speaks only languages that their tenant serves."""
    if not set(languages) <= set(tenant.languages):
        raise ProtocolError(
            "invalid_payload", f"languages: your tenant serves {', '.join(tenant.languages)}"
        )


async def _team_agent(request: web.Request) -> tuple[Agent, Agent]:
    """The calling tenant admin, and the agent of their tenant that the path names."""
    admin = await require_tenant_admin(request)
    agent_id = request.match_info["agent_id"]
    agent = await request.app[STORE].get_agent(agent_id)
    mine = agent if agent is not None and agent.tenant_id == admin.tenant_id else None
    return admin, _found(mine, agent_id)


def _found(agent: Agent | None, agent_id: str) -> Agent:
    """`agent`, unless the store found no agent `agent_id` in the caller's tenant."""
    if agent is None:
        raise ProtocolError("not_found", f"no agent {agent_id} in your tenant")
    return agent


def _member(agent: Agent, *, status: int = 200) -> web.Response:
    """A team member as an admin sees them."""
    return web.json_response(team_member(agent, {}, with_email=True), status=status)


@routes.get("/api/agents")
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


@routes.post("/api/agents")
async def create_team_member(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request)
    body = await read_json(request, AgentCreate)
    _check_serves(tenant, body.languages)
    agent = await add_agent(
        request,
        tenant,
        body,
        # The e-mail is the login across the whole provider: say so without naming the tenant.
        taken=f"the e-mail {body.email} is taken already; every agent needs their own",
    )
    return _member(agent, status=201)


@routes.patch("/api/agents/{agent_id}")
async def update_team_member(request: web.Request) -> web.Response:
    admin, agent = await _team_agent(request)
    tenant = await tenant_of(request, admin)
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
    _check_serves(tenant, body.languages)
    if agent.id == admin.id and body.role != "admin":
        raise ProtocolError("conflict", "you cannot take the admin role from yourself")
    changes = {k: v for k, v in body.model_dump().items() if v != current[k]}
    store = request.app[STORE]
    updated = _found(await store.config.update_agent(admin.tenant_id, agent.id, changes), agent.id)
    await request.app[HUB].agents.changed(updated)
    return _member(updated)


@routes.delete("/api/agents/{agent_id}")
async def deactivate_team_member(request: web.Request) -> web.Response:
    """The agent can no longer log in; their open chats go back to the queue at once."""
    admin, agent = await _team_agent(request)
    if agent.id == admin.id:
        raise ProtocolError("conflict", "you cannot deactivate yourself; ask another admin")
    updated = _found(
        await request.app[STORE].config.deactivate_agent(admin.tenant_id, agent.id), agent.id
    )
    await request.app[HUB].agents.deactivated(agent)
    return _member(updated)


# -- the tenant ---------------------------------------------------------------------------


@routes.get("/api/tenant")
async def get_tenant(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    tenant = await tenant_of(request, agent)
    settings, bot_script = await request.app[STORE].config.tenant_settings(tenant.id)
    return web.json_response(tenant_wire(tenant, settings, bot_script, admin=agent.role == "admin"))


@routes.patch("/api/tenant")
async def patch_tenant(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, TenantPatch)
    changes = body.model_dump(include=body.model_fields_set)
    if "timezone" in changes and changes["timezone"] is None:
        raise ProtocolError("invalid_payload", "timezone: cannot be null")
    store = request.app[STORE]
    if "settings" in changes:
        # Key by key, as the provider's PATCH: a null goes back to the default.
        current = await tenant_of(request, admin)
        changes["settings"] = merge_settings(current.settings, changes["settings"] or {})
    tenant = await store.update_tenant(admin.tenant_id, changes)
    if tenant is None:
        raise ProtocolError("not_found", "your tenant no longer exists")
    settings, bot_script = await store.config.tenant_settings(tenant.id)
    return web.json_response(tenant_wire(tenant, settings, bot_script, admin=True))


@routes.get("/api/bot-script")
async def get_bot_script(request: web.Request) -> web.Response:
    """The script the tenant's bot speaks by, whole, as PATCH /api/tenant takes it back: the
    tenant's own, or Charla's default when it has none (or its own no longer validates)."""
    _admin, tenant = await admins_tenant(request)
    script = await request.app[HUB].bots.script(tenant)
    return web.json_response(script.to_data())


# -- export and import --------------------------------------------------------------------


@routes.get("/api/export")
async def export_config(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    document = await request.app[STORE].config.export(admin.tenant_id)
    return web.json_response(
        document,
        headers={"Content-Disposition": 'attachment; filename="charla-config.json"'},
    )


@routes.post("/api/import")
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
